"""Specification of nn.torch_bridge: the same network in PyTorch, and its trained parameters back.

Every test runs with torch's own default dtype, float32 (the ``torch`` fixture
sets float64 for the cross-checks), because that is what users have: the
module must be float64 because to_torch makes it so, not because a test did.
"""

from __future__ import annotations

import math
import random
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from nn import GPT, MLP, Layer, predict
from nn.losses import mse_loss, softmax_cross_entropy_loss
from nn.module import ACTIVATIONS
from nn.torch_bridge import from_torch, to_torch

REPOSITORY = Path(__file__).resolve().parents[1]
SHAPES = [
    (3, [1]),                # one layer, one output
    (2, [4, 1]),             # one hidden layer
    (3, [5, 4]),             # several outputs
    (2, [8, 8, 8, 8, 3]),    # deep
    (10, [32, 32, 5]),       # wide: long sums, added in another order than torch adds them
]
RELATIVE, ABSOLUTE = 1e-12, 1e-13  # absolute for outputs near 0, where relative error means nothing


@pytest.fixture
def torch(torch):
    """The torch module with its factory default dtype, float32, for the length of one test."""
    session_dtype = torch.get_default_dtype()
    torch.set_default_dtype(torch.float32)
    yield torch
    torch.set_default_dtype(session_dtype)


def _model(nin: int, nouts: list[int], activation: str = "relu", seed: int = 0) -> MLP:
    """An MLP with random biases too (MLP starts them at 0, which would hide a bias copied wrongly)."""
    model = MLP(nin, nouts, activation=activation, seed=seed)
    rng = random.Random(seed + 1)
    for layer in model.layers:
        for neuron in layer.neurons:
            neuron.b.data = rng.uniform(-1, 1)
    return model


def _points(nin: int, n: int = 30, seed: int = 0) -> list[list[float]]:
    rng = random.Random(seed)
    return [[rng.uniform(-3, 3) for _ in range(nin)] for _ in range(n)]


def _outputs(model: MLP, x: list[float]) -> list[float]:
    out = model(x)
    return [v.data for v in (out if isinstance(out, list) else [out])]


def _parameter_pairs(module, model: MLP) -> Iterator[tuple]:
    """(glassgrad parameter, torch tensor, index in it) for every parameter: neuron j is row j."""
    for i, layer in enumerate(model.layers):
        linear = getattr(module, f"L{i + 1}")
        for j, neuron in enumerate(layer.neurons):
            for k, w in enumerate(neuron.w):
                yield w, linear.weight, (j, k)
            yield neuron.b, linear.bias, (j,)


def _values(model: MLP) -> list[float]:
    return [p.data for p in model.parameters()]


# --- to_torch ------------------------------------------------------------------


@pytest.mark.parametrize("nin, nouts", SHAPES)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_module_outputs_equal_the_models_on_random_inputs(torch, activation: str, nin: int, nouts: list[int]) -> None:
    model = _model(nin, nouts, activation)
    points = _points(nin)
    theirs = to_torch(model)(torch.tensor(points, dtype=torch.float64))
    assert theirs.dtype == torch.float64 and tuple(theirs.shape) == (len(points), nouts[-1])
    for x, row in zip(points, theirs.tolist()):
        for ours, their in zip(_outputs(model, x), row):
            assert math.isclose(ours, their, rel_tol=RELATIVE, abs_tol=ABSOLUTE), (x, ours, their)


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_module_is_a_plain_sequential_of_float64_linear_layers_and_activations(torch, activation: str) -> None:
    module = to_torch(_model(2, [3, 3, 1], activation))
    assert type(module) is torch.nn.Sequential
    expected = {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh, "sigmoid": torch.nn.Sigmoid}.get(activation)
    if expected is None:  # "linear": nothing between the layers
        assert [(name, type(part)) for name, part in module.named_children()] == [
            ("L1", torch.nn.Linear), ("L2", torch.nn.Linear), ("L3", torch.nn.Linear)]
    else:
        assert [(name, type(part)) for name, part in module.named_children()] == [
            ("L1", torch.nn.Linear), (f"L1_{activation}", expected),
            ("L2", torch.nn.Linear), (f"L2_{activation}", expected),
            ("L3", torch.nn.Linear)]
    assert all(p.dtype == torch.float64 and p.requires_grad for p in module.parameters())


