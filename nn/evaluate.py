"""Evaluate a model on many points at once: outputs, hidden activations, input gradients, losses.

These are what pictures need (a decision boundary over a 200x200 grid, the
output of every hidden neuron over the input plane, a saliency map, the
training point with the largest loss), and what training measures. Each one
records the model's per-sample graph once with ``engine.batch.record`` and
replays it over all points with numpy; ``batched=False`` runs the scalar engine
point by point instead, which gives the same numbers much more slowly.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np

from engine import Value
from engine.batch import Recording, record
from nn.losses import Loss, default_loss, find_loss
from nn.module import MLP

__all__ = ["predict", "layer_outputs", "input_gradients", "classify", "softmax_rows", "layer_index", "as_points",
           "loss_recording", "loss_and_outputs", "Hardest", "find_hardest", "hardest_point", "sample_loss"]

# One recording per model and kind, reused while the model lives. Parameters
# are read afresh at every replay, so training between calls is fine.
_recordings: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def as_points(X: np.ndarray, nin: int, name: str = "X", caller: str = "predict") -> np.ndarray:
    """``X`` as a float array of shape (n, nin), refusing NaN and infinity up front.

    A NaN would pass silently through a network and into every gradient, so
    the first bad entry is named instead, by row and column.
    """
    try:
        points = np.asarray(X, dtype=float)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{caller}: {name} must be an array of numbers ({error})") from None
    if points.ndim != 2 or points.shape[1] != nin:
        raise ValueError(f"{caller}: {name} must have shape (n, {nin}), got {points.shape}")
    bad = ~np.isfinite(points)
    if bad.any():
        row, column = np.argwhere(bad)[0]
        raise ValueError(f"{caller}: {name} holds {points[row, column]} at row {row}, column {column}; "
                         "remove or replace missing and infinite values first")
    return points


def _all_neurons(model: MLP, inputs: list[Value]) -> list[Value]:
    """Run the model layer by layer and return every neuron's output, first layer first."""
    outputs: list[Value] = []
    x = inputs
    for layer in model.layers:
        x = layer(x)
        outputs.extend(x)
    return outputs


def _recording(model: MLP) -> Recording:
    cache = _recordings.setdefault(model, {})
    if "neurons" not in cache:
        cache["neurons"] = record(lambda *xs: _all_neurons(model, list(xs)), [0.0] * model.nin)
    return cache["neurons"]


def layer_outputs(model: MLP, X: np.ndarray, batched: bool = True) -> list[np.ndarray]:
    """Every neuron's output for every point: one array of shape (n, layer width) per layer."""
    X = as_points(X, model.nin, caller="layer_outputs")
    widths = [layer.nout for layer in model.layers]
    if batched:
        columns = _recording(model).forward(list(X.T))
        flat = np.stack(columns, axis=1) if columns else np.empty((len(X), 0))
    else:
        flat = np.array([[v.data for v in _all_neurons(model, [Value(float(a)) for a in row])] for row in X])
    splits = np.cumsum(widths)[:-1]
    return np.split(flat.reshape(len(X), sum(widths)), splits, axis=1)


def predict(model: MLP, X: np.ndarray, batched: bool = True) -> np.ndarray:
    """The model's outputs (scores or logits) for every point, shape (n, number of outputs)."""
    return layer_outputs(model, X, batched=batched)[-1]


