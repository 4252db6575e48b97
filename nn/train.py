"""The training loop: forward, loss, backward, optimizer step, repeated.

``train`` runs a model on a dataset for a number of steps and returns the
history of loss and accuracy. By default each step replays the recorded
per-sample graph over the whole batch (``engine.batch``); ``batched=False``
builds one scalar graph per sample instead, as micrograd does, which is
slower and gives the same numbers: use it to watch the scalar engine work.
Which loss, and how class labels become its targets, comes from
``nn.losses.LOSSES``.
"""

from __future__ import annotations

import contextlib
import math
import numbers
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

from engine import Value
from engine.value import explain_non_finite, explain_non_finite_grad
from nn import losses
from nn.evaluate import as_points, loss_and_outputs, loss_recording
from nn.losses import LOSS_NAMES, Loss, find_loss
from nn.module import MLP
from nn.optim import SGD

__all__ = ["Diverged", "History", "train", "LOSS_NAMES", "Training", "batches"]


@dataclass
class History:
    """What happened at each step: loss, accuracy, and test figures when a test set was given."""

    loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    test_loss: list[float] = field(default_factory=list)
    test_accuracy: list[float] = field(default_factory=list)
    learning_rate: list[float] = field(default_factory=list)
    loss_name: str = ""  # which loss the figures are of: one of LOSS_NAMES

    def __len__(self) -> int:
        return len(self.loss)

    def __repr__(self) -> str:
        if not self.loss:
            return "History(no steps)"
        return (f"History({len(self)} steps, final loss {self.loss[-1]:.4f}, "
                f"accuracy {self.accuracy[-1]:.1%})")


class Diverged(FloatingPointError):
    """A training step whose numbers stopped being finite; the parameters are as they were before it.

    ``what`` says what happened, and where the numbers first stopped being finite,
    in words; the message adds the step before it and the advice after it.
    """

    def __init__(self, where: str, what: str) -> None:
        super().__init__(f"train: {where}: {what}; {_ADVICE}")
        self.what = what


def train(
    model: MLP,
    X: np.ndarray,
    y: np.ndarray,
    loss: str = "hinge",
    steps: int = 100,
    optimizer: object | None = None,
    learning_rate: float | Callable[[int], float] = 0.1,
    l2: float = 0.0,
    batch_size: int | None = None,
    X_test: np.ndarray | None = None,
    y_test: np.ndarray | None = None,
    batched: bool = True,
    seed: int = 0,
    callback: Callable[[int, History], None] | None = None,
    progress: bool = False,
) -> History:
    """Train ``model`` on (X, y) and return the per-step History.

    - ``loss``: "hinge" (micrograd's max-margin, labels become -1/+1), "mse",
      "bce" (logits) or "softmax" (one output per class).
    - ``optimizer``: an ``nn.optim`` optimizer over ``model.parameters()``;
      default ``SGD``. ``learning_rate`` is a number, or a function of the step
      (0-based) that sets ``optimizer.lr`` before each step.
    - ``l2``: adds ``l2 * sum(p**2)`` over the parameters to the loss (the
      History's loss includes it). Its gradient, ``2 * l2 * p``, is the
      optimizer's weight decay: ``weight_decay`` is raised by ``2 * l2`` while
      train runs, the same update as a graph term, without its cost.
    - ``batch_size``: None for full batch, else shuffled mini-batches (``seed``).
    - ``callback(step, history)`` runs after every step; ``progress`` shows a bar.

    Nothing non-finite gets in or out. Data holding NaN or infinity is refused
    up front (ValueError naming the array, row and column). A step whose loss
    or gradients are not finite raises FloatingPointError naming the node
    where the numbers first stopped being finite, and leaves the parameters as
    they were before that step. A loss that grows a hundredfold past where it
    started (at least 100) gives one RuntimeWarning: training is diverging.
    """
    found = find_loss(loss, "train")
    X, y, X_test, y_test = _checked_data(model, found, X, y, X_test, y_test)
    _check_options(steps, batch_size, l2, learning_rate, len(X))
    schedule = learning_rate if callable(learning_rate) else None
    if optimizer is None:
        optimizer = SGD(model.parameters(), lr=learning_rate if schedule is None else schedule(0))
    run = Training(model, found, optimizer, l2, batched, (X, y, X_test, y_test))
    rows = batches(len(X), batch_size, np.random.default_rng(seed))
    with _l2_as_weight_decay(optimizer, l2), _progress(steps, progress) as show:
        for step in range(steps):
            if schedule is not None:
                optimizer.lr = schedule(step)
            batch_loss = run.step(next(rows), f"step {step} of {steps}")
            if step == 0:
                start = batch_loss  # the loss before any update: divergence is measured from here
            _warn_if_diverging(start, run.history, step)
            show(run.history)
            if callback is not None:
                callback(step, run.history)
    return run.history


