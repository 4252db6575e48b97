"""The playground's HTTP server: every endpoint, its refusals, the stream, and the command line.

Most tests drive the server with a small fake session (the HTTP mechanics do not need a
network); the end-to-end tests at the bottom use the real Session.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from viz.playground import server as server_module
from viz.playground.server import MAX_BODY_BYTES, SECURITY_HEADERS, make_server
from viz.playground.session import BadRequest

PROJECT = Path(__file__).resolve().parents[1]


# ---------------------------------------------------------------------------------------------
# A fake session: records what the server asked of it, and publishes numbered frames.


class FakeSettings:
    def __init__(self, query: dict[str, str]) -> None:
        self.query = dict(query)

    def to_query(self) -> dict[str, str]:
        return {"dataset": "moons", **self.query}


POINTS_IN_ANY_CSV = 42  # what the fake session says it loaded: the server passes the session's count on


class FakeSession:
    def __init__(self, query: dict[str, str]) -> None:
        if query.get("dataset") == "nope":
            raise BadRequest("unknown dataset 'nope'; choose moons, circles, xor, spirals or blobs")
        self.settings = FakeSettings(query)
        self.calls: list[tuple] = []
        self.started = False
        self.closed = False
        self.version = 0
        self.condition = threading.Condition()
        self.weights = {"format": "glassgrad-weights", "layers": [[1.0, 2.0]]}

    def publish(self) -> None:
        with self.condition:
            self.version += 1
            self.condition.notify_all()

    def start(self) -> None:
        self.started = True
        self.publish()

    def close(self) -> None:
        with self.condition:
            self.closed = True
            self.condition.notify_all()

    def wait_frame(self, after: int, timeout: float) -> tuple[int, str] | None:
        with self.condition:
            self.condition.wait_for(lambda: self.closed or self.version > after, timeout)
            if self.closed or self.version <= after:
                return None
            return self.version, json.dumps({"version": self.version})

    def control(self, action: str, **options) -> None:
        if action not in ("play", "pause", "step", "reset"):
            raise BadRequest(f"unknown action {action!r}; use play, pause, step or reset")
        if action == "step" and options:
            raise RuntimeError("a bug in the session")
        self.calls.append(("control", action, options))
        self.publish()

    def update(self, updates: dict) -> FakeSettings:
        if "learning_rate" in updates and not isinstance(updates["learning_rate"], (int, float)):
            raise BadRequest("learning_rate must be a number")
        self.calls.append(("update", updates))
        self.settings = FakeSettings({**self.settings.query, **{k: str(v) for k, v in updates.items()}})
        return self.settings

    def add_point(self, x1: float, x2: float, label: int) -> None:
        if label not in (0, 1):
            raise BadRequest(f"label {label} is not a class of this data (0 or 1)")
        self.calls.append(("add", x1, x2, label))

    def remove_point(self, x1: float, x2: float) -> None:
        self.calls.append(("remove", x1, x2))

    def load_csv(self, text: str) -> int:
        if "oops" in text:
            raise BadRequest("line 2: 'oops' is not a number")
        self.calls.append(("csv", text))
        return POINTS_IN_ANY_CSV

    def weights_document(self) -> dict:
        return self.weights

    def load_weights(self, document: object) -> None:
        if not isinstance(document, dict) or document.get("format") != "glassgrad-weights":
            raise BadRequest("this is not a glassgrad weights file")
        self.weights = document

    def as_code(self) -> str:
        return "import nn\nmodel = nn.MLP(2, [16, 16, 1])\n"

    def select(self, point: int | None = None, focus: dict | None = None) -> dict:
        self.calls.append(("select", point, focus))
        return {"kind": None if focus is None else focus.get("kind"), "svg": "<svg/>"}


FAKE_LIMITS = {"max_layers": 6, "max_width": 16}


@pytest.fixture
def serve():
    """Start servers in threads (options as for make_server); stop and close them after the test."""
    started = []

    def start(**options):
        options.setdefault("new_session", FakeSession)
        options.setdefault("limits", lambda: FAKE_LIMITS)
        server = make_server("127.0.0.1", 0, **options)
        thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        started.append((server, thread))
        return server

    yield start
    for server, thread in started:
        server.shutdown()
        server.server_close()
        thread.join(5)


def request(server, method, path, body=None, headers=None, content_type="application/json"):
    """(status, headers, body bytes); `body` may be bytes, text, or a value sent as JSON."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    headers = dict(headers or {})
    if body is not None and not isinstance(body, (bytes, str)):
        body = json.dumps(body)
    if isinstance(body, str):
        body = body.encode()
    if body is not None and content_type is not None:
        headers.setdefault("Content-Type", content_type)
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response.status, response, data


def error_of(data: bytes) -> str:
    return json.loads(data)["error"]


