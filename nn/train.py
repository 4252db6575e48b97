"""The training loop: forward, loss, backward, optimizer step, repeated.

``train`` runs a model on a dataset for a number of steps and returns the
history of loss and accuracy. By default each step replays the recorded
per-sample graph over the whole batch (``engine.batch``); ``batched=False``
builds one scalar graph per sample instead, as micrograd does, which is
slower and gives the same numbers: use it to watch the scalar engine work.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from engine import Value
from engine.batch import record
from engine.value import explain_non_finite, explain_non_finite_grad
from nn import losses
from nn.evaluate import as_points
from nn.module import MLP
from nn.optim import SGD

__all__ = ["History", "train", "LOSS_NAMES"]

LOSS_NAMES = ("hinge", "mse", "bce", "softmax")


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


def _targets(loss: str, y: np.ndarray, classes: int) -> list[np.ndarray]:
    """The label columns each per-sample loss reads, one array per placeholder."""
    if loss in ("hinge", "mse"):
        return [2.0 * y - 1.0]  # classes {0, 1} -> targets {-1, +1}
    if loss == "bce":
        return [y.astype(float)]
    return [(y == k).astype(float) for k in range(classes)]  # one-hot, for softmax


def _sample_loss(loss: str, output: Value | list[Value], targets: list) -> Value:
    if loss == "hinge":
        return losses.hinge(output, targets[0])
    if loss == "mse":
        return losses.squared_error(output, targets[0])
    if loss == "bce":
        return losses.binary_cross_entropy(output, targets[0])
    return losses.softmax_cross_entropy(output, targets)


def _accuracy(loss: str, scores: np.ndarray, y: np.ndarray) -> float:
    predicted = np.argmax(scores, axis=1) if loss == "softmax" else (scores[:, 0] > 0).astype(np.int64)
    return float(np.mean(predicted == y))


def _check_data(model: MLP, X: np.ndarray, y: np.ndarray, loss: str,
                names: tuple[str, str] = ("X", "y")) -> tuple[np.ndarray, np.ndarray, int]:
    X = as_points(X, model.nin, name=names[0], caller="train")
    if len(X) == 0:
        raise ValueError(f"train: {names[0]} has no rows; give at least one training point")
    y = _as_labels(y, len(X), names[1])
    outputs = model.sizes[-1]
    if loss not in LOSS_NAMES:
        raise ValueError(f"train: unknown loss {loss!r}; choose one of {', '.join(LOSS_NAMES)}")
    if loss == "softmax":
        if outputs < 2:
            raise ValueError("train: the softmax loss needs a model with one output per class")
        classes = outputs
    else:
        if outputs != 1:
            raise ValueError(f"train: the {loss} loss needs a model with one output, this one has {outputs}")
        classes = 2
    if y.min() < 0 or y.max() >= classes:
        raise ValueError(f"train: labels must lie in 0..{classes - 1}, {names[1]} holds {y.min()}..{y.max()}")
    return X, y, classes


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


class _Evaluator:
    """Loss and outputs for a batch, by replay (batched) or by the scalar engine."""

    def __init__(self, model: MLP, loss: str, classes: int, batched: bool) -> None:
        self.model, self.loss, self.classes, self.batched = model, loss, classes, batched
        self.outputs = model.sizes[-1]
        if batched:
            n_targets = 1 if loss != "softmax" else classes
            example = [0.0] * model.nin + [1.0] + [0.0] * (n_targets - 1)
            names = [f"x{i + 1}" for i in range(model.nin)] + [f"t{k + 1}" for k in range(n_targets)]
            self.recording = record(self._per_sample, example, names)

    def _per_sample(self, *placeholders: Value) -> list[Value]:
        nin = self.model.nin
        output = self.model(list(placeholders[:nin]))
        outputs = output if isinstance(output, list) else [output]
        return [_sample_loss(self.loss, output, list(placeholders[nin:]))] + outputs

    def data_loss_and_scores(self, X: np.ndarray, y: np.ndarray, backward: bool) -> tuple[float, np.ndarray]:
        """Mean per-sample loss and the scores; with ``backward`` adds d(mean loss)/d parameter to grads."""
        targets = _targets(self.loss, y, self.classes)
        n = len(X)
        if self.batched:
            columns = self.recording.forward(list(X.T) + targets)
            if backward:
                self.recording.backward([np.full(n, 1.0 / n)] + [0.0] * self.outputs)
            return float(np.mean(columns[0])), np.stack(columns[1:], axis=1)
        sample_losses, scores = [], []
        for i in range(n):
            output = self.model([float(v) for v in X[i]])
            outputs = output if isinstance(output, list) else [output]
            sample_targets = [float(t[i]) for t in targets]
            sample_losses.append(_sample_loss(self.loss, output, sample_targets))
            scores.append([o.data for o in outputs])
        data_loss = losses.mean(sample_losses)
        self.root = data_loss
        if backward and math.isfinite(data_loss.data):  # a non-finite loss is explained by the caller
            data_loss.backward()
        return data_loss.data, np.array(scores)

    def explain_non_finite(self, grads: bool = False) -> str:
        """Where the latest loss (or, with ``grads``, its gradients) first stopped being finite."""
        if self.batched:
            recording = self.recording
            return recording.explain_non_finite_grad() if grads else recording.explain_non_finite()
        return explain_non_finite_grad(self.root) if grads else explain_non_finite(self.root)


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
    - ``l2``: adds ``l2 * sum(p**2)`` over the parameters to the loss.
    - ``batch_size``: None for full batch, else shuffled mini-batches (``seed``).
    - ``callback(step, history)`` runs after every step; ``progress`` shows a bar.

    Nothing non-finite gets in or out. Data holding NaN or infinity is refused
    up front (ValueError naming the array, row and column). A step whose loss
    or gradients are not finite raises FloatingPointError naming the node
    where the numbers first stopped being finite, and leaves the parameters as
    they were before that step. A loss that grows a hundredfold past where it
    started (at least 100) gives one RuntimeWarning: training is diverging.
    """
    X, y, classes = _check_data(model, X, y, loss)
    if (X_test is None) != (y_test is None):
        raise ValueError("train: give X_test and y_test together (a test set needs its labels), or neither")
    if X_test is not None:
        X_test, y_test, _ = _check_data(model, X_test, y_test, loss, names=("X_test", "y_test"))
    _check_options(steps, batch_size, l2, learning_rate, len(X))
    parameters = model.parameters()
    schedule = learning_rate if callable(learning_rate) else None
    if optimizer is None:
        optimizer = SGD(parameters, lr=learning_rate if schedule is None else schedule(0))
    evaluator = _Evaluator(model, loss, classes, batched)
    batches = _batches(len(X), batch_size, np.random.default_rng(seed))
    history = History(loss_name=loss)
    bar = _progress_bar(steps) if progress else None
    try:
        for step in range(steps):
            if schedule is not None:
                optimizer.lr = schedule(step)
            where = f"step {step} of {steps}"
            before = [p.data for p in parameters]
            try:
                batch_loss = _step(evaluator, optimizer, parameters, l2, X, y, next(batches), where)
                _record(history, evaluator, parameters, l2, loss, X, y, X_test, y_test, optimizer, where)
            except FloatingPointError:  # no non-finite number is ever left in a model
                for p, data in zip(parameters, before):
                    p.data = data
                optimizer.zero_grad()
                raise
            if step == 0:
                start = batch_loss  # the loss before any update: divergence is measured from here
            _warn_if_diverging(start, history, step)
            if bar is not None:
                bar.set_postfix(loss=f"{history.loss[-1]:.4f}", acc=f"{history.accuracy[-1]:.1%}")
                bar.update(1)
            if callback is not None:
                callback(step, history)
    finally:
        if bar is not None:
            bar.close()
    return history


