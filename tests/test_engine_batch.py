"""engine.batch: replaying a recorded graph over a batch equals the scalar engine, sample by sample."""

import math

import numpy as np
import pytest

from engine import Value
from engine.batch import DataDependentGraphError, record
from nn.module import MLP

RTOL = 1e-12


def scalar_outputs_and_grads(function, rows, leaves):
    """Per-sample outputs and the sum over samples of d(sum of outputs)/d leaf, by the scalar engine."""
    for leaf in leaves:
        leaf.grad = 0.0
    outputs = []
    for row in rows:
        result = function(*[Value(float(v)) for v in row])
        result = [result] if isinstance(result, Value) else list(result)
        outputs.append([r.data for r in result])
        Value.sum(result).backward()
    return np.array(outputs), np.array([leaf.grad for leaf in leaves])


def batched_outputs_and_grads(function, rows, leaves):
    recording = record(function, list(rows[0]))
    for leaf in leaves:
        leaf.grad = 0.0
    outputs = recording.forward(list(rows.T))
    recording.backward([np.ones(len(rows))] * len(outputs))
    return np.stack(outputs, axis=1), np.array([leaf.grad for leaf in leaves])


def assert_close(actual, expected):
    np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=1e-300)


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "linear"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_replay_of_random_mlp_equals_scalar_engine(activation, seed):
    rng = np.random.default_rng(seed)
    sizes = [int(s) for s in rng.integers(1, 6, size=rng.integers(1, 4))] + [int(rng.integers(1, 4))]
    model = MLP(3, sizes, activation=activation, seed=seed)
    rows = rng.normal(scale=2.0, size=(40, 3))

    def function(*xs):
        out = model(list(xs))
        return out if isinstance(out, list) else [out]

    scalar_out, scalar_grads = scalar_outputs_and_grads(function, rows, model.parameters())
    batch_out, batch_grads = batched_outputs_and_grads(function, rows, model.parameters())
    assert_close(batch_out, scalar_out)
    assert_close(batch_grads, scalar_grads)


def test_replay_of_every_operation_equals_scalar_engine():
    w = Value(0.7, label="w")
    c = Value(1.3, label="c")

    def function(x, y):
        positive = (x * x + 0.5).log() + 1.0
        return [
            x + y, x - y, x * y, x / (y * y + 1.0), -x, (x * w).exp(), positive.log(), (x * c).tanh(),
            (x - y).relu(), (x * y).sigmoid(), positive ** 3, positive ** -0.5, positive ** c, 2.0 ** (x * w),
            3.0 - x, 2.0 / positive, Value.sum([x, y, w]), x * x, Value.max([x, y, w]), Value.max([x, x, y]),
        ]

    rows = np.random.default_rng(5).normal(size=(25, 2))
    scalar_out, scalar_grads = scalar_outputs_and_grads(function, rows, [w, c])
    batch_out, batch_grads = batched_outputs_and_grads(function, rows, [w, c])
    assert_close(batch_out, scalar_out)
    assert_close(batch_grads, scalar_grads)


def test_sums_of_products_of_computed_numbers_replay_as_one_block_and_equal_the_scalar_engine():
    # attention's shape: queries against keys, then the weights against values, all computed from the inputs
    w = [Value(0.3 * i - 0.5, label=f"w{i}") for i in range(6)]

    def function(x, y):
        q, k, v = [x * w[0], y * w[1]], [x * w[2], y * w[3]], [x * w[4], y * w[5]]
        scores = [Value.dot(q, k, Value(0.0)), Value.dot(q, v, w[0]), Value.dot(k, k, Value(0.0))]
        return [Value.dot(scores, [q[0], k[0], v[1]], Value(0.5)), *scores]

    rows = np.random.default_rng(7).normal(size=(20, 2))
    scalar_out, scalar_grads = scalar_outputs_and_grads(function, rows, w)
    batch_out, batch_grads = batched_outputs_and_grads(function, rows, w)
    assert_close(batch_out, scalar_out)
    assert_close(batch_grads, scalar_grads)
    steps = record(function, [0.0, 0.0]).steps
    assert sum(type(step).__name__ == "_PairDotBlock" for step in steps) == 2  # the three scores, then the last sum


