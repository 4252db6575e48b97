"""How ``engine.Value`` graphs behave as a whole: backward, traversal, memory, errors.

The operations one at a time are in test_engine_ops.py; here they meet in
graphs. The numbers below are chosen so every intermediate result is exact in
binary floating point, which lets the gradients be compared with ``==``.
"""

from __future__ import annotations

import gc
import math
import sys
from collections.abc import Callable
from fractions import Fraction

import numpy as np
import pytest

from engine import Value, topological_order

# --- backward accumulates into leaves -------------------------------------------


def _deep_expression(a: Value, b: Value) -> dict[str, Value]:
    """L = ((a*b + a) * b)**2 through named intermediate nodes."""
    c = a * b
    d = c + a
    e = d * b
    loss = e * e
    return {"c": c, "d": d, "e": e, "loss": loss}


def _deep_expression_gradients(a: float, b: float) -> tuple[float, float]:
    """dL/da and dL/db by hand: e = a b**2 + a b, so dL/da = 2e (b**2 + b), dL/db = 2e (2ab + a)."""
    e = a * b * b + a * b
    return 2 * e * (b * b + b), 2 * e * (2 * a * b + a)


def test_backward_computes_gradient_of_a_deep_expression() -> None:
    a, b = Value(1.5), Value(-2.0)
    _deep_expression(a, b)["loss"].backward()
    assert (a.grad, b.grad) == _deep_expression_gradients(1.5, -2.0)


def test_backward_twice_doubles_leaf_grads() -> None:
    # A micrograd-style engine keeps the intermediate grads of the first call and
    # pushes them through again, giving more than twice (here 3x for a, more for b).
    a, b = Value(1.5), Value(-2.0)
    loss = _deep_expression(a, b)["loss"]
    loss.backward()
    loss.backward()
    d_a, d_b = _deep_expression_gradients(1.5, -2.0)
    assert (a.grad, b.grad) == (2 * d_a, 2 * d_b)


def test_backward_three_times_triples_leaf_grads() -> None:
    a, b = Value(1.5), Value(-2.0)
    loss = _deep_expression(a, b)["loss"]
    for _ in range(3):
        loss.backward()
    d_a, d_b = _deep_expression_gradients(1.5, -2.0)
    assert (a.grad, b.grad) == (3 * d_a, 3 * d_b)


def test_backward_twice_leaves_intermediate_grads_from_the_latest_call() -> None:
    a, b = Value(1.5), Value(-2.0)
    nodes = _deep_expression(a, b)
    nodes["loss"].backward()
    nodes["loss"].backward()
    e = 1.5 * -2.0 * -2.0 + 1.5 * -2.0  # 3.0
    assert nodes["loss"].grad == 1.0
    assert nodes["e"].grad == 2 * e  # dL/de
    assert nodes["d"].grad == 2 * e * -2.0  # dL/dd = dL/de * b


def test_backward_adds_to_existing_leaf_grad() -> None:
    a = Value(3.0)
    a.grad = 0.25  # e.g. left over from another loss
    (a * 2.0).backward()
    assert a.grad == 0.25 + 2.0


def test_backward_of_two_losses_sums_their_gradients_in_shared_leaves() -> None:
    a = Value(3.0)
    (a * a).backward()  # 2a
    (a * 5.0).backward()  # 5
    assert a.grad == 2 * 3.0 + 5.0


def test_backward_on_a_leaf_adds_one() -> None:
    a = Value(3.0)
    a.backward()
    assert a.grad == 1.0
    a.backward()
    assert a.grad == 2.0


def test_gradients_are_floats() -> None:
    a, b = Value(2), Value(3)
    (a * b + 1).backward()
    assert type(a.grad) is float
    assert type(b.grad) is float


# --- shared nodes sum their paths ---------------------------------------------------


def test_node_used_twice_in_one_operation_gets_both_paths() -> None:
    x = Value(3.0)
    (x * x).backward()
    assert x.grad == 2 * 3.0


