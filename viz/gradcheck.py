"""Check every local derivative of a graph against a finite difference of its operation.

``backward`` trusts the numbers each operation stored in ``node.local_grads``
(see ``engine/value.py``). This module re-derives each of them numerically, one
operation at a time: it re-runs the operation alone on its parents' data with
one parent nudged up and then down,

    d node / d parent_i  ~=  (op(..., p_i + s, ...) - op(..., p_i - s, ...)) / (2 s)

and compares that with the stored value. Checking operations one by one, rather
than the whole graph end to end, points at the exact node whose rule is wrong,
and ``viz.graph.draw_dot(root, checks=report)`` paints that node red.

>>> from engine import Value
>>> x = Value(0.5, label="x")
>>> report = check_gradients((x * x).tanh())
>>> report.ok, len(report.results)
(True, 3)

The step ``s`` is ``h * max(1, |p_i|)``, so large inputs are nudged by a
visible amount. A result passes when

    |engine - numeric|  <=  atol + rtol * max(|engine|, |numeric|) + rounding

where ``rounding`` bounds the float rounding error of the difference quotient
itself (about ``eps * |op| / s``), so that a sum of a huge and a tiny number is
not blamed for the noise of the finite difference. Points where the operation is
not smooth or not defined within the step (relu at its kink, log near 0, a
negative base of a fractional power) are skipped, with the reason recorded.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from engine import Value, topological_order
from engine.array_ops import OperationError, operation

__all__ = ["LocalGradCheck", "GradCheckReport", "check_gradients", "forward_function"]


# ops whose derivative jumps at a point: name -> the kink's position
KINKS = {"relu": 0.0}


def _kink_within(op: str, data: list[float], index: int, step: float) -> str | None:
    """Why a central difference across data[index] +- step would straddle a kink of ``op``, or None."""
    x = data[index]
    kink = KINKS.get(op)
    if kink is not None and x - step <= kink <= x + step:
        return f"{op} has a kink at {kink!r}"
    if op == "max" and any(abs(other - x) <= step for i, other in enumerate(data) if i != index):
        return "max has a kink where two values tie"
    return None


def forward_function(op: str) -> Callable[..., float] | None:
    """The function computing a node's data from its parents' data, or None if unknown.

    It is the forward half of the operation's entry in ``engine.array_ops``,
    the table the batched replay runs too, so the replay is checked as well.

    >>> forward_function("**3")(2.0)
    8.0
    """
    entry = operation(op)
    if entry is None:
        return None

    def forward(*data: float) -> float:
        with np.errstate(all="ignore"):
            value, _ = entry(*(np.float64(x) for x in data))
        return float(value)

    return forward


@dataclass(frozen=True, eq=False)
class LocalGradCheck:
    """One stored local derivative, d node / d node.parents[index], beside its numerical estimate.

    ``numeric`` is None when the point was skipped; ``note`` then says why.
    """

    node: Value
    index: int
    engine: float
    numeric: float | None
    ok: bool
    note: str = ""

    @property
    def parent(self) -> Value:
        return self.node.parents[self.index]

    @property
    def skipped(self) -> bool:
        return self.numeric is None

    def describe(self) -> str:
        """One line for people, e.g. ``tanh "h" wrt parent 0 "x": engine 0.42 vs numeric 0.79 (WRONG)``."""
        node_name = f' "{self.node.label}"' if self.node.label else ""
        parent_name = f' "{self.parent.label}"' if self.parent.label else ""
        where = f"{self.node.op}{node_name} wrt parent {self.index}{parent_name}"
        if self.skipped:
            return f"{where}: engine {self.engine!r}, skipped ({self.note})"
        verdict = "ok" if self.ok else "WRONG"
        return f"{where}: engine {self.engine!r} vs numeric {self.numeric!r} ({verdict})"


@dataclass(eq=False)
class GradCheckReport:
    """The result of `check_gradients`: one `LocalGradCheck` per (node, parent) edge.

    ``ok`` is True when nothing failed (skipped points do not count as failures).
    Pass the report to ``draw_dot(root, checks=report)`` to see the failures.
    """

    results: list[LocalGradCheck] = field(default_factory=list)
    unknown_ops: list[Value] = field(default_factory=list)

    @property
    def failures(self) -> list[LocalGradCheck]:
        return [r for r in self.results if not r.ok]

    @property
    def skipped(self) -> list[LocalGradCheck]:
        return [r for r in self.results if r.skipped]

    @property
    def ok(self) -> bool:
        return not self.failures

    def by_node(self) -> dict[Value, list[LocalGradCheck]]:
        """The results grouped by the node whose local derivatives they check."""
        grouped: dict[Value, list[LocalGradCheck]] = {}
        for result in self.results:
            grouped.setdefault(result.node, []).append(result)
        return grouped

    def summary(self) -> str:
        checked = len(self.results) - len(self.skipped)
        lines = [
            f"{checked} local derivatives checked, {len(self.failures)} wrong, {len(self.skipped)} skipped"
        ]
        lines += [f"  WRONG: {r.describe()}" for r in self.failures]
        if self.unknown_ops:
            ops = sorted({node.op for node in self.unknown_ops})
            lines.append(f"  not checked: no forward function for op(s) {', '.join(map(repr, ops))}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


def check_gradients(root: Value, h: float = 1e-6, rtol: float = 1e-4, atol: float = 1e-6) -> GradCheckReport:
    """Compare every ``node.local_grads[i]`` in the graph of ``root`` with a central difference.

    Each operation is re-evaluated alone (with `forward_function`) on its
    parents' data, one parent at a time moved by +-``h * max(1, |data|)``;
    nothing else in the graph is touched. Returns a `GradCheckReport`.
    """
    if not h > 0.0:
        raise ValueError(f"check_gradients(h={h!r}): the step must be a positive number")
    report = GradCheckReport()
    for node in topological_order(root):
        if not node.parents:
            continue
        forward = forward_function(node.op)
        if forward is None:
            report.unknown_ops.append(node)
            for index, local_grad in enumerate(node.local_grads):
                note = f"no forward function for op {node.op!r}"
                report.results.append(LocalGradCheck(node, index, local_grad, None, True, note))
            continue
        data = [parent.data for parent in node.parents]
        for index, local_grad in enumerate(node.local_grads):
            report.results.append(_check_one(node, forward, data, index, local_grad, h, rtol, atol))
    return report


def _check_one(
    node: Value,
    forward: Callable[..., float],
    data: list[float],
    index: int,
    engine: float,
    h: float,
    rtol: float,
    atol: float,
) -> LocalGradCheck:
    x = data[index]
    step = h * max(1.0, abs(x))
    kink = _kink_within(node.op, data, index, step)
    if kink is not None:
        return LocalGradCheck(node, index, engine, None, True, kink)
    up, down = list(data), list(data)
    up[index], down[index] = x + step, x - step
    try:
        f_up, f_down = forward(*up), forward(*down)
    except OperationError:  # log(-0.1), 1 / 0.0, exp(1000): not defined or not a float
        note = f"{node.op} is not defined within {x!r} +- {step!r}"
        return LocalGradCheck(node, index, engine, None, True, note)
    # divide by the step actually taken: x + step and x - step are rounded too
    numeric = (f_up - f_down) / (up[index] - down[index])
    if not math.isfinite(numeric):
        return LocalGradCheck(node, index, engine, None, True, f"{node.op} is not finite near {x!r}")
    rounding = 4.0 * sys.float_info.epsilon * max(abs(f_up), abs(f_down)) / (up[index] - down[index])
    tolerance = atol + rtol * max(abs(engine), abs(numeric)) + rounding
    ok = math.isfinite(engine) and abs(engine - numeric) <= tolerance  # an inf or nan rule is wrong here
    return LocalGradCheck(node, index, engine, numeric, ok)
