"""Feature visualisation: asking the network which inputs matter, with its own gradients.

Backpropagation usually answers "how should each *weight* change to lower
the loss?". The same chain rule, run one step further, answers "how does a
neuron change when the *input* changes?". Two pictures use that:

- ``saliency_map``: the gradient of one neuron (the output by default)
  with respect to the input, over the whole plane. Its length says how
  sensitive the neuron is at that point, its direction which way the input
  must move to raise the neuron most. For a ReLU network it is constant on
  each of the polygons its kinks cut the plane into.
- ``excite_neuron``: gradient *ascent* on the input. Start at a point, run
  the scalar engine forward to the neuron, call ``backward``, move the point
  a little along the input's gradient, repeat: the point climbs to where
  the neuron fires most (inside a box, since a ReLU can grow forever).
  ``plot_excitation`` draws the climb over the neuron's map.

Layers and neurons are counted from 0 here, as in ``nn.evaluate``
(``layer=-1`` is the output layer); titles show the 1-based label ("L2.N3").
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from engine import Value
from nn.evaluate import input_gradients, layer_index, layer_outputs
from nn.module import MLP
from viz.style import (
    SIGNED_CMAP,
    check_two_inputs,
    class_colors,
    figure_and_axes,
    finish_plane_axes,
    input_plane,
    save,
)

__all__ = ["saliency_map", "excite_neuron", "plot_excitation", "neuron_label"]

SALIENCY_CMAP = "Purples"


def neuron_label(model: MLP, layer: int, neuron: int) -> str:
    """The neuron's name as its parameters carry it, e.g. "L2.N3" for layer 1, neuron 2 (from 0)."""
    return model.layers[layer_index(model, layer, neuron)].neurons[neuron].label


def _faint_points(ax: Axes, X: np.ndarray | None, y: np.ndarray | None) -> None:
    if X is None:
        return
    X = np.asarray(X, dtype=float)
    colors = class_colors(y) if y is not None else np.full((len(X), 3), 0.2)
    ax.scatter(X[:, 0], X[:, 1], s=12, c=colors, alpha=0.7, edgecolors="#2b2b2b", linewidths=0.4, zorder=2)


def saliency_map(
    model: MLP,
    X: np.ndarray | None = None,
    y: np.ndarray | None = None,
    neuron: tuple[int, int] = (-1, 0),
    resolution: int = 60,
    arrows: int = 15,
    ax: Axes | None = None,
    path: str | Path | None = None,
) -> Figure:
    """|d neuron / d input| over the plane as an image, with arrows along the gradient on a coarser grid.

    ``neuron`` is (layer, index), counted from 0; the default is the first
    output. The image over ``input_plane(X, resolution)`` holds the length
    of ``nn.evaluate.input_gradients`` at each grid point; an arrow points
    where the input should move to raise the neuron fastest, and is longer
    where the neuron is more sensitive (no arrow: the neuron is flat there).
    """
    check_two_inputs(model, "saliency_map")
    layer, index = neuron
    label = neuron_label(model, layer, index)
    plane = input_plane(X, resolution)
    gradients = input_gradients(model, plane.points, layer, index)
    magnitude = plane.image(np.linalg.norm(gradients, axis=1))
    fig, ax = figure_and_axes(ax, 6.0, 4.6)
    shown = ax.imshow(magnitude, origin="lower", extent=plane.extent, cmap=SALIENCY_CMAP, aspect="auto",
                      interpolation="nearest")
    colorbar = fig.colorbar(shown, ax=ax, shrink=0.85)
    colorbar.set_label(f"|gradient of {label} w.r.t. the input|")

    coarse = input_plane(X, arrows)
    coarse_gradients = input_gradients(model, coarse.points, layer, index)
    largest = float(np.max(np.linalg.norm(coarse_gradients, axis=1)))
    if largest > 0:
        cell = min(coarse.xs[1] - coarse.xs[0], coarse.ys[1] - coarse.ys[0])
        arrows_scaled = coarse_gradients / largest * 0.85 * cell  # the longest arrow spans most of a cell
        ax.quiver(coarse.points[:, 0], coarse.points[:, 1], arrows_scaled[:, 0], arrows_scaled[:, 1],
                  angles="xy", scale_units="xy", scale=1.0, color="#222222", width=0.004, zorder=3)
    _faint_points(ax, X, y)
    finish_plane_axes(ax, plane, f"Saliency of {label}: where and which way the input matters")
    if path is not None:
        save(fig, path)
    return fig


def _neuron_output(model: MLP, inputs: list[Value], last_layer: int, neuron: int) -> Value:
    """Run the model's layers up to ``last_layer`` on ``inputs`` and return one neuron's output."""
    values: list[Value] = inputs
    for layer in model.layers[: last_layer + 1]:
        values = layer(values)
    return values[neuron]


def _box_bounds(box: tuple, nin: int) -> tuple[np.ndarray, np.ndarray]:
    low = np.broadcast_to(np.asarray(box[0], dtype=float), (nin,)).copy()
    high = np.broadcast_to(np.asarray(box[1], dtype=float), (nin,)).copy()
    if np.any(low >= high):
        raise ValueError(f"box: every lower bound must be below its upper bound, got {box!r}")
    return low, high


