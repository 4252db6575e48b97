"""The computation graphs the demos and the report draw: each fits on a screen, and says what it shows.

A picture that cannot be read at the size it is shown teaches nothing (STYLE.md). The
graphs are measured in the units of their SVG, points: 1 pt is 4/3 of a CSS pixel, so
a 1920 x 1080 screen shows 1440 x 810 pt at 100%.
"""

from __future__ import annotations

import importlib
import re
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from engine import Value, topological_order
from nn import MLP, make_circles, make_spirals, train
from nn.evaluate import sample_loss
from viz import render
from viz.report import write_report

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
sys.path.insert(0, str(EXAMPLES))

SCREEN = (1440.0, 810.0)  # width, height in points: a 1920 x 1080 screen at 100%
SVG_SIZE = re.compile(r'<svg width="([\d.]+)pt" height="([\d.]+)pt"')
NATURAL_SIZE = re.compile(r"--natural-width: ([\d.]+)pt; --natural-height: ([\d.]+)pt")

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot program is not installed")


def svg_size(path: Path) -> tuple[float, float]:
    width, height = SVG_SIZE.search(path.read_text()).groups()
    return float(width), float(height)


def fits_a_screen(size: tuple[float, float]) -> bool:
    return size[0] <= SCREEN[0] and size[1] <= SCREEN[1]


@pytest.fixture
def graph_only(monkeypatch):
    """The demos' pictures cut down to graph.svg, drawn as ``common.write_pictures`` draws it."""
    common = importlib.import_module("common")

    def write_graph(folder, model, X, y, history, loss, *args, **kwargs):
        return [render(common.sample_picture(model, X, y, loss), folder / "graph.svg")]

    monkeypatch.setattr(common, "write_pictures", write_graph)


@needs_dot
@pytest.mark.parametrize("demo", ["moons", "circles", "xor", "spirals"])
def test_each_demos_graph_fits_a_screen(demo, tmp_path, graph_only, capsys):
    module = importlib.import_module(demo)
    assert module.main(["--steps", "3", "--quiet", "--out", str(tmp_path)]) == 0
    size = svg_size(tmp_path / "graph.svg")
    assert fits_a_screen(size), f"{demo}'s graph.svg is {size[0]:.0f} x {size[1]:.0f} pt, more than {SCREEN}"


@needs_dot
def test_the_inside_demos_graph_fits_a_screen(tmp_path, capsys):
    assert importlib.import_module("inside").main(["--steps", "3", "--quiet", "--out", str(tmp_path)]) == 0
    size = svg_size(tmp_path / "2_one_prediction_graph.svg")
    assert fits_a_screen(size), f"inside's graph is {size[0]:.0f} x {size[1]:.0f} pt, more than {SCREEN}"
    assert "cluster_legend" in (tmp_path / "2_one_prediction_graph.svg").read_text()  # Graphviz keeps the name


@needs_dot
def test_the_reports_graph_of_a_wide_network_fits_a_screen(tmp_path):
    X, y = make_spirals(n=60, classes=3, seed=0)
    # Drawn as the spirals demo's MLP(2, [32, 32, 3]) is, each hidden layer cut to a column of twelve
    # boxes, with half the neurons for the report's other pictures to draw.
    model = MLP(2, [16, 16, 3], seed=0)
    history = train(model, X, y, loss="softmax", steps=3)
    page = write_report(tmp_path / "report.html", model, X, y, history).read_text()
    width, height = (float(number) for number in NATURAL_SIZE.search(page).groups())
    assert fits_a_screen((width, height)), f"the report's graph is {width:.0f} x {height:.0f} pt"
    assert "+ 5 more neurons" in page


def circles_beyond_the_margin() -> tuple[MLP, np.ndarray, np.ndarray]:
    """The circles demo's network, with every training point beyond the hinge loss's margin."""
    X, _ = make_circles(n=100, noise=0.05, factor=0.5, seed=0)
    model = MLP(2, [8, 8, 1], activation="tanh", seed=0)
    # eight tanh outputs in [-1, 1], times weights in [-1, 1], move the score less than 8 from the bias
    model.layers[-1].neurons[0].b.data = 20.0
    return model, X, np.ones(len(X), dtype=int)


@needs_dot
def test_a_graph_with_no_gradient_says_why_and_still_fits(tmp_path):
    common = importlib.import_module("common")
    model, X, y = circles_beyond_the_margin()
    graph = common.sample_picture(model, X, y, "hinge")
    caption = " ".join(re.search(r'\blabel="([^"]*)"\s*labelloc=t', graph.source, re.DOTALL).group(1).split())
    assert "Every training point has hinge loss 0" in caption and "beyond the margin" in caption
    assert "No gradient flows back from loss: relu's derivative" in caption
    assert fits_a_screen(svg_size(render(graph, tmp_path / "graph.svg")))


@needs_dot
def test_every_graph_a_demo_writes_has_the_legend(tmp_path):
    common = importlib.import_module("common")
    model, X, y = circles_beyond_the_margin()
    assert "cluster_legend" in common.sample_picture(model, X, y, "hinge").source
    # one plain neuron, which draw_dot alone draws without a legend, as trace_graph draws its own
    product = Value(2.0, label="x") * Value(-3.0, label="w")
    product.label = "o"
    product.backward()
    svg, *_ = common.draw_graph(product, tmp_path / "plain")
    assert "cluster_legend" in svg.read_text()
    assert "cluster_legend" not in common.draw_graph(product, tmp_path / "bare", legend=False)[0].read_text()


# --- what the loss graphs call their numbers ------------------------------------------


def leaves(root) -> dict[str, float]:
    return {node.label: node.data for node in topological_order(root) if not node.parents}


def test_sample_loss_labels_the_inputs_the_target_and_the_margin():
    model = MLP(2, [4, 1], seed=3)
    loss = sample_loss(model, np.array([0.5, -1.0]), 0, "hinge")
    found = leaves(loss)
    assert found["x1"] == 0.5 and found["x2"] == -1.0
    assert found["y"] == -1.0 and found["margin"] == 1.0  # class 0 is the hinge loss's target -1
    assert loss.label == "loss"


@pytest.mark.parametrize(("loss", "target"), [("mse", 1.0), ("bce", 1.0)])
def test_sample_loss_labels_the_target_y(loss, target):
    value = sample_loss(MLP(2, [4, 1], seed=3), np.array([0.5, -1.0]), 1, loss)
    assert leaves(value)["y"] == target


def test_the_binary_cross_entropy_names_the_parts_of_its_formula():
    value = sample_loss(MLP(2, [4, 1], seed=3), np.array([0.5, -1.0]), 1, "bce")
    labels = {node.label for node in topological_order(value)}
    assert {"relu(z)", "|z|", "softplus(z)"} <= labels


def test_the_softmax_picture_is_the_loss_the_training_records():
    from nn.evaluate import find_hardest

    X, y = make_spirals(n=30, classes=3, seed=2)
    model = MLP(2, [4, 3], seed=2)
    hardest = find_hardest(model, X, y, "softmax")
    picture = sample_loss(model, X[hardest.index], int(y[hardest.index]), "softmax")
    assert picture.data == pytest.approx(hardest.loss, rel=1e-12)
    assert {"max(z)", "log sum exp"} <= {node.label for node in topological_order(picture)}
