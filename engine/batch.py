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
block of rows (each operation's array form is in ``engine/array_ops.py``).
Neurons' weighted sums (``Value.dot`` nodes) that read the same inputs become
one block: the same multiplies and adds in the same order, so values match the
scalar engine bit for bit, and its backward is two matrix products. Any other
shape of sum (a chain of ``+``) replays one operation at a time, correctly.

A graph whose *shape* depends on the data (a Python ``if`` on a value) cannot
be replayed: while recording, reading ``.data`` of any Value that depends on
an input raises ``DataDependentGraphError``.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from engine import value as _value_module
from engine.array_ops import OperationError, operation
from engine.value import Value, describe_non_finite, describe_operation, split_dot, topological_order

__all__ = ["record", "Recording", "DataDependentGraphError"]


class DataDependentGraphError(RuntimeError):
    """The recorded function looked at an input-dependent number, so its graph may differ per sample."""


# --- recording, with a guard on reading .data ------------------------------

_ENGINE_FILE = _value_module.__file__
_DATA_SLOT = Value.__dict__["data"]  # the plain __slots__ descriptor
_recording_lock = threading.Lock()


class _GuardedData:
    """Stands in for ``Value.data`` while a function is being recorded.

    A Python ``if`` on a value is invisible in the graph, so it would be
    replayed the same way for every sample. It has to read ``.data`` first,
    though, and that is what this guard watches: ``engine/value.py`` computing
    the example's numbers may read any value, but any other code reading a
    value that depends on an input is refused. Parameters (values that depend
    on no input) may be read freely.
    """

    def __init__(self, placeholders: set[Value]) -> None:
        self.placeholders = placeholders
        self.depends: dict[Value, bool] = {}  # memoised: the graph only grows while recording

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
        known = self.depends
        stack = [root]
        while stack:  # parents first, without recursion
            node = stack[-1]
            unknown = [parent for parent in node.parents if parent not in known]
            if node in known:
                stack.pop()
            elif unknown:
                stack.extend(unknown)
            else:
                known[node] = node in self.placeholders or any(known[parent] for parent in node.parents)
                stack.pop()
        return known[root]


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


# --- compiling a recorded graph into grouped steps -------------------------
# A step computes several nodes of the same level at once, in rows of a table
# of values (one row per node, one column per sample).


@dataclass
class _Rows:
    """Rows of the value table, one per member of a step: a slice when consecutive (a view, no copy).

    ``repeated``: some row is listed twice (two members read the same node),
    so gradients must be added with ``np.add.at``, which adds each one.
    """

    index: slice | np.ndarray
    repeated: bool

    @classmethod
    def of(cls, rows: list[int]) -> _Rows:
        if rows == list(range(rows[0], rows[0] + len(rows))):
            return cls(slice(rows[0], rows[0] + len(rows)), False)
        return cls(np.array(rows), len(set(rows)) < len(rows))

    def add(self, table: np.ndarray, block: np.ndarray) -> None:
        """table[rows] += block (a block of one column stands for every sample)."""
        if self.repeated:
            np.add.at(table, self.index, np.broadcast_to(block, (len(self.index), table.shape[1])))
        else:
            table[self.index] += block


@dataclass
class _DotBlock:
    """Neurons' weighted sums ``b + w1*x1 + ... + wk*xk`` over the same inputs, as one block.

    ``weights`` and ``biases`` index the recording's leaves (one row of weights
    per neuron); ``inputs`` are the rows of x1..xk; ``out`` the neurons' rows.
    """

    outputs: list[Value]
    out: slice
    inputs: _Rows
    weights: np.ndarray
    biases: np.ndarray


@dataclass
class _Elementwise:
    """One operation applied to several nodes at once; ``arguments`` are the rows of each parent position."""

    outputs: list[Value]
    out: slice
    op: str
    function: Callable
    arguments: list[_Rows]


def _parents_first(outputs: list[Value]) -> list[Value]:
    """Every node the outputs depend on, each after its parents."""
    return topological_order(Value.sum(outputs))[:0:-1]  # engine.value's order reversed, minus the joining sum


def _is_dot_block_member(node: Value, parameters: set[Value]) -> bool:
    """A neuron's sum fuses into a block when its bias and weights are parameters and its inputs are not."""
    if node.op != "dot":
        return False
    bias, weights, inputs = split_dot(node)
    return bias in parameters and all(w in parameters for w in weights) and not any(x in parameters for x in inputs)


def _group_by_level(order: list[Value], parameters: set[Value]) -> list[list[Value]]:
    """Nodes that can run as one step: same level (one more than the deepest parent's) and same operation.

    Dot blocks group by their inputs too, since one block reads one set of inputs.
    """
    level: dict[Value, int] = {}
    groups: dict[tuple, list[Value]] = {}
    for node in order:
        if not node.parents:
            level[node] = 0
            continue
        level[node] = 1 + max(level[parent] for parent in node.parents)
        if _is_dot_block_member(node, parameters):
            key = (level[node], "dot block", tuple(id(x) for x in split_dot(node)[2]))
        else:
            key = (level[node], node.op, len(node.parents))
        groups.setdefault(key, []).append(node)
    return [groups[key] for key in sorted(groups, key=lambda key: key[0])]  # stable within a level


def _make_step(members: list[Value], row: dict[Value, int], leaf_index: dict[Value, int],
               parameters: set[Value]) -> _DotBlock | _Elementwise:
    out = slice(row[members[0]], row[members[0]] + len(members))
    if _is_dot_block_member(members[0], parameters):
        parts = [split_dot(node) for node in members]
        return _DotBlock(
            outputs=members,
            out=out,
            inputs=_Rows.of([row[x] for x in parts[0][2]]),
            weights=np.array([[leaf_index[w] for w in weights] for _, weights, _ in parts]),
            biases=np.array([leaf_index[bias] for bias, _, _ in parts]),
        )
    op = members[0].op
    function = operation(op)
    if function is None:
        raise NotImplementedError(f"engine.batch cannot replay the operation {op!r}")
    arguments = [_Rows.of([row[node.parents[i]] for node in members]) for i in range(len(members[0].parents))]
    return _Elementwise(outputs=members, out=out, op=op, function=function, arguments=arguments)


class Recording:
    """A recorded graph, compiled into grouped numpy steps; see ``record``."""

    def __init__(self, inputs: list[Value], outputs: list[Value]) -> None:
        self.inputs = inputs
        self.outputs = outputs
        self.nodes = _parents_first(outputs)
        placeholders = set(inputs)
        self.leaves = [node for node in self.nodes if not node.parents and node not in placeholders]
        parameters = set(self.leaves)
        groups = _group_by_level(self.nodes, parameters)
        # every node gets a row: inputs, then leaves, then each step's outputs together
        self.row = {node: i for i, node in enumerate(inputs + self.leaves + [n for g in groups for n in g])}
        self.first_step_row = len(inputs) + len(self.leaves)
        leaf_index = {leaf: i for i, leaf in enumerate(self.leaves)}
        self.steps = [_make_step(group, self.row, leaf_index, parameters) for group in groups]
        self.values: np.ndarray | None = None
        self.grads: np.ndarray | None = None

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
        self.leaf_data = np.fromiter((leaf.data for leaf in self.leaves), float, len(self.leaves))
        values[len(self.inputs):self.first_step_row] = self.leaf_data[:, None]
        try:
            with np.errstate(all="ignore"):  # NaN and inf pass as IEEE floats; failures are raised by array_ops
                for step in self.steps:
                    values[step.out] = self._forward_step(step, values)
        except BaseException:
            self.values = self.grads = None  # nothing stale is left for backward or value_of
            raise
        self.values = values
        return [values[self.row[out]].copy() for out in self.outputs]

    def _forward_step(self, step: _DotBlock | _Elementwise, values: np.ndarray) -> np.ndarray:
        if isinstance(step, _DotBlock):
            weights = self.leaf_data[step.weights]
            total = np.repeat(self.leaf_data[step.biases][:, None], values.shape[1], axis=1)
            inputs = values[step.inputs.index]
            for j in range(weights.shape[1]):  # b + w1*x1 + w2*x2 ... in the scalar engine's order
                total += weights[:, j:j + 1] * inputs[j]
            return total
        try:
            out, _ = step.function(*(values[rows.index] for rows in step.arguments))
        except OperationError as failure:
            raise failure.error(self._name_failure(step, values, failure)) from None
        return out

    def _name_failure(self, step: _Elementwise, values: np.ndarray, failure: OperationError) -> str:
        """``sample 7: exp(712.4) at L2.N3: the result overflows a float``: the first sample and node that failed."""
        failed = np.broadcast_to(failure.failed, (len(step.outputs), values.shape[1]))
        sample, row = np.argwhere(failed.T)[0]  # the first sample, then its first failing node
        node = step.outputs[row]
        return f"sample {sample}: {describe_operation(node, self._operands(values, node, sample))}: {failure.reason}"

    def _operands(self, values: np.ndarray, node: Value, sample: int) -> list[float]:
        """The numbers ``node`` read in one sample."""
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
        grads = np.zeros_like(values)
        if output_grads is None:
            output_grads = [1.0] * len(self.outputs)
        if len(output_grads) != len(self.outputs):
            raise ValueError(f"backward: expected {len(self.outputs)} output gradients, got {len(output_grads)}")
        for out, g in zip(self.outputs, output_grads):
            grads[self.row[out]] += np.broadcast_to(np.asarray(g, dtype=float), (values.shape[1],))
        leaf_grads = np.zeros(len(self.leaves))
        with np.errstate(all="ignore"):
            for step in reversed(self.steps):
                self._backward_step(step, values, grads, leaf_grads)
        leaf_grads += grads[len(self.inputs):self.first_step_row].sum(axis=1)
        if update_leaves:
            for leaf, g in zip(self.leaves, leaf_grads.tolist()):
                leaf.grad += g
        self.grads = grads
        return [grads[i].copy() for i in range(len(self.inputs))]

    def _backward_step(self, step: _DotBlock | _Elementwise, values: np.ndarray, grads: np.ndarray,
                       leaf_grads: np.ndarray) -> None:
        """The chain rule for one step: add its outputs' gradients, times the local derivatives, to its parents."""
        g_out = grads[step.out]
        if isinstance(step, _DotBlock):  # d/dx = w, d/dw = x, d/db = 1, as matrix products over the batch
            step.inputs.add(grads, self.leaf_data[step.weights].T @ g_out)
            np.add.at(leaf_grads, step.weights, g_out @ values[step.inputs.index].T)
            np.add.at(leaf_grads, step.biases, g_out.sum(axis=1))
            return
        _, local_grads = step.function(*(values[rows.index] for rows in step.arguments))
        for rows, local_grad in zip(step.arguments, local_grads):
            rows.add(grads, g_out * local_grad)

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
            raise KeyError(f"{_describe(node)} is not in this recording's graph")
        return table[self.row[node]]
