"""Specification of nn.data: seeded 2-D datasets and the train/test split."""

from __future__ import annotations

import math

import numpy as np
import pytest

import nn
from nn import (
    DATASETS,
    make_blobs,
    make_circles,
    make_dataset,
    make_moons,
    make_spirals,
    make_xor,
    train_test_split,
)

# name -> number of classes with the generator's default arguments
DEFAULT_CLASSES = {"moons": 2, "circles": 2, "xor": 2, "spirals": 3, "blobs": 3}


def test_every_dataset_is_listed_by_name() -> None:
    assert set(DATASETS) == set(DEFAULT_CLASSES)


@pytest.mark.parametrize("name", sorted(DEFAULT_CLASSES))
def test_points_are_float64_rows_of_two(name: str) -> None:
    X, _ = DATASETS[name](n=61)
    assert X.shape == (61, 2)
    assert X.dtype == np.float64


@pytest.mark.parametrize("name", sorted(DEFAULT_CLASSES))
def test_labels_are_int64_classes_from_zero(name: str) -> None:
    _, y = DATASETS[name](n=61)
    assert y.shape == (61,)
    assert y.dtype == np.int64
    assert set(y.tolist()) == set(range(DEFAULT_CLASSES[name]))


@pytest.mark.parametrize("name", sorted(DEFAULT_CLASSES))
@pytest.mark.parametrize("n", [60, 61, 62, 100])
def test_classes_are_balanced_to_within_one_point(name: str, n: int) -> None:
    _, y = DATASETS[name](n=n)
    counts = np.bincount(y)
    assert counts.sum() == n
    assert counts.max() - counts.min() <= 1


@pytest.mark.parametrize("name", sorted(DEFAULT_CLASSES))
def test_same_seed_gives_identical_arrays(name: str) -> None:
    X1, y1 = DATASETS[name](seed=3)
    X2, y2 = DATASETS[name](seed=3)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)


@pytest.mark.parametrize("name", sorted(DEFAULT_CLASSES))
def test_different_seeds_give_different_points(name: str) -> None:
    X1, _ = DATASETS[name](seed=3)
    X2, _ = DATASETS[name](seed=4)
    assert not np.array_equal(X1, X2)


@pytest.mark.parametrize("name", sorted(DEFAULT_CLASSES))
def test_points_are_shuffled_rather_than_grouped_by_class(name: str) -> None:
    _, y = DATASETS[name](n=100)
    assert not np.array_equal(y, np.sort(y))


# --- geometry ------------------------------------------------------------------------


def test_noiseless_moons_span_scikit_learns_box() -> None:
    X, _ = make_moons(n=102, noise=0.0)  # 51 points per moon: t = 0, pi/2 and pi are among them
    assert X[:, 0].min() == pytest.approx(-1.0) and X[:, 0].max() == pytest.approx(2.0)
    assert X[:, 1].min() == pytest.approx(-0.5) and X[:, 1].max() == pytest.approx(1.0)


def test_noiseless_moons_lie_on_their_half_circles() -> None:
    X, y = make_moons(n=100, noise=0.0)
    upper, lower = X[y == 0], X[y == 1]
    np.testing.assert_allclose(np.hypot(upper[:, 0], upper[:, 1]), 1.0)  # centred at (0, 0), y >= 0
    assert (upper[:, 1] >= -1e-12).all()
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1.0, lower[:, 1] - 0.5), 1.0)  # centred at (1, 0.5)
    assert (lower[:, 1] <= 0.5 + 1e-12).all()


def test_inner_circle_points_are_closer_to_the_origin() -> None:
    X, y = make_circles(n=200, noise=0.05, factor=0.5)
    radius = np.hypot(X[:, 0], X[:, 1])
    assert radius[y == 1].mean() < radius[y == 0].mean()


def test_noiseless_circles_have_radius_one_and_factor() -> None:
    X, y = make_circles(n=50, noise=0.0, factor=0.3)
    radius = np.hypot(X[:, 0], X[:, 1])
    np.testing.assert_allclose(radius[y == 0], 1.0)
    np.testing.assert_allclose(radius[y == 1], 0.3)