def test_neuron_j_is_row_j_of_its_layers_weight_exactly(torch) -> None:
    model = _model(3, [4, 2])
    module = to_torch(model)
    assert tuple(module.L1.weight.shape) == (4, 3) and tuple(module.L2.bias.shape) == (2,)
    for parameter, tensor, index in _parameter_pairs(module, model):
        assert tensor[index].item() == parameter.data, parameter.label  # float64 holds every float exactly


def test_module_and_model_share_nothing(torch) -> None:
    model = _model(2, [3, 1])
    before = _values(model)
    module = to_torch(model)
    with torch.no_grad():
        module.L1.weight.fill_(7.0)
    assert _values(model) == before
    model.parameters()[0].data = -7.0
    assert module.L1.weight[0, 0].item() == 7.0


def test_building_the_module_leaves_torchs_random_stream_alone(torch) -> None:
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    to_torch(_model(2, [16, 16, 1]))
    assert torch.equal(torch.rand(3), expected)


def test_to_torch_refuses_what_is_not_an_mlp(torch) -> None:
    with pytest.raises(TypeError, match="expected a glassgrad MLP.*Layer"):
        to_torch(Layer(2, 3))


def test_to_torch_refuses_a_layer_whose_neurons_mix_activations(torch) -> None:
    model = _model(2, [3, 1])
    model.layers[0].neurons[1].activation = "tanh"
    with pytest.raises(ValueError, match="layer L1's neurons apply relu, tanh"):
        to_torch(model)


# --- gradients -----------------------------------------------------------------


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_one_losss_gradients_equal_torchs_for_the_same_parameters(torch, activation: str) -> None:
    model = _model(3, [5, 4, 1], activation)
    module = to_torch(model)
    points = _points(3, n=12)
    targets = [math.sin(sum(x)) for x in points]

    loss = mse_loss([model(x) for x in points], targets)
    model.zero_grad()
    loss.backward()
    their_outputs = module(torch.tensor(points, dtype=torch.float64))[:, 0]
    their_loss = ((their_outputs - torch.tensor(targets, dtype=torch.float64)) ** 2).mean()
    their_loss.backward()

    assert math.isclose(loss.data, their_loss.item(), rel_tol=RELATIVE, abs_tol=ABSOLUTE)
    for parameter, tensor, index in _parameter_pairs(module, model):
        their_grad = tensor.grad[index].item()
        assert math.isclose(parameter.grad, their_grad, rel_tol=RELATIVE, abs_tol=ABSOLUTE), parameter.label


def test_softmax_cross_entropy_gradients_equal_torchs_for_several_outputs(torch) -> None:
    model = _model(3, [6, 4], "tanh")
    module = to_torch(model)
    points, labels = _points(3, n=12), [i % 4 for i in range(12)]

    loss = softmax_cross_entropy_loss([model(x) for x in points], labels)
    model.zero_grad()
    loss.backward()
    logits = module(torch.tensor(points, dtype=torch.float64))
    torch.nn.functional.cross_entropy(logits, torch.tensor(labels)).backward()

    for parameter, tensor, index in _parameter_pairs(module, model):
        their_grad = tensor.grad[index].item()
        assert math.isclose(parameter.grad, their_grad, rel_tol=RELATIVE, abs_tol=ABSOLUTE), parameter.label


# --- from_torch ----------------------------------------------------------------


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_round_trip_after_torch_training_predicts_what_torch_predicts(torch, activation: str) -> None:
    model = _model(2, [6, 6, 2], activation)
    module = to_torch(model)
    inputs = torch.tensor(_points(2, n=20), dtype=torch.float64)
    targets = torch.sin(inputs[:, :1] * inputs[:, 1:]).repeat(1, 2)
    optimizer = torch.optim.SGD(module.parameters(), lr=0.1)
    for _ in range(5):
        optimizer.zero_grad()
        ((module(inputs) - targets) ** 2).mean().backward()
        optimizer.step()
    before = _values(model)

    from_torch(module, model)

    assert _values(model) != before  # training moved the parameters, so the copy is not vacuous
    for parameter, tensor, index in _parameter_pairs(module, model):
        assert parameter.data == tensor[index].item(), parameter.label
    ours, theirs = predict(model, inputs.numpy()), module(inputs).detach().numpy()
    np.testing.assert_allclose(ours, theirs, rtol=RELATIVE, atol=ABSOLUTE)


