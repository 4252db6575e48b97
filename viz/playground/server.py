"""The playground's HTTP side: the page, a small JSON API, and one live stream per tab.

``python -m viz.playground`` runs this server; the page it serves
(``viz/playground/static``) only draws. Everything else happens in Python: each
browser tab owns a :class:`~viz.playground.session.Session` (data, model, a
training thread) and reads its frames over Server-Sent Events. Only the
standard library is used: ``http.server`` with one daemon thread per connection.

Endpoints (every body is JSON in UTF-8 unless said otherwise)::

    GET    /                              the page (any query string: the settings live there)
    GET    /static/<name>                 index.html, playground.js, playground.css (nothing else)
    GET    /api/limits                    the knobs' limits (session.LIMITS)
    POST   /api/sessions                  {"settings": {query}} -> {"id", "settings", "limits"}
    GET    /api/sessions/<id>/stream      text/event-stream of "event: frame" (latest frame only)
    POST   /api/sessions/<id>/control     {"action": "play"|"pause"|"step"|"reset", "new_weights": bool}
    POST   /api/sessions/<id>/settings    {updates} -> {"settings"}
    POST   /api/sessions/<id>/points      {"action": "add", "x1", "x2", "label"} | {"action": "remove", "x1", "x2"}
    POST   /api/sessions/<id>/csv         body text/csv -> {"points": n}
    GET    /api/sessions/<id>/weights     the weights document, as a download
    POST   /api/sessions/<id>/weights     that document
    GET    /api/sessions/<id>/code        the Python that builds and trains the same model (text/plain)
    POST   /api/sessions/<id>/select      {"point": int | null, "focus": {...} | null} -> the focus's static part
    DELETE /api/sessions/<id>

Actions without a result of their own answer ``{"ok": true}``.

Choices made here (the contract left them open):

- Errors are always JSON ``{"error": message}``, never a traceback: 400 bad input,
  403 wrong Host or Origin, 404 unknown path or session, 405 wrong method (with
  ``Allow``), 411 no Content-Length, 413 body over 200 kB, 415 wrong Content-Type,
  503 when 8 sessions are open. A crash inside a handler answers 500 with a short
  message and prints its traceback once on the server's terminal.
- Nothing is read from a path taken from the request: static files come from a
  fixed table of names, so ``/static/../server.py`` and its encoded forms are 404s.
- A page on another site cannot drive the API: POST bodies must be
  ``application/json`` (``text/csv`` or ``text/plain`` for the CSV), which browsers
  only send cross-site after a CORS preflight this server never grants; a request
  with a foreign ``Origin`` is refused; and a server bound to a loopback address
  answers only requests addressed to a loopback name (``Host``), which defeats
  DNS rebinding.
- A session lives while a page streams it. When its last stream closes (tab closed,
  page reloaded) it is closed after ``grace`` seconds (10) unless a new stream opens.
  A session whose stream never opens is closed after ``unclaimed_timeout``
  seconds (60), so scripts that forget to delete theirs cannot fill the 8 places.
- A stream sends the latest frame only (a slow tab skips frames, it never slows
  training), a ``: keepalive`` comment every 15 s, and notices a closed tab within
  about a second even while nothing changes.
- Quiet by default: no line per request on stderr unless ``verbose``.
"""

from __future__ import annotations

import ipaddress
import json
import math
import re
import secrets
import select
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from socketserver import TCPServer
from typing import Any
from urllib.parse import urlsplit

from viz.playground.session import LIMITS, BadRequest, Session, Settings

STATIC_FOLDER = Path(__file__).resolve().parent / "static"

# The only files the server ever reads: a request names one of these keys, never a path.
STATIC_FILES = {
    "index.html": "text/html; charset=utf-8",
    "playground.js": "text/javascript; charset=utf-8",
    "playground.css": "text/css; charset=utf-8",
}

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
}

MAX_BODY_BYTES = 200_000
MAX_SESSIONS = 8
GRACE_SECONDS = 10.0
KEEPALIVE_SECONDS = 15.0
UNCLAIMED_SECONDS = 60.0
# How often a quiet stream wakes to check that its tab is still there and the server still up.
STREAM_POLL_SECONDS = 1.0
# A client that stops sending (or reading) for this long is dropped, so it cannot hold a thread forever.
SOCKET_TIMEOUT_SECONDS = 60.0

