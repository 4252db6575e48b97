"""The HTML report: one self-contained page with every section, the metrics and the sample's graph."""

from __future__ import annotations

import base64
import html
import os
import re
import shutil
from pathlib import Path

import matplotlib
import numpy as np
import pytest

from nn import MLP, History, make_blobs, make_moons, train, train_test_split
from tests.helpers import PNG_SIGNATURE
from viz import report
from viz.graph import GraphvizNotFound
from viz.plots import plot_dataset
from viz.report import CONTENT_WIDTH_PX, SECTION_TITLES, Chapter, Picture, Table, write_report, write_story

matplotlib.use("Agg")

INSTALL_HELP = html.escape(str(GraphvizNotFound()))  # what a missing dot program says, as the page shows it


def running_in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


@pytest.fixture(scope="module")
def run() -> tuple[MLP, np.ndarray, np.ndarray, np.ndarray, np.ndarray, History]:
    """A small moons model trained with a held-out test set."""
    X, y = make_moons(80, 0.1, seed=7)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_fraction=0.25, seed=7)
    model = MLP(2, [8, 8, 1], seed=7)
    history = train(model, X_train, y_train, steps=25, learning_rate=0.5, l2=1e-4, X_test=X_test, y_test=y_test)
    return model, X_train, y_train, X_test, y_test, history


@pytest.fixture(scope="module")
def page(run, tmp_path_factory) -> str:
    model, X_train, y_train, X_test, y_test, history = run
    path = tmp_path_factory.mktemp("report") / "report.html"
    returned = write_report(path, model, X_train, y_train, history, X_test, y_test, title="Moons, 8-8-1")
    assert Path(returned) == path
    return path.read_text(encoding="utf-8")


def references(page: str) -> list[str]:
    """Every address the page points at: src and href attributes (SVG's xlink:href too) and CSS url()."""
    attributes = re.findall(r"""(?:src|href)\s*=\s*["']([^"']*)["']""", page, flags=re.IGNORECASE)
    return attributes + re.findall(r"url\(\s*['\"]?([^'\")]*)", page, flags=re.IGNORECASE)


def test_report_refers_to_nothing_outside_itself(page):
    for address in references(page):
        assert address.startswith(("data:", "#")), f"the report refers to {address[:80]!r}"
    assert "http://" not in page and "https://" not in page
    assert "@import" not in page
    assert "<script" not in page.lower()
    assert "<link" not in page.lower()


def test_report_forbids_the_browser_to_fetch_anything(page):
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page)
    assert policy is not None
    assert "default-src 'none'" in policy.group(1)


def test_report_images_are_inline_pngs(page):
    sources = re.findall(r'<img [^>]*src="([^"]+)"', page)
    assert len(sources) >= 7  # data, network, boundary, neurons, saliency, ascent, health, curves
    for source in sources:
        prefix = "data:image/png;base64,"
        assert source.startswith(prefix)
        assert base64.b64decode(source[len(prefix):])[:8] == PNG_SIGNATURE


def test_report_has_every_section(page):
    headings = re.findall(r"<h2>(.*?)</h2>", page)
    assert headings == [html.escape(title) for title in SECTION_TITLES]
    assert "<h1>Moons, 8-8-1</h1>" in page


def test_report_shows_the_final_metrics(page, run):
    history = run[-1]
    for number in (f"{history.loss[-1]:.4f}", f"{history.accuracy[-1]:.1%}",
                   f"{history.test_loss[-1]:.4f}", f"{history.test_accuracy[-1]:.1%}"):
        assert number in page


def test_report_inlines_the_sample_graph_as_svg_when_dot_is_installed(page):
    if shutil.which("dot") is None:
        if running_in_ci():
            pytest.fail("Graphviz's dot must be installed in CI (.ci/run installs it)")
        pytest.skip("Graphviz's dot program is not installed")
    graph = re.search(r'<div class="graph"><svg.*?</svg>', page, flags=re.DOTALL)
    assert graph is not None
    assert "loss" in graph.group(0)
    assert "<?xml" not in page and "<!DOCTYPE svg" not in page
    assert INSTALL_HELP not in page


def test_report_without_dot_explains_how_to_install_it(run, tmp_path, monkeypatch):
    model, X_train, y_train, X_test, y_test, history = run
    monkeypatch.setenv("PATH", "")
    path = write_report(tmp_path / "report.html", model, X_train, y_train, history)
    page = path.read_text(encoding="utf-8")
    assert INSTALL_HELP in page
    assert "<svg" not in page
    assert re.findall(r"<h2>(.*?)</h2>", page) == [html.escape(title) for title in SECTION_TITLES]


def test_report_survives_a_graph_renderer_that_fails(run, tmp_path, monkeypatch):
    model, X_train, y_train, X_test, y_test, history = run

    def failing_draw_dot(root, **options):
        raise RuntimeError("deliberate failure")

    monkeypatch.setattr(report, "draw_dot", failing_draw_dot)
    page = write_report(tmp_path / "report.html", model, X_train, y_train, history).read_text(encoding="utf-8")
    assert "could not be drawn (RuntimeError: deliberate failure)" in page
    assert re.findall(r"<h2>(.*?)</h2>", page) == [html.escape(title) for title in SECTION_TITLES]


def test_report_without_sample_graph_says_so(run, tmp_path):
    model, X_train, y_train, X_test, y_test, history = run
    path = write_report(tmp_path / "r.html", model, X_train, y_train, history, sample_graph=False)
    page = path.read_text(encoding="utf-8")
    assert "sample_graph=False" in page
    assert "<svg" not in page


