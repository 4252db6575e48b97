"""One scalar node of a computation graph, and backpropagation through it.

Start reading here. Every number a glassgrad program computes is a ``Value``.
When two Values meet in an operation (``a * b``), the result is a new Value that
remembers three things:

* ``parents``:     the Values it was computed from, in order (a tuple);
* ``local_grads``: the derivative of the result with respect to each parent,
                   worked out right there while the numbers are at hand;
* ``op``:          the operation's symbol, for people and pictures.

So a program builds a graph as it runs. ``loss.backward()`` then answers "how
does ``loss`` change when each Value changes?" with the chain rule:

    d loss / d parent  +=  d loss / d node  *  d node / d parent
                           ^ node.grad         ^ node.local_grads[i]

applied to every node after all the nodes that use it, that is in reverse
topological order. That single loop is all of backpropagation. A node that is
used twice receives two contributions, and they add up.

The operations: ``+ - * / **`` and unary ``-`` (with numbers on either side),
``exp``, ``log``, ``tanh``, ``relu``, ``sigmoid``, and two with many parents:
``Value.sum`` (t1 + ... + tn) and ``Value.dot`` (a neuron's weighted sum
b + w1*x1 + ... + wn*xn, one node instead of 2n).

Only the standard library is used, so this file can be read alone. The layers
above it are ``nn`` (neurons, losses, training) and ``viz`` (pictures).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence

__all__ = ["Value", "topological_order"]


def _as_float(data: object, operation: str) -> float:
    """Return ``data`` as a float, or raise TypeError naming ``operation``."""
    if type(data) is int or isinstance(data, numbers.Real):  # int first: the ABC test is slow
        return float(data)  # float, bool, Fraction, numpy scalars
    raise TypeError(
        f"{operation}: expected a real number (int or float), got {data!r} "
        f"of type {type(data).__name__}"
    )


def _power_rule(base: float, exponent: float) -> float:
    """d/dx x**n = n * x**(n-1), with its limits at x = 0 spelled out."""
    if base != 0.0:
        try:
            return exponent * base ** (exponent - 1)
        except OverflowError:  # the slope is too steep for a float, as at 1e-200 ** -1
            return math.copysign(math.inf, exponent * (base if (exponent - 1) % 2 == 1 else 1.0))
    if exponent == 1.0:
        return 1.0
    if exponent == 0.0 or exponent > 1.0:
        return 0.0
    return math.inf  # 0 < n < 1: the curve is vertical at 0 (PyTorch says inf too)


def _checked_power(base: float, exponent: float, text: str) -> float:
    try:
        return base**exponent
    except OverflowError:
        raise OverflowError(f"{text} overflows a float") from None


class Value:
    """A scalar, the operation that made it, and the gradient flowing back to it.

    >>> a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    >>> c = a * b + a            # a is used twice
    >>> c.backward()
    >>> a.grad, b.grad           # dc/da = b + 1, dc/db = a
    (-2.0, 2.0)

    ``data`` and ``grad`` are plain floats that an optimizer may assign.
    A leaf (a Value made by the user) has ``op == ""`` and no parents.
    """

    # __slots__: no per-node __dict__, so a node costs a few dozen bytes and
    # attribute access is a fixed offset. There is no closure per node either,
    # so a graph holds no reference cycles and is freed as soon as it is dropped.
    __slots__ = ("data", "grad", "parents", "local_grads", "op", "label")

    def __init__(
        self,
        data: float,
        parents: tuple = (),
        local_grads: tuple = (),
        op: str = "",
        label: str = "",
    ) -> None:
        if type(data) is not float:  # one cheap test; the results of operations are floats already
            data = _as_float(data, "Value()")
        self.data = data
        self.grad = 0.0
        self.parents = parents
        self.local_grads = local_grads
        self.op = op
        self.label = label

    def __repr__(self) -> str:
        text = f"Value(data={self.data!r}, grad={self.grad!r}"
        if self.label:
            text += f", label={self.label!r}"
        if self.op:
            text += f", op={self.op!r}"
        return text + ")"

    # --- the primitive operations ------------------------------------------
    # Each block: the forward value, then the local derivative with respect to
    # each parent, in the same order as the parents.

    def __add__(self, other: Value | float) -> Value:
        other = other if isinstance(other, Value) else Value(_as_float(other, "Value + other"))
        # a + b                   d/da = 1, d/db = 1
        return Value(self.data + other.data, (self, other), (1.0, 1.0), "+")

    def __sub__(self, other: Value | float) -> Value:
        other = other if isinstance(other, Value) else Value(_as_float(other, "Value - other"))
        # a - b                   d/da = 1, d/db = -1
        return Value(self.data - other.data, (self, other), (1.0, -1.0), "-")

    def __mul__(self, other: Value | float) -> Value:
        other = other if isinstance(other, Value) else Value(_as_float(other, "Value * other"))
        # a * b                   d/da = b, d/db = a
        return Value(self.data * other.data, (self, other), (other.data, self.data), "*")

    def __truediv__(self, other: Value | float) -> Value:
        other = other if isinstance(other, Value) else Value(_as_float(other, "Value / other"))
        a, b = self.data, other.data
        if b == 0.0:
            raise ZeroDivisionError(f"division by zero: {a!r} / {b!r} (the divisor Value is 0)")
        # a / b                   d/da = 1/b, d/db = -a/b**2
        return Value(a / b, (self, other), (1.0 / b, -a / b / b), "/")  # (b*b may underflow to 0)

    def __neg__(self) -> Value:
        # -a                      d/da = -1
        return Value(-self.data, (self,), (-1.0,), "neg")

    def __pow__(self, exponent: Value | float) -> Value:
        if isinstance(exponent, Value):
            return self._pow_value(exponent)
        n = exponent if type(exponent) is float else _as_float(exponent, "Value ** exponent")
        x = self.data
        if x == 0.0 and n < 0.0:
            raise ZeroDivisionError(f"{x!r} ** {exponent!r}: zero cannot be raised to a negative power")
        if x < 0.0 and not n.is_integer():
            raise ValueError(
                f"{x!r} ** {exponent!r} is not a real number (a negative base needs an integer exponent)"
            )
        out = _checked_power(x, n, f"{x!r} ** {exponent!r}")
        # x ** n                  d/dx = n * x**(n-1)
        symbol = f"**{exponent!r}" if type(exponent) in (int, float) else f"**{n!r}"  # "**3", not "**np.int64(3)"
        return Value(out, (self,), (_power_rule(x, n),), symbol)

    def _pow_value(self, exponent: Value) -> Value:
        x, y = self.data, exponent.data
        if x < 0.0:
            raise ValueError(
                f"{x!r} ** Value({y!r}): a Value exponent needs a base >= 0, because "
                f"d/dy x**y = x**y * log(x); use a number exponent for a negative base"
            )
        if x == 0.0 and y <= 0.0:
            raise ZeroDivisionError(f"0.0 ** Value({y!r}): zero needs a positive exponent")
        out = _checked_power(x, y, f"{x!r} ** Value({y!r})")
        # x ** y                  d/dx = y * x**(y-1), d/dy = x**y * log(x)   (0 at x = 0)
        return Value(out, (self, exponent), (_power_rule(x, y), out * math.log(x) if x else 0.0), "**")

    @staticmethod
    def sum(terms: Iterable[Value | float]) -> Value:
        """One node for t1 + t2 + ... + tn (a neuron's weighted sum is one of these).

        A chain of n - 1 binary "+" nodes computes the same number; one node
        with n parents is quicker to build and to read in a picture.
        """
        terms = tuple(terms)
        if not terms:
            raise ValueError("Value.sum: needs at least one term")
        if not all(isinstance(t, Value) for t in terms):
            terms = tuple(t if isinstance(t, Value) else Value(_as_float(t, "Value.sum")) for t in terms)
        total = 0.0
        for t in terms:  # left to right, the same rounding as the chain t1 + t2 + ...
            total += t.data
        # t1 + ... + tn           d/dti = 1
        return Value(total, terms, (1.0,) * len(terms), "sum")

    @staticmethod
    def dot(weights: Sequence[Value], inputs: Sequence[Value | float], bias: Value) -> Value:
        """A neuron's weighted sum b + w1*x1 + ... + wn*xn as one node.

        The same number as the chain of n products and n sums, in one node
        whose parents are (b, w1, ..., wn, x1, ..., xn): ten times fewer nodes
        for a network to build and walk back through.
        """
        if len(weights) != len(inputs):
            raise ValueError(f"Value.dot: {len(weights)} weights but {len(inputs)} inputs")
        inputs = [x if isinstance(x, Value) else Value(_as_float(x, "Value.dot")) for x in inputs]
        w_data = [w.data for w in weights]
        x_data = [x.data for x in inputs]
        total = bias.data
        for w, x in zip(w_data, x_data):  # left to right: the rounding of b + w1*x1 + w2*x2 ...
            total += w * x
        # b + sum_i wi*xi         d/db = 1, d/dwi = xi, d/dxi = wi
        return Value(total, (bias, *weights, *inputs), (1.0, *x_data, *w_data), "dot")

    def exp(self) -> Value:
        try:
            out = math.exp(self.data)
        except OverflowError:
            raise OverflowError(f"exp({self.data!r}) overflows a float (inputs above ~709.78 do)") from None
        # e**x                    d/dx = e**x
        return Value(out, (self,), (out,), "exp")

    def log(self) -> Value:
        x = self.data
        if not x > 0.0:
            raise ValueError(f"log({x!r}): the natural log needs a positive number")
        # log(x)                  d/dx = 1/x
        return Value(math.log(x), (self,), (1.0 / x,), "log")

    def tanh(self) -> Value:
        t = math.tanh(self.data)
        # tanh(x)                 d/dx = 1 - tanh(x)**2
        return Value(t, (self,), (1.0 - t * t,), "tanh")

    def relu(self) -> Value:
        x = self.data
        # max(0, x)               d/dx = 1 if x > 0 else 0
        return Value(x if x > 0.0 else 0.0, (self,), (1.0 if x > 0.0 else 0.0,), "relu")

    def sigmoid(self) -> Value:
        x = self.data
        if x >= 0.0:  # two algebraically equal forms, so that exp never overflows
            s = 1.0 / (1.0 + math.exp(-x))
        else:
            e = math.exp(x)
            s = e / (1.0 + e)
        # 1 / (1 + e**-x)         d/dx = s * (1 - s)
        return Value(s, (self,), (s * (1.0 - s),), "sigmoid")

    # --- the same operations with a number on the left ---------------------

    def __radd__(self, other: float) -> Value:  # other + self
        return Value(_as_float(other, "other + Value")) + self

    def __rsub__(self, other: float) -> Value:  # other - self
        return Value(_as_float(other, "other - Value")) - self

    def __rmul__(self, other: float) -> Value:  # other * self
        return Value(_as_float(other, "other * Value")) * self

    def __rtruediv__(self, other: float) -> Value:  # other / self
        return Value(_as_float(other, "other / Value")) / self

    def __rpow__(self, other: float) -> Value:  # other ** self
        return Value(_as_float(other, "other ** Value"))._pow_value(self)

    # --- backpropagation -----------------------------------------------------

    def backward(self) -> None:
        """Add d self / d leaf to every leaf's ``grad``; set it on intermediate nodes.

        Leaves accumulate, as in PyTorch: a second call adds the same amount
        again, so gradients of several losses can be summed before an
        optimizer step (call ``zero_grad`` to start over). An intermediate
        node's ``grad`` holds its gradient from the latest call only; it is
        reset first, so that repeated calls never feed stale values back in.
        """
        order = topological_order(self)
        for node in order:
            if node.parents:
                node.grad = 0.0
        self.grad += 1.0  # d self / d self
        # The chain rule, once per edge, each node after every node that uses it.
        # Most nodes have one or two parents; unpacking those is twice as fast as zip.
        for node in order:
            parents = node.parents
            if len(parents) == 2:
                (a, b), (da, db), grad = parents, node.local_grads, node.grad
                a.grad += da * grad
                b.grad += db * grad
            elif len(parents) == 1:
                parents[0].grad += node.local_grads[0] * node.grad
            else:
                grad = node.grad
                for parent, local_grad in zip(parents, node.local_grads):
                    parent.grad += local_grad * grad


def topological_order(root: Value) -> list[Value]:
    """Every node ``root`` depends on, each one listed before its parents.

    The root comes first and leaves come last, so walking the list forward
    visits a node only after all the nodes that use it: the order
    backpropagation needs. The walk keeps its own stack instead of recursing,
    so a chain a million nodes deep works at Python's default recursion limit.
    The order is deterministic: the same graph always gives the same list.
    """
    # Depth-first from the root. `path` holds the nodes being explored and,
    # beside each, an iterator over its parents; a node joins `order` once
    # all of its parents have. Reversed, that puts every node before its parents.
    order = []
    visited = {root}
    path, parent_iterators = [root], [iter(root.parents)]
    while path:
        for parent in parent_iterators[-1]:
            if parent not in visited:
                visited.add(parent)
                path.append(parent)
                parent_iterators.append(iter(parent.parents))
                break
        else:  # every parent of path[-1] is done
            order.append(path.pop())
            parent_iterators.pop()
    order.reverse()
    return order