SESSION_ID = r"[A-Za-z0-9_-]{1,64}"
# Routes whose handler is given the session itself (looked up first, so an unknown id is a 404
# whatever the body); the others get the id or nothing.
SESSION_ROUTES = ("control", "settings", "points", "csv", "weights", "code", "select")
ROUTES = [  # (pattern, route name, {method: handler method name})
    (re.compile(r"/"), "page", {"GET": "get_page"}),
    (re.compile(r"/favicon\.ico"), "favicon", {"GET": "get_favicon"}),
    (re.compile(r"/static/([^/]*)"), "static", {"GET": "get_static"}),
    (re.compile(r"/api/limits"), "limits", {"GET": "get_limits"}),
    (re.compile(r"/api/sessions"), "sessions", {"POST": "post_session"}),
    (re.compile(rf"/api/sessions/({SESSION_ID})"), "session", {"DELETE": "delete_session"}),
    (re.compile(rf"/api/sessions/({SESSION_ID})/stream"), "stream", {"GET": "get_stream"}),
    (re.compile(rf"/api/sessions/({SESSION_ID})/control"), "control", {"POST": "post_control"}),
    (re.compile(rf"/api/sessions/({SESSION_ID})/settings"), "settings", {"POST": "post_settings"}),
    (re.compile(rf"/api/sessions/({SESSION_ID})/points"), "points", {"POST": "post_points"}),
    (re.compile(rf"/api/sessions/({SESSION_ID})/csv"), "csv", {"POST": "post_csv"}),
    (
        re.compile(rf"/api/sessions/({SESSION_ID})/weights"),
        "weights",
        {"GET": "get_weights", "POST": "post_weights"},
    ),
    (re.compile(rf"/api/sessions/({SESSION_ID})/code"), "code", {"GET": "get_code"}),
    (re.compile(rf"/api/sessions/({SESSION_ID})/select"), "select", {"POST": "post_select"}),
]

DISCONNECTED = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, TimeoutError)


class HttpError(Exception):
    """A request the server refuses: ``status`` and a message for the page."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def default_session_factory(query: dict[str, str]) -> Session:
    """A Session built from the page's settings (BadRequest when they cannot be used)."""
    return Session(Settings.from_query(query))


def default_limits() -> dict:
    return LIMITS


# ---------------------------------------------------------------------------------------------
# Sessions: at most MAX_SESSIONS, each closed a grace period after its last stream ends.


@dataclass
class SessionEntry:
    session: Any
    open_streams: int = 0
    close_timer: threading.Timer | None = None
    closed: threading.Event = field(default_factory=threading.Event)


