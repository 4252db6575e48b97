"""NaN and infinity in the engine: they propagate as IEEE floats, and backward names where they began.

A NaN that an operation quietly turns into a number hides a broken input or a
diverging network; so every operation passes NaN on (as PyTorch does), in the
scalar engine and in the batched replay alike, and ``backward`` refuses a root
that is not finite, naming the first node of the graph that stopped being finite.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest

from engine import Value
from engine.batch import record
from engine.value import explain_non_finite, first_non_finite
from nn import hinge

NAN = math.nan

# Every operation with NaN as one of its operands; the other operand is an ordinary number.
NAN_OPERATIONS: list = [
    pytest.param(lambda x: x + 1.0, id="x + 1"),
    pytest.param(lambda x: 1.0 - x, id="1 - x"),
    pytest.param(lambda x: x * 2.0, id="x * 2"),
    pytest.param(lambda x: x / 2.0, id="x / 2"),
    pytest.param(lambda x: 2.0 / x, id="2 / x"),
    pytest.param(lambda x: -x, id="-x"),
    pytest.param(lambda x: x**2, id="x ** 2"),
    pytest.param(lambda x: x**0.5, id="x ** 0.5"),
    pytest.param(lambda x: x ** Value(2.0), id="x ** Value(2)"),
    pytest.param(lambda x: 2.0**x, id="2 ** x"),
    pytest.param(lambda x: x.exp(), id="exp"),
    pytest.param(lambda x: x.log(), id="log"),
    pytest.param(lambda x: x.tanh(), id="tanh"),
    pytest.param(lambda x: x.relu(), id="relu"),
    pytest.param(lambda x: x.sigmoid(), id="sigmoid"),
    pytest.param(lambda x: Value.sum([x, 1.0, 2.0]), id="sum"),
    pytest.param(lambda x: Value.max([1.0, x, 2.0]), id="max"),
    pytest.param(lambda x: Value.dot([Value(2.0)], [x], Value(1.0)), id="dot (input)"),
]


@pytest.mark.parametrize("operation", NAN_OPERATIONS)
def test_nan_propagates_through_every_operation(operation: Callable[[Value], Value]) -> None:
    assert math.isnan(operation(Value(NAN)).data)


@pytest.mark.parametrize("operation", NAN_OPERATIONS)
def test_nan_propagates_through_every_operation_in_the_batched_replay(operation: Callable[[Value], Value]) -> None:
    recording = record(operation, [1.0])
    (out,) = recording.forward([np.array([NAN, 1.0])])
    assert math.isnan(out[0])
    assert out[1] == operation(Value(1.0)).data  # the sample beside it is untouched


@pytest.mark.parametrize("name", ["relu", "exp", "log", "tanh", "sigmoid"])
def test_nan_through_an_activation_agrees_with_pytorch(torch, name: str) -> None:
    ours = getattr(Value(NAN), name)().data
    theirs = getattr(torch, name)(torch.tensor(NAN)).item()
    assert math.isnan(ours) and math.isnan(theirs)


def test_relu_of_nan_passes_the_gradient_on_as_pytorch_does(torch) -> None:
    # d relu / dx is 0 only where x <= 0, a test NaN fails; PyTorch's threshold_backward agrees
    x = torch.tensor(NAN, requires_grad=True)
    torch.relu(x).backward()
    assert Value(NAN).relu().local_grads == (x.grad.item(),) == (1.0,)


def test_hinge_of_a_nan_score_is_nan() -> None:
    assert math.isnan(hinge(Value(NAN), 1.0).data)


def test_overflowing_arithmetic_gives_infinity_as_python_floats_do() -> None:
    assert (Value(1e308) * 10).data == math.inf == 1e308 * 10
    assert (Value(-1e308) - 1e308).data == -math.inf
    assert (Value(1e308) + 1e308).data == math.inf
    assert (Value(1e308) / 1e-10).data == math.inf


def test_exp_overflow_names_the_operand_and_where_it_sits() -> None:
    with pytest.raises(OverflowError, match=r"exp\(712\.4\) at L2\.N3 overflows"):
        Value(712.4, label="L2.N3").exp()


# --- backward refuses a root that is not finite -------------------------------------


def test_backward_on_a_nan_root_raises_and_writes_no_gradient() -> None:
    a, b = Value(1e308, label="a"), Value(10.0, label="w")
    product = a * b  # inf
    root = (product - product) * Value(2.0)  # inf - inf = nan
    with pytest.raises(FloatingPointError) as raised:
        root.backward()
    message = str(raised.value)
    assert "the root is nan" in message
    assert "1e+308 * 10.0 on a, w overflowed to inf" in message  # the operation, its operands, its labels
    assert (a.grad, b.grad, product.grad, root.grad) == (0.0, 0.0, 0.0, 0.0)


def test_backward_on_an_infinite_root_raises() -> None:
    x = Value(1e200, label="x")
    with pytest.raises(FloatingPointError, match=r"1e\+200 \*\*2 on x overflowed|1e\+200 \* 1e\+200"):
        (x * x).backward()


def test_the_first_non_finite_node_is_where_the_trouble_began() -> None:
    x = Value(NAN, label="x")
    later = (x.relu() + 1.0).tanh()
    assert first_non_finite(later) is x
    assert explain_non_finite(later) == "the leaf x is nan"
    assert first_non_finite(Value(1.0) + 2.0) is None


def test_a_finite_root_backpropagates_even_through_infinite_intermediates() -> None:
    x = Value(1e308)
    root = (x * 10).tanh()  # tanh(inf) = 1.0: finite, as in PyTorch
    root.backward()
    assert root.data == 1.0
    assert x.grad == 0.0  # 1 - tanh(inf)**2 = 0


# --- the batched replay names the node and the sample --------------------------------


def test_batched_overflow_names_the_sample_and_the_operation() -> None:
    w = Value(1.0, label="w")
    recording = record(lambda x: (x * w).exp(), [0.0])
    with pytest.raises(OverflowError, match=r"sample 1: exp\(800\.0\): the result overflows a float"):
        recording.forward([np.array([1.0, 800.0, 900.0])])


def test_batched_log_of_a_negative_number_names_the_sample() -> None:
    recording = record(lambda x: (x * 2.0).log(), [1.0])
    with pytest.raises(ValueError, match=r"sample 2: log\(-4\.0\): the natural log needs a positive number"):
        recording.forward([np.array([1.0, 2.0, -2.0])])


def test_batched_replay_explains_its_first_non_finite_value() -> None:
    w = Value(1e308, label="w")
    recording = record(lambda x: (x * w) * 10.0 + 1.0, [1.0])
    (out,) = recording.forward([np.array([1e-300, 1.0])])
    assert out[1] == math.inf
    assert recording.explain_non_finite() == "sample 1: 1e+308 * 10.0 overflowed to inf"
