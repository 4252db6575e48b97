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
``exp``, ``log``, ``tanh``, ``relu``, ``sigmoid``, and three with many parents:
``Value.sum`` (t1 + ... + tn), ``Value.max`` (the largest of them) and
``Value.dot`` (a neuron's weighted sum b + w1*x1 + ... + wn*xn, one node
instead of 2n).

Only the standard library is used, so this file can be read alone. The layers
above it are ``nn`` (neurons, losses, training) and ``viz`` (pictures).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence

__all__ = [
    "Value",
    "topological_order",
    "split_dot",
    "first_non_finite",
    "explain_non_finite",
    "explain_non_finite_grad",
    "describe_non_finite",
    "describe_operation",
]


class Value:
    """A scalar, the operation that made it, and the gradient flowing back to it.

    >>> a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    >>> c = a * b + a            # a is used twice
    >>> c.backward()
    >>> a.grad, b.grad           # dc/da = b + 1, dc/db = a
    (-2.0, 2.0)

    ``data`` and ``grad`` are plain floats that an optimizer may assign.
    A leaf (a Value made by the user) has ``op == ""`` and no parents.

    A graph is a record of one computation: each node keeps the local
    derivatives worked out from its parents' values at the time. Assigning a
    leaf's ``data`` (as an optimizer does) changes nothing already built, and
    ``backward`` on an old graph still uses the old numbers. Build the graph
    again after changing data; that is what every training step does.

    Arithmetic follows IEEE floats, as Python's and PyTorch's do: NaN
    propagates through every operation and ``+ - * /`` overflow to infinity,
    while ``exp`` and ``**`` raise OverflowError as Python's math does.
    ``backward`` refuses a root that is not finite (FloatingPointError), naming
    the node where the graph first stopped being finite.
    """

    # __slots__: no per-node __dict__, and attribute access is a fixed offset.
    # There is no closure per node either, so a graph holds no reference
    # cycles and is freed as soon as it is dropped.
    #
    # The edges are held inline: _a and _b are the parents, _da and _db the
    # local derivatives d node/d a and d node/d b (the names of the comments
    # "a * b   d/da = b, d/db = a" below). One parent: _b is None, _db 0.0. A
    # leaf: _a is None too. Many parents (sum, max, dot): _a is the tuple of
    # parents, _da the tuple of their local derivatives, _b None. ``parents``
    # and ``local_grads`` are read-only views that build the tuples.
    #
    # Why not two tuples, as microgpt does: each tuple is one more object for
    # Python's cyclic garbage collector to track, so a binary node used to be
    # born as three tracked objects; now it is one. The collector starts once
    # 700 more tracked objects are born than freed, so while a graph is built
    # it now runs, and walks the young nodes, a third as often. A node with
    # its edges is smaller too: 96 bytes (sys.getsizeof) against 80 for the
    # node plus 56 for each of its two tuples. Measured with benchmarks/bench.py
    # side_by_side:transformer (the drop-in training step): 1.07x the lean
    # reference's speed with tuples, 1.85x inline.
    __slots__ = ("data", "grad", "_a", "_da", "_b", "_db", "op", "label")

    # numpy asks this before it runs `array * value`: None makes it hand the
    # operation back to Value, which refuses an array in either order alike.
    __array_ufunc__ = None

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
        if type(label) is not str or type(op) is not str:
            _refuse_non_text(label, op)
        self.data = data
        self.grad = 0.0
        self._a = self._b = None
        self._da = self._db = 0.0
        if parents:  # laid out as the operations below lay out their results
            if len(parents) == 1:
                (self._a,), (self._da,) = parents, local_grads
            elif len(parents) == 2:
                (self._a, self._b), (self._da, self._db) = parents, local_grads
            else:
                self._a, self._da = tuple(parents), tuple(local_grads)
        self.op = op
        self.label = label

    @property
    def parents(self) -> tuple:
        """The Values this node was computed from, in operand order; () for a leaf.

        Read-only: a view built from the inline slots ``_a`` and ``_b`` on
        every read (a new tuple for one or two parents), so a loop that needs
        it more than once should keep it in a local.
        """
        a, b = self._a, self._b
        if b is not None:
            return (a, b)
        if a is None:
            return ()
        return a if type(a) is tuple else (a,)

    @property
    def local_grads(self) -> tuple:
        """d node / d parent for each parent, in the order of ``parents``; () for a leaf.

        Read-only: a view built from the inline slots ``_da`` and ``_db`` on
        every read, like ``parents``.
        """
        a, b = self._a, self._b
        if b is not None:
            return (self._da, self._db)
        if a is None:
            return ()
        return self._da if type(a) is tuple else (self._da,)

    def __repr__(self) -> str:
        text = f"Value(data={self.data!r}, grad={self.grad!r}"
        if self.label:
            text += f", label={self.label!r}"
        if self.op:
            text += f", op={self.op!r}"
        return text + ")"

    # --- the primitive operations ------------------------------------------
    # Each block: the forward value, then each parent beside its local
    # derivative, in operand order. ``_unary``, ``_binary`` and ``_many``
    # (below the class) make the node, as Value(data, parents, local_grads, op)
    # would without the checks on a user's input; ``_number`` makes a number
    # operand (the 2 in x * 2) a leaf.

    def __add__(self, other: Value | float) -> Value:
        other = other if isinstance(other, Value) else _number(other, "Value + other")
        # a + b                   d/da = 1, d/db = 1
        return _binary(self.data + other.data, self, 1.0, other, 1.0, "+")

    def __sub__(self, other: Value | float) -> Value:
        other = other if isinstance(other, Value) else _number(other, "Value - other")
        # a - b                   d/da = 1, d/db = -1
        return _binary(self.data - other.data, self, 1.0, other, -1.0, "-")

    def __mul__(self, other: Value | float) -> Value:
        other = other if isinstance(other, Value) else _number(other, "Value * other")
        # a * b                   d/da = b, d/db = a
        return _binary(self.data * other.data, self, other.data, other, self.data, "*")

    def __truediv__(self, other: Value | float) -> Value:
        other = other if isinstance(other, Value) else _number(other, "Value / other")
        a, b = self.data, other.data
        if b == 0.0:
            raise ZeroDivisionError(f"division by zero: {a!r} / {b!r} (the divisor Value is 0)")
        # a / b                   d/da = 1/b, d/db = -a/b**2
        return _binary(a / b, self, 1.0 / b, other, -a / b / b, "/")  # (b*b may underflow to 0)

    def __neg__(self) -> Value:
        # -a                      d/da = -1
        return _unary(-self.data, self, -1.0, "neg")

    def __pow__(self, exponent: Value | float) -> Value:
        if isinstance(exponent, Value):
            return self._pow_value(exponent)
        n = exponent if type(exponent) is float else _as_float(exponent, "Value ** exponent")
        x = self.data
        if x > 0.0:  # every power of a positive number is defined: nothing to check unless it overflows
            try:
                # x ** n              d/dx = n * x**(n-1)
                out, slope = x**n, n * x ** (n - 1.0)
            except OverflowError:
                out, slope = _checked_power(x, n, self, exponent), _power_rule(x, n)
        else:
            out, slope = self._power_at_or_below_zero(n, exponent)
        return _unary(out, self, slope, _power_symbol(exponent, n))

    def _power_at_or_below_zero(self, n: float, exponent: object) -> tuple[float, float]:
        """x ** n and its slope where x <= 0 (or NaN): the powers that are undefined, or need a limit."""
        x = self.data
        if x == 0.0 and n < 0.0:
            raise ZeroDivisionError(f"{x!r} ** {exponent!r}: zero cannot be raised to a negative power")
        if x < 0.0 and not n.is_integer():
            raise ValueError(
                f"{x!r} ** {exponent!r} is not a real number (a negative base needs an integer exponent)"
            )
        return _checked_power(x, n, self, exponent), _power_rule(x, n)

    def _pow_value(self, exponent: Value) -> Value:
        x, y = self.data, exponent.data
        if x < 0.0:
            raise ValueError(
                f"{x!r} ** Value({y!r}): a Value exponent needs a base >= 0, because "
                f"d/dy x**y = x**y * log(x); use a number exponent for a negative base"
            )
        if x == 0.0 and y < 0.0:  # the same rule as a number exponent: 0 ** 0 is 1
            raise ZeroDivisionError(f"0.0 ** Value({y!r}): zero cannot be raised to a negative power")
        out = _checked_power(x, y, self, exponent)
        # x ** y                  d/dx = y * x**(y-1), d/dy = x**y * log(x)   (0 at x = 0)
        return _binary(out, self, _power_rule(x, y), exponent, out * math.log(x) if x else 0.0, "**")

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
            terms = tuple(t if isinstance(t, Value) else _number(t, "Value.sum") for t in terms)
        total = 0.0
        for t in terms:  # left to right, the same rounding as the chain t1 + t2 + ...
            total += t.data
        # t1 + ... + tn           d/dti = 1
        return _many(total, terms, (1.0,) * len(terms), "sum")

    @staticmethod
    def max(values: Iterable[Value | float]) -> Value:
        """The largest of ``values`` as one node: what a softmax subtracts so that no exponential overflows.

        Its derivative is 1 for the largest value and 0 for the others; values
        tied for largest share the 1 equally, as in PyTorch's ``max`` and
        ``amax``. A NaN anywhere makes the result NaN.
        """
        values = tuple(values)
        if not values:
            raise ValueError("Value.max: needs at least one value")
        if not all(isinstance(v, Value) for v in values):
            values = tuple(v if isinstance(v, Value) else _number(v, "Value.max") for v in values)
        data = [v.data for v in values]
        if any(map(math.isnan, data)):  # (Python's max would skip a NaN or not, by where it sits)
            largest, ties = math.nan, [x != x for x in data]
        else:
            largest = max(data)
            ties = [x == largest for x in data]
        share = 1.0 / sum(ties)
        # max(v1, ..., vn)        d/dvi = 1 for the largest (shared by ties), 0 for the rest
        return _many(largest, values, tuple(share if tie else 0.0 for tie in ties), "max")

    @staticmethod
    def dot(weights: Sequence[Value], inputs: Sequence[Value | float], bias: Value) -> Value:
        """A neuron's weighted sum b + w1*x1 + ... + wn*xn as one node.

        The same number as the chain of n products and n sums, in one node
        whose parents are (b, w1, ..., wn, x1, ..., xn) (``split_dot`` takes
        them apart): ten times fewer nodes for a network to build and walk back through.
        """
        if len(weights) != len(inputs):
            raise ValueError(f"Value.dot: {len(weights)} weights but {len(inputs)} inputs")
        inputs = [x if isinstance(x, Value) else _number(x, "Value.dot") for x in inputs]
        try:
            w_data = [w.data for w in weights]
            total = bias.data
        except AttributeError:  # checked only on failure: the weights are read anyway
            _refuse_non_values(weights, bias)
            raise
        x_data = [x.data for x in inputs]
        for w, x in zip(w_data, x_data):  # left to right: the rounding of b + w1*x1 + w2*x2 ...
            total += w * x
        # b + sum_i wi*xi         d/db = 1, d/dwi = xi, d/dxi = wi
        return _many(total, (bias, *weights, *inputs), (1.0, *x_data, *w_data), "dot")

    def exp(self) -> Value:
        try:
            out = math.exp(self.data)
        except OverflowError:
            raise OverflowError(f"exp({self.data!r}){_at(self)} overflows a float (inputs above ~709.78 do)") from None
        # e**x                    d/dx = e**x
        return _unary(out, self, out, "exp")

    def log(self) -> Value:
        x = self.data
        if x <= 0.0:  # (NaN passes: log(nan) is nan, as in PyTorch)
            raise ValueError(f"log({x!r}){_at(self)}: the natural log needs a positive number")
        # log(x)                  d/dx = 1/x
        return _unary(math.log(x), self, 1.0 / x, "log")

    def tanh(self) -> Value:
        t = math.tanh(self.data)
        # tanh(x)                 d/dx = 1 - tanh(x)**2
        return _unary(t, self, 1.0 - t * t, "tanh")

    def relu(self) -> Value:
        x = self.data
        # max(0, x)               d/dx = 0 if x <= 0 else 1   (so NaN stays NaN, as in PyTorch)
        return _unary(0.0 if x <= 0.0 else x, self, 0.0 if x <= 0.0 else 1.0, "relu")

    def sigmoid(self) -> Value:
        x = self.data
        if x >= 0.0:  # two algebraically equal forms, so that exp never overflows
            s = 1.0 / (1.0 + math.exp(-x))
        else:
            e = math.exp(x)
            s = e / (1.0 + e)
        # 1 / (1 + e**-x)         d/dx = s * (1 - s)
        return _unary(s, self, s * (1.0 - s), "sigmoid")

    # --- the same operations with a number on the left ---------------------

    def __radd__(self, other: float) -> Value:  # other + self
        return _number(other, "other + Value") + self

    def __rsub__(self, other: float) -> Value:  # other - self
        return _number(other, "other - Value") - self

    def __rmul__(self, other: float) -> Value:  # other * self
        return _number(other, "other * Value") * self

    def __rtruediv__(self, other: float) -> Value:  # other / self
        return _number(other, "other / Value") / self

    def __rpow__(self, other: float) -> Value:  # other ** self
        return _number(other, "other ** Value")._pow_value(self)

    # --- backpropagation -----------------------------------------------------

    def backward(self) -> None:
        """Add d self / d leaf to every leaf's ``grad``; set it on intermediate nodes.

        Leaves accumulate, as in PyTorch: a second call adds the same amount
        again, so gradients of several losses can be summed before an
        optimizer step (call ``zero_grad`` to start over). An intermediate
        node's ``grad`` holds its gradient from the latest call only; it is
        reset first, so that repeated calls never feed stale values back in.

        A root that is NaN or infinite has no gradient worth having: backward
        raises FloatingPointError naming the node where the graph first
        stopped being finite, and writes no gradient.
        """
        if not math.isfinite(self.data):
            raise FloatingPointError(f"backward: the root is {self.data!r}; it first stopped being finite where "
                                     f"{explain_non_finite(self)}; no gradient was written")
        order = topological_order(self, leaves=False)
        for node in order:  # a fresh start, so that a second call adds nothing stale
            node.grad = 0.0
        self.grad += 1.0  # d self / d self
        # The chain rule, once per edge, each node after every node that uses it:
        #     parent.grad += local_grad * node.grad
        # It reads the inline slots (see __slots__), so no tuple is built or
        # unpacked: two parents (+ - * / **) are _a and _b, one parent (relu,
        # exp, ...) is _a alone, and many parents (sum, max, dot) are the
        # tuples in _a and _da, the one case that needs a zip. Every node here
        # has parents: the order leaves the leaves out.
        for node in order:
            grad = node.grad
            b = node._b
            if b is not None:
                node._a.grad += node._da * grad
                b.grad += node._db * grad
            else:
                a = node._a
                if type(a) is tuple:
                    for parent, local_grad in zip(a, node._da):
                        parent.grad += local_grad * grad
                else:
                    a.grad += node._da * grad


