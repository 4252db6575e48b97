"""The playground's data: the points, their train/test split, and the plane they are drawn on.

The points come from ``nn.make_dataset`` and ``nn.train_test_split`` (or from
the page's clicks and CSV files: the dataset is then "custom"). A ``Data`` is
never changed: a new point, a new split or a new file makes a new one, so a
frame can share its rows with the next.

- A CSV is rows of x1,x2,label (a header line is allowed); ``parse_csv`` refuses
  a bad file with a ``BadRequest`` naming the line and its problem.
- The extent of the plane is a square around the data with a margin; it stays
  while the data stays (and grows only when a clicked point falls outside it).
  ``grid`` gives the centres of its pixels, made once per extent.
"""

from __future__ import annotations

import csv
import functools
import io
import math
from dataclasses import dataclass

import numpy as np

from nn.data import make_dataset, train_test_split
from viz.playground.settings import GRID_SIZE, LIMITS, MAX_CLASSES, MAX_POINTS, BadRequest, Settings


def generator_arguments(settings: Settings) -> dict:
    """The keyword arguments of ``nn.make_dataset`` for these settings (also written by ``as_code``)."""
    arguments: dict = {"n": settings.points}
    if settings.dataset == "spirals":
        arguments["classes"] = settings.classes
    if settings.dataset == "blobs":
        arguments.update(centers=settings.classes, std=settings.noise)
    else:
        arguments["noise"] = settings.noise
    arguments["seed"] = settings.seed
    return arguments


@dataclass(frozen=True)
class Data:
    """Every point (train and test in one array, in the order the frame lists them), and the plane drawn."""

    X: np.ndarray  # (n, 2)
    y: np.ndarray  # (n,) int labels 0..classes-1
    is_test: np.ndarray  # (n,) bool
    classes: int
    extent: tuple[float, float, float, float]  # x1 min, x1 max, x2 min, x2 max

    @classmethod
    def split(cls, X: np.ndarray, y: np.ndarray, classes: int, settings: Settings) -> Data:
        """All of (X, y), split into train then test by ``test_fraction`` and ``seed``."""
        try:
            X_train, X_test, y_train, y_test = train_test_split(X, y, settings.test_fraction, seed=settings.seed)
        except ValueError as error:  # too few points for this test fraction
            raise BadRequest(f"test_fraction: {str(error).removeprefix('train_test_split: ')}") from None
        is_test = np.r_[np.zeros(len(X_train), bool), np.ones(len(X_test), bool)]
        X, y = np.concatenate([X_train, X_test]), np.concatenate([y_train, y_test]).astype(np.int64)
        return cls(X, y, is_test, classes, square_around(X))

    @classmethod
    def generated(cls, settings: Settings) -> Data:
        X, y = make_dataset(settings.dataset, **generator_arguments(settings))
        return cls.split(X, y, settings.class_count, settings)

    def train(self) -> tuple[np.ndarray, np.ndarray]:
        return self.X[~self.is_test], self.y[~self.is_test]

    @functools.cached_property
    def points(self) -> list[list]:
        """The frame's [x1, x2, label, is_test] rows: made once, as the data never changes (a change is new data)."""
        return [[round(x1, 5), round(x2, 5), label, test]
                for (x1, x2), label, test in zip(self.X.tolist(), self.y.tolist(), self.is_test.tolist())]

    def test(self) -> tuple[np.ndarray | None, np.ndarray | None]:
        if not self.is_test.any():
            return None, None
        return self.X[self.is_test], self.y[self.is_test]


def square_around(X: np.ndarray, margin: float = 0.15) -> tuple[float, float, float, float]:
    """A square holding every point with a margin of ``margin`` of its side: pixels stay square."""
    low, high = X.min(axis=0), X.max(axis=0)
    middle, half = (low + high) / 2, max(float((high - low).max()) / 2, 0.5) * (1 + 2 * margin)
    return (float(middle[0] - half), float(middle[0] + half), float(middle[1] - half), float(middle[1] + half))


@functools.lru_cache(maxsize=8)  # the extent stays while the data does: the same grid, frame after frame
def grid(extent: tuple[float, float, float, float], size: int = GRID_SIZE) -> np.ndarray:
    """The centres of size x size pixels over the extent, row by row, row 0 at the top (x2 largest): (size**2, 2)."""
    x1min, x1max, x2min, x2max = extent
    x1 = x1min + (np.arange(size) + 0.5) * (x1max - x1min) / size
    x2 = x2max - (np.arange(size) + 0.5) * (x2max - x2min) / size
    columns, rows = np.meshgrid(x1, x2)
    centres = np.column_stack([columns.ravel(), rows.ravel()])
    centres.flags.writeable = False  # shared by every frame
    return centres


def parse_csv(text: str) -> tuple[np.ndarray, np.ndarray]:
    """Rows of x1,x2,label (a header line allowed); BadRequest naming the line and its problem."""
    limit = LIMITS["max_csv_bytes"]
    if len(text.encode("utf-8")) > limit:
        raise BadRequest(f"the CSV file is {len(text.encode('utf-8')):,} bytes; the limit is {limit:,}")
    rows = [(number, row) for number, row in enumerate(csv.reader(io.StringIO(text)), start=1)
            if any(cell.strip() for cell in row)]
    if rows and not _is_number(rows[0][1][0] if rows[0][1] else ""):
        rows = rows[1:]  # a header line such as x1,x2,label
    if len(rows) > MAX_POINTS:
        raise BadRequest(f"the CSV file has {len(rows)} points; the limit is {MAX_POINTS}")
    X, labels = [], []
    for number, row in rows:
        if len(row) != 3:
            raise BadRequest(f"CSV line {number}: {len(row)} columns; each line must be x1,x2,label")
        x1, x2 = (_csv_coordinate(number, cell) for cell in row[:2])
        labels.append(_csv_label(number, row[2]))
        X.append((x1, x2))
    y = np.array(labels, dtype=np.int64)
    if len(X) < 4:
        raise BadRequest(f"the CSV file has {len(X)} points; give at least 4 (some for training, some for testing)")
    classes = int(y.max()) + 1
    missing = sorted(set(range(classes)) - set(labels))
    if classes < 2 or classes > MAX_CLASSES or missing:
        raise BadRequest(f"CSV labels must be the classes 0..k-1 with 2 <= k <= {MAX_CLASSES}, each used at least "
                         f"once; this file has labels {sorted(set(labels))}")
    return np.array(X, dtype=float), y


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _csv_coordinate(number: int, cell: str) -> float:
    try:
        value = float(cell)
    except ValueError:
        raise BadRequest(f"CSV line {number}: {cell.strip()[:30]!r} is not a number") from None
    if not math.isfinite(value) or abs(value) > 1e6:
        raise BadRequest(f"CSV line {number}: {cell.strip()[:30]!r} is not a finite number up to 1e6 in size")
    return value


def _csv_label(number: int, cell: str) -> int:
    try:
        value = float(cell)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value.is_integer() and 0 <= value < MAX_CLASSES):
        raise BadRequest(f"CSV line {number}: label {cell.strip()[:30]!r} is not a class number 0 to {MAX_CLASSES - 1}")
    return int(value)
