"""Frames a second of the live playground: what its training thread builds, and what a browser would receive.

One run, one real server (``viz.playground.server.make_server``), one session
of a 2-16-16-1 network on moons playing at speed 1 (one optimizer step per
frame), each frame carrying the 100x100 decision boundary and the 33 maps of
its 32 hidden neurons and its output. Side by side:

- built: frames the session's thread encoded (it stops at 30 a second by design);
- received: complete ``event: frame`` messages an SSE client read from
  ``/api/sessions/<id>/stream``, in a process of its own as a browser would be;
- drawn: frames the real page drew in headless Chromium (when it is installed),
  measured next, on a session of its own with the same settings;

then the time of one frame, split into the training step, the maps (the grid's
replay, the boundary, the neuron maps, the network) and the JSON encoding, and
the frames a second that time would allow without the cap. The issue asks for
at least 20 a second on two cores.

    python benchmarks/playground_fps.py              # 10 seconds
    python benchmarks/playground_fps.py --seconds 30
    python benchmarks/playground_fps.py --focus output   # with the output's graph open (its live numbers)
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent

GOAL = 20.0  # frames a second the issue asks for
SETTINGS = {"dataset": "moons", "hidden": "16,16", "speed": "1", "learning_rate": "0.1"}
FOCUSES = {"none": None, "neuron": {"kind": "neuron", "layer": 2, "neuron": 3}, "output": {"kind": "output"},
           "edge": {"kind": "edge", "layer": 2, "neuron": 3, "input": 4}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                     epilog="Prints frames a second built and received, and the time of one frame.")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long to measure (default 10)")
    parser.add_argument("--focus", choices=sorted(FOCUSES), default="none",
                        help="a graph left open on point 0 while it plays (default none)")
    parser.add_argument("--client", metavar="URL", help=argparse.SUPPRESS)  # the SSE client's own process
    arguments = parser.parse_args(argv)
    if arguments.seconds <= 0:
        parser.error("--seconds must be above 0")
    if arguments.client:
        return count_frames(arguments.client, arguments.seconds)
    return measure(arguments.seconds, FOCUSES[arguments.focus])


def measure(seconds: float, focus: dict | None) -> int:
    sys.path.insert(0, str(ROOT))  # a source checkout runs without installing
    from viz.playground.server import make_server

    server = make_server()
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()
    try:
        session_id = post(server.url, "/api/sessions", {"settings": SETTINGS})["id"]
        session = server.sessions.get(session_id)
        if focus is not None:
            post(server.url, f"/api/sessions/{session_id}/select", {"point": 0, "focus": focus})
        stream = f"{server.url}api/sessions/{session_id}/stream"
        client = subprocess.Popen([sys.executable, __file__, "--client", stream, "--seconds", str(seconds)],
                                  stdout=subprocess.PIPE, text=True, env={**os.environ, "OPENBLAS_NUM_THREADS": "1"})
        time.sleep(0.5)  # the client connects and reads the paused session's first frame
        post(server.url, f"/api/sessions/{session_id}/control", {"action": "play"})
        before, started = dict(session.timings), time.perf_counter()
        received = json.loads(client.communicate(timeout=seconds + 30)[0])
        after, elapsed = dict(session.timings), time.perf_counter() - started
        drawn = frames_drawn(server.url + "?" + urlencode(SETTINGS), seconds)
    finally:
        server.shutdown()
        server.server_close()
    report(before, after, elapsed, received, drawn, focus)
    return 0


# Counts the page's draw() calls (a global function of its script) for the given milliseconds, after play.
COUNT_DRAWN = """new Promise(done => {{
    const original = draw; let drawn = 0;
    draw = frame => {{ drawn += 1; return original(frame); }};
    setTimeout(() => {{ draw = original; done(drawn); }}, {milliseconds});
}})"""


def frames_drawn(page: str, seconds: float) -> float | None:
    """Frames a second the playground's page draws in headless Chromium while playing; None without Chromium."""
    sys.path.insert(0, str(ROOT))
    from tests.browser import Browser, find_chromium  # the browser tests' DevTools driver

    program = find_chromium()
    if program is None:
        return None
    with tempfile.TemporaryDirectory(prefix="glassgrad-chromium-") as profile:
        browser = Browser(program, profile)
        try:
            browser.resize(1366, 768)
            browser.send("Page.navigate", url=page)
            browser.wait_for("state.frame && state.frame.step === 0", "draw its first frame")
            browser.evaluate("document.getElementById('play').click()")
            browser.wait_for("state.frame.running", "start playing")
            drawn = browser.evaluate(COUNT_DRAWN.format(milliseconds=round(seconds * 1000)))
        finally:
            browser.close()
    return drawn / seconds


def post(url: str, path: str, body: dict) -> dict:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    connection.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
    response = connection.getresponse()
    answer = response.read()
    if response.status != 200:
        raise RuntimeError(f"POST {path}: {response.status} {answer[:200]!r}")
    return json.loads(answer or b"{}")


def count_frames(url: str, seconds: float) -> int:
    """The client: read the stream for ``seconds`` after its first frame; print what arrived as JSON."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    connection.request("GET", parts.path, headers={"Accept": "text/event-stream"})
    response = connection.getresponse()
    frames, size, first, last, step = 0, 0, None, None, None
    started = None
    while True:
        line = response.fp.readline()
        if not line:
            break
        if not line.startswith(b"data: "):
            continue
        now = time.perf_counter()
        if started is None:  # the frame before play: the clock starts here
            started = now
            continue
        frame = json.loads(line[6:])  # as a page would, so a broken frame shows
        frames, size, step = frames + 1, size + len(line), frame["step"]
        first = frame["step"] if first is None else first
        last = now
        if now - started >= seconds:
            break
    connection.close()
    print(json.dumps({"frames": frames, "seconds": (last - started) if last else 0.0, "bytes": size,
                      "steps": (step - first + 1) if frames else 0}))
    return 0


def report(before: dict, after: dict, elapsed: float, received: dict, drawn: float | None, focus: dict | None) -> None:
    built = after["frames"] - before["frames"]
    spent = {key: (after[key] - before[key]) / max(built, 1) * 1000 for key in ("step", "maps", "encode")}
    per_frame = sum(spent.values())
    got = received["frames"] / received["seconds"] if received["seconds"] else 0.0
    opened = f", the {focus['kind']} graph open" if focus else ""
    print(f"2-16-16-1 network on moons, speed 1, 100x100 boundary and 33 neuron maps{opened}, {os.cpu_count()} cores")
    shown = "no Chromium" if drawn is None else f"{drawn:.1f}"
    print(f"{'frames a second':<28}{'built':>10}{'received':>10}{'drawn':>12}")
    print(f"{'':<28}{built / elapsed:>10.1f}{got:>10.1f}{shown:>12}   (goal {GOAL:.0f}; the thread stops at 30)")
    print(f"frame size: {received['bytes'] / max(received['frames'], 1) / 1000:.0f} kB; "
          f"steps seen by the client: {received['steps']} in {received['seconds']:.1f} s")
    print(f"time of one frame: step {spent['step']:.1f} ms + maps {spent['maps']:.1f} ms + "
          f"encoding {spent['encode']:.1f} ms = {per_frame:.1f} ms "
          f"(up to {1000 / per_frame:.0f} frames a second without the cap)")
    verdict = "meets" if min(built / elapsed, got, GOAL if drawn is None else drawn) >= GOAL else "MISSES"
    print(f"{verdict} the goal of {GOAL:.0f} frames a second")


if __name__ == "__main__":
    sys.exit(main())
