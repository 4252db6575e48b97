"""The engine: scalar Values and reverse-mode automatic differentiation.

``engine.value`` is the whole of autodiff and imports only the standard
library; read it first. ``engine.batch`` (numpy) replays a recorded graph over
a batch of inputs at once.
"""

from engine.value import Value, topological_order

__all__ = ["Value", "topological_order"]