def test_accepts_a_module_built_by_hand_in_any_float_dtype(torch) -> None:
    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.Tanh(), torch.nn.Dropout(0.0), torch.nn.Linear(4, 1))
    assert module[0].weight.dtype == torch.float32
    model = MLP(2, [4, 1], activation="tanh")

    from_torch(module, model)

    assert _values(model) == [p.item() for p in _parameter_tensors_in_model_order(module)]  # widened exactly
    inputs = torch.tensor(_points(2), dtype=torch.float64)
    np.testing.assert_allclose(predict(model, inputs.numpy()), module.double()(inputs).detach().numpy(),
                               rtol=RELATIVE, atol=ABSOLUTE)


def _parameter_tensors_in_model_order(module) -> list:
    """A hand-built Sequential's parameters in glassgrad's order: per neuron, its weights then its bias."""
    linears = [part for part in module if hasattr(part, "weight")]
    return [value for linear in linears
            for row, bias in zip(linear.weight, linear.bias) for value in [*row, bias]]


def test_a_shape_mismatch_names_the_layer_and_both_shapes_and_changes_nothing(torch) -> None:
    model = _model(2, [4, 3, 1])
    module = to_torch(_model(2, [4, 5, 1], seed=1))  # L1 fits, L2 does not: nothing may be written
    before = _values(model)
    with pytest.raises(ValueError) as error:
        from_torch(module, model)
    message = str(error.value)
    assert "module layer 'L2' has weight (5, 4) and bias (5,)" in message
    assert "model layer L2 needs weight (3, 4) and bias (3,)" in message
    assert _values(model) == before


def test_a_different_number_of_layers_is_refused(torch) -> None:
    model = _model(2, [4, 1])
    with pytest.raises(ValueError, match=r"module has 3 Linear layers \(L1, L2, L3\), the model has 2 layers"):
        from_torch(to_torch(_model(2, [4, 4, 1])), model)


def test_a_module_with_parameters_outside_linear_layers_is_refused(torch) -> None:
    module = torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.BatchNorm1d(4), torch.nn.ReLU(),
                                 torch.nn.Linear(4, 1))
    model = _model(2, [4, 1])
    before = _values(model)
    with pytest.raises(ValueError, match=r"module layer '1' is a BatchNorm1d with parameters; only torch.nn.Linear"):
        from_torch(module, model)
    assert _values(model) == before


def test_a_linear_layer_without_bias_is_refused(torch) -> None:
    module = torch.nn.Sequential(torch.nn.Linear(2, 4, bias=False), torch.nn.ReLU(), torch.nn.Linear(4, 1))
    with pytest.raises(ValueError, match=r"module layer '0' is a Linear without a bias.*bias=True"):
        from_torch(module, _model(2, [4, 1]))


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_a_non_finite_parameter_is_refused_and_changes_nothing(torch, bad: float) -> None:
    model = _model(2, [4, 1])
    module = to_torch(_model(2, [4, 1], seed=1))
    with torch.no_grad():
        module.L2.weight[0, 3] = bad
    before = _values(model)
    with pytest.raises(ValueError, match=rf"module layer 'L2' weight\[0, 3\] is {bad}; .*non-finite"):
        from_torch(module, model)
    assert _values(model) == before


def test_swapped_arguments_are_named(torch) -> None:
    model = _model(2, [4, 1])
    with pytest.raises(TypeError, match="expected a torch.nn.Module first, got MLP.*swapped"):
        from_torch(model, to_torch(model))


def test_from_torch_refuses_a_model_that_is_not_an_mlp(torch) -> None:
    with pytest.raises(TypeError, match="from_torch: expected a glassgrad MLP"):
        from_torch(torch.nn.Linear(2, 3), Layer(2, 3))


# --- the GPT -------------------------------------------------------------------

GPT_SHAPE = {"vocab_size": 7, "n_embd": 8, "n_head": 2, "n_layer": 2, "block_size": 6}


def _gpt(seed: int = 0, **shape: int) -> GPT:
    """A small GPT with weights larger than the initial 0.08, so that attention is far from uniform."""
    model = GPT(**{**GPT_SHAPE, **shape}, seed=seed)
    rng = random.Random(seed + 1)
    for p in model.parameters():
        p.data = rng.gauss(0.0, 0.5)
    return model