def _random_responsive_start(
    model: MLP, layer: int, neuron: int, low: np.ndarray, high: np.ndarray, seed: int
) -> np.ndarray:
    """A random point in the box where the neuron's gradient is not zero, so that the climb can start.

    A ReLU neuron is flat wherever it is 0; starting there, gradient ascent
    would never move. Draws candidates from ``seed`` and keeps the first
    responsive one (or the first of all, if the neuron is flat everywhere).
    """
    candidates = np.random.default_rng(seed).uniform(low, high, size=(64, len(low)))
    slopes = np.linalg.norm(input_gradients(model, candidates, layer, neuron), axis=1)
    responsive = np.flatnonzero(slopes > 0)
    return candidates[responsive[0] if len(responsive) else 0]


def excite_neuron(
    model: MLP,
    layer: int,
    neuron: int,
    steps: int = 100,
    lr: float = 0.1,
    start: Sequence[float] | np.ndarray | None = None,
    seed: int = 0,
    box: tuple = (-3.0, 3.0),
) -> tuple[np.ndarray, np.ndarray]:
    """Gradient ascent on the input to make one neuron fire: returns (path, activations).

    Each step builds the input as leaf Values, runs the model forward to
    neuron ``neuron`` of layer ``layer`` (both from 0) with the scalar
    engine, calls ``backward``, and moves the point by ``lr`` times the
    input's gradient, then clips it to ``box`` = (low, high), each a number
    or one bound per input. ``start`` defaults to a random point of the box
    (from ``seed``) where the neuron responds. ``path`` has shape
    (steps + 1, nin), ``activations`` (steps + 1,): the neuron's output at
    each point. The parameters' ``grad`` are restored afterwards.
    """
    index = layer_index(model, layer, neuron)
    if not isinstance(steps, int) or steps < 0:
        raise ValueError(f"excite_neuron: steps must be a non-negative int, got {steps!r}")
    low, high = _box_bounds(box, model.nin)
    if start is None:
        point = _random_responsive_start(model, index, neuron, low, high, seed)
    else:
        point = np.asarray(start, dtype=float).reshape(model.nin)
    point = np.clip(point, low, high)

    parameters = model.parameters()
    saved_grads = [p.grad for p in parameters]
    path, activations = [], []
    try:
        for step in range(steps + 1):
            inputs = [Value(float(v), label=f"x{i + 1}") for i, v in enumerate(point)]
            output = _neuron_output(model, inputs, index, neuron)
            path.append(point)
            activations.append(output.data)
            if step == steps:
                break
            output.backward()  # d output / d input lands in each input's grad
            climb = np.array([v.grad for v in inputs])
            point = np.clip(point + lr * climb, low, high)
    finally:
        for p, grad in zip(parameters, saved_grads):
            p.grad = grad
    return np.array(path), np.array(activations)


def plot_excitation(
    model: MLP,
    layer: int,
    neuron: int,
    X: np.ndarray | None = None,
    y: np.ndarray | None = None,
    steps: int = 100,
    lr: float = 0.1,
    start: Sequence[float] | np.ndarray | None = None,
    seed: int = 0,
    resolution: int = 80,
    ax: Axes | None = None,
    path: str | Path | None = None,
) -> Figure:
    """The neuron's map over the plane with the climb of ``excite_neuron`` on it.

    The box of the climb is the drawn plane (around ``X``, or [-2, 2]^2).
    A circle marks the start, a star the point that excites the neuron most.
    """
    check_two_inputs(model, "plot_excitation")
    index = layer_index(model, layer, neuron)
    label = neuron_label(model, layer, neuron)
    plane = input_plane(X, resolution)
    low, high = np.array([plane.xs[0], plane.ys[0]]), np.array([plane.xs[-1], plane.ys[-1]])
    climb, activations = excite_neuron(model, index, neuron, steps, lr, start, seed, box=(low, high))

    fig, ax = figure_and_axes(ax, 6.0, 4.6)
    image = plane.image(layer_outputs(model, plane.points)[index][:, neuron])
    limit = float(np.max(np.abs(image))) or 1.0
    shown = ax.imshow(image, origin="lower", extent=plane.extent, cmap=SIGNED_CMAP, vmin=-limit, vmax=limit,
                      aspect="auto", interpolation="bilinear")
    fig.colorbar(shown, ax=ax, shrink=0.85).set_label(f"output of {label}")
    _faint_points(ax, X, y)
    ax.plot(climb[:, 0], climb[:, 1], color="white", linewidth=3.2, zorder=3)
    ax.plot(climb[:, 0], climb[:, 1], color="#222222", linewidth=1.4, marker=".", markersize=4, zorder=4)
    best = int(np.argmax(activations))
    ax.plot(*climb[0], marker="o", markersize=9, markerfacecolor="white", markeredgecolor="#222222", zorder=5,
            clip_on=False, linestyle="", label=f"start: {activations[0]:.2f}")
    ax.plot(*climb[best], marker="*", markersize=17, markerfacecolor="#ffd21f", markeredgecolor="#222222",
            zorder=5, clip_on=False, linestyle="", label=f"most excited: {activations[best]:.2f}")
    ax.legend(loc="best", fontsize=8, framealpha=0.9)
    finish_plane_axes(ax, plane, f"Gradient ascent on the input excites {label} ({steps} steps)")
    if path is not None:
        save(fig, path)
    return fig