def topological_order(root: Value, leaves: bool = True) -> list[Value]:
    """Every node ``root`` depends on, each one listed before its parents.

    The root comes first and leaves come last, so walking the list forward
    visits a node only after all the nodes that use it: the order
    backpropagation needs. ``leaves=False`` leaves the leaves out (backward
    has no use for them: nothing flows back out of a leaf). The walk keeps its
    own stack instead of recursing, so a chain a million nodes deep works at
    Python's default recursion limit. The order is deterministic: the same
    graph always gives the same list.
    """
    # Depth-first from the root, on one stack. A node found for the first time
    # goes back on the stack under a _DONE marker, with its parents on top;
    # when the marker comes off, every parent has joined `order`, and so the
    # node joins it. Reversed, that puts every node before its parents.
    # (A stack of nodes and markers, rather than a path with an iterator over
    # each node's parents, leaves no object per node for the cyclic garbage
    # collector to count and sweep: backward on a chain of 100,000 products
    # measured 1.7-1.8x quicker, on a transformer-shaped graph 1.1x.)
    # The parents are read from the inline slots (see Value.__slots__): a
    # node's _a is None exactly when it is a leaf.
    order = []
    visited = set()
    stack = [root] if leaves or root._a is not None else []
    while stack:
        node = stack.pop()
        if node is _DONE:
            order.append(stack.pop())
        elif node not in visited:
            visited.add(node)
            stack.append(node)
            stack.append(_DONE)
            # Pushed last to first, so that the first parent comes off, and is
            # explored, first. (A leaf is skipped before the set is asked.)
            a, b = node._a, node._b
            if b is not None:
                if (leaves or b._a is not None) and b not in visited:
                    stack.append(b)
                if (leaves or a._a is not None) and a not in visited:
                    stack.append(a)
            elif type(a) is tuple:
                for parent in reversed(a):
                    if (leaves or parent._a is not None) and parent not in visited:
                        stack.append(parent)
            elif a is not None:
                if (leaves or a._a is not None) and a not in visited:
                    stack.append(a)
    order.reverse()
    return order