def _gpt_logits(model: GPT, tokens: list[int]) -> list[list[float]]:
    return [[z.data for z in row] for row in model(tokens)]


def test_gpt_module_logits_equal_the_models_for_every_length(torch) -> None:
    model = _gpt()
    module = to_torch(model)
    for tokens in ([6], [6, 2, 0], [6, 2, 0, 5, 5, 1]):
        theirs = module(torch.tensor(tokens))
        assert theirs.dtype == torch.float64 and tuple(theirs.shape) == (len(tokens), GPT_SHAPE["vocab_size"])
        np.testing.assert_allclose(_gpt_logits(model, tokens), theirs.tolist(), rtol=RELATIVE, atol=ABSOLUTE)


def test_gpt_module_reads_a_batch_of_sequences_of_one_length(torch) -> None:
    model = _gpt()
    batch = [[6, 2, 0, 5], [6, 1, 1, 3]]
    theirs = to_torch(model)(torch.tensor(batch))
    assert tuple(theirs.shape) == (2, 4, GPT_SHAPE["vocab_size"])
    for tokens, rows in zip(batch, theirs.tolist()):
        np.testing.assert_allclose(_gpt_logits(model, tokens), rows, rtol=RELATIVE, atol=ABSOLUTE)


def test_gpt_module_parameters_carry_the_state_dict_names_and_values_exactly(torch) -> None:
    model = _gpt()
    parameters = dict(to_torch(model).named_parameters())
    assert list(parameters) == list(model.state_dict())  # "wte", "wpe", "lm_head", "layer0.attn_wq", ...
    for name, matrix in model.state_dict().items():
        assert parameters[name].tolist() == [[p.data for p in row] for row in matrix], name


def test_gpt_round_trip_after_torch_training_gives_torchs_logits(torch) -> None:
    model = _gpt()
    module = to_torch(model)
    tokens = torch.tensor([6, 2, 0, 5, 5, 1, 6])
    optimizer = torch.optim.Adam(module.parameters(), lr=0.01)
    for _ in range(3):
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(module(tokens[:-1]), tokens[1:]).backward()
        optimizer.step()
    before = _values(model)

    from_torch(module, model)

    assert _values(model) != before
    np.testing.assert_allclose(_gpt_logits(model, tokens[:-1].tolist()), module(tokens[:-1]).tolist(),
                               rtol=RELATIVE, atol=ABSOLUTE)


def test_from_torch_refuses_a_gpt_module_of_another_shape_and_changes_nothing(torch) -> None:
    model = _gpt()
    before = _values(model)
    with pytest.raises(ValueError, match=r"parameters \(wte, wpe, lm_head, layer0\..*\) are not the GPT's"):
        from_torch(to_torch(_gpt(n_layer=1)), model)
    with pytest.raises(ValueError, match=r"module parameter 'wte' has shape \(9, 8\), .* needs \(7, 8\)"):
        from_torch(to_torch(_gpt(vocab_size=9)), model)
    assert _values(model) == before


# --- without torch -------------------------------------------------------------


@pytest.mark.parametrize("call", [lambda: to_torch(MLP(2, [1])), lambda: from_torch(object(), MLP(2, [1]))])
def test_without_torch_both_functions_say_how_to_install_it(monkeypatch, call) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)  # what `import torch` sees when torch is not installed
    with pytest.raises(ImportError, match=r'needs PyTorch.*pip install "glassgrad\[torch\]".*torch==2\.13\.0'):
        call()


def test_importing_nn_and_the_bridge_never_imports_torch() -> None:
    code = "import sys, nn, nn.torch_bridge; print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], cwd=REPOSITORY, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


# --- the docs ------------------------------------------------------------------


def test_the_docs_snippet_runs_and_its_two_engines_agree(torch, capsys) -> None:
    text = (REPOSITORY / "docs" / "torch.md").read_text()
    block = re.search(r"```python\n(.*?)```", text, re.S)
    code = "\n" * text.count("\n", 0, block.start(1)) + block.group(1)  # so tracebacks give the file's lines
    namespace: dict = {}
    exec(compile(code, "docs/torch.md", "exec"), namespace)
    ours, theirs = namespace["ours"], namespace["theirs"]
    assert ours.shape == theirs.shape == (100, 1)
    np.testing.assert_allclose(ours, theirs, rtol=RELATIVE, atol=ABSOLUTE)
    assert "largest difference:" in capsys.readouterr().out