def softmax_rows(scores: np.ndarray) -> np.ndarray:
    """Each row of scores (one per sample) turned into probabilities that add up to 1, shifted so no exp overflows."""
    shifted = np.exp(scores - scores.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def classify(model: MLP, X: np.ndarray, batched: bool = True) -> np.ndarray:
    """Predicted class labels: score > 0 for one output, the largest logit for several."""
    scores = predict(model, X, batched=batched)
    return default_loss(scores.shape[1]).predict(scores)


def layer_index(model: MLP, layer: int, neuron: int) -> int:
    """``layer`` as a non-negative index (``-1`` is the output layer), after checking that the neuron exists."""
    count = len(model.layers)
    if not -count <= layer < count or not 0 <= neuron < model.layers[layer].nout:
        raise IndexError(f"no neuron {neuron} in layer {layer} of {model!r} (both count from 0)")
    return layer % count


def input_gradients(model: MLP, X: np.ndarray, layer: int = -1, neuron: int = 0) -> np.ndarray:
    """d (output of one neuron) / d input, for every point: shape (n, nin).

    ``layer`` and ``neuron`` count from 0 (``layer=-1`` is the output layer).
    The parameters' ``grad`` are left untouched.
    """
    X = as_points(X, model.nin, caller="input_gradients")
    index = layer_index(model, layer, neuron)
    recording = _recording(model)
    recording.forward(list(X.T))
    position = sum(lay.nout for lay in model.layers[:index]) + neuron
    seeds = [0.0] * len(recording.outputs)
    seeds[position] = 1.0
    return np.stack(recording.backward(seeds, update_leaves=False), axis=1)


# --- losses ------------------------------------------------------------------


def loss_and_outputs(model: MLP, loss: Loss, inputs: list, targets: list) -> list[Value]:
    """One sample's graph: its loss, then the model's outputs."""
    output = model(inputs)
    outputs = output if isinstance(output, list) else [output]
    return [loss.sample(output, targets), *outputs]


def loss_recording(model: MLP, loss: Loss) -> Recording:
    """``loss_and_outputs`` recorded once, to replay over columns x1..xn, then the target columns t1..tk."""
    nin, example_targets = model.nin, loss.sample_targets(1, model.sizes[-1])
    example = [0.0] * nin + example_targets
    names = [f"x{i + 1}" for i in range(nin)] + [f"t{k + 1}" for k in range(len(example_targets))]
    return record(lambda *xs: loss_and_outputs(model, loss, list(xs[:nin]), list(xs[nin:])), example, names)


@dataclass(frozen=True)
class Hardest:
    """The training point a picture follows through the network, and what its loss says."""

    index: int  # its row in X
    loss: float  # its loss
    note: str  # "" when its loss is above 0; else why no training point sends a gradient back


def find_hardest(model: MLP, X: np.ndarray, y: np.ndarray, loss: str = "hinge") -> Hardest:
    """The point with the largest loss (one replay): its graph has gradients worth looking at.

    When every loss is 0 (a hinge loss, once every point is beyond the margin), no point
    sends any gradient back, and a picture of backward on one would show only zeros: the
    point returned is then the one nearest the decision boundary, and ``note`` says why
    its gradients are 0.
    """
    X, found = as_points(X, model.nin, caller="hardest_point"), find_loss(loss, "hardest_point")
    columns = loss_recording(model, found).forward(list(X.T) + found.targets(np.asarray(y), model.sizes[-1]))
    losses, scores = columns[0], np.stack(columns[1:], axis=1)
    index = int(np.argmax(losses))
    if losses[index] != 0.0:
        return Hardest(index, float(losses[index]), "")
    if scores.shape[1] == 1:
        distance = np.abs(scores[:, 0])  # one score: the boundary is where it is 0
    else:
        ordered = np.sort(scores, axis=1)  # one score per class: the boundary is where the top two tie
        distance = ordered[:, -1] - ordered[:, -2]
    reason = f" ({found.at_zero})" if found.at_zero else ""
    note = (f"Every training point has {found.name} loss 0{reason}, so none sends a gradient back; "
            "this is the one nearest the decision boundary.")
    return Hardest(int(np.argmin(distance)), 0.0, note)


def hardest_point(model: MLP, X: np.ndarray, y: np.ndarray, loss: str = "hinge") -> int:
    """The index of the point with the largest loss (``find_hardest``, which also says when every loss is 0)."""
    return find_hardest(model, X, y, loss).index


def sample_loss(model: MLP, x: np.ndarray, label: int, loss: str = "hinge") -> Value:
    """The scalar graph of one point's loss, labelled for a picture: inputs "x1", "x2", ..., target "y", root "loss".

    A per-class loss (softmax) reads the class index instead of one-hot targets: the
    same loss and gradients as training's, from fewer nodes.
    """
    found = find_loss(loss, "sample_loss")
    inputs = [Value(float(v), label=f"x{i + 1}") for i, v in enumerate(x)]
    if found.per_class:
        value = found.function(model(inputs), label)
    else:
        (target,) = found.sample_targets(label, model.sizes[-1])
        value = found.sample(model(inputs), [Value(target, label="y")])
    value.label = "loss"
    return value
