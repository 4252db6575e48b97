"""What every demo shares: its command line, its output folder, its closing report.

Each demo in this folder is a short script that builds a dataset and a model
and trains it; the plumbing around that lives here, once. This file is not a
demo itself: run directly, it names the demos.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import math
import os
import shutil
import sys
import time
import uuid
from pathlib import Path
from typing import NoReturn

# Let `python examples/moons.py` work from a source checkout even before `pip install`.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# numpy's BLAS starts a thread per core for each matrix product. The demos' products are small (at most
# 32 x 64 times 64 x 1347, in digits), and on a busy two-core machine its threads wait on each other:
# digits trained 3 to 8 times slower with two threads than with one. So one, unless the user chose;
# BLAS reads this only when numpy is first imported, which is why every demo imports this file first.
for _blas_threads in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_blas_threads, "1")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # one line instead of argparse's usage block: the message names the option, --help has the rest
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def parser(description: str, steps: int, seed: int = 0, scalar: bool = True,
           steps_help: str = "number of training steps",
           scalar_help: str = "train with the scalar engine, one graph per sample (slow, for watching it work)",
           ) -> argparse.ArgumentParser:
    """The options every demo takes: --seed, --steps, --out, --force, --no-pictures, --quiet, and --scalar
    for the demos that train a network (``scalar=False`` leaves it out)."""
    p = _Parser(description=description)
    p.add_argument("--seed", type=_seed, default=seed,
                   help="seed for the data and the initial weights (default: %(default)s)")
    # a demo whose default is 0 steps (trace_graph) lets the user ask for 0 too
    p.add_argument("--steps", type=_positive_steps if steps else _steps, default=steps,
                   help=f"{steps_help} (default: %(default)s)")
    p.add_argument("--out", type=_folder, default=None,
                   help="folder for the pictures and report (default: a fresh runs/NAME-N folder)")
    p.add_argument("--force", action="store_true",
                   help="write into --out even if it holds files; only files of the same name are replaced")
    p.add_argument("--no-pictures", action="store_true", help="train and print metrics only")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    if scalar:
        p.add_argument("--scalar", action="store_true", help=scalar_help)
    else:
        p.set_defaults(scalar=False)
    return p


def whole_number(text: str, smallest: int, largest: float, expected: str) -> int:
    """``text`` as an int from ``smallest`` to ``largest``, else an argparse error saying what was expected.

    For a demo's own options (``type=lambda text: whole_number(text, 1, math.inf, "...")``).
    """
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or not smallest <= value <= largest:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
    return value


def _seed(text: str) -> int:
    # numpy's legacy generators take seeds below 2**32; keeping to that range works everywhere
    return whole_number(text, 0, 2**32 - 1, f"a seed from 0 to {2**32 - 1}")


def _positive_steps(text: str) -> int:
    return whole_number(text, 1, math.inf, "a positive number of steps")


def _steps(text: str) -> int:
    return whole_number(text, 0, math.inf, "a number of steps, 0 or more")


def _folder(text: str) -> Path:
    if not text:
        raise argparse.ArgumentTypeError("expected a folder, got an empty name")
    return Path(text)


class Run:
    """One run of a demo: where its files go, and what Ctrl-C does to it.

    The files are written into a hidden ``.NAME.partial-XXXXXXXX`` folder and put
    in place only when the run has finished, so an interrupted run leaves nothing
    behind that would block or confuse the next one:

    - no ``--out``: the folder is renamed to the first free ``runs/NAME-N``;
    - ``--out DIR`` that does not exist yet: the folder is renamed to DIR;
    - ``--out DIR`` that exists (empty, or with ``--force``): the new files are
      moved into DIR one by one, replacing only files of the same name; the
      user's other files are never touched.

    Ctrl-C, or any error, removes the unfinished folder (and any parent folder
    the run made); Ctrl-C then prints ``interrupted at step k of n`` and exits
    with status 130, as a shell does for an interrupted program.

        with common.Run("moons", args, parser) as run:
            history = train(..., callback=run.count_step)
            common.finish(run, model, X, y, history, ...)
    """

    def __init__(self, name: str, args: argparse.Namespace, parser: argparse.ArgumentParser,
                 total_steps: int | None = None) -> None:
        self.name = name
        self.args = args
        self.parser = parser
        self.total_steps = args.steps if total_steps is None else total_steps
        self.steps_done = 0
        self.target = None if args.out is None else Path(os.path.abspath(args.out))
        self.folder: Path | None = None  # the unfinished folder the demo writes into; None with --no-pictures
        self.made: list[Path] = []  # folders the run created, outermost first

    def count_step(self, *_ignored) -> None:
        """Note one finished training step; fits ``nn.train``'s ``callback(step, history)``."""
        self.steps_done += 1

    def __enter__(self) -> Run:
        if not self.args.no_pictures:
            self.folder = self._start()
        return self

    def __exit__(self, kind, error, traceback) -> None:
        if error is not None:
            self._stop(error)
        elif self.folder is not None:
            try:
                self._put_in_place()
            except BaseException as late_error:  # Ctrl-C, or a full disk, while moving the files
                self._stop(late_error)
                raise

    def _stop(self, error: BaseException) -> None:
        """Remove the unfinished files; after Ctrl-C, say where the run was and exit with 130."""
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
        self._remove_made()
        if isinstance(error, KeyboardInterrupt):
            line = f"interrupted at step {self.steps_done} of {self.total_steps}"
            if self.steps_done == self.total_steps and self.folder is not None:
                line += ", while writing the files"
            print(line, file=sys.stderr)
            raise SystemExit(130) from None

    def _start(self) -> Path:
        """Check that the output folder can be written and make the unfinished folder, or stop with
        an option error (one line, exit status 2) having created nothing."""
        target, out = self.target, self.args.out
        try:
            if target is not None and target.is_symlink() and not target.exists():
                self.parser.error(f"argument --out: {out} is a broken symbolic link (to {os.readlink(target)}); "
                                  "remove it or choose another folder")
            if target is not None and target.exists():
                if not target.is_dir():
                    self.parser.error(f"argument --out: {out} exists and is not a folder")
                if any(target.iterdir()) and not self.args.force:
                    self.parser.error(f"argument --out: {out} already holds files; pass --force to add "
                                      "this run's files to them (replacing files of the same name), "
                                      "or choose another folder")
                parent = target  # an existing folder: the new files join it at the end
            else:
                parent = Path.cwd() / "runs" if target is None else target.parent
            for missing in reversed([path for path in [parent, *parent.parents] if not path.exists()]):
                missing.mkdir()
                self.made.append(missing)
            folder = parent / f".{self.name}.partial-{uuid.uuid4().hex[:8]}"
            folder.mkdir()
        except OSError as error:
            self._remove_made()
            wanted = out if target is not None else f"runs/{self.name}-N (choose a folder with --out)"
            self.parser.error(f"argument --out: cannot write into {wanted}: {error.strerror}")
        return folder

    def _put_in_place(self) -> None:
        """Move the finished files to where the user asked for them, and say where they are."""
        files = sorted(self.folder.iterdir())
        if self.target is None:
            final = self._claim_numbered_folder()
            os.replace(self.folder, final)  # replaces the empty folder just claimed
        elif self.folder.parent == self.target:  # the user's existing folder: add to it, file by file
            final = self.target
            for path in files:
                os.replace(path, final / path.name)
            self.folder.rmdir()
        else:
            final = self.target
            os.rename(self.folder, final)
        for path in files:
            print(f"  wrote {relative(final / path.name)}")

    def _claim_numbered_folder(self) -> Path:
        """The first free runs/NAME-N, made empty now so that a run finishing at the same moment skips it."""
        for number in itertools.count(1):
            candidate = self.folder.parent / f"{self.name}-{number}"
            try:
                candidate.mkdir()
                return candidate
            except FileExistsError:
                continue

    def _remove_made(self) -> None:
        for path in reversed(self.made):
            with contextlib.suppress(OSError):  # keep it if something else has been put in it since
                path.rmdir()


