"""The playground in a real browser: headless Chromium loads the page, trains, and shows a graph.

Chromium is driven through its DevTools protocol over a pipe (``--remote-debugging-pipe``):
it reads commands on file descriptor 3 and writes answers and events on 4, each a JSON
message ended by a NUL byte. ``Browser`` below is that driver, small enough to read: it
sends a command and waits for the answer with the same id, and keeps every event that
says something went wrong on the page (a console error or warning, an uncaught exception,
a log entry such as a Content-Security-Policy refusal).

The test starts a real server (``make_server`` on a free port) in a thread, loads the page,
presses play, sees frames arrive (the boundary canvas changes), clicks a neuron and sees
its graph, changes the learning rate while training and sees the frames follow without a
reset, and checks that the page reported nothing. A last check proves the error catcher
works, by breaking the page's policy on purpose.

Without Chromium the test is skipped, except in CI (``CI=true``), where a skip would hide
a failure. Set ``PLAYGROUND_SHOTS`` to a folder to keep the screenshots taken at 1366x768
and 1920x1080.
"""

from __future__ import annotations

import base64
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from nn.losses import LOSSES
from viz.style import NEGATIVE, POSITIVE, ZERO, class_color

PAGE_TIMEOUT = 15.0  # seconds to wait for something the page should do


