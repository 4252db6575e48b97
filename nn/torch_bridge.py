"""The way out: the same network as a PyTorch module, and its trained parameters back.

glassgrad shows what happens inside a small network; PyTorch has what it will
not copy (GPUs, many optimizers, ``DistributedDataParallel``). ``to_torch``
turns an MLP into a plain ``torch.nn.Sequential`` of float64 ``Linear`` layers
and activation modules, with the same parameters and the same outputs;
``from_torch`` copies a module's trained parameters back into the MLP.

Each glassgrad layer becomes one ``Linear``, named by the layer's label (L1,
L2, ...). A Linear stores its weights output-major, one row per output, so
neuron j of the layer is row j:

    model.layers[0].neurons[j].w[k]   <->   module.L1.weight[j, k]
    model.layers[0].neurons[j].b      <->   module.L1.bias[j]

A GPT (``nn.GPT``) becomes a ``TorchGPT`` (``nn/torch_gpt.py``) whose
parameters carry the names of ``gpt.state_dict()`` ("wte", "layer0.attn_wq",
...) and its shapes, rows output-major as here; ``from_torch`` copies them
back by name.

PyTorch is an optional extra: it is imported only when one of these functions
runs, so ``import nn`` never needs it.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING

from nn.gpt import GPT
from nn.module import MLP, Layer

if TYPE_CHECKING:
    import torch

__all__ = ["to_torch", "from_torch", "INSTALL_HINT"]

INSTALL_HINT = 'pip install "glassgrad[torch]" (or pip install torch==2.13.0)'

# glassgrad's activation names and the torch.nn module that does the same; "linear" needs none.
TORCH_ACTIVATIONS = {"relu": "ReLU", "tanh": "Tanh", "sigmoid": "Sigmoid", "linear": None}


def _import_torch(caller: str):
    """The torch module, or an ImportError from ``caller`` that says how to install it."""
    try:
        import torch
    except (ImportError, OSError) as error:  # OSError: an install whose shared libraries do not load
        raise ImportError(
            f"{caller} needs PyTorch, an optional extra of glassgrad that is not installed here "
            f"({error}); install it with: {INSTALL_HINT}"
        ) from error
    return torch


def _check_model(model: object, caller: str) -> None:
    if not isinstance(model, (MLP, GPT)):
        raise TypeError(f"{caller}: expected a glassgrad MLP or GPT (nn.MLP, nn.GPT), got {model!r} "
                        f"of type {type(model).__name__}")


def _layer_activation(layer: Layer, caller: str) -> str:
    """The one activation every neuron of ``layer`` applies: a torch layer applies one to all its outputs."""
    names = sorted({neuron.activation for neuron in layer.neurons})
    if len(names) != 1 or names[0] not in TORCH_ACTIVATIONS:
        raise ValueError(
            f"{caller}: layer {layer.label}'s neurons apply {', '.join(names)}; a torch layer needs one "
            f"activation for the whole layer, one of {', '.join(TORCH_ACTIVATIONS)}"
        )
    return names[0]


def to_torch(model: MLP | GPT) -> torch.nn.Module:
    """A float64 ``torch.nn.Sequential`` computing what ``model`` computes, with copies of its parameters.

    ``MLP(2, [16, 16, 1])`` becomes Linear(2, 16), ReLU, Linear(16, 16), ReLU,
    Linear(16, 1), named L1, L1_relu, L2, L2_relu, L3. It takes a batch, a
    float64 tensor of shape (n, nin), and returns shape (n, outputs); its
    outputs equal the model's to 1e-12 (not bit for bit: torch adds a
    neuron's sum in another order). The module lives on the CPU (``.to("cuda")`` moves it)
    and shares nothing with the model: training one leaves the other as it
    was, until ``from_torch`` copies the parameters back.

    A GPT becomes a ``TorchGPT`` (see ``nn/torch_gpt.py``): ``module(tokens)``
    takes a LongTensor of ids and gives the logits of every position, equal
    to ``model(tokens)``'s to 1e-12.
    """
    torch = _import_torch("to_torch")
    _check_model(model, "to_torch")
    if isinstance(model, GPT):
        from nn.torch_gpt import TorchGPT  # it imports torch at the top, so only here

        return TorchGPT(model)
    parts = OrderedDict()
    for i, layer in enumerate(model.layers):
        name = f"L{i + 1}"  # the label MLP gives the layer (torch names may not contain ".")
        # skip_init leaves the weights unset instead of drawing them at random: building the
        # module must not move torch's random stream, or a user's seeded run would change.
        linear = torch.nn.utils.skip_init(torch.nn.Linear, layer.nin, layer.nout, dtype=torch.float64)
        with torch.no_grad():
            # dtype given, never torch's default (float32 unless changed), which would round every weight
            weights = torch.tensor([[w.data for w in neuron.w] for neuron in layer.neurons], dtype=torch.float64)
            linear.weight.copy_(weights)
            linear.bias.copy_(torch.tensor([neuron.b.data for neuron in layer.neurons], dtype=torch.float64))
        parts[name] = linear
        activation = _layer_activation(layer, "to_torch")
        if TORCH_ACTIVATIONS[activation] is not None:
            parts[f"{name}_{activation}"] = getattr(torch.nn, TORCH_ACTIVATIONS[activation])()
    return torch.nn.Sequential(parts)


def _linear_layers(torch, module: torch.nn.Module) -> list[tuple[str, torch.nn.Linear]]:
    """The module's Linear layers and their names, in registration order; ValueError for other parameters.

    Parameter-free modules (activations, Dropout, Flatten) are passed over:
    they hold nothing to copy. Anything else with parameters has no place in
    an MLP, so copying around it would give a model that computes something else.
    """
    linears = []
    for name, part in module.named_modules():
        shown = repr(name) if name else "(the module itself)"
        if isinstance(part, torch.nn.Linear):
            if part.bias is None:
                raise ValueError(
                    f"from_torch: module layer {shown} is a Linear without a bias; every glassgrad neuron "
                    "has one, so build it with bias=True"
                )
            linears.append((name or type(part).__name__, part))
        elif any(True for _ in part.parameters(recurse=False)):
            raise ValueError(
                f"from_torch: module layer {shown} is a {type(part).__name__} with parameters; only "
                "torch.nn.Linear layers (and activations, which have none) map onto a glassgrad MLP"
            )
    return linears


def _checked_numbers(torch, tensor: torch.Tensor, where: str) -> list:
    """``tensor`` as (nested) lists of Python floats, refusing NaN and infinity."""
    if not torch.is_floating_point(tensor):
        raise ValueError(f"from_torch: {where} has dtype {tensor.dtype}; glassgrad parameters are real floats")
    numbers = tensor.detach().to("cpu", torch.float64)  # exact for float16, bfloat16, float32
    bad = ~torch.isfinite(numbers)
    if bad.any():
        position = [int(i) for i in bad.nonzero()[0]]
        raise ValueError(
            f"from_torch: {where}[{', '.join(map(str, position))}] is {numbers[tuple(position)].item()}; "
            "a glassgrad model never takes a non-finite parameter (did training diverge? lower the "
            "learning rate); the model is unchanged"
        )
    return numbers.tolist()


def from_torch(module: torch.nn.Module, model: MLP | GPT) -> None:
    """Copy ``module``'s parameters into ``model``, whose architecture they must fit.

    ``module`` is one ``to_torch`` made, or any module whose ``torch.nn.Linear``
    layers, in the order they were registered (a Sequential's order), have
    the shapes of the model's layers: weight (nout, nin) and bias (nout,).
    Its activations are not read: the model keeps its own. It may live on any
    device and hold any float dtype (the values are widened to float64).

    Everything is checked before anything is written: a wrong number of
    layers, a shape that differs, a module with parameters that are not a
    Linear's, or a NaN or infinite parameter raises ValueError naming the
    layer, and leaves the model exactly as it was.

    For a GPT, the module's parameters are matched by name instead: they
    must be those of ``model.state_dict()``, each of its shape, as in the
    module ``to_torch`` makes; the same checks apply.
    """
    torch = _import_torch("from_torch")
    if not isinstance(module, torch.nn.Module):
        swapped = " (the arguments are (module, model): are they swapped?)" if isinstance(module, (MLP, GPT)) else ""
        raise TypeError(f"from_torch: expected a torch.nn.Module first, got {type(module).__name__}{swapped}")
    _check_model(model, "from_torch")
    if isinstance(model, GPT):
        _copy_by_name(torch, module, model)
        return
    linears = _linear_layers(torch, module)
    if len(linears) != len(model.layers):
        raise ValueError(
            f"from_torch: the module has {len(linears)} Linear layers ({', '.join(n for n, _ in linears) or 'none'}), "
            f"the model has {len(model.layers)} layers: {model!r}"
        )
    values = []
    for (name, linear), layer in zip(linears, model.layers):
        needed = {"weight": (layer.nout, layer.nin), "bias": (layer.nout,)}
        found = {"weight": tuple(linear.weight.shape), "bias": tuple(linear.bias.shape)}
        if found != needed:
            raise ValueError(
                f"from_torch: module layer {name!r} has weight {found['weight']} and bias {found['bias']}, "
                f"model layer {layer.label} needs weight {needed['weight']} and bias {needed['bias']} "
                f"(a Linear's weight is (outputs, inputs): one row per neuron); the model is unchanged"
            )
        weights = _checked_numbers(torch, linear.weight, f"module layer {name!r} weight")
        biases = _checked_numbers(torch, linear.bias, f"module layer {name!r} bias")
        values.append((weights, biases))
    for (weights, biases), layer in zip(values, model.layers):
        for neuron, row, bias in zip(layer.neurons, weights, biases):
            for w, number in zip(neuron.w, row):
                w.data = number
            neuron.b.data = bias


def _copy_by_name(torch, module: torch.nn.Module, model: GPT) -> None:
    """Copy a GPT's matrices from the module's parameters of the same names; check them all first."""
    theirs = dict(module.named_parameters())
    ours = model.state_dict()
    if set(theirs) != set(ours):
        raise ValueError(
            f"from_torch: the module's parameters ({', '.join(theirs) or 'none'}) are not the GPT's "
            f"({', '.join(ours)}); pass a module that to_torch made from a GPT of this shape; the model is unchanged"
        )
    values = {}
    for name, matrix in ours.items():
        needed, found = (len(matrix), len(matrix[0])), tuple(theirs[name].shape)
        if found != needed:
            raise ValueError(f"from_torch: module parameter {name!r} has shape {found}, the model's {name} "
                             f"needs {needed}; the model is unchanged")
        values[name] = _checked_numbers(torch, theirs[name], f"module parameter {name!r}")
    for name, matrix in ours.items():
        for row, numbers in zip(matrix, values[name]):
            for p, number in zip(row, numbers):
                p.data = number
