"""Pictures of a network whose inputs are the pixels of an image: what it looks for, imagines, and why it answers.

The other pictures of ``viz`` live on the 2-D input plane. Here each input is
one pixel of a square image (64 inputs: an 8x8 handwritten digit from
``nn.load_digits``, 0 blank paper, 1 full ink), so whatever a first-layer
neuron weighs, or the network is sensitive to, can be drawn as an image too:

- ``draw_weight_images``: each first-layer neuron's 64 weights as an 8x8 tile,
  the strokes and edge detectors the network invented;
- ``draw_top_examples``: beside each tile, the test digits that excite the neuron most;
- ``draw_imagined``: what the network "imagines", by gradient ascent on the
  input (``imagine``), for each class and for each first-layer neuron;
- ``draw_explanations``: why one answer, two ways: the input gradient
  (``saliency``) and hiding a patch (``occlusion``), and where they disagree;
- ``draw_layers_story``: one digit followed through the layers to the answer;
- ``draw_confusion`` and ``draw_misclassified``: which digits are mistaken for which.

Colours follow ``viz.style``: a signed number (a weight, a gradient, a drop in
probability) is blue above zero and orange below; ink is grey to black. Every
model is evaluated on many images at once with ``nn.evaluate``. Layers and
neurons count from 0 in arguments and from 1 in names ("L1.N3"), as in ``viz.features``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.colors import LinearSegmentedColormap, ListedColormap, Normalize, PowerNorm
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle

from nn.evaluate import as_points, classify, input_gradients, layer_index, layer_outputs, predict, softmax_rows
from nn.module import MLP
from viz.health import DEAD
from viz.neurons import TILES_PER_ROW
from viz.style import NEGATIVE, PAGE_WIDTH, POSITIVE, SIGNED_CMAP, ZERO, format_coordinate, new_figure, save

__all__ = [
    "INK_CMAP",
    "image_side",
    "class_probabilities",
    "Regularisation",
    "imagine",
    "saliency",
    "occlusion",
    "confusion_matrix",
    "draw_weight_images",
    "draw_top_examples",
    "draw_imagined",
    "draw_explanations",
    "draw_layers_story",
    "draw_confusion",
    "draw_misclassified",
]

INK_CMAP = colormaps["Greys"]  # 0 white paper, 1 black ink: a digit looks as it was written
COUNT_CMAP = LinearSegmentedColormap.from_list("glassgrad_counts", ["#ffffff", POSITIVE])
GREY = 0.5  # the blank canvas of activation maximisation, and what occlusion paints over a patch

# The categories of the disagreement panel: which method ranks a pixel among the most important.
AGREEMENT = (("neither", ZERO), ("both", "#3d4a54"), ("only saliency", "#7b3294"), ("only occlusion", "#1b7837"))


# --- checks ------------------------------------------------------------------


def image_side(inputs: int, caller: str) -> int:
    """The side of the square image that ``inputs`` pixels make (64 -> 8); a clear error if they make none."""
    side = math.isqrt(inputs)
    if side * side != inputs:
        raise ValueError(f"{caller}: draws each input as a pixel of a square image, but {inputs} inputs make no "
                         f"square (the nearest are {side * side} and {(side + 1) ** 2}); give a model whose "
                         "input count is a square, such as 64 for 8x8 digits")
    return side


def _check_classifier(model: MLP, caller: str) -> int:
    """The image side of a model that reads square images and gives one score per class."""
    side = image_side(model.nin, caller)
    if model.sizes[-1] < 2:
        raise ValueError(f"{caller}: needs one output per class (at least 2, such as 10 for the digits); "
                         f"{model!r} has {model.sizes[-1]}")
    return side


def _check_hidden_layer(model: MLP, caller: str) -> None:
    if len(model.layers) < 2:
        raise ValueError(f"{caller}: shows hidden neurons, but {model!r} has no hidden layer; "
                         "give a model such as MLP(64, [32, 10])")


def _checked_images(model: MLP, X: np.ndarray, y: np.ndarray, caller: str) -> tuple[np.ndarray, np.ndarray]:
    """``X`` as (n, pixels) and ``y`` as n class labels the model has outputs for."""
    _check_classifier(model, caller)
    X = as_points(X, model.nin, caller=caller)
    y = np.asarray(y)
    if y.shape != (len(X),) or (len(y) and not np.issubdtype(y.dtype, np.integer)):
        raise ValueError(f"{caller}: y must hold one integer label per image, shape ({len(X)},); "
                         f"got shape {y.shape} of {y.dtype}")
    classes = model.sizes[-1]
    if len(y) and (y.min() < 0 or y.max() >= classes):
        raise ValueError(f"{caller}: labels must lie in 0..{classes - 1}, one per output of {model!r}; "
                         f"y holds {y.min()}..{y.max()}")
    return X, y


def _one_image(model: MLP, x: np.ndarray, caller: str) -> np.ndarray:
    """One image, flat or square, as a (1, pixels) array."""
    x = np.asarray(x)
    if x.size != model.nin:
        raise ValueError(f"{caller}: x must be one image of {model.nin} pixels (flat or square), got shape {x.shape}")
    return as_points(x.reshape(1, model.nin), model.nin, name="x", caller=caller)


def _check_class(model: MLP, cls: int, caller: str) -> int:
    classes = model.sizes[-1]
    if not isinstance(cls, (int, np.integer)) or not 0 <= cls < classes:
        raise ValueError(f"{caller}: cls must be a class from 0 to {classes - 1}, got {cls!r}")
    return int(cls)


# --- what the pictures compute ---------------------------------------------


def class_probabilities(model: MLP, X: np.ndarray) -> np.ndarray:
    """softmax(scores) for every image: shape (n, classes), each row summing to 1."""
    return softmax_rows(predict(model, X))


def confusion_matrix(model: MLP, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """counts[true, guess]: how many images of class ``true`` the model calls ``guess``."""
    X, y = _checked_images(model, X, y, "confusion_matrix")
    classes = model.sizes[-1]
    counts = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(counts, (y, classify(model, X)), 1)
    return counts


def saliency(model: MLP, x: np.ndarray, cls: int) -> np.ndarray:
    """d score[cls] / d pixel for the image ``x``, as a square image.

    Blue (positive) where a little more ink would raise the class's score,
    orange where it would lower it: how the score leans at this very image.
    """
    side = _check_classifier(model, "saliency")
    point = _one_image(model, x, "saliency")
    gradient = input_gradients(model, point, -1, _check_class(model, cls, "saliency"))
    return gradient.reshape(side, side)


def occlusion(model: MLP, x: np.ndarray, cls: int, patch: int = 2, fill: float = GREY) -> np.ndarray:
    """How much the probability of ``cls`` drops when a patch around each pixel is painted ``fill``.

    Every ``patch`` x ``patch`` square of the image (sliding one pixel at a
    time) is painted over in turn and the drop p(cls | x) - p(cls | painted)
    measured, all squares in one batch; a pixel gets the mean drop of the
    squares that cover it. Positive: what is there supports the class; near 0:
    the class does not care. A patch that already holds ``fill`` changes nothing.
    """
    side = _check_classifier(model, "occlusion")
    cls = _check_class(model, cls, "occlusion")
    if not isinstance(patch, (int, np.integer)) or not 1 <= patch <= side:
        raise ValueError(f"occlusion: patch must be a whole number of pixels from 1 to {side}, got {patch!r}")
    image = _one_image(model, x, "occlusion").reshape(side, side)
    corners = [(row, column) for row in range(side - patch + 1) for column in range(side - patch + 1)]
    painted = np.repeat(image[None], len(corners), axis=0)
    for k, (row, column) in enumerate(corners):
        painted[k, row:row + patch, column:column + patch] = fill
    probabilities = class_probabilities(model, np.vstack([image.reshape(1, -1), painted.reshape(len(corners), -1)]))
    drops = probabilities[0, cls] - probabilities[1:, cls]
    total, covering = np.zeros((side, side)), np.zeros((side, side))
    for drop, (row, column) in zip(drops, corners):
        total[row:row + patch, column:column + patch] += drop
        covering[row:row + patch, column:column + patch] += 1
    return total / covering


@dataclass(frozen=True)
class Regularisation:
    """What keeps an imagined image readable, as a digit rather than noise that happens to excite a neuron.

    - every pixel is clipped to 0..1, the range of real ink (always on);
    - ``l2``: a penalty of l2 * sum_i x_i**2 makes ink cost something, so only useful strokes stay;
    - ``smoothness``: a penalty of smoothness * sum (x_i - x_j)**2 over neighbouring
      pixels joins ink into strokes;
    - ``jitter``: each step takes the gradient at the image plus Gaussian noise of this
      standard deviation (clipped to 0..1), so that the image works for its
      neighbours too, not through one brittle pattern of pixels.
    """

    l2: float = 0.2
    smoothness: float = 0.5
    jitter: float = 0.1

    def describe(self) -> str:
        return (f"pixels kept in 0..1, an L2 penalty on ink ({self.l2:g}), a smoothness penalty "
                f"({self.smoothness:g}), jitter (noise of std {self.jitter:g} at each step)")


def imagine(
    model: MLP,
    target: tuple[int, int] = (-1, 0),
    steps: int = 100,
    lr: float = 0.05,
    regularisation: Regularisation = Regularisation(),
    seed: int = 0,
) -> np.ndarray:
    """The image that excites one neuron most, by gradient ascent from a grey canvas: a square array in 0..1.

    ``target`` is (layer, neuron), counted from 0: ``(-1, 3)`` is the score of
    class 3 (before the softmax), ``(0, 5)`` the sixth first-layer neuron.
    Starting from every pixel at 0.5, each step climbs

        a(x) / s  -  l2 * sum_i x_i**2  -  smoothness * sum_(i, j neighbours) (x_i - x_j)**2

    for the target's output a, with x clipped to 0..1 and the gradient of a
    taken at a jittered copy of x (``Regularisation`` says why each term is
    there). s is the size (root mean square) of a's gradient on the grey
    canvas, so the same penalties suit a class score and a neuron. A step moves
    the image by ``lr`` (root mean square over pixels) along the climb,
    shrinking linearly to 0 so that it settles. The gradient of a comes from
    ``nn.evaluate.input_gradients``. A ReLU neuron that is 0 on the canvas and
    on every jittered copy of it has no gradient, and the image stays grey.
    """
    side = image_side(model.nin, "imagine")
    layer, neuron = target
    layer_index(model, layer, neuron)  # a clear IndexError for a neuron that does not exist
    if not isinstance(steps, int) or steps < 0:
        raise ValueError(f"imagine: steps must be a whole number >= 0, got {steps!r}")
    rng = np.random.default_rng(seed)
    image = np.full((side, side), GREY)
    slope = _gradient_size(input_gradients(model, image.reshape(1, -1), layer, neuron)) or 1.0
    for step in range(steps):
        seen = np.clip(image + regularisation.jitter * rng.standard_normal(image.shape), 0.0, 1.0)
        climb = input_gradients(model, seen.reshape(1, -1), layer, neuron).reshape(side, side) / slope
        climb -= 2.0 * regularisation.l2 * image + regularisation.smoothness * _roughness_gradient(image)
        size = _gradient_size(climb)
        if size == 0.0:
            break
        image = np.clip(image + lr * (1.0 - step / steps) * climb / size, 0.0, 1.0)
    return image


def _gradient_size(gradient: np.ndarray) -> float:
    """Root mean square: the typical size of one pixel's gradient."""
    return float(np.sqrt(np.mean(np.square(gradient))))


