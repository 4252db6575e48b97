"""Neural networks on top of the engine: modules, losses, optimizers, datasets, saving.

``nn.module`` builds neurons, layers and MLPs from engine Values; ``nn.losses``
turns their outputs into one Value to call ``backward`` on (``LOSSES`` has one
record per loss); ``nn.optim`` steps the parameters; ``nn.data`` generates
small 2-D datasets with numpy; ``nn.serialize`` saves and loads parameters as
JSON; ``nn.train`` runs the training loop and ``nn.evaluate`` evaluates a
model over many points at once; ``nn.torch_bridge`` turns an MLP into a
PyTorch module and copies trained parameters back (the way out). This file only gathers the public names, and
says where a renamed one went.
"""

from nn.data import (
    DATASETS,
    make_blobs,
    make_circles,
    make_dataset,
    make_moons,
    make_spirals,
    make_xor,
    train_test_split,
)
from nn.evaluate import Hardest, classify, find_hardest, hardest_point, input_gradients, layer_outputs, predict
from nn.losses import (
    LOSSES,
    PER_SAMPLE_LOSSES,
    bce_with_logits_loss,
    binary_cross_entropy,
    hinge,
    hinge_loss,
    l2_penalty,
    mean,
    mse_loss,
    softmax_cross_entropy,
    softmax_cross_entropy_loss,
    squared_error,
)
from nn.module import MLP, Layer, Module, Neuron
from nn.optim import SGD, Adam
from nn.serialize import load_parameters, save_parameters
from nn.torch_bridge import from_torch, to_torch
from nn.train import History, train

__all__ = [
    "Hardest",
    "DATASETS",
    "History",
    "LOSSES",
    "MLP",
    "PER_SAMPLE_LOSSES",
    "SGD",
    "Adam",
    "Layer",
    "Module",
    "Neuron",
    "bce_with_logits_loss",
    "classify",
    "binary_cross_entropy",
    "find_hardest",
    "from_torch",
    "hardest_point",
    "hinge",
    "hinge_loss",
    "input_gradients",
    "l2_penalty",
    "layer_outputs",
    "load_parameters",
    "make_blobs",
    "make_circles",
    "make_dataset",
    "make_moons",
    "make_spirals",
    "make_xor",
    "mean",
    "mse_loss",
    "predict",
    "save_parameters",
    "softmax_cross_entropy",
    "softmax_cross_entropy_loss",
    "squared_error",
    "to_torch",
    "train",
    "train_test_split",
]

# Old names, and where each went: asking nn for one says so instead of a bare AttributeError.
_RENAMED = {
    "load": 'nn.make_dataset("moons", ...) makes a dataset by name; '
            "nn.load_parameters(model, path) reads parameters that save_parameters wrote",
}


def __getattr__(name: str) -> object:
    if name in _RENAMED:
        raise AttributeError(f"nn.{name} was renamed: {_RENAMED[name]}")
    raise AttributeError(f"module 'nn' has no attribute {name!r}")
