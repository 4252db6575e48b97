"""Datasets to train on and to draw: small 2-D ones generated from a seed, and real digits.

Each generator returns ``X``, a float64 array of shape (n, 2) (one point per
row), and ``y``, int64 class labels 0..k-1, split between the classes as evenly
as possible and shuffled. Nothing is downloaded: numpy draws every number from
``np.random.default_rng(seed)``, so the same seed gives the same arrays.

``load_digits`` reads real data instead: 1,797 handwritten digits of 8x8
pixels that ship with the package (``nn/datasets``, with their source and
licence). ``train_test_split`` holds out a test set from either kind.
``load_names`` reads the 32,033 first names a character model learns from
(``nn.GPT``), and ``split_names`` holds out a test set of them.

    X, y = make_moons(200, noise=0.1, seed=1)
    X, y = make_dataset("spirals", n=300, classes=3)   # the same generators, by name
    X_train, X_test, y_train, y_test = train_test_split(X, y)
    X, y = load_digits()                               # X: (1797, 64) in 0..1
    X_train, X_test, y_train, y_test = train_test_split(X, y, 0.25, seed=0, stratify=True)
"""

from __future__ import annotations

import gzip
import math
import numbers
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

__all__ = [
    "DATASETS",
    "load_digits",
    "load_names",
    "make_blobs",
    "make_circles",
    "make_dataset",
    "make_moons",
    "make_spirals",
    "make_xor",
    "split_names",
    "train_test_split",
]


# --- argument checks -------------------------------------------------------


def _check_count(value: object, name: str, dataset: str, minimum: int) -> int:
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise TypeError(f"{dataset}: {name} must be an int, got {value!r} of type {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{dataset}: {name} must be at least {minimum}, got {value}")
    return int(value)


def _check_non_negative(value: object, name: str, dataset: str) -> float:
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise TypeError(f"{dataset}: {name} must be a number, got {value!r} of type {type(value).__name__}")
    if not 0.0 <= value < math.inf:
        raise ValueError(f"{dataset}: {name} must be a finite number >= 0, got {value!r}")
    return float(value)