def _checked_data(model: MLP, loss: Loss, X: np.ndarray, y: np.ndarray, X_test: np.ndarray | None,
                  y_test: np.ndarray | None) -> tuple:
    """(X, y, X_test, y_test) as arrays, each checked against the model and the loss."""
    X, y = _checked_pair(model, loss, X, y, ("X", "y"))
    if (X_test is None) != (y_test is None):
        raise ValueError("train: give X_test and y_test together (a test set needs its labels), or neither")
    if X_test is not None:
        X_test, y_test = _checked_pair(model, loss, X_test, y_test, ("X_test", "y_test"))
    return X, y, X_test, y_test


def _checked_pair(model: MLP, loss: Loss, X: np.ndarray, y: np.ndarray,
                  names: tuple[str, str]) -> tuple[np.ndarray, np.ndarray]:
    X = as_points(X, model.nin, name=names[0], caller="train")
    if len(X) == 0:
        raise ValueError(f"train: {names[0]} has no rows; give at least one training point")
    y = _as_labels(y, len(X), names[1])
    classes = loss.classes(model.sizes[-1], "train")
    if y.min() < 0 or y.max() >= classes:
        raise ValueError(f"train: labels must lie in 0..{classes - 1}, {names[1]} holds {y.min()}..{y.max()}")
    return X, y


def _as_labels(y: np.ndarray, n: int, name: str) -> np.ndarray:
    """``y`` as n integer class labels; NaN, infinity and fractions are named by row."""
    y = np.asarray(y)
    if y.shape != (n,):
        raise ValueError(f"train: {name} must have shape ({n},), one label per row of X, got {y.shape}")
    if np.issubdtype(y.dtype, np.floating):
        bad = ~np.isfinite(y)
        if bad.any():
            row = int(np.argmax(bad))
            raise ValueError(f"train: {name} holds {y[row]} at row {row}; labels are class numbers 0, 1, ...")
    if not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"train: {name} must hold integer class labels, got dtype {y.dtype}")
    return y


def _check_options(steps: object, batch_size: object, l2: object, learning_rate: object, n: int) -> None:
    """Each option's type and range, named, before anything is touched."""
    if type(steps) is not int or steps < 0:  # `type`, so that steps=True is refused
        raise ValueError(f"train: steps must be a whole number >= 0, got {steps!r}")
    if batch_size is not None and (type(batch_size) is not int or not 1 <= batch_size <= n):
        raise ValueError(f"train: batch_size must be None (full batch) or a whole number from 1 to {n}, "
                         f"got {batch_size!r}")
    if not _is_number(l2) or not math.isfinite(l2) or l2 < 0:
        raise ValueError(f"train: l2 must be a finite number >= 0, got {l2!r}")
    if not callable(learning_rate) and (not _is_number(learning_rate) or not math.isfinite(learning_rate)):
        raise ValueError(f"train: learning_rate must be a finite number or a function of the step, "
                         f"got {learning_rate!r}")


def _is_number(x: object) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


