"""Replay one recorded scalar graph over a whole batch with numpy.

A small classifier computes the *same* graph for every sample; only the numbers
at its inputs differ. So instead of building one graph of Python objects per
sample, we build it once (``record``), with the inputs as placeholder Values,
and then replay it over arrays that hold every sample at once:

    recording = record(lambda x1, x2: model([x1, x2]), [0.0, 0.0])
    scores, = recording.forward([X[:, 0], X[:, 1]])   # one array per output
    recording.backward([np.ones(len(X))])             # d(sum of outputs)/d leaf -> leaf.grad

Forward gives, for every sample, what the scalar engine gives for that sample;
backward adds to each leaf's ``grad`` the sum over the batch of the per-sample
gradients, exactly what calling ``backward`` on each sample's graph would add.
The graph that runs is the recorded graph, so it is the graph you render.

Speed comes from grouping, without changing the graph. Nodes are processed
level by level (a node's level is one more than its deepest parent's), and all
nodes of one level that apply the same operation become one numpy call over a
block of rows. A neuron's weighted sum ``b + w1*x1 + w2*x2 + ...`` is found in
the graph and, for all neurons reading the same inputs, evaluated as a block:
the same multiplies and adds in the same order, so values match the scalar
engine bit for bit, and its backward is two matrix products.

A graph whose *shape* depends on the data (a Python ``if`` on a value) cannot
be replayed: while recording, reading ``.data`` of any Value that depends on
an input raises ``DataDependentGraphError``.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Sequence

import numpy as np

from engine import value as _value_module
from engine.value import Value, describe_non_finite, describe_operation, topological_order

__all__ = ["record", "Recording", "DataDependentGraphError"]


class DataDependentGraphError(RuntimeError):
    """The recorded function looked at an input-dependent number, so its graph may differ per sample."""


# --- recording, with a guard on reading .data ------------------------------

_ENGINE_FILE = _value_module.__file__
_DATA_SLOT = Value.__dict__["data"]  # the plain __slots__ descriptor
_recording_lock = threading.Lock()


class _GuardedData:
    """Stands in for ``Value.data`` while a function is being recorded.

    The engine's own operations read ``.data`` freely (they compute the
    sample's values). Any other code that reads the value of a node that
    depends on a placeholder could be about to branch on it, so it is refused.
    """

    def __init__(self, placeholders: set[Value]) -> None:
        self.placeholders = placeholders
        self.depends: dict[Value, bool] = {}

    def __get__(self, node: Value | None, owner: type) -> object:
        if node is None:
            return self
        if sys._getframe(1).f_code.co_filename != _ENGINE_FILE and self._depends_on_input(node):
            raise DataDependentGraphError(
                f"the recorded function read the value of {_describe(node)}, which depends on the "
                "inputs; a batch replays one graph for every sample, so its shape must not depend on "
                "the data. Express the choice with Value operations (relu, sigmoid) instead of a "
                "Python `if`, or use the scalar engine (batched=False)."
            )
        return _DATA_SLOT.__get__(node, owner)

    def __set__(self, node: Value, data: float) -> None:
        _DATA_SLOT.__set__(node, data)

    def _depends_on_input(self, root: Value) -> bool:
        depends = self.depends
        stack = [root]
        order = []
        while stack:  # post-order walk without recursion; memoised across calls
            node = stack.pop()
            if node in depends:
                continue
            pending = [p for p in node.parents if p not in depends]
            if pending:
                stack.append(node)
                stack.extend(pending)
                continue
            depends[node] = node in self.placeholders or any(depends[p] for p in node.parents)
            order.append(node)
        return depends[root]


def _describe(node: Value) -> str:
    name = f" {node.label!r}" if node.label else ""
    return f"node{name} (op {node.op!r})" if node.op else f"leaf{name}"


def record(
    function: Callable[..., Value | Sequence[Value]],
    example: Sequence[float],
    names: Sequence[str] | None = None,
) -> Recording:
    """Run ``function`` once on placeholder Values and keep the graph it builds.

    ``example`` gives the placeholders' values for this one run (any sample
    will do); ``names`` labels them (default ``x1``, ``x2``, ...). The function
    returns a Value or a sequence of Values: the outputs to replay.
    """
    names = list(names) if names is not None else [f"x{i + 1}" for i in range(len(example))]
    if len(names) != len(example):
        raise ValueError(f"record: {len(example)} example values but {len(names)} names")
    inputs = [Value(value, label=name) for value, name in zip(example, names)]
    with _recording_lock:
        Value.data = _GuardedData(set(inputs))
        try:
            result = function(*inputs)
        finally:
            Value.data = _DATA_SLOT
    outputs = [result] if isinstance(result, Value) else list(result)
    for out in outputs:
        if not isinstance(out, Value):
            raise TypeError(f"record: the function must return Values, got {type(out).__name__}")
    return Recording(inputs, outputs)


# --- the operations, on arrays ---------------------------------------------
# Forward value and local derivatives side by side, as in engine/value.py.


def _power_rule(x: np.ndarray, n: np.ndarray | float) -> np.ndarray:
    """n * x**(n-1) with the limits at x = 0 that engine.value uses."""
    with np.errstate(divide="ignore", invalid="ignore"):
        grad = n * x ** (n - 1)
    at_zero = np.where(n == 1.0, 1.0, np.where((n == 0.0) | (n > 1.0), 0.0, np.inf))
    return np.where(x == 0.0, at_zero, grad)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    e = np.exp(-np.abs(x))  # never overflows
    return np.where(x >= 0.0, 1.0 / (1.0 + e), e / (1.0 + e))


def _apply(op: str, args: list[np.ndarray]) -> tuple[np.ndarray, list]:
    """Forward value of ``op`` on ``args`` and the local derivative for each argument."""
    if op == "+":
        a, b = args
        return a + b, [1.0, 1.0]
    if op == "-":
        a, b = args
        return a - b, [1.0, -1.0]
    if op == "dot":
        k = (len(args) - 1) // 2
        bias, weights, xs = args[0], args[1:k + 1], args[k + 1:]
        total = np.array(bias, dtype=float, copy=True)
        for w, x in zip(weights, xs):  # b + w1*x1 + w2*x2 ..., in engine.value's order
            total += w * x
        return total, [1.0, *xs, *weights]
    if op == "sum":
        total = np.zeros_like(args[0])
        for term in args:  # left to right, as engine.value does
            total += term
        return total, [1.0] * len(args)
    if op == "*":
        a, b = args
        return a * b, [b, a]
    if op == "/":
        a, b = args
        if (b == 0.0).any():
            _refuse(ZeroDivisionError, "division by zero", b == 0.0)
        return a / b, [1.0 / b, -a / (b * b)]
    if op == "neg":
        (a,) = args
        return -a, [-1.0]
    if op == "exp":
        (a,) = args
        out = np.exp(a)
        _refuse_overflow(out, a)
        return out, [out]
    if op == "log":
        (a,) = args
        if (a <= 0.0).any():  # (NaN passes: log(nan) is nan, as in the scalar engine)
            _refuse(ValueError, "the natural log needs a positive number", a <= 0.0)
        return np.log(a), [1.0 / a]
    if op == "tanh":
        (a,) = args
        t = np.tanh(a)
        return t, [1.0 - t * t]
    if op == "relu":
        (a,) = args
        negative = a <= 0.0  # not `a > 0`, so that NaN stays NaN, as in the scalar engine
        return np.where(negative, 0.0, a), [np.where(negative, 0.0, 1.0)]
    if op == "sigmoid":
        (a,) = args
        s = _sigmoid(a)
        return s, [s * (1.0 - s)]
    if op == "**":
        a, b = args
        if (a < 0.0).any():
            _refuse(ValueError, "a Value exponent needs a base >= 0", a < 0.0)
        if ((a == 0.0) & (b < 0.0)).any():
            _refuse(ZeroDivisionError, "zero cannot be raised to a negative power", (a == 0.0) & (b < 0.0))
        out = a**b
        _refuse_overflow(out, a)
        log_a = np.log(np.where(a > 0.0, a, 1.0))  # log(x), taken as 0 at x = 0 as in engine.value
        return out, [_power_rule(a, b), out * log_a]
    if op.startswith("**"):
        (a,) = args
        n = float(op[2:])
        if n < 0.0 and (a == 0.0).any():
            _refuse(ZeroDivisionError, "zero cannot be raised to a negative power", a == 0.0)
        if not n.is_integer() and (a < 0.0).any():
            _refuse(ValueError, "a negative base needs an integer exponent", a < 0.0)
        out = a**n
        _refuse_overflow(out, a)
        return out, [_power_rule(a, n)]
    raise NotImplementedError(f"engine.batch cannot replay the operation {op!r}")


class _BatchArithmeticError(Exception):
    """An operation failed for some samples; ``cells`` marks which (node row, sample) pairs."""

    def __init__(self, error: type[Exception], reason: str, cells: np.ndarray) -> None:
        super().__init__(reason)
        self.error, self.reason, self.cells = error, reason, cells


def _refuse(error: type[Exception], reason: str, cells: np.ndarray) -> None:
    """Fail as the scalar engine would; the recording turns ``cells`` into a node and a sample to name."""
    raise _BatchArithmeticError(error, reason, cells)


def _refuse_overflow(out: np.ndarray, base: np.ndarray) -> None:
    """exp and ** of a finite number that became infinite: OverflowError, as in the scalar engine."""
    overflowed = np.isinf(out) & np.isfinite(base)
    if overflowed.any():
        _refuse(OverflowError, "the result overflows a float", overflowed)


# --- compiling a recorded graph into grouped steps -------------------------


class _WeightedSums:
    """Neurons' sums ``b + w1*x1 + ... + wk*xk`` over the same inputs x1..xk, as one block."""

    def __init__(self, outputs: list[Value], weights: list[list[Value]], biases: list[Value],
                 inputs: list[Value]) -> None:
        self.outputs, self.weights, self.biases, self.inputs = outputs, weights, biases, inputs