def test_replay_input_gradients_match_scalar_per_sample():
    model = MLP(2, [4, 1], activation="tanh", seed=3)
    rows = np.random.default_rng(1).normal(size=(10, 2))
    recording = record(lambda a, b: model([a, b]), [0.0, 0.0])
    recording.forward(list(rows.T))
    grads = np.stack(recording.backward([np.ones(10)], update_leaves=False), axis=1)
    for row, grad in zip(rows, grads):
        inputs = [Value(float(v)) for v in row]
        model(inputs).backward()
        assert_close(grad, [x.grad for x in inputs])


def test_backward_without_update_leaves_keeps_parameter_grads():
    model = MLP(2, [3, 1], seed=0)
    recording = record(lambda a, b: model([a, b]), [0.0, 0.0])
    recording.forward([np.ones(4), np.zeros(4)])
    recording.backward([np.ones(4)], update_leaves=False)
    assert all(p.grad == 0.0 for p in model.parameters())


def test_parameters_are_read_afresh_at_each_replay():
    w = Value(2.0)
    recording = record(lambda x: x * w, [1.0])
    assert recording.forward([np.array([3.0])])[0][0] == 6.0
    w.data = 5.0
    assert recording.forward([np.array([3.0])])[0][0] == 15.0


def test_neuron_sums_are_grouped_into_blocks():
    model = MLP(2, [16, 16, 1], seed=0)
    recording = record(lambda a, b: model([a, b]), [0.0, 0.0])
    # three weighted-sum blocks and two relu blocks, not one step per node
    assert len(recording.steps) == 5
    assert len(recording.nodes) > 300


def test_python_if_on_an_input_dependent_value_is_refused():
    def leaky(x):
        return x if x.data > 0 else x * 0.01

    with pytest.raises(DataDependentGraphError, match="depends on the inputs"):
        record(leaky, [1.0])


def test_reading_a_parameter_value_while_recording_is_allowed():
    w = Value(2.0)
    recording = record(lambda x: x * w if w.data > 0 else x, [1.0])
    assert recording.forward([np.array([4.0])])[0][0] == 8.0


def test_recording_restores_plain_attribute_access_after_an_error():
    with pytest.raises(DataDependentGraphError):
        record(lambda x: x.data, [1.0])
    assert type(Value.__dict__["data"]).__name__ == "member_descriptor"


@pytest.mark.parametrize(
    "function, column, error",
    [
        (lambda x: x.log(), [1.0, 0.0], ValueError),
        (lambda x: 1.0 / x, [1.0, 0.0], ZeroDivisionError),
        (lambda x: x.exp(), [1.0, 1000.0], OverflowError),
        (lambda x: x ** 0.5, [1.0, -4.0], ValueError),
    ],
)
def test_domain_errors_in_the_batch_raise_like_the_scalar_engine(function, column, error):
    recording = record(function, [1.0])
    with pytest.raises(error, match="sample 1"):
        recording.forward([np.array(column)])


def test_forward_checks_the_number_and_lengths_of_columns():
    recording = record(lambda a, b: a * b, [1.0, 1.0])
    with pytest.raises(ValueError, match="expected 2 input columns"):
        recording.forward([np.ones(3)])
    with pytest.raises(ValueError, match="differ in length"):
        recording.forward([np.ones(3), np.ones(4)])


def test_value_of_a_node_is_its_per_sample_values():
    recording = record(lambda x: (x * 2.0).tanh(), [0.0])
    xs = np.array([-1.0, 0.5])
    recording.forward([xs])
    out = recording.outputs[0]
    np.testing.assert_allclose(recording.value_of(out), [math.tanh(2 * v) for v in xs], rtol=RTOL)


def test_members_of_a_step_reading_the_same_node_each_pass_their_gradient_back():
    # x - 1 and x - 2 run as one step whose two members read x: both gradients must reach x
    w = Value(0.5, label="w")

    def function(x):
        shared = x * w
        return [(shared - 1.0).exp(), (shared - 2.0).tanh(), shared - 3.0]

    rows = np.random.default_rng(7).normal(size=(30, 1))
    scalar_out, scalar_grads = scalar_outputs_and_grads(function, rows, [w])
    batch_out, batch_grads = batched_outputs_and_grads(function, rows, [w])
    assert_close(batch_out, scalar_out)
    assert_close(batch_grads, scalar_grads)


