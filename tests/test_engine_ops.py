"""Every operation of ``engine.Value``: its forward value and its gradient.

Each gradient is checked three ways: against the derivative written out by
hand, against central finite differences, and against PyTorch (float64) where
it is installed. The ``build`` functions use only operators and methods that
Value and torch tensors share, so one table drives all of the checks.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import pytest

from engine import Value
from tests.helpers import central_difference

NAN_VALUE = float("nan")

# Central differences with h = 1e-6 are good to about 1e-9 here (see helpers.py).
FINITE_DIFFERENCE = {"rel": 1e-6, "abs": 1e-8}
# The engine and PyTorch evaluate the same float64 formulas, up to rounding.
SAME_FORMULA = {"rel": 1e-12, "abs": 1e-300}


class UnaryCase(NamedTuple):
    name: str
    build: Callable  # Value -> Value (and tensor -> tensor)
    forward: Callable[[float], float]  # the same function, in plain math
    derivative: Callable[[float], float]  # its derivative, written out by hand
    points: tuple[float, ...]


class BinaryCase(NamedTuple):
    name: str
    build: Callable  # (Value, Value) -> Value
    forward: Callable[[float, float], float]
    d_first: Callable[[float, float], float]
    d_second: Callable[[float, float], float]
    points: tuple[tuple[float, float], ...]


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


UNARY_CASES = [
    UnaryCase("neg", lambda x: -x, lambda x: -x, lambda x: -1.0, (-2.5, 0.0, 3.0)),
    UnaryCase("exp", lambda x: x.exp(), math.exp, math.exp, (-3.0, 0.0, 0.5, 2.0)),
    UnaryCase("log", lambda x: x.log(), math.log, lambda x: 1.0 / x, (0.1, 1.0, 2.5, 10.0)),
    UnaryCase(
        "tanh", lambda x: x.tanh(), math.tanh, lambda x: 1.0 / math.cosh(x) ** 2, (-2.0, -0.3, 0.0, 0.7, 3.0)
    ),
    UnaryCase(
        "relu", lambda x: x.relu(), lambda x: max(x, 0.0), lambda x: 1.0 if x > 0 else 0.0, (-2.0, -0.5, 0.5, 3.0)
    ),
    UnaryCase(
        "sigmoid",
        lambda x: x.sigmoid(),
        _sigmoid,
        lambda x: math.exp(-x) / (1.0 + math.exp(-x)) ** 2,
        (-4.0, -0.5, 0.0, 0.5, 4.0),
    ),
    UnaryCase("x**2", lambda x: x**2, lambda x: x * x, lambda x: 2.0 * x, (-1.5, 0.0, 1.5)),
    UnaryCase("x**3", lambda x: x**3, lambda x: x * x * x, lambda x: 3.0 * x * x, (-2.0, -0.5, 0.5, 2.0)),
    UnaryCase("x**-1", lambda x: x**-1, lambda x: 1.0 / x, lambda x: -1.0 / (x * x), (-2.0, -0.5, 0.5, 2.0)),
    UnaryCase(
        "x**-2", lambda x: x**-2, lambda x: 1.0 / (x * x), lambda x: -2.0 / (x * x * x), (-2.0, -0.5, 0.5, 2.0)
    ),
    UnaryCase("x**0.5", lambda x: x**0.5, math.sqrt, lambda x: 0.5 / math.sqrt(x), (0.25, 1.0, 4.0)),
    UnaryCase(
        "x**-0.5",
        lambda x: x**-0.5,
        lambda x: 1.0 / math.sqrt(x),
        lambda x: -0.5 / (x * math.sqrt(x)),
        (0.25, 1.0, 4.0),
    ),
    UnaryCase("x + 2", lambda x: x + 2, lambda x: x + 2.0, lambda x: 1.0, (-1.0, 0.0, 2.5)),
    UnaryCase("2 + x", lambda x: 2 + x, lambda x: 2.0 + x, lambda x: 1.0, (-1.0, 0.0, 2.5)),
    UnaryCase("x - 2", lambda x: x - 2, lambda x: x - 2.0, lambda x: 1.0, (-1.0, 0.0, 2.5)),
    UnaryCase("2 - x", lambda x: 2 - x, lambda x: 2.0 - x, lambda x: -1.0, (-1.0, 0.0, 2.5)),
    UnaryCase("x * 2", lambda x: x * 2, lambda x: x * 2.0, lambda x: 2.0, (-1.0, 0.0, 2.5)),
    UnaryCase("2 * x", lambda x: 2 * x, lambda x: 2.0 * x, lambda x: 2.0, (-1.0, 0.0, 2.5)),
    UnaryCase("x / 2", lambda x: x / 2, lambda x: x / 2.0, lambda x: 0.5, (-1.0, 0.0, 2.5)),
    UnaryCase("2 / x", lambda x: 2 / x, lambda x: 2.0 / x, lambda x: -2.0 / (x * x), (-1.0, 0.5, 2.5)),
    UnaryCase(
        "2 ** x", lambda x: 2**x, lambda x: math.pow(2.0, x), lambda x: math.pow(2.0, x) * math.log(2.0),
        (-1.5, 0.0, 0.5, 3.0),
    ),
]

BINARY_CASES = [
    BinaryCase("a + b", lambda a, b: a + b, lambda a, b: a + b, lambda a, b: 1.0, lambda a, b: 1.0,
               ((1.5, -2.0), (0.0, 3.0))),
    BinaryCase("a - b", lambda a, b: a - b, lambda a, b: a - b, lambda a, b: 1.0, lambda a, b: -1.0,
               ((1.5, -2.0), (0.0, 3.0))),
    BinaryCase("a * b", lambda a, b: a * b, lambda a, b: a * b, lambda a, b: b, lambda a, b: a,
               ((1.5, -2.0), (0.0, 3.0), (-0.7, -0.4))),
    BinaryCase("a / b", lambda a, b: a / b, lambda a, b: a / b, lambda a, b: 1.0 / b, lambda a, b: -a / (b * b),
               ((1.5, -2.0), (0.0, 3.0), (-0.7, 0.4))),
    BinaryCase("a ** b", lambda a, b: a**b, math.pow,
               lambda a, b: b * math.pow(a, b - 1.0), lambda a, b: math.pow(a, b) * math.log(a),
               ((1.5, -2.0), (2.0, 3.0), (0.5, 0.5), (3.0, -0.5))),
]

UNARY_POINTS = [
    pytest.param(case, x, id=f"{case.name} at {x}") for case in UNARY_CASES for x in case.points
]
BINARY_POINTS = [
    pytest.param(case, a, b, id=f"{case.name} at a={a}, b={b}") for case in BINARY_CASES for a, b in case.points
]


def _gradient(build: Callable, x: float) -> tuple[float, float]:
    """The forward value of ``build`` at x and d build / dx, by the engine."""
    leaf = Value(x)
    out = build(leaf)
    out.backward()
    return out.data, leaf.grad


def _gradients(build: Callable, a: float, b: float) -> tuple[float, float, float]:
    first, second = Value(a), Value(b)
    out = build(first, second)
    out.backward()
    return out.data, first.grad, second.grad


# --- one operand -------------------------------------------------------------


@pytest.mark.parametrize(("case", "x"), UNARY_POINTS)
def test_forward_value_matches_math(case: UnaryCase, x: float) -> None:
    assert case.build(Value(x)).data == pytest.approx(case.forward(x), rel=1e-14, abs=1e-300)


@pytest.mark.parametrize(("case", "x"), UNARY_POINTS)
def test_gradient_matches_derivative_by_hand(case: UnaryCase, x: float) -> None:
    _, grad = _gradient(case.build, x)
    assert grad == pytest.approx(case.derivative(x), rel=1e-12, abs=1e-300)


@pytest.mark.parametrize(("case", "x"), UNARY_POINTS)
def test_gradient_matches_central_difference(case: UnaryCase, x: float) -> None:
    _, grad = _gradient(case.build, x)
    estimate = central_difference(lambda xs: case.build(Value(xs[0])).data, [x], 0)
    assert grad == pytest.approx(estimate, **FINITE_DIFFERENCE)


@pytest.mark.parametrize(("case", "x"), UNARY_POINTS)
def test_forward_and_gradient_match_torch(torch, case: UnaryCase, x: float) -> None:
    _assert_matches_torch(torch, case.build, x)


# --- two Value operands --------------------------------------------------------


@pytest.mark.parametrize(("case", "a", "b"), BINARY_POINTS)
def test_two_operand_forward_value_matches_math(case: BinaryCase, a: float, b: float) -> None:
    assert case.build(Value(a), Value(b)).data == pytest.approx(case.forward(a, b), rel=1e-14, abs=1e-300)


@pytest.mark.parametrize(("case", "a", "b"), BINARY_POINTS)
def test_gradient_for_each_operand_matches_derivative_by_hand(case: BinaryCase, a: float, b: float) -> None:
    _, d_first, d_second = _gradients(case.build, a, b)
    assert d_first == pytest.approx(case.d_first(a, b), rel=1e-12, abs=1e-300)
    assert d_second == pytest.approx(case.d_second(a, b), rel=1e-12, abs=1e-300)


@pytest.mark.parametrize(("case", "a", "b"), BINARY_POINTS)
def test_gradient_for_each_operand_matches_central_difference(case: BinaryCase, a: float, b: float) -> None:
    _, d_first, d_second = _gradients(case.build, a, b)

    def f(xs: list[float]) -> float:
        return case.build(Value(xs[0]), Value(xs[1])).data

    assert d_first == pytest.approx(central_difference(f, [a, b], 0), **FINITE_DIFFERENCE)
    assert d_second == pytest.approx(central_difference(f, [a, b], 1), **FINITE_DIFFERENCE)


@pytest.mark.parametrize(("case", "a", "b"), BINARY_POINTS)
def test_two_operand_forward_and_gradients_match_torch(torch, case: BinaryCase, a: float, b: float) -> None:
    first, second = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (a, b))
    expected = case.build(first, second)
    expected.backward()
    value, d_first, d_second = _gradients(case.build, a, b)
    assert value == pytest.approx(expected.item(), **SAME_FORMULA)
    assert d_first == pytest.approx(first.grad.item(), **SAME_FORMULA)
    assert d_second == pytest.approx(second.grad.item(), **SAME_FORMULA)


# --- edges ---------------------------------------------------------------------


def test_relu_gradient_at_zero_is_zero_like_pytorch() -> None:
    value, grad = _gradient(lambda x: x.relu(), 0.0)
    assert (value, grad) == (0.0, 0.0)


@pytest.mark.parametrize("x", [-1e-9, -3.0, -1e6])
def test_relu_of_negative_input_is_zero_and_passes_no_gradient(x: float) -> None:
    value, grad = _gradient(lambda x: x.relu(), x)
    assert (value, grad) == (0.0, 0.0)


def _tanh_slope(x: float) -> float:
    """1 - tanh(x)**2 = 4 e**(-2|x|) / (1 + e**(-2|x|))**2, a form that cannot overflow."""
    small = math.exp(-2.0 * abs(x))
    return 4.0 * small / (1.0 + small) ** 2


@pytest.mark.parametrize("x", [20.0, -20.0, 1000.0, -1000.0])
def test_tanh_saturates_at_large_inputs_without_overflow(x: float) -> None:
    value, grad = _gradient(lambda x: x.tanh(), x)
    assert value == pytest.approx(math.copysign(1.0, x), rel=0, abs=1e-15)
    # The true slope is 1.7e-17 at |x| = 20; 1 - tanh**2 rounds it to about 0.
    assert grad == pytest.approx(_tanh_slope(x), rel=0, abs=1e-16)
    assert grad >= 0.0


@pytest.mark.parametrize("x", [20.0, -20.0, 1000.0, -1000.0])
def test_sigmoid_saturates_at_large_inputs_without_overflow(x: float) -> None:
    value, grad = _gradient(lambda x: x.sigmoid(), x)
    small = math.exp(-abs(x))  # e**-|x|: 2e-9 at |x| = 20, 0.0 at |x| = 1000
    expected_value = 1.0 / (1.0 + small) if x > 0 else small / (1.0 + small)
    assert value == pytest.approx(expected_value, rel=1e-15, abs=1e-300)
    # s * (1 - s) = e**-|x| / (1 + e**-|x|)**2; for x = +20, 1 - s keeps ~8 good digits.
    assert grad == pytest.approx(small / (1.0 + small) ** 2, rel=1e-6, abs=1e-300)


def test_exp_of_very_negative_input_underflows_to_zero_without_error() -> None:
    assert _gradient(lambda x: x.exp(), -1000.0) == (0.0, 0.0)


@pytest.mark.parametrize(
    ("exponent", "expected_value", "expected_grad"),
    [
        (0, 1.0, 0.0),  # x**0 = 1 is flat
        (1, 0.0, 1.0),  # x**1 = x has slope 1
        (2, 0.0, 0.0),  # 2 * 0
        (3, 0.0, 0.0),  # 3 * 0**2
        (0.5, 0.0, math.inf),  # sqrt is vertical at 0: 0.5 / sqrt(0), as PyTorch says
    ],
)
def test_power_of_zero_has_the_limit_slope(exponent: float, expected_value: float, expected_grad: float) -> None:
    assert _gradient(lambda x: x**exponent, 0.0) == (expected_value, expected_grad)


def test_value_power_at_zero_base_has_zero_slope_in_both_operands() -> None:
    # 0**y = 0 for every y > 0, so d/dy is 0; d/dx = y * 0**(y-1) = 0 for y = 2.
    assert _gradients(lambda a, b: a**b, 0.0, 2.0) == (0.0, 0.0, 0.0)


TORCH_EDGES = [
    pytest.param(lambda x: x.relu(), 0.0, id="relu at 0"),
    *(pytest.param(lambda x: x.tanh(), x, id=f"tanh at {x}") for x in (20.0, -20.0, 1000.0, -1000.0)),
    *(pytest.param(lambda x: x.sigmoid(), x, id=f"sigmoid at {x}") for x in (20.0, -20.0, 1000.0, -1000.0)),
    pytest.param(lambda x: x.exp(), -1000.0, id="exp at -1000"),
    *(pytest.param(lambda x, n=n: x**n, 0.0, id=f"x**{n} at 0") for n in (0, 1, 2, 3, 0.5)),
]


@pytest.mark.parametrize(("build", "x"), TORCH_EDGES)
def test_edge_forward_and_gradient_match_torch(torch, build: Callable, x: float) -> None:
    _assert_matches_torch(torch, build, x)


def test_value_power_at_zero_base_matches_torch(torch) -> None:
    first, second = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (0.0, 2.0))
    expected = first**second
    expected.backward()
    assert _gradients(lambda a, b: a**b, 0.0, 2.0) == (expected.item(), first.grad.item(), second.grad.item())


def _assert_matches_torch(torch, build: Callable, x: float) -> None:
    tensor = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    expected = build(tensor)
    expected.backward()
    value, grad = _gradient(build, x)
    assert value == pytest.approx(expected.item(), **SAME_FORMULA)
    assert grad == pytest.approx(tensor.grad.item(), **SAME_FORMULA)


# --- the graph an operation records ------------------------------------------------


@pytest.mark.parametrize(
    ("build", "symbol"),
    [
        (lambda a, b: a + b, "+"),
        (lambda a, b: a - b, "-"),
        (lambda a, b: a * b, "*"),
        (lambda a, b: a / b, "/"),
        (lambda a, b: a**b, "**"),
        (lambda a, b: -a, "neg"),
        (lambda a, b: a.exp(), "exp"),
        (lambda a, b: a.log(), "log"),
        (lambda a, b: a.tanh(), "tanh"),
        (lambda a, b: a.relu(), "relu"),
        (lambda a, b: a.sigmoid(), "sigmoid"),
    ],
)
def test_result_records_the_operation_symbol(build: Callable, symbol: str) -> None:
    assert build(Value(2.0), Value(3.0)).op == symbol


@pytest.mark.parametrize(
    "build",
    [
        lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a * b, lambda a, b: a / b, lambda a, b: a**b,
        lambda a, b: a**2, lambda a, b: -a, lambda a, b: a.exp(), lambda a, b: a.log(), lambda a, b: a.tanh(),
        lambda a, b: a.relu(), lambda a, b: a.sigmoid(), lambda a, b: Value.sum([a, b]),
        lambda a, b: Value.dot([a], [b], a), lambda a, b: 2 + a, lambda a, b: 2 - a, lambda a, b: 2 * a,
        lambda a, b: 2 / a, lambda a, b: 2**a,
    ],
    ids=["+", "-", "*", "/", "**", "**2", "neg", "exp", "log", "tanh", "relu", "sigmoid", "sum", "dot",
         "2 + a", "2 - a", "2 * a", "2 / a", "2 ** a"],
)
def test_result_is_a_value_like_any_other(build: Callable) -> None:
    # Operations build their results without Value(); nothing about them may show it.
    out = build(Value(2.0), Value(3.0))
    assert type(out) is Value
    assert (type(out.data), type(out.grad), out.grad, out.label) == (float, float, 0.0, "")
    assert type(out.parents) is tuple and type(out.local_grads) is tuple
    assert len(out.parents) == len(out.local_grads) > 0
    assert all(type(parent.data) is float for parent in out.parents)
    out.label = "named"
    assert out.label == "named"


@pytest.mark.parametrize("exponent, symbol", [(3, "**3"), (3.0, "**3.0"), (0.5, "**0.5"), (-1, "**-1"),
                                              (True, "**1.0"), (np.int64(3), "**3.0")])
def test_number_exponent_is_shown_in_the_power_symbol(exponent: object, symbol: str) -> None:
    # the same symbol the first time and every time after (symbols are kept once made)
    assert [(Value(2.0) ** exponent).op for _ in range(2)] == [symbol, symbol]


def test_a_thousand_different_exponents_each_get_their_own_symbol() -> None:
    ops = {(Value(2.0) ** (1.0 + i / 1000)).op for i in range(1000)}
    assert len(ops) == 1000


def test_leaf_has_empty_op_and_no_parents() -> None:
    leaf = Value(2.0)
    assert (leaf.op, leaf.parents, leaf.local_grads) == ("", (), ())


def test_number_exponent_is_not_a_parent() -> None:
    x = Value(2.0)
    assert (x**3).parents == (x,)


@pytest.mark.parametrize(
    ("build", "number_first"),
    [
        (lambda x: x + 2, False),
        (lambda x: 2 + x, True),
        (lambda x: x - 2, False),
        (lambda x: 2 - x, True),
        (lambda x: x * 2, False),
        (lambda x: 2 * x, True),
        (lambda x: x / 2, False),
        (lambda x: 2 / x, True),
        (lambda x: x ** Value(2), False),
        (lambda x: 2**x, True),
    ],
)
def test_number_operand_becomes_a_leaf_in_its_place(build: Callable, number_first: bool) -> None:
    x = Value(1.5)
    out = build(x)
    assert len(out.parents) == 2
    constant, variable = out.parents if number_first else reversed(out.parents)
    assert variable is x
    assert (constant.data, constant.op, constant.parents) == (2.0, "", ())
    assert type(constant.data) is float


def test_reflected_subtraction_keeps_operand_order() -> None:
    # 2 - x, not x - 2: the gradient of x is -1 and the value is 2 - 0.5
    assert _gradient(lambda x: 2 - x, 0.5) == (1.5, -1.0)


# --- nodes with many parents: Value.sum and Value.dot ---------------------------------


def test_sum_adds_its_terms_left_to_right() -> None:
    terms = [Value(0.1), Value(0.2), 0.3]
    assert Value.sum(terms).data == (0.1 + 0.2) + 0.3


def test_sum_is_one_node_whose_parents_are_the_terms_in_order() -> None:
    a, b = Value(1.0), Value(2.0)
    out = Value.sum([a, 3, b])
    assert out.op == "sum"
    assert len(out.parents) == 3
    assert out.parents[0] is a
    assert out.parents[2] is b
    assert (out.parents[1].data, out.parents[1].op) == (3.0, "")


def test_sum_gives_every_term_gradient_one_and_repeats_add_up() -> None:
    a, b = Value(1.0), Value(2.0)
    Value.sum([a, b, a, a]).backward()
    assert (a.grad, b.grad) == (3.0, 1.0)


def test_sum_of_nothing_raises_value_error() -> None:
    with pytest.raises(ValueError, match="sum"):
        Value.sum([])


def test_sum_of_a_non_number_raises_type_error_naming_it() -> None:
    with pytest.raises(TypeError, match="'abc'"):
        Value.sum([Value(1.0), "abc"])


def test_max_is_one_node_whose_gradient_goes_to_the_largest_value() -> None:
    a, b, c = Value(1.0), Value(3.0), Value(-2.0)
    out = Value.max([a, b, 2, c])
    assert (out.data, out.op, len(out.parents)) == (3.0, "max", 4)
    out.backward()
    assert (a.grad, b.grad, c.grad) == (0.0, 1.0, 0.0)


@pytest.mark.parametrize("values", [[0.3, -1.2, 0.9], [2.0, 1.5], [-0.5, -0.7, -0.1, -3.0]])
def test_max_gradient_matches_central_differences(values: list[float]) -> None:
    leaves = [Value(x) for x in values]
    (Value.max(leaves) * Value.max(leaves)).backward()
    for i, leaf in enumerate(leaves):
        expected = central_difference(lambda xs: max(xs) ** 2, values, i)
        assert math.isclose(leaf.grad, expected, rel_tol=1e-6, abs_tol=1e-9)


def test_max_shares_the_gradient_among_ties_as_pytorch_does(torch) -> None:
    values = [1.0, 3.0, 3.0, 2.0]
    leaves = [Value(x) for x in values]
    Value.max(leaves).backward()
    tensor = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    tensor.max().backward()
    assert [leaf.grad for leaf in leaves] == tensor.grad.tolist() == [0.0, 0.5, 0.5, 0.0]


def test_max_with_a_nan_is_nan_wherever_the_nan_sits() -> None:
    for values in ([NAN_VALUE, 1.0], [1.0, NAN_VALUE]):
        out = Value.max(values)
        assert math.isnan(out.data)
        assert out.local_grads == tuple(1.0 if math.isnan(x) else 0.0 for x in values)


def test_max_of_nothing_or_of_a_non_number_raises() -> None:
    with pytest.raises(ValueError, match="max"):
        Value.max([])
    with pytest.raises(TypeError, match="'abc'"):
        Value.max([Value(1.0), "abc"])


def test_dot_is_bias_plus_weighted_sum() -> None:
    weights, inputs, bias = [Value(0.5), Value(-2.0)], [Value(4.0), 3.0], Value(0.25)
    out = Value.dot(weights, inputs, bias)
    assert out.data == 0.25 + 0.5 * 4.0 + -2.0 * 3.0
    assert out.op == "dot"


def test_dot_gradients_are_inputs_for_weights_and_weights_for_inputs() -> None:
    w1, w2, x1, x2, bias = Value(0.5), Value(-2.0), Value(4.0), Value(3.0), Value(0.25)
    Value.dot([w1, w2], [x1, x2], bias).backward()
    assert (bias.grad, w1.grad, w2.grad, x1.grad, x2.grad) == (1.0, 4.0, 3.0, 0.5, -2.0)


def test_dot_with_a_node_in_several_places_sums_its_paths() -> None:
    w, x, bias = Value(1.5), Value(-0.5), Value(0.0)
    Value.dot([w, w], [w, x], bias).backward()  # b + w*w + w*x: d/dw = 2w + x
    assert w.grad == 2 * 1.5 + -0.5


def test_dot_gradients_match_central_differences() -> None:
    point = [0.3, -1.2, 0.7, 2.2, -0.4]  # w1, w2, x1, x2, b

    def f(xs: list[float]) -> Value:
        w1, w2, x1, x2, bias = (Value(v) for v in xs)
        return Value.dot([w1, w2], [x1, x2], bias)

    leaves = [Value(v) for v in point]
    Value.dot(leaves[0:2], leaves[2:4], leaves[4]).backward()
    for i, leaf in enumerate(leaves):
        assert leaf.grad == pytest.approx(central_difference(lambda xs: f(xs).data, point, i), **FINITE_DIFFERENCE)


def test_dot_matches_torch(torch) -> None:
    point = [0.3, -1.2, 0.7, 2.2, -0.4]  # w1, w2, x1, x2, b
    tensors = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in point]
    expected = tensors[4] + tensors[0] * tensors[2] + tensors[1] * tensors[3]
    expected.backward()
    leaves = [Value(v) for v in point]
    out = Value.dot(leaves[0:2], leaves[2:4], leaves[4])
    out.backward()
    assert out.data == pytest.approx(expected.item(), **SAME_FORMULA)
    for leaf, tensor in zip(leaves, tensors):
        assert leaf.grad == pytest.approx(tensor.grad.item(), **SAME_FORMULA)


def test_dot_with_mismatched_lengths_raises_value_error_with_both_lengths() -> None:
    with pytest.raises(ValueError) as raised:
        Value.dot([Value(1.0), Value(2.0)], [Value(3.0)], Value(0.0))
    assert "dot" in str(raised.value)
    assert "2 weights" in str(raised.value)


@pytest.mark.parametrize(
    ("build", "expected"),
    [
        (lambda x: np.float64(2.0) + x, 2.0 + 3.0),
        (lambda x: np.float64(2.0) - x, 2.0 - 3.0),
        (lambda x: np.float64(2.0) * x, 2.0 * 3.0),
        (lambda x: np.float64(2.0) / x, 2.0 / 3.0),
        (lambda x: np.float64(2.0) ** x, 2.0**3.0),
    ],
    ids=["+", "-", "*", "/", "**"],
)
def test_numpy_float_on_the_left_gives_a_value(build: Callable, expected: float) -> None:
    # np.float64 is a float subclass, and numpy data meets Values in nn
    out = build(Value(3.0))
    assert type(out) is Value
    assert out.data == pytest.approx(expected, rel=1e-15)
