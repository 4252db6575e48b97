"""The network diagram: neurons in columns, every weight an edge, optionally one input flowing through.

``draw_mlp`` draws an ``nn.MLP`` the way TensorFlow Playground does:

- inputs on the left, then one column per layer, the output on the right;
- one line per weight, **blue when positive, orange when negative**, thicker
  and more opaque the larger the weight's magnitude (relative to the 98th
  percentile of the network's |weights|, so that one outlier does not fade
  all the others); a weak weight fades almost to nothing, so that in a wide
  network the strong paths stand out from the many small weights;
- each neuron's bias as a small square at its lower left, in the same
  colours on the same scale (grey: a bias of 0);
- given an input ``x``, every neuron filled with its output for that input
  (same colours: blue positive, orange negative, grey zero) with a colour bar,
  and a hidden neuron's output written inside it when the numbers fit, so
  the fill and the number say the same thing; the inputs' values and the
  outputs' values are written beside them, with their names;
- given ``health=unit_health(model, X)``, an arc around each hidden neuron
  covering the share of the data on which it is dead or saturated, redder
  as the share grows (a full dark-red ring: dead on every point).

Every mark is named in the legend under the picture.
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
from matplotlib.patches import Circle, Rectangle, Wedge

from nn.evaluate import layer_outputs
from nn.module import MLP
from viz.health import UNHEALTHY, check_health, share_color
from viz.style import NEGATIVE, POSITIVE, SIGNED_CMAP, figure_and_axes, format_coordinate, save

__all__ = ["draw_mlp", "neuron_positions", "edge_opacity"]

COLUMN_GAP = 4.0  # horizontal distance between layers, in neuron spacings
RADIUS = 0.36  # of a neuron, in neuron spacings
INCHES_PER_UNIT = 0.42  # one neuron spacing on paper, for a network of normal size
MAX_HEIGHT = 11.0  # inches: taller networks are drawn smaller
MIN_DRAWING_WIDTH = 6.2  # inches: the legend's two columns and the title fit above and below
HEADER = 52 / 72  # inches above the highest ring: the title and the column titles, 3 lines of text
OUTPUT_NUMBERS_UP_TO = 24  # neurons in the tallest column; beyond that the numbers would not fit in the circles
REFERENCE_PERCENTILE = 98  # |weights| from this percentile up are drawn at full strength
FAINTEST = 0.04  # the opacity of a weight of 0: there, but out of the way
BIAS_SQUARE = RADIUS * 0.5  # the side of a bias's square


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


def edge_opacity(strength: float) -> float:
    """The opacity of a weight whose |weight| is ``strength`` times the reference one (see ``_reference_weight``).

    It grows with the fourth power of the strength: a weight half the
    reference is drawn at a tenth of full opacity, one a third of it at a
    twentieth, almost gone. A 16-wide layer has 256 weights, most of them small; fading
    them leaves the few strong paths that carry the signal on view.
    """
    return FAINTEST + (1.0 - FAINTEST) * strength**4


def _reference_weight(model: MLP) -> float:
    """The |weight| drawn at full strength: the 98th percentile of all of them.

    Not the largest: one outlying weight (training often grows a few) would
    then fade every other edge to nothing. The few above it are drawn at full strength.
    """
    weights = np.abs([w.data for layer in model.layers for neuron in layer.neurons for w in neuron.w])
    return max(float(np.percentile(weights, REFERENCE_PERCENTILE)), 1e-12)


def _weight_edges(model: MLP, positions: list[np.ndarray], reference: float) -> list[LineCollection]:
    """One LineCollection per layer holding one segment per weight, in the order neuron, then input."""
    collections = []
    for index, layer in enumerate(model.layers):
        sources, targets = positions[index], positions[index + 1]
        segments, colors, widths = [], [], []
        for j, neuron in enumerate(layer.neurons):
            for i, weight in enumerate(neuron.w):
                strength = min(abs(weight.data) / reference, 1.0)
                segments.append([(sources[i, 0] + RADIUS, sources[i, 1]), (targets[j, 0] - RADIUS, targets[j, 1])])
                colors.append(to_rgba(POSITIVE if weight.data > 0 else NEGATIVE, alpha=edge_opacity(strength)))
                widths.append(0.3 + 3.4 * strength**2)
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


def _bias_square(centre: np.ndarray, bias: float, reference: float) -> Rectangle:
    """The bias as a small square on the neuron's lower left, coloured on the weights' scale."""
    corner = (centre[0] - RADIUS * 0.78 - BIAS_SQUARE / 2, centre[1] - RADIUS * 0.78 - BIAS_SQUARE / 2)
    face = SIGNED_CMAP(0.5 + 0.5 * float(np.clip(bias / reference, -1.0, 1.0)))
    return Rectangle(corner, BIAS_SQUARE, BIAS_SQUARE, facecolor=face, edgecolor="#3d3d3d", linewidth=0.6,
                     zorder=5, label="bias")


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


def _legend_handles(show_biases: bool, output_numbers: bool, with_x: bool, with_health: bool) -> list[Line2D]:
    handles = [
        Line2D([], [], color=POSITIVE, linewidth=2.5, label="positive weight"),
        Line2D([], [], color=NEGATIVE, linewidth=2.5, label="negative weight"),
        Line2D([], [], color=POSITIVE, linewidth=0.8, alpha=0.45, label="thin and faint: small |weight|"),
    ]
    if show_biases:
        handles.append(Line2D([], [], marker="s", markersize=6, linestyle="", markerfacecolor=POSITIVE,
                              markeredgecolor="#3d3d3d", label="small square: the bias (grey: 0)"))
    if with_x:
        fill = "fill and number: the output for this input" if output_numbers else "fill: the output for this input"
        handles.append(Line2D([], [], marker="o", markersize=10, linestyle="", markerfacecolor=SIGNED_CMAP(0.75),
                              markeredgecolor="#3d3d3d", label=fill))
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
    show_biases: bool = True,
    path: str | Path | None = None,
) -> Figure:
    """Draw ``model`` as columns of neurons joined by its weights; see the module docstring for the colours.

    - ``x``: one input point; each neuron is then filled with its output for it.
    - ``health``: ``viz.health.unit_health(model, X)``; draws the rings.
    - ``show_biases``: draw each neuron's bias as a small square.

    The weights of layer ``k`` are the segments of ``ax.collections[k]``
    (a LineCollection labelled "L{k+1} weights"), one per weight, in the
    order neuron by neuron, then input by input.
    """
    positions = neuron_positions(model)
    output_numbers = x is not None and max(model.sizes) <= OUTPUT_NUMBERS_UP_TO
    shares = check_health(model, health) if health is not None else None
    legend = _legend_handles(show_biases, output_numbers, x is not None, shares is not None)
    fig, ax, scale, top = _paper(model, ax, x is not None, len(legend))
    reference = _reference_weight(model)
    for edges in _weight_edges(model, positions, reference):
        ax.add_collection(edges)
    outputs, norm = _outputs(model, x) if x is not None else (None, None)
    _draw_neurons(ax, model, positions, outputs, norm, reference if show_biases else None, shares,
                  text_size=(6.0 if scale >= 0.3 else 5.0) if output_numbers else None)
    _draw_names(ax, model, positions, x, outputs, top, header_top=top + HEADER / scale)
    ax.legend(handles=legend, loc="lower center", ncol=2, fontsize=8, frameon=False, borderaxespad=0.2)
    if norm is not None:
        shrink = min(0.5, 4.5 / fig.get_figheight())  # about 4.5 inches at most, however tall the network
        colorbar = fig.colorbar(ScalarMappable(norm=norm, cmap=SIGNED_CMAP), ax=ax, shrink=shrink, pad=0.02,
                                extend="both")
        colorbar.set_label("neuron output for this input", fontsize=9)
    if path is not None:
        save(fig, path)
    return fig


def _draw_neurons(
    ax: Axes, model: MLP, positions: list[np.ndarray], outputs: list[np.ndarray] | None, norm: Normalize | None,
    bias_scale: float | None, shares: list[np.ndarray] | None, text_size: float | None,
) -> None:
    """Each neuron: a circle filled with its output (white without an input), the output written inside a
    hidden neuron when ``text_size`` is given, its bias square when ``bias_scale`` is, its health ring."""
    last = len(positions) - 1
    for column, centres in enumerate(positions):
        for row, centre in enumerate(centres):
            face = SIGNED_CMAP(norm(outputs[column][row])) if outputs is not None else to_rgba("white")
            ax.add_patch(Circle(centre, RADIUS, facecolor=face, edgecolor="#3d3d3d", linewidth=0.9, zorder=3))
            if text_size is not None and 0 < column < last:
                ax.text(*centre, _short_number(outputs[column][row]), ha="center", va="center", fontsize=text_size,
                        color=_text_color(face), zorder=4)
            if bias_scale is not None and column > 0:
                ax.add_patch(_bias_square(centre, model.layers[column - 1].neurons[row].b.data, bias_scale))
            if shares is not None and 0 < column < last:
                for wedge in _health_ring(centre, float(shares[column - 1][row])):
                    ax.add_patch(wedge)


def _short_number(value: float) -> str:
    """At most four characters and a sign, to fit inside a neuron: "0.37", "-1.2", "14", "0" (never "-0.00")."""
    value = float(value)
    if value == 0.0:
        return "0"  # a silent ReLU, exactly: not a rounded small number
    if abs(value) >= 9.95:
        return f"{value:.0f}"
    return f"{round(value, 2) + 0.0:.2f}" if abs(value) < 0.995 else f"{value:.1f}"


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
    # a small network gets more room on both sides: its legend and title are as wide as a big one's
    label_room = max(label_room, (MIN_DRAWING_WIDTH / scale - COLUMN_GAP * (columns - 1)) / 2)
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
        name = f"x{row + 1}" + (f" = {format_coordinate(x[row])}" if x is not None else "")
        ax.text(centre[0] - RADIUS * 1.6, centre[1], name, ha="right", va="center", fontsize=9)
    for k, (name, centre) in enumerate(zip(_output_names(model), positions[-1])):
        value = f" = {format_coordinate(outputs[-1][k])}" if outputs is not None else ""
        ax.text(centre[0] + RADIUS * 1.6, centre[1], name + value, ha="left", va="center", fontsize=9)
    for column, title in enumerate(_column_titles(model)):
        ax.text(column * COLUMN_GAP, top, title, ha="center", va="bottom", fontsize=9, linespacing=1.1)
    shape = " \u2192 ".join(str(size) for size in model.sizes)
    title = f"MLP {shape}: {model.num_parameters()} parameters"
    if x is not None:
        title += "; neurons filled with their output for one input"
    ax.text(COLUMN_GAP * (len(model.sizes) - 1) / 2, header_top, title, ha="center", va="top", fontsize=10)
