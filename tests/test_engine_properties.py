"""Property-based tests: backward on random expression graphs.

Hypothesis writes small random programs: a few leaves, then a sequence of
operations. Each operation takes the previous node as its first operand (so the
program is a deep chain) and any earlier node as its second (so nodes are
reused, leaves included). An operation is only chosen where its domain holds,
and results stay within +-10, so that finite differences are well-conditioned.
The same program is then run three ways: on plain floats (the reference
function), on Values (to differentiate) and on torch tensors.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from engine import Value, topological_order
from tests.helpers import central_difference

BOUND = 10.0  # every node of a program stays within +-BOUND
KINK_MARGIN = 1e-3  # relu is only applied at least this far from 0
STEP = 1e-6  # finite-difference step


class Operation(NamedTuple):
    """One kind of step of a random program.

    ``on_node`` works on Values and torch tensors alike (operators and methods
    only); ``on_float`` is the same function in plain math; ``allowed`` says
    whether the operands lie well inside the domain.
    """

    on_node: Callable
    on_float: Callable[[float, float], float]
    allowed: Callable[[float, float], bool]


def _always(x: float, y: float) -> bool:
    return True


OPERATIONS = {
    "x + y": Operation(lambda x, y: x + y, lambda x, y: x + y, _always),
    "x - y": Operation(lambda x, y: x - y, lambda x, y: x - y, _always),
    "x * y": Operation(lambda x, y: x * y, lambda x, y: x * y, _always),
    "x / y": Operation(lambda x, y: x / y, lambda x, y: x / y, lambda x, y: abs(y) > 0.1),
    "x ** y": Operation(lambda x, y: x**y, math.pow, lambda x, y: x > 0.1),
    "-x": Operation(lambda x, y: -x, lambda x, y: -x, _always),
    "exp(x)": Operation(lambda x, y: x.exp(), lambda x, y: math.exp(x), lambda x, y: abs(x) < 2.0),
    "log(x)": Operation(lambda x, y: x.log(), lambda x, y: math.log(x), lambda x, y: x > 0.1),
    "tanh(x)": Operation(lambda x, y: x.tanh(), lambda x, y: math.tanh(x), _always),
    "relu(x)": Operation(lambda x, y: x.relu(), lambda x, y: max(x, 0.0), lambda x, y: abs(x) > KINK_MARGIN),
    "sigmoid(x)": Operation(
        lambda x, y: x.sigmoid(), lambda x, y: 1.0 / (1.0 + math.exp(-x)), _always
    ),
    "x ** 2": Operation(lambda x, y: x**2, lambda x, y: x * x, _always),
    "x ** 3": Operation(lambda x, y: x**3, lambda x, y: x * x * x, _always),
    "x ** -1": Operation(lambda x, y: x**-1, lambda x, y: 1.0 / x, lambda x, y: abs(x) > 0.1),
    "x ** -2": Operation(lambda x, y: x**-2, lambda x, y: 1.0 / (x * x), lambda x, y: abs(x) > 0.3),
    "x ** 0.5": Operation(lambda x, y: x**0.5, lambda x, y: math.sqrt(x), lambda x, y: x > 0.1),
    "x ** -0.5": Operation(lambda x, y: x**-0.5, lambda x, y: 1.0 / math.sqrt(x), lambda x, y: x > 0.1),
    "1.5 - x": Operation(lambda x, y: 1.5 - x, lambda x, y: 1.5 - x, _always),
    "0.5 * x": Operation(lambda x, y: 0.5 * x, lambda x, y: 0.5 * x, _always),
    "x + 0.25": Operation(lambda x, y: x + 0.25, lambda x, y: x + 0.25, _always),
    "2 / x": Operation(lambda x, y: 2 / x, lambda x, y: 2.0 / x, lambda x, y: abs(x) > 0.3),
    "2 ** x": Operation(lambda x, y: 2**x, lambda x, y: 2.0**x, _always),
}
OPERATION_NAMES = sorted(OPERATIONS)


class Program(NamedTuple):
    """Leaf values, then steps (operation name, index of the second operand)."""

    leaves: tuple[float, ...]
    steps: tuple[tuple[str, int], ...]


@st.composite
def programs(draw: st.DrawFn) -> Program:
    leaves = draw(st.lists(st.floats(-3.0, 3.0), min_size=1, max_size=4))
    values = list(leaves)
    steps = []
    for _ in range(draw(st.integers(1, 12))):
        x = values[-1]
        other = draw(st.integers(0, len(values) - 1))
        y = values[other]
        usable = [name for name in OPERATION_NAMES if OPERATIONS[name].allowed(x, y)]
        name = draw(st.sampled_from(usable))
        result = OPERATIONS[name].on_float(x, y)
        if not abs(result) <= BOUND:
            name = "tanh(x)"  # always defined and bounded
            result = math.tanh(x)
        steps.append((name, other))
        values.append(result)
    return Program(tuple(leaves), tuple(steps))


def run(program: Program, leaves: list) -> object:
    """Run ``program`` on the given leaves (Values, tensors or floats given as nodes)."""
    nodes = list(leaves)
    for name, other in program.steps:
        nodes.append(OPERATIONS[name].on_node(nodes[-1], nodes[other]))
    return nodes[-1]


def run_on_floats(program: Program, leaves: list[float]) -> tuple[float, list[bool]]:
    """The program in plain math: its result and the sign of every relu input."""
    nodes = list(leaves)
    relu_signs = []
    for name, other in program.steps:
        x, y = nodes[-1], nodes[other]
        if name == "relu(x)":
            relu_signs.append(x > 0.0)
        nodes.append(OPERATIONS[name].on_float(x, y))
    return nodes[-1], relu_signs


def _gradients_by_engine(program: Program) -> tuple[float, list[float]]:
    leaves = [Value(x) for x in program.leaves]
    out = run(program, leaves)
    out.backward()
    return out.data, [leaf.grad for leaf in leaves]


def _assume_smooth_around(program: Program) -> None:
    """Skip programs whose finite differences would step across relu's kink or out of a domain."""
    _, signs = run_on_floats(program, list(program.leaves))
    for i in range(len(program.leaves)):
        for step in (STEP, -STEP):
            moved = list(program.leaves)
            moved[i] += step
            try:
                _, moved_signs = run_on_floats(program, moved)
            except (ValueError, ZeroDivisionError, OverflowError):
                assume(False)
            assume(moved_signs == signs)


