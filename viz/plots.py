"""Plots of a classifier from the outside: its data, its decision regions, its training curves.

These three pictures answer "what was the task, what did the network learn,
and how did learning go"; ``compare_boundaries`` puts several models' regions
side by side on one colour scale. The pictures that open the network up (its
diagram, every neuron's map, saliency) live in ``viz.network``,
``viz.neurons`` and ``viz.features``.

Each function returns a matplotlib Figure, takes an optional ``ax`` to draw
into where one panel suffices, and writes the picture when given ``path``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.contour import ContourSet
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator, PercentFormatter

from nn.evaluate import classify, predict, softmax_rows
from nn.module import MLP
from nn.train import History
from viz.style import (
    PAGE_WIDTH,
    SIGNED_CMAP,
    InputPlane,
    check_two_inputs,
    class_color,
    class_colors,
    figure_and_axes,
    finish_plane_axes,
    input_plane,
    new_figure,
    save,
)

__all__ = ["plot_dataset", "decision_boundary", "compare_boundaries", "score_scale", "training_curves"]

TRAIN_COLOR = "#2c3e50"
TEST_COLOR = "#c0392b"


def _scatter_classes(ax: Axes, X: np.ndarray, y: np.ndarray, hollow: bool = False, size: float = 22) -> None:
    """Points coloured by class: filled with a white rim, or hollow rings (for test points)."""
    colors = class_colors(y)
    if hollow:
        ax.scatter(X[:, 0], X[:, 1], s=size, facecolors="none", edgecolors=colors, linewidths=1.3, zorder=3)
    else:
        ax.scatter(X[:, 0], X[:, 1], s=size, c=colors, edgecolors="white", linewidths=0.6, zorder=3)


def _class_legend(ax: Axes, classes: int, with_test: bool) -> None:
    handles = [
        Line2D([], [], marker="o", linestyle="", markersize=6, markerfacecolor=class_color(k),
               markeredgecolor="white", label=f"class {k}")
        for k in range(classes)
    ]
    if with_test:
        handles.append(Line2D([], [], marker="o", linestyle="", markersize=6, markerfacecolor="none",
                              markeredgecolor="#555555", label="test point"))
    ax.legend(handles=handles, loc="best", fontsize=8, framealpha=0.85)


def plot_dataset(
    X: np.ndarray,
    y: np.ndarray,
    X_test: np.ndarray | None = None,
    y_test: np.ndarray | None = None,
    ax: Axes | None = None,
    path: str | Path | None = None,
) -> Figure:
    """The 2-D points coloured by class; test points, when given, as hollow rings."""
    X, y = np.asarray(X, dtype=float), np.asarray(y)
    fig, ax = figure_and_axes(ax, 5.0, 4.2)
    _scatter_classes(ax, X, y)
    with_test = X_test is not None and y_test is not None
    if with_test:
        _scatter_classes(ax, np.asarray(X_test, dtype=float), np.asarray(y_test), hollow=True)
    classes = int(max(y.max(), np.max(y_test) if with_test else 0)) + 1
    _class_legend(ax, classes, with_test)
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    counts = f"{len(X)} training points" + (f", {len(X_test)} test points" if with_test else "")
    ax.set_title(f"The data: {counts}", fontsize=11)
    if path is not None:
        save(fig, path)
    return fig


def decision_boundary(
    model: MLP,
    X: np.ndarray,
    y: np.ndarray,
    ax: Axes | None = None,
    resolution: int = 200,
    X_test: np.ndarray | None = None,
    y_test: np.ndarray | None = None,
    path: str | Path | None = None,
    score_limit: float | None = None,
    colorbar: bool = True,
) -> Figure:
    """The regions of the input plane the model gives to each class, with the data on top.

    - One output (a score): the score is shaded (blue positive: class 1,
      orange negative: class 0) and the line where it is 0, the decision
      boundary, is drawn in black. The colour scale runs from
      ``-score_limit`` to ``score_limit`` (default: ``score_scale`` of this
      model's scores over the plane; give the same number to pictures that
      must be compared), with a colour bar unless ``colorbar``
      is False.
    - Several outputs (logits): each point of the plane takes the colour of
      the largest logit's class, paler where the softmax is less sure.

    The model is evaluated on a ``resolution`` x ``resolution`` grid with
    ``nn.evaluate.predict``, all points at once.
    """
    check_two_inputs(model, "decision_boundary")
    X, y = np.asarray(X, dtype=float), np.asarray(y)
    with_test = X_test is not None and y_test is not None
    everything = np.vstack([X, np.asarray(X_test, dtype=float)]) if with_test else X
    plane = input_plane(everything, resolution)
    scores = predict(model, plane.points)
    fig, ax = figure_and_axes(ax, 6.0, 4.6)
    if scores.shape[1] == 1:
        limit = score_limit if score_limit is not None else score_scale(scores[:, 0])
        _shade_score(fig, ax, plane, plane.image(scores[:, 0]), limit, colorbar)
    else:
        _shade_classes(ax, plane, scores)
    _scatter_classes(ax, X, y)
    if with_test:
        _scatter_classes(ax, np.asarray(X_test, dtype=float), np.asarray(y_test), hollow=True)
    classes = max(scores.shape[1], 2)  # a single score separates two classes
    _class_legend(ax, max(classes, int(y.max()) + 1), with_test)
    accuracy = float(np.mean(classify(model, X) == y))
    finish_plane_axes(ax, plane, f"Decision regions (training accuracy {accuracy:.1%})")
    if path is not None:
        save(fig, path)
    return fig


def compare_boundaries(
    models: Sequence[MLP],
    titles: Sequence[str],
    X: np.ndarray,
    y: np.ndarray,
    resolution: int = 200,
    path: str | Path | None = None,
) -> Figure:
    """Single-score models' decision regions side by side, over the same plane and on one colour scale.

    With a scale of its own, a model whose scores are all near 0 would look
    as sure as one that scores 10; on a shared scale, its panel stays pale.
    One colour bar serves every panel; the panels are ``figure.axes[:len(models)]``.
    """
    for model in models:
        check_two_inputs(model, "compare_boundaries")
        if model.sizes[-1] != 1:
            raise ValueError(f"compare_boundaries compares single scores; {model!r} has {model.sizes[-1]} outputs")
    plane = input_plane(np.asarray(X, dtype=float), resolution)
    limit = max(score_scale(predict(model, plane.points)[:, 0]) for model in models)
    figure = new_figure(min(4.0 * len(models) + 1.2, PAGE_WIDTH), 4.4)
    axes = figure.subplots(1, len(models), squeeze=False)[0]
    for ax, model, title in zip(axes, models, titles):
        decision_boundary(model, X, y, ax=ax, resolution=resolution, score_limit=limit, colorbar=False)
        ax.set_title(title, fontsize=11)
    shading = next(c for c in axes[0].collections if isinstance(c, ContourSet) and c.filled)
    ticks = MaxNLocator(nbins=4, symmetric=True).tick_values(-limit, limit)
    colorbar = figure.colorbar(shading, ax=list(axes), shrink=0.85, ticks=ticks)
    colorbar.set_label("score (class 1 where > 0)\none scale for every panel")
    if path is not None:
        save(figure, path)
    return figure


def score_scale(scores: np.ndarray) -> float:
    """The end of a score's colour scale: the 95th percentile of |scores|, rounded up to a round number.

    Scores grow without bound away from the data; letting the few extreme
    ones saturate keeps the shading near the boundary readable.
    """
    largest = max(float(np.percentile(np.abs(scores), 95)), 1e-6)
    return float(MaxNLocator(nbins=4, symmetric=True).tick_values(-largest, largest)[-1])


def _shade_score(fig: Figure, ax: Axes, plane: InputPlane, score: np.ndarray, limit: float, colorbar: bool) -> None:
    """One score: blue where positive (class 1), orange where negative, its 0 line in black, a colour bar."""
    levels = np.linspace(-limit, limit, 21)
    filled = ax.contourf(plane.xs, plane.ys, score, levels=levels, cmap=SIGNED_CMAP, extend="both", alpha=0.85)
    if score.min() < 0 < score.max():
        ax.contour(plane.xs, plane.ys, score, levels=[0.0], colors="black", linewidths=1.6)
    if colorbar:
        ticks = MaxNLocator(nbins=4, symmetric=True).tick_values(-limit, limit)
        fig.colorbar(filled, ax=ax, shrink=0.85, ticks=ticks).set_label("score (class 1 where > 0)")


def _shade_classes(ax: Axes, plane: InputPlane, scores: np.ndarray) -> None:
    """Several logits: each point in its winning class's colour, paler where the softmax is less sure."""
    classes = scores.shape[1]
    winner = np.argmax(scores, axis=1)
    # 1/k when the softmax cannot choose, 1 when it is sure: mapped to pale .. strong
    confidence = (softmax_rows(scores).max(axis=1) - 1.0 / classes) / (1.0 - 1.0 / classes)
    strength = (0.15 + 0.35 * confidence)[:, None]  # pale enough for the points to stand out
    rgb = 1.0 - strength * (1.0 - class_colors(winner))
    ax.imshow(rgb.reshape(*plane.shape, 3), origin="lower", extent=plane.extent, interpolation="bilinear")
    # class k wins where its logit beats the best of the others: the boundary is that margin's 0 line
    for k in range(classes):
        image = plane.image(scores[:, k] - np.delete(scores, k, axis=1).max(axis=1))
        if image.min() < 0 < image.max():
            ax.contour(plane.xs, plane.ys, image, levels=[0.0], colors="black", linewidths=1.0)