def chromium() -> str:
    """The Chromium program, or a skip (a failure in CI) when it is not installed."""
    if os.name != "posix":
        pytest.skip("the DevTools pipe is handed to Chromium as file descriptors 3 and 4: POSIX only")
    program = shutil.which("chromium") or ("/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None)
    if program is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("Chromium is required in CI (CI=true); .ci/run installs Debian's chromium", pytrace=False)
        pytest.skip("Chromium is not installed (Debian: apt-get install chromium)")
    return program


MOVE_PIPES_AND_EXEC = (
    "import os, sys; os.dup2(int(sys.argv[1]), 3); os.dup2(int(sys.argv[2]), 4); os.execv(sys.argv[3], sys.argv[3:])"
)


def above_four(descriptor: int) -> int:
    """The same pipe end on a descriptor numbered 10 or more (the original is closed)."""
    import fcntl  # POSIX only, as the whole driver is

    moved = fcntl.fcntl(descriptor, fcntl.F_DUPFD, 10)
    os.close(descriptor)
    return moved


class Browser:
    """Headless Chromium driven over the DevTools pipe: one page, its commands and its complaints."""

    def __init__(self, program: str, profile: str) -> None:
        to_browser_read, self._to_browser = os.pipe()
        self._from_browser, from_browser_write = os.pipe()
        # Chromium wants its command pipe on fd 3 and its answer pipe on fd 4: a two-line Python
        # moves them there and becomes Chromium. They are numbered 10 or more first, so that moving
        # one onto 3 cannot overwrite the other.
        to_browser_read = above_four(to_browser_read)
        from_browser_write = above_four(from_browser_write)
        command = [
            sys.executable, "-c", MOVE_PIPES_AND_EXEC, str(to_browser_read), str(from_browser_write),
            program, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--no-first-run", "--disable-sync", "--hide-scrollbars",
            "--mute-audio", f"--user-data-dir={profile}", "--remote-debugging-pipe",
        ]
        self._process = subprocess.Popen(command, pass_fds=(to_browser_read, from_browser_write),
                                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL)
        os.close(to_browser_read)
        os.close(from_browser_write)
        self._next_id = 0
        self._answers: dict[int, queue.Queue] = {}
        self._lock = threading.Lock()
        self.complaints: list[str] = []  # what the page reported: console errors, exceptions, log entries
        self._reader = threading.Thread(target=self._read_messages, daemon=True)
        self._reader.start()
        self.session = None
        target = self.send("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Runtime", "Log", "Page"):
            self.send(f"{domain}.enable")

    def _read_messages(self) -> None:
        buffer = b""
        while True:
            chunk = os.read(self._from_browser, 1 << 16)
            if not chunk:
                return
            buffer += chunk
            *messages, buffer = buffer.split(b"\0")
            for message in messages:
                self._dispatch(json.loads(message))

    def _dispatch(self, message: dict) -> None:
        if "id" in message:
            with self._lock:
                waiting = self._answers.get(message["id"])
            if waiting is not None:
                waiting.put(message)
            return
        method, params = message.get("method"), message.get("params", {})
        if method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            self.complaints.append(f"exception: {details.get('exception', {}).get('description', details['text'])}")
        elif method == "Runtime.consoleAPICalled" and params["type"] in ("error", "warning", "assert"):
            words = " ".join(str(arg.get("value", arg.get("description", ""))) for arg in params["args"])
            self.complaints.append(f"console.{params['type']}: {words}")
        elif method == "Log.entryAdded" and params["entry"]["level"] in ("error", "warning"):
            entry = params["entry"]
            self.complaints.append(f"log ({entry['source']}): {entry['text']} {entry.get('url', '')}".strip())

    def send(self, method: str, **params: object) -> dict:
        """Run one DevTools command on the page (or the browser, before a page exists); its result."""
        with self._lock:
            self._next_id += 1
            command_id = self._next_id
            answer: queue.Queue = queue.Queue()
            self._answers[command_id] = answer
        message = {"id": command_id, "method": method, "params": params}
        if self.session is not None:
            message["sessionId"] = self.session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        try:
            reply = answer.get(timeout=PAGE_TIMEOUT)
        except queue.Empty:
            raise AssertionError(f"Chromium did not answer {method} within {PAGE_TIMEOUT} s") from None
        finally:
            with self._lock:
                del self._answers[command_id]
        if "error" in reply:
            raise AssertionError(f"{method} failed: {reply['error']}")
        return reply["result"]

    def evaluate(self, expression: str) -> object:
        """The value of a JavaScript expression in the page (promises awaited)."""
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise AssertionError(f"{expression!r} threw: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, what: str, timeout: float = PAGE_TIMEOUT) -> object:
        """Poll a JavaScript expression until it is truthy; its value, or a failure naming `what`."""
        deadline = time.monotonic() + timeout
        last_error = ""
        while time.monotonic() < deadline:
            try:
                value = self.evaluate(expression)
            except AssertionError as error:  # the page is still loading: its names are not defined yet
                value, last_error = None, str(error)[:300]
            if value:
                return value
            time.sleep(0.05)
        raise AssertionError(f"the page did not {what} within {timeout} s "
                             f"({self.complaints or 'no complaints'}; {last_error or 'no error'})")

    def resize(self, width: int, height: int) -> None:
        self.send("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False)

    def click(self, x: float, y: float, modifiers: int = 0) -> None:
        """A left click at (x, y) in CSS pixels of the window (modifiers: 1 alt, 2 ctrl, 8 shift)."""
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1,
                      modifiers=modifiers)

    def click_element(self, selector: str) -> None:
        box = self.evaluate(f"""(() => {{ const e = document.querySelector({json.dumps(selector)});
            e.scrollIntoView({{block: "center"}}); const r = e.getBoundingClientRect();
            return [r.left + r.width / 2, r.top + r.height / 2]; }})()""")
        self.click(*box)

    def screenshot(self, path: Path) -> None:
        path.write_bytes(base64.b64decode(self.send("Page.captureScreenshot", format="png")["data"]))

    def close(self) -> None:
        try:
            self.session = None
            self.send("Browser.close")
        except (AssertionError, OSError):
            pass
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        os.close(self._to_browser)


@pytest.fixture
def browser(tmp_path):
    program = chromium()
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


def test_the_page_trains_shows_a_graph_and_follows_a_live_setting(server, browser, tmp_path):
    shots = Path(os.environ.get("PLAYGROUND_SHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    browser.resize(1366, 768)
    # Squared error keeps a gradient (hinge reaches exactly 0), so the graph's numbers keep changing.
    browser.send("Page.navigate", url=server.url + "?learning_rate=0.03&loss=mse")
    browser.wait_for("state.frame !== null && state.frame !== undefined", "draw a first frame")

    # The page's colours are viz/style.py's.
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