class _Elementwise:
    """One operation applied to several nodes of the same level at once."""

    def __init__(self, op: str, outputs: list[Value]) -> None:
        self.op, self.outputs = op, outputs


def _match_weighted_sum(node: Value, users: dict[Value, int], is_scalar_leaf) -> tuple | None:
    """If ``node`` is b + w1*x1 + ... + wk*xk, return (b, [w1..wk], [x1..xk]), else None.

    The sum may be one "sum" node over (b, w1*x1, ..., wk*xk), as ``nn.Neuron``
    builds it, or a left-to-right chain of "+" nodes, as Python's ``sum`` does.
    Products (and partial sums) must be used by this sum only, so that they
    need no row of their own.
    """
    if node.op == "dot":  # Value.dot: parents (b, w1..wk, x1..xk)
        k = (len(node.parents) - 1) // 2
        bias, weights, xs = node.parents[0], list(node.parents[1:k + 1]), list(node.parents[k + 1:])
        if is_scalar_leaf(bias) and all(map(is_scalar_leaf, weights)) and not any(map(is_scalar_leaf, xs)):
            return bias, weights, xs
        return None
    if node.op == "sum":
        bias, products = node.parents[0], node.parents[1:]
    elif node.op == "+":
        products = []
        current = node
        while current.op == "+" and (current is node or users[current] == 1):
            current, product = current.parents
            products.append(product)
        bias = current
        products.reverse()
    else:
        return None
    if not products or not is_scalar_leaf(bias):
        return None
    weights, xs = [], []
    for product in products:
        if product.op != "*" or users[product] != 1:
            return None
        weight, x = product.parents
        if not is_scalar_leaf(weight) or is_scalar_leaf(x):
            return None
        weights.append(weight)
        xs.append(x)
    return bias, weights, xs