def test_node_added_to_itself_gets_both_paths() -> None:
    x = Value(3.0)
    (x + x).backward()
    assert x.grad == 2.0


def test_shared_subexpression_used_three_times_sums_all_paths() -> None:
    a, b = Value(1.5), Value(2.0)
    s = a * b
    loss = s + s * s  # s used three times: dL/ds = 1 + 2s
    loss.backward()
    d_s = 1 + 2 * (1.5 * 2.0)
    assert s.grad == d_s
    assert (a.grad, b.grad) == (d_s * 2.0, d_s * 1.5)


def test_leaf_reached_by_paths_of_different_lengths_sums_them() -> None:
    a, b = Value(2.0), Value(-3.0)
    loss = a * b + a  # dc/da = b + 1, dc/db = a
    loss.backward()
    assert (a.grad, b.grad) == (-3.0 + 1.0, 2.0)


# --- a million nodes deep -----------------------------------------------------------

CHAIN_LENGTH = 1_000_000


def test_chain_of_a_million_nodes_works_at_default_recursion_limit() -> None:
    # Far deeper than any recursive traversal could go at the current limit.
    assert sys.getrecursionlimit() < CHAIN_LENGTH
    x = Value(0.5)
    y = x
    for _ in range(CHAIN_LENGTH):
        y = y + x  # y = (k + 1) x after k steps, each step depending on the previous one
    assert y.data == (CHAIN_LENGTH + 1) * 0.5
    y.backward()
    assert x.grad == CHAIN_LENGTH + 1  # dy/dx = N + 1, sums of 1.0 are exact
    del y  # freeing a million-deep chain must not overflow the C stack either


def test_topological_order_of_a_million_deep_chain_lists_every_node_once() -> None:
    assert sys.getrecursionlimit() < CHAIN_LENGTH
    x = Value(1.0)
    y = x
    for _ in range(CHAIN_LENGTH):
        y = -y
    order = topological_order(y)
    assert len(order) == CHAIN_LENGTH + 1
    assert order[0] is y
    assert order[-1] is x


def test_backward_through_a_deep_chain_sets_off_no_garbage_collection() -> None:
    # The walk keeps no object per node of the path, so the cyclic collector,
    # which counts such objects, is never set off to sweep the whole graph.
    x, c = Value(1.0), Value(1.0)
    y = x
    for _ in range(100_000):
        y = y * c
    collections = []

    def record(phase: str, info: dict) -> None:
        if phase == "start":
            collections.append(info["generation"])

    gc.collect()
    gc.callbacks.append(record)
    try:
        y.backward()
    finally:
        gc.callbacks.remove(record)
    assert collections == []
    assert x.grad == 1.0


# --- topological_order ---------------------------------------------------------------


def _labelled_graph(b_created_first: bool = False) -> tuple[Value, list[Value]]:
    """A small graph with a shared node; returns (root, every node in it).

    ``b_created_first`` changes only the order in which the leaves are
    allocated (and so, typically, their ids), not the graph.
    """
    if b_created_first:
        b = Value(-2.0, label="b")
        a = Value(1.5, label="a")
    else:
        a = Value(1.5, label="a")
        b = Value(-2.0, label="b")
    c = a * b
    c.label = "c"
    d = c + a
    d.label = "d"
    product = d * c
    product.label = "d*c"
    e = product.tanh()
    e.label = "e"
    f = e - b
    f.label = "f"
    return f, [a, b, c, d, product, e, f]


def test_topological_order_puts_every_node_before_its_parents() -> None:
    root, _ = _labelled_graph()
    order = topological_order(root)
    position = {id(node): i for i, node in enumerate(order)}
    for node in order:
        for parent in node.parents:
            assert position[id(node)] < position[id(parent)]


def test_topological_order_contains_every_node_exactly_once() -> None:
    root, nodes = _labelled_graph()
    order = topological_order(root)
    assert len(order) == len(nodes)
    assert {id(node) for node in order} == {id(node) for node in nodes}