def test_writing_a_report_leaves_the_model_unchanged(run, tmp_path):
    model, X_train, y_train, X_test, y_test, history = run
    for k, p in enumerate(model.parameters()):
        p.grad = 0.5 * k
    before = [(p.data, p.grad) for p in model.parameters()]
    write_report(tmp_path / "report.html", model, X_train, y_train, history)
    assert [(p.data, p.grad) for p in model.parameters()] == before
    model.zero_grad()


def test_report_of_a_three_class_model(tmp_path):
    X, y = make_blobs(60, centers=3, seed=1)
    model = MLP(2, [6, 3], seed=1)
    history = train(model, X, y, loss="softmax", steps=10, learning_rate=0.2)
    page = write_report(tmp_path / "blobs.html", model, X, y, history).read_text(encoding="utf-8")
    assert re.findall(r"<h2>(.*?)</h2>", page) == [html.escape(title) for title in SECTION_TITLES]
    assert "softmax cross-entropy" in page


def test_report_of_an_untrained_model_has_no_curves_but_everything_else(tmp_path):
    X, y = make_moons(30, 0.1, seed=2)
    path = write_report(tmp_path / "untrained.html", MLP(2, [4, 1], seed=2), X, y, None)
    page = path.read_text(encoding="utf-8")
    assert "No training history was recorded" in page
    assert re.findall(r"<h2>(.*?)</h2>", page) == [html.escape(title) for title in SECTION_TITLES]


def headings(page: str) -> list[str]:
    return re.findall(r"<h2>(.*?)</h2>", page)


def png_widths(page: str) -> list[int]:
    """The width in pixels of every inline PNG (bytes 16 to 20 of a PNG: its IHDR width, big-endian)."""
    sources = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    return [int.from_bytes(base64.b64decode(source)[16:20], "big") for source in sources]


def test_training_curves_section_speaks_of_a_dashed_test_curve_only_when_there_is_one(run, page, tmp_path):
    model, X_train, y_train, X_test, y_test, _ = run
    assert "test curve (dashed)" in page
    history = train(MLP(2, [4, 1], seed=0), X_train, y_train, steps=3)
    alone = write_report(tmp_path / "r.html", model, X_train, y_train, history, sample_graph=False)
    text = alone.read_text(encoding="utf-8")
    assert "dashed" not in text and "no test set" in text


def test_report_explains_a_hardest_point_shared_by_two_classes_and_writes_no_minus_zero(tmp_path):
    X = np.array([[-0.0, 0.0], [0.0, 0.0], [1.0, 1.0], [-1.0, 1.0]])
    y = np.array([0, 1, 1, 0])
    model = MLP(2, [4, 1], seed=0)
    for p in model.parameters():
        p.data = 0.0
    model.layers[-1].neurons[0].b.data = 5.0  # score 5 everywhere: every class-0 point has hinge loss 6
    page = write_report(tmp_path / "r.html", model, X, y, None, sample_graph=False).read_text(encoding="utf-8")
    assert "(0, 0), class 0" in page  # the first of the hardest points, at -0.0 and 0.0
    assert "-0.00" not in page
    assert "2 training points sit exactly there, of classes 0 and 1" in page


def test_report_tells_a_story_first_then_the_sections_asked_for(run, tmp_path):
    model, X_train, y_train, X_test, y_test, history = run
    story = [Chapter("Once upon a time", [
        "A paragraph & more.",
        Picture(plot_dataset(X_train, y_train), "the data, as told"),
        Table([["name", "value"], ["answer", "42"]]),
    ])]
    page = write_report(tmp_path / "r.html", model, X_train, y_train, history, story=story,
                        sections=("The data", "Unit health"), sample_graph=False).read_text(encoding="utf-8")
    assert headings(page) == ["Once upon a time", "The data", "Unit health"]
    assert "<p>A paragraph &amp; more.</p>" in page
    assert "<figcaption>the data, as told</figcaption>" in page
    assert "<th>name</th>" in page and "<td>42</td>" in page


def test_report_refuses_a_section_it_does_not_have(run, tmp_path):
    model, X_train, y_train, *_ = run
    with pytest.raises(ValueError, match="no section 'The weather'"):
        write_report(tmp_path / "r.html", model, X_train, y_train, None, sections=("The weather",))


def test_a_story_page_inlines_its_png_and_svg_files_and_refers_to_nothing_outside(tmp_path):
    figure_path = tmp_path / "points.png"
    plot_dataset(np.array([[0.0, 1.0], [1.0, 0.0]]), np.array([0, 1]), path=figure_path)
    svg_path = tmp_path / "box.svg"
    svg_path.write_text('<?xml version="1.0"?>\n<svg width="40pt" height="20pt" xmlns="http://www.w3.org/2000/svg">'
                        '<rect width="40" height="20"/></svg>', encoding="utf-8")
    chapters = [Chapter("Pictures", [Picture(figure_path, "a png"), Picture(svg_path, "an svg")])]
    page = write_story(tmp_path / "story.html", "A story", chapters).read_text(encoding="utf-8")
    assert headings(page) == ["Pictures"]
    assert '<div class="graph"><svg style="--natural-width: 40pt' in page
    assert len(png_widths(page)) == 1
    for address in references(page):
        assert address.startswith(("data:", "#")), address
    assert "default-src 'none'" in page


def test_every_picture_of_a_wide_networks_report_fits_the_column_unshrunk(tmp_path):
    X, y = make_moons(40, 0.1, seed=3)
    model = MLP(2, [32, 1], seed=3)
    history = train(model, X, y, steps=2, learning_rate=0.1)
    page = write_report(tmp_path / "r.html", model, X, y, history, sample_graph=False).read_text(encoding="utf-8")
    widths = png_widths(page)
    assert len(widths) >= 7
    assert max(widths) <= CONTENT_WIDTH_PX, widths