def training_curves(history: History, path: str | Path | None = None) -> Figure:
    """Loss and accuracy after every step: two panels, train solid, test dashed (when recorded).

    Each panel's legend, with the final values, sits under it, clear of the curves.
    """
    fig = new_figure(PAGE_WIDTH, 3.9)
    loss_ax, accuracy_ax = fig.subplots(1, 2)
    steps = np.arange(1, len(history.loss) + 1)
    panels = (
        (loss_ax, "Loss", history.loss, history.test_loss, "{:.4f}"),
        (accuracy_ax, "Accuracy", history.accuracy, history.test_accuracy, "{:.1%}"),
    )
    for ax, name, train_values, test_values, number in panels:
        ax.set_title(name, fontsize=11)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
        if not train_values:
            ax.text(0.5, 0.5, "no training steps recorded", ha="center", va="center", transform=ax.transAxes)
            continue
        ax.plot(steps, train_values, color=TRAIN_COLOR, linewidth=1.8,
                label=f"train (final {number.format(train_values[-1])})")
        if test_values:
            ax.plot(np.arange(1, len(test_values) + 1), test_values, color=TEST_COLOR, linewidth=1.8,
                    linestyle="--", label=f"test (final {number.format(test_values[-1])})")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        # under the panel, not in it: inside, it would cover the curve's end (the 100% plateau, the lowest loss)
        ax.legend(fontsize=9, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, frameon=False)
    if history.accuracy:
        accuracy_ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        lowest = min(history.accuracy + history.test_accuracy)
        accuracy_ax.set_ylim(max(0.0, lowest - 0.05), 1.01)
    if history.loss:
        loss_ax.set_ylim(bottom=0.0)
    if path is not None:
        save(fig, path)
    return fig