def test_topological_order_starts_at_the_root() -> None:
    root, _ = _labelled_graph()
    assert topological_order(root)[0] is root


def test_topological_order_leaves_out_nodes_the_root_does_not_depend_on() -> None:
    a, unrelated = Value(1.0), Value(2.0)
    b = a * 3.0
    _ = unrelated * b  # uses b, but b does not depend on it
    assert all(node is not unrelated for node in topological_order(b))
    assert len(topological_order(b)) == 3  # b, a and the constant 3


def test_topological_order_of_a_leaf_is_just_the_leaf() -> None:
    leaf = Value(1.0)
    order = topological_order(leaf)
    assert len(order) == 1
    assert order[0] is leaf


def test_topological_order_without_leaves_is_the_same_order_with_the_leaves_taken_out() -> None:
    root, _ = _labelled_graph(b_created_first=False)
    everything = topological_order(root)
    assert topological_order(root, leaves=False) == [node for node in everything if node.parents]
    assert topological_order(Value(1.0), leaves=False) == []


def test_topological_order_is_the_same_for_every_build_of_one_graph() -> None:
    # Ids (memory addresses) differ between builds; an order that depends on
    # them (such as a set's) would differ too, and so would drawn graphs.
    kept_alive = [_labelled_graph(b_created_first=i % 2 == 1) for i in range(20)]
    orders = {tuple(node.label for node in topological_order(root)) for root, _ in kept_alive}
    assert len(orders) == 1


def test_parents_and_local_grads_are_tuples_in_operand_order() -> None:
    a, b = Value(5.0), Value(2.0)
    out = a - b
    assert type(out.parents) is tuple
    assert out.parents[0] is a
    assert out.parents[1] is b
    assert out.local_grads == (1.0, -1.0)


def test_local_grads_follow_the_parents_order() -> None:
    a, b = Value(5.0), Value(2.0)
    out = a / b  # d/da = 1/b, d/db = -a/b**2
    assert type(out.local_grads) is tuple
    assert out.local_grads == (1.0 / 2.0, -5.0 / 4.0)


# --- what a Value stores ----------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (2, 2.0),
        (-7, -7.0),
        (2.5, 2.5),
        (True, 1.0),  # bool is an int in Python
        (Fraction(1, 4), 0.25),
        (np.float64(0.5), 0.5),
        (np.float32(0.25), 0.25),
        (np.int64(3), 3.0),
    ],
    ids=["int", "negative int", "float", "bool", "Fraction", "numpy float64", "numpy float32", "numpy int64"],
)
def test_data_is_stored_as_a_python_float(data: object, expected: float) -> None:
    value = Value(data)
    assert type(value.data) is float
    assert value.data == expected


def test_new_value_has_zero_float_grad_and_keeps_its_label() -> None:
    x = Value(2.0, label="x")
    assert type(x.grad) is float
    assert (x.grad, x.label) == (0.0, "x")


def test_result_of_an_operation_holds_a_python_float() -> None:
    out = Value(2) * 3
    assert type(out.data) is float
    assert out.data == 6.0


def test_data_and_grad_can_be_assigned_like_an_optimizer_does() -> None:
    x = Value(2.0)
    x.grad = 0.5
    x.data -= 0.1 * x.grad
    assert x.data == 2.0 - 0.1 * 0.5


def test_repr_shows_data_grad_and_label() -> None:
    text = repr(Value(2.5, label="weight"))
    assert text.startswith("Value(")
    assert "2.5" in text
    assert "grad=0.0" in text
    assert "weight" in text


def test_repr_of_a_result_shows_its_operation() -> None:
    text = repr(Value(2.0).tanh())
    assert "tanh" in text


def test_value_has_slots_and_no_instance_dict() -> None:
    value = Value(1.0)
    assert hasattr(Value, "__slots__")
    assert not hasattr(value, "__dict__")
    with pytest.raises(AttributeError):
        value.colour = "red"


