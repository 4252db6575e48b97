"""Small numerical helpers shared by the engine's tests."""

from __future__ import annotations

from collections.abc import Callable, Sequence


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
