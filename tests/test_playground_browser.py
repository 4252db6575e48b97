"""The playground in a real browser: headless Chromium loads the page, trains, and shows a graph.

Chromium is driven through its DevTools protocol over a pipe by ``tests.browser.Browser``,
which keeps every complaint the page makes (console errors, exceptions, CSP refusals).

The test starts a real server (``make_server`` on a free port) in a thread, loads the page,
presses play, sees frames arrive (the boundary canvas changes), clicks a neuron and sees
its graph, changes the learning rate while training and sees the frames follow without a
reset, clicks a weight (its formula with the numbers in) and the output (the point's loss
as a graph), and checks that the page reported nothing. A last check proves the error catcher
works, by breaking the page's policy on purpose.

Without Chromium the test is skipped, except in CI (``CI=true``), where a skip would hide
a failure. Set ``PLAYGROUND_SHOTS`` to a folder to keep the screenshots taken at 1366x768
and 1920x1080.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path

import pytest

from nn.losses import LOSSES
from tests.browser import Browser, chromium
from viz.style import NEGATIVE, POSITIVE, ZERO, class_color


@pytest.fixture
def browser(tmp_path):
    program = chromium(pipe=True)
    profile = tempfile.mkdtemp(prefix="glassgrad-chromium-", dir=tmp_path)
    driver = Browser(program, profile)
    yield driver
    driver.close()


@pytest.fixture
def server():
    from viz.playground.server import make_server

    playground = make_server("127.0.0.1", 0)
    thread = threading.Thread(target=playground.serve_forever, daemon=True)
    thread.start()
    yield playground
    playground.shutdown()
    playground.server_close()
    thread.join(timeout=5)


BOUNDARY_PICTURE = "document.getElementById('boundary').toDataURL()"
FRAME_STEP = "state.frame ? state.frame.step : -1"


def neuron_position(browser: Browser, layer: int, neuron: int) -> tuple[float, float]:
    """Where the page drew hidden neuron `neuron` of `layer` (1-based), in window pixels."""
    return tuple(browser.evaluate(f"""(() => {{
        const canvas = document.getElementById('network');
        canvas.scrollIntoView({{block: "center"}});
        const rect = canvas.getBoundingClientRect();
        const box = state.layout.layers[{layer}][{neuron - 1}];
        return [rect.left + box.x + box.side / 2, rect.top + box.y + box.side / 2]; }})()"""))


def edge_midpoint(browser: Browser, layer: int, neuron: int, source: int) -> tuple[float, float]:
    """The middle of the line the page drew for weight `source` of neuron `neuron` of `layer` (all 1-based)."""
    return tuple(browser.evaluate(f"""(() => {{
        const canvas = document.getElementById('network');
        canvas.scrollIntoView({{block: "center"}});
        const rect = canvas.getBoundingClientRect();
        const edge = state.layout.edges.find(e => e.layer === {layer} && e.neuron === {neuron} && e.input === {source});
        return [rect.left + (edge.x0 + edge.x1) / 2, rect.top + (edge.y0 + edge.y1) / 2]; }})()"""))


# Resolves once the page has stopped scrolling (it scrolls smoothly to a graph it opens), so that
# the next click lands where it was aimed.
SCROLLING_STOPPED = """new Promise(done => { let last = -1;
    const look = () => {
        if (window.scrollY === last) done(true); else { last = window.scrollY; setTimeout(look, 150); } };
    look(); })"""


def test_the_page_trains_shows_a_graph_and_follows_a_live_setting(server, browser, tmp_path):
    shots = Path(os.environ.get("PLAYGROUND_SHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    browser.resize(1366, 768)
    # Squared error keeps a gradient (hinge reaches exactly 0), so the graph's numbers keep changing.
    browser.send("Page.navigate", url=server.url + "?learning_rate=0.03&loss=mse")
    browser.wait_for("state.frame !== null && state.frame !== undefined", "draw a first frame")

    # The page draws in viz/style.py's colours, which reach it with /api/limits.
    assert browser.evaluate("[POSITIVE, NEGATIVE, ZERO]") == [POSITIVE, NEGATIVE, ZERO]
    assert browser.evaluate("CLASS_COLORS") == [class_color(k) for k in range(10)]
    # The address's settings reached the session.
    assert float(browser.evaluate("state.frame.settings.learning_rate")) == 0.03
    assert browser.evaluate("document.getElementById('loss-name').textContent") == LOSSES["mse"].title

    # Play: frames arrive, the step counter climbs, the boundary is redrawn.
    before = browser.evaluate(BOUNDARY_PICTURE)
    browser.click_element("#play")
    browser.wait_for("state.frame.running && state.frame.step > 0", "start training after play")
    browser.wait_for(f"{BOUNDARY_PICTURE} !== {json.dumps(before)}", "redraw the boundary while training")
    assert browser.evaluate("Number(document.getElementById('step-count').textContent.replace(/,/g, ''))") > 0

    # Click a hidden neuron: its graph (or Graphviz's install hint) appears in the graph panel.
    browser.click(*neuron_position(browser, 1, 1))
    shown = browser.wait_for("""(() => { const body = document.getElementById('focus-body');
        return body.querySelector('svg') ? 'svg' : (body.querySelector('.message.error') || {}).textContent; })()""",
                             "show the neuron's graph")
    if shutil.which("dot"):
        assert shown == "svg"
        # Laid out once, its numbers follow the training: the same picture, new texts.
        texts = "[...document.querySelectorAll('#focus-body svg text')].map(t => t.textContent).join('|')"
        first = browser.evaluate(texts)
        browser.wait_for(f"{texts} !== {json.dumps(first)}", "update the graph's numbers while training")
        assert browser.evaluate("state.focusRequest.kind") == "neuron"
    else:
        assert "Graphviz" in shown or "dot" in shown

    # Change the learning rate while training: the frames follow, and the step counter does not reset.
    step_before = browser.evaluate(FRAME_STEP)
    browser.evaluate("""(() => { const select = document.getElementById('learning-rate');
        selectValue(select, '0.3'); select.dispatchEvent(new Event('change')); })()""")
    browser.wait_for("Number(state.frame.settings.learning_rate) === 0.3", "show the new learning rate in a frame")
    assert browser.evaluate(FRAME_STEP) >= step_before
    assert browser.evaluate("state.frame.running") is True
    assert "learning_rate=0.3" in browser.evaluate("window.location.search")

    # Click a weight: its numbers, and the chain rule with them written in.
    browser.evaluate(SCROLLING_STOPPED)
    browser.click(*edge_midpoint(browser, 3, 1, 2))  # the output's weight from layer 2's second neuron
    formula = browser.wait_for("(document.querySelector('#focus-body .formula') || {}).textContent",
                               "show a weight's formula")
    assert browser.evaluate("state.focusRequest.kind") == "edge"
    assert formula.startswith("d loss / d w = upstream × input = ")
    # Click the output: the chosen point's whole loss, as a graph (or Graphviz's install hint).
    browser.evaluate(SCROLLING_STOPPED)
    browser.click(*neuron_position(browser, 3, 1))
    browser.wait_for("state.focusRequest.kind === 'output' && !!(document.querySelector('#focus-body svg') || "
                     "document.querySelector('#focus-body .message.error'))", "show the output's graph")

    browser.screenshot(shots / "playground-1366x768.png")
    browser.resize(1920, 1080)
    browser.wait_for(f"{FRAME_STEP} > {browser.evaluate(FRAME_STEP)}", "draw after resizing")
    browser.evaluate("window.scrollTo(0, 0)")
    browser.screenshot(shots / "playground-1920x1080.png")

    assert browser.complaints == []

    # A bad CSV file: the server's reason is on the page, and nothing changed.
    points_before = browser.evaluate("state.frame.points.length")
    browser.evaluate("""(() => { const files = new DataTransfer();
        files.items.add(new File(["x1,x2,label\\n0.5,1,0\\n2,four,1\\n"], "bad.csv", {type: "text/csv"}));
        const input = document.getElementById('csv-file'); input.files = files.files;
        input.dispatchEvent(new Event('change')); })()""")
    message = browser.wait_for("document.getElementById('csv-message').textContent", "show why the CSV was refused")
    assert message.startswith("bad.csv: ") and "line 3" in message and "four" in message
    assert message.endswith("Nothing changed.")
    assert browser.evaluate("document.getElementById('csv-message').classList.contains('error')") is True
    assert browser.evaluate("state.frame.points.length") == points_before
    # The browser logs the refusal's status (400) itself; that is the only complaint.
    assert len(browser.complaints) == 1 and "400" in browser.complaints[0] and "/csv" in browser.complaints[0]
    browser.complaints.clear()

    # The catcher catches: an inline style attribute is refused by the page's policy, and reported.
    browser.evaluate("document.body.setAttribute('style', 'color: red')")
    browser.wait_for("true", "settle")
    deadline = time.monotonic() + 5
    while not browser.complaints and time.monotonic() < deadline:
        time.sleep(0.05)
    assert any("Content Security Policy" in complaint for complaint in browser.complaints), browser.complaints
