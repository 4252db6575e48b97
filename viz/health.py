"""Unit health: how often each hidden neuron sits on a flat part of its activation.

A neuron learns through the slope of its activation. Where that slope is
(almost) zero, no gradient flows back through the neuron, so neither its own
weights nor anything before it learns from that point:

- a ReLU outputs exactly 0 for a negative input, and its slope there is 0;
  that is normal on part of the data, but a ReLU that is 0 on *every* point
  is **dead**: it can never learn again;
- tanh beyond |out| > 0.97 and sigmoid below 0.03 or above 0.97 are
  **saturated**: their slope is under 0.06 and 0.03.

``unit_health`` measures the share of points on which each hidden neuron is
dead or saturated; ``plot_unit_health`` draws it, and
``viz.network.draw_mlp(model, health=...)`` puts it on the network diagram.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from nn.evaluate import layer_outputs
from nn.module import MLP
from viz.style import PAGE_WIDTH, new_figure, save

__all__ = ["SATURATION", "unit_health", "flat_points", "plot_unit_health", "share_color"]

# tanh is saturated beyond |out| > SATURATION; sigmoid below 1 - SATURATION or above SATURATION.
SATURATION = 0.97

UNHEALTHY = "#c0392b"
DEAD = "#641e16"


def flat_points(activation: str, outputs: np.ndarray) -> np.ndarray:
    """True where an ``activation`` unit with these outputs is dead (ReLU at 0) or saturated."""
    outputs = np.asarray(outputs)
    if activation == "relu":
        return outputs == 0.0
    if activation == "tanh":
        return np.abs(outputs) > SATURATION
    if activation == "sigmoid":
        return (outputs < 1.0 - SATURATION) | (outputs > SATURATION)
    return np.zeros(outputs.shape, dtype=bool)  # a linear unit always passes its gradient on


def unit_health(model: MLP, X: np.ndarray) -> list[np.ndarray]:
    """For each hidden layer, an array with each neuron's share of the points ``X`` where it is flat.

    A share of 1.0 on a ReLU layer is a dead neuron. The output layer is linear
    and never flat, so it has no entry: the list is one shorter than ``model.layers``.
    """
    outputs = layer_outputs(model, X)
    return [
        flat_points(layer.activation, layer_output).mean(axis=0)
        for layer, layer_output in zip(model.layers[:-1], outputs[:-1])
    ]


def check_health(model: MLP, health: list[np.ndarray]) -> list[np.ndarray]:
    """``health`` as float arrays, after checking it has one entry per hidden neuron of ``model``."""
    hidden = model.layers[:-1]
    if len(health) != len(hidden):
        raise ValueError(f"health has {len(health)} layers but {model!r} has {len(hidden)} hidden layers; "
                         f"make it with unit_health(model, X)")
    shares = [np.asarray(h, dtype=float) for h in health]
    for layer, share in zip(hidden, shares):
        if share.shape != (layer.nout,):
            raise ValueError(f"health for {layer.label} has shape {share.shape}, expected ({layer.nout},)")
    return shares


def share_color(share: float) -> str | tuple[float, float, float]:
    """Grey for a healthy unit, redder the larger its flat share, dark red for one flat everywhere."""
    if share >= 1.0:
        return DEAD
    grey, red = np.array([0.72, 0.77, 0.80]), np.array([0.75, 0.22, 0.17])
    return tuple(grey + share * (red - grey))


def plot_unit_health(model: MLP, health: list[np.ndarray], path: str | Path | None = None) -> Figure:
    """One bar per hidden neuron, one panel per hidden layer: the share of points where it is flat.

    ``health`` is ``unit_health(model, X)``. Bars at 100% are neurons that
    are dead (or saturated) on every point; they are drawn darkest and marked.
    """
    shares = check_health(model, health)
    hidden = model.layers[:-1]
    widest = max((layer.nout for layer in hidden), default=1)
    # at most a page wide, so that a report shows it unshrunk: a 32-wide layer gets narrower bars
    fig = new_figure(min(max(6.0, 0.42 * widest + 1.5), PAGE_WIDTH), 0.3 + 2.1 * max(1, len(hidden)))
    if not hidden:
        ax = fig.add_subplot()
        ax.axis("off")
        ax.text(0.5, 0.5, "this model has no hidden layer", ha="center", va="center")
        return fig
    axes = fig.subplots(len(hidden), 1, squeeze=False)[:, 0]
    for ax, layer, share in zip(axes, hidden, shares):
        positions = np.arange(1, layer.nout + 1)
        ax.bar(positions, share, color=[share_color(s) for s in share], edgecolor="white", width=0.8)
        for position, value in zip(positions, share):
            if value >= 1.0:
                ax.text(position, 1.02, "dead" if layer.activation == "relu" else "stuck",
                        ha="center", va="bottom", fontsize=7, color=DEAD)
        ax.set_xticks(positions, [f"N{j}" for j in positions], fontsize=8 if layer.nout <= 20 else 6.5)
        ax.set_xlim(0.4, layer.nout + 0.6)
        ax.set_ylim(0.0, 1.15)
        ax.set_yticks([0.0, 0.5, 1.0], ["0%", "50%", "100%"])
        ax.grid(axis="y", alpha=0.3)
        flat = "at 0 (dead there)" if layer.activation == "relu" else "saturated"
        if layer.activation == "linear":
            flat = "flat (never, a linear unit)"
        gone = int(np.sum(share >= 1.0))
        ax.set_title(f"{layer.label} ({layer.activation}): share of points where each unit is {flat}"
                     f"; {gone} of {layer.nout} units on every point", fontsize=9, loc="left")
    if path is not None:
        save(fig, path)
    return fig