def _class_sizes(n: int, classes: int) -> list[int]:
    """n split over the classes as evenly as possible: the first n % classes get one more."""
    return [n // classes + (1 if k < n % classes else 0) for k in range(classes)]


def _labels(sizes: list[int]) -> np.ndarray:
    return np.repeat(np.arange(len(sizes), dtype=np.int64), sizes)


def _shuffled(X: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    order = rng.permutation(len(X))
    return X[order].astype(np.float64), y[order].astype(np.int64)


# --- the datasets ----------------------------------------------------------


def make_moons(n: int = 100, noise: float = 0.1, seed: int | None = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (scikit-learn's geometry), with Gaussian noise of std ``noise``.

    Class 0 is the upper half circle (cos t, sin t); class 1 the lower one
    (1 - cos t, 0.5 - sin t), with t evenly spaced in [0, pi]. Before noise, x
    spans [-1, 2] and y spans [-0.5, 1].
    """
    n = _check_count(n, "n", "make_moons", 2)
    noise = _check_non_negative(noise, "noise", "make_moons")
    rng = np.random.default_rng(seed)
    upper, lower = _class_sizes(n, 2)
    t_upper = np.linspace(0.0, math.pi, upper)
    t_lower = np.linspace(0.0, math.pi, lower)
    X = np.concatenate([
        np.column_stack([np.cos(t_upper), np.sin(t_upper)]),
        np.column_stack([1.0 - np.cos(t_lower), 1.0 - np.sin(t_lower) - 0.5]),
    ])
    X = X + rng.normal(scale=noise, size=X.shape)
    return _shuffled(X, _labels([upper, lower]), rng)


def make_circles(
    n: int = 100, noise: float = 0.05, factor: float = 0.5, seed: int | None = 0
) -> tuple[np.ndarray, np.ndarray]:
    """A circle of radius 1 (class 0) around a circle of radius ``factor`` (class 1), plus noise.

    Points are evenly spaced in angle on each circle before the Gaussian noise
    of std ``noise`` is added; ``factor`` must lie in [0, 1).
    """
    n = _check_count(n, "n", "make_circles", 2)
    noise = _check_non_negative(noise, "noise", "make_circles")
    factor = _check_non_negative(factor, "factor", "make_circles")
    if not factor < 1.0:
        raise ValueError(f"make_circles: factor (inner radius / outer radius) must be below 1, got {factor}")
    rng = np.random.default_rng(seed)
    outer, inner = _class_sizes(n, 2)
    angle_outer = np.linspace(0.0, 2.0 * math.pi, outer, endpoint=False)
    angle_inner = np.linspace(0.0, 2.0 * math.pi, inner, endpoint=False)
    X = np.concatenate([
        np.column_stack([np.cos(angle_outer), np.sin(angle_outer)]),
        factor * np.column_stack([np.cos(angle_inner), np.sin(angle_inner)]),
    ])
    X = X + rng.normal(scale=noise, size=X.shape)
    return _shuffled(X, _labels([outer, inner]), rng)


# The four corners of the XOR square, ordered so that labels alternate 0, 1, 0, 1.
_XOR_CORNERS = np.array([[1.0, 1.0], [1.0, -1.0], [-1.0, -1.0], [-1.0, 1.0]])


def make_xor(n: int = 100, noise: float = 0.1, seed: int | None = 0) -> tuple[np.ndarray, np.ndarray]:
    """Points around the four corners (+-1, +-1), labelled by XOR of their signs.

    The label is 1 where x and y have opposite signs (sign(x) * sign(y) = -1)
    and 0 where they agree, so no straight line separates the classes. The
    corners are used in turn and Gaussian noise of std ``noise`` is added; the
    label is that of the corner a point was drawn around.
    """
    n = _check_count(n, "n", "make_xor", 2)
    noise = _check_non_negative(noise, "noise", "make_xor")
    rng = np.random.default_rng(seed)
    corners = _XOR_CORNERS[np.arange(n) % 4]
    y = (corners[:, 0] * corners[:, 1] < 0).astype(np.int64)
    X = corners + rng.normal(scale=noise, size=corners.shape)
    return _shuffled(X, y, rng)


def make_spirals(
    n: int = 150, classes: int = 3, noise: float = 0.2, seed: int | None = 0
) -> tuple[np.ndarray, np.ndarray]:
    """``classes`` spiral arms wound around the origin (the CS231n spiral data).

    Arm k has points at radius r evenly spaced in [0, 1] and angle
    2*pi*k/classes + 4*r + noise * N(0, 1), so ``noise`` is the std of the
    angle in radians; the point is r * (sin angle, cos angle).
    """
    classes = _check_count(classes, "classes", "make_spirals", 2)
    n = _check_count(n, "n", "make_spirals", classes)
    noise = _check_non_negative(noise, "noise", "make_spirals")
    rng = np.random.default_rng(seed)
    sizes = _class_sizes(n, classes)
    arms = []
    for k, size in enumerate(sizes):
        radius = np.linspace(0.0, 1.0, size)
        angle = 2.0 * math.pi * k / classes + 4.0 * radius + rng.normal(scale=noise, size=size)
        arms.append(radius[:, None] * np.column_stack([np.sin(angle), np.cos(angle)]))
    return _shuffled(np.concatenate(arms), _labels(sizes), rng)


def make_blobs(
    n: int = 100, centers: int = 3, std: float = 0.5, seed: int | None = 0
) -> tuple[np.ndarray, np.ndarray]:
    """``centers`` Gaussian clouds of std ``std``, one per class.

    Center k sits at 2 * (cos(2*pi*k/centers), sin(2*pi*k/centers)): evenly
    spaced on a circle of radius 2, so with the default std the clouds barely
    touch.
    """
    centers = _check_count(centers, "centers", "make_blobs", 2)
    n = _check_count(n, "n", "make_blobs", centers)
    std = _check_non_negative(std, "std", "make_blobs")
    rng = np.random.default_rng(seed)
    sizes = _class_sizes(n, centers)
    y = _labels(sizes)
    angles = 2.0 * math.pi * np.arange(centers) / centers
    middles = 2.0 * np.column_stack([np.cos(angles), np.sin(angles)])
    X = middles[y] + rng.normal(scale=std, size=(n, 2))
    return _shuffled(X, y, rng)


DATASETS: dict[str, Callable[..., tuple[np.ndarray, np.ndarray]]] = {
    "moons": make_moons,
    "circles": make_circles,
    "xor": make_xor,
    "spirals": make_spirals,
    "blobs": make_blobs,
}


def make_dataset(name: str, **kwargs: object) -> tuple[np.ndarray, np.ndarray]:
    """The dataset called ``name`` (a key of DATASETS), made by its generator with ``kwargs``.

    ``make_dataset("moons", n=200)`` is ``make_moons(n=200)``: for a demo or a
    command line that takes the dataset's name as text.
    """
    if name not in DATASETS:
        raise ValueError(f"make_dataset: unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
    return DATASETS[name](**kwargs)


# --- real data that ships with the package ----------------------------------

DIGITS_FILE = Path(__file__).resolve().parent / "datasets" / "digits.csv.gz"
DIGIT_SIDE = 8  # each digit is an 8x8 image
DIGIT_INK = 16  # a pixel counts the inked bits of a 4x4 block of the scan: 0..16


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """The 1,797 handwritten digits of UCI's optical digits test set: (X, y).

    ``X`` is float64 of shape (1797, 64): each row is one 8x8 image read row by
    row from the top left, its pixels divided by 16 so that 0 is blank paper
    and 1 full ink; ``row.reshape(8, 8)`` draws it. ``y`` is int64, the digit
    0-9. The rows keep the file's order (the digits are not sorted by class).
    Source and licence (CC BY 4.0): ``nn/datasets/README.md``.
    """
    try:
        with gzip.open(DIGITS_FILE, "rt") as file:
            table = np.loadtxt(file, delimiter=",", dtype=np.int64, ndmin=2)
    except FileNotFoundError:
        raise FileNotFoundError(
            f"load_digits: the digits file that ships with glassgrad is missing ({DIGITS_FILE}); "
            "reinstall glassgrad (pip install --force-reinstall glassgrad, or pip install . from a checkout)"
        ) from None
    pixels, labels = table[:, :-1], table[:, -1]
    return pixels.astype(np.float64) / DIGIT_INK, labels


NAMES_FILE = Path(__file__).resolve().parent / "datasets" / "names.txt"


def load_names() -> list[str]:
    """The 32,033 first names of makemore's ``names.txt``, in the file's order.

    Each is lowercase letters a-z only, 2 to 15 of them; 29,494 are
    different (some names are listed more than once). They come from the US
    Social Security Administration's baby-name records. Source and licence
    (MIT): ``nn/datasets/README.md``.
    """
    try:
        text = NAMES_FILE.read_text(encoding="ascii")
    except FileNotFoundError:
        raise FileNotFoundError(
            f"load_names: the names file that ships with glassgrad is missing ({NAMES_FILE}); "
            "reinstall glassgrad (pip install --force-reinstall glassgrad, or pip install . from a checkout)"
        ) from None
    return text.split()


# --- holding out a test set --------------------------------------------------


def train_test_split(
    X: np.ndarray, y: np.ndarray, test_fraction: float = 0.25, seed: int | None = 0, stratify: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Shuffle the points and hold out ``test_fraction`` of them: (X_train, X_test, y_train, y_test).

    The test set has ceil(test_fraction * n) points; both sets must end up non-empty.
    With ``stratify=True`` each class gives the test set its share of those
    points (within one point of n_test * class_size / n), so a class is as
    common in the test set as in the data; the same seed gives the same split.
    """
    X, y = np.asarray(X), np.asarray(y)
    if len(X) != len(y):
        raise ValueError(f"train_test_split: X has {len(X)} points but y has {len(y)} labels")
    if not isinstance(test_fraction, numbers.Real) or isinstance(test_fraction, bool):
        raise TypeError(f"train_test_split: test_fraction must be a number, got {test_fraction!r}")
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"train_test_split: test_fraction must lie strictly between 0 and 1, got {test_fraction}")
    n_test = math.ceil(test_fraction * len(X))
    if not 0 < n_test < len(X):
        raise ValueError(
            f"train_test_split: {len(X)} points cannot be split with test_fraction={test_fraction} "
            f"(the test set would have {n_test}); both sets need at least one point"
        )
    rng = np.random.default_rng(seed)
    if stratify:
        test = _stratified_test_rows(y, n_test, rng)
        train = rng.permutation(np.setdiff1d(np.arange(len(X)), test))
    else:
        order = rng.permutation(len(X))
        test, train = order[:n_test], order[n_test:]
    return X[train], X[test], y[train], y[test]


def _stratified_test_rows(y: np.ndarray, n_test: int, rng: np.random.Generator) -> np.ndarray:
    """n_test row numbers, shuffled, each class giving its share: n_test * class_size / n, rounded.

    The shares are rounded down, and the points still missing go one each to the
    classes whose shares lost the most in rounding, so they add up to n_test.
    """
    classes, sizes = np.unique(y, return_counts=True)
    shares = sizes * n_test / len(y)
    counts = np.floor(shares).astype(np.int64)
    missing = n_test - int(counts.sum())
    counts[np.argsort(counts - shares, kind="stable")[:missing]] += 1
    picked = [rng.permutation(np.flatnonzero(y == label))[:count] for label, count in zip(classes, counts)]
    return rng.permutation(np.concatenate(picked))


def split_names(names: Sequence[str], test_fraction: float = 0.1, seed: int | None = 0) -> tuple[list[str], list[str]]:
    """Shuffle the names and hold out ``test_fraction`` of them: (train_names, test_names).

    ``train_test_split`` does the shuffling (names have no labels, so their row
    numbers stand in for both of its arrays): the test set has
    ceil(test_fraction * n) names, both sets come out shuffled, and the same
    seed gives the same split.
    """
    rows = np.arange(len(names))
    train_rows, test_rows, _, _ = train_test_split(rows, rows, test_fraction, seed)
    return [names[i] for i in train_rows], [names[i] for i in test_rows]
