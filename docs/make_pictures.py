"""Regenerate the pictures in docs/images/ that the README and the tutorial show.

Every picture comes from the demos' own code (examples/), so what the docs show
is what the demos make:

    python docs/make_pictures.py          # writes docs/images/*.png
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "examples"))
sys.path.insert(0, str(HERE.parent))

import bias  # noqa: E402  (the demos, imported as modules)
import common  # noqa: E402
import digits  # noqa: E402
import names  # noqa: E402
import trace_graph  # noqa: E402

import viz  # noqa: E402
from engine import Value  # noqa: E402
from nn import MLP, make_moons, train  # noqa: E402


def shared_node_graph(folder: Path) -> list[Path]:
    """y = x*x + x: x is used three times, and its three edge contributions add up to x.grad."""
    x = Value(3.0, label="x")
    square = x * x
    square.label = "x*x"
    y = square + x
    y.label = "y"
    y.backward()
    return common.draw_graph(y, folder / "shared_node", edge_grads=True,
                             title="y = x*x + x: three paths from x, three contributions, x.grad = 2x + 1 = 7")


def moons_pictures(folder: Path) -> list[Path]:
    """micrograd's recipe, as examples/moons.py runs it, and its pictures."""
    X, y = make_moons(n=100, noise=0.1, seed=1337)
    model = MLP(2, [16, 16, 1], seed=1337)
    history = train(model, X, y, loss="hinge", l2=1e-4, learning_rate=lambda k: 1.0 - 0.9 * k / 100, steps=100)
    written = [
        viz.save(viz.neuron_maps(model, X, y), folder / "neuron_maps.png"),
        viz.save(viz.decision_boundary(model, X, y), folder / "decision_boundary.png"),
        viz.save(viz.draw_mlp(model, x=X[0], health=viz.unit_health(model, X)), folder / "network.png"),
        viz.save(viz.training_curves(history), folder / "training_curves.png"),
    ]
    written += common.draw_graph(common.sample_graph(model, X, y, "hinge"), folder / "moons_sample_graph",
                                 collapse_neurons=True, shade="grad",
                                 title="one moons point's loss after backward, each neuron one box")
    return written


# The pictures of examples/digits.py that the docs show, each renamed digits_NAME.png; its others stay out.
DIGITS_PICTURES = ["weight_images.png", "top_examples.png", "imagined_digits.png", "explanations.png",
                   "layers_story.png", "misclassified.png"]


def digits_pictures(folder: Path) -> list[Path]:
    """examples/digits.py run as it is by default (seed, steps, pictures), keeping the pictures the docs show."""
    run = folder / "digits_run"
    if digits.main(["--out", str(run), "--force", "--quiet"]) != 0:
        raise SystemExit("examples/digits.py failed")
    written = []
    for name in DIGITS_PICTURES:
        written.append((run / name).replace(folder / f"digits_{name}"))
    shutil.rmtree(run)
    return written


# The pictures of examples/names.py that the docs show, each renamed names_NAME.png; its others stay out.
NAMES_PICTURES = ["attention_maps.png", "letter_space.png", "neuron_contexts.png", "next_letter.png",
                  "attention_head.png"]


def names_pictures(folder: Path) -> list[Path]:
    """examples/names.py run as it is by default (seed, steps, pictures), keeping the pictures the docs show."""
    run = folder / "names_run"
    if names.main(["--out", str(run), "--force", "--quiet"]) != 0:
        raise SystemExit("examples/names.py failed")
    written = [(run / name).replace(folder / f"names_{name}") for name in NAMES_PICTURES]
    shutil.rmtree(run)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / "images", help="folder for the pictures")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    written = []
    # the single neuron of examples/trace_graph.py, before and after backward
    _, o = trace_graph.build_neuron(seed=0)
    written += common.draw_graph(o, args.out / "neuron_before", title="forward: values computed, gradients 0")
    o.backward()
    written += common.draw_graph(o, args.out / "neuron_after", edge_grads=True,
                                 title="after o.backward(): each node's gradient, each edge's contribution")
    written += shared_node_graph(args.out)
    written += moons_pictures(args.out)
    # examples/bias.py's comparison
    if bias.main(["--out", str(args.out / "bias_run"), "--force", "--quiet"]) != 0:
        raise SystemExit("examples/bias.py failed")
    (args.out / "bias_run" / "bias.png").replace(args.out / "bias.png")
    shutil.rmtree(args.out / "bias_run")  # the rest of the demo's files (its report) are not for the docs
    written.append(args.out / "bias.png")
    written += digits_pictures(args.out)
    written += names_pictures(args.out)
    for path in written:
        if path.suffix == ".svg":
            path.unlink()  # the docs show PNGs; the demos write both
        else:
            print(f"wrote {common.relative(path)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
