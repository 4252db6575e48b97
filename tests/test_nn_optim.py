"""Specification of nn.optim: SGD and Adam step by step, by hand and against torch.optim."""

from __future__ import annotations

import math

import pytest

from engine import Value
from nn import SGD, Adam

# Gradients fed to the optimizers, one list per step (one entry per parameter).
GRADIENTS = [[0.5, -2.0], [0.25, 1.0], [-1.0, 0.5]]
START = [1.0, -0.5]


def _run(optimizer_class, gradients: list[list[float]], **options) -> list[float]:
    """Parameters after one optimizer step per entry of ``gradients``."""
    parameters = [Value(x) for x in START]
    optimizer = optimizer_class(parameters, **options)
    for step_gradients in gradients:
        for p, g in zip(parameters, step_gradients):
            p.grad = g
        optimizer.step()
    return [p.data for p in parameters]


# --- SGD -----------------------------------------------------------------------------


def test_sgd_steps_against_the_gradient() -> None:
    expected = [x - 0.1 * g for x, g in zip(START, GRADIENTS[0])]
    assert _run(SGD, GRADIENTS[:1], lr=0.1) == expected


def test_sgd_momentum_accumulates_a_velocity_over_three_steps() -> None:
    lr, momentum = 0.1, 0.9
    for i, x in enumerate(START):
        g1, g2, g3 = (step[i] for step in GRADIENTS)
        buffer = g1  # the first step uses the gradient itself
        x -= lr * buffer
        buffer = momentum * buffer + g2
        x -= lr * buffer
        buffer = momentum * buffer + g3
        x -= lr * buffer
        assert _run(SGD, GRADIENTS, lr=lr, momentum=momentum)[i] == pytest.approx(x, rel=1e-15)


def test_sgd_weight_decay_adds_a_multiple_of_the_parameter_to_the_gradient() -> None:
    lr, decay = 0.1, 0.01
    for i, x in enumerate(START):
        for step in GRADIENTS[:2]:
            x -= lr * (step[i] + decay * x)
        assert _run(SGD, GRADIENTS[:2], lr=lr, weight_decay=decay)[i] == pytest.approx(x, rel=1e-15)


def test_sgd_momentum_and_weight_decay_together() -> None:
    lr, momentum, decay = 0.05, 0.5, 0.1
    for i, x in enumerate(START):
        buffer = None
        for step in GRADIENTS:
            g = step[i] + decay * x
            buffer = g if buffer is None else momentum * buffer + g
            x -= lr * buffer
        got = _run(SGD, GRADIENTS, lr=lr, momentum=momentum, weight_decay=decay)[i]
        assert got == pytest.approx(x, rel=1e-15)


# --- Adam ----------------------------------------------------------------------------


def test_adam_first_step_moves_each_parameter_by_about_lr() -> None:
    # After one step m_hat = g and v_hat = g**2, so the step is lr * g / (|g| + eps).
    lr, eps = 0.01, 1e-8
    expected = [x - lr * g / (abs(g) + eps) for x, g in zip(START, GRADIENTS[0])]
    assert _run(Adam, GRADIENTS[:1], lr=lr, eps=eps) == pytest.approx(expected, rel=1e-15)


def test_adam_bias_correction_over_three_steps() -> None:
    lr, beta1, beta2, eps = 0.01, 0.8, 0.95, 1e-8
    for i, x in enumerate(START):
        m = v = 0.0
        for t, step in enumerate(GRADIENTS, start=1):
            g = step[i]
            m = beta1 * m + (1 - beta1) * g
            v = beta2 * v + (1 - beta2) * g * g
            x -= lr * (m / (1 - beta1**t)) / (math.sqrt(v / (1 - beta2**t)) + eps)
        got = _run(Adam, GRADIENTS, lr=lr, betas=(beta1, beta2), eps=eps)[i]
        assert got == pytest.approx(x, rel=1e-14)


def test_adam_weight_decay_adds_a_multiple_of_the_parameter_to_the_gradient() -> None:
    lr, decay, eps = 0.01, 0.1, 1e-8
    beta1, beta2 = 0.9, 0.999
    for i, x in enumerate(START):
        m = v = 0.0
        for t, step in enumerate(GRADIENTS[:2], start=1):
            g = step[i] + decay * x
            m = beta1 * m + (1 - beta1) * g
            v = beta2 * v + (1 - beta2) * g * g
            x -= lr * (m / (1 - beta1**t)) / (math.sqrt(v / (1 - beta2**t)) + eps)
        assert _run(Adam, GRADIENTS[:2], lr=lr, weight_decay=decay)[i] == pytest.approx(x, rel=1e-14)


# --- shared behaviour ----------------------------------------------------------------


