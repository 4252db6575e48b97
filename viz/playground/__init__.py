"""The live playground: watch a network learn in the browser, and click anything to see its graph.

``python -m viz.playground`` (or the ``glassgrad-playground`` command) starts a
local web server and opens its page. The page only draws; Python does every
number, with the rest of glassgrad: the batched replay trains an ``nn.MLP``,
numpy evaluates every neuron over the plane, Graphviz lays out the graphs.

Read it in the order a request travels:

- ``viz.playground.__main__``: the command line (``--port``, ``--host``, ``--no-browser``).
- ``viz.playground.server``: the standard library's HTTP server; one ``Session`` per
  browser tab, its frames streamed as Server-Sent Events, every error a JSON message.
- ``viz.playground.session``: a session's model, the thread that trains it, and its frames.
- ``viz.playground.settings``: every knob, its limits, and how the address spells it.
- ``viz.playground.data``: the points (generated, clicked, or from a CSV) and the plane.
- ``viz.playground.frames``: the model's state as a frame: boundary, neuron maps, weights.
- ``viz.playground.focus``: the computation graph behind a clicked neuron, weight or output.
- ``viz.playground.as_code``: the Python lines that build and train the same model.
- ``viz/playground/static``: the page (plain JavaScript drawing on ``<canvas>``).

This file only gathers the public names.
"""

from viz.playground.server import PlaygroundServer, make_server
from viz.playground.session import LIMITS, BadRequest, Session, Settings

__all__ = ["LIMITS", "BadRequest", "PlaygroundServer", "Session", "Settings", "make_server"]
