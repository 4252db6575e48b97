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
gradients, what calling ``backward`` on each sample's graph would add. Both
agree with the scalar engine to rounding, not bit for bit: matrix products add
their terms in their own order. On the moons MLP the median relative difference
is 2e-16 and the largest 2e-13, at a score whose sum nearly cancels to 0; the
tests ask for 1e-12. The graph that runs is the recorded graph, so it is the
graph you render.

Speed comes from grouping, without changing the graph. Nodes are processed
level by level (a node's level is one more than its deepest parent's), and all
nodes of one level that apply the same operation become one numpy call over a
block of rows (each operation's array form is in ``engine/array_ops.py``).
Neurons' weighted sums (``Value.dot`` nodes) that read the same inputs become
one block, ``W @ X + b``: one matrix product forward and two backward.
Weighted sums whose weights are computed too (attention's queries against
keys, its weights against values) become one block of elementwise products
summed at once. Any other shape of sum (a chain of ``+``) replays one
operation at a time, correctly. The leaves (weights, biases, constants) are the same for every
sample, so each is kept as one number, never copied out to a row per sample.

A graph whose *shape* depends on the data (a Python ``if`` on a value) cannot
be replayed: while recording, reading ``.data`` of any Value that depends on
an input raises ``DataDependentGraphError``.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Container, Sequence
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
# A step computes several nodes of the same level at once, as the rows of one
# block (one row per node, one column per sample). A replay keeps a list of
# blocks: first the inputs, then each step's outputs, each block the array the
# numpy call made (nothing is copied into a common table, and a block's
# gradient may be the very array its first contribution made). The leaves
# (parameters and constants) are the same for every sample, so they are kept
# once each, in a vector, not copied into a row per sample.


def _index(positions: list[int]) -> slice | np.ndarray:
    """A slice when the positions are consecutive (indexing gives a view, no copy), else an index array."""
    if positions == list(range(positions[0], positions[0] + len(positions))):
        return slice(positions[0], positions[0] + len(positions))
    return np.array(positions)


@dataclass
class _Repeats:
    """How to add the gradients of members that read the same row: sum them row by row first.

    ``order`` sorts the members by row (None when they already are), ``starts``
    is where each row's run begins in that order, ``rows`` the distinct rows.
    """

    order: np.ndarray | None
    starts: np.ndarray
    rows: np.ndarray

    @classmethod
    def of(cls, rows: list[int]) -> _Repeats | None:
        """None when no row is listed twice."""
        if len(set(rows)) == len(rows):
            return None
        index = np.array(rows)
        order = np.argsort(index, kind="stable")
        in_order = index[order]
        starts = np.flatnonzero(np.r_[True, in_order[1:] != in_order[:-1]])
        already_sorted = bool(np.all(order == np.arange(len(order))))
        return cls(None if already_sorted else order, starts, in_order[starts])


@dataclass
class _Part:
    """The members of an argument that read one block: which members, and which of the block's rows.

    ``members`` is None when they are all the step's members, in order;
    ``size`` is the block's number of rows; ``whole``: the rows are all of
    them, in order, each once.
    """

    block: int
    rows: slice | np.ndarray
    members: np.ndarray | None
    repeats: _Repeats | None
    size: int
    whole: bool


@dataclass
class _Rows:
    """The rows one argument of a step reads, one per member: in one block, or (rarely) several."""

    parts: list[_Part]
    count: int

    @classmethod
    def of(cls, places: list[tuple[int, int]], block_sizes: list[int]) -> _Rows:
        """``places`` holds each member's (block, row)."""
        by_block: dict[int, list[tuple[int, int]]] = {}
        for member, (block, row) in enumerate(places):
            by_block.setdefault(block, []).append((member, row))
        parts = []
        for block, pairs in by_block.items():
            members, rows = [m for m, _ in pairs], [r for _, r in pairs]
            parts.append(_Part(block, _index(rows), None if len(by_block) == 1 else np.array(members),
                               _Repeats.of(rows), block_sizes[block], rows == list(range(block_sizes[block]))))
        return cls(parts, len(places))

    def read(self, values: list[np.ndarray], leaf_data: np.ndarray) -> np.ndarray:
        """The members' rows, one per member: a view when they are consecutive rows of one block."""
        if len(self.parts) == 1:
            part = self.parts[0]
            return values[part.block][part.rows]
        gathered = np.empty((self.count, values[0].shape[1]))
        for part in self.parts:
            gathered[part.members] = values[part.block][part.rows]
        return gathered

    def add(self, grads: list[np.ndarray | None], leaf_grads: np.ndarray, contribution: np.ndarray) -> None:
        """Add each member's row of ``contribution`` (a fresh array, which may be kept) to its row of ``grads``.

        A block's gradient is None until the first contribution reaches it.
        """
        for part in self.parts:
            piece = contribution if part.members is None else contribution[part.members]
            rows = part.rows
            if part.repeats is not None:
                # Summing each row's run with reduceat, then adding once, is 7-10x quicker than
                # np.add.at for ten members reading one row (softmax's shift), at 1,797 and 100,000 samples.
                if part.repeats.order is not None:
                    piece = piece[part.repeats.order]
                piece, rows = np.add.reduceat(piece, part.repeats.starts, axis=0), part.repeats.rows
            target = grads[part.block]
            if target is None:
                if part.whole and part.members is None and part.repeats is None:
                    # The first gradient for the whole block is kept, not added to fresh zeros:
                    # 4x (100,000 samples) to 14x (10,000) quicker for a 16-neuron layer.
                    grads[part.block] = piece
                    continue
                target = grads[part.block] = np.zeros((part.size, piece.shape[1]))
            target[rows] += piece


@dataclass
class _Leaves:
    """The leaves one argument of a step reads, one per member: one number each for the whole batch."""

    index: np.ndarray

    def read(self, values: list[np.ndarray], leaf_data: np.ndarray) -> np.ndarray:
        """The members' numbers as a column, which numpy broadcasts over the samples."""
        return leaf_data[self.index][:, None]

    def add(self, grads: list[np.ndarray | None], leaf_grads: np.ndarray, contribution: np.ndarray) -> None:
        """leaf_grads[leaves] += the members' gradients summed over the batch."""
        np.add.at(leaf_grads, self.index, contribution.sum(axis=1))


@dataclass
class _DotBlock:
    """Neurons' weighted sums ``b + w1*x1 + ... + wk*xk`` over the same inputs, as one block.

    ``weights`` and ``biases`` index the recording's leaves (one row of weights
    per neuron); ``inputs`` are the rows of x1..xk; ``block`` where the
    neurons' values go in the list of blocks.
    """

    outputs: list[Value]
    block: int
    inputs: _Rows
    weights: np.ndarray
    biases: np.ndarray


@dataclass
class _PairDotBlock:
    """Weighted sums whose weights are computed too, ``b + a1*x1 + ... + ak*xk`` (attention's q·k, weights·values).

    ``weights`` and ``inputs`` read every member's k rows, member after member
    (m*k rows, reshaped to m x k x samples); ``bias`` reads one row or leaf per member.
    """

    outputs: list[Value]
    block: int
    weights: _Rows
    inputs: _Rows
    bias: _Rows | _Leaves


@dataclass
class _Elementwise:
    """One operation applied to several nodes at once; ``arguments`` says where each parent position is read."""

    outputs: list[Value]
    block: int
    op: str
    function: Callable
    arguments: list[_Rows | _Leaves]


_Step = _DotBlock | _PairDotBlock | _Elementwise  # the three kinds of grouped step


def _parents_first(outputs: list[Value]) -> list[Value]:
    """Every node the outputs depend on, each after its parents."""
    return topological_order(Value.sum(outputs))[:0:-1]  # engine.value's order reversed, minus the joining sum


def _is_dot_block_member(node: Value, leaves: Container[Value]) -> bool:
    """A neuron's sum fuses into a block when its bias and weights are leaves and its inputs are not."""
    if node.op != "dot":
        return False
    bias, weights, inputs = split_dot(node)
    return bias in leaves and all(w in leaves for w in weights) and not any(x in leaves for x in inputs)


def _is_pair_dot_member(node: Value, leaves: Container[Value]) -> bool:
    """A sum of products of computed numbers (no weight or input is a leaf) fuses into a pair-dot block."""
    if node.op != "dot":
        return False
    _, weights, inputs = split_dot(node)
    return len(weights) > 0 and not any(v in leaves for v in (*weights, *inputs))


def _group_by_level(order: list[Value], leaves: Container[Value]) -> list[list[Value]]:
    """Nodes that can run as one step: same level (one more than the deepest parent's) and same operation.

    Dot blocks group by their inputs too, since one block reads one set of
    inputs; other operations by which of their parents are leaves, so that
    each argument of a step reads either rows of blocks or leaves.
    """
    level: dict[Value, int] = {}
    groups: dict[tuple, list[Value]] = {}
    for node in order:
        if not node.parents:
            level[node] = 0
            continue
        level[node] = 1 + max(level[parent] for parent in node.parents)
        if _is_dot_block_member(node, leaves):
            key = (level[node], "dot block", tuple(id(x) for x in split_dot(node)[2]))
        elif _is_pair_dot_member(node, leaves):
            key = (level[node], "pair dot", len(node.parents), node.parents[0] in leaves)
        else:
            key = (level[node], node.op, tuple(parent in leaves for parent in node.parents))
        groups.setdefault(key, []).append(node)
    return [groups[key] for key in sorted(groups, key=lambda key: key[0])]  # stable within a level


class Recording:
    """A recorded graph, compiled into grouped numpy steps; see ``record``."""

    def __init__(self, inputs: list[Value], outputs: list[Value]) -> None:
        self.inputs = inputs
        self.outputs = outputs
        self.nodes = _parents_first(outputs)
        placeholders = set(inputs)
        self.leaves = [node for node in self.nodes if not node.parents and node not in placeholders]
        self.leaf_index = {leaf: i for i, leaf in enumerate(self.leaves)}
        groups = _group_by_level(self.nodes, self.leaf_index)
        # where each input and computed node is found: (block, row); block 0 holds the inputs
        self.place = {node: (0, row) for row, node in enumerate(inputs)}
        for block, group in enumerate(groups, start=1):
            self.place.update({node: (block, row) for row, node in enumerate(group)})
        self.block_sizes = [len(inputs)] + [len(group) for group in groups]
        self.steps = [self._make_step(group, block) for block, group in enumerate(groups, start=1)]
        self.leaf_data = np.zeros(len(self.leaves))
        self.values: list[np.ndarray] | None = None
        self.grads: list[np.ndarray | None] | None = None

    def _make_step(self, members: list[Value], block: int) -> _Step:
        if _is_dot_block_member(members[0], self.leaf_index):
            parts = [split_dot(node) for node in members]
            return _DotBlock(
                outputs=members,
                block=block,
                inputs=_Rows.of([self.place[x] for x in parts[0][2]], self.block_sizes),
                weights=np.array([[self.leaf_index[w] for w in weights] for _, weights, _ in parts]),
                biases=np.array([self.leaf_index[bias] for bias, _, _ in parts]),
            )
        if _is_pair_dot_member(members[0], self.leaf_index):
            parts = [split_dot(node) for node in members]
            return _PairDotBlock(
                outputs=members,
                block=block,
                weights=_Rows.of([self.place[w] for _, weights, _ in parts for w in weights], self.block_sizes),
                inputs=_Rows.of([self.place[x] for _, _, inputs in parts for x in inputs], self.block_sizes),
                bias=self._argument([bias for bias, _, _ in parts]),
            )
        op = members[0].op
        function = operation(op)
        if function is None:
            raise NotImplementedError(f"engine.batch cannot replay the operation {op!r}")
        arguments = [self._argument([node.parents[i] for node in members]) for i in range(len(members[0].parents))]
        return _Elementwise(outputs=members, block=block, op=op, function=function, arguments=arguments)

    def _argument(self, parents: list[Value]) -> _Rows | _Leaves:
        """Where one parent of each member is read: leaves, or rows of blocks.

        Never a mix of the two: _group_by_level saw to it.
        """
        if parents[0] in self.leaf_index:
            return _Leaves(np.array([self.leaf_index[parent] for parent in parents]))
        return _Rows.of([self.place[parent] for parent in parents], self.block_sizes)

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
        values = [np.array(columns).reshape(len(columns), n)]
        local_grads: list[list | None] = []
        self.leaf_data = np.fromiter((leaf.data for leaf in self.leaves), float, len(self.leaves))
        self.values = self.grads = None  # nothing stale is left for backward or value_of, should a step fail
        with np.errstate(all="ignore"):  # NaN and inf pass as IEEE floats; failures are raised by array_ops
            for step in self.steps:
                block, local = self._forward_step(step, values)
                values.append(block)
                local_grads.append(local)
        self.values, self.local_grads = values, local_grads
        return [np.array(self.value_of(out)) for out in self.outputs]  # copies: the next forward won't change them

    def _forward_step(self, step: _Step, values: list[np.ndarray]) -> tuple[np.ndarray, list | None]:
        """One step's block of values, and its local derivatives (kept for backward, as value.py keeps them)."""
        if isinstance(step, _DotBlock):
            # W @ X + b, one BLAS call for the whole layer. Its sums run in BLAS's order,
            # not b + w1*x1 + w2*x2 ..., so they agree with the scalar engine to rounding;
            # 6-7x quicker than that loop of multiply-adds (16 neurons of 16 inputs, 10,000
            # and 100,000 samples).
            total = self.leaf_data[step.weights] @ step.inputs.read(values, self.leaf_data)
            total += self.leaf_data[step.biases][:, None]
            return total, None
        if isinstance(step, _PairDotBlock):
            # every member's k products summed at once, over all samples: one multiply and one sum
            # for the block, where a chain of k multiply-adds took 2k numpy calls
            weights, inputs = self._pairs(step, values)
            return step.bias.read(values, self.leaf_data) + np.einsum("mkn,mkn->mn", weights, inputs), None
        try:
            out, local = step.function(*(argument.read(values, self.leaf_data) for argument in step.arguments))
        except OperationError as failure:
            raise failure.error(self._name_failure(step, values, failure)) from None
        shape = (len(step.outputs), values[0].shape[1])
        return (out if out.shape == shape else np.broadcast_to(out, shape)), local  # nodes of leaves alone

    def _pairs(self, step: _PairDotBlock, values: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """The members' weights and inputs as (members, k, samples) arrays."""
        members, n = len(step.outputs), values[0].shape[1]
        return (step.weights.read(values, self.leaf_data).reshape(members, -1, n),
                step.inputs.read(values, self.leaf_data).reshape(members, -1, n))

    def _name_failure(self, step: _Elementwise, values: list[np.ndarray], failure: OperationError) -> str:
        """``sample 7: exp(712.4) at L2.N3: the result overflows a float``: the first sample and node that failed."""
        failed = np.broadcast_to(failure.failed, (len(step.outputs), values[0].shape[1]))
        sample, row = np.argwhere(failed.T)[0]  # the first sample, then its first failing node
        node = step.outputs[row]
        return f"sample {sample}: {describe_operation(node, self._operands(values, node, sample))}: {failure.reason}"

    def _operands(self, values: list[np.ndarray], node: Value, sample: int) -> list[float]:
        """The numbers ``node`` read in one sample."""
        return [float(self._per_sample(values, parent)[sample]) for parent in node.parents]

    def _per_sample(self, values: list[np.ndarray], node: Value) -> np.ndarray:
        """A node's row of values; for a leaf, its one number as a read-only row of the same length."""
        if node in self.leaf_index:
            return np.broadcast_to(self.leaf_data[self.leaf_index[node]], (values[0].shape[1],))
        block, row = self.place[node]
        return values[block][row]

    def backward(
        self, output_grads: Sequence[np.ndarray | float] | None = None, update_leaves: bool = True
    ) -> list[np.ndarray]:
        """Backpropagate ``output_grads`` (d total / d output, per sample; default 1).

        Adds to every leaf's ``grad`` its gradient summed over the batch (unless
        ``update_leaves`` is False), and returns the gradient with respect to
        each input column, per sample.
        """
        values = self._checked(self.values, "forward")
        if output_grads is None:
            output_grads = [1.0] * len(self.outputs)
        if len(output_grads) != len(self.outputs):
            raise ValueError(f"backward: expected {len(self.outputs)} output gradients, got {len(output_grads)}")
        n = values[0].shape[1]
        # a block's gradient is None until one reaches it; every step's block is reached, as
        # every computed node leads to an output, but an input may lead nowhere
        grads: list[np.ndarray | None] = [None] * len(values)
        leaf_grads = np.zeros(len(self.leaves))
        for out, g in zip(self.outputs, output_grads):
            g = np.broadcast_to(np.asarray(g, dtype=float), (n,))
            if out in self.leaf_index:  # an output that is a leaf: its gradient, summed over the batch
                leaf_grads[self.leaf_index[out]] += g.sum()
                continue
            block, row = self.place[out]
            if grads[block] is None:
                grads[block] = np.zeros((self.block_sizes[block], n))
            grads[block][row] += g
        with np.errstate(all="ignore"):
            for step, local_grads in zip(reversed(self.steps), reversed(self.local_grads)):
                self._backward_step(step, local_grads, values, grads, leaf_grads)
        if update_leaves:
            for leaf, g in zip(self.leaves, leaf_grads.tolist()):
                leaf.grad += g
        self.grads = grads
        return [self._grad_row(grads, (0, i), n).copy() for i in range(len(self.inputs))]

    def _backward_step(self, step: _Step, local_grads: list | None, values: list[np.ndarray],
                       grads: list[np.ndarray | None], leaf_grads: np.ndarray) -> None:
        """The chain rule for one step: add its outputs' gradients, times the local derivatives, to its parents."""
        g_out = grads[step.block]
        if isinstance(step, _DotBlock):  # d/dx = w, d/dw = x, d/db = 1, as matrix products over the batch
            weights = self.leaf_data[step.weights]
            # for one neuron W.T @ g is an outer product, which BLAS does 4x (100,000 samples)
            # to 15x (10,000) slower than a broadcast multiply
            step.inputs.add(grads, leaf_grads, weights.T * g_out if len(weights) == 1 else weights.T @ g_out)
            np.add.at(leaf_grads, step.weights, g_out @ step.inputs.read(values, self.leaf_data).T)
            np.add.at(leaf_grads, step.biases, g_out.sum(axis=1))
            return
        if isinstance(step, _PairDotBlock):  # d/da_i = x_i, d/dx_i = a_i, d/db = 1
            weights, inputs = self._pairs(step, values)
            g = g_out[:, None, :]
            step.weights.add(grads, leaf_grads, (inputs * g).reshape(-1, g_out.shape[1]))
            step.inputs.add(grads, leaf_grads, (weights * g).reshape(-1, g_out.shape[1]))
            step.bias.add(grads, leaf_grads, g_out.copy())
            return
        for argument, local_grad in zip(step.arguments, local_grads):
            argument.add(grads, leaf_grads, g_out * local_grad)

    def explain_non_finite(self) -> str:
        """After forward: where the values first stopped being finite, as the scalar engine would say it.

        Steps run level by level, so the first step holding a NaN or an
        infinity holds the node where the trouble began; of its samples, the
        first one is named.
        """
        values = self._checked(self.values, "forward")
        for leaf in self.inputs + self.leaves:
            row = self._per_sample(values, leaf)
            bad = ~np.isfinite(row)
            if bad.any():
                sample = int(np.argmax(bad))
                return f"sample {sample}: {describe_non_finite(leaf, float(row[sample]), None)}"
        for step in self.steps:
            block = values[step.block]
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
            block = grads[step.block]
            bad = ~np.isfinite(block)
            if bad.any():
                sample, row = np.argwhere(bad.T)[0]
                node = step.outputs[row]
                operands = self._operands(self.values, node, sample)
                return (f"sample {sample}: the gradient of {describe_operation(node, operands)} is "
                        f"{block[row, sample]!r}")
        for leaf in self.leaves:  # the leaves' gradients are summed over the batch, not kept per sample
            if not np.isfinite(leaf.grad):
                return f"the gradient of {describe_operation(leaf, None)}, summed over the batch, is {leaf.grad!r}"
        return "every gradient is finite"

    def value_of(self, node: Value) -> np.ndarray:
        """The per-sample values of a recorded node after ``forward`` (a leaf's: its one number, read-only)."""
        values = self._checked(self.values, "forward")
        self._check_recorded(node)
        return self._per_sample(values, node)

    def grad_of(self, node: Value) -> np.ndarray:
        """The per-sample gradients of an input or a computed node after ``backward``.

        A leaf's gradient is summed over the batch into its ``grad`` (the
        weights' by a matrix product); per-sample gradients of leaves are not kept.
        """
        grads = self._checked(self.grads, "backward")
        self._check_recorded(node)
        if node in self.leaf_index:
            raise ValueError(f"grad_of: {_describe(node)} is a leaf, whose gradient is summed over the batch "
                             "into its grad; per-sample gradients are kept for inputs and computed nodes")
        return self._grad_row(grads, self.place[node], self.values[0].shape[1])

    def _grad_row(self, grads: list[np.ndarray | None], place: tuple[int, int], n: int) -> np.ndarray:
        block, row = place
        return np.zeros(n) if grads[block] is None else grads[block][row]

    def _checked(self, table: list | None, call: str) -> list:
        if table is None:
            raise RuntimeError(f"call {call} first")
        return table

    def _check_recorded(self, node: Value) -> None:
        if node not in self.place and node not in self.leaf_index:
            raise KeyError(f"{_describe(node)} is not in this recording's graph")