def _batches(n: int, batch_size: int | None, rng: np.random.Generator):
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


def _progress_bar(steps: int):
    from tqdm import tqdm

    return tqdm(total=steps, desc="training", unit="step", leave=True)


def _step(evaluator: _Evaluator, optimizer, parameters: list[Value], l2: float,
          X: np.ndarray, y: np.ndarray, batch, where: str) -> float:
    """One optimizer step on the batch, taken only if the loss and every gradient are finite; the loss before it."""
    optimizer.zero_grad()
    data_loss, _ = _evaluate(evaluator, X[batch], y[batch], True, where)
    total = data_loss + _add_l2(parameters, l2)
    _refuse_non_finite_loss(total, evaluator, where)
    if not all(math.isfinite(p.grad) for p in parameters):
        raise FloatingPointError(f"train: {where}: a gradient is not finite: "
                                 f"{evaluator.explain_non_finite(grads=True)}; {_ADVICE}")
    optimizer.step()
    if not all(math.isfinite(p.data) for p in parameters):  # the update itself overflowed
        raise FloatingPointError(f"train: {where}: the update made a parameter non-finite; {_ADVICE}")
    return total


def _record(history: History, evaluator: _Evaluator, parameters: list[Value], l2: float, loss: str,
            X: np.ndarray, y: np.ndarray, X_test: np.ndarray | None, y_test: np.ndarray | None,
            optimizer, where: str) -> None:
    """Append the model's figures after the step, on all of the training data (and the test data)."""
    penalty = _l2_value(parameters, l2)
    train_loss, scores = _evaluate(evaluator, X, y, False, where)
    _refuse_non_finite_loss(train_loss + penalty, evaluator, where)
    history.loss.append(train_loss + penalty)
    history.accuracy.append(_accuracy(loss, scores, y))
    history.learning_rate.append(float(optimizer.lr))
    if X_test is not None:
        test_loss, test_scores = _evaluate(evaluator, X_test, y_test, False, where)
        history.test_loss.append(test_loss + penalty)
        history.test_accuracy.append(_accuracy(loss, test_scores, y_test))


