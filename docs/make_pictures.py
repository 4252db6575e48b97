"""Regenerate the pictures in docs/images/ that the README and the tutorial show.

Every picture comes from the demos' own code (examples/), so what the docs show
is what the demos make:

    python docs/make_pictures.py          # writes docs/images/*.png
    python docs/make_pictures.py --only playground   # just the playground's screenshots (needs Chromium)
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import threading
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
from tests.browser import Browser, find_chromium  # noqa: E402  (the browser tests' DevTools driver)
from viz.playground import make_server  # noqa: E402


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


# the page's own script: the box it drew for neuron n (from 1) of column c (0: the inputs, last: the output)
NEURON_CENTRE = """(() => {{ const canvas = document.getElementById('network');
    canvas.scrollIntoView({{block: "center"}}); const r = canvas.getBoundingClientRect();
    const box = state.layout.layers[{column}][{neuron} - 1];
    return [r.left + box.x + box.side / 2, r.top + box.y + box.side / 2]; }})()"""
PANEL_BOX = """(() => {{ const r = document.getElementById({panel!r}).getBoundingClientRect();
    return [r.left + window.scrollX, r.top + window.scrollY, r.width, r.height]; }})()"""


def playground_pictures(folder: Path) -> list[Path]:
    """The live playground at 1366x768 after 200 steps of its default run, and the graph behind a neuron.

    The page runs in headless Chromium, driven as the browser test drives it; the neuron is
    the first one of layer 1 that the chosen point (the training point with the largest loss)
    switches on, so that its graph carries gradients.
    """
    program = find_chromium()
    if program is None:
        raise SystemExit("the playground's pictures need Chromium (Debian: apt-get install chromium)")
    server = make_server("127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    browser = Browser(program, tempfile.mkdtemp(prefix="glassgrad-chromium-"))
    try:
        browser.resize(1366, 768)
        browser.send("Page.navigate", url=server.url)
        browser.wait_for("state.frame && state.frame.step === 0", "draw the first frame")
        browser.click(*browser.evaluate("(() => { const r = document.getElementById('play').getBoundingClientRect();"
                                        " return [r.left + r.width / 2, r.top + r.height / 2]; })()"))
        browser.wait_for("state.frame.step >= 200", "train 200 steps", timeout=60)
        browser.evaluate("document.getElementById('play').click()")  # pause, so both pictures show one state
        browser.wait_for("!state.frame.running", "pause")
        output = len(browser.evaluate("state.layout.layers")) - 1
        browser.click(*browser.evaluate(NEURON_CENTRE.format(column=output, neuron=1)))  # chooses the point
        browser.wait_for("state.frame.network.values", "show the chosen point's values")
        # the page scrolls smoothly to the graph it opened: let it settle before aiming at the next neuron
        browser.evaluate("new Promise(done => setTimeout(() => done(true), 1500))")
        active = browser.evaluate("state.frame.network.values[0].findIndex(v => v > 0) + 1") or 1
        browser.click(*browser.evaluate(NEURON_CENTRE.format(column=1, neuron=active)))
        browser.wait_for("!!document.querySelector('#focus-body svg')", "draw the neuron's graph")
        browser.evaluate("window.scrollTo(0, 0)")
        browser.screenshot(folder / "playground.png")
        # A wide, tall window shows the whole graph at its own size (the page lays itself out again).
        browser.resize(1600, 2400)
        browser.wait_for("window.innerWidth === 1600 && window.innerHeight === 2400", "take the new size")
        browser.evaluate("new Promise(done => requestAnimationFrame(() => requestAnimationFrame(() => done(true))))")
        x, y, width, height = browser.evaluate(PANEL_BOX.format(panel="focus"))
        clip = {"x": x, "y": y, "width": width, "height": min(height, 1000), "scale": 1}
        browser.screenshot(folder / "playground_graph.png", clip=clip)
    finally:
        browser.close()
        server.shutdown()
        server.server_close()
    return [folder / "playground.png", folder / "playground_graph.png"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / "images", help="folder for the pictures")
    parser.add_argument("--only", choices=["playground"], help="make only these pictures")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.only == "playground":
        return _report(playground_pictures(args.out))
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
    written += playground_pictures(args.out)
    return _report(written)


def _report(written: list[Path]) -> int:
    for path in written:
        if path.suffix == ".svg":
            path.unlink()  # the docs show PNGs; the demos write both
        else:
            print(f"wrote {common.relative(path)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