class Timer:
    """Wall-clock seconds since creation."""

    def __init__(self) -> None:
        self.start = time.perf_counter()

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.start


def report(name: str, history, seconds: float) -> None:
    """Print the final metrics."""
    line = f"{name}: loss {history.loss[-1]:.4f}, train accuracy {history.accuracy[-1]:.1%}"
    if history.test_accuracy:
        line += f", test accuracy {history.test_accuracy[-1]:.1%}"
    print(f"{line} after {len(history)} steps in {seconds:.2f} s")


def relative(path: Path) -> str:
    return os.path.relpath(path)


def draw_graph(root, stem: Path, **options) -> list[Path]:
    """``root``'s computation graph as stem.svg and stem.png (or stem.dot without Graphviz's dot).

    The legend is drawn unless ``legend=False`` is passed: every graph a demo writes
    explains its colours the same way.
    """
    import viz

    return write_graph(viz.draw_dot(root, **{"legend": True, **options}), stem)


def write_graph(graph, stem: Path) -> list[Path]:
    """A drawn graph (``viz.draw_dot``'s Digraph) as stem.svg and stem.png, or stem.dot without Graphviz's dot."""
    import viz

    try:
        return [viz.render(graph, stem.with_suffix(".svg")), viz.render(graph, stem.with_suffix(".png"))]
    except viz.GraphvizNotFound as error:
        print(f"  (no picture: {error})")
        stem.with_suffix(".dot").write_text(graph.source)
        return [stem.with_suffix(".dot")]


