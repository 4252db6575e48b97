"""What every neuron computes: its output over the whole input plane, layer by layer.

For a network with two inputs, each neuron is a function of the point
(x1, x2), so it can be drawn as an image. ``neuron_maps`` draws one small
image per neuron, one row per layer, and the story of a deep network shows:

- a first-layer ReLU neuron is ``relu(w1*x1 + w2*x2 + b)``: a straight line
  across the plane, zero on one side and rising on the other;
- a neuron in the next layer adds such ramps up and cuts again, so it draws
  corners and bands;
- the output combines those into the curved shape that separates the classes.

Early layers draw simple features, later ones compose them into abstractions.
All neurons are evaluated over the grid at once with ``nn.evaluate.layer_outputs``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from nn.evaluate import layer_outputs
from nn.module import MLP
from viz.health import DEAD
from viz.style import SIGNED_CMAP, check_two_inputs, class_colors, input_plane, new_figure, save

__all__ = ["neuron_maps"]


def neuron_maps(
    model: MLP,
    X: np.ndarray | None = None,
    y: np.ndarray | None = None,
    resolution: int = 80,
    path: str | Path | None = None,
) -> Figure:
    """One image per neuron (titled like "L1.N3") of its output over the input plane, one row per layer.

    Each image has its own colour scale centred on zero (blue positive,
    orange negative, grey zero), so the *shape* of every neuron shows even
    where its values are small; a title in dark red marks a neuron that is
    zero over the whole plane. The points ``X`` (coloured by ``y`` when
    given) are drawn faintly on top, and set the extent of the plane.
    """
    check_two_inputs(model, "neuron_maps")
    plane = input_plane(X, resolution)
    outputs = layer_outputs(model, plane.points)
    widths = [layer.nout for layer in model.layers]
    widest = max(widths)
    tile = 1.05 if widest <= 12 else 0.9  # inches
    left, right, bottom, top = plane.extent
    tile_height = tile * min(max((top - bottom) / (right - left), 0.5), 2.0)
    fig = new_figure(widest * tile + 0.6, len(widths) * (tile_height + 0.3) + 0.6)
    grid = fig.add_gridspec(len(widths), widest)
    if X is not None:
        points = np.asarray(X, dtype=float)
        colors = class_colors(y) if y is not None else np.full((len(points), 3), 0.2)

    for row, (layer, layer_output) in enumerate(zip(model.layers, outputs)):
        for j in range(layer.nout):
            ax = fig.add_subplot(grid[row, j])
            image = plane.image(layer_output[:, j])
            largest = float(np.max(np.abs(image)))
            limit = largest if largest > 0 else 1.0  # an all-zero neuron is drawn grey
            ax.imshow(image, origin="lower", extent=plane.extent, cmap=SIGNED_CMAP, vmin=-limit, vmax=limit,
                      interpolation="bilinear")
            if X is not None:
                ax.scatter(points[:, 0], points[:, 1], s=5, c=colors, alpha=0.6, edgecolors="#2b2b2b", linewidths=0.3)
                ax.set_xlim(plane.xs[0], plane.xs[-1])
                ax.set_ylim(plane.ys[0], plane.ys[-1])
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(layer.neurons[j].label, fontsize=8, pad=2, color=DEAD if largest == 0.0 else "black")
            if j == 0:
                ax.set_ylabel(f"{layer.label}: {layer.activation}", fontsize=8)
    fig.suptitle(
        "Every neuron's output over the input plane, layer by layer "
        "(blue positive, orange negative, grey zero; each tile on its own scale)",
        fontsize=10,
    )
    if path is not None:
        save(fig, path)
    return fig