_DONE = object()  # above a node on the stack: when it comes off, all of that node's parents are in the order


def split_dot(dot: Value | Sequence) -> tuple:
    """A ``dot`` node's parents as (bias, weights, inputs); or the same split of their numbers.

    ``Value.dot`` stores them in one tuple, (b, w1, ..., wn, x1, ..., xn), so
    that backward treats a dot node like any other; this is the one place
    that knows how to take that tuple apart. ``dot`` is the node, or a
    sequence laid out like its parents (the replay passes their values).
    """
    if isinstance(dot, Value):
        if dot.op != "dot":
            raise ValueError(f"split_dot: expected a node made by Value.dot, got op {dot.op!r}")
        dot = dot.parents  # (a node made by Value.dot holds this tuple in its _a slot: nothing is built)
    n = (len(dot) - 1) // 2
    return dot[0], dot[1:n + 1], dot[n + 1:]


# --- making nodes -------------------------------------------------------------

_new_value = object.__new__


# Three makers, one per layout of the edges (see Value.__slots__). Each is
# ``Value(data, parents, local_grads, op)`` without the checks: ``Value()``
# checks what a user hands it; an operation hands it a float it just computed
# and a constant symbol, so the checks could only pass. Filling the slots here
# instead of calling the class (whose ``__init__`` Python runs from C, checks
# and all) measured 1.15x quicker on ``a * b`` and 1.18x on ``0 + a`` (the
# first step of Python's ``sum``).