class SessionRegistry:
    """The open sessions by id, and the timers that close the ones no tab is watching."""

    def __init__(
        self,
        new_session: Callable[[dict[str, str]], Any],
        max_sessions: int,
        grace: float,
        unclaimed_timeout: float,
    ) -> None:
        self._new_session = new_session
        self._max_sessions = max_sessions
        self._grace = grace
        self._unclaimed_timeout = unclaimed_timeout
        self._lock = threading.Lock()
        self._entries: dict[str, SessionEntry] = {}
        self._being_built = 0  # places reserved by sessions still being constructed
        self._stopping = False

    def create(self, query: dict[str, str]) -> tuple[str, Any]:
        """Build, start and register a session; HttpError 503 when all places are taken."""
        with self._lock:
            if self._stopping:
                raise HttpError(503, "the playground server is stopping")
            if len(self._entries) + self._being_built >= self._max_sessions:
                raise HttpError(
                    503,
                    f"{self._max_sessions} playground sessions are open already (one per tab). Close "
                    f"a playground tab, wait {self._grace:g} s, and reload this page.",
                    {"Retry-After": str(max(1, math.ceil(self._grace)))},
                )
            self._being_built += 1
        try:
            session = self._new_session(query)
        finally:
            with self._lock:
                self._being_built -= 1
        session_id = secrets.token_urlsafe(16)
        entry = SessionEntry(session)
        with self._lock:
            stopping = self._stopping
            if not stopping:
                self._entries[session_id] = entry
                self._schedule_close(session_id, entry, self._unclaimed_timeout)
        if stopping:
            session.close()
            raise HttpError(503, "the playground server is stopping")
        session.start()
        return session_id, session

    def get(self, session_id: str) -> Any:
        return self._entry(session_id).session

    def _entry(self, session_id: str) -> SessionEntry:
        with self._lock:
            entry = self._entries.get(session_id)
        if entry is None:
            raise HttpError(
                404,
                "no such session: it was closed (its tab was closed, or the server restarted). "
                "Reload the page to start a new one.",
            )
        return entry

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def stream_opened(self, session_id: str) -> SessionEntry:
        """Count a new stream of the session and cancel any pending close."""
        with self._lock:
            entry = self._entries.get(session_id)
            if entry is not None:
                entry.open_streams += 1
                if entry.close_timer is not None:
                    entry.close_timer.cancel()
                    entry.close_timer = None
        if entry is None:
            return self._entry(session_id)  # raises the 404
        return entry

    def stream_closed(self, session_id: str, entry: SessionEntry) -> None:
        """The stream ended: after the grace period, close the session if no stream came back."""
        with self._lock:
            entry.open_streams -= 1
            if entry.open_streams == 0 and self._entries.get(session_id) is entry:
                self._schedule_close(session_id, entry, self._grace)

    def _schedule_close(self, session_id: str, entry: SessionEntry, delay: float) -> None:
        # Called with the lock held.
        timer = threading.Timer(delay, self._close_if_unwatched, (session_id, entry))
        timer.daemon = True
        entry.close_timer = timer
        timer.start()

    def _close_if_unwatched(self, session_id: str, entry: SessionEntry) -> None:
        with self._lock:
            still_unwatched = (
                entry.open_streams == 0
                and entry.close_timer is not None
                and entry.close_timer is threading.current_thread()
                and self._entries.get(session_id) is entry
            )
            if still_unwatched:
                del self._entries[session_id]
        if still_unwatched:
            self._close(entry)

    def remove(self, session_id: str) -> None:
        """Close the session now (DELETE); its streams end."""
        with self._lock:
            entry = self._entries.pop(session_id, None)
        if entry is None:
            self._entry(session_id)  # raises the 404
            return
        self._close(entry)

    def close_all(self) -> None:
        with self._lock:
            self._stopping = True
            entries = list(self._entries.values())
            self._entries.clear()
        for entry in entries:
            self._close(entry)

    @staticmethod
    def _close(entry: SessionEntry) -> None:
        if entry.close_timer is not None:
            entry.close_timer.cancel()
        entry.closed.set()
        entry.session.close()


# ---------------------------------------------------------------------------------------------
# The server.