@pytest.mark.parametrize("optimizer_class", [SGD, Adam])
def test_zero_grad_clears_every_parameter_gradient(optimizer_class) -> None:
    parameters = [Value(1.0), Value(2.0)]
    for p in parameters:
        p.grad = 3.0
    optimizer_class(parameters).zero_grad()
    assert [p.grad for p in parameters] == [0.0, 0.0]


def test_assigned_learning_rate_is_used_by_the_next_step() -> None:
    p = Value(1.0)
    optimizer = SGD([p], lr=0.1)
    p.grad = 1.0
    optimizer.step()
    optimizer.lr = 0.5
    optimizer.step()
    assert p.data == pytest.approx(1.0 - 0.1 - 0.5, rel=1e-15)


def test_adam_learning_rate_can_be_assigned_between_steps() -> None:
    p = Value(0.0)
    optimizer = Adam([p], lr=0.1)
    optimizer.lr = 0.02
    p.grad = 4.0
    optimizer.step()
    assert p.data == pytest.approx(-0.02 * 4.0 / (4.0 + 1e-8), rel=1e-15)


@pytest.mark.parametrize("build, name", [
    (lambda ps: SGD(ps, lr=-0.1), "lr"),
    (lambda ps: SGD(ps, momentum=-0.5), "momentum"),
    (lambda ps: SGD(ps, weight_decay=-1.0), "weight_decay"),
    (lambda ps: Adam(ps, lr=-1e-3), "lr"),
    (lambda ps: Adam(ps, betas=(1.0, 0.999)), "betas"),
    (lambda ps: Adam(ps, betas=(0.9, -0.1)), "betas"),
    (lambda ps: Adam(ps, eps=-1e-8), "eps"),
    (lambda ps: Adam(ps, weight_decay=-0.1), "weight_decay"),
    (lambda ps: SGD(ps, lr=math.nan), "lr"),
])
def test_out_of_range_arguments_raise_value_error_naming_them(build, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        build([Value(1.0)])


def test_assigning_a_negative_learning_rate_raises_value_error() -> None:
    optimizer = SGD([Value(1.0)])
    with pytest.raises(ValueError, match="lr must be >= 0"):
        optimizer.lr = -0.01
    assert optimizer.lr == 0.1


def test_a_learning_rate_that_is_not_a_number_raises_type_error() -> None:
    with pytest.raises(TypeError, match="lr must be a number"):
        SGD([Value(1.0)], lr="0.1")


@pytest.mark.parametrize("optimizer_class", [SGD, Adam])
def test_empty_parameter_list_raises_value_error(optimizer_class) -> None:
    with pytest.raises(ValueError, match="empty parameter list"):
        optimizer_class([])


def test_parameters_that_are_not_values_raise_type_error() -> None:
    with pytest.raises(TypeError, match="parameters must be Values"):
        SGD([1.0, 2.0])


def test_a_parameter_listed_twice_raises_value_error() -> None:
    p = Value(1.0)
    with pytest.raises(ValueError, match="more than once"):
        Adam([p, p])


# --- the PyTorch cross-check -----------------------------------------------------------

TORCH_GRADIENTS = [[0.5, -2.0, 0.0], [0.25, 1.0, 3.0], [-1.0, 0.5, -0.1], [2.0, -0.3, 0.7], [0.1, 0.1, -4.0]]


def _torch_run(torch, optimizer_class, **options) -> list[float]:
    tensor = torch.tensor([1.0, -0.5, 2.0], dtype=torch.float64, requires_grad=True)
    optimizer = optimizer_class([tensor], **options)
    for gradients in TORCH_GRADIENTS:
        tensor.grad = torch.tensor(gradients, dtype=torch.float64)
        optimizer.step()
    return tensor.detach().tolist()


def _glassgrad_run(optimizer_class, **options) -> list[float]:
    parameters = [Value(1.0), Value(-0.5), Value(2.0)]
    optimizer = optimizer_class(parameters, **options)
    for gradients in TORCH_GRADIENTS:
        for p, g in zip(parameters, gradients):
            p.grad = g
        optimizer.step()
    return [p.data for p in parameters]


@pytest.mark.parametrize("options", [
    {"lr": 0.1},
    {"lr": 0.05, "momentum": 0.9},
    {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.01},
])
def test_sgd_matches_torch_optim_sgd(torch, options: dict) -> None:
    expected = _torch_run(torch, torch.optim.SGD, **options)
    assert _glassgrad_run(SGD, **options) == pytest.approx(expected, rel=1e-14, abs=1e-15)


@pytest.mark.parametrize("options", [
    {"lr": 1e-3},
    {"lr": 0.1, "betas": (0.8, 0.95), "eps": 1e-6},
    {"lr": 0.01, "weight_decay": 0.1},
])
def test_adam_matches_torch_optim_adam(torch, options: dict) -> None:
    expected = _torch_run(torch, torch.optim.Adam, **options)
    assert _glassgrad_run(Adam, **options) == pytest.approx(expected, rel=1e-12, abs=1e-15)
