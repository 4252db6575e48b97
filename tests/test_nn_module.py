"""Specification of nn.module: Neuron, Layer and MLP, micrograd's API."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from engine import Value
from nn import MLP, Layer, Neuron
from nn.module import format_label, parse_label
from tests.helpers import central_difference


def _expected_parameter_count(nin: int, nouts: list[int]) -> int:
    """Each neuron has one weight per input plus a bias."""
    sizes = [nin, *nouts]
    return sum((sizes[i] + 1) * sizes[i + 1] for i in range(len(nouts)))


# --- sizes and shapes --------------------------------------------------------


def test_neuron_has_one_weight_per_input_and_a_bias() -> None:
    assert len(Neuron(3).parameters()) == 3 + 1


def test_layer_has_a_neuron_per_output_each_with_its_parameters() -> None:
    assert len(Layer(3, 4).parameters()) == 4 * (3 + 1)


@pytest.mark.parametrize("nin, nouts", [(2, [16, 16, 1]), (1, [1, 1]), (3, [4, 2]), (2, [8, 8, 3])])
def test_mlp_parameter_count_is_the_sum_over_its_layers(nin: int, nouts: list[int]) -> None:
    model = MLP(nin, nouts)
    assert len(model.parameters()) == model.num_parameters() == _expected_parameter_count(nin, nouts)


def test_layer_with_one_neuron_returns_a_list() -> None:
    out = Layer(2, 1)([0.5, -1.0])
    assert isinstance(out, list)
    assert len(out) == 1
    assert isinstance(out[0], Value)


def test_mlp_of_single_neuron_layers_works() -> None:
    assert isinstance(MLP(1, [1, 1], seed=0)([0.3]), Value)


def test_mlp_with_one_output_returns_a_value() -> None:
    assert isinstance(MLP(2, [4, 1], seed=0)([0.5, -1.0]), Value)


def test_mlp_with_several_outputs_returns_a_list_of_values() -> None:
    out = MLP(2, [4, 3], seed=0)([0.5, -1.0])
    assert isinstance(out, list)
    assert len(out) == 3
    assert all(isinstance(v, Value) for v in out)


# --- initialisation -----------------------------------------------------------


def test_same_seed_gives_the_same_initial_parameters() -> None:
    first, second = MLP(2, [8, 8, 1], seed=7), MLP(2, [8, 8, 1], seed=7)
    assert [p.data for p in first.parameters()] == [p.data for p in second.parameters()]


def test_different_seeds_give_different_initial_parameters() -> None:
    first, second = MLP(2, [8, 8, 1], seed=7), MLP(2, [8, 8, 1], seed=8)
    assert [p.data for p in first.parameters()] != [p.data for p in second.parameters()]


def test_weights_start_in_the_unit_interval_and_biases_at_zero() -> None:
    model = MLP(2, [16, 16, 1], seed=0)
    for layer in model.layers:
        for neuron in layer.neurons:
            assert all(-1.0 <= w.data <= 1.0 for w in neuron.w)
            assert neuron.b.data == 0.0


def test_fan_in_init_draws_micrograds_weights_shrunk_by_the_square_root_of_the_inputs() -> None:
    plain, scaled = MLP(64, [32, 10], seed=3), MLP(64, [32, 10], seed=3, init="fan_in")
    for plain_layer, scaled_layer in zip(plain.layers, scaled.layers):
        bound = 1.0 / math.sqrt(plain_layer.nin)  # 1/8 for the 64 pixels, 1/sqrt(32) after
        for plain_neuron, scaled_neuron in zip(plain_layer.neurons, scaled_layer.neurons):
            for w, v in zip(plain_neuron.w, scaled_neuron.w):
                assert v.data == pytest.approx(w.data * bound, rel=1e-12)
                assert -bound <= v.data <= bound
            assert scaled_neuron.b.data == 0.0


def test_an_unknown_init_is_refused_with_the_choices() -> None:
    with pytest.raises(ValueError, match="micrograd, fan_in"):
        MLP(2, [4, 1], init="xavier")
    with pytest.raises(ValueError, match="micrograd, fan_in"):
        Neuron(2, init="zeros")


def test_parameter_labels_name_layer_neuron_and_weight() -> None:
    model = MLP(2, [3, 1], seed=0)
    expected = [f"L1.N{j}.{name}" for j in (1, 2, 3) for name in ("w1", "w2", "b")]
    expected += ["L2.N1.w1", "L2.N1.w2", "L2.N1.w3", "L2.N1.b"]
    assert [p.label for p in model.parameters()] == expected


def test_labels_count_from_one_in_deeper_layers() -> None:
    labels = {p.label for p in MLP(2, [4, 3, 1], seed=0).parameters()}
    assert {"L1.N1.w1", "L2.N3.b", "L2.N3.w4", "L3.N1.b"} <= labels


def test_every_label_nn_makes_reads_back_as_its_layer_neuron_and_part() -> None:
    model = MLP(2, [3, 1], seed=0)
    for layer in model.layers:
        for number, neuron in enumerate(layer.neurons, start=1):
            assert neuron.label == format_label(layer.label, number)
            assert neuron([0.5] * len(neuron.w)).label == neuron.label  # the output carries it, so viz finds it
            assert parse_label(neuron.label) == (layer.label, number, None)
            parts = [f"w{i}" for i in range(1, len(neuron.w) + 1)] + ["b"]
            expected = [(layer.label, number, part) for part in parts]
            assert [parse_label(p.label) for p in neuron.parameters()] == expected


@pytest.mark.parametrize("text", ["", "loss", "x1", "L1", "L1.x", "L1.N", "L1.N03", "L1.N3.w2.more", ".N1", "L1..b"])
def test_parse_label_reads_only_labels_nn_makes(text: str) -> None:
    assert parse_label(text) is None


# --- activations ---------------------------------------------------------------


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_hidden_neurons_use_the_chosen_activation(activation: str) -> None:
    model = MLP(2, [3, 1], activation=activation, seed=0)
    hidden = model.layers[0]([0.5, -1.0])
    assert [h.op for h in hidden] == [activation] * 3


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_output_layer_is_linear_whatever_the_hidden_activation(activation: str) -> None:
    model = MLP(2, [3, 2], activation=activation, seed=0)
    outputs = model([0.5, -1.0])
    assert [o.op for o in outputs] == ["dot", "dot"]  # the weighted sum itself, no activation on top
    assert all(neuron.activation == "linear" for neuron in model.layers[-1].neurons)


def test_default_hidden_activation_is_relu_as_in_micrograd() -> None:
    assert MLP(2, [4, 1]).layers[0].activation == "relu"


def test_neuron_forward_matches_the_numpy_formula() -> None:
    neuron = Neuron(3, activation="tanh", rng=random.Random(3))
    neuron.b.data = 0.25
    x = [0.5, -1.5, 2.0]
    w = np.array([p.data for p in neuron.w])
    expected = np.tanh(w @ np.array(x) + 0.25)
    assert neuron(x).data == pytest.approx(expected, rel=1e-14)


def test_relu_neuron_outputs_zero_for_a_negative_weighted_sum() -> None:
    neuron = Neuron(2, rng=random.Random(0))
    neuron.b.data = -10.0  # the weights lie in [-1, 1], so w.x + b < 0 for these inputs
    assert neuron([1.0, 1.0]).data == 0.0


# --- zero_grad and repr ----------------------------------------------------------


def test_zero_grad_clears_every_parameter_gradient() -> None:
    model = MLP(2, [4, 4, 1], activation="tanh", seed=0)
    model([0.5, -1.0]).backward()
    assert any(p.grad != 0.0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())


def test_mlp_repr_mentions_layer_sizes_and_parameter_count() -> None:
    text = repr(MLP(2, [16, 16, 1]))
    assert "2 -> 16 -> 16 -> 1" in text
    assert str(_expected_parameter_count(2, [16, 16, 1])) in text


def test_mlp_repr_names_the_hidden_activation() -> None:
    assert "tanh hidden, linear output" in repr(MLP(2, [4, 1], activation="tanh"))


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_an_mlp_of_one_layer_says_it_has_no_hidden_layer(activation: str) -> None:
    # a single layer is the linear output: naming an activation would describe a layer that is not there
    assert repr(MLP(2, [1], activation=activation)) == "MLP(2 -> 1, no hidden layer, linear output, 3 parameters)"


def test_neuron_repr_names_its_activation_and_input_count() -> None:
    assert repr(Neuron(3, activation="tanh")) == "TanhNeuron(3)"
    assert repr(Neuron(3, nonlin=False)) == "LinearNeuron(3)"


# --- bad arguments ------------------------------------------------------------------


@pytest.mark.parametrize(
    "build",
    [
        lambda: MLP(0, [1]),
        lambda: MLP(2, []),
        lambda: MLP(2, [4, 0]),
        lambda: MLP(2, [4, 1], activation="gelu"),
        lambda: Neuron(0),
        lambda: Neuron(2, activation="softplus"),
        lambda: Layer(2, 0),
    ],
    ids=["no-inputs", "no-layers", "empty-layer", "unknown-activation", "neuron-no-inputs",
         "neuron-unknown-activation", "layer-no-neurons"],
)
def test_bad_sizes_and_activations_raise_value_error(build) -> None:
    with pytest.raises(ValueError):
        build()


def test_calling_a_model_with_the_wrong_number_of_inputs_raises_value_error() -> None:
    with pytest.raises(ValueError, match="expected 2 inputs, got 3"):
        MLP(2, [4, 1], seed=0)([1.0, 2.0, 3.0])


# --- gradients ------------------------------------------------------------------------


@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
def test_mlp_gradients_match_central_differences_for_every_parameter(activation: str) -> None:
    model = MLP(3, [4, 3, 1], activation=activation, seed=5)
    parameters = model.parameters()
    for p in parameters:  # non-zero biases, so that every kind of parameter is exercised
        p.data += 0.1
    x = [0.3, -0.7, 1.1]
    start = [p.data for p in parameters]

    def output_at(values: list[float]) -> float:
        for p, v in zip(parameters, values):
            p.data = v
        return model(x).data

    model.zero_grad()
    output_at(start)
    model(x).backward()
    analytic = [p.grad for p in parameters]
    for i in range(len(parameters)):
        numeric = central_difference(output_at, start, i)
        assert math.isclose(analytic[i], numeric, rel_tol=1e-6, abs_tol=1e-8), parameters[i].label


@pytest.mark.parametrize(
    ("nouts", "error", "message"),
    [
        (5, TypeError, r"MLP\(nouts=5\): give a list of layer sizes"),
        ("16", TypeError, r"MLP\(nouts='16'\): give a list of layer sizes"),
        ([16, "1"], ValueError, r"each layer size must be a positive int, got '1'"),
        ([16, True], ValueError, r"each layer size must be a positive int, got True"),
        ([16, 2.5], ValueError, r"each layer size must be a positive int, got 2.5"),
    ],
)
def test_layer_sizes_of_the_wrong_kind_are_named(nouts: object, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        MLP(2, nouts)


def test_numpy_layer_sizes_are_accepted_as_plain_ints() -> None:
    model = MLP(2, np.array([3, 1]))
    assert model.sizes == [2, 3, 1] and all(type(size) is int for size in model.sizes)
