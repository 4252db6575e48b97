"""What every demo shares: its command line, its output folder, its closing report.

Each demo in this folder is a short script that builds a dataset and a model
and trains it; the plumbing around that lives here, once.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

# Let `python examples/moons.py` work from a source checkout even before `pip install`.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def parser(description: str, steps: int, seed: int = 0) -> argparse.ArgumentParser:
    """The options every demo takes: --seed, --steps, --out, --force, --no-pictures."""
    p = argparse.ArgumentParser(description=description,
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--seed", type=int, default=seed, help="seed for the data and the initial weights")
    p.add_argument("--steps", type=_positive_int, default=steps, help="number of training steps")
    p.add_argument("--out", type=Path, default=None,
                   help="folder for the pictures and report (default: a fresh runs/NAME-N folder)")
    p.add_argument("--force", action="store_true", help="write into --out even if it holds a previous run")
    p.add_argument("--no-pictures", action="store_true", help="train and print metrics only")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--scalar", action="store_true",
                   help="train with the scalar engine, one graph per sample (slow, for watching it work)")
    return p


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive number of steps, got {text}")
    return value


def output_folder_for(name: str, args: argparse.Namespace) -> Path | None:
    """The run's folder from the parsed options, or None with --no-pictures."""
    return None if args.no_pictures else output_folder(name, args.out, args.force)


def output_folder(name: str, requested: Path | None, force: bool) -> Path:
    """A folder for this run's files that never silently overwrites an earlier run.

    With no ``--out``: the first free ``runs/NAME-1``, ``runs/NAME-2``, ...
    under the current directory. With ``--out``: that folder, which must be
    new or empty unless ``force`` is given.
    """
    if requested is None:
        base = Path.cwd() / "runs"
        number = 1
        while (base / f"{name}-{number}").exists():
            number += 1
        folder = base / f"{name}-{number}"
    else:
        folder = requested
        if folder.exists() and not folder.is_dir():
            sys.exit(f"error: --out {folder} exists and is not a folder")
        if folder.is_dir() and any(folder.iterdir()) and not force:
            sys.exit(f"error: {folder} already holds files from an earlier run; "
                     "pass --force to overwrite them, or choose another --out")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class Timer:
    """Wall-clock seconds since creation."""

    def __init__(self) -> None:
        self.start = time.perf_counter()

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.start


def report(name: str, history, seconds: float, files: list[Path] | None = None) -> None:
    """Print the final metrics and where the files are."""
    line = f"{name}: loss {history.loss[-1]:.4f}, train accuracy {history.accuracy[-1]:.1%}"
    if history.test_accuracy:
        line += f", test accuracy {history.test_accuracy[-1]:.1%}"
    print(f"{line} after {len(history)} steps in {seconds:.2f} s")
    for path in files or []:
        print(f"  wrote {os.path.relpath(path)}")


def relative(path: Path) -> str:
    return os.path.relpath(path)


def draw_graph(root, stem: Path, **options) -> list[Path]:
    """``root``'s computation graph as stem.svg and stem.png (or stem.dot without Graphviz's dot)."""
    import viz

    graph = viz.draw_dot(root, **options)
    try:
        return [viz.render(graph, stem.with_suffix(".svg")), viz.render(graph, stem.with_suffix(".png"))]
    except viz.GraphvizNotFound as error:
        print(f"  (no picture: {error})")
        stem.with_suffix(".dot").write_text(graph.source)
        return [stem.with_suffix(".dot")]


def sample_graph(model, X, y, loss: str):
    """The loss of the one training point the trained model finds hardest, after backward."""
    from viz.report import hardest_point, sample_loss

    index = hardest_point(model, X, y, loss)
    value, _ = sample_loss(model, X[index], int(y[index]), loss)
    model.zero_grad()
    value.backward()
    return value


def write_pictures(folder: Path, model, X, y, history, loss: str, title: str,
                   X_test=None, y_test=None) -> list[Path]:
    """Every picture of a finished run, and the HTML report that gathers them; returns the paths."""
    import viz

    written = [
        viz.save(viz.decision_boundary(model, X, y), folder / "decision_boundary.png"),
        viz.save(viz.neuron_maps(model, X, y), folder / "neuron_maps.png"),
        viz.save(viz.draw_mlp(model, health=viz.unit_health(model, X)), folder / "network.png"),
        viz.save(viz.training_curves(history), folder / "training_curves.png"),
    ]
    graph = viz.draw_dot(sample_graph(model, X, y, loss), collapse_neurons=True,
                         title="one training point's loss, after backward")
    try:
        written.append(viz.render(graph, folder / "graph.svg"))
    except viz.GraphvizNotFound as error:
        print(f"  (no graph.svg: {error})")
        (folder / "graph.dot").write_text(graph.source)
        written.append(folder / "graph.dot")
    written.append(viz.write_report(folder / "report.html", model, X, y, history,
                                    X_test=X_test, y_test=y_test, title=title))
    model.zero_grad()
    return written


def finish(name: str, args: argparse.Namespace, folder: Path | None, model, X, y, history, loss: str,
           target: float, seconds: float, X_test=None, y_test=None) -> int:
    """Print the final metrics, write the pictures, and say whether the accuracy target was met."""
    from nn import save_parameters

    files: list[Path] = []
    if folder is not None:
        files = write_pictures(folder, model, X, y, history, loss, f"glassgrad: {name}", X_test, y_test)
        save_parameters(model, folder / "parameters.json")
        files.append(folder / "parameters.json")
    report(name, history, seconds, files)
    reached = history.accuracy[-1] >= target
    print(f"target: {target:.0%} train accuracy, {'reached' if reached else 'NOT reached'}")
    return 0