def _roughness_gradient(image: np.ndarray) -> np.ndarray:
    """d/d image of sum (x_i - x_j)**2 over neighbouring pixels, across and down: 2 (x_i - x_j) per pair."""
    gradient = np.zeros_like(image)
    down = image[1:, :] - image[:-1, :]
    gradient[1:, :] += 2.0 * down
    gradient[:-1, :] -= 2.0 * down
    across = image[:, 1:] - image[:, :-1]
    gradient[:, 1:] += 2.0 * across
    gradient[:, :-1] -= 2.0 * across
    return gradient


def _first_layer_weights(model: MLP, side: int) -> np.ndarray:
    """(neurons, side, side): each first-layer neuron's weights in the places of the pixels they multiply."""
    return np.array([[w.data for w in neuron.w] for neuron in model.layers[0].neurons]).reshape(-1, side, side)


# --- drawing: a canvas in inches -----------------------------------------------


class _Canvas:
    """A figure laid out by hand, in inches from its top left corner: image tiles, text, colour bars, plots.

    A picture of a network on images holds dozens of small tiles. As one
    matplotlib Axes each, they take seconds to make and a layout engine to
    place; as images inside one Axes that spans the whole figure, each placed
    by its extent, they take milliseconds, and every gap is exactly as planned.
    """

    def __init__(self, width: float, height: float) -> None:
        self.figure = new_figure(width, height)
        self.figure.set_layout_engine("none")
        self.width, self.height = width, height
        self.ax = self.figure.add_axes((0.0, 0.0, 1.0, 1.0))
        self.ax.set_xlim(0.0, width)
        self.ax.set_ylim(height, 0.0)  # y grows downwards, as on a page
        self.ax.set_autoscale_on(False)
        self.ax.axis("off")

    def tile(self, image: np.ndarray, left: float, top: float, size: float, cmap, limits: tuple[float, float]) -> None:
        """``image`` in a ``size``-inch square, its row 0 at the top, framed."""
        self.ax.imshow(image, cmap=cmap, vmin=limits[0], vmax=limits[1], interpolation="nearest", aspect="auto",
                       extent=(left, left + size, top + size, top))
        self.ax.add_patch(Rectangle((left, top), size, size, fill=False, linewidth=0.5, edgecolor="#8a949b"))

    def ink(self, image: np.ndarray, left: float, top: float, size: float) -> None:
        self.tile(image, left, top, size, INK_CMAP, (0.0, 1.0))

    def signed(self, image: np.ndarray, left: float, top: float, size: float, limit: float) -> None:
        self.tile(image, left, top, size, SIGNED_CMAP, (-limit, limit))

    def text(self, x: float, y: float, words: str, size: float = 8, **options) -> None:
        self.ax.text(x, y, words, fontsize=size, **options)

    def title(self, words: str, size: float = 10.5) -> None:
        """The picture's title (the figure's suptitle), at its top left, a line or several."""
        self.figure.suptitle(words, x=0.1 / self.width, y=1.0 - 0.1 / self.height, fontsize=size, ha="left",
                             va="top", linespacing=1.35)

    def axes(self, left: float, top: float, width: float, height: float) -> Axes:
        """An Axes of its own (for a colour bar or a bar chart) at this place."""
        return self.figure.add_axes((left / self.width, 1.0 - (top + height) / self.height,
                                     width / self.width, height / self.height))

    def colorbar(self, mappable: ScalarMappable, label: str, left: float, top: float, width: float, height: float,
                 **options) -> None:
        horizontal = width > height
        bar = self.figure.colorbar(mappable, cax=self.axes(left, top, width, height),
                                   orientation="horizontal" if horizontal else "vertical", **options)
        bar.set_label(label, fontsize=8)
        bar.ax.tick_params(labelsize=7)

    def ink_colorbar(self, left: float, top: float, width: float, height: float) -> None:
        self.colorbar(ScalarMappable(Normalize(0.0, 1.0), INK_CMAP), "ink (0 blank paper, 1 full ink)",
                      left, top, width, height, ticks=[0.0, 0.5, 1.0])

    def signed_colorbar(self, limit: float, label: str, left: float, top: float, width: float, height: float,
                        **options) -> None:
        self.colorbar(ScalarMappable(Normalize(-limit, limit), SIGNED_CMAP), label, left, top, width, height,
                      **options)

    def finish(self, path: str | Path | None) -> Figure:
        if path is not None:
            save(self.figure, path)
        return self.figure