def _live_values() -> int:
    return sum(1 for obj in gc.get_objects() if type(obj) is Value)


def test_dropped_graph_is_freed_by_reference_counting_alone() -> None:
    # With the cycle collector off, only objects without reference cycles are freed.
    gc.collect()
    before = _live_values()
    gc.disable()
    try:
        a, b = Value(1.5), Value(-2.0)
        loss = _deep_expression(a, b)["loss"]
        loss = (loss.tanh() + loss.sigmoid() * a.exp() - b.relu()) / (a ** Value(2.0) + b**2)
        loss.backward()
        alive_with_graph = _live_values()
        del a, b, loss
        alive_after_drop = _live_values()
    finally:
        gc.enable()
    assert alive_with_graph > before  # the graph really was tracked
    assert alive_after_drop == before


# --- bad input fails at once, with Python's own exception types ---------------------


def _zero_power_minus_one() -> Value:
    return Value(0) ** -1


BAD_INPUTS = [
    pytest.param(lambda: Value("abc"), TypeError, ["Value", "'abc'"], id="Value('abc')"),
    pytest.param(lambda: Value(None), TypeError, ["Value", "None"], id="Value(None)"),
    pytest.param(lambda: Value([1.0]), TypeError, ["Value", "[1.0]"], id="Value([1.0])"),
    pytest.param(lambda: Value(0).log(), ValueError, ["log", "0.0"], id="log(0)"),
    pytest.param(lambda: Value(-1).log(), ValueError, ["log", "-1.0"], id="log(-1)"),
    pytest.param(_zero_power_minus_one, ZeroDivisionError, ["**", "0.0", "-1"], id="0 ** -1"),
    pytest.param(lambda: Value(3) / Value(0), ZeroDivisionError, ["/", "0.0"], id="x / Value(0)"),
    pytest.param(lambda: Value(3) / 0, ZeroDivisionError, ["/", "0.0"], id="x / 0"),
    pytest.param(lambda: 3 / Value(0), ZeroDivisionError, ["/", "0.0"], id="3 / Value(0)"),
    pytest.param(lambda: Value(-8) ** 0.5, ValueError, ["**", "-8.0", "0.5"], id="-8 ** 0.5"),
    pytest.param(lambda: Value(-8) ** Value(2.0), ValueError, ["**", "-8.0"], id="-8 ** Value(2)"),
    pytest.param(lambda: Value(0) ** Value(-1.0), ZeroDivisionError, ["**", "0.0", "-1.0"], id="0 ** Value(-1)"),
    pytest.param(lambda: 0 ** Value(-1.0), ZeroDivisionError, ["**", "0.0", "-1.0"], id="0 ** Value(-1) reflected"),
    pytest.param(lambda: Value(1000).exp(), OverflowError, ["exp", "1000"], id="exp(1000)"),
    pytest.param(lambda: Value(1) + "abc", TypeError, ["+", "'abc'"], id="x + 'abc'"),
    pytest.param(lambda: "abc" + Value(1), TypeError, ["+", "'abc'"], id="'abc' + x"),
    pytest.param(lambda: Value(1) - None, TypeError, ["-", "None"], id="x - None"),
    pytest.param(lambda: None - Value(1), TypeError, ["-", "None"], id="None - x"),
    pytest.param(lambda: Value(1) * "abc", TypeError, ["*", "'abc'"], id="x * 'abc'"),
    pytest.param(lambda: "abc" * Value(1), TypeError, ["*", "'abc'"], id="'abc' * x"),
    pytest.param(lambda: Value(1) / "abc", TypeError, ["/", "'abc'"], id="x / 'abc'"),
    pytest.param(lambda: "abc" / Value(1), TypeError, ["/", "'abc'"], id="'abc' / x"),
    pytest.param(lambda: Value(1) ** "abc", TypeError, ["**", "'abc'"], id="x ** 'abc'"),
    pytest.param(lambda: "abc" ** Value(1), TypeError, ["**", "'abc'"], id="'abc' ** x"),
]


