"""The training loop: forward, loss, backward, optimizer step, repeated.

``train`` runs a model on a dataset for a number of steps and returns the
history of loss and accuracy. By default each step replays the recorded
per-sample graph over the whole batch (``engine.batch``); ``batched=False``
builds one scalar graph per sample instead, as micrograd does, which is
slower and gives the same numbers: use it to watch the scalar engine work.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from engine import Value
from engine.batch import record
from nn import losses
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


def _check_data(model: MLP, X: np.ndarray, y: np.ndarray, loss: str) -> tuple[np.ndarray, np.ndarray, int]:
    X = np.asarray(X, dtype=float)
    y = np.asarray(y)
    if X.ndim != 2 or X.shape[1] != model.nin:
        raise ValueError(f"train: X must have shape (n, {model.nin}) for {model!r}, got {X.shape}")
    if y.shape != (len(X),):
        raise ValueError(f"train: y must have shape ({len(X)},), got {y.shape}")
    if not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"train: y must hold integer class labels, got dtype {y.dtype}")
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
    if len(y) and (y.min() < 0 or y.max() >= classes):
        raise ValueError(f"train: labels must lie in 0..{classes - 1}, got {y.min()}..{y.max()}")
    return X, y, classes


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
        if backward:
            data_loss.backward()
        return data_loss.data, np.array(scores)


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
    """
    X, y, classes = _check_data(model, X, y, loss)
    if X_test is not None:
        X_test, y_test, _ = _check_data(model, X_test, y_test, loss)
    if not isinstance(steps, int) or steps < 0:
        raise ValueError(f"train: steps must be a non-negative int, got {steps!r}")
    if batch_size is not None and not 1 <= batch_size <= len(X):
        raise ValueError(f"train: batch_size must be between 1 and {len(X)}, got {batch_size}")
    if l2 < 0:
        raise ValueError(f"train: l2 must be >= 0, got {l2}")
    parameters = model.parameters()
    schedule = learning_rate if callable(learning_rate) else None
    if optimizer is None:
        optimizer = SGD(parameters, lr=learning_rate if schedule is None else schedule(0))
    evaluator = _Evaluator(model, loss, classes, batched)
    rng = np.random.default_rng(seed)
    history = History(loss_name=loss)
    order = np.arange(len(X))
    cursor = len(X)

    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=steps, desc="training", unit="step", leave=True)
    step = 0
    try:
        for step in range(steps):
            if batch_size is None:
                batch = slice(None)
            else:  # walk a fresh shuffle of the data, batch_size points at a time
                if cursor + batch_size > len(X):
                    order, cursor = rng.permutation(len(X)), 0
                batch = order[cursor:cursor + batch_size]
                cursor += batch_size
            if schedule is not None:
                optimizer.lr = schedule(step)
            optimizer.zero_grad()
            data_loss, _ = evaluator.data_loss_and_scores(X[batch], y[batch], backward=True)
            total = data_loss + _add_l2(parameters, l2)
            if not np.isfinite(total):  # stop before the step, so the parameters stay finite
                raise FloatingPointError(
                    f"train: the loss became {total} at step {step}; lower the learning rate"
                )
            optimizer.step()
            # report the model as it is after the step, on all of the training data
            penalty = _l2_value(parameters, l2)
            train_loss, scores = evaluator.data_loss_and_scores(X, y, backward=False)
            history.loss.append(train_loss + penalty)
            history.accuracy.append(_accuracy(loss, scores, y))
            history.learning_rate.append(float(optimizer.lr))
            if X_test is not None:
                test_loss, test_scores = evaluator.data_loss_and_scores(X_test, y_test, backward=False)
                history.test_loss.append(test_loss + penalty)
                history.test_accuracy.append(_accuracy(loss, test_scores, y_test))
            if bar is not None:
                bar.set_postfix(loss=f"{history.loss[-1]:.4f}", acc=f"{history.accuracy[-1]:.1%}")
                bar.update(1)
            if callback is not None:
                callback(step, history)
    except OverflowError as error:
        raise FloatingPointError(
            f"train: a number overflowed at step {step} ({error}); lower the learning rate"
        ) from error
    finally:
        if bar is not None:
            bar.close()
    return history


def _l2_value(parameters: list[Value], l2: float) -> float:
    return l2 * sum(p.data * p.data for p in parameters) if l2 else 0.0


def _add_l2(parameters: list[Value], l2: float) -> float:
    """Add the gradient of l2 * sum(p**2), which is 2 * l2 * p, and return the penalty."""
    if not l2:
        return 0.0
    for p in parameters:
        p.grad += 2.0 * l2 * p.data
    return _l2_value(parameters, l2)