def _private_nodes(node: Value, match: tuple) -> list[Value]:
    """The products and partial sums inside a matched weighted sum."""
    if node.op == "dot":
        return []
    if node.op == "sum":
        return list(node.parents[1:])
    inner, private = node, []
    while inner is not match[0]:
        left, product = inner.parents
        if inner is not node:
            private.append(inner)
        private.append(product)
        inner = left
    return private


class Recording:
    """A recorded graph, compiled into grouped numpy steps; see ``record``."""

    def __init__(self, inputs: list[Value], outputs: list[Value]) -> None:
        self.inputs = inputs
        self.outputs = outputs
        # parents before children: engine.value's order, reversed, over a node joining all outputs
        order = topological_order(Value.sum(outputs))[:0:-1]
        self.nodes = order
        placeholders = set(inputs)
        self.leaves = [n for n in order if not n.parents and n not in placeholders]
        leaf_set = set(self.leaves)

        def is_scalar_leaf(node: Value) -> bool:
            return node in leaf_set

        users: dict[Value, int] = {}
        for node in order:
            for parent in node.parents:
                users[parent] = users.get(parent, 0) + 1
        for out in outputs:  # an output is used by the caller too
            users[out] = users.get(out, 0) + 1

        # 1. find neurons' weighted sums; their partial sums and products need no rows of their own
        sums: dict[Value, tuple] = {}
        absorbed: set[Value] = set()
        for node in order:
            if node.op in ("+", "sum", "dot") and node not in absorbed:
                match = _match_weighted_sum(node, users, is_scalar_leaf)
                if match is not None:
                    sums[node] = match
                    absorbed.update(_private_nodes(node, match))
        # a partial sum absorbed after being matched itself is not a separate sum
        for node in list(sums):
            if node in absorbed:
                del sums[node]

        # 2. levels; then group by (level, kind, inputs or op)
        level: dict[Value, int] = {}
        groups: dict[tuple, list[Value]] = {}
        for node in order:
            if not node.parents or node in absorbed:
                level[node] = 0
                continue
            if node in sums:
                _, _, xs = sums[node]
                level[node] = 1 + max(level[x] for x in xs)
                key = (level[node], "sum", tuple(id(x) for x in xs))
            else:
                level[node] = 1 + max(level[p] for p in node.parents)
                key = (level[node], "op", node.op, len(node.parents))
            groups.setdefault(key, []).append(node)

        self.steps: list[_WeightedSums | _Elementwise] = []
        for key in sorted(groups, key=lambda k: k[0]):  # stable: within a level, first seen first
            members = groups[key]
            if key[1] == "sum":
                parts = [sums[n] for n in members]
                self.steps.append(_WeightedSums(members, [p[1] for p in parts], [p[0] for p in parts],
                                                parts[0][2]))
            else:
                self.steps.append(_Elementwise(key[2], members))

        # 3. rows: every materialised node gets a row of the value matrix, each step's outputs contiguous
        self.row: dict[Value, int] = {}
        for node in inputs + self.leaves:
            self.row[node] = len(self.row)
        self.first_step_row = len(self.row)
        for step in self.steps:
            for node in step.outputs:
                self.row[node] = len(self.row)
        self._compile_indices()
        self.values: np.ndarray | None = None
        self.grads: np.ndarray | None = None

    def _compile_indices(self) -> None:
        row = self.row
        leaf_index = {leaf: i for i, leaf in enumerate(self.leaves)}
        self.leaf_index = leaf_index
        for step in self.steps:
            start = row[step.outputs[0]]
            step.out = slice(start, start + len(step.outputs))
            if isinstance(step, _WeightedSums):
                step.x_rows = _as_index([row[x] for x in step.inputs])
                step.w_index = np.array([[leaf_index[w] for w in ws] for ws in step.weights])
                step.b_index = np.array([leaf_index[b] for b in step.biases])
            else:
                step.arg_rows = []
                step.arg_unique = []
                for position in range(len(step.outputs[0].parents)):
                    rows = [row[n.parents[position]] for n in step.outputs]
                    step.arg_rows.append(_as_index(rows))
                    step.arg_unique.append(len(set(rows)) == len(rows))

    def __repr__(self) -> str:
        return (f"Recording({len(self.inputs)} inputs, {len(self.outputs)} outputs, {len(self.nodes)} nodes "
                f"in {len(self.steps)} grouped steps)")

    def forward(self, columns: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Values of the outputs for every sample: ``columns[i]`` holds input i for all samples."""
        if len(columns) != len(self.inputs):
            raise ValueError(f"forward: expected {len(self.inputs)} input columns, got {len(columns)}")
        columns = [np.asarray(c, dtype=float).reshape(-1) for c in columns]
        n = len(columns[0]) if columns else 1
        if any(len(c) != n for c in columns):
            raise ValueError(f"forward: input columns differ in length: {[len(c) for c in columns]}")
        values = np.empty((len(self.row), n))
        for i, column in enumerate(columns):
            values[i] = column
        leaf_data = np.fromiter((leaf.data for leaf in self.leaves), float, len(self.leaves))
        values[len(self.inputs):self.first_step_row] = leaf_data[:, None]
        self.leaf_data = leaf_data
        self.values = self.grads = None  # a failed forward leaves nothing stale behind
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            self._run_forward(values, leaf_data, n)
        self.values = values
        return [values[self.row[out]].copy() for out in self.outputs]

    def _run_forward(self, values: np.ndarray, leaf_data: np.ndarray, n: int) -> None:
        for step in self.steps:
            if isinstance(step, _WeightedSums):
                weights = leaf_data[step.w_index]
                total = np.repeat(leaf_data[step.b_index][:, None], n, axis=1)
                inputs = values[step.x_rows]
                for j in range(weights.shape[1]):  # b + w1*x1 + w2*x2 ... in the scalar engine's order
                    total += weights[:, j:j + 1] * inputs[j]
                values[step.out] = total
            else:
                try:
                    out, _ = _apply(step.op, [values[rows] for rows in step.arg_rows])
                except _BatchArithmeticError as failure:
                    raise failure.error(self._name_failure(step, values, failure)) from None
                values[step.out] = out

    def _name_failure(self, step: _Elementwise, values: np.ndarray, failure: _BatchArithmeticError) -> str:
        """``sample 7: exp(712.4) at L2.N3: the result overflows a float``: the first sample and node that failed."""
        cells = np.broadcast_to(failure.cells, (len(step.outputs), values.shape[1]))
        sample, row = np.argwhere(cells.T)[0]  # the first sample, then its first failing node
        node = step.outputs[row]
        return f"sample {sample}: {describe_operation(node, self._operands(values, node, sample))}: {failure.reason}"

    def _operands(self, values: np.ndarray, node: Value, sample: int) -> list[float] | None:
        """The numbers ``node`` read in one sample (None inside a neuron's sum, whose products have no rows)."""
        if not all(parent in self.row for parent in node.parents):
            return None
        return [float(values[self.row[parent], sample]) for parent in node.parents]

    def backward(
        self, output_grads: Sequence[np.ndarray | float] | None = None, update_leaves: bool = True
    ) -> list[np.ndarray]:
        """Backpropagate ``output_grads`` (d total / d output, per sample; default 1).

        Adds to every leaf's ``grad`` its gradient summed over the batch (unless
        ``update_leaves`` is False), and returns the gradient with respect to
        each input column, per sample.
        """
        values = self._checked(self.values, "forward")
        n = values.shape[1]
        grads = np.zeros_like(values)
        if output_grads is None:
            output_grads = [1.0] * len(self.outputs)
        if len(output_grads) != len(self.outputs):
            raise ValueError(f"backward: expected {len(self.outputs)} output gradients, got {len(output_grads)}")
        for out, g in zip(self.outputs, output_grads):
            grads[self.row[out]] += np.broadcast_to(np.asarray(g, dtype=float), (n,))
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            leaf_grads = self._run_backward(values, grads)
        if update_leaves:
            for leaf, g in zip(self.leaves, leaf_grads.tolist()):
                leaf.grad += g
        self.grads = grads
        return [grads[i].copy() for i in range(len(self.inputs))]

    def _run_backward(self, values: np.ndarray, grads: np.ndarray) -> np.ndarray:
        leaf_data = self.leaf_data
        leaf_grads = np.zeros(len(self.leaves))
        for step in reversed(self.steps):
            g_out = grads[step.out]
            if isinstance(step, _WeightedSums):
                weights = leaf_data[step.w_index]
                inputs = values[step.x_rows]
                _scatter_add(grads, step.x_rows, weights.T @ g_out)
                np.add.at(leaf_grads, step.w_index, g_out @ inputs.T)
                np.add.at(leaf_grads, step.b_index, g_out.sum(axis=1))
            else:
                _, local_grads = _apply(step.op, [values[rows] for rows in step.arg_rows])
                for rows, unique, local in zip(step.arg_rows, step.arg_unique, local_grads):
                    contribution = g_out * local
                    if unique:
                        grads[rows] += contribution
                    else:
                        np.add.at(grads, rows, np.broadcast_to(contribution, g_out.shape))
        leaf_grads += grads[len(self.inputs):self.first_step_row].sum(axis=1)
        return leaf_grads

    def explain_non_finite(self) -> str:
        """After forward: where the values first stopped being finite, as the scalar engine would say it.

        Steps run level by level, so the first step holding a NaN or an
        infinity holds the node where the trouble began; of its samples, the
        first one is named.
        """
        values = self._checked(self.values, "forward")
        for leaf in self.inputs + self.leaves:
            bad = ~np.isfinite(values[self.row[leaf]])
            if bad.any():
                sample = int(np.argmax(bad))
                return f"sample {sample}: {describe_non_finite(leaf, float(values[self.row[leaf], sample]), None)}"
        for step in self.steps:
            block = values[step.out]
            bad = ~np.isfinite(block)
            if bad.any():
                sample, row = np.argwhere(bad.T)[0]
                node = step.outputs[row]
                operands = self._operands(values, node, sample)
                return f"sample {sample}: {describe_non_finite(node, float(block[row, sample]), operands)}"
        return "every value is finite"

    def explain_non_finite_grad(self) -> str:
        """After backward: the first node, walking back from the outputs, whose gradient is not finite."""
        grads = self._checked(self.grads, "backward")
        for step in reversed(self.steps):
            bad = ~np.isfinite(grads[step.out])
            if bad.any():
                sample, row = np.argwhere(bad.T)[0]
                node = step.outputs[row]
                operands = self._operands(self.values, node, sample)
                return (f"sample {sample}: the gradient of {describe_operation(node, operands)} is "
                        f"{grads[step.out][row, sample]!r}")
        for leaf in self.leaves:  # the weights' gradients are summed over the batch by a matrix product
            if not np.isfinite(leaf.grad):
                return f"the gradient of {describe_operation(leaf, None)}, summed over the batch, is {leaf.grad!r}"
        return "every gradient is finite"

    def value_of(self, node: Value) -> np.ndarray:
        """The per-sample values of a recorded node after ``forward``."""
        return self._lookup(self.values, node, "forward")

    def grad_of(self, node: Value) -> np.ndarray:
        """The per-sample gradients of a recorded node after ``backward``."""
        return self._lookup(self.grads, node, "backward")

    def _checked(self, table: np.ndarray | None, call: str) -> np.ndarray:
        if table is None:
            raise RuntimeError(f"call {call} first")
        return table

    def _lookup(self, table: np.ndarray | None, node: Value, call: str) -> np.ndarray:
        table = self._checked(table, call)
        if node not in self.row:
            raise KeyError(f"{_describe(node)} has no row of its own in this recording (it is part of a "
                           "neuron's weighted sum, or not in the graph)")
        return table[self.row[node]]


def _as_index(rows: list[int]) -> slice | np.ndarray:
    """A slice when the rows are consecutive (a view, no copy), else an index array."""
    if rows == list(range(rows[0], rows[0] + len(rows))):
        return slice(rows[0], rows[0] + len(rows))
    return np.array(rows)


def _scatter_add(table: np.ndarray, rows: slice | np.ndarray, block: np.ndarray) -> None:
    if isinstance(rows, slice) or len(set(rows.tolist())) == len(rows):
        table[rows] += block
    else:
        np.add.at(table, rows, block)
