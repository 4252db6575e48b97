"""Every operation of ``engine.value``, on numpy arrays: forward value and local derivatives side by side.

``engine/value.py`` is the readable reference, one float at a time. This is the
same table for arrays of samples, shared by the batched replay
(``engine/batch.py``) and the gradient checker (``viz/gradcheck.py``). Each
entry takes the parents' values and returns ``(value, [d value / d parent, ...])``:

    "*":  a * b              d/da = b, d/db = a

Where the scalar engine raises (log of a number <= 0, division by zero, an
``exp`` or ``**`` that overflows), an entry raises ``OperationError`` carrying
a mask of the samples that failed, so that the caller can name one of them.
NaN and infinity otherwise pass through as IEEE floats, as in the scalar
engine. Callers run the table under ``np.errstate(all="ignore")``: failures are
reported by the checks here, not by numpy's warnings.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np

from engine.value import split_dot

__all__ = ["OPERATIONS", "OperationError", "operation"]


class OperationError(Exception):
    """An operation failed for some samples; ``error`` is the exception the scalar engine raises."""

    def __init__(self, error: type[Exception], reason: str, failed: np.ndarray) -> None:
        super().__init__(reason)
        self.error, self.reason, self.failed = error, reason, failed


def _refuse(error: type[Exception], reason: str, failed: np.ndarray) -> None:
    if np.any(failed):
        raise OperationError(error, reason, failed)


def _divide(a, b):
    _refuse(ZeroDivisionError, "division by zero", b == 0.0)
    return a / b, [1.0 / b, -a / b / b]  # (b*b may underflow to 0)


def _exp(a):
    out = np.exp(a)
    _refuse_overflow(out, a)
    return out, [out]


def _log(a):
    _refuse(ValueError, "the natural log needs a positive number", a <= 0.0)  # NaN passes, as in value.py
    return np.log(a), [1.0 / a]


def _tanh(a):
    t = np.tanh(a)
    return t, [1.0 - t * t]


def _relu(a):
    # np.maximum passes NaN on, as value.py does; on mixed signs it is ~8x quicker than
    # np.where(a <= 0, 0, a), whose masked choice dominated a replay at 100,000 samples
    not_negative = ~(a <= 0.0)  # not `a > 0`, so that NaN gets slope 1, as in value.py
    return np.maximum(a, 0.0), [not_negative.astype(float)]


def _sigmoid(a):
    e = np.exp(-np.abs(a))  # never overflows
    s = np.where(a >= 0.0, 1.0 / (1.0 + e), e / (1.0 + e))
    return s, [s * (1.0 - s)]


def _power_of_value(x, y):
    _refuse(ValueError, "a Value exponent needs a base >= 0", x < 0.0)
    _refuse(ZeroDivisionError, "zero cannot be raised to a negative power", (x == 0.0) & (y < 0.0))
    out = x**y
    _refuse_overflow(out, x)
    log_x = np.log(np.where(x > 0.0, x, 1.0))  # log(x), taken as 0 at x = 0 as in value.py
    return out, [_power_rule(x, y), out * log_x]


def _power(n: float) -> Callable:
    """x ** n for a number exponent n, as in a node whose op is "**3"."""

    def power(x):
        if n < 0.0:
            _refuse(ZeroDivisionError, "zero cannot be raised to a negative power", x == 0.0)
        if not n.is_integer():
            _refuse(ValueError, "a negative base needs an integer exponent", x < 0.0)
        out = x**n
        _refuse_overflow(out, x)
        return out, [_power_rule(x, n)]

    return power


def _sum(*terms):
    total = np.zeros_like(terms[0])
    for term in terms:  # left to right, as value.py adds them
        total = total + term
    return total, [1.0] * len(terms)


def _max(*values):
    values = np.broadcast_arrays(*values)  # a leaf's number is one column for the whole batch
    largest = np.max(values, axis=0)  # NaN if any is NaN, as in value.py
    ties = [(v == largest) | (np.isnan(v) & np.isnan(largest)) for v in values]
    count = np.sum(ties, axis=0)
    return largest, [tie / count for tie in ties]


def _dot(*parents):
    bias, weights, inputs = split_dot(parents)
    total = bias
    for w, x in zip(weights, inputs):  # b + w1*x1 + w2*x2 ..., value.py's order and rounding
        total = total + w * x
    return total, [1.0, *inputs, *weights]


OPERATIONS: dict[str, Callable] = {
    "+": lambda a, b: (a + b, [1.0, 1.0]),
    "-": lambda a, b: (a - b, [1.0, -1.0]),
    "*": lambda a, b: (a * b, [b, a]),
    "/": _divide,
    "neg": lambda a: (-a, [-1.0]),
    "**": _power_of_value,
    "exp": _exp,
    "log": _log,
    "tanh": _tanh,
    "relu": _relu,
    "sigmoid": _sigmoid,
    "sum": _sum,
    "max": _max,
    "dot": _dot,
}

_NUMBER_IN_CALL = re.compile(r"\(([^()]*)\)")  # "**np.float64(2.0)" -> "2.0"


def operation(op: str) -> Callable | None:
    """The table's entry for the node symbol ``op``, or None for an operation it does not know.

    A number exponent is part of the symbol ("**3", "**-0.5"), so its entry is made here.
    """
    if op in OPERATIONS:
        return OPERATIONS[op]
    if op.startswith("**"):
        text = op[2:]
        found = _NUMBER_IN_CALL.search(text)
        try:
            return _power(float(found.group(1) if found else text))
        except ValueError:
            return None
    return None


# --- the edge cases, as in engine/value.py --------------------------------------


def _power_rule(x, n):
    """n * x**(n-1), with value.py's limits at x = 0: 1 for n = 1, 0 for n = 0 or n > 1, else inf."""
    slope = n * x ** (n - 1)
    at_zero = np.where(n == 1.0, 1.0, np.where((n == 0.0) | (n > 1.0), 0.0, np.inf))
    return np.where(x == 0.0, at_zero, slope)


def _refuse_overflow(out, base) -> None:
    """exp and ** of a finite number that came out infinite: OverflowError, as Python's math raises."""
    _refuse(OverflowError, "the result overflows a float", np.isinf(out) & np.isfinite(base))
