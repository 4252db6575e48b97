"""Specification of nn.losses: values against numpy formulas, gradients against finite differences.

Every loss must also be replayable by engine.batch, so it is built from Value
operations only; the last tests record each one and replay it over a batch.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest

from engine import Value
from engine.batch import record
from nn import losses
from tests.helpers import central_difference


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def _values(numbers: list[float]) -> list[Value]:
    return [Value(x) for x in numbers]


def _gradients(loss_of: Callable[[list[Value]], Value], xs: list[float]) -> list[float]:
    inputs = _values(xs)
    loss_of(inputs).backward()
    return [v.grad for v in inputs]


def _assert_gradients_match_central_differences(loss_of: Callable[[list[Value]], Value], xs: list[float]) -> None:
    analytic = _gradients(loss_of, xs)
    for i in range(len(xs)):
        numeric = central_difference(lambda ys: loss_of(_values(ys)).data, xs, i)
        assert math.isclose(analytic[i], numeric, rel_tol=1e-6, abs_tol=1e-8), (i, analytic, numeric)


# --- mean ---------------------------------------------------------------------


def test_mean_matches_numpy() -> None:
    xs = [0.5, -2.0, 3.25, 7.0]
    assert losses.mean(_values(xs)).data == pytest.approx(np.mean(xs), rel=1e-15)


def test_mean_spreads_the_gradient_evenly() -> None:
    assert _gradients(losses.mean, [1.0, 2.0, 3.0, 4.0]) == [0.25] * 4


def test_mean_of_nothing_raises_value_error() -> None:
    with pytest.raises(ValueError, match="at least one"):
        losses.mean([])


# --- squared error ------------------------------------------------------------------


@pytest.mark.parametrize("p, t", [(0.0, 0.0), (1.5, -0.5), (-3.0, 2.0), (0.25, 0.25)])
def test_squared_error_matches_numpy(p: float, t: float) -> None:
    assert losses.squared_error(Value(p), t).data == pytest.approx(np.square(p - t), rel=1e-15)


def test_mse_loss_is_the_mean_of_squared_errors() -> None:
    p, t = np.array([0.5, -1.0, 2.0]), np.array([1.0, -1.0, -0.5])
    assert losses.mse_loss(_values(list(p)), list(t)).data == pytest.approx(np.mean((p - t) ** 2), rel=1e-15)


def test_mse_loss_gradients_match_central_differences() -> None:
    targets = [1.0, -1.0, 0.3]
    _assert_gradients_match_central_differences(lambda ps: losses.mse_loss(ps, targets), [0.5, -2.0, 1.7])


# --- hinge ---------------------------------------------------------------------------


@pytest.mark.parametrize("score", [-2.0, -0.5, 0.0, 0.4, 1.0, 3.0])
@pytest.mark.parametrize("label", [-1, 1])
def test_hinge_matches_numpy(score: float, label: int) -> None:
    assert losses.hinge(Value(score), label).data == np.maximum(0.0, 1.0 - label * score)


def test_hinge_loss_is_the_mean_of_per_sample_hinges() -> None:
    s, y = np.array([2.0, 0.3, -0.7, -3.0]), np.array([1, 1, 1, -1])
    expected = np.mean(np.maximum(0.0, 1.0 - y * s))
    assert losses.hinge_loss(_values(list(s)), list(y)).data == pytest.approx(expected, rel=1e-15)


def test_hinge_loss_gradients_match_central_differences() -> None:
    labels = [1, -1, 1]  # scores away from the kink at margin 1
    _assert_gradients_match_central_differences(lambda s: losses.hinge_loss(s, labels), [0.3, -2.0, -0.4])


@pytest.mark.parametrize("label", [0, 2, 0.5, -2])
def test_hinge_rejects_labels_other_than_plus_or_minus_one(label: float) -> None:
    with pytest.raises(ValueError, match="2\\*y - 1"):
        losses.hinge(Value(0.5), label)


# --- binary cross-entropy ----------------------------------------------------------


@pytest.mark.parametrize("z", [-8.0, -1.5, 0.0, 0.7, 4.0, 15.0])
@pytest.mark.parametrize("y", [0, 1])
def test_binary_cross_entropy_matches_numpy(z: float, y: int) -> None:
    s = _sigmoid(np.float64(z))
    expected = -(y * np.log(s) + (1 - y) * np.log(1.0 - s))
    assert losses.binary_cross_entropy(Value(z), y).data == pytest.approx(expected, rel=1e-9)


def test_bce_with_logits_loss_is_the_mean_of_per_sample_losses() -> None:
    z, y = np.array([-2.0, 0.0, 1.0, 3.0]), np.array([0, 1, 1, 0])
    s = _sigmoid(z)
    expected = np.mean(-(y * np.log(s) + (1 - y) * np.log(1.0 - s)))
    assert losses.bce_with_logits_loss(_values(list(z)), list(y)).data == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("z", [-3.0, -0.2, 0.0, 0.6, 5.0])
@pytest.mark.parametrize("y", [0, 1])
def test_binary_cross_entropy_gradient_is_sigmoid_minus_label(z: float, y: int) -> None:
    (grad,) = _gradients(lambda zs: losses.binary_cross_entropy(zs[0], y), [z])
    assert grad == pytest.approx(_sigmoid(z) - y, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("z", [-3.0, 0.0, 0.6])
def test_binary_cross_entropy_gradient_matches_central_differences(z: float) -> None:
    _assert_gradients_match_central_differences(lambda zs: losses.binary_cross_entropy(zs[0], 1), [z])


def test_bce_with_logits_loss_gradients_match_central_differences() -> None:
    labels = [0, 1, 1]
    _assert_gradients_match_central_differences(
        lambda zs: losses.bce_with_logits_loss(zs, labels), [-1.0, 0.0, 2.5]
    )


@pytest.mark.parametrize("z, y, expected_loss, expected_grad", [
    (1000.0, 0, 1000.0, 1.0),   # confidently wrong: loss = z, slope sigmoid(z) - 0 = 1
    (1000.0, 1, 0.0, 0.0),      # confidently right
    (-1000.0, 0, 0.0, 0.0),
    (-1000.0, 1, 1000.0, -1.0),
])
def test_binary_cross_entropy_is_finite_and_correct_at_huge_logits(
    z: float, y: int, expected_loss: float, expected_grad: float
) -> None:
    logit = Value(z)
    loss = losses.binary_cross_entropy(logit, y)
    loss.backward()
    assert loss.data == expected_loss
    assert logit.grad == expected_grad


@pytest.mark.parametrize("label", [-1, 2, 0.5])
def test_binary_cross_entropy_rejects_labels_other_than_zero_or_one(label: float) -> None:
    with pytest.raises(ValueError, match="label must be one of"):
        losses.binary_cross_entropy(Value(0.5), label)


# --- softmax cross-entropy -----------------------------------------------------------


def _numpy_softmax_cross_entropy(z: np.ndarray, label: int) -> float:
    return float(np.log(np.sum(np.exp(z))) - z[label])


@pytest.mark.parametrize("logits", [[0.0, 0.0], [1.0, 2.0, 3.0], [-2.5, 0.5, 4.0, 1.0], [3.0, 3.0, -1.0]])
def test_softmax_cross_entropy_matches_numpy_for_every_label(logits: list[float]) -> None:
    for label in range(len(logits)):
        got = losses.softmax_cross_entropy(_values(logits), label).data
        assert got == pytest.approx(_numpy_softmax_cross_entropy(np.array(logits), label), rel=1e-12, abs=1e-15)


def test_softmax_cross_entropy_loss_is_the_mean_over_rows() -> None:
    rows, labels = [[1.0, -1.0, 0.5], [0.0, 2.0, -3.0]], [2, 1]
    expected = np.mean([_numpy_softmax_cross_entropy(np.array(r), y) for r, y in zip(rows, labels)])
    got = losses.softmax_cross_entropy_loss([_values(r) for r in rows], labels).data
    assert got == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("logits", [[1.0, 2.0, 3.0], [0.5, 0.5, -1.0], [-1.0, 4.0]])
def test_softmax_cross_entropy_gradient_is_softmax_minus_one_hot(logits: list[float]) -> None:
    z = np.array(logits)
    expected = np.exp(z) / np.sum(np.exp(z))
    expected[0] -= 1.0
    grads = _gradients(lambda zs: losses.softmax_cross_entropy(zs, 0), logits)
    assert grads == pytest.approx(list(expected), rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("logits", [[1.0, 2.0, 3.0], [0.5, 0.5, -1.0], [2.0, -1.0, 2.0, 0.0]])
def test_softmax_cross_entropy_gradients_match_central_differences(logits: list[float]) -> None:
    _assert_gradients_match_central_differences(lambda zs: losses.softmax_cross_entropy(zs, 1), logits)


def test_softmax_cross_entropy_accepts_one_hot_targets() -> None:
    logits = [0.3, -1.2, 2.0]
    by_index = losses.softmax_cross_entropy(_values(logits), 2).data
    assert losses.softmax_cross_entropy(_values(logits), [0.0, 0.0, 1.0]).data == pytest.approx(by_index, rel=1e-15)


def test_softmax_cross_entropy_at_huge_logits_is_finite_and_correct() -> None:
    logits = _values([1000.0, -1000.0, 0.0])
    loss = losses.softmax_cross_entropy(logits, 1)
    loss.backward()
    # log(e**1000 + e**-1000 + 1) - (-1000) = 1000 + 1000, to double precision
    assert loss.data == 2000.0
    # softmax is (1, 0, 0) to double precision, minus the one-hot of label 1
    assert [z.grad for z in logits] == [1.0, -1.0, 0.0]


def test_softmax_cross_entropy_of_the_dominant_class_is_zero_at_huge_logits() -> None:
    logits = _values([-1000.0, 1000.0])
    loss = losses.softmax_cross_entropy(logits, 1)
    loss.backward()
    assert loss.data == 0.0
    assert all(math.isfinite(z.grad) for z in logits)


@pytest.mark.parametrize("label", [-1, 3])
def test_softmax_cross_entropy_rejects_labels_out_of_range(label: int) -> None:
    with pytest.raises(ValueError, match="out of range for 3 classes"):
        losses.softmax_cross_entropy(_values([0.0, 1.0, 2.0]), label)


def test_softmax_cross_entropy_rejects_a_float_label() -> None:
    with pytest.raises(TypeError, match="int class index"):
        losses.softmax_cross_entropy(_values([0.0, 1.0]), 1.0)


@pytest.mark.parametrize("targets", [[1.0, 0.0], [0.5, 0.6, 0.0], [-1.0, 1.0, 1.0]])
def test_softmax_cross_entropy_rejects_targets_that_are_not_one_probability_per_class(targets) -> None:
    with pytest.raises(ValueError, match="target"):
        losses.softmax_cross_entropy(_values([0.0, 1.0, 2.0]), targets)


def test_softmax_cross_entropy_needs_two_logits() -> None:
    with pytest.raises(ValueError, match="at least 2 logits"):
        losses.softmax_cross_entropy([Value(1.0)], 0)


# --- batches and regularization -------------------------------------------------------


@pytest.mark.parametrize("batch_loss", [losses.mse_loss, losses.hinge_loss, losses.bce_with_logits_loss])
def test_batch_losses_reject_a_different_number_of_targets(batch_loss) -> None:
    with pytest.raises(ValueError, match="2 model outputs but 3 targets"):
        batch_loss(_values([0.5, -0.5]), [1, 1, 1])


def test_l2_penalty_matches_numpy() -> None:
    p = np.array([0.5, -1.5, 2.0])
    assert losses.l2_penalty(_values(list(p)), 0.01).data == pytest.approx(0.01 * np.sum(p * p), rel=1e-15)


def test_l2_penalty_gradient_is_two_alpha_p() -> None:
    p = [0.5, -1.5, 2.0]
    assert _gradients(lambda ps: losses.l2_penalty(ps, 0.1), p) == pytest.approx([0.2 * x for x in p], rel=1e-15)


def test_l2_penalty_rejects_negative_alpha() -> None:
    with pytest.raises(ValueError, match="alpha must be >= 0"):
        losses.l2_penalty(_values([1.0]), -0.1)


def test_per_sample_losses_are_found_by_name() -> None:
    assert losses.PER_SAMPLE_LOSSES == {
        "mse": losses.squared_error,
        "hinge": losses.hinge,
        "bce": losses.binary_cross_entropy,
        "softmax": losses.softmax_cross_entropy,
    }


@pytest.mark.parametrize("name, expected", [
    ("hinge", [[-1.0, 1.0, 1.0]]),
    ("mse", [[-1.0, 1.0, 1.0]]),
    ("bce", [[0.0, 1.0, 1.0]]),
    ("softmax", [[1.0, 0.0, 0.0], [0.0, 1.0, 1.0], [0.0, 0.0, 0.0]]),
])
def test_each_loss_turns_class_labels_into_its_targets(name: str, expected: list[list[float]]) -> None:
    columns = losses.LOSSES[name].targets(np.array([0, 1, 1]), 3)
    assert [column.tolist() for column in columns] == expected


def test_scores_become_classes_by_sign_or_by_the_largest_logit() -> None:
    assert losses.LOSSES["bce"].predict(np.array([[-0.5], [0.0], [2.0]])).tolist() == [0, 0, 1]
    assert losses.LOSSES["softmax"].predict(np.array([[0.1, 3.0, -1.0], [2.0, 0.0, 1.0]])).tolist() == [1, 0]


def test_loss_names_are_the_keys_of_the_records() -> None:
    assert losses.LOSS_NAMES == ("hinge", "mse", "bce", "softmax")
    assert all(losses.LOSSES[name].name == name for name in losses.LOSS_NAMES)
    with pytest.raises(ValueError, match="unknown loss 'nope'; choose one of hinge, mse, bce, softmax"):
        losses.find_loss("nope", "train")


# --- the PyTorch cross-check ----------------------------------------------------------


def test_bce_and_softmax_losses_and_gradients_match_torch(torch) -> None:
    functional = torch.nn.functional
    z, y = [-3.0, 0.0, 0.4, 8.0], [1, 0, 1, 0]
    logits = _values(z)
    loss = losses.bce_with_logits_loss(logits, y)
    loss.backward()
    z_torch = torch.tensor(z, dtype=torch.float64, requires_grad=True)
    loss_torch = functional.binary_cross_entropy_with_logits(z_torch, torch.tensor(y, dtype=torch.float64))
    loss_torch.backward()
    assert loss.data == pytest.approx(loss_torch.item(), rel=1e-12)
    assert [v.grad for v in logits] == pytest.approx(z_torch.grad.tolist(), rel=1e-12)

    rows, labels = [[1.0, -2.0, 0.5], [3.0, 3.0, 0.0]], [0, 2]
    row_values = [_values(r) for r in rows]
    loss = losses.softmax_cross_entropy_loss(row_values, labels)
    loss.backward()
    rows_torch = torch.tensor(rows, dtype=torch.float64, requires_grad=True)
    loss_torch = functional.cross_entropy(rows_torch, torch.tensor(labels))
    loss_torch.backward()
    assert loss.data == pytest.approx(loss_torch.item(), rel=1e-12)
    assert [[v.grad for v in r] for r in row_values] == [
        pytest.approx(r, rel=1e-12, abs=1e-15) for r in rows_torch.grad.tolist()
    ]


# --- replay over a batch (engine.batch) -----------------------------------------------


@pytest.mark.parametrize("name, outputs, columns", [
    ("mse", 1, [np.array([0.5, -1.0, 2.0]), np.array([1.0, -1.0, 0.0])]),
    ("hinge", 1, [np.array([0.5, -1.0, 2.0]), np.array([1.0, 1.0, -1.0])]),
    ("bce", 1, [np.array([0.5, -1000.0, 0.0]), np.array([1.0, 1.0, 0.0])]),
    ("softmax", 3, [np.array([0.5, 1000.0]), np.array([-1.0, 0.0]), np.array([2.0, -1000.0]),
                    np.array([0.0, 0.0]), np.array([1.0, 0.0]), np.array([0.0, 1.0])]),
])
def test_per_sample_losses_replay_over_a_batch_like_the_scalar_engine(
    name: str, outputs: int, columns: list[np.ndarray]
) -> None:
    loss_of = losses.PER_SAMPLE_LOSSES[name]

    def per_sample(*placeholders: Value) -> Value:
        model_outputs, targets = list(placeholders[:outputs]), list(placeholders[outputs:])
        if name == "softmax":
            return loss_of(model_outputs, targets)
        return loss_of(model_outputs[0], targets[0])

    example = [float(column[0]) for column in columns]
    (replayed,) = record(per_sample, example).forward(columns)
    for i in range(len(columns[0])):
        sample = [float(column[i]) for column in columns]
        if name == "softmax":
            expected = loss_of(_values(sample[:outputs]), sample[outputs:]).data
        else:
            expected = loss_of(Value(sample[0]), sample[1]).data
        assert replayed[i] == pytest.approx(expected, rel=1e-12, abs=1e-12)