def test_noiseless_xor_points_sit_on_corners_labelled_by_sign_disagreement() -> None:
    X, y = make_xor(n=40, noise=0.0)
    np.testing.assert_array_equal(np.abs(X), 1.0)
    np.testing.assert_array_equal(y, (np.sign(X[:, 0]) != np.sign(X[:, 1])).astype(np.int64))


def test_xor_uses_all_four_corners_equally() -> None:
    X, _ = make_xor(n=40, noise=0.0)
    corners, counts = np.unique(X, axis=0, return_counts=True)
    assert len(corners) == 4
    assert counts.tolist() == [10] * 4


def test_noiseless_spiral_points_lie_within_the_unit_disc() -> None:
    X, _ = make_spirals(n=150, classes=3, noise=0.0)
    assert np.hypot(X[:, 0], X[:, 1]).max() == pytest.approx(1.0)


def test_spiral_arms_start_at_the_origin_and_are_rotated_copies() -> None:
    X, y = make_spirals(n=90, classes=3, noise=0.0)
    radius = np.hypot(X[:, 0], X[:, 1])
    outermost = [X[(y == k)][np.argmax(radius[y == k])] for k in range(3)]
    angles = sorted(math.atan2(x, y_) % (2 * math.pi) for x, y_ in outermost)
    gaps = np.diff(angles + [angles[0] + 2 * math.pi])
    np.testing.assert_allclose(gaps, 2 * math.pi / 3)
    assert radius.min() == 0.0


def test_blob_means_are_near_their_centres_on_a_circle_of_radius_two() -> None:
    X, y = make_blobs(n=3000, centers=3, std=0.5)
    for k in range(3):
        angle = 2 * math.pi * k / 3
        centre = np.array([2 * math.cos(angle), 2 * math.sin(angle)])
        # the mean of 1000 points with std 0.5 is off by about 0.5 / sqrt(1000) = 0.016
        assert np.linalg.norm(X[y == k].mean(axis=0) - centre) < 0.1


def test_blob_spread_matches_the_requested_std() -> None:
    X, y = make_blobs(n=4000, centers=2, std=0.3)
    spread = np.concatenate([X[y == k] - X[y == k].mean(axis=0) for k in range(2)]).std()
    assert spread == pytest.approx(0.3, rel=0.05)


def test_spirals_and_blobs_take_the_number_of_classes() -> None:
    assert set(make_spirals(n=50, classes=5)[1].tolist()) == set(range(5))
    assert set(make_blobs(n=50, centers=4)[1].tolist()) == set(range(4))


# --- make_dataset and bad arguments ------------------------------------------------------


def test_make_dataset_passes_keyword_arguments_to_the_generator() -> None:
    X, y = make_dataset("circles", n=30, noise=0.0, seed=2)
    X_direct, y_direct = make_circles(n=30, noise=0.0, seed=2)
    np.testing.assert_array_equal(X, X_direct)
    np.testing.assert_array_equal(y, y_direct)


def test_make_dataset_of_an_unknown_name_lists_the_valid_names() -> None:
    with pytest.raises(ValueError, match="make_dataset: unknown dataset 'mnist'; choose one of moons, circles"):
        make_dataset("mnist")


def test_the_old_name_load_says_where_datasets_and_parameters_went() -> None:
    # nn.load("params.json") used to answer "unknown dataset": the name said nothing about datasets
    renamed = r"nn.load was renamed: nn.make_dataset\(.*nn.load_parameters\(model, path\)"
    with pytest.raises(AttributeError, match=renamed):
        nn.load("params.json")
    assert not hasattr(nn, "load")


def test_a_name_nn_never_had_is_a_plain_attribute_error() -> None:
    with pytest.raises(AttributeError, match="module 'nn' has no attribute 'lod'"):
        nn.lod  # noqa: B018


