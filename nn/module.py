"""Neurons, layers and multi-layer perceptrons built from engine Values.

A ``Neuron`` computes ``activation(b + w1*x1 + w2*x2 + ...)``; a ``Layer`` is a
list of neurons that read the same inputs; an ``MLP`` is a list of layers, each
feeding the next. Every weight and bias is a leaf ``Value`` whose ``label``
says where it lives (``"L1.N3.w2"``: layer 1, neuron 3, weight 2), so a rendered
graph can name it; ``format_label`` makes these labels and ``parse_label`` reads
them back. The API is micrograd's.
"""

from __future__ import annotations

import numbers
import random
from collections.abc import Sequence

from engine import Value

__all__ = ["Module", "Neuron", "Layer", "MLP", "ACTIVATIONS", "INITS", "format_label", "parse_label", "weight_bound"]

# The hidden activations a model may use; "linear" means none.
ACTIVATIONS = ("relu", "tanh", "sigmoid", "linear")

# How a neuron's first weights are drawn (see weight_bound).
INITS = ("micrograd", "fan_in")


def weight_bound(init: str, nin: int) -> float:
    """A neuron with ``nin`` inputs draws its first weights uniformly from [-bound, bound].

    - "micrograd": bound 1, whatever ``nin``.
    - "fan_in": bound 1/sqrt(nin), as PyTorch's ``nn.Linear`` draws its
      weights (nin is the neuron's "fan-in"). A weighted sum of nin inputs then
      starts about as large as one input, whether there are 2 inputs or 64;
      with bound 1, a neuron reading 64 pixels starts with sums several times
      larger than its inputs, and the next layer's sums larger again.
    """
    if init not in INITS:
        raise ValueError(f"init={init!r}: choose one of {', '.join(INITS)}")
    return 1.0 if init == "micrograd" else nin ** -0.5


def format_label(layer: str, neuron: int) -> str:
    """The label of neuron ``neuron`` (from 1) of ``layer``, "L1.N3"; its parameters add ".w2", ".b"."""
    return f"{layer}.N{neuron}"


def parse_label(text: str) -> tuple[str, int, str | None] | None:
    """(layer, neuron, part) of a label ``format_label`` made, or of one of its parameters; else None.

    >>> parse_label("L1.N3"), parse_label("L1.N3.w2"), parse_label("loss"), parse_label("L1.x")
    (('L1', 3, None), ('L1', 3, 'w2'), None, None)
    """
    names = text.split(".")
    if len(names) not in (2, 3) or not all(names):
        return None
    layer, neuron, *part = names
    number = neuron[1:]
    if neuron[0] != "N" or not number.isdecimal() or str(int(number)) != number:
        return None  # "N" and the number as format_label writes it, so that the two meet again
    return layer, int(number), part[0] if part else None


class Module:
    """Anything with parameters: ``parameters()`` lists them, ``zero_grad()`` clears them."""

    def parameters(self) -> list[Value]:
        return []

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = 0.0

    def num_parameters(self) -> int:
        return len(self.parameters())

    def architecture(self) -> dict | None:
        """The constructor arguments that fix the model's shape, or None; ``save_parameters`` records them.

        ``type(model)(**model.architecture())`` builds a model of the same shape.
        """
        return None


class Neuron(Module):
    """``activation(b + sum_i w_i * x_i)`` over ``nin`` inputs.

    ``nonlin=True`` (micrograd's name) applies ``activation``; ``nonlin=False``
    gives a linear neuron. Weights start uniform in [-1, 1] as in micrograd
    (``init="fan_in"``: in [-1/sqrt(nin), 1/sqrt(nin)], see ``weight_bound``),
    drawn from ``rng`` (a ``random.Random``) so that a seed fixes them; the bias
    starts at 0.
    """

    def __init__(
        self,
        nin: int,
        nonlin: bool = True,
        activation: str = "relu",
        rng: random.Random | None = None,
        label: str = "N",
        init: str = "micrograd",
    ) -> None:
        if not isinstance(nin, int) or isinstance(nin, bool) or nin < 1:
            raise ValueError(f"Neuron(nin={nin!r}): the number of inputs must be a positive int")
        if activation not in ACTIVATIONS:
            raise ValueError(f"Neuron(activation={activation!r}): choose one of {', '.join(ACTIVATIONS)}")
        bound = weight_bound(init, nin)
        rng = rng if rng is not None else random.Random()
        self.w = [Value(rng.uniform(-bound, bound), label=f"{label}.w{i + 1}") for i in range(nin)]
        self.b = Value(0.0, label=f"{label}.b")
        self.nonlin = nonlin
        self.activation = activation if nonlin else "linear"
        self.label = label

    def __call__(self, x: Sequence[Value | float]) -> Value:
        if len(x) != len(self.w):
            raise ValueError(f"{self.label}: expected {len(self.w)} inputs, got {len(x)}")
        act = Value.dot(self.w, x, self.b)  # b + w1*x1 + w2*x2 + ..., one node
        if self.activation == "relu":
            out = act.relu()
        elif self.activation == "tanh":
            out = act.tanh()
        elif self.activation == "sigmoid":
            out = act.sigmoid()
        else:
            out = act
        out.label = self.label  # names the neuron's output, so viz can group the neuron's nodes
        return out

    def parameters(self) -> list[Value]:
        return self.w + [self.b]

    def __repr__(self) -> str:
        kind = self.activation.capitalize() if self.nonlin else "Linear"
        return f"{kind}Neuron({len(self.w)})"


