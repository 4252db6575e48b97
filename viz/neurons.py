"""What every neuron computes: its output over the whole input plane, layer by layer.

For a network with two inputs, each neuron is a function of the point
(x1, x2), so it can be drawn as an image. ``neuron_maps`` draws one tile
per neuron, one block per layer, and the story of a deep network shows:

- a first-layer ReLU neuron is ``relu(w1*x1 + w2*x2 + b)``: a straight line
  across the plane, zero on one side and rising on the other;
- a neuron in the next layer adds such ramps up and cuts again, so it draws
  corners and bands;
- the output combines those into the curved shape that separates the classes.

Early layers draw simple features, later ones compose them into abstractions.
A wide layer wraps onto several rows of at most ``TILES_PER_ROW`` tiles, so
that a tile stays large enough to read. The picture carries its own key: what
the colours, the dots, the number under a tile and a dark-red title mean.
All neurons are evaluated over the grid at once with ``nn.evaluate.layer_outputs``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure, SubFigure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from nn.evaluate import layer_outputs
from nn.module import MLP, Layer
from viz.health import DEAD
from viz.style import (
    NEGATIVE,
    POSITIVE,
    SIGNED_CMAP,
    ZERO,
    InputPlane,
    check_two_inputs,
    class_color,
    class_colors,
    input_plane,
    new_figure,
    save,
)

__all__ = ["neuron_maps", "TILES_PER_ROW", "TILE_INCHES"]

TILES_PER_ROW = 8  # a wider layer wraps: 8 tiles of TILE_INCHES fit a page (and the report) unshrunk
TILE_INCHES = 1.05  # the width of one tile: 126 px in a saved PNG, 115 px in the report
MIN_COLUMNS = 6
KEY_INCHES = 1.0  # the title and the key of colours above the tiles
LAYER_HEADER_INCHES = 0.3  # each layer's heading
TILE_TEXT_INCHES = 0.38  # a tile's title above it and its scale below it


def neuron_maps(
    model: MLP,
    X: np.ndarray | None = None,
    y: np.ndarray | None = None,
    resolution: int = 80,
    path: str | Path | None = None,
) -> Figure:
    """One tile per neuron (titled like "L1.N3") of its output over the input plane, a block per layer.

    Each tile has its own colour scale centred on zero (blue positive,
    orange negative, grey zero), so the *shape* of every neuron shows even
    where its values are small; the number under a tile is that scale, its
    largest |output| over the plane. A dark-red title and "0 everywhere"
    mark a neuron that is zero over the whole plane. The points ``X``
    (coloured by class ``y`` when given) are drawn faintly on top, and set
    the extent of the plane. A layer wider than ``TILES_PER_ROW`` wraps.
    """
    check_two_inputs(model, "neuron_maps")
    plane = input_plane(X, resolution)
    outputs = layer_outputs(model, plane.points)
    left, right, bottom, top = plane.extent
    tile_height = TILE_INCHES * min(max((top - bottom) / (right - left), 0.5), 2.0)
    rows = [-(-layer.nout // TILES_PER_ROW) for layer in model.layers]  # ceiling division
    heights = [KEY_INCHES] + [LAYER_HEADER_INCHES + r * (tile_height + TILE_TEXT_INCHES) for r in rows]
    # at least MIN_COLUMNS wide, so that the key and the headings fit above a narrow network's tiles
    columns = max(min(max(layer.nout for layer in model.layers), TILES_PER_ROW), MIN_COLUMNS)
    figure = new_figure(columns * TILE_INCHES + 0.5, sum(heights) + 0.2)
    key, *blocks = figure.subfigures(len(heights), 1, height_ratios=heights)
    _draw_key(key, y, any_dead=any(np.all(layer_output == 0.0, axis=0).any() for layer_output in outputs))
    for index, (block, layer, layer_output) in enumerate(zip(blocks, model.layers, outputs)):
        block.suptitle(_layer_heading(model, index), fontsize=9, x=0.01, ha="left")
        grid = block.add_gridspec(rows[index], columns)
        for j in range(layer.nout):
            ax = block.add_subplot(grid[j // TILES_PER_ROW, j % TILES_PER_ROW])
            _draw_tile(ax, plane, plane.image(layer_output[:, j]), layer.neurons[j].label, X, y)
    if path is not None:
        save(figure, path)
    return figure


def _layer_heading(model: MLP, index: int) -> str:
    """What the neurons of layer ``index`` compute, in words."""
    layer: Layer = model.layers[index]
    count = f"{layer.nout} neuron{'s' if layer.nout > 1 else ''}"
    source = "x1 and x2" if index == 0 else f"the outputs of {model.layers[index - 1].label}"
    if index == len(model.layers) - 1:
        if layer.nout == 1:
            return f"{layer.label}, the output ({layer.activation}): the score, a weighted sum of {source}"
        classes = ", ".join(f"N{k + 1} for class {k}" for k in range(layer.nout))
        return (f"{layer.label}, the output ({layer.activation}): one score per class ({classes}), "
                f"each a weighted sum of {source}")
    return f"{layer.label} ({layer.activation}): {count}, each {layer.activation} of a weighted sum of {source}"


def _draw_tile(ax: Axes, plane: InputPlane, image: np.ndarray, label: str,
               X: np.ndarray | None, y: np.ndarray | None) -> None:
    """One neuron's output on its own symmetric colour scale, the points on top, its scale written below."""
    largest = float(np.max(np.abs(image)))
    limit = largest if largest > 0 else 1.0  # an all-zero neuron is drawn grey
    ax.imshow(image, origin="lower", extent=plane.extent, cmap=SIGNED_CMAP, vmin=-limit, vmax=limit,
              interpolation="bilinear")
    if X is not None:
        points = np.asarray(X, dtype=float)
        colors = class_colors(y) if y is not None else np.full((len(points), 3), 0.2)
        ax.scatter(points[:, 0], points[:, 1], s=5, c=colors, alpha=0.6, edgecolors="#2b2b2b", linewidths=0.3)
        ax.set_xlim(plane.xs[0], plane.xs[-1])
        ax.set_ylim(plane.ys[0], plane.ys[-1])
    ax.set_xticks([])
    ax.set_yticks([])
    dead = largest == 0.0
    ax.set_title(label, fontsize=8, pad=2, color=DEAD if dead else "black")
    ax.set_xlabel("0 everywhere" if dead else f"|out| \u2264 {largest:.2g}", fontsize=7, labelpad=2,
                  color=DEAD if dead else "#3d4a54")