class Training:
    """One call of ``train``: the model, its loss and optimizer, the data, and the History being filled.

    The loss and scores of a batch come from a replay of the recorded
    per-sample graph (``batched``), or from one scalar graph per sample.

    ``train`` loops over it; a caller that owns the loop (the live playground,
    which steps while a page watches and changes ``optimizer.lr`` or ``l2``
    between steps) builds one with ``Training.start`` and calls ``train_step``:

        run = Training.start(model, X, y, loss="hinge", optimizer=nn.Adam(model.parameters(), lr=0.03))
        rows = batches(len(X), None, np.random.default_rng(0))
        loss_before = run.train_step(next(rows))   # run.history has the figures after the step
    """

    @classmethod
    def start(cls, model: MLP, X: np.ndarray, y: np.ndarray, loss: str = "hinge", optimizer: object | None = None,
              l2: float = 0.0, X_test: np.ndarray | None = None, y_test: np.ndarray | None = None,
              batched: bool = True) -> Training:
        """A run checked as ``train`` checks its arguments (ValueError naming the bad one); default SGD(lr=0.1)."""
        found = find_loss(loss, "train")
        data = _checked_data(model, found, X, y, X_test, y_test)
        _check_options(0, None, l2, 0.1, len(data[0]))
        return cls(model, found, SGD(model.parameters(), lr=0.1) if optimizer is None else optimizer, l2, batched, data)

    def __init__(self, model: MLP, loss: Loss, optimizer, l2: float, batched: bool, data: tuple) -> None:
        self.model, self.loss, self.optimizer, self.l2, self.batched = model, loss, optimizer, l2, batched
        self.X, self.y, self.X_test, self.y_test = data
        self.parameters = model.parameters()
        self.history = History(loss_name=loss.name)
        self.recording = loss_recording(model, loss) if batched else None
        self.root: Value | None = None  # the scalar graph of the latest loss

    def train_step(self, rows=slice(None), where: str = "train_step") -> float:
        """``step`` with ``l2`` applied as the optimizer's weight decay, as ``train`` applies it around its loop.

        After it, each parameter's ``grad`` holds the batch's gradient of the mean data loss
        (the l2 term's gradient went into the update as weight decay); FloatingPointError as ``step``.
        """
        with _l2_as_weight_decay(self.optimizer, self.l2):
            return self.step(rows, where)

    def step(self, rows, where: str) -> float:
        """One optimizer step on ``rows``, then the figures after it; returns the batch's loss before the step."""
        before = [p.data for p in self.parameters]
        try:
            batch_loss = self._update(rows, where)
            self.record(where)
        except FloatingPointError:  # no non-finite number is ever left in a model
            for p, data in zip(self.parameters, before):
                p.data = data
            self.optimizer.zero_grad()
            raise
        return batch_loss

    def _update(self, rows, where: str) -> float:
        """Step the optimizer, only if the loss and every gradient are finite; the loss before the step."""
        self.optimizer.zero_grad()
        data_loss, _ = self._loss_and_scores(self.X[rows], self.y[rows], True, where)
        total = data_loss + _penalty(self.parameters, self.l2)
        self._refuse_non_finite_loss(total, where)
        if not all(math.isfinite(p.grad) for p in self.parameters):
            raise Diverged(where, f"a gradient is not finite: {self._explain_non_finite(grads=True)}")
        self.optimizer.step()
        if not all(math.isfinite(p.data) for p in self.parameters):  # the update itself overflowed
            raise Diverged(where, "the update made a parameter non-finite")
        return total

    def record(self, where: str) -> None:
        """Append the model's figures as they are now, on all of the training data (and the test data)."""
        history, penalty = self.history, _penalty(self.parameters, self.l2)
        train_loss, scores = self._loss_and_scores(self.X, self.y, False, where)
        self._refuse_non_finite_loss(train_loss + penalty, where)
        history.loss.append(train_loss + penalty)
        history.accuracy.append(float(np.mean(self.loss.predict(scores) == self.y)))
        history.learning_rate.append(float(self.optimizer.lr))
        if self.X_test is not None:
            test_loss, test_scores = self._loss_and_scores(self.X_test, self.y_test, False, where)
            history.test_loss.append(test_loss + penalty)
            history.test_accuracy.append(float(np.mean(self.loss.predict(test_scores) == self.y_test)))

    def _loss_and_scores(self, X: np.ndarray, y: np.ndarray, backward: bool, where: str) -> tuple[float, np.ndarray]:
        """Mean per-sample loss and the scores; with ``backward`` adds d(mean loss)/d parameter to grads."""
        targets, n = self.loss.targets(y, self.model.sizes[-1]), len(X)
        try:
            if self.batched:
                columns = self.recording.forward(list(X.T) + targets)
                if backward:
                    self.recording.backward([np.full(n, 1.0 / n)] + [0.0] * (len(columns) - 1))
                return float(np.mean(columns[0])), np.stack(columns[1:], axis=1)
            graphs = [loss_and_outputs(self.model, self.loss, [float(v) for v in X[i]], [float(t[i]) for t in targets])
                      for i in range(n)]
        except OverflowError as error:  # exp or ** of a finite number that is too large
            raise Diverged(where, str(error)) from error
        self.root = losses.mean([graph[0] for graph in graphs])
        if backward and math.isfinite(self.root.data):  # a non-finite loss is explained by the caller
            self.root.backward()
        return self.root.data, np.array([[o.data for o in graph[1:]] for graph in graphs])

    def _refuse_non_finite_loss(self, total: float, where: str) -> None:
        if not math.isfinite(total):
            raise Diverged(where, f"the loss is {total}; it first stopped being finite where "
                                  f"{self._explain_non_finite()}")

    def _explain_non_finite(self, grads: bool = False) -> str:
        """Where the latest loss (or, with ``grads``, its gradients) first stopped being finite."""
        if self.batched:
            recording = self.recording
            return recording.explain_non_finite_grad() if grads else recording.explain_non_finite()
        return explain_non_finite_grad(self.root) if grads else explain_non_finite(self.root)


