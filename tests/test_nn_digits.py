"""The handwritten digits: nn.load_digits, the stratified split every digits demo uses, and the recipe's accuracy.

The digits come from a file that ships with the package (nn/datasets/digits.csv.gz);
that an installed copy of glassgrad finds it is tested in test_packaging.py.
"""

from __future__ import annotations

import csv
import gzip
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import nn
from nn import load_digits, train_test_split

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
sys.path.insert(0, str(EXAMPLES))

import digits  # noqa: E402  (examples/digits.py: the recipe lives there, once)


def read_the_file_with_the_csv_module() -> tuple[list[list[int]], list[int]]:
    """The file's pixels and labels, read another way than load_digits does."""
    with gzip.open(nn.data.DIGITS_FILE, "rt", newline="") as file:
        rows = [[int(cell) for cell in row] for row in csv.reader(file)]
    return [row[:-1] for row in rows], [row[-1] for row in rows]


@pytest.fixture(scope="module")
def loaded() -> tuple[np.ndarray, np.ndarray]:
    return load_digits()


# --- the loader -------------------------------------------------------------------------


def test_there_are_1797_digits_of_64_pixels_each(loaded) -> None:
    X, y = loaded
    assert X.shape == (1797, 64) and y.shape == (1797,)
    assert X.dtype == np.float64 and y.dtype == np.int64


def test_pixels_run_from_blank_paper_at_0_to_full_ink_at_1(loaded) -> None:
    X, _ = loaded
    assert X.min() == 0.0 and X.max() == 1.0
    # the file counts ink from 0 to 16, so every pixel is a whole number of sixteenths
    np.testing.assert_array_equal(X * 16, np.round(X * 16))


def test_each_row_is_the_files_row_scaled_and_its_label(loaded) -> None:
    X, y = loaded
    pixels, labels = read_the_file_with_the_csv_module()
    np.testing.assert_array_equal(X * 16, np.array(pixels, dtype=np.float64))
    np.testing.assert_array_equal(y, labels)


def test_every_digit_has_as_many_images_as_in_the_file(loaded) -> None:
    _, y = loaded
    _, labels = read_the_file_with_the_csv_module()
    assert sorted(set(labels)) == list(range(10))
    assert {digit: int(np.sum(y == digit)) for digit in range(10)} == {d: labels.count(d) for d in range(10)}


def test_a_missing_data_file_says_to_reinstall(monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(nn.data, "DIGITS_FILE", tmp_path / "digits.csv.gz")
    with pytest.raises(FileNotFoundError, match="reinstall glassgrad"):
        load_digits()


# --- the split every digits demo and test uses ------------------------------------------------


def split_rows(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The digits split as the demo splits them, with each row's number in place of its pixels."""
    _, y = load_digits()
    rows = np.arange(len(y)).reshape(-1, 1)
    return train_test_split(rows, y, digits.TEST_FRACTION, seed=seed, stratify=True)


def test_the_split_holds_out_a_quarter_and_uses_every_digit_once() -> None:
    rows_train, rows_test, y_train, y_test = split_rows(seed=0)
    assert len(rows_test) == 450  # ceil(0.25 * 1797)
    assert sorted(np.concatenate([rows_train, rows_test]).ravel().tolist()) == list(range(1797))
    _, y = load_digits()
    np.testing.assert_array_equal(y[rows_train.ravel()], y_train)  # labels travel with their digits
    np.testing.assert_array_equal(y[rows_test.ravel()], y_test)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_each_digit_is_held_out_in_proportion_within_one_image(seed: int) -> None:
    _, _, y_train, y_test = split_rows(seed)
    n, n_test = len(y_train) + len(y_test), len(y_test)
    for digit in range(10):
        in_all = np.sum(y_train == digit) + np.sum(y_test == digit)
        assert abs(np.sum(y_test == digit) - n_test * in_all / n) < 1, digit


def test_the_same_seed_gives_the_same_split_and_another_seed_another() -> None:
    first, again, other = split_rows(seed=4), split_rows(seed=4), split_rows(seed=5)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert set(first[1].ravel()) != set(other[1].ravel())


# --- the recipe -----------------------------------------------------------------------------


# Trains in a fresh Python, as the demo does: there examples/common.py gives numpy's BLAS one thread before
# numpy loads. This test's numpy was loaded with a thread per core, and on a busy two-core machine those
# threads wait on each other: the same training took 29 s here instead of 4.
TRAIN_BY_THE_RECIPE = """
import json
import digits  # imports common first, which sets the BLAS threads
import numpy as np
import nn

split = digits.split_digits(digits.SEED)
model = digits.new_model(digits.HIDDEN, digits.SEED)
history = digits.fit(model, split)
_, X_test, _, y_test = split
held_out = float(np.mean(nn.classify(model, X_test) == y_test))
print(json.dumps({"sizes": model.sizes, "held_out": held_out, "recorded": history.test_accuracy[-1]}))
"""


def test_the_recipe_gets_97_percent_of_the_held_out_digits_right_on_the_demos_seed() -> None:
    done = subprocess.run([sys.executable, "-c", TRAIN_BY_THE_RECIPE], cwd=EXAMPLES, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.splitlines()[-1])
    assert result["sizes"] == [64, 32, 10]
    assert result["held_out"] >= digits.TARGET == 0.97
    assert result["recorded"] == result["held_out"]  # the History's last figure is the trained model's