def _unary(data: float, a: Value, da: float, op: str) -> Value:
    """The node of an operation on one Value ``a``, with d node / d a = ``da``."""
    node = _new_value(Value)
    node.data = data
    node.grad = 0.0
    node._a = a
    node._da = da
    node._b = None
    node._db = 0.0
    node.op = op
    node.label = ""
    return node


def _binary(data: float, a: Value, da: float, b: Value, db: float, op: str) -> Value:
    """The node of ``a op b``, with d node / d a = ``da`` and d node / d b = ``db``."""
    node = _new_value(Value)
    node.data = data
    node.grad = 0.0
    node._a = a
    node._da = da
    node._b = b
    node._db = db
    node.op = op
    node.label = ""
    return node


def _many(data: float, parents: tuple, local_grads: tuple, op: str) -> Value:
    """The node of an operation on a tuple of Values (sum, max, dot), one local derivative per parent."""
    node = _new_value(Value)
    node.data = data
    node.grad = 0.0
    node._a = parents
    node._da = local_grads
    node._b = None
    node._db = 0.0
    node.op = op
    node.label = ""
    return node


def _number(number: object, operation: str) -> Value:
    """A leaf for a number met in an operation (the 2 in ``x * 2``); anything else is refused, naming ``operation``."""
    node = _new_value(Value)
    node.data = number if type(number) is float else _as_float(number, operation)
    node.grad = 0.0
    node._a = node._b = None
    node._da = node._db = 0.0
    node.op = ""
    node.label = ""
    return node