class Layer(Module):
    """``nout`` neurons reading the same ``nin`` inputs. Calling it always returns a list."""

    def __init__(
        self,
        nin: int,
        nout: int,
        nonlin: bool = True,
        activation: str = "relu",
        rng: random.Random | None = None,
        label: str = "L",
        init: str = "micrograd",
    ) -> None:
        if not isinstance(nout, int) or isinstance(nout, bool) or nout < 1:
            raise ValueError(f"Layer(nout={nout!r}): the number of neurons must be a positive int")
        rng = rng if rng is not None else random.Random()
        self.neurons = [
            Neuron(nin, nonlin=nonlin, activation=activation, rng=rng, label=format_label(label, j + 1), init=init)
            for j in range(nout)
        ]
        self.label = label

    def __call__(self, x: Sequence[Value | float]) -> list[Value]:
        # numbers become input leaves once here, so every neuron shares them (and they get a grad)
        x = [xi if isinstance(xi, Value) else Value(xi, label=f"x{i + 1}") for i, xi in enumerate(x)]
        return [neuron(x) for neuron in self.neurons]

    def parameters(self) -> list[Value]:
        return [p for neuron in self.neurons for p in neuron.parameters()]

    @property
    def nin(self) -> int:
        return len(self.neurons[0].w)

    @property
    def nout(self) -> int:
        return len(self.neurons)

    @property
    def activation(self) -> str:
        return self.neurons[0].activation

    def __repr__(self) -> str:
        return f"Layer of [{', '.join(str(n) for n in self.neurons)}]"


class MLP(Module):
    """A multi-layer perceptron: ``MLP(2, [16, 16, 1])`` has two hidden layers of 16.

    Hidden layers use ``activation`` ("relu", micrograd's default, "tanh" or
    "sigmoid"); the output layer is linear. ``seed`` makes the initial weights
    reproducible; ``init`` says how they are drawn: "micrograd" (uniform in
    [-1, 1]) or "fan_in" (uniform in [-1/sqrt(nin), 1/sqrt(nin)] for a neuron
    with nin inputs, PyTorch's choice, better for wide inputs such as 64
    pixels; see ``weight_bound``). Calling the model returns a Value when the
    last layer has one neuron, else a list of Values.
    """

    def __init__(
        self,
        nin: int,
        nouts: Sequence[int],
        activation: str = "relu",
        seed: int | None = None,
        init: str = "micrograd",
    ) -> None:
        if not isinstance(nin, int) or isinstance(nin, bool) or nin < 1:
            raise ValueError(f"MLP(nin={nin!r}): the number of inputs must be a positive int")
        if isinstance(nouts, (str, bytes)) or not hasattr(nouts, "__iter__"):
            raise TypeError(f"MLP(nouts={nouts!r}): give a list of layer sizes, e.g. MLP(2, [16, 16, 1])")
        nouts = list(nouts)
        if not nouts:
            raise ValueError("MLP(nouts=[]): give at least one layer size, e.g. MLP(2, [16, 16, 1])")
        for size in nouts:
            if not isinstance(size, numbers.Integral) or isinstance(size, bool) or size < 1:
                raise ValueError(f"MLP(nouts={nouts!r}): each layer size must be a positive int, got {size!r}")
        nouts = [int(size) for size in nouts]  # numpy integers too, stored as plain ints
        if activation not in ACTIVATIONS:
            raise ValueError(f"MLP(activation={activation!r}): choose one of {', '.join(ACTIVATIONS)}")
        if init not in INITS:
            raise ValueError(f"MLP(init={init!r}): choose one of {', '.join(INITS)}")
        rng = random.Random(seed)
        sizes = [nin] + nouts
        self.layers = [
            Layer(
                sizes[i],
                sizes[i + 1],
                nonlin=i != len(nouts) - 1,
                activation=activation,
                rng=rng,
                label=f"L{i + 1}",
                init=init,
            )
            for i in range(len(nouts))
        ]
        self.nin = nin
        self.sizes = sizes
        self.activation = activation
        self.seed = seed
        self.init = init

    def __call__(self, x: Sequence[Value | float]) -> Value | list[Value]:
        for layer in self.layers:
            x = layer(x)
        return x[0] if len(x) == 1 else x

    def parameters(self) -> list[Value]:
        return [p for layer in self.layers for p in layer.parameters()]

    def architecture(self) -> dict:
        return {"nin": self.nin, "nouts": self.sizes[1:], "activation": self.activation}

    def __repr__(self) -> str:
        shape = " -> ".join(str(s) for s in self.sizes)
        # `activation` is the hidden layers' alone: a single layer is the linear output, whatever it says
        hidden = f"{self.activation} hidden" if len(self.layers) > 1 else "no hidden layer"
        return f"MLP({shape}, {hidden}, linear output, {self.num_parameters()} parameters)"
