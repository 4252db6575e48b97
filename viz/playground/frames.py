"""What turns a model's state into the parts of a frame's JSON.

A frame's pictures are one replay of the model's recorded graph over a
100x100 grid of the plane (``nn.layer_outputs``, called by the session): the
decision boundary (``boundary``), and every neuron's output at every other grid
point: 50x50 (``neuron_maps``). Pixels travel as base64 of uint8 bytes, so a
frame stays small enough to send 20 or more times a second.

- The curves (``Curves``) keep loss and accuracy after each step, thinned by
  halves as a run grows, and a frame carries at most ``CURVE_POINTS`` of them.
- The network's ``weight_grads`` and ``bias_grads`` (``network``) are the last
  step's batch gradient of the mean data loss (the l2 term acts as weight decay,
  so it is not in them); ``values`` are per model layer, the inputs being the
  point itself.
- JSON has no NaN or infinity: such a figure is sent as null (``finite_or_none``).
"""

from __future__ import annotations

import base64
import math

import numpy as np

from nn.evaluate import softmax_rows
from nn.losses import LOSSES
from nn.module import MLP
from viz.playground.settings import GRID_SIZE, MAP_STEP

CURVE_POINTS = 400  # at most this many points per curve in a frame


class Curves:
    """Loss and accuracy after each step, thinned by halves so that a long run stays small."""

    KEYS = ("step", "loss", "test_loss", "accuracy", "test_accuracy")

    def __init__(self) -> None:
        self.columns: dict[str, list] = {key: [] for key in self.KEYS}
        self.every = 1  # one point kept per `every` steps

    def add(self, step: int, figures: dict) -> None:
        """The figures at ``step``; a second measurement at the same step (new data, new weights) replaces the first."""
        if self.columns["step"] and self.columns["step"][-1] == step:
            for column in self.columns.values():
                column.pop()
        elif step % self.every:
            return
        for key in self.KEYS:
            self.columns[key].append(step if key == "step" else figures[key])
        if len(self.columns["step"]) >= 2 * CURVE_POINTS:  # full: keep every other point, from now on too
            self.every *= 2
            kept = [i for i, step in enumerate(self.columns["step"]) if step % self.every == 0]
            self.columns = {key: [column[i] for i in kept] for key, column in self.columns.items()}

    def thinned(self) -> dict:
        """At most CURVE_POINTS points per curve, evenly spread, the latest kept one included."""
        count = len(self.columns["step"])
        if count <= CURVE_POINTS:
            return {key: list(column) for key, column in self.columns.items()}
        chosen = np.linspace(0, count - 1, CURVE_POINTS).round().astype(int)
        return {key: [column[i] for i in chosen] for key, column in self.columns.items()}


def network(model: MLP, batch_grads: list[float], values: list[list[float]] | None) -> dict:
    """Weights, biases, the last step's batch gradients (in ``model.parameters()`` order), and ``values``."""
    grads = iter(batch_grads)
    weights, biases, weight_grads, bias_grads = [], [], [], []
    for layer in model.layers:
        weights.append([[w.data for w in neuron.w] for neuron in layer.neurons])
        biases.append([neuron.b.data for neuron in layer.neurons])
        layer_grads = [[next(grads) for _ in range(len(neuron.w) + 1)] for neuron in layer.neurons]
        weight_grads.append([g[:-1] for g in layer_grads])
        bias_grads.append([g[-1] for g in layer_grads])
    return {"sizes": list(model.sizes), "activation": model.activation, "weights": weights, "biases": biases,
            "weight_grads": weight_grads, "bias_grads": bias_grads, "values": values}


def finite_or_none(value: object) -> object:
    """JSON has no NaN or infinity: such a figure (or a missing one) is null."""
    return value if isinstance(value, (int, float)) and math.isfinite(value) else None


def _encode(pixels: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(pixels, dtype=np.uint8).tobytes()).decode("ascii")


def boundary(scores: np.ndarray, loss: str) -> dict:
    """The class of every grid pixel, and how sure the model is (0..255).

    Sure means: a score beyond the margin (|score| >= 1) for hinge and mse, a
    probability of 0 or 1 for bce (|2 sigmoid(score) - 1|), and for softmax the
    top probability, from 1/k (a tie of all classes) to 1.
    """
    found = LOSSES[loss]
    classes = found.predict(scores)
    if found.per_class:
        k = scores.shape[1]
        sure = (softmax_rows(scores).max(axis=1) - 1.0 / k) / (1.0 - 1.0 / k)
    elif loss == "bce":
        sure = np.abs(np.tanh(scores[:, 0] / 2))  # 2 sigmoid(s) - 1 = tanh(s / 2)
    else:
        sure = np.minimum(np.abs(scores[:, 0]), 1.0)
    confidence = np.nan_to_num(np.clip(sure, 0.0, 1.0) * 255.0).round()
    return {"size": GRID_SIZE, "pixels": _encode(classes), "confidence": _encode(confidence)}


def neuron_maps(outputs: list[np.ndarray]) -> list[dict]:
    """Every neuron's output over the plane at (GRID_SIZE / MAP_STEP)**2: 128 is 0, 0 and 255 are -+max|value|."""
    size = GRID_SIZE // MAP_STEP
    # every other grid point, picked out of each layer first: a quarter of the numbers to scale
    values = np.concatenate([layer[_MAP_POINTS] for layer in outputs], axis=1).T  # (neurons, size * size)
    with np.errstate(all="ignore"):
        largest = np.abs(values).max(axis=1, keepdims=True)
        scaled = np.nan_to_num(values / np.where(largest > 0, largest, 1.0))
    pixels = np.clip(np.where(scaled < 0, 128 + 128 * scaled, 128 + 127 * scaled).round(), 0, 255).astype(np.uint8)
    lows, highs = values.min(axis=1).tolist(), values.max(axis=1).tolist()
    maps, index = [], 0
    for layer, block in enumerate(outputs, start=1):
        for neuron in range(1, block.shape[1] + 1):
            maps.append({"layer": layer, "neuron": neuron, "size": size, "pixels": _encode(pixels[index]),
                         "low": finite_or_none(lows[index]), "high": finite_or_none(highs[index])})
            index += 1
    return maps


# The grid rows of a neuron map's pixels: every MAP_STEP-th point of every MAP_STEP-th grid row.
_MAP_POINTS = (np.arange(0, GRID_SIZE, MAP_STEP)[:, None] * GRID_SIZE
               + np.arange(0, GRID_SIZE, MAP_STEP)[None, :]).ravel()
