"""The network diagram: neurons in columns, every weight an edge, optionally one input flowing through.

``draw_mlp`` draws an ``nn.MLP`` the way TensorFlow Playground does:

- inputs on the left, then one column per layer, the output on the right;
- one line per weight, **blue when positive, orange when negative**, thicker
  and more opaque the larger the weight's magnitude (scaled to the largest
  weight in the network);
- each neuron's bias written inside it;
- given an input ``x``, every neuron filled with its output for that input
  (same colours: blue positive, orange negative, grey zero) with a colour bar,
  so you can watch the point flow forward through the network;
- given ``health=unit_health(model, X)``, an arc around each hidden neuron
  covering the share of the data on which it is dead or saturated, redder
  as the share grows (a full dark-red ring: dead on every point).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.collections import LineCollection
from matplotlib.colors import Normalize, to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Circle, Wedge

from nn.evaluate import layer_outputs
from nn.module import MLP
from viz.health import UNHEALTHY, check_health, share_color
from viz.style import NEGATIVE, POSITIVE, SIGNED_CMAP, figure_and_axes, save

__all__ = ["draw_mlp", "neuron_positions"]

COLUMN_GAP = 4.0  # horizontal distance between layers, in neuron spacings
RADIUS = 0.36  # of a neuron, in neuron spacings
INCHES_PER_UNIT = 0.42  # one neuron spacing on paper, for a network of normal size
MAX_HEIGHT = 11.0  # inches: taller networks are drawn smaller
HEADER = 52 / 72  # inches above the highest ring: the title and the column titles, 3 lines of text
BIAS_NUMBERS_UP_TO = 24  # neurons in the tallest column; beyond that the numbers would not fit


def neuron_positions(model: MLP) -> list[np.ndarray]:
    """The (x, y) centre of every neuron, one (width, 2) array per column, inputs first.

    Columns are ``COLUMN_GAP`` apart; neurons in a column are 1 apart, centred
    on y = 0, the first neuron at the top.
    """
    positions = []
    for column, width in enumerate(model.sizes):
        ys = (width - 1) / 2.0 - np.arange(width)
        positions.append(np.column_stack([np.full(width, column * COLUMN_GAP), ys]))
    return positions


def _weight_edges(model: MLP, positions: list[np.ndarray], largest: float) -> list[LineCollection]:
    """One LineCollection per layer holding one segment per weight, in the order neuron, then input."""
    collections = []
    for index, layer in enumerate(model.layers):
        sources, targets = positions[index], positions[index + 1]
        segments, colors, widths = [], [], []
        for j, neuron in enumerate(layer.neurons):
            for i, weight in enumerate(neuron.w):
                strength = abs(weight.data) / largest
                segments.append([(sources[i, 0] + RADIUS, sources[i, 1]), (targets[j, 0] - RADIUS, targets[j, 1])])
                colors.append(to_rgba(POSITIVE if weight.data > 0 else NEGATIVE, alpha=0.25 + 0.75 * strength))
                widths.append(0.25 + 4.0 * strength)
        collections.append(LineCollection(segments, colors=colors, linewidths=widths, zorder=1,
                                          label=f"{layer.label} weights"))
    return collections


def _health_ring(centre: np.ndarray, share: float) -> list[Wedge]:
    """A grey track around a neuron with a red arc over ``share`` of it, clockwise from the top."""
    outer, width = RADIUS * 1.38, RADIUS * 0.26
    ring = [Wedge(centre, outer, 0, 360, width=width, facecolor="#dde3e7", edgecolor="none", zorder=2)]
    if share > 0:
        ring.append(Wedge(centre, outer, 90 - 360 * share, 90, width=width, facecolor=share_color(share),
                          edgecolor="none", zorder=2))
    return ring


def _text_color(rgba: tuple[float, ...]) -> str:
    """Black on light fills, white on dark ones."""
    red, green, blue = rgba[:3]
    return "black" if 0.299 * red + 0.587 * green + 0.114 * blue > 0.55 else "white"


def _column_titles(model: MLP) -> list[str]:
    titles = [f"input\n{model.nin} values"]
    for index, layer in enumerate(model.layers):
        last = index == len(model.layers) - 1
        titles.append(f"{layer.label}: {layer.activation}" + ("\n(output)" if last else f"\n{layer.nout} neurons"))
    return titles


def _output_names(model: MLP) -> list[str]:
    outputs = model.sizes[-1]
    return ["score"] if outputs == 1 else [f"class {k}" for k in range(outputs)]


def _legend_handles(show_biases: bool, with_health: bool) -> list[Line2D]:
    handles = [
        Line2D([], [], color=POSITIVE, linewidth=2.5, label="positive weight"),
        Line2D([], [], color=NEGATIVE, linewidth=2.5, label="negative weight"),
        Line2D([], [], color="#777777", linewidth=0.8, label="thicker: larger |weight|"),
    ]
    if show_biases:
        handles.append(Line2D([], [], marker="o", markersize=10, linestyle="", markerfacecolor="white",
                              markeredgecolor="#3d3d3d", label="number inside: the bias"))
    if with_health:
        handles.append(Line2D([], [], marker="o", markersize=9, linestyle="", markerfacecolor="white",
                              markeredgecolor=UNHEALTHY, markeredgewidth=2.5,
                              label="ring: share of data where dead or saturated"))
    return handles


def draw_mlp(
    model: MLP,
    x: Sequence[float] | np.ndarray | None = None,
    ax: Axes | None = None,
    health: list[np.ndarray] | None = None,
    show_biases: bool | None = None,
    path: str | Path | None = None,
) -> Figure:
    """Draw ``model`` as columns of neurons joined by its weights; see the module docstring for the colours.

    - ``x``: one input point; each neuron is then filled with its output for it.
    - ``health``: ``viz.health.unit_health(model, X)``; draws the rings.
    - ``show_biases``: write each neuron's bias in it (default: when they fit).

    The weights of layer ``k`` are the segments of ``ax.collections[k]``
    (a LineCollection labelled "L{k+1} weights"), one per weight, in the
    order neuron by neuron, then input by input.
    """
    positions = neuron_positions(model)
    show_biases = max(model.sizes) <= BIAS_NUMBERS_UP_TO if show_biases is None else show_biases
    shares = check_health(model, health) if health is not None else None
    legend = _legend_handles(show_biases, shares is not None)
    fig, ax, scale, top = _paper(model, ax, x is not None, len(legend))
    weights = [abs(w.data) for layer in model.layers for neuron in layer.neurons for w in neuron.w]
    for edges in _weight_edges(model, positions, largest=max(max(weights), 1e-12)):
        ax.add_collection(edges)
    outputs, norm = _outputs(model, x) if x is not None else (None, None)
    if outputs is not None:
        fills = [SIGNED_CMAP(norm(column)) for column in outputs]
    else:
        fills = [[to_rgba("white")] * width for width in model.sizes]
    text_size = 6.0 if scale >= 0.3 else 5.0
    for column, centres in enumerate(positions):  # each neuron: a circle, its bias, its health ring
        for row, (centre, face) in enumerate(zip(centres, fills[column])):
            ax.add_patch(Circle(centre, RADIUS, facecolor=face, edgecolor="#3d3d3d", linewidth=0.9, zorder=3))
            if column > 0 and show_biases:
                bias = model.layers[column - 1].neurons[row].b.data
                ax.text(*centre, f"{bias:+.2f}", ha="center", va="center", fontsize=text_size,
                        color=_text_color(face), zorder=4)
            if shares is not None and 0 < column < len(positions) - 1:
                for wedge in _health_ring(centre, float(shares[column - 1][row])):
                    ax.add_patch(wedge)
    _draw_names(ax, model, positions, x, outputs, top, header_top=top + HEADER / scale)
    ax.legend(handles=legend, loc="lower center", ncol=2, fontsize=8, frameon=False, borderaxespad=0.2)
    if norm is not None:
        colorbar = fig.colorbar(ScalarMappable(norm=norm, cmap=SIGNED_CMAP), ax=ax, shrink=0.5, pad=0.02, extend="both")
        colorbar.set_label("neuron output for this input", fontsize=9)
    if path is not None:
        save(fig, path)
    return fig


def _paper(model: MLP, ax: Axes | None, with_x: bool, legend_entries: int) -> tuple[Figure, Axes, float, float]:
    """The figure and axes, sized for the network: (figure, axes, inches per data unit, top of the highest ring).

    Neurons are placed in data units (1 = the gap between two neurons), text is
    sized in points; the header (title and column titles) and the legend below
    get their room in inches, turned into data units.
    """
    columns = len(model.sizes)
    top = (max(model.sizes) - 1) / 2.0 + RADIUS * 1.5 + 0.2
    label_room = 2.7 if with_x else 1.8  # for "x1 = 0.50" on the left, "score = 1.23" on the right
    scale = min(INCHES_PER_UNIT, MAX_HEIGHT / (2 * top))
    footer = (14 * -(-legend_entries // 2) + 8) / 72  # inches: the legend, two entries a row
    width = (COLUMN_GAP * (columns - 1) + 2 * label_room) * scale + (1.3 if with_x else 0.2)
    fig, ax = figure_and_axes(ax, width, 2 * top * scale + HEADER + footer + 0.2)
    ax.set_xlim(-label_room, COLUMN_GAP * (columns - 1) + label_room)
    ax.set_ylim(-top - footer / scale, top + HEADER / scale)
    ax.set_aspect("equal")
    ax.axis("off")
    return fig, ax, scale, top


def _outputs(model: MLP, x: Sequence[float] | np.ndarray) -> tuple[list[np.ndarray], Normalize]:
    """Each column's outputs for the input ``x`` (the input first), and one colour scale for them all.

    The few largest outputs (often the output layer's) may saturate the scale,
    so that the hidden neurons stay visible.
    """
    point = np.asarray(x, dtype=float).reshape(1, -1)
    outputs = [point[0]] + [layer_output[0] for layer_output in layer_outputs(model, point)]
    limit = max(float(np.percentile(np.abs(np.concatenate(outputs)), 90)), 1e-12)
    return outputs, Normalize(-limit, limit)


def _draw_names(
    ax: Axes, model: MLP, positions: list[np.ndarray], x: Sequence[float] | np.ndarray | None,
    outputs: list[np.ndarray] | None, top: float, header_top: float,
) -> None:
    """Inputs on the left (with their values), outputs on the right, layers and the title on top."""
    for row, centre in enumerate(positions[0]):
        name = f"x{row + 1}" + (f" = {x[row]:.2f}" if x is not None else "")
        ax.text(centre[0] - RADIUS * 1.6, centre[1], name, ha="right", va="center", fontsize=9)
    for k, (name, centre) in enumerate(zip(_output_names(model), positions[-1])):
        value = f" = {outputs[-1][k]:.2f}" if outputs is not None else ""
        ax.text(centre[0] + RADIUS * 1.6, centre[1], name + value, ha="left", va="center", fontsize=9)
    for column, title in enumerate(_column_titles(model)):
        ax.text(column * COLUMN_GAP, top, title, ha="center", va="bottom", fontsize=9, linespacing=1.1)
    shape = " \u2192 ".join(str(size) for size in model.sizes)
    title = f"MLP {shape}: {model.num_parameters()} parameters"
    if x is not None:
        title += "; neurons filled with their output for one input"
    ax.text(COLUMN_GAP * (len(model.sizes) - 1) / 2, header_top, title, ha="center", va="top", fontsize=10)