def _largest(values: np.ndarray) -> float:
    """The end of a symmetric colour scale: the largest |value|, or 1 when all are 0 (drawn grey)."""
    return float(np.max(np.abs(values))) or 1.0


def _rows(count: int, columns: int) -> int:
    return -(-count // columns)  # ceiling division


# --- 1. the first layer's weights ------------------------------------------

WEIGHT_TILE = 0.86  # inches: eight tiles and a colour bar fill a page's width


def draw_weight_images(model: MLP, layer: int = 0, path: str | Path | None = None) -> Figure:
    """One tile per first-layer neuron: its weights, each in the place of the pixel it multiplies.

    A neuron adds up ink times weight, so a blue pixel is where ink raises the
    neuron, an orange one where ink lowers it, grey where ink does not matter
    (as at the always-blank borders). One colour scale, centred on 0, serves
    every tile. Only the first layer reads pixels, so ``layer`` must be 0.
    """
    side = image_side(model.nin, "draw_weight_images")
    if layer not in (0, -len(model.layers)):
        raise ValueError(f"draw_weight_images: only the first layer (layer=0) reads pixels; layer {layer} of "
                         f"{model!r} reads the outputs of the layer before it, which are not an image")
    weights = _first_layer_weights(model, side)
    limit = _largest(weights)
    columns = min(len(weights), TILES_PER_ROW)
    step, header = WEIGHT_TILE + 0.14, 0.75
    rows = _rows(len(weights), columns)
    canvas = _Canvas(0.1 + columns * step + 0.85, header + rows * (step + 0.1) + 0.05)
    canvas.title(f"What each of the {len(weights)} first-layer neurons looks for: its {model.nin} weights as an image "
                 f"of {side}x{side} pixels\nblue: ink on this pixel raises the neuron, orange: ink here lowers it, "
                 "grey: ignored")
    for j, (neuron_weights, neuron) in enumerate(zip(weights, model.layers[0].neurons)):
        left, top = 0.1 + (j % columns) * step, header + (j // columns) * (step + 0.1) + 0.18
        canvas.signed(neuron_weights, left, top, WEIGHT_TILE, limit)
        canvas.text(left + WEIGHT_TILE / 2, top - 0.04, neuron.label, size=8, ha="center", va="bottom")
    bar_height = min(rows * (step + 0.1) - 0.2, 3.0)
    canvas.signed_colorbar(limit, "weight (one scale for every tile)", 0.1 + columns * step + 0.1, header + 0.2,
                           0.13, bar_height)
    return canvas.finish(path)


# --- 2. what excites each first-layer neuron -------------------------------

TOP_TILE = 0.53  # inches: two neurons, each with its weights and six examples, fill a page's width


def draw_top_examples(model: MLP, X: np.ndarray, y: np.ndarray, top: int = 6, path: str | Path | None = None) -> Figure:
    """For every first-layer neuron, its weight image beside the ``top`` images of ``X`` that excite it most.

    Above an example: the neuron's output on it, and in brackets the digit it
    is. The weight tiles share one signed colour scale. Two neurons sit side
    by side on each row; a neuron that is 0 on every image says so instead.
    """
    X, y = _checked_images(model, X, y, "draw_top_examples")
    _check_hidden_layer(model, "draw_top_examples")
    side = image_side(model.nin, "draw_top_examples")
    if not isinstance(top, int) or not 1 <= top <= len(X):
        raise ValueError(f"draw_top_examples: top must be a whole number from 1 to {len(X)} (the images), got {top!r}")
    weights = _first_layer_weights(model, side)
    outputs = layer_outputs(model, X)[0]
    limit = _largest(weights)
    tile, header, row_height = TOP_TILE, 1.25, TOP_TILE + 0.36
    block_width = (top + 1.5 + 0.1 * (top - 1)) * tile
    canvas = _Canvas(max(0.2 + 2 * block_width + 0.5 * tile, 6.0), header + _rows(len(weights), 2) * row_height)
    canvas.title(f"What excites each first-layer neuron: its weights (left) and the {top} of {len(X)} digits "
                 "that make it fire most,\nwith the neuron's output above each (in brackets: the digit it is)",
                 size=10)
    canvas.signed_colorbar(limit, "weight (blue: ink here raises the neuron)", 0.6, 0.62, 3.2, 0.12)
    canvas.ink_colorbar(5.0, 0.62, 3.2, 0.12)
    for j, neuron in enumerate(model.layers[0].neurons):
        left = 0.1 + (j % 2) * (block_width + 0.5 * tile)
        tile_top = header + (j // 2) * row_height + 0.2
        canvas.signed(weights[j], left, tile_top, tile, limit)
        canvas.text(left + tile / 2, tile_top - 0.03, neuron.label, size=7.5, ha="center", va="bottom",
                    fontweight="bold")
        strongest = np.argsort(-outputs[:, j], kind="stable")[:top]
        if outputs[strongest[0], j] == 0.0:
            canvas.text(left + 1.5 * tile, tile_top + tile / 2, f"0 on all {len(X)} digits: none excites it",
                        size=7.5, va="center", color=DEAD)
            continue
        for k, index in enumerate(strongest):
            example_left = left + (1.5 + 1.1 * k) * tile
            canvas.ink(X[index].reshape(side, side), example_left, tile_top, tile)
            caption = f"{format_coordinate(outputs[index, j])} ({y[index]})"
            canvas.text(example_left + tile / 2, tile_top - 0.03, caption, size=7, ha="center", va="bottom")
    return canvas.finish(path)


# --- 3. what the network imagines ------------------------------------------


def draw_imagined(
    model: MLP,
    kind: str = "class",
    steps: int = 100,
    regularisation: Regularisation = Regularisation(),
    path: str | Path | None = None,
) -> Figure:
    """The image each class (``kind="class"``) or each first-layer neuron (``kind="neuron"``) likes most.

    Each tile is ``imagine`` for one target: gradient ascent on the pixels from
    a grey image. Under it, the target's output on the grey start and on the
    tile: the climb raised it that much. The subtitle says how the ascent was
    regularised. Classes are scored before the softmax.
    """
    side = _check_classifier(model, "draw_imagined")
    if kind == "class":
        targets = [(-1, k) for k in range(model.sizes[-1])]
        names = [f"a {k}" for k in range(model.sizes[-1])]
        columns, tile, measure = 5, 1.3, "its score"
        heading = "What the network imagines each digit looks like: the image that raises its class's score most"
    elif kind == "neuron":
        _check_hidden_layer(model, "draw_imagined")
        targets = [(0, j) for j in range(model.sizes[1])]
        names = [neuron.label for neuron in model.layers[0].neurons]
        columns, tile, measure = TILES_PER_ROW, 0.78, "its output"
        heading = "What each first-layer neuron imagines: the image that makes it fire most"
    else:
        raise ValueError(f'draw_imagined: kind must be "class" or "neuron", got {kind!r}')
    images = [imagine(model, target, steps, regularisation=regularisation) for target in targets]
    before, after = _target_outputs(model, targets, images)
    step, header, row_height = tile + 0.2, 1.05, tile + 0.45
    canvas = _Canvas(min(0.1 + columns * step + 0.9, PAGE_WIDTH), header + _rows(len(targets), columns) * row_height)
    canvas.title(f"{heading}\nGradient ascent on the {model.nin} pixels from a grey image, {steps} steps; under each "
                 f"tile, {measure} on the grey start \u2192 on the tile\nregularised by: {regularisation.describe()}",
                 size=10)
    for k, (image, name) in enumerate(zip(images, names)):
        left, top = 0.1 + (k % columns) * step, header + (k // columns) * row_height + 0.2
        canvas.ink(image.reshape(side, side), left, top, tile)
        canvas.text(left + tile / 2, top - 0.03, name, size=8.5, ha="center", va="bottom", fontweight="bold")
        canvas.text(left + tile / 2, top + tile + 0.04,
                    f"{format_coordinate(before[k])} \u2192 {format_coordinate(after[k])}", size=7.5,
                    ha="center", va="top")
    canvas.ink_colorbar(0.1 + columns * step + 0.05, header + 0.2, 0.12, min(2 * row_height - 0.3, 2.6))
    return canvas.finish(path)


def _target_outputs(model: MLP, targets: list[tuple[int, int]], images: list[np.ndarray]) -> tuple[list, list]:
    """Each target's output on the grey canvas and on its own image, from one evaluation."""
    rows = np.vstack([np.full((1, model.nin), GREY)] + [image.reshape(1, -1) for image in images])
    outputs = layer_outputs(model, rows)
    before = [outputs[layer][0, neuron] for layer, neuron in targets]
    after = [outputs[layer][1 + k, neuron] for k, (layer, neuron) in enumerate(targets)]
    return before, after


# --- 4. why this answer: saliency and occlusion ----------------------------

EXPLAIN_TILE = 0.95  # inches: six digits, four pictures of each, and the row names fit a page


def draw_explanations(
    model: MLP,
    X: np.ndarray,
    y: np.ndarray,
    correct: int = 3,
    wrong: int = 3,
    patch: int = 2,
    path: str | Path | None = None,
) -> Figure:
    """Why the network gave its answer, two ways, for ``correct`` right and ``wrong`` mistaken digits of ``X``.

    One column per digit; its rows: the digit; its ``saliency`` (the gradient
    of the answer's score with respect to each pixel: how the score leans);
    its ``occlusion`` (how much the answer's probability drops when a
    ``patch`` x ``patch`` square around a pixel turns grey: what the answer
    rests on); and where the two disagree, comparing the quarter of the
    pixels each one finds most important (largest |value|). Saliency and
    occlusion tiles each have their own colour scale, the number under them.
    Right answers are picked one per class, in the order of ``X``.
    """
    X, y = _checked_images(model, X, y, "draw_explanations")
    side = image_side(model.nin, "draw_explanations")
    for name, count in (("correct", correct), ("wrong", wrong)):
        if not isinstance(count, int) or count < 0:
            raise ValueError(f"draw_explanations: {name} must be a whole number of digits >= 0, got {count!r}")
    probabilities = class_probabilities(model, X)
    answers = np.argmax(probabilities, axis=1)
    chosen = _examples_to_explain(y, answers, correct, wrong)
    tile, step, names_width, header, row_height = EXPLAIN_TILE, EXPLAIN_TILE + 0.22, 1.5, 1.5, EXPLAIN_TILE + 0.36
    canvas = _Canvas(names_width + max(len(chosen), 3) * step + 0.1, header + 4 * row_height + 0.75)
    canvas.title(f"Why this answer? The network's answer for {len(chosen)} digits, right and wrong, explained "
                 "two ways:\nsaliency, the gradient of the answer's score, and occlusion, the drop in the answer's "
                 f"probability\nwhen a {patch}x{patch} patch is greyed out", size=10)
    _explanation_row_names(canvas, header, row_height, patch, model.nin // 4)
    for column, index in enumerate(chosen):
        left, answer = names_width + column * step, int(answers[index])
        right = answer == y[index]
        canvas.text(left + tile / 2, header - 0.06, f"a {y[index]}, answer {answer}\n"
                    f"p = {probabilities[index, answer]:.0%}", size=7.5, ha="center", va="bottom",
                    color="#1f2a33" if right else DEAD, fontweight="normal" if right else "bold")
        _explanation_column(canvas, model, X[index], answer, patch, left, header, row_height, side)
    _mark_mistakes(canvas, chosen, answers, y, names_width, step, header)
    legend_top = header + 4 * row_height + 0.1
    canvas.colorbar(ScalarMappable(Normalize(-1.0, 1.0), SIGNED_CMAP), "saliency, occlusion: from \u2212 to + the "
                    "number under the tile", 0.2, legend_top + 0.05, 2.6, 0.11, ticks=[-1, 0, 1])
    handles = [Patch(facecolor=colour, edgecolor="#8a949b", label=name) for name, colour in AGREEMENT]
    canvas.ax.legend(handles=handles, loc="upper left", ncol=4, fontsize=7.5, frameon=False,
                     bbox_to_anchor=(3.3 / canvas.width, 1.0 - legend_top / canvas.height),
                     title="bottom row: among the most important pixels of", title_fontsize=7.5)
    return canvas.finish(path)


def _examples_to_explain(y: np.ndarray, answers: np.ndarray, correct: int, wrong: int) -> list[int]:
    """Up to ``correct`` right answers (of different classes) and ``wrong`` mistakes, in the order of the data."""
    right_rows, seen = [], set()
    for index in np.flatnonzero(answers == y):
        if len(right_rows) < correct and y[index] not in seen:
            right_rows.append(int(index))
            seen.add(y[index])
    return right_rows + [int(index) for index in np.flatnonzero(answers != y)[:wrong]]


def _explanation_row_names(canvas: _Canvas, header: float, row_height: float, patch: int, important: int) -> None:
    names = (
        "the digit\n(above: its label,\nthe answer and its\nprobability)",
        "saliency:\nd score / d pixel\nblue: more ink here\nraises the score",
        f"occlusion:\nthe drop in p when\na {patch}x{patch} patch here\nturns grey",
        f"where they disagree:\nthe {important} pixels each\nfinds most important",
    )
    for row, name in enumerate(names):
        canvas.text(0.1, header + row * row_height + EXPLAIN_TILE / 2, name, size=7.5, va="center",
                    linespacing=1.25)


def _explanation_column(canvas: _Canvas, model: MLP, x: np.ndarray, answer: int, patch: int, left: float,
                        header: float, row_height: float, side: int) -> None:
    """The four tiles of one digit: the digit, saliency, occlusion, and where the last two disagree."""
    gradient = saliency(model, x, answer)
    drop = occlusion(model, x, answer, patch)
    canvas.ink(x.reshape(side, side), left, header, EXPLAIN_TILE)
    for row, explanation in ((1, gradient), (2, drop)):
        top, limit = header + row * row_height, _largest(explanation)
        canvas.signed(explanation / limit, left, top, EXPLAIN_TILE, 1.0)
        canvas.text(left + EXPLAIN_TILE / 2, top + EXPLAIN_TILE + 0.03, f"\u00b1{format_coordinate(limit)}",
                    size=7, ha="center", va="top")
    top = header + 3 * row_height
    canvas.tile(_agreement(gradient, drop), left, top, EXPLAIN_TILE,
                ListedColormap([colour for _, colour in AGREEMENT]), (-0.5, len(AGREEMENT) - 0.5))


def _agreement(gradient: np.ndarray, drop: np.ndarray) -> np.ndarray:
    """Per pixel, its place in AGREEMENT: which of the two ranks it in its top quarter (0 neither, 1 both, 2, 3)."""
    count = gradient.size // 4
    by_saliency, by_occlusion = _most_important(gradient, count), _most_important(drop, count)
    return np.select([by_saliency & by_occlusion, by_saliency, by_occlusion], [1, 2, 3], default=0)


def _most_important(values: np.ndarray, count: int) -> np.ndarray:
    """True at the ``count`` places of largest |value| (ties broken by position)."""
    order = np.argsort(-np.abs(values).ravel(), kind="stable")
    chosen = np.zeros(values.size, dtype=bool)
    chosen[order[:count]] = True
    return chosen.reshape(values.shape)


def _mark_mistakes(canvas: _Canvas, chosen: list[int], answers: np.ndarray, y: np.ndarray, names_width: float,
                   step: float, header: float) -> None:
    """A dashed line between the right answers and the mistakes, and a word over each group."""
    mistakes = [column for column, index in enumerate(chosen) if answers[index] != y[index]]
    right = len(chosen) - len(mistakes)
    if right:
        canvas.text(names_width + right * step / 2 - 0.11, header - 0.5, "right answers", size=8.5, ha="center",
                    fontweight="bold")
    if mistakes:
        canvas.text(names_width + (right + len(mistakes) / 2) * step - 0.11, header - 0.5, "mistakes", size=8.5,
                    ha="center", fontweight="bold", color=DEAD)
    if right and mistakes:
        x = names_width + right * step - 0.11
        canvas.ax.plot([x, x], [header - 0.6, canvas.height - 0.85], color="#8a949b", linewidth=0.8, linestyle="--")


# --- 5. one digit through the layers ---------------------------------------

_ORDINALS = ("first", "second", "third", "fourth", "fifth")  # the names of hidden layers in headings


def draw_layers_story(model: MLP, x: np.ndarray, label: int | None = None, strongest: int = 6,
                      path: str | Path | None = None) -> Figure:
    """One image followed through the network, left to right: from pixels to features to the answer.

    1. the pixels; 2. the ``strongest`` first-layer neurons on this image,
    each drawn by its weights (what it looks for) with its output; 3. every
    neuron of each later hidden layer, as bars of its output: these combine the
    first layer's features; 4. the probability of each class. ``label``, when
    given, is the digit the image really is.
    """
    side = _check_classifier(model, "draw_layers_story")
    _check_hidden_layer(model, "draw_layers_story")
    point = _one_image(model, x, "draw_layers_story")
    outputs = layer_outputs(model, point)
    first = outputs[0][0]
    if not isinstance(strongest, int) or not 1 <= strongest <= len(first):
        raise ValueError(f"draw_layers_story: strongest must be a whole number from 1 to {len(first)}, "
                         f"got {strongest!r}")
    probabilities = softmax_rows(outputs[-1])[0]
    later = outputs[1:-1]
    header = 1.0
    canvas = _Canvas(PAGE_WIDTH, header + 3.45)
    answer = int(np.argmax(probabilities))
    really = f" (it is a {label})" if label is not None else ""
    combine = "later layers combine them, the last one scores" if later else "the last layer weighs them to score"
    canvas.title(f"One digit followed through the network {_shape(model)}: the answer is {answer}{really}\n"
                 f"first-layer neurons respond to strokes in the pixels, {combine} each digit", size=10)
    pixels_width, gap = 1.45, 0.36
    _story_pixels(canvas, point.reshape(side, side), 0.1, header, pixels_width)
    left = 0.1 + pixels_width + gap
    arrows = [left - gap / 2]
    left += _story_first_layer(canvas, model, first, strongest, side, left, header) + gap
    arrows.append(left - gap / 2)
    bars_width = (PAGE_WIDTH - 0.25 - left - gap * len(later)) / (len(later) + 1)  # room for the last tick label
    for index, layer_output in enumerate(later, start=1):
        _story_hidden_layer(canvas, model, index, layer_output[0], left, header, bars_width)
        left += bars_width + gap
        arrows.append(left - gap / 2)
    _story_answer(canvas, probabilities, len(model.layers) + 1, left, header, bars_width)
    for arrow in arrows:
        canvas.text(arrow, header + 1.5, "\u2192", size=18, ha="center", va="center", color="#8a949b")
    return canvas.finish(path)


def _shape(model: MLP) -> str:
    return "(" + " \u2192 ".join(str(size) for size in model.sizes) + ")"


def _story_heading(canvas: _Canvas, words: str, left: float, top: float) -> None:
    canvas.text(left, top, words, size=8, va="top", fontweight="bold", linespacing=1.25)


def _story_pixels(canvas: _Canvas, image: np.ndarray, left: float, top: float, width: float) -> None:
    _story_heading(canvas, f"1. the pixels\n({image.size} inputs)", left, top)
    canvas.ink(image, left, top + 0.55, width)
    canvas.ink_colorbar(left, top + 0.55 + width + 0.2, width, 0.1)


def _story_first_layer(canvas: _Canvas, model: MLP, first: np.ndarray, strongest: int, side: int, left: float,
                       top: float) -> float:
    """The strongest first-layer neurons as weight images with their outputs; returns the width used."""
    weights = _first_layer_weights(model, side)
    limit = _largest(weights)
    order = np.argsort(-first, kind="stable")[:strongest]
    firing = int(np.sum(first > 0))
    columns, tile = 3, 0.62
    step = tile + 0.14
    _story_heading(canvas, f"2. first layer: the {strongest} strongest\nof its {len(first)} neurons "
                   f"({firing} fire)", left, top)
    for k, neuron in enumerate(order):
        tile_left, tile_top = left + (k % columns) * step, top + 0.7 + (k // columns) * (tile + 0.3)
        canvas.signed(weights[neuron], tile_left, tile_top, tile, limit)
        canvas.text(tile_left + tile / 2, tile_top - 0.03, f"{model.layers[0].neurons[neuron].label}\n"
                    f"out {format_coordinate(first[neuron])}", size=6.5, ha="center", va="bottom", linespacing=1.1)
    width = columns * step - 0.14
    bar_top = top + 0.7 + _rows(strongest, columns) * (tile + 0.3) - 0.1
    canvas.signed_colorbar(limit, "weight (drawn as in its tile)", left, bar_top, width, 0.1)
    return width


def _story_hidden_layer(canvas: _Canvas, model: MLP, index: int, outputs: np.ndarray, left: float, top: float,
                        width: float) -> None:
    """Every neuron of hidden layer ``index`` (from 0) as a bar of its output on the image."""
    layer = model.layers[index]
    ordinal = _ORDINALS[index] if index < len(_ORDINALS) else f"layer {index + 1}"
    _story_heading(canvas, f"{index + 2}. {ordinal} layer:\n{layer.nout} neurons' outputs\n"
                   f"({int(np.sum(outputs > 0))} fire)", left, top)
    ax = canvas.axes(left + 0.4, top + 0.7, width - 0.4, 2.35)
    colours = [POSITIVE if value > 0 else NEGATIVE for value in outputs]
    ax.barh(np.arange(layer.nout), outputs, color=colours, height=0.7)
    ax.set_yticks(np.arange(layer.nout), [neuron.label for neuron in layer.neurons], fontsize=6)
    ax.set_ylim(layer.nout - 0.5, -0.5)  # N1 at the top
    _finish_bars(ax, "output")


def _story_answer(canvas: _Canvas, probabilities: np.ndarray, number: int, left: float, top: float,
                  width: float) -> None:
    """The probability of each class as a bar, the answer's in blue with its value."""
    answer = int(np.argmax(probabilities))
    _story_heading(canvas, f"{number}. the answer:\nthe probability\nof each digit", left, top)
    ax = canvas.axes(left + 0.2, top + 0.7, width - 0.2, 2.35)
    classes = np.arange(len(probabilities))
    ax.barh(classes, probabilities, color=[POSITIVE if k == answer else "#b0b6ba" for k in classes], height=0.7)
    ax.set_yticks(classes, [str(k) for k in classes], fontsize=7)
    ax.set_ylim(len(classes) - 0.5, -0.5)
    ax.set_xlim(0.0, 1.0)
    ax.text(min(probabilities[answer], 0.55) + 0.03, answer, f"{probabilities[answer]:.0%}", fontsize=7,
            va="center", color="white" if probabilities[answer] > 0.55 else "#1f2a33")
    _finish_bars(ax, "probability")


def _finish_bars(ax: Axes, quantity: str) -> None:
    ax.set_xlabel(quantity, fontsize=7.5)
    ax.tick_params(axis="x", labelsize=6.5)
    ax.tick_params(axis="y", length=0)
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="x", alpha=0.3)
    ax.set_axisbelow(True)



# --- 6. which digits are mistaken for which --------------------------------


def draw_confusion(model: MLP, X: np.ndarray, y: np.ndarray, path: str | Path | None = None) -> Figure:
    """The confusion matrix: how many images of each true class (row) get each answer (column).

    The diagonal holds the right answers. The colour grows with the square
    root of the count, so that the few mistakes show beside the many right
    answers; every count that is not 0 is written in its cell, mistakes in bold.
    """
    counts = confusion_matrix(model, X, y)
    classes = len(counts)
    figure = new_figure(6.4, 5.8)
    ax = figure.add_subplot()
    shown = ax.imshow(counts, cmap=COUNT_CMAP, norm=PowerNorm(0.5, vmin=0, vmax=max(int(counts.max()), 1)))
    for true, answer in zip(*np.nonzero(counts)):
        dark = counts[true, answer] > 0.45 * counts.max()
        ax.text(answer, true, str(counts[true, answer]), ha="center", va="center", fontsize=8,
                color="white" if dark else "#1f2a33", fontweight="normal" if true == answer else "bold")
    ax.set_xticks(np.arange(classes))
    ax.set_yticks(np.arange(classes))
    ax.set_xlabel("the network's answer")
    ax.set_ylabel("the true digit")
    ax.tick_params(length=0)
    right = int(np.trace(counts))
    figure.suptitle(f"Which digits are mistaken for which: {right} of {counts.sum()} digits right "
                    f"({right / max(counts.sum(), 1):.1%})\nrow: the true digit, column: the answer; "
                    "off the diagonal, the mistakes", fontsize=10)
    figure.colorbar(shown, ax=ax, shrink=0.8).set_label("digits (colour: square root of the count)")
    if path is not None:
        save(figure, path)
    return figure


MISTAKE_TILE = 0.8  # inches: eight mistakes, each with two lines under it, to a row


def draw_misclassified(model: MLP, X: np.ndarray, y: np.ndarray, most: int = 48,
                       path: str | Path | None = None) -> Figure:
    """Every image of ``X`` the model gets wrong (the first ``most``), with its two best guesses.

    Under each: what it really is, then the network's first and second guess
    with their probabilities (the second is often the right one).
    """
    X, y = _checked_images(model, X, y, "draw_misclassified")
    side = image_side(model.nin, "draw_misclassified")
    probabilities = class_probabilities(model, X)
    guesses = np.argsort(-probabilities, axis=1, kind="stable")[:, :2]
    mistakes = np.flatnonzero(guesses[:, 0] != y)
    shown = mistakes[:most]
    columns, step, header, row_height = TILES_PER_ROW, MISTAKE_TILE + 0.2, 0.85, MISTAKE_TILE + 0.5
    canvas = _Canvas(0.1 + columns * step + 0.8, header + max(_rows(len(shown), columns), 1) * row_height)
    showing = f" (the first {len(shown)} shown)" if len(shown) < len(mistakes) else ""
    canvas.title(f"The {len(mistakes)} of {len(X)} digits that the network gets wrong{showing}, with its two best "
                 "guesses\nunder each: the true digit \u2192 the network's answer (its probability), then its second "
                 "guess", size=10)
    if not len(shown):
        canvas.text(0.1, header + 0.3, f"None: the network gets all {len(X)} right.", size=10)
    for k, index in enumerate(shown):
        left, top = 0.1 + (k % columns) * step, header + (k // columns) * row_height + 0.05
        canvas.ink(X[index].reshape(side, side), left, top, MISTAKE_TILE)
        first, second = guesses[index]
        canvas.text(left + MISTAKE_TILE / 2, top + MISTAKE_TILE + 0.03,
                    f"{y[index]} \u2192 {first} ({probabilities[index, first]:.0%})\n"
                    f"2nd: {second} ({probabilities[index, second]:.0%})", size=7.5, ha="center", va="top",
                    linespacing=1.2)
    canvas.ink_colorbar(0.1 + columns * step + 0.05, header + 0.05, 0.12, min(1.9, 2 * row_height - 0.3))
    return canvas.finish(path)
