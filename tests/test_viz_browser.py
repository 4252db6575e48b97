"""The report in a real browser: headless Chromium loads it, logs nothing, and shows a picture.

Chromium with ``--enable-logging=stderr`` prints every message of the page's
console on stderr as a line containing "CONSOLE" (uncaught exceptions, CSP
refusals, console.log alike). The report has no script at all, so a clean
page prints none: any such line is a failure. The first tests check that
this check works, on pages made to fail it.

Without Chromium these tests are skipped, except in CI (``CI=true``), where
``.ci/run`` installs Debian's chromium and a skip would hide a failure.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import matplotlib
import matplotlib.image
import numpy as np
import pytest

from nn import MLP, make_moons, train, train_test_split
from tests.browser import chromium
from viz.plots import plot_dataset
from viz.report import Chapter, Picture, Table, write_report, write_story

matplotlib.use("Agg")

CONSOLE_LINE = re.compile(r"CONSOLE[(:]")  # "INFO:CONSOLE(12)]" in older Chromium, "INFO:CONSOLE:12]" in newer


def open_in_chromium(page: Path, screenshot: Path, profile: Path) -> list[str]:
    """Load ``page`` in headless Chromium, save a screenshot, and return the console's messages."""
    command = [
        chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--enable-logging=stderr",
        "--v=0",
        f"--screenshot={screenshot}",
        "--window-size=1200,3000",
        page.resolve().as_uri(),
    ]
    finished = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert screenshot.exists(), f"Chromium wrote no screenshot (exit {finished.returncode}):\n{finished.stderr[-3000:]}"
    return [line for line in finished.stderr.splitlines() if CONSOLE_LINE.search(line)]


def is_blank(screenshot: Path) -> bool:
    """True when the picture is (nearly) one colour: nothing was drawn."""
    rgb = matplotlib.image.imread(screenshot)[..., :3]
    colours = np.unique((rgb.reshape(-1, 3) * 255).round().astype(np.uint8), axis=0)
    return len(colours) < 20 or float(rgb.std()) < 0.02


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    X, y = make_moons(80, 0.1, seed=11)
    X_train, X_test, y_train, y_test = train_test_split(X, y, seed=11)
    model = MLP(2, [8, 8, 1], seed=11)
    history = train(model, X_train, y_train, steps=20, learning_rate=0.5, X_test=X_test, y_test=y_test)
    return write_report(tmp_path_factory.mktemp("browser") / "report.html", model, X_train, y_train, history,
                        X_test, y_test)


# --- the checks catch what they should ----------------------------------------


def test_console_check_catches_an_uncaught_error(tmp_path):
    page = tmp_path / "error.html"
    page.write_text('<!DOCTYPE html><html><body><p>text</p><script>throw new Error("deliberate")</script>'
                    "</body></html>", encoding="utf-8")
    messages = open_in_chromium(page, tmp_path / "error.png", tmp_path / "profile")
    assert any("Uncaught Error: deliberate" in message for message in messages), messages


def test_console_check_catches_a_request_the_report_would_make(report, tmp_path):
    # The report's Content-Security-Policy refuses anything from elsewhere, and says so on the console.
    page = tmp_path / "fetching.html"
    page.write_text(report.read_text(encoding="utf-8").replace(
        "</main>", '<img alt="" src="https://example.invalid/tracker.png"></main>'), encoding="utf-8")
    messages = open_in_chromium(page, tmp_path / "fetching.png", tmp_path / "profile")
    assert any("example.invalid" in message and "Content Security Policy" in message for message in messages), messages


def test_blank_check_catches_an_empty_page(tmp_path):
    page = tmp_path / "empty.html"
    page.write_text("<!DOCTYPE html><html><body></body></html>", encoding="utf-8")
    open_in_chromium(page, tmp_path / "empty.png", tmp_path / "profile")
    assert is_blank(tmp_path / "empty.png")


# --- the report --------------------------------------------------------------------


def test_report_loads_without_console_messages_and_is_not_blank(report, tmp_path):
    screenshot = tmp_path / "report.png"
    messages = open_in_chromium(report, screenshot, tmp_path / "profile")
    assert messages == []
    assert not is_blank(screenshot)


def with_image_check(page: Path, checked: Path) -> Path:
    """A copy of ``page`` with one script added (and allowed by its policy) that logs how many images decoded."""
    checker = (
        "<script>window.addEventListener('load', () => {"
        " const broken = [...document.images].filter(image => !image.complete || image.naturalWidth === 0);"
        " if (broken.length) console.error('broken images: ' + broken.length);"
        " else console.log('images decoded: ' + document.images.length); });</script>"
    )
    text = page.read_text(encoding="utf-8")
    checked.write_text(text.replace("default-src 'none';", "default-src 'none'; script-src 'unsafe-inline';")
                       .replace("</body>", checker + "</body>"), encoding="utf-8")
    return checked


def test_every_image_of_the_report_decodes_in_the_browser(report, tmp_path):
    page = with_image_check(report, tmp_path / "checked.html")
    messages = open_in_chromium(page, tmp_path / "checked.png", tmp_path / "profile")
    images = report.read_text(encoding="utf-8").count("<img ")
    assert len(messages) == 1 and f"images decoded: {images}" in messages[0], messages


def _open_demo_report(demo: str, tmp_path: Path) -> tuple[str, list[str]]:
    """Run ``examples/<demo>.py`` for 3 steps, open its report in Chromium: (the report's text, console messages)."""
    import importlib
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples"))
    assert importlib.import_module(demo).main(["--steps", "3", "--quiet", "--out", str(tmp_path / "run")]) == 0
    report = tmp_path / "run" / "report.html"
    page = with_image_check(report, tmp_path / "checked.html")
    messages = open_in_chromium(page, tmp_path / "checked.png", tmp_path / "profile")
    assert not is_blank(tmp_path / "checked.png")
    return report.read_text(encoding="utf-8"), messages


def test_the_digits_demos_report_loads_and_every_picture_decodes(tmp_path):
    text, messages = _open_demo_report("digits", tmp_path)
    images = text.count("<img ")
    assert images == 9  # one picture per chapter
    assert len(messages) == 1 and f"images decoded: {images}" in messages[0], messages


def test_the_names_demos_report_loads_and_every_picture_decodes(tmp_path):
    text, messages = _open_demo_report("names", tmp_path)
    images = text.count("<img ")
    assert images == 5  # the training and four pictures; the attention head is an inline SVG
    assert "<svg" in text
    assert len(messages) == 1 and f"images decoded: {images}" in messages[0], messages


def test_a_story_page_loads_without_console_messages_and_is_not_blank(tmp_path):
    X, y = make_moons(40, 0.1, seed=5)
    svg = tmp_path / "box.svg"
    svg.write_text('<svg width="80pt" height="40pt" xmlns="http://www.w3.org/2000/svg"><rect width="80" height="40" '
                   'fill="#0877bd"/></svg>', encoding="utf-8")
    chapters = [Chapter("First", ["Some words.", Picture(plot_dataset(X, y), "the points")]),
                Chapter("Second", [Table([["a", "b"], ["1", "2"]]), Picture(svg, "a box")])]
    page = write_story(tmp_path / "story.html", "A story", chapters)
    screenshot = tmp_path / "story.png"
    assert open_in_chromium(page, screenshot, tmp_path / "profile") == []
    assert not is_blank(screenshot)
