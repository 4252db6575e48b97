"""Neural networks on top of the engine: modules, losses, optimizers, datasets, saving.

``nn.module`` builds neurons, layers and MLPs from engine Values; ``nn.losses``
turns their outputs into one Value to call ``backward`` on (``LOSSES`` has one
record per loss); ``nn.optim`` steps the parameters; ``nn.data`` generates
small 2-D datasets with numpy, loads the handwritten digits that ship with the
package (``load_digits``) and holds out test sets (``train_test_split``);
``nn.serialize`` saves and loads parameters as JSON; ``nn.train`` runs the
training loop and ``nn.evaluate`` evaluates a model over many points at once;
``nn.torch_bridge`` turns an MLP into a PyTorch module and copies trained
parameters back (the way out). Text: ``nn.tokenizer`` turns names into token
ids, ``nn.gpt`` builds a tiny GPT from Values, ``nn.sequence_replay`` replays
its graph over many names at once (one recording per name length), and
``nn.language_model`` trains it (one name per step, or batches of names
through the replay), scores it against a bigram baseline and samples new
names. This file only gathers the public names, and says where a renamed one
went.
"""

from nn.data import (
    DATASETS,
    load_digits,
    load_names,
    make_blobs,
    make_circles,
    make_dataset,
    make_moons,
    make_spirals,
    make_xor,
    split_names,
    train_test_split,
)
from nn.evaluate import Hardest, classify, find_hardest, hardest_point, input_gradients, layer_outputs, predict
from nn.gpt import GPT
from nn.language_model import (
    bigram_loss,
    mean_next_token_loss,
    next_token_loss,
    sample_names,
    train_on_name_batches,
    train_on_names,
)
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
    softmax,
    softmax_cross_entropy,
    softmax_cross_entropy_loss,
    squared_error,
)
from nn.module import MLP, Layer, Module, Neuron
from nn.optim import SGD, Adam, linear_decay
from nn.sequence_replay import NextTokenReplay
from nn.serialize import load_parameters, save_parameters
from nn.tokenizer import CharTokenizer
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
    "CharTokenizer",
    "GPT",
    "Layer",
    "Module",
    "Neuron",
    "NextTokenReplay",
    "bce_with_logits_loss",
    "bigram_loss",
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
    "linear_decay",
    "load_digits",
    "load_names",
    "load_parameters",
    "make_blobs",
    "make_circles",
    "make_dataset",
    "make_moons",
    "make_spirals",
    "make_xor",
    "mean",
    "mean_next_token_loss",
    "mse_loss",
    "next_token_loss",
    "predict",
    "sample_names",
    "save_parameters",
    "softmax",
    "softmax_cross_entropy",
    "softmax_cross_entropy_loss",
    "squared_error",
    "split_names",
    "to_torch",
    "train",
    "train_on_name_batches",
    "train_on_names",
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