@settings(max_examples=100, deadline=None)
@given(programs())
def test_forward_value_matches_plain_math(program: Program) -> None:
    out = run(program, [Value(x) for x in program.leaves])
    expected, _ = run_on_floats(program, list(program.leaves))
    assert math.isclose(out.data, expected, rel_tol=1e-12, abs_tol=1e-12)


@settings(max_examples=100, deadline=None)
@given(programs())
def test_leaf_gradients_match_central_differences(program: Program) -> None:
    _assume_smooth_around(program)
    _, grads = _gradients_by_engine(program)
    for i, grad in enumerate(grads):
        estimate = central_difference(lambda xs: run_on_floats(program, xs)[0], program.leaves, i, STEP)
        # Keep to slopes a step of 1e-6 can measure: over the step the function must look linear.
        assume(abs(estimate) < 1e4)
        # Rounding in f(x +- h) is about 1e-16 * BOUND / h = 1e-9; truncation is ~h**2 f'''.
        assert math.isclose(grad, estimate, rel_tol=1e-5, abs_tol=1e-6), (i, grad, estimate)


@settings(max_examples=100, deadline=None)
@given(program=programs())
def test_forward_and_leaf_gradients_match_torch(torch, program: Program) -> None:
    tensors = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in program.leaves]
    expected = run(program, tensors)
    expected.backward()
    value, grads = _gradients_by_engine(program)
    assert math.isclose(value, expected.item(), rel_tol=1e-9, abs_tol=1e-12)
    for tensor, grad in zip(tensors, grads):
        # torch leaves .grad as None for a leaf the output does not depend on
        expected_grad = 0.0 if tensor.grad is None else tensor.grad.item()
        # Both sum the same chain-rule products, possibly in another order.
        assert math.isclose(grad, expected_grad, rel_tol=1e-9, abs_tol=1e-9), (grad, expected_grad)


def _chain_rule_over_topological_order(root: Value) -> dict[int, float]:
    """d root / d node for every node, by the chain rule written once, as a loop over topological_order."""
    order = topological_order(root)
    grads = dict.fromkeys(map(id, order), 0.0)
    grads[id(root)] = 1.0
    for node in order:
        for parent, local_grad in zip(node.parents, node.local_grads):
            grads[id(parent)] += local_grad * grads[id(node)]
    return grads


@settings(max_examples=100, deadline=None)
@given(programs())
def test_backward_gives_every_node_the_chain_rule_over_topological_order_to_the_last_bit(program: Program) -> None:
    # backward's own walk and unrolled loop add the same products in the same order
    leaves = [Value(x) for x in program.leaves]
    # a node with many parents on top, beside the one- and two-parent nodes of the program
    out = Value.sum([run(program, leaves), *leaves, leaves[0] * 2.0])
    expected = _chain_rule_over_topological_order(out)
    out.backward()
    for node in topological_order(out):
        assert node.grad == expected[id(node)], node
