"""A real browser for the tests (and the docs' screenshots): headless Chromium, found and driven.

``chromium()`` finds the program, or skips the test (a failure in CI, where
``.ci/run`` installs it and a skip would hide a failure). ``Browser`` drives one
page through Chromium's DevTools protocol over a pipe (``--remote-debugging-pipe``):
Chromium reads commands on file descriptor 3 and writes answers and events on 4,
each a JSON message ended by a NUL byte. It sends a command and waits for the
answer with the same id, and keeps every event that says something went wrong on
the page (a console error or warning, an uncaught exception, a log entry such as
a Content-Security-Policy refusal) in ``complaints``.
"""

from __future__ import annotations

import base64
import json
import os
import queue
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

PAGE_TIMEOUT = 15.0  # seconds to wait for something the page should do


def find_chromium() -> str | None:
    """The Chromium program, or None when it is not installed."""
    return shutil.which("chromium") or ("/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None)


def chromium(pipe: bool = False) -> str:
    """The Chromium program, or a skip (a failure in CI) when it is not installed; ``pipe``: for ``Browser``."""
    if pipe and os.name != "posix":
        pytest.skip("the DevTools pipe is handed to Chromium as file descriptors 3 and 4: POSIX only")
    program = find_chromium()
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

    def screenshot(self, path: Path, clip: dict | None = None) -> None:
        """A PNG of the window, or of ``clip`` ({"x", "y", "width", "height", "scale"}: page pixels)."""
        options = {"format": "png"} if clip is None else {"format": "png", "clip": clip}
        path.write_bytes(base64.b64decode(self.send("Page.captureScreenshot", **options)["data"]))

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