@pytest.mark.parametrize(("operation", "error", "message_parts"), BAD_INPUTS)
def test_bad_input_raises_python_exception_naming_operation_and_value(
    operation: Callable[[], Value], error: type[Exception], message_parts: list[str]
) -> None:
    with pytest.raises(error) as raised:
        operation()
    message = str(raised.value)
    for part in message_parts:
        assert part in message


def _snapshot(root: Value) -> list[tuple]:
    """Everything about the graph under ``root`` that an operation could disturb."""
    return [
        (id(node), node.data, node.grad, tuple(id(p) for p in node.parents), node.local_grads, node.op)
        for node in topological_order(root)
    ]


FAILING_OPERATIONS_ON_A_GRAPH = [
    pytest.param(lambda n: n["zero"].log(), ValueError, id="log(0)"),
    pytest.param(lambda n: n["negative"].log(), ValueError, id="log(negative)"),
    pytest.param(lambda n: n["zero"] ** -1, ZeroDivisionError, id="0 ** -1"),
    pytest.param(lambda n: n["zero"] ** n["negative"], ZeroDivisionError, id="0 ** Value(negative)"),
    pytest.param(lambda n: n["big"] / n["zero"], ZeroDivisionError, id="x / 0"),
    pytest.param(lambda n: n["negative"] ** 0.5, ValueError, id="negative ** 0.5"),
    pytest.param(lambda n: n["negative"] ** n["big"], ValueError, id="negative ** Value"),
    pytest.param(lambda n: n["big"].exp(), OverflowError, id="exp(1000)"),
    pytest.param(lambda n: n["big"] + "abc", TypeError, id="x + 'abc'"),
    pytest.param(lambda n: None * n["big"], TypeError, id="None * x"),
]


@pytest.mark.parametrize(("operation", "error"), FAILING_OPERATIONS_ON_A_GRAPH)
def test_failed_operation_leaves_graph_and_grads_unchanged(
    operation: Callable[[dict[str, Value]], Value], error: type[Exception]
) -> None:
    a, b, zero = Value(2.0), Value(500.0), Value(0.0)
    nodes = {"big": a * b, "negative": -a, "zero": zero}  # 1000, -2, 0
    loss = nodes["big"] * nodes["negative"] + nodes["zero"] * a
    loss.backward()
    before = _snapshot(loss)
    with pytest.raises(error):
        operation(nodes)
    assert _snapshot(loss) == before
    # and the graph still differentiates as before: dL/da = -2ab + zero, added again
    loss.backward()
    assert a.grad == 2 * (-2 * 2.0 * 500.0 + 0.0)


# --- extreme magnitudes ---------------------------------------------------------------
# A result that fits in a float must be computed even when a local derivative
# does not; that derivative then rounds to +-inf, as in PyTorch. A result that
# itself does not fit follows Python's floats: `exp` and `**` raise
# OverflowError naming the operation (as math.exp and float ** do), while
# `+ - * /` give inf (as float arithmetic does; see test_engine_non_finite.py).

TINY = 1e-200  # nonzero, but TINY**2 = 1e-400 underflows to 0.0 and 1 / TINY**2 overflows


def test_division_by_tiny_nonzero_divisor_gives_the_quotient() -> None:
    a, b = Value(1.0), Value(TINY)
    out = a / b
    assert out.data == 1.0 / TINY  # 1e200, a finite float
    out.backward()
    assert a.grad == 1.0 / TINY  # d/da = 1/b
    assert b.grad == -math.inf  # d/db = -a/b**2 = -1e400, below the most negative float


def test_negative_power_of_tiny_base_gives_the_power() -> None:
    x = Value(TINY)
    out = x**-1
    assert out.data == pytest.approx(1.0 / TINY, rel=1e-15)
    out.backward()
    assert x.grad == -math.inf  # -1 * x**-2 = -1e400