# --- the numeric edge cases the operations above hand off -----------------------


def _as_float(data: object, operation: str) -> float:
    """Return ``data`` as a float, or raise TypeError naming ``operation``."""
    if type(data) is int or isinstance(data, numbers.Real):  # int first: the ABC test is slow
        try:
            return float(data)  # float, bool, Fraction, numpy scalars
        except OverflowError:
            digits = len(str(int(data)))
            raise OverflowError(f"{operation}: a number of {digits} digits is too large for a float "
                                "(at most about 1.8e308)") from None
    hint = ""
    if hasattr(data, "__len__") and not isinstance(data, str):  # a list or a numpy array
        hint = "; a Value holds one number: make one Value per element, or replay a graph over arrays (engine.batch)"
    raise TypeError(
        f"{operation}: expected a real number (int or float), got {data!r} "
        f"of type {type(data).__name__}{hint}"
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


def _checked_power(x: float, n: float, base: Value, exponent: Value | float) -> float:
    """x ** n, or an OverflowError naming the operation.

    The message is built only when it is needed: built on every call, its two
    reprs made ``x ** 3`` 1.5x slower.
    """
    try:
        return x**n
    except OverflowError:
        shown = f"Value({exponent.data!r})" if isinstance(exponent, Value) else repr(exponent)
        raise OverflowError(f"{x!r} ** {shown}{_at(base)} overflows a float") from None


_POWER_SYMBOLS: dict[type, dict] = {int: {}, float: {}}


def _power_symbol(exponent: object, n: float) -> str:
    """The op of ``x ** exponent``: "**3" for 3, "**0.5" for 0.5, "**3.0" for numpy's 3 (its repr is long).

    Each symbol is made once and kept (up to 256 of each type): a float's repr
    takes longer than the whole power, and made every time it slowed
    ``x ** 0.5`` by 1.3x.
    """
    known = _POWER_SYMBOLS.get(type(exponent))
    if known is None:
        return f"**{n!r}"
    symbol = known.get(exponent)
    if symbol is None:
        symbol = f"**{exponent!r}"
        if len(known) < 256:
            known[exponent] = symbol
    return symbol


def _at(node: Value) -> str:
    """" at LABEL" for a labelled node, so an error can say where in a network it happened."""
    return f" at {node.label}" if node.label else ""


def _refuse_non_text(label: object, op: object) -> None:
    for name, text in (("label", label), ("op", op)):
        if type(text) is not str:
            raise TypeError(f"Value({name}={text!r}): {name} must be text (a str), got {type(text).__name__}")


def _refuse_non_values(weights: Sequence[object], bias: object) -> None:
    for name, item in [("bias", bias), *((f"weights[{i}]", w) for i, w in enumerate(weights))]:
        if not isinstance(item, Value):
            raise TypeError(f"Value.dot: {name} must be a Value (a parameter), got {item!r}")


# --- where a graph stopped being finite --------------------------------------


def first_non_finite(root: Value) -> Value | None:
    """The node where ``root``'s graph first stopped being finite, or None if every value is finite.

    Walking parents before children, the first NaN or infinite value found
    belongs to a leaf, or to a node whose parents are all finite: the
    operation that overflowed, or the one that was handed a NaN from outside.
    """
    for node in reversed(topological_order(root)):
        if not math.isfinite(node.data):
            return node
    return None


def explain_non_finite(root: Value) -> str:
    """A sentence naming where ``root``'s graph first became non-finite, for an error message."""
    node = first_non_finite(root)
    if node is None:
        return "every value in the graph is finite"
    return describe_non_finite(node, node.data, [parent.data for parent in node.parents])


def explain_non_finite_grad(root: Value) -> str:
    """After ``root.backward()``: a sentence naming where the first non-finite gradient came from.

    Walking from the root, as backpropagation does, the first edge whose
    contribution (local derivative times the node's gradient) is not finite
    is where the chain rule first met an infinite slope or overflowed.
    """
    for node in topological_order(root):
        if not math.isfinite(node.grad):  # finite contributions that summed to infinity
            return f"the gradient of {describe_operation(node, None)} summed to {node.grad!r}"
        parents = node.parents  # (built once per node: it is a view of the inline slots)
        for i, (parent, local_grad) in enumerate(zip(parents, node.local_grads)):
            if not math.isfinite(local_grad * node.grad):
                operands = [p.data for p in parents]
                return (f"backpropagating through {describe_operation(node, operands)}: its local derivative "
                        f"for operand {i + 1} ({parent.label or repr(parent.data)}) is {local_grad!r}, "
                        f"times the gradient {node.grad!r}")
    return "every gradient in the graph is finite"


def describe_non_finite(node: Value, result: float, operands: Sequence[float] | None) -> str:
    """``exp(712.4) at L2.N3 overflowed to inf``: how one node's value came to be NaN or infinite.

    ``result`` and ``operands`` are passed in (not read from ``node``) so that
    the batched replay can describe one sample of a node it evaluated as an array.
    """
    if node._a is None:
        return f"the leaf {node.label or '(unlabelled)'} is {result!r}"
    if operands is not None and all(math.isfinite(x) for x in operands) and math.isinf(result):
        return f"{describe_operation(node, operands)} overflowed to {result!r}"
    return f"{describe_operation(node, operands)} gave {result!r}"


def describe_operation(node: Value, operands: Sequence[float] | None) -> str:
    """``exp(712.4) at L2.N3``: a node's operation on its operands' numbers, and where it sits."""
    if node._a is None:
        return f"the leaf {node.label or '(unlabelled)'}"
    labels = [p.label for p in node.parents if p.label]
    operand_labels = ", ".join(labels[:3]) + (", ..." if len(labels) > 3 else "")
    where = f" at {node.label}" if node.label else f" on {operand_labels}" if operand_labels else ""
    return _operation_text(node.op, operands) + where


def _operation_text(op: str, operands: Sequence[float] | None) -> str:
    if operands is None:  # numbers not at hand (a sum evaluated in one block by the replay)
        return op
    if op in ("+", "-", "*", "/", "**") and len(operands) == 2:
        return f"{operands[0]!r} {op} {operands[1]!r}"
    if op.startswith("**"):  # a number exponent: "**2"
        return f"{operands[0]!r} {op}"
    shown = ", ".join(repr(x) for x in operands[:4]) + (", ..." if len(operands) > 4 else "")
    return f"{op}({shown})"