@pytest.mark.parametrize("build, message", [
    (lambda: make_moons(n=1), "n must be at least 2"),
    (lambda: make_moons(noise=-0.1), "noise must be a finite number >= 0"),
    (lambda: make_circles(factor=1.0), "factor"),
    (lambda: make_circles(factor=-0.5), "factor"),
    (lambda: make_xor(n=0), "n must be at least 2"),
    (lambda: make_spirals(n=2, classes=3), "n must be at least 3"),
    (lambda: make_spirals(classes=1), "classes must be at least 2"),
    (lambda: make_blobs(std=-1.0), "std"),
    (lambda: make_blobs(n=3, centers=5), "n must be at least 5"),
    (lambda: make_moons(noise=math.inf), "noise"),
])
def test_out_of_range_arguments_raise_value_error(build, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build()


@pytest.mark.parametrize("build", [lambda: make_moons(n=10.0), lambda: make_blobs(centers="3"),
                                   lambda: make_xor(noise="high")])
def test_arguments_of_the_wrong_type_raise_type_error(build) -> None:
    with pytest.raises(TypeError):
        build()


# --- train_test_split ---------------------------------------------------------------------


def test_split_holds_out_the_test_fraction_rounded_up() -> None:
    X, y = make_moons(n=101)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_fraction=0.25)
    n_test = math.ceil(0.25 * 101)
    assert (len(X_train), len(X_test), len(y_train), len(y_test)) == (101 - n_test, n_test, 101 - n_test, n_test)


def test_split_uses_every_point_exactly_once_and_keeps_labels_with_points() -> None:
    X = np.arange(40, dtype=float).reshape(20, 2)
    y = np.arange(20)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_fraction=0.3, seed=1)
    assert sorted(np.concatenate([y_train, y_test]).tolist()) == list(range(20))
    np.testing.assert_array_equal(X_train[:, 0], 2 * y_train)
    np.testing.assert_array_equal(X_test[:, 0], 2 * y_test)


def test_split_is_deterministic_by_seed_and_shuffles() -> None:
    X, y = np.arange(40, dtype=float).reshape(20, 2), np.arange(20)
    first = train_test_split(X, y, seed=5)
    second = train_test_split(X, y, seed=5)
    other = train_test_split(X, y, seed=6)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[3], other[3])
    assert not np.array_equal(first[2], np.sort(first[2]))


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.2, 1.5])
def test_split_rejects_a_fraction_outside_zero_to_one(fraction: float) -> None:
    X, y = make_moons(n=20)
    with pytest.raises(ValueError, match="test_fraction"):
        train_test_split(X, y, test_fraction=fraction)


def test_split_rejects_x_and_y_of_different_lengths() -> None:
    with pytest.raises(ValueError, match="X has 10 points but y has 9 labels"):
        train_test_split(np.zeros((10, 2)), np.zeros(9, dtype=np.int64))


def test_split_rejects_a_set_too_small_to_leave_a_training_point() -> None:
    with pytest.raises(ValueError, match="both sets need at least one point"):
        train_test_split(np.zeros((2, 2)), np.array([0, 1]), test_fraction=0.9)


def test_a_stratified_split_gives_each_class_its_share_of_the_test_set() -> None:
    y = np.repeat([0, 1, 2], [50, 30, 20])
    X = np.arange(len(y), dtype=float).reshape(-1, 1)
    _, _, _, y_test = train_test_split(X, y, test_fraction=0.2, seed=3, stratify=True)
    # 20 test points shared 50 : 30 : 20, as the classes are
    assert np.bincount(y_test).tolist() == [10, 6, 4]


def test_a_stratified_split_rounds_the_shares_so_they_add_up_to_the_test_size() -> None:
    y = np.repeat([0, 1], [7, 3])
    X = np.arange(10, dtype=float).reshape(-1, 1)
    _, X_test, _, y_test = train_test_split(X, y, test_fraction=0.25, seed=0, stratify=True)
    # ceil(0.25 * 10) = 3 test points; the shares 3 * 7/10 = 2.1 and 3 * 3/10 = 0.9 round down to 2 and 0,
    # and the one point left goes to class 1, whose share lost more (0.9) to the rounding
    assert np.bincount(y_test).tolist() == [2, 1]
    assert len(X_test) == 3