def point_graph(model, x, label: int, loss: str):
    """One point's loss, after backward: the model's grads hold that point's gradients alone."""
    from nn.evaluate import sample_loss

    value = sample_loss(model, x, label, loss)
    model.zero_grad()
    value.backward()
    return value


def hardest_sample(model, X, y, loss: str):
    """The loss of the training point the trained model finds hardest, after backward, and a title
    that names the point (and says why, if no training point has a gradient to show)."""
    import textwrap

    from nn.evaluate import find_hardest

    hardest = find_hardest(model, X, y, loss)
    point, label = X[hardest.index], int(y[hardest.index])
    where = "(" + ", ".join(f"{v:.2f}" for v in point) + f"), class {label}"
    title = f"the training point the network finds hardest, {where}: its loss after backward"
    if hardest.note:
        title = f"training point {where}: its loss after backward. {hardest.note}"
    # wrapped, because Graphviz widens the whole picture to fit its caption's longest line
    return point_graph(model, point, label, loss), "\n".join(textwrap.wrap(title, 100))


def sample_graph(model, X, y, loss: str):
    """The loss of the one training point the trained model finds hardest, after backward."""
    return hardest_sample(model, X, y, loss)[0]


def sample_picture(model, X, y, loss: str):
    """The graph that graph.svg shows: the hardest training point's loss after backward, each
    neuron one box, shaded by its gradient, with the legend (as the report draws it)."""
    import viz

    value, title = hardest_sample(model, X, y, loss)
    return viz.draw_dot(value, collapse_neurons=True, shade="grad", legend=True,
                        parameters=model.parameters(), title=title)


def write_pictures(folder: Path, model, X, y, history, loss: str, title: str,
                   X_test=None, y_test=None, story=()) -> list[Path]:
    """Every picture of a finished run, and the HTML report that gathers them; returns the paths."""
    import viz

    written = [
        viz.save(viz.decision_boundary(model, X, y), folder / "decision_boundary.png"),
        viz.save(viz.neuron_maps(model, X, y), folder / "neuron_maps.png"),
        viz.save(viz.draw_mlp(model, health=viz.unit_health(model, X)), folder / "network.png"),
        viz.save(viz.training_curves(history), folder / "training_curves.png"),
    ]
    graph = sample_picture(model, X, y, loss)
    try:
        written.append(viz.render(graph, folder / "graph.svg"))
    except viz.GraphvizNotFound as error:
        print(f"  (no graph.svg: {error})")
        (folder / "graph.dot").write_text(graph.source)
        written.append(folder / "graph.dot")
    written.append(viz.write_report(folder / "report.html", model, X, y, history,
                                    X_test=X_test, y_test=y_test, title=title, story=story))
    model.zero_grad()
    return written


def finish(run: Run, model, X, y, history, loss: str, target: float, seconds: float,
           X_test=None, y_test=None, story=()) -> int:
    """Print the final metrics, write the pictures, and say whether the accuracy target was met.

    ``story``: chapters (``viz.report.Chapter``) the report opens with, before its standard sections.
    """
    from nn import save_parameters

    if run.folder is not None:
        write_pictures(run.folder, model, X, y, history, loss, f"glassgrad: {run.name}", X_test, y_test, story)
        save_parameters(model, run.folder / "parameters.json")
    report(run.name, history, seconds)
    reached = history.accuracy[-1] >= target
    print(f"target: {target:.0%} train accuracy, {'reached' if reached else 'NOT reached'}")
    return 0


if __name__ == "__main__":
    # this file sits among the demos, so someone will run it: point them to the real ones
    demos = sorted(path.name for path in Path(__file__).parent.glob("*.py") if path.name != "common.py")
    print("common.py is not a demo: it holds the options and output folders the demos share.\n"
          "Run one of these instead (each takes --help):", file=sys.stderr)
    for demo in demos:
        print(f"  python examples/{demo}", file=sys.stderr)
    raise SystemExit(2)
