"""Loss functions: how wrong a model's outputs are, as one Value to call ``backward`` on.

Each loss comes twice: a per-sample function (``hinge(score, label)``) and a
mean over a batch (``hinge_loss(scores, labels)``). Every one is built only
from engine ``Value`` operations, with no Python ``if`` on a number the model
computed. That is what lets ``engine.batch`` record the per-sample graph once
and replay it over a whole numpy batch, and it is why the stable forms below
use ``relu`` where a textbook would write ``max`` or ``abs``.

Targets and labels may be plain numbers (checked at once) or Values, such as
the placeholders ``engine.batch`` feeds a recorded graph (not checked, since
their numbers arrive only at replay).

``LOSSES`` holds one ``Loss`` record per name ``train(loss=...)`` takes; training,
evaluation, the report and the demos all look a loss up there.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from engine import Value

__all__ = [
    "LOSSES",
    "LOSS_NAMES",
    "Loss",
    "PER_SAMPLE_LOSSES",
    "bce_with_logits_loss",
    "binary_cross_entropy",
    "default_loss",
    "find_loss",
    "hinge",
    "hinge_loss",
    "l2_penalty",
    "mean",
    "mse_loss",
    "softmax",
    "softmax_cross_entropy",
    "softmax_cross_entropy_loss",
    "squared_error",
]

Number = float | int


def _as_value(x: Value | Number, name: str, label: str = "") -> Value:
    """``x`` as a Value (a number becomes a leaf labelled ``label``); TypeError naming ``name`` for anything else."""
    if isinstance(x, Value):
        return x
    if isinstance(x, numbers.Real):
        return Value(float(x), label=label)
    raise TypeError(f"{name}: expected a Value or a number, got {x!r} of type {type(x).__name__}")


def _checked_label(label: Value | Number, allowed: tuple[int, ...], loss: str, hint: str) -> Value | float:
    """A plain-number ``label`` as a float if it is one of ``allowed``, else ValueError; a Value as is."""
    if isinstance(label, Value):
        return label  # a placeholder: its numbers are only known at replay
    if not isinstance(label, numbers.Real):
        raise TypeError(f"{loss}: label must be a number or a Value, got {label!r} of type {type(label).__name__}")
    if label not in allowed:
        raise ValueError(f"{loss}: label must be one of {allowed}, got {label!r}; {hint}")
    return float(label)  # a numpy scalar on the left of `*` would not defer to Value


def _check_same_length(outputs: Sequence, targets: Sequence, loss: str) -> None:
    if len(outputs) != len(targets):
        raise ValueError(
            f"{loss}: got {len(outputs)} model outputs but {len(targets)} targets; give one target per output"
        )


# --- building blocks -------------------------------------------------------


def mean(values: Sequence[Value | Number]) -> Value:
    """(v1 + v2 + ... + vn) / n, as one sum node times 1/n."""
    values = list(values)
    if not values:
        raise ValueError("mean: got no values; a mean needs at least one (is the batch empty?)")
    return Value.sum(values) * (1.0 / len(values))


def softmax(scores: Sequence[Value]) -> list[Value]:
    """e**s_i / sum_j e**s_j: scores turned into weights that are positive and add up to 1.

    Computed as e**(s_i - m) / sum_j e**(s_j - m) with m = max_j s_j, the same
    numbers, with no exponential that can overflow (the largest is e**0).
    """
    largest = Value.max(scores)
    exps = [(s - largest).exp() for s in scores]
    total = Value.sum(exps)
    return [e / total for e in exps]


# --- regression ------------------------------------------------------------


def squared_error(prediction: Value, target: Value | Number) -> Value:
    """(p - t)**2 for one sample."""
    prediction = _as_value(prediction, "squared_error(prediction)")
    target = _as_value(target, "squared_error(target)", label="y")
    return (prediction - target) ** 2


def mse_loss(predictions: Sequence[Value], targets: Sequence[Value | Number]) -> Value:
    """Mean squared error: mean over the batch of (p - t)**2."""
    _check_same_length(predictions, targets, "mse_loss")
    return mean([squared_error(p, t) for p, t in zip(predictions, targets)])


# --- binary classification -------------------------------------------------


def hinge(score: Value, label: Value | Number) -> Value:
    """max(0, 1 - y*s) for label y in {-1, +1}: micrograd's max-margin (SVM) loss.

    Zero once the score has the label's sign with a margin of at least 1.
    """
    label = _checked_label(label, (-1, 1), "hinge", "map 0/1 class labels to -1/+1 with 2*y - 1")
    score = _as_value(score, "hinge(score)")
    # labelled leaves, so that a drawn graph says what each number is
    return (Value(1.0, label="margin") - _as_value(label, "hinge", label="y") * score).relu()


def hinge_loss(scores: Sequence[Value], labels: Sequence[Value | Number]) -> Value:
    """Mean over the batch of max(0, 1 - y*s)."""
    _check_same_length(scores, labels, "hinge_loss")
    return mean([hinge(s, y) for s, y in zip(scores, labels)])


def binary_cross_entropy(logit: Value, label: Value | Number) -> Value:
    """-[y log sigmoid(z) + (1 - y) log(1 - sigmoid(z))] for a logit z and label y in {0, 1}.

    That equals softplus(z) - y*z with softplus(z) = log(1 + e**z), which
    overflows for large z. The stable form used here is

        softplus(z) = relu(z) + log(1 + e**-|z|),    |z| = 2*relu(z) - z

    where e**-|z| lies in (0, 1], so nothing overflows at any z. Writing |z|
    as 2*relu(z) - z rather than relu(z) + relu(-z) matters at z = 0: there
    relu's slope is taken as 0, and only this form makes the two kinks
    (in relu(z) and in |z|) cancel, so the gradient is the true
    sigmoid(0) - y = 0.5 - y instead of -y.
    """
    label = _checked_label(label, (0, 1), "binary_cross_entropy", "use 0/1 class labels")
    z = _as_value(logit, "binary_cross_entropy(logit)")
    positive_part = z.relu()
    magnitude = 2.0 * positive_part - z  # |z|; 2a - a is exact in floating point
    softplus = positive_part + (1.0 + (-magnitude).exp()).log()
    # labels, so that a drawn graph reads as the formula above
    positive_part.label, magnitude.label, softplus.label = "relu(z)", "|z|", "softplus(z)"
    return softplus - _as_value(label, "binary_cross_entropy", label="y") * z


def bce_with_logits_loss(logits: Sequence[Value], labels: Sequence[Value | Number]) -> Value:
    """Mean over the batch of binary_cross_entropy(z, y) (PyTorch's BCEWithLogitsLoss)."""
    _check_same_length(logits, labels, "bce_with_logits_loss")
    return mean([binary_cross_entropy(z, y) for z, y in zip(logits, labels)])


# --- multi-class classification --------------------------------------------


def _checked_class_targets(targets: Sequence[Value | Number], classes: int) -> list[Value | float]:
    """One target per class: Values as they are, numbers as floats that must be probabilities."""
    targets = list(targets)
    if len(targets) != classes:
        raise ValueError(
            f"softmax_cross_entropy: got {len(targets)} targets for {classes} logits; "
            "give a class index or one target probability per class"
        )
    numbers_only = [t for t in targets if not isinstance(t, Value)]
    if any(not isinstance(t, numbers.Real) for t in numbers_only):
        raise TypeError(f"softmax_cross_entropy: targets must be numbers or Values, got {targets!r}")
    if len(numbers_only) == classes and (
        any(not t >= 0.0 for t in numbers_only) or not math.isclose(sum(numbers_only), 1.0, abs_tol=1e-9)
    ):
        raise ValueError(
            f"softmax_cross_entropy: target probabilities must be >= 0 and sum to 1, got {targets!r}"
        )
    return [t if isinstance(t, Value) else float(t) for t in targets]


def softmax_cross_entropy(logits: Sequence[Value], label: int | Sequence[Value | Number]) -> Value:
    """-log softmax(z)[y] = log(sum_k e**z_k) - z_y for logits z and class index y.

    Stable form: with m = max_k z_k (computed with Value operations),

        log(sum_k e**z_k) - z_y = log(sum_k e**(z_k - m)) - (z_y - m)

    Every z_k - m is <= 0 (up to rounding in m), so no exponential overflows,
    and the sum is about 1 or more (the largest term is e**0), so the log is
    finite. The result does
    not depend on m, so neither does the gradient: the paths through m cancel.

    ``label`` may also be one target probability per class, t (one-hot, as
    a training loop with placeholder targets passes it); the loss is then
    sum_k t_k * (log(sum_j e**z_j) - z_k).
    """
    logits = [_as_value(z, "softmax_cross_entropy(logits)") for z in logits]
    if len(logits) < 2:
        raise ValueError(f"softmax_cross_entropy: needs at least 2 logits (one per class), got {len(logits)}")
    if isinstance(label, numbers.Integral) and not isinstance(label, bool):
        if not 0 <= label < len(logits):
            raise ValueError(
                f"softmax_cross_entropy: label {label!r} is out of range for {len(logits)} classes; "
                f"use a class index from 0 to {len(logits) - 1}"
            )
        targets = None
    elif hasattr(label, "__len__") and not isinstance(label, (str, bytes)):  # a list, tuple or array
        targets = _checked_class_targets(label, len(logits))
    else:
        raise TypeError(
            f"softmax_cross_entropy: label must be an int class index or a list of target "
            f"probabilities, got {label!r} of type {type(label).__name__}"
        )
    largest = Value.max(logits)
    shifted = [z - largest for z in logits]
    log_sum = Value.sum([s.exp() for s in shifted]).log()
    largest.label, log_sum.label = "max(z)", "log sum exp"  # so that a drawn graph reads as the formula above
    if targets is None:
        return log_sum - shifted[label]
    return Value.sum([t * (log_sum - s) for t, s in zip(targets, shifted)])


def softmax_cross_entropy_loss(
    logit_rows: Sequence[Sequence[Value]], labels: Sequence[int | Sequence[Value | Number]]
) -> Value:
    """Mean over the batch of softmax_cross_entropy(row, label) (PyTorch's CrossEntropyLoss)."""
    _check_same_length(logit_rows, labels, "softmax_cross_entropy_loss")
    return mean([softmax_cross_entropy(row, y) for row, y in zip(logit_rows, labels)])


# --- regularization --------------------------------------------------------


def l2_penalty(parameters: Sequence[Value], alpha: float) -> Value:
    """alpha * sum_i p_i**2: the L2 penalty as a term of the graph, for a training loop of your own.

    Its gradient is 2*alpha*p, exactly what an optimizer's ``weight_decay`` of
    2*alpha adds to every gradient; ``train(l2=...)`` takes that cheaper road.
    """
    if not isinstance(alpha, numbers.Real):
        raise TypeError(f"l2_penalty: alpha must be a number, got {alpha!r}")
    if not alpha >= 0.0:
        raise ValueError(f"l2_penalty: alpha must be >= 0, got {alpha!r}")
    squares = [p * p for p in parameters]
    if not squares:
        return Value(0.0)  # an empty sum
    return float(alpha) * Value.sum(squares)


# --- the losses by name ------------------------------------------------------


def _plus_minus_one(labels: np.ndarray, outputs: int) -> list[np.ndarray]:
    return [2.0 * labels - 1.0]  # classes {0, 1} -> targets {-1, +1}


def _zero_one(labels: np.ndarray, outputs: int) -> list[np.ndarray]:
    return [labels.astype(float)]


def _one_hot(labels: np.ndarray, outputs: int) -> list[np.ndarray]:
    return [(labels == k).astype(float) for k in range(outputs)]


@dataclass(frozen=True)
class Loss:
    """One loss, as ``LOSSES`` keeps it for training, evaluation, the report and the demos.

    ``function`` is the per-sample graph; ``targets(labels, outputs)`` turns class labels into the
    target columns it reads; ``per_class``: one output per class (the largest wins), not one score.
    """

    name: str  # as train(loss=...) takes it
    title: str  # in words, for pictures
    function: Callable[..., Value]
    targets: Callable[[np.ndarray, int], list[np.ndarray]]
    per_class: bool = False
    at_zero: str = ""  # what a loss of exactly 0 says about a sample, for a picture that shows one

    def sample(self, output: Value | list[Value], targets: Sequence[Value | Number]) -> Value:
        """The loss of one sample: the model's output and that sample's entry of each target column."""
        return self.function(output, list(targets)) if self.per_class else self.function(output, targets[0])

    def sample_targets(self, label: int, outputs: int) -> list[float]:
        """The targets of one sample of class ``label``."""
        return [float(column[0]) for column in self.targets(np.array([label]), outputs)]

    def predict(self, scores: np.ndarray) -> np.ndarray:
        """Class labels from the model's outputs, shape (n, outputs)."""
        return np.argmax(scores, axis=1) if self.per_class else (scores[:, 0] > 0).astype(np.int64)

    def classes(self, outputs: int, caller: str) -> int:
        """How many classes a model with ``outputs`` outputs tells apart; ValueError if it does not fit."""
        if not (outputs >= 2 if self.per_class else outputs == 1):
            needed = "one output per class" if self.per_class else "one output"
            raise ValueError(f"{caller}: the {self.name} loss needs a model with {needed}, this one has {outputs}")
        return outputs if self.per_class else 2


LOSSES: dict[str, Loss] = {loss.name: loss for loss in (
    Loss("hinge", "hinge loss max(0, 1 - y*score)", hinge, _plus_minus_one,
         at_zero="each is classified beyond the margin: y*score >= 1"),
    Loss("mse", "squared error (score - y)**2", squared_error, _plus_minus_one,
         at_zero="each score equals its target exactly"),
    Loss("bce", "binary cross-entropy on the logit", binary_cross_entropy, _zero_one),
    Loss("softmax", "softmax cross-entropy", softmax_cross_entropy, _one_hot, per_class=True),
)}
LOSS_NAMES = tuple(LOSSES)
PER_SAMPLE_LOSSES: dict[str, Callable[..., Value]] = {name: loss.function for name, loss in LOSSES.items()}


def find_loss(name: str, caller: str) -> Loss:
    """``LOSSES[name]``, or a ValueError from ``caller`` that lists the names."""
    if name not in LOSSES:
        raise ValueError(f"{caller}: unknown loss {name!r}; choose one of {', '.join(LOSS_NAMES)}")
    return LOSSES[name]


def default_loss(outputs: int) -> Loss:
    """micrograd's hinge for a model with one output, softmax cross-entropy for one output per class."""
    return LOSSES["softmax" if outputs > 1 else "hinge"]