def raw_request(server, text: bytes) -> tuple[int, bytes]:
    """Send bytes as they are (for requests http.client refuses to make); (status, body)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as connection:
        connection.sendall(text)
        received = b""
        while b"\r\n\r\n" not in received and (chunk := connection.recv(65536)):
            received += chunk
        head, _, body = received.partition(b"\r\n\r\n")
        length = int(re.search(rb"Content-Length: (\d+)", head).group(1))
        while len(body) < length and (chunk := connection.recv(65536)):
            body += chunk
    return int(head.split()[1]), body


def new_session(server, settings=None) -> str:
    status, _, data = request(server, "POST", "/api/sessions", {"settings": settings or {}})
    assert status == 200, data
    return json.loads(data)["id"]


def the_session(server, session_id):
    return server.sessions.get(session_id)


def open_stream(server, session_id):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    connection.request("GET", f"/api/sessions/{session_id}/stream")
    response = connection.getresponse()
    return connection, response


def close_stream(connection, response) -> None:
    """Hang up as a closed tab does (the response holds the socket too)."""
    response.close()
    connection.close()


def read_event(response) -> tuple[str, str]:
    """The next SSE block: ("frame", data) or ("comment", text)."""
    lines = []
    while (line := response.readline().decode()) not in ("\n", ""):
        lines.append(line.rstrip("\n"))
    if lines and all(line.startswith(":") for line in lines):
        return "comment", lines[0]
    fields = dict(line.split(": ", 1) for line in lines)
    return fields["event"], fields["data"]


def wait_until(condition, seconds=5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


# ---------------------------------------------------------------------------------------------
# The page and static files.


def test_page_is_served_with_the_security_headers(serve, tmp_path, monkeypatch):
    (tmp_path / "index.html").write_text("<!doctype html><title>playground</title>")
    monkeypatch.setattr(server_module, "STATIC_FOLDER", tmp_path)
    server = serve()
    for path in ("/", "/?dataset=xor&seed=3", "/static/index.html"):
        status, response, data = request(server, "GET", path)
        assert status == 200
        assert data == b"<!doctype html><title>playground</title>"
        assert response.getheader("Content-Type") == "text/html; charset=utf-8"
        for name, value in SECURITY_HEADERS.items():
            assert response.getheader(name) == value


def test_every_error_carries_the_security_headers_too(serve):
    status, response, _ = request(serve(), "GET", "/nothing-here")
    assert status == 404
    assert "default-src 'self'" in response.getheader("Content-Security-Policy")
    assert response.getheader("X-Content-Type-Options") == "nosniff"


def test_static_files_have_their_types(serve, tmp_path, monkeypatch):
    (tmp_path / "playground.js").write_text("console.log(1);")
    (tmp_path / "playground.css").write_text("body {}")
    monkeypatch.setattr(server_module, "STATIC_FOLDER", tmp_path)
    server = serve()
    status, response, data = request(server, "GET", "/static/playground.js")
    assert (status, data) == (200, b"console.log(1);")
    assert response.getheader("Content-Type").startswith("text/javascript")
    status, response, _ = request(server, "GET", "/static/playground.css")
    assert response.getheader("Content-Type").startswith("text/css")


@pytest.mark.parametrize("name", sorted(server_module.STATIC_FILES))
def test_the_pages_own_files_are_served_as_they_are(serve, name):
    status, _, data = request(serve(), "GET", f"/static/{name}")
    assert (status, data) == (200, (server_module.STATIC_FOLDER / name).read_bytes())


def test_a_static_file_not_written_yet_is_a_404_naming_it(serve, tmp_path, monkeypatch):
    monkeypatch.setattr(server_module, "STATIC_FOLDER", tmp_path)
    status, _, data = request(serve(), "GET", "/static/playground.js")
    assert status == 404
    assert "playground.js is missing" in error_of(data)


@pytest.mark.parametrize(
    "path",
    [
        "/static/../server.py",
        "/static/..%2fserver.py",
        "/static/%2e%2e/server.py",
        "/static/%2e%2e%2fserver.py",
        "/static/server.py",
        "/static/__init__.py",
        "/static//etc/passwd",
        "/static/%2fetc%2fpasswd",
        "/etc/passwd",
        "/../../../../etc/passwd",
        "//etc/passwd",
        "/static/index.html%00.js",
        "/static/index.html/",
        "/static/INDEX.HTML",
        "/static/",
        "/viz/playground/server.py",
        "/server.py",
    ],
)
def test_nothing_outside_the_static_table_can_be_read(serve, path):
    status, response, data = request(serve(), "GET", path)
    assert status == 404
    assert response.getheader("Content-Type").startswith("application/json")
    assert "error" in json.loads(data)
    assert b"import" not in data and b"root:" not in data


def test_a_nul_byte_or_absolute_url_in_the_request_line_reads_nothing(serve):
    server = serve()
    for target in (b"/static/index.html\x00", b"/static/\x00../server.py", b"http://127.0.0.1/etc/passwd"):
        status, body = raw_request(server, b"GET " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert status in (400, 404)
        assert "error" in json.loads(body)
        assert b"import" not in body and b"root:" not in body


def test_favicon_is_an_empty_answer_not_a_404(serve):
    status, _, data = request(serve(), "GET", "/favicon.ico")
    assert (status, data) == (204, b"")


# ---------------------------------------------------------------------------------------------
# Refusals common to every endpoint.


def test_unknown_path_is_a_json_404(serve):
    status, _, data = request(serve(), "GET", "/api/nothing")
    assert status == 404
    assert error_of(data) == "nothing at /api/nothing"


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("POST", "/", "GET"),
        ("GET", "/api/sessions", "POST"),
        ("DELETE", "/api/limits", "GET"),
        ("GET", "/api/sessions/abc/control", "POST"),
        ("PUT", "/api/sessions/abc/weights", "GET, POST"),
        ("PATCH", "/api/sessions/abc/settings", "POST"),
        ("POST", "/api/sessions/abc/stream", "GET"),
    ],
)
def test_wrong_method_is_a_405_naming_the_right_one(serve, method, path, allowed):
    status, response, data = request(serve(), method, path)
    assert status == 405
    assert response.getheader("Allow") == allowed
    assert error_of(data).endswith(f"use {allowed}")


def test_head_gets_a_405_without_a_body(serve):
    status, response, data = request(serve(), "HEAD", "/api/limits")
    assert status == 405
    assert data == b""


def test_a_method_http_server_does_not_know_is_a_json_error(serve):
    status, body = raw_request(serve(), b"BREW /api/limits HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    assert status == 501
    assert "error" in json.loads(body)


def test_a_malformed_request_line_is_a_json_400(serve):
    status, body = raw_request(serve(), b"this is not http\r\n\r\n")
    assert status == 400
    assert "error" in json.loads(body)


@pytest.mark.parametrize(
    ("method", "endpoint"),
    [
        ("GET", "stream"),
        ("POST", "control"),
        ("POST", "settings"),
        ("POST", "points"),
        ("GET", "weights"),
        ("POST", "weights"),
        ("GET", "code"),
        ("POST", "select"),
    ],
)
def test_an_unknown_session_is_a_404_that_says_to_reload(serve, method, endpoint):
    body = {"action": "play"} if method == "POST" else None
    status, _, data = request(serve(), method, f"/api/sessions/NoSuchSession/{endpoint}", body)
    assert status == 404
    assert "Reload the page" in error_of(data)


def test_unknown_session_for_csv_and_delete_are_404s(serve):
    server = serve()
    status, _, _ = request(server, "POST", "/api/sessions/nope/csv", "1,2,0\n", content_type="text/csv")
    assert status == 404
    status, _, _ = request(server, "DELETE", "/api/sessions/nope")
    assert status == 404


def test_a_session_id_with_other_characters_is_not_a_route(serve):
    status, _, _ = request(serve(), "GET", "/api/sessions/a.b/code")
    assert status == 404


def test_bad_json_is_a_400_that_says_where(serve):
    status, _, data = request(serve(), "POST", "/api/sessions", b'{"settings": ')
    assert status == 400
    assert error_of(data).startswith("the body is not valid JSON: Expecting value: line 1 column 14")


def test_nan_in_json_is_a_400(serve):
    status, _, data = request(serve(), "POST", "/api/sessions", b'{"settings": {"noise": NaN}}')
    assert status == 400
    assert "NaN" in error_of(data)


def test_a_body_that_is_not_utf8_is_a_400(serve):
    status, _, data = request(serve(), "POST", "/api/sessions", b'{"settings": "\xff"}')
    assert status == 400
    assert "not UTF-8" in error_of(data)


def test_a_json_body_that_is_not_an_object_is_a_400(serve):
    status, _, data = request(serve(), "POST", "/api/sessions", [1, 2])
    assert status == 400
    assert "must be a JSON object" in error_of(data) and "not a list" in error_of(data)


def test_a_body_over_the_limit_is_a_413_and_is_not_read(serve):
    server = serve()
    status, _, data = request(server, "POST", "/api/sessions", b"x" * (MAX_BODY_BYTES + 1))
    assert status == 413
    assert "200,000 bytes" in error_of(data)
    # A claimed length is refused before anything is read: no 200 kB needs to arrive.
    status, body = raw_request(
        server,
        b"POST /api/sessions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: 999999999\r\n\r\n{}",
    )
    assert status == 413


def test_a_body_without_content_length_is_a_411(serve):
    status, body = raw_request(
        serve(), b"POST /api/sessions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\r\n"
    )
    assert status == 411
    assert "Content-Length" in json.loads(body)["error"]


def test_a_chunked_body_is_a_411(serve):
    status, body = raw_request(
        serve(),
        b"POST /api/sessions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
    )
    assert status == 411


def test_a_negative_content_length_is_a_400(serve):
    status, _ = raw_request(
        serve(),
        b"POST /api/sessions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: -5\r\n\r\n",
    )
    assert status == 400


def test_a_json_endpoint_refuses_another_content_type(serve):
    status, _, data = request(serve(), "POST", "/api/sessions", "{}", content_type="text/plain")
    assert status == 415
    assert "application/json" in error_of(data)


def test_json_with_a_charset_is_fine(serve):
    status, _, _ = request(serve(), "POST", "/api/sessions", "{}", content_type="application/json; charset=utf-8")
    assert status == 200


def test_a_request_addressed_to_another_host_name_is_refused(serve):
    # DNS rebinding: evil.example resolving to 127.0.0.1 must not reach the API.
    status, _, data = request(serve(), "GET", "/api/limits", headers={"Host": "evil.example"})
    assert status == 403
    assert "evil.example" in error_of(data)


def test_localhost_is_an_accepted_host_name(serve):
    server = serve()
    status, _, _ = request(server, "GET", "/api/limits", headers={"Host": f"localhost:{server.port}"})
    assert status == 200


def test_a_request_from_another_site_is_refused(serve):
    server = serve()
    status, _, data = request(server, "POST", "/api/sessions", {}, headers={"Origin": "http://evil.example"})
    assert status == 403
    status, _, _ = request(server, "POST", "/api/sessions", {}, headers={"Origin": server.url.rstrip("/")})
    assert status == 200


# ---------------------------------------------------------------------------------------------
# Endpoints.


def test_limits_come_from_the_session_module(serve):
    status, response, data = request(serve(), "GET", "/api/limits")
    assert status == 200
    assert response.getheader("Content-Type") == "application/json; charset=utf-8"
    assert json.loads(data) == FAKE_LIMITS


def test_creating_a_session_starts_it_and_returns_id_settings_and_limits(serve):
    server = serve()
    status, _, data = request(server, "POST", "/api/sessions", {"settings": {"dataset": "xor", "seed": 3}})
    assert status == 200
    answer = json.loads(data)
    assert answer["settings"] == {"dataset": "xor", "seed": "3"}
    assert answer["limits"] == FAKE_LIMITS
    assert len(answer["id"]) >= 16
    session = the_session(server, answer["id"])
    assert session.started and session.settings.query == {"dataset": "xor", "seed": "3"}


def test_session_ids_are_random(serve):
    server = serve()
    assert new_session(server) != new_session(server)


def test_a_session_with_an_empty_body_object_uses_the_defaults(serve):
    status, _, data = request(serve(), "POST", "/api/sessions", {})
    assert status == 200
    assert json.loads(data)["settings"] == {"dataset": "moons"}


def test_bad_settings_are_a_400_with_the_sessions_message(serve):
    server = serve()
    status, _, data = request(server, "POST", "/api/sessions", {"settings": {"dataset": "nope"}})
    assert status == 400
    assert error_of(data) == "unknown dataset 'nope'; choose moons, circles, xor, spirals or blobs"
    assert len(server.sessions) == 0


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"settings": [1]}, "settings must be an object"),
        ({"settings": {"seed": [1]}}, "setting 'seed' must be a string or a number"),
        ({"settings": {}, "other": 1}, "unknown field(s) ['other']"),
    ],
)
def test_settings_of_the_wrong_shape_are_a_400(serve, body, words):
    status, _, data = request(serve(), "POST", "/api/sessions", body)
    assert status == 400
    assert words in error_of(data)


def test_a_ninth_session_is_a_503_with_a_message(serve):
    server = serve(max_sessions=8)
    for _ in range(8):
        new_session(server)
    status, response, data = request(server, "POST", "/api/sessions", {})
    assert status == 503
    assert "8 playground sessions are open already" in error_of(data)
    assert response.getheader("Retry-After") == "10"


def test_a_deleted_session_frees_its_place(serve):
    server = serve(max_sessions=1)
    session_id = new_session(server)
    session = the_session(server, session_id)
    status, _, data = request(server, "DELETE", f"/api/sessions/{session_id}")
    assert (status, json.loads(data)) == (200, {"ok": True})
    assert session.closed
    new_session(server)
    status, _, _ = request(server, "GET", f"/api/sessions/{session_id}/code")
    assert status == 404


def test_control_passes_the_action_and_new_weights_for_reset(serve):
    server = serve()
    session_id = new_session(server)
    for body in ({"action": "play"}, {"action": "pause"}, {"action": "reset", "new_weights": True}):
        status, _, data = request(server, "POST", f"/api/sessions/{session_id}/control", body)
        assert (status, json.loads(data)) == (200, {"ok": True})
    assert the_session(server, session_id).calls == [
        ("control", "play", {}),
        ("control", "pause", {}),
        ("control", "reset", {"new_weights": True}),
    ]


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"action": "fly"}, "unknown action 'fly'"),
        ({"action": 3}, "action must be a string"),
        ({}, "missing field(s): action"),
        ({"action": "reset", "new_weights": "yes"}, "new_weights must be true or false"),
        ({"action": "play", "new_weights": True}, "new_weights goes with the reset action"),
        ({"action": "play", "speed": 2}, "unknown field(s): speed"),
    ],
)
def test_bad_control_is_a_400_and_changes_nothing(serve, body, words):
    server = serve()
    session_id = new_session(server)
    status, _, data = request(server, "POST", f"/api/sessions/{session_id}/control", body)
    assert status == 400
    assert words in error_of(data)
    assert the_session(server, session_id).calls == []


def test_settings_updates_return_the_new_settings(serve):
    server = serve()
    session_id = new_session(server)
    status, _, data = request(server, "POST", f"/api/sessions/{session_id}/settings", {"learning_rate": 0.3})
    assert status == 200
    assert json.loads(data) == {"settings": {"dataset": "moons", "learning_rate": "0.3"}}


def test_bad_settings_updates_are_a_400(serve):
    server = serve()
    session_id = new_session(server)
    path = f"/api/sessions/{session_id}/settings"
    status, _, data = request(server, "POST", path, {"learning_rate": "fast"})
    assert (status, error_of(data)) == (400, "learning_rate must be a number")
    status, _, data = request(server, "POST", path, [0.3])
    assert status == 400


def test_points_are_added_and_removed(serve):
    server = serve()
    session_id = new_session(server)
    path = f"/api/sessions/{session_id}/points"
    status, _, _ = request(server, "POST", path, {"action": "add", "x1": 0.5, "x2": -1, "label": 1})
    assert status == 200
    status, _, _ = request(server, "POST", path, {"action": "remove", "x1": 0.5, "x2": -1.0})
    assert status == 200
    assert the_session(server, session_id).calls == [("add", 0.5, -1.0, 1), ("remove", 0.5, -1.0)]


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"action": "add", "x1": 0.5, "x2": -1, "label": 7}, "label 7 is not a class"),
        ({"action": "add", "x1": "a", "x2": -1, "label": 1}, "x1 must be a number, not a string"),
        ({"action": "add", "x1": 0, "x2": True, "label": 1}, "x2 must be a number, not true/false"),
        ({"action": "add", "x1": 0, "x2": 0, "label": 1.5}, "label must be a whole number"),
        ({"action": "add", "x1": 0, "x2": 0}, "missing field(s): label"),
        ({"action": "remove", "x1": 0, "x2": 0, "label": 1}, "unknown field(s): label"),
        ({"action": "move", "x1": 0, "x2": 0}, 'action must be "add" or "remove"'),
    ],
)
def test_bad_points_are_a_400(serve, body, words):
    server = serve()
    session_id = new_session(server)
    status, _, data = request(server, "POST", f"/api/sessions/{session_id}/points", body)
    assert status == 400
    assert words in error_of(data)
    assert the_session(server, session_id).calls == []


def test_csv_upload_answers_with_the_sessions_count_of_points(serve):
    server = serve()
    session_id = new_session(server)
    text = "x1,x2,label\n0,1,0\n1,0,1\n\n2,2,1\n"
    status, _, data = request(server, "POST", f"/api/sessions/{session_id}/csv", text, content_type="text/csv")
    assert (status, json.loads(data)) == (200, {"points": POINTS_IN_ANY_CSV})
    assert the_session(server, session_id).calls == [("csv", text)]


def test_csv_with_a_byte_order_mark_and_no_header(serve):
    server = serve()
    session_id = new_session(server)
    body = "\ufeff0,1,0\n1,0,1\n".encode()
    status, _, data = request(server, "POST", f"/api/sessions/{session_id}/csv", body, content_type="text/csv")
    assert (status, json.loads(data)) == (200, {"points": POINTS_IN_ANY_CSV})
    assert the_session(server, session_id).calls == [("csv", "0,1,0\n1,0,1\n")]


def test_a_bad_csv_is_a_400_with_the_sessions_message(serve):
    server = serve()
    session_id = new_session(server)
    path = f"/api/sessions/{session_id}/csv"
    status, _, data = request(server, "POST", path, "0,1,0\noops,1,1\n", content_type="text/csv")
    assert (status, error_of(data)) == (400, "line 2: 'oops' is not a number")
    status, _, data = request(server, "POST", path, b"0,1,0\n\xff,1,1\n", content_type="text/csv")
    assert status == 400 and "not UTF-8" in error_of(data)
    status, _, data = request(server, "POST", path, "0,1,0\n", content_type="application/json")
    assert status == 415 and "text/csv" in error_of(data)


def test_weights_download_and_upload_round_trip(serve):
    server = serve()
    session_id = new_session(server)
    path = f"/api/sessions/{session_id}/weights"
    status, response, data = request(server, "GET", path)
    assert status == 200
    assert response.getheader("Content-Disposition") == 'attachment; filename="glassgrad-weights.json"'
    document = json.loads(data)
    document["layers"] = [[3.0, 4.0]]
    status, _, _ = request(server, "POST", path, document)
    assert status == 200
    assert json.loads(request(server, "GET", path)[2])["layers"] == [[3.0, 4.0]]
    status, _, data = request(server, "POST", path, [1, 2])
    assert (status, error_of(data)) == (400, "this is not a glassgrad weights file")


def test_code_is_plain_text(serve):
    server = serve()
    session_id = new_session(server)
    status, response, data = request(server, "GET", f"/api/sessions/{session_id}/code")
    assert status == 200
    assert response.getheader("Content-Type") == "text/plain; charset=utf-8"
    assert data.decode() == "import nn\nmodel = nn.MLP(2, [16, 16, 1])\n"


def test_select_passes_point_and_focus_and_returns_the_static_part(serve):
    server = serve()
    session_id = new_session(server)
    path = f"/api/sessions/{session_id}/select"
    focus = {"kind": "neuron", "layer": 1, "neuron": 2}
    status, _, data = request(server, "POST", path, {"point": 3, "focus": focus})
    assert (status, json.loads(data)) == (200, {"kind": "neuron", "svg": "<svg/>"})
    status, _, _ = request(server, "POST", path, {"focus": None})
    assert status == 200
    assert the_session(server, session_id).calls == [("select", 3, focus), ("select", None, None)]


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"point": "3"}, "point must be a point's index or null"),
        ({"point": True}, "point must be a point's index or null"),
        ({"focus": "neuron"}, "focus must be an object"),
        ({"neuron": 1}, "unknown field(s): neuron"),
    ],
)
def test_bad_select_is_a_400(serve, body, words):
    server = serve()
    session_id = new_session(server)
    status, _, data = request(server, "POST", f"/api/sessions/{session_id}/select", body)
    assert status == 400
    assert words in error_of(data)


def test_a_crash_in_a_handler_is_a_short_500_and_one_traceback_on_stderr(serve, capfd):
    server = serve()
    session_id = new_session(server)
    # The fake session crashes on "step" with options (a stand-in for any bug).
    server.sessions.get(session_id).control = lambda action, **options: 1 / 0
    status, _, data = request(server, "POST", f"/api/sessions/{session_id}/control", {"action": "step"})
    assert status == 500
    message = error_of(data)
    assert "ZeroDivisionError" in message and "Traceback" not in message and len(message) < 200
    assert capfd.readouterr().err.count("Traceback") == 1


def test_requests_are_not_logged_unless_verbose(serve, capfd):
    quiet, loud = serve(), serve(verbose=True)
    request(quiet, "GET", "/api/limits")
    request(quiet, "GET", "/missing")
    assert capfd.readouterr().err == ""
    request(loud, "GET", "/api/limits")
    assert '"GET /api/limits HTTP/1.1" 200' in capfd.readouterr().err


def test_keep_alive_serves_several_requests_on_one_connection(serve):
    server = serve()
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    for _ in range(3):
        connection.request("GET", "/api/limits")
        response = connection.getresponse()
        assert json.loads(response.read()) == FAKE_LIMITS
    close_stream(connection, response)


# ---------------------------------------------------------------------------------------------
# The stream.


def test_the_stream_sends_frames_as_server_sent_events(serve):
    server = serve()
    session_id = new_session(server)
    connection, response = open_stream(server, session_id)
    assert response.status == 200
    assert response.getheader("Content-Type") == "text/event-stream; charset=utf-8"
    assert response.getheader("Content-Security-Policy") == SECURITY_HEADERS["Content-Security-Policy"]
    assert read_event(response) == ("frame", '{"version": 1}')
    the_session(server, session_id).publish()
    assert read_event(response) == ("frame", '{"version": 2}')
    close_stream(connection, response)


def test_a_slow_reader_gets_only_the_latest_frame(serve):
    server = serve()
    session_id = new_session(server)
    session = the_session(server, session_id)
    connection, response = open_stream(server, session_id)
    assert read_event(response) == ("frame", '{"version": 1}')
    for _ in range(50):  # frames published faster than this reader reads
        session.publish()
    versions = []
    while not versions or versions[-1] < 51:
        versions.append(json.loads(read_event(response)[1])["version"])
    assert versions[-1] == 51
    assert len(versions) < 50  # frames in between were skipped, not queued
    close_stream(connection, response)


def test_a_quiet_stream_sends_keepalive_comments(serve):
    server = serve(keepalive=0.2)
    session_id = new_session(server)
    connection, response = open_stream(server, session_id)
    assert read_event(response)[0] == "frame"
    started = time.monotonic()
    assert read_event(response) == ("comment", ": keepalive")
    assert 0.1 < time.monotonic() - started < 2
    close_stream(connection, response)


def test_a_closed_tab_closes_its_session_after_the_grace(serve):
    server = serve(grace=0.2)
    session_id = new_session(server)
    session = the_session(server, session_id)
    connection, response = open_stream(server, session_id)
    read_event(response)
    close_stream(connection, response)  # the tab closes; nothing is published, so only the hang-up check notices
    assert wait_until(lambda: session.closed, seconds=4)
    status, _, _ = request(server, "GET", f"/api/sessions/{session_id}/code")
    assert status == 404


def test_a_stream_reopened_within_the_grace_keeps_the_session(serve):
    server = serve(grace=0.5)
    session_id = new_session(server)
    session = the_session(server, session_id)
    first, response = open_stream(server, session_id)
    read_event(response)
    close_stream(first, response)
    time.sleep(0.2)
    second, response = open_stream(server, session_id)  # a reload
    read_event(response)
    time.sleep(1.8)  # well past the grace counted from the first stream's end
    assert not session.closed
    close_stream(second, response)
    assert wait_until(lambda: session.closed, seconds=4)


def test_two_streams_of_one_session_both_receive_frames(serve):
    server = serve(grace=0.2)
    session_id = new_session(server)
    streams = [open_stream(server, session_id) for _ in range(2)]
    for _, response in streams:
        assert read_event(response) == ("frame", '{"version": 1}')
    close_stream(*streams[0])
    time.sleep(0.6)
    assert not the_session(server, session_id).closed  # one stream is still open
    close_stream(*streams[1])


def test_a_session_whose_stream_never_opens_is_closed(serve):
    server = serve(unclaimed_timeout=0.2)
    session = the_session(server, session_id := new_session(server))
    assert wait_until(lambda: session.closed)
    assert request(server, "GET", f"/api/sessions/{session_id}/code")[0] == 404


def test_deleting_a_session_ends_its_stream(serve):
    server = serve()
    session_id = new_session(server)
    connection, response = open_stream(server, session_id)
    read_event(response)
    request(server, "DELETE", f"/api/sessions/{session_id}")
    assert response.readline() == b""  # the server hung up
    close_stream(connection, response)


def test_tabs_have_independent_sessions(serve):
    server = serve()
    first, second = new_session(server), new_session(server)
    request(server, "POST", f"/api/sessions/{first}/control", {"action": "play"})
    request(server, "POST", f"/api/sessions/{second}/settings", {"learning_rate": 0.5})
    assert the_session(server, first).calls == [("control", "play", {})]
    assert the_session(server, second).calls == [("update", {"learning_rate": 0.5})]


def test_server_close_closes_every_session_and_ends_the_streams(serve):
    server = serve()
    sessions = [the_session(server, new_session(server)) for _ in range(3)]
    session_id = new_session(server)
    connection, response = open_stream(server, session_id)
    read_event(response)
    server.shutdown()
    server.server_close()
    assert all(session.closed for session in sessions)
    assert response.readline() == b""
    close_stream(connection, response)


# ---------------------------------------------------------------------------------------------
# The command line.


def run_module(*arguments, **options) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "viz.playground", *arguments],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=PROJECT,
        **options,
    )


def test_help_names_every_option():
    result = run_module("--help")
    assert result.returncode == 0
    for option in ("--port", "--host", "--no-browser", "127.0.0.1", "8000"):
        assert option in result.stdout


def test_a_bad_port_is_refused_by_the_parser():
    result = run_module("--port", "70000")
    assert result.returncode == 2
    assert "70000 is not a port number" in result.stderr


def start_module(*arguments) -> tuple[subprocess.Popen, str]:
    """Start `python -m viz.playground` and return it with the address it printed."""
    environment = {**os.environ, "CI": "true", "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "viz.playground", "--no-browser", *arguments],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=PROJECT,
        env=environment,
    )
    line = process.stdout.readline()
    assert line.startswith("glassgrad playground: http://"), line + process.stderr.read()
    return process, line.split()[2]


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "kill"])
def test_the_command_serves_and_stops_cleanly(stop):
    process, url = start_module("--port", "0")
    try:
        port = int(url.rstrip("/").rsplit(":", 1)[1])
        # A training session with an open stream is running when the signal comes.
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("POST", "/api/sessions", "{}", {"Content-Type": "application/json"})
        session_id = json.loads(connection.getresponse().read())["id"]
        connection.request(
            "POST", f"/api/sessions/{session_id}/control", '{"action": "play"}', {"Content-Type": "application/json"}
        )
        assert connection.getresponse().read() == b'{"ok": true}'
        stream = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        stream.request("GET", f"/api/sessions/{session_id}/stream")
        response = stream.getresponse()
        assert read_event(response)[0] == "frame"
        process.send_signal(stop)
        stdout, stderr = process.communicate(timeout=20)
        response.read()  # returns, rather than timing out: the stream ended with the server
    finally:
        process.kill()
    assert process.returncode == 0
    assert stdout.strip() == "stopped"
    assert "Traceback" not in stderr


def test_the_command_warns_when_listening_beyond_this_computer():
    process, url = start_module("--port", "0", "--host", "0.0.0.0")
    try:
        assert url.startswith("http://127.0.0.1:")  # still a clickable address
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=20)
    finally:
        process.kill()
    assert "anyone who can reach it on the network can use the playground" in stderr
    assert process.returncode == 0


def test_a_port_in_use_is_named_with_what_to_do(serve):
    server = serve()
    result = run_module("--no-browser", "--port", str(server.port))
    assert result.returncode == 1
    assert f"port {server.port} is already in use" in result.stderr
    assert "--port 0" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_default_port_moves_to_the_next_free_one(monkeypatch, capsys):
    from viz.playground import __main__ as command

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        monkeypatch.setattr(command, "DEFAULT_PORT", port)
        server = command.start_server("127.0.0.1", None, verbose=False)
        try:
            assert server.port != port
            assert f"port {port} is in use" in capsys.readouterr().out
            assert str(server.port) in server.url
        finally:
            server.server_close()


def test_no_browser_is_opened_in_ci(monkeypatch):
    from viz.playground import __main__ as command

    monkeypatch.setenv("CI", "true")
    assert not command.can_open_browser()


# ---------------------------------------------------------------------------------------------
# End to end, with the real Session.


@pytest.fixture
def real_server(serve):
    return serve(new_session=server_module.default_session_factory, limits=server_module.default_limits, grace=0.2)


def next_frame(response) -> dict:
    kind, data = read_event(response)
    while kind == "comment":
        kind, data = read_event(response)
    assert kind == "frame"
    return json.loads(data)


def frame_where(response, condition, seconds=10.0) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        frame = next_frame(response)
        if condition(frame):
            return frame
    raise AssertionError("no frame met the condition in time")


def test_real_limits_are_the_session_modules(real_server):
    from viz.playground.session import LIMITS

    status, _, data = request(real_server, "GET", "/api/limits")
    assert (status, json.loads(data)) == (200, LIMITS)


def test_real_session_streams_frames_and_steps_plays_and_pauses(real_server):
    session_id = new_session(real_server, {"dataset": "xor", "seed": "3"})
    connection, response = open_stream(real_server, session_id)
    first = next_frame(response)
    assert first["step"] == 0 and first["settings"]["dataset"] == "xor" and not first["running"]
    control = f"/api/sessions/{session_id}/control"
    assert request(real_server, "POST", control, {"action": "step"})[0] == 200
    second = frame_where(response, lambda frame: frame["step"] == 1)
    assert second["version"] > first["version"]
    assert request(real_server, "POST", control, {"action": "play"})[0] == 200
    frame_where(response, lambda frame: frame["running"] and frame["step"] >= 5)
    assert request(real_server, "POST", control, {"action": "pause"})[0] == 200
    paused = frame_where(response, lambda frame: not frame["running"])
    assert request(real_server, "POST", control, {"action": "reset"})[0] == 200
    assert frame_where(response, lambda frame: frame["step"] == 0)["version"] > paused["version"]
    close_stream(connection, response)


def test_real_learning_rate_changes_live(real_server):
    session_id = new_session(real_server)
    connection, response = open_stream(real_server, session_id)
    next_frame(response)
    status, _, data = request(real_server, "POST", f"/api/sessions/{session_id}/settings", {"learning_rate": 0.03})
    assert status == 200
    assert json.loads(data)["settings"]["learning_rate"] == "0.03"
    frame_where(response, lambda frame: frame["settings"]["learning_rate"] == "0.03")
    status, _, data = request(real_server, "POST", f"/api/sessions/{session_id}/settings", {"learning_rate": -1})
    assert status == 400 and "learning_rate" in error_of(data)
    close_stream(connection, response)


def test_real_bad_settings_on_creation_are_a_400(real_server):
    status, _, data = request(real_server, "POST", "/api/sessions", {"settings": {"dataset": "nope"}})
    assert status == 400 and "nope" in error_of(data)


def test_real_point_is_added(real_server):
    session_id = new_session(real_server)
    connection, response = open_stream(real_server, session_id)
    before = len(next_frame(response)["points"])
    body = {"action": "add", "x1": 0.25, "x2": 0.5, "label": 1}
    assert request(real_server, "POST", f"/api/sessions/{session_id}/points", body)[0] == 200
    frame = frame_where(response, lambda frame: len(frame["points"]) == before + 1)
    assert [0.25, 0.5, 1] in [point[:3] for point in frame["points"]]
    close_stream(connection, response)


def test_real_csv_upload_and_a_bad_csv_message(real_server):
    session_id = new_session(real_server)
    path = f"/api/sessions/{session_id}/csv"
    rows = "".join(f"{i / 10},{(i % 7) / 10},{i % 2}\n" for i in range(40))
    status, _, data = request(real_server, "POST", path, "x1,x2,label\n" + rows, content_type="text/csv")
    assert (status, json.loads(data)) == (200, {"points": 40})
    status, _, data = request(real_server, "POST", path, "x1,x2,label\n0,1,0\nfoo,1,1\n", content_type="text/csv")
    assert status == 400
    assert error_of(data) == "CSV line 3: 'foo' is not a number"


def test_real_weights_round_trip(real_server):
    session_id = new_session(real_server)
    path = f"/api/sessions/{session_id}/weights"
    status, response, data = request(real_server, "GET", path)
    assert status == 200 and "attachment" in response.getheader("Content-Disposition")
    document = json.loads(data)
    assert request(real_server, "POST", path, document)[0] == 200
    assert json.loads(request(real_server, "GET", path)[2]) == document
    status, _, data = request(real_server, "POST", path, {"not": "weights"})
    assert status == 400 and error_of(data)


def test_real_code_is_python_that_compiles(real_server):
    session_id = new_session(real_server)
    status, _, data = request(real_server, "GET", f"/api/sessions/{session_id}/code")
    assert status == 200
    compile(data.decode(), "playground_code.py", "exec")


def test_real_select_a_neuron_gives_its_graph_or_the_graphviz_hint(real_server):
    session_id = new_session(real_server)
    path = f"/api/sessions/{session_id}/select"
    focus = {"kind": "neuron", "layer": 1, "neuron": 1}
    status, _, data = request(real_server, "POST", path, {"point": 0, "focus": focus})
    assert status == 200
    static = json.loads(data)
    assert static["kind"] == "neuron"
    assert (static.get("svg") or "").startswith("<svg") or "Graphviz" in static.get("error", "")
    status, _, data = request(real_server, "POST", path, {"point": 10_000, "focus": focus})
    assert status == 400 and "point" in error_of(data)


def test_real_server_close_stops_the_training_threads(serve):
    server = serve(new_session=server_module.default_session_factory, limits=server_module.default_limits)
    session_id = new_session(server)
    request(server, "POST", f"/api/sessions/{session_id}/control", {"action": "play"})
    thread = server.sessions.get(session_id)._thread
    assert thread.is_alive()
    server.shutdown()
    server.server_close()
    thread.join(5)
    assert not thread.is_alive()


def test_real_tabs_train_independently(real_server):
    playing, idle = new_session(real_server), new_session(real_server)
    streams = {session_id: open_stream(real_server, session_id) for session_id in (playing, idle)}
    request(real_server, "POST", f"/api/sessions/{playing}/control", {"action": "play"})
    frame_where(streams[playing][1], lambda frame: frame["step"] >= 10)
    request(real_server, "POST", f"/api/sessions/{idle}/control", {"action": "step"})
    assert frame_where(streams[idle][1], lambda frame: frame["step"] == 1)["running"] is False
    for connection, response in streams.values():
        close_stream(connection, response)