def _penalty(parameters: list[Value], l2: float) -> float:
    """l2 * sum(p**2): the penalty's value (its gradient is the optimizer's weight decay)."""
    return l2 * sum(p.data * p.data for p in parameters) if l2 else 0.0


@contextlib.contextmanager
def _l2_as_weight_decay(optimizer, l2: float) -> Iterator[None]:
    """Raise the optimizer's ``weight_decay`` by 2 * l2, the gradient of l2 * sum(p**2), while train runs."""
    if not l2:
        yield
        return
    if not hasattr(optimizer, "weight_decay"):
        raise TypeError(f"train: l2={l2!r} needs an optimizer with weight_decay, such as nn.SGD or nn.Adam, "
                        f"got {type(optimizer).__name__}")
    before = optimizer.weight_decay
    optimizer.weight_decay = before + 2.0 * l2
    try:
        yield
    finally:
        optimizer.weight_decay = before


def batches(n: int, batch_size: int | None, rng: np.random.Generator) -> Iterator:
    """The rows of each step: all of them, or walks through fresh shuffles ``batch_size`` at a time."""
    if batch_size is None:
        while True:
            yield slice(None)
    order, cursor = np.arange(n), n
    while True:
        if cursor + batch_size > n:
            order, cursor = rng.permutation(n), 0
        yield order[cursor:cursor + batch_size]
        cursor += batch_size



@contextlib.contextmanager
def _progress(steps: int, shown: bool) -> Iterator[Callable[[History], None]]:
    """A function to call after each step: it moves a progress bar, or does nothing."""
    if not shown:
        yield lambda history: None
        return
    from tqdm import tqdm

    with tqdm(total=steps, desc="training", unit="step", leave=True) as bar:
        def show(history: History) -> None:
            bar.set_postfix(loss=f"{history.loss[-1]:.4f}", acc=f"{history.accuracy[-1]:.1%}")
            bar.update(1)

        yield show


_ADVICE = "the parameters are as they were before this step; lower the learning rate, or scale the inputs"


def _warn_if_diverging(start: float, history: History, step: int) -> None:
    """One warning, the first time the loss passes 100x where it started (and 100): it is running away."""
    threshold = 100.0 * max(start, 1.0)
    crossed_now = len(history.loss) == 1 or history.loss[-2] <= threshold
    if history.loss[-1] > threshold and crossed_now:
        warnings.warn(f"train: the loss grew from {start:.4g} before step 0 to {history.loss[-1]:.4g} after "
                      f"step {step}: training is diverging; lower the learning rate", RuntimeWarning, stacklevel=3)
