"""The visual vocabulary shared by glassgrad's plots: colours, figures, the input plane, saving.

Every picture in ``viz`` speaks the same colour language, borrowed from
TensorFlow Playground: **blue is positive, orange is negative**, and a light
grey is zero. A blue edge is a positive weight, a blue neuron is firing
positively, a blue region is where the score says class 1, a blue box of a
computation graph (``viz.graph``, ``shade="grad"``) has a positive gradient.
Classes get their own colours, and the first two are the same orange and blue.

Figures are made with ``matplotlib.figure.Figure`` on an Agg canvas, never
with ``pyplot``: nothing opens a window, nothing is kept in a global list of
figures, and a script can draw hundreds of pictures without closing them. In
a notebook a returned Figure displays itself (``GlassFigure``); elsewhere ``save(fig, path)``
writes it (PNG, SVG or PDF, from the file's extension).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import LinearSegmentedColormap, to_rgb
from matplotlib.figure import Figure

__all__ = [
    "CLASS_COLORS",
    "NEGATIVE",
    "PAGE_WIDTH",
    "POSITIVE",
    "ZERO",
    "SIGNED_CMAP",
    "InputPlane",
    "check_two_inputs",
    "class_color",
    "class_colors",
    "input_plane",
    "new_figure",
    "figure_and_axes",
    "format_coordinate",
    "save",
]

POSITIVE = "#0877bd"  # TensorFlow Playground's blue
NEGATIVE = "#f59322"  # and its orange
ZERO = "#e8eaeb"  # the light grey between them

# The widest a picture should be, in inches: a report (viz.report) shows its
# pictures at 110 dpi in a column 1,020 px wide, so 9 inches and the 0.1-inch
# margins save() adds (1,012 px) show unshrunk.
PAGE_WIDTH = 9.0

# Orange below zero, grey at zero, blue above: for weights, activations and scores.
SIGNED_CMAP = LinearSegmentedColormap.from_list("glassgrad_signed", [NEGATIVE, ZERO, POSITIVE])

# Class k is drawn in CLASS_COLORS[k] (the playground's page too); classes 0 and 1 match the signed colours
# (class 1 is predicted where a single score is positive, that is blue).
CLASS_COLORS = (
    NEGATIVE, POSITIVE, "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
)


def class_color(label: int) -> str:
    """The colour of class ``label`` (colours repeat after ten classes)."""
    return CLASS_COLORS[int(label) % len(CLASS_COLORS)]


def class_colors(labels: np.ndarray) -> np.ndarray:
    """An (n, 3) array of RGB colours, one per label."""
    palette = np.array([to_rgb(c) for c in CLASS_COLORS])
    return palette[np.asarray(labels, dtype=int) % len(palette)]


class GlassFigure(Figure):
    """A matplotlib Figure that shows itself in a notebook.

    Jupyter displays the last value of a cell through its ``_repr_png_``. A
    plain Figure made without pyplot has none, so in a fresh kernel it prints
    ``<Figure size 600x460 with 2 Axes>``; this one draws itself as ``save`` would.
    (With ``%matplotlib inline`` IPython's own printer takes over, and the picture appears once.)
    """

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", dpi=100, facecolor="white", bbox_inches="tight", pad_inches=0.1)
        return buffer.getvalue()


def new_figure(width: float, height: float) -> Figure:
    """A Figure of ``width`` x ``height`` inches on an Agg canvas, laid out by matplotlib's constrained layout."""
    figure = GlassFigure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)  # attaches itself: savefig and canvas.buffer_rgba() work without pyplot
    return figure


def figure_and_axes(ax: Axes | None, width: float, height: float) -> tuple[Figure, Axes]:
    """``ax`` and its figure when one is given, else a new figure holding one axes."""
    if ax is not None:
        return ax.figure, ax
    figure = new_figure(width, height)
    return figure, figure.add_subplot()


def format_coordinate(value: float) -> str:
    """A coordinate or an output for a caption: two decimals, and never "-0.00".

    Exactly 0 prints as "0" (0.00 would suggest rounding); a number that two
    decimals would round to 0 keeps two significant digits ("0.0031"), so a
    small number never reads as a zero.
    """
    value = float(value)
    if value == 0.0:
        return "0"
    if abs(value) < 0.005:
        return f"{value:.2g}"
    return f"{round(value, 2) + 0.0:.2f}"  # + 0.0 turns the -0.0 that round() can give into 0.0


def save(figure: Figure, path: str | Path, dpi: int = 120) -> Path:
    """Write ``figure`` to ``path`` (format from the extension), creating folders; return the path.

    The picture is cropped to what is drawn, plus a small margin.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=dpi, facecolor="white", bbox_inches="tight", pad_inches=0.1)
    return path


@dataclass(frozen=True)
class InputPlane:
    """A grid of points over a rectangle of the 2-D input plane.

    ``points`` has one row per grid point, row by row from the bottom:
    ``values.reshape(shape)`` turns one number per point back into an image
    whose row 0 is the bottom edge (draw it with ``origin="lower"``).
    """

    xs: np.ndarray
    ys: np.ndarray
    points: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.ys), len(self.xs)

    @property
    def extent(self) -> tuple[float, float, float, float]:
        """(left, right, bottom, top), as imshow's ``extent`` wants it."""
        return float(self.xs[0]), float(self.xs[-1]), float(self.ys[0]), float(self.ys[-1])

    def image(self, values: np.ndarray) -> np.ndarray:
        """One value per point, as a (rows, columns) image."""
        return np.asarray(values).reshape(self.shape)


def input_plane(X: np.ndarray | None = None, resolution: int = 100, margin: float = 0.2) -> InputPlane:
    """A ``resolution`` x ``resolution`` grid around the points ``X`` (or over [-2, 2]^2 without them).

    The rectangle is the data's bounding box grown by ``margin`` times its
    larger side on every edge, so points never sit on the border.
    """
    if resolution < 2:
        raise ValueError(f"input_plane: resolution must be at least 2, got {resolution}")
    if X is None:
        low, high = np.array([-2.0, -2.0]), np.array([2.0, 2.0])
    else:
        X = np.asarray(X, dtype=float)
        if X.ndim != 2 or X.shape[1] != 2 or len(X) == 0:
            raise ValueError(f"input_plane: expected points of shape (n, 2), got {X.shape}")
        low, high = X.min(axis=0), X.max(axis=0)
        pad = margin * max(float(np.max(high - low)), 1e-9) + 1e-3
        low, high = low - pad, high + pad
    xs = np.linspace(low[0], high[0], resolution)
    ys = np.linspace(low[1], high[1], resolution)
    grid_x, grid_y = np.meshgrid(xs, ys)
    return InputPlane(xs, ys, np.column_stack([grid_x.ravel(), grid_y.ravel()]))


def check_two_inputs(model: object, picture: str) -> None:
    """Pictures over the input plane need a model with exactly two inputs."""
    nin = getattr(model, "nin", None)
    if nin != 2:
        raise ValueError(f"{picture} draws the 2-D input plane, so it needs a model with 2 inputs; this one has {nin}")


def finish_plane_axes(ax: Axes, plane: InputPlane, title: str) -> None:
    """Limits, equal aspect, axis names and title of a picture over the input plane."""
    ax.set_xlim(plane.xs[0], plane.xs[-1])
    ax.set_ylim(plane.ys[0], plane.ys[-1])
    ax.set_aspect("equal")
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    ax.set_title(title, fontsize=11)
