"""Small helpers shared by the tests: numerical ones, pictures, and stand-in models."""

from __future__ import annotations

import inspect
import random
from collections.abc import Callable, Sequence
from pathlib import Path

from engine import Value

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"  # the first eight bytes of every PNG file


def assert_saved_png_fits_a_page(path: Path) -> None:
    """``path`` is a PNG written by viz.style.save: not blank, and no wider than a page of the docs."""
    from matplotlib.image import imread

    from viz.style import PAGE_WIDTH, save

    dpi = inspect.signature(save).parameters["dpi"].default  # what path=... saves at
    assert path.read_bytes().startswith(PNG_SIGNATURE)
    pixels = imread(path)[:, :, :3]
    assert pixels.std() > 0, "the picture is blank"
    width = pixels.shape[1] / dpi - 0.2  # save adds a margin of 0.1 inch on each side
    assert width <= PAGE_WIDTH + 1 / dpi, f"the picture is {width:.2f} inches wide, wider than a page"


def central_difference(
    f: Callable[[list[float]], float], xs: Sequence[float], i: int, h: float = 1e-6
) -> float:
    """Estimate df/dxs[i] as (f(x + h) - f(x - h)) / (2 h).

    The error of this estimate shrinks like h**2 (the odd terms of the Taylor
    series cancel), so with h = 1e-6 in float64 it is dominated by rounding:
    about 1e-16 * |f| / h, i.e. roughly 1e-10 relative to f.
    """
    up = list(xs)
    up[i] += h
    down = list(xs)
    down[i] -= h
    return (f(up) - f(down)) / (2.0 * h)


class SteepAtZero:
    """A stand-in model whose logits are sqrt(p) at p = 0: a finite loss with an infinite gradient."""

    vocab_size, block_size = 2, 4

    def __init__(self, p: float = 0.0) -> None:
        self.p = Value(p, label="p")

    def __call__(self, tokens: list) -> list[list[Value]]:
        return [[self.p ** 0.5, Value(0.0)] for _ in tokens]

    def parameters(self) -> list[Value]:
        return [self.p]


# A GPT small enough for quick tests: two layers, so that what passes between them is tested too.
TINY = {"vocab_size": 7, "n_embd": 8, "n_head": 2, "n_layer": 2, "block_size": 6}


def tiny_gpt(seed: int = 0, std: float = 0.5):
    """A small GPT with weights larger than the initial 0.08, so that attention is far from uniform."""
    from nn import GPT

    model = GPT(**TINY, seed=seed)
    rng = random.Random(seed + 1)
    for p in model.parameters():
        p.data = rng.gauss(0.0, std)
    return model
