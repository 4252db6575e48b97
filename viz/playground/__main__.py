"""``python -m viz.playground``: start the live playground and open it in a browser.

Prints the address, opens the browser when it can (not with ``--no-browser``, not
when ``CI=true``, not on a Linux machine without a display), and runs until Ctrl-C
(or ``kill``: SIGTERM), which closes every session, prints "stopped" and exits
with code 0. ``main`` is also the ``glassgrad-playground`` console script.

The default port is 8000; when it is taken (another playground, perhaps) the next
free one is used and the address printed says which. A port given with ``--port``
is used as given or not at all.
"""

from __future__ import annotations

import argparse
import errno
import os
import signal
import sys
import threading
import webbrowser

from viz.playground.server import PlaygroundServer, is_loopback, make_server

DEFAULT_PORT = 8000
PORTS_TO_TRY = 20  # how far past the default port to look for a free one


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m viz.playground",
        description="glassgrad's live playground: watch a network learn in your browser, and click "
        "any neuron, edge or point to see its computation graph with live values and gradients.",
    )
    parser.add_argument(
        "--port",
        type=port_number,
        default=None,
        help=f"the port to listen on (default {DEFAULT_PORT}, or the next free one; 0 picks any free port)",
    )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="the address to listen on (default 127.0.0.1: this computer only; 0.0.0.0 lets anyone "
        "on your network use it)",
    )
    parser.add_argument("--no-browser", action="store_true", help="do not open a browser")
    parser.add_argument("--verbose", action="store_true", help="print one line per request")
    return parser.parse_args(argv)


def port_number(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (0 to 65535)") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port number (0 to 65535)")
    return port


def start_server(host: str, port: int | None, verbose: bool) -> PlaygroundServer:
    """Bind to `port`, or, when none was asked for, to the first free one from DEFAULT_PORT."""
    if port is not None:
        return make_server(host, port, verbose=verbose)
    for candidate in range(DEFAULT_PORT, DEFAULT_PORT + PORTS_TO_TRY):
        try:
            server = make_server(host, candidate, verbose=verbose)
        except OSError as error:
            if error.errno != errno.EADDRINUSE:
                raise
            continue
        if candidate != DEFAULT_PORT:
            print(f"port {DEFAULT_PORT} is in use (another playground?), so using {candidate}.")
        return server
    return make_server(host, 0, verbose=verbose)  # everything near 8000 is taken: any free port


def can_open_browser() -> bool:
    if os.environ.get("CI", "").lower() == "true":
        return False
    # Without a display, Python's webbrowser would start a text browser inside this terminal.
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return False
    return True


def announce(server: PlaygroundServer, host: str) -> None:
    if not is_loopback(host):
        print(
            f"warning: listening on {host}, not just this computer: anyone who can reach "
            f"it on the network can use the playground (run training on this machine, upload data). "
            f"Use --host 127.0.0.1 to keep it private.",
            file=sys.stderr,
        )
    print(f"glassgrad playground: {server.url}  (Ctrl-C stops it)", flush=True)


def open_browser(url: str) -> None:
    try:
        webbrowser.open(url)
    except Exception:  # noqa: BLE001 - no browser is not an error: the address is printed
        pass


def interrupt_on_terminate() -> None:
    """Let `kill` (SIGTERM) stop the server the way Ctrl-C does: sessions closed, "stopped", exit 0."""

    def interrupt(signal_number: int, frame: object) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, interrupt)


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    interrupt_on_terminate()
    server = None
    try:  # Ctrl-C at any moment means: close everything, say so, exit 0
        try:
            server = start_server(arguments.host, arguments.port, arguments.verbose)
        except OSError as error:
            explain_bind_failure(error, arguments.host, arguments.port)
            return 1
        announce(server, arguments.host)
        if not arguments.no_browser and can_open_browser():
            open_browser(server.url)
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        if server is not None:
            try:
                server.server_close()  # closes every session
            except KeyboardInterrupt:  # a second Ctrl-C while closing: just go
                pass
    print("stopped", flush=True)
    return 0


def explain_bind_failure(error: OSError, host: str, port: int | None) -> None:
    if error.errno == errno.EADDRINUSE:
        print(
            f"error: port {port} is already in use. Choose another with --port N, "
            f"or --port 0 to let the system pick a free one.",
            file=sys.stderr,
        )
    else:
        print(f"error: cannot listen on {host}: {error.strerror or error}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