class PlaygroundServer(ThreadingHTTPServer):
    """A ThreadingHTTPServer holding the sessions; ``url`` is the address to open."""

    daemon_threads = True
    # On Windows SO_REUSEADDR would let a second server steal a port in use.
    allow_reuse_address = sys.platform != "win32"

    def __init__(
        self,
        host: str,
        port: int,
        *,
        new_session: Callable[[dict[str, str]], Any] = default_session_factory,
        limits: Callable[[], dict] = default_limits,
        max_sessions: int = MAX_SESSIONS,
        grace: float = GRACE_SECONDS,
        keepalive: float = KEEPALIVE_SECONDS,
        unclaimed_timeout: float = UNCLAIMED_SECONDS,
        verbose: bool = False,
    ) -> None:
        if ":" in host:
            self.address_family = socket.AF_INET6
        self.sessions = SessionRegistry(new_session, max_sessions, grace, unclaimed_timeout)
        self.limits = limits
        self.keepalive = keepalive
        self.verbose = verbose
        self.host = host
        self.only_loopback_hosts = is_loopback(host)
        super().__init__((host, port), PlaygroundRequestHandler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks the host up with socket.getfqdn, which can take seconds
        # on a machine with slow DNS; the name is never used here.
        TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    @property
    def port(self) -> int:
        return self.server_address[1]

    @property
    def url(self) -> str:
        """The address to open in a browser (a loopback one when bound to every interface)."""
        host = self.host
        if host in ("", "0.0.0.0"):
            host = "127.0.0.1"
        elif host == "::":
            host = "::1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}/"

    def server_close(self) -> None:
        """Stop listening and close every session (their training threads stop)."""
        super().server_close()
        self.sessions.close_all()

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that vanished mid-request is normal (a tab closed); anything else is a bug
        # worth one traceback on the terminal.
        error = sys.exc_info()[1]
        if isinstance(error, DISCONNECTED + (socket.timeout,)):
            return
        print(f"playground: error while serving {client_address[0]}:", file=sys.stderr)
        traceback.print_exc(file=sys.stderr)


def make_server(host: str = "127.0.0.1", port: int = 0, **options: Any) -> PlaygroundServer:
    """A bound server, not yet serving: run ``serve_forever()`` in a thread, then
    ``shutdown()`` and ``server_close()`` (which closes every session).

    ``port=0`` picks a free port (``server.url`` says which). Options, mostly for tests:
    ``new_session`` (settings query -> session), ``limits``, ``max_sessions``,
    ``grace``, ``keepalive``, ``unclaimed_timeout`` (seconds), ``verbose``.
    """
    return PlaygroundServer(host, port, **options)


def is_loopback(host: str) -> bool:
    """True for addresses only this computer can reach (127.0.0.1, ::1, localhost)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


# ---------------------------------------------------------------------------------------------
# One request.


class PlaygroundRequestHandler(BaseHTTPRequestHandler):
    """Routes one request; every answer carries the security headers, every error is JSON."""

    server: PlaygroundServer
    server_version = "glassgrad-playground"
    protocol_version = "HTTP/1.1"  # keep-alive: the page's API calls reuse connections
    timeout = SOCKET_TIMEOUT_SECONDS

    # --- dispatch -------------------------------------------------------------------------

    def dispatch(self) -> None:
        """Answer any method: the route table says which are allowed where (405 otherwise)."""
        self.response_started = False
        self.body_read = False
        try:
            self.check_host_and_origin()
            route_name, handler_name, arguments = self.route()
            if route_name in SESSION_ROUTES:
                arguments = (self.server.sessions.get(arguments[0]),)
            getattr(self, handler_name)(*arguments)
        except HttpError as error:
            self.refuse(error)
        except BadRequest as error:  # the session's message for the page
            self.refuse(HttpError(400, str(error)))
        except DISCONNECTED:
            self.close_connection = True
        except Exception as error:  # a bug: a short answer for the page, the traceback for the terminal
            print(f"playground: {self.command} {self.path} failed:", file=sys.stderr)
            traceback.print_exc(file=sys.stderr)
            self.refuse(
                HttpError(
                    500,
                    f"the playground server failed on {self.command} {urlsplit(self.path).path} "
                    f"({type(error).__name__}); its terminal shows the details",
                )
            )
        finally:
            if self.has_unread_body():
                self.close_connection = True

    do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = do_HEAD = do_OPTIONS = dispatch

    def route(self) -> tuple[str, str, tuple[str, ...]]:
        """(route name, handler method name, the path's captured parts) for this request."""
        path = urlsplit(self.path).path
        for pattern, route_name, methods in ROUTES:
            match = pattern.fullmatch(path)
            if match is None:
                continue
            if self.command not in methods:
                allowed = ", ".join(methods)
                raise HttpError(405, f"{self.command} is not allowed on {path}; use {allowed}", {"Allow": allowed})
            return route_name, methods[self.command], match.groups()
        raise HttpError(404, f"nothing at {path[:200]}")

    def check_host_and_origin(self) -> None:
        host_header = self.headers.get("Host")
        if self.server.only_loopback_hosts and host_header is not None:
            if not is_loopback(host_name(host_header)):
                raise HttpError(
                    403,
                    f"this playground answers only requests addressed to this computer "
                    f"(127.0.0.1 or localhost), not to {host_header[:100]!r}",
                )
        origin = self.headers.get("Origin")
        if origin is not None and host_header is not None and origin != "null":
            origin_host = urlsplit(origin).netloc
            if origin_host.lower() != host_header.lower():
                raise HttpError(403, f"requests from another site ({origin[:100]}) are not accepted")

    # --- answers --------------------------------------------------------------------------

    def send_body(
        self,
        status: int,
        body: bytes,
        content_type: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.response_started = True
        self.send_response(status)
        for name, value in {**SECURITY_HEADERS, **(headers or {})}.items():
            self.send_header(name, value)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD" and status not in (204, 304):
            self.wfile.write(body)

    def send_json(self, value: object, status: int = 200, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(value, allow_nan=False).encode("utf-8")
        self.send_body(status, body, "application/json; charset=utf-8", headers)

    def send_ok(self) -> None:
        self.send_json({"ok": True})

    def refuse(self, error: HttpError) -> None:
        if getattr(self, "response_started", False):
            # Headers are gone already (a stream): all that is left is to hang up.
            self.close_connection = True
            return
        if self.has_unread_body():
            # What is left of the body would be taken for the next request on this connection.
            self.close_connection = True
        self.send_json({"error": error.message}, error.status, error.headers)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own errors (malformed request line, unknown method...) as JSON too."""
        self.close_connection = True
        if self.request_version == "HTTP/0.9":
            # http.server assumes 0.9 for a request line it cannot read, and would send a bare body.
            self.request_version = "HTTP/1.0"
        try:
            text = message or HTTPStatus(code).phrase
        except ValueError:
            text = "error"
        self.send_json({"error": text}, code)

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            super().log_message(format, *args)

    # --- reading a body -------------------------------------------------------------------

    def has_unread_body(self) -> bool:
        announced = self.headers.get("Transfer-Encoding") or self.headers.get("Content-Length", "0").strip() != "0"
        return bool(announced) and not getattr(self, "body_read", False)

    def read_body(self, allowed_types: tuple[str, ...]) -> bytes:
        """The request's body, after checking its Content-Type and Content-Length."""
        content_type = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if content_type not in allowed_types:
            shown = content_type or "none"
            raise HttpError(415, f"send this body as {' or '.join(allowed_types)} (Content-Type was {shown})")
        if self.headers.get("Transfer-Encoding"):
            raise HttpError(411, "send the body with a Content-Length (chunked bodies are not accepted)")
        length_text = self.headers.get("Content-Length")
        if length_text is None:
            raise HttpError(411, "the request has a body but no Content-Length header")
        try:
            length = int(length_text)
        except ValueError:
            length = -1
        if length < 0:
            raise HttpError(400, f"Content-Length must be a whole number of bytes, not {length_text[:40]!r}")
        if length > MAX_BODY_BYTES:
            raise HttpError(413, f"the body is {length:,} bytes; the limit is {MAX_BODY_BYTES:,} bytes (200 kB)")
        body = self.rfile.read(length)
        self.body_read = True
        if len(body) < length:
            self.close_connection = True
            raise HttpError(400, f"the body ended after {len(body)} of {length} bytes")
        return body

    def read_json(self) -> object:
        body = self.read_body(("application/json",))
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as error:
            raise HttpError(400, f"the body is not UTF-8 text ({error.reason} at byte {error.start})") from None
        try:
            return json.loads(text, parse_constant=refuse_non_finite_constant)
        except json.JSONDecodeError as error:
            raise HttpError(400, f"the body is not valid JSON: {error}") from None

    def read_json_object(self, example: str) -> dict:
        value = self.read_json()
        if not isinstance(value, dict):
            raise HttpError(400, f"the body must be a JSON object like {example}, not {json_type(value)}")
        return value

    # --- static files ---------------------------------------------------------------------

    def get_page(self) -> None:
        self.send_static("index.html")

    def get_static(self, name: str) -> None:
        if name not in STATIC_FILES:
            raise HttpError(404, f"no static file named {name[:100]!r}")
        self.send_static(name)

    def send_static(self, name: str) -> None:
        # `name` is a key of STATIC_FILES (checked by the caller), never text from the request.
        try:
            body = (STATIC_FOLDER / name).read_bytes()
        except FileNotFoundError:
            raise HttpError(404, f"{name} is missing from viz/playground/static") from None
        self.send_body(200, body, STATIC_FILES[name])

    def get_favicon(self) -> None:
        # No icon: an empty answer keeps the browser's console free of a 404.
        self.send_body(204, b"", "image/x-icon")

    # --- the API --------------------------------------------------------------------------

    def get_limits(self) -> None:
        self.send_json(self.server.limits())

    def post_session(self) -> None:
        body = self.read_json_object('{"settings": {"dataset": "moons"}}')
        unknown = set(body) - {"settings"}
        if unknown:
            raise HttpError(400, f"unknown field(s) {sorted(unknown)}; send {{'settings': {{...}}}}")
        query = settings_query(body.get("settings", {}))
        session_id, session = self.server.sessions.create(query)
        self.send_json({"id": session_id, "settings": session.settings.to_query(), "limits": self.server.limits()})

    def delete_session(self, session_id: str) -> None:
        self.server.sessions.remove(session_id)
        self.send_ok()

    def post_control(self, session: Any) -> None:
        body = self.read_json_object('{"action": "play"}')
        check_fields(body, required={"action"}, optional={"new_weights"})
        action = body["action"]
        if not isinstance(action, str):
            raise HttpError(400, f"action must be a string (play, pause, step or reset), not {json_type(action)}")
        options = {}
        if "new_weights" in body:
            if not isinstance(body["new_weights"], bool):
                raise HttpError(400, f"new_weights must be true or false, not {json_type(body['new_weights'])}")
            if action != "reset":
                raise HttpError(400, f"new_weights goes with the reset action, not with {action[:40]!r}")
            options["new_weights"] = body["new_weights"]
        session.control(action, **options)
        self.send_ok()

    def post_settings(self, session: Any) -> None:
        updates = self.read_json_object('{"learning_rate": 0.05}')
        settings = session.update(updates)
        self.send_json({"settings": settings.to_query()})

    def post_points(self, session: Any) -> None:
        body = self.read_json_object('{"action": "add", "x1": 0.5, "x2": -1.0, "label": 1}')
        action = body.get("action")
        if action == "add":
            check_fields(body, required={"action", "x1", "x2", "label"})
            label = body["label"]
            if not isinstance(label, int) or isinstance(label, bool):
                raise HttpError(400, f"label must be a whole number (a class index), not {json_type(label)}")
            session.add_point(coordinate(body, "x1"), coordinate(body, "x2"), label)
        elif action == "remove":
            check_fields(body, required={"action", "x1", "x2"})
            session.remove_point(coordinate(body, "x1"), coordinate(body, "x2"))
        else:
            raise HttpError(400, f'action must be "add" or "remove", not {json.dumps(action)[:40]}')
        self.send_ok()

    def post_csv(self, session: Any) -> None:
        body = self.read_body(("text/csv", "text/plain"))
        try:
            text = body.decode("utf-8-sig")  # a spreadsheet's byte-order mark is fine
        except UnicodeDecodeError as error:
            raise HttpError(
                400, f"the CSV is not UTF-8 text (byte {error.start}); save it as UTF-8 CSV and upload again"
            ) from None
        self.send_json({"points": session.load_csv(text)})

    def get_weights(self, session: Any) -> None:
        document = session.weights_document()
        headers = {"Content-Disposition": 'attachment; filename="glassgrad-weights.json"'}
        self.send_json(document, headers=headers)

    def post_weights(self, session: Any) -> None:
        document = self.read_json()
        session.load_weights(document)
        self.send_ok()

    def get_code(self, session: Any) -> None:
        code = session.as_code()
        self.send_body(200, code.encode("utf-8"), "text/plain; charset=utf-8")

    def post_select(self, session: Any) -> None:
        body = self.read_json_object('{"point": 3, "focus": {"kind": "neuron", "layer": 1, "neuron": 2}}')
        check_fields(body, required=set(), optional={"point", "focus"})
        point = body.get("point")
        if point is not None and (not isinstance(point, int) or isinstance(point, bool)):
            raise HttpError(400, f"point must be a point's index or null, not {json_type(point)}")
        focus = body.get("focus")
        if focus is not None and not isinstance(focus, dict):
            raise HttpError(400, f'focus must be an object like {{"kind": "output"}} or null, not {json_type(focus)}')
        self.send_json(session.select(point=point, focus=focus))

    # --- the stream -----------------------------------------------------------------------

    def get_stream(self, session_id: str) -> None:
        """Send the session's frames as Server-Sent Events until the tab or the session goes."""
        registry = self.server.sessions
        entry = registry.stream_opened(session_id)
        try:
            self.close_connection = True  # the stream's end is the connection's end
            self.response_started = True
            self.send_response(200)
            for name, value in SECURITY_HEADERS.items():
                self.send_header(name, value)
            self.send_header("Content-Type", "text/event-stream; charset=utf-8")
            self.send_header("Connection", "close")
            self.send_header("X-Accel-Buffering", "no")
            self.end_headers()
            self.wfile.flush()
            self.send_frames(entry)
        except DISCONNECTED:
            pass  # the tab went away
        finally:
            registry.stream_closed(session_id, entry)

    def send_frames(self, entry: SessionEntry) -> None:
        keepalive = self.server.keepalive
        version = -1
        last_sent = time.monotonic()
        while not entry.closed.is_set():
            wait = max(0.0, min(STREAM_POLL_SECONDS, keepalive - (time.monotonic() - last_sent)))
            started = time.monotonic()
            latest = entry.session.wait_frame(version, wait)
            if latest is not None:
                version, frame = latest
                # A frame is one line of JSON; should it ever hold a newline, SSE continues it this way.
                data = frame.replace("\n", "\ndata: ")
                self.wfile.write(f"id: {version}\nevent: frame\ndata: {data}\n\n".encode())
                self.wfile.flush()
                last_sent = time.monotonic()
                continue
            if self.client_hung_up():
                return
            if time.monotonic() - last_sent >= keepalive:
                self.wfile.write(b": keepalive\n\n")
                self.wfile.flush()
                last_sent = time.monotonic()
            elif time.monotonic() - started < wait / 2:
                time.sleep(wait / 2)  # wait_frame gave up early (a closing session): do not spin

    def client_hung_up(self) -> bool:
        """True when the browser closed the connection (a readable socket with nothing to read)."""
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            return bool(readable) and self.connection.recv(1, socket.MSG_PEEK) == b""
        except (OSError, ValueError):
            return True


# ---------------------------------------------------------------------------------------------
# Small checks on the JSON bodies (the session checks the values themselves).


def host_name(host_header: str) -> str:
    """'127.0.0.1:8000' -> '127.0.0.1'; '[::1]:8000' -> '::1'."""
    if host_header.startswith("["):
        return host_header[1:].split("]")[0]
    return host_header.rsplit(":", 1)[0] if host_header.count(":") == 1 else host_header


def refuse_non_finite_constant(name: str) -> None:
    raise HttpError(400, f"the body holds {name}, which JSON does not allow; send finite numbers")


def json_type(value: object) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "true/false", type(None): "null"}
    if isinstance(value, bool) or value is None:
        return names[type(value)]
    if isinstance(value, (int, float)):
        return f"the number {value}"
    return names.get(type(value), type(value).__name__)


def check_fields(body: dict, required: set[str], optional: set[str] = frozenset()) -> None:
    missing = required - set(body)
    if missing:
        raise HttpError(400, f"missing field(s): {', '.join(sorted(missing))}")
    unknown = set(body) - required - optional
    if unknown:
        expected = ", ".join(sorted(required | optional))
        raise HttpError(400, f"unknown field(s): {', '.join(sorted(unknown))} (expected: {expected})")


def coordinate(body: dict, name: str) -> float:
    value = body[name]
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise HttpError(400, f"{name} must be a number, not {json_type(value)}")
    return float(value)


def settings_query(settings: object) -> dict[str, str]:
    """The page's settings object as the query dict Settings.from_query reads (strings only)."""
    if not isinstance(settings, dict):
        raise HttpError(400, f"settings must be an object of name: value, not {json_type(settings)}")
    query = {}
    for name, value in settings.items():
        if isinstance(value, str):
            query[name] = value
        elif isinstance(value, bool):
            query[name] = "true" if value else "false"
        elif isinstance(value, (int, float)):
            query[name] = repr(value)
        else:
            raise HttpError(400, f"setting {name[:40]!r} must be a string or a number, not {json_type(value)}")
    return query