def test_a_step_reading_nodes_of_several_steps_equals_scalar_engine():
    # a and b come from different steps (exp, tanh); the sums of level 2 read both
    w = Value(0.3, label="w")

    def function(x, y):
        a, b = (x * w).exp(), (y * w).tanh()
        return [a + b, b + a, b + x, a * b]

    rows = np.random.default_rng(8).normal(size=(20, 2))
    scalar_out, scalar_grads = scalar_outputs_and_grads(function, rows, [w])
    batch_out, batch_grads = batched_outputs_and_grads(function, rows, [w])
    assert_close(batch_out, scalar_out)
    assert_close(batch_grads, scalar_grads)


def test_a_neuron_given_the_same_input_twice_gets_both_gradients():
    model = MLP(2, [3, 1], seed=5)
    rows = np.random.default_rng(9).normal(size=(15, 1))

    def function(x):
        return model([x, x])

    scalar_out, scalar_grads = scalar_outputs_and_grads(function, rows, model.parameters())
    batch_out, batch_grads = batched_outputs_and_grads(function, rows, model.parameters())
    assert_close(batch_out, scalar_out)
    assert_close(batch_grads, scalar_grads)
    recording = record(function, [0.0])
    recording.forward([rows[:, 0]])
    (input_grads,) = recording.backward(update_leaves=False)
    for x, grad in zip(rows[:, 0], input_grads):
        placeholder = Value(float(x))
        function(placeholder).backward()
        assert_close(grad, placeholder.grad)


def test_outputs_may_be_an_input_or_a_parameter():
    w = Value(1.5, label="w")
    recording = record(lambda x: [x, w, x * w], [0.0])
    xs = np.array([1.0, -2.0, 4.0])
    x_out, w_out, product = recording.forward([xs])
    np.testing.assert_array_equal(x_out, xs)
    np.testing.assert_array_equal(w_out, [1.5, 1.5, 1.5])
    np.testing.assert_array_equal(product, xs * 1.5)
    w.grad = 0.0
    (x_grad,) = recording.backward()
    # d(x + w + x*w)/dw = 1 + x, summed over the samples; d/dx = 1 + w per sample
    assert w.grad == pytest.approx(3.0 + xs.sum(), rel=RTOL)
    np.testing.assert_allclose(x_grad, 1.0 + 1.5, rtol=RTOL)


def test_backward_twice_adds_the_leaf_gradients_twice():
    model = MLP(2, [4, 1], seed=6)
    rows = np.random.default_rng(10).normal(size=(12, 2))
    recording = record(lambda a, b: model([a, b]), [0.0, 0.0])
    recording.forward(list(rows.T))
    model.zero_grad()
    recording.backward()
    once = [p.grad for p in model.parameters()]
    recording.backward()
    assert_close([p.grad for p in model.parameters()], [2.0 * g for g in once])


def test_forward_returns_copies_and_value_of_reads_the_latest_forward():
    recording = record(lambda x: x * 2.0, [0.0])
    (first,) = recording.forward([np.array([1.0, 2.0])])
    (second,) = recording.forward([np.array([5.0, 6.0])])
    np.testing.assert_array_equal(first, [2.0, 4.0])  # not overwritten by the second replay
    np.testing.assert_array_equal(recording.value_of(recording.outputs[0]), [10.0, 12.0])


def test_value_of_a_parameter_is_its_number_for_every_sample():
    w = Value(0.25, label="w")
    recording = record(lambda x: x * w, [0.0])
    recording.forward([np.zeros(3)])
    np.testing.assert_array_equal(recording.value_of(w), [0.25, 0.25, 0.25])


def test_grad_of_gives_per_sample_gradients_of_nodes_and_refuses_leaves():
    w = Value(3.0, label="w")
    recording = record(lambda x: (x * w).tanh(), [0.0])
    xs = np.array([0.1, -0.2])
    recording.forward([xs])
    recording.backward(update_leaves=False)
    product = recording.outputs[0].parents[0]
    np.testing.assert_allclose(recording.grad_of(product), 1.0 - np.tanh(3.0 * xs) ** 2, rtol=RTOL)
    with pytest.raises(ValueError, match="summed over the batch"):
        recording.grad_of(w)