def test_value_exponent_power_of_tiny_base_gives_the_power() -> None:
    x, y = Value(TINY), Value(-1.0)
    out = x**y
    assert out.data == pytest.approx(1.0 / TINY, rel=1e-15)
    out.backward()
    assert x.grad == -math.inf  # y * x**(y-1) = -1e400
    assert y.grad == pytest.approx(math.log(TINY) / TINY, rel=1e-12)  # x**y * log(x), finite


@pytest.mark.parametrize(
    ("operation", "message_parts"),
    [
        pytest.param(lambda: Value(2.0) ** 2000, ["**", "2.0", "2000"], id="Value(2) ** 2000"),
        pytest.param(lambda: 2 ** Value(2000.0), ["**", "2.0", "2000.0"], id="2 ** Value(2000)"),
        pytest.param(lambda: Value(TINY) ** -2, ["**", "1e-200", "-2"], id="Value(1e-200) ** -2"),
    ],
)
def test_power_that_overflows_raises_overflow_error_naming_operation_and_value(
    operation: Callable[[], Value], message_parts: list[str]
) -> None:
    with pytest.raises(OverflowError) as raised:
        operation()
    for part in message_parts:
        assert part in str(raised.value)


# --- arguments of the wrong kind are named ------------------------------------------

ARRAY_OPERATIONS = [
    pytest.param(lambda a, v: a + v, id="+"),
    pytest.param(lambda a, v: a - v, id="-"),
    pytest.param(lambda a, v: a * v, id="*"),
    pytest.param(lambda a, v: a / v, id="/"),
    pytest.param(lambda a, v: a**v, id="**"),
]


@pytest.mark.parametrize("operation", ARRAY_OPERATIONS)
def test_a_numpy_array_is_refused_on_either_side_alike(operation: Callable) -> None:
    array, value = np.array([1.0, 2.0]), Value(3.0)
    for left, right in [(array, value), (value, array)]:
        with pytest.raises(TypeError, match="a Value holds one number"):
            operation(left, right)


def test_a_numpy_scalar_on_the_left_hands_over_to_value() -> None:
    out = np.float64(2.0) * Value(3.0)
    assert isinstance(out, Value) and out.data == 6.0


def test_dot_names_a_bias_or_weight_that_is_not_a_value() -> None:
    with pytest.raises(TypeError, match=r"Value.dot: weights\[1\] must be a Value"):
        Value.dot([Value(1.0), 2.0], [1.0, 1.0], Value(0.0))
    with pytest.raises(TypeError, match="Value.dot: bias must be a Value"):
        Value.dot([Value(1.0)], [1.0], 0.5)


def test_an_int_too_large_for_a_float_is_named() -> None:
    with pytest.raises(OverflowError, match=r"Value\(\): a number of 401 digits is too large for a float"):
        Value(10**400)


def test_a_label_must_be_text() -> None:
    with pytest.raises(TypeError, match=r"Value\(label=5\): label must be text"):
        Value(1.0, label=5)


def test_zero_to_the_zero_is_one_whichever_side_is_a_value(torch) -> None:
    base, exponent = Value(0.0), Value(0.0)
    out = base**exponent
    out.backward()
    assert (out.data, (Value(0.0) ** 0).data, (0 ** Value(0.0)).data) == (1.0, 1.0, 1.0)
    x = torch.tensor(0.0, requires_grad=True)
    y = torch.tensor(0.0, requires_grad=True)
    torch.pow(x, y).backward()
    assert (base.grad, exponent.grad) == (x.grad.item(), y.grad.item()) == (0.0, 0.0)


def test_the_value_docstring_says_a_graph_records_one_computation() -> None:
    # assigning .data inside a built graph does not update its recorded local derivatives
    x = Value(2.0)
    y = x * x
    x.data = 5.0
    y.backward()
    assert x.grad == 4.0  # 2 * the old x: the graph is a record of the computation that was made
    assert "Build the graph" in Value.__doc__ and "again after changing data" in Value.__doc__