def _draw_key(key: SubFigure, y: np.ndarray | None, any_dead: bool) -> None:
    """The title, and a legend of every colour and mark the tiles use: colours on one row, points below."""
    key.suptitle("Every neuron's output over the input plane (x1 across, x2 up),\n"
                 "each tile on its own colour scale: from \u2212 to + the number under it",
                 fontsize=9.5, linespacing=1.3, x=0.01, ha="left")  # left, as the tiles and headings start
    colours = [
        Patch(facecolor=POSITIVE, label="output > 0"),
        Patch(facecolor=ZERO, edgecolor="#b0b6ba", label="output 0"),
        Patch(facecolor=NEGATIVE, label="output < 0"),
    ]
    if any_dead:
        colours.append(Patch(facecolor=ZERO, edgecolor=DEAD, linewidth=2, label="dark-red title: 0 on the whole plane"))
    rows = [colours]
    if y is not None:
        rows.append([Line2D([], [], marker="o", linestyle="", markersize=5, markerfacecolor=class_color(k),
                            markeredgecolor="#2b2b2b", markeredgewidth=0.3, label=f"class {k} training point")
                     for k in range(int(np.max(y)) + 1)])
    for number, handles in enumerate(rows):
        key.legend(handles=handles, loc="lower left", bbox_to_anchor=(0.0, 0.36 - 0.27 * number),
                   ncol=len(handles), fontsize=8, frameon=False, handlelength=1.4, columnspacing=1.6,
                   borderaxespad=0.0, borderpad=0.1)