def _evaluate(evaluator: _Evaluator, X: np.ndarray, y: np.ndarray, backward: bool, where: str):
    try:
        return evaluator.data_loss_and_scores(X, y, backward=backward)
    except OverflowError as error:  # exp or ** of a finite number that is too large
        raise FloatingPointError(f"train: {where}: {error}; {_ADVICE}") from error


def _refuse_non_finite_loss(total: float, evaluator: _Evaluator, where: str) -> None:
    if not math.isfinite(total):
        raise FloatingPointError(f"train: {where}: the loss is {total}; it first stopped being finite where "
                                 f"{evaluator.explain_non_finite()}; {_ADVICE}")


_ADVICE = "the parameters are as they were before this step; lower the learning rate, or scale the inputs"


def _warn_if_diverging(start: float, history: History, step: int) -> None:
    """One warning, the first time the loss passes 100x where it started (and 100): it is running away."""
    threshold = 100.0 * max(start, 1.0)
    crossed_now = len(history.loss) == 1 or history.loss[-2] <= threshold
    if history.loss[-1] > threshold and crossed_now:
        warnings.warn(f"train: the loss grew from {start:.4g} before step 0 to {history.loss[-1]:.4g} after "
                      f"step {step}: training is diverging; lower the learning rate", RuntimeWarning, stacklevel=3)


def _l2_value(parameters: list[Value], l2: float) -> float:
    return l2 * sum(p.data * p.data for p in parameters) if l2 else 0.0


def _add_l2(parameters: list[Value], l2: float) -> float:
    """Add the gradient of l2 * sum(p**2), which is 2 * l2 * p, and return the penalty."""
    if not l2:
        return 0.0
    for p in parameters:
        p.grad += 2.0 * l2 * p.data
    return _l2_value(parameters, l2)
