"""Optimizers: turn the gradients left by ``backward`` into a step for every parameter.

A training step is ``optimizer.zero_grad()``, ``loss.backward()``,
``optimizer.step()``. ``SGD`` and ``Adam`` follow ``torch.optim.SGD`` and
``torch.optim.Adam`` update for update (same formulas, same defaults), so what
you learn here carries over. Their state is plain lists of floats, one entry per
parameter, so it can be printed and read. ``lr`` is a public attribute: a
learning-rate schedule may assign it between steps (``linear_decay`` makes
one). ``weight_decay`` adds
weight_decay * p to each gradient, the gradient of an L2 penalty
(weight_decay / 2) * sum(p**2): it is how ``train(l2=...)`` applies its penalty.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable

from engine import Value

__all__ = ["SGD", "Adam", "Optimizer", "linear_decay"]


def _check_number(value: object, name: str, optimizer: str, low: float, high: float = math.inf) -> float:
    """``value`` as a float if low <= value < high, else TypeError or ValueError naming ``name``."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise TypeError(f"{optimizer}: {name} must be a number, got {value!r} of type {type(value).__name__}")
    if not low <= value < high:  # also refuses nan
        bounds = f">= {low}" if high == math.inf else f"in [{low}, {high})"
        raise ValueError(f"{optimizer}: {name} must be {bounds}, got {value!r}")
    return float(value)


class Optimizer:
    """What every optimizer shares: the parameter list, ``lr`` and ``zero_grad``."""

    def __init__(self, parameters: Iterable[Value], lr: float) -> None:
        name = type(self).__name__
        self.parameters = list(parameters)
        if not self.parameters:
            raise ValueError(f"{name}: got an empty parameter list; pass model.parameters()")
        for p in self.parameters:
            if not isinstance(p, Value):
                raise TypeError(f"{name}: parameters must be Values, got {p!r} of type {type(p).__name__}")
        if len({id(p) for p in self.parameters}) != len(self.parameters):
            raise ValueError(f"{name}: a parameter appears more than once; it would be updated twice per step")
        self.lr = lr

    @property
    def lr(self) -> float:
        """The learning rate; assign it between steps to follow a schedule."""
        return self._lr

    @lr.setter
    def lr(self, value: float) -> None:
        self._lr = _check_number(value, "lr", type(self).__name__, 0.0)

    def zero_grad(self) -> None:
        """Set every parameter's grad to 0, before the next ``backward``."""
        for p in self.parameters:
            p.grad = 0.0

    def step(self) -> None:
        raise NotImplementedError


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum and weight decay.

    For each parameter p with gradient grad, as ``torch.optim.SGD`` does it:

        g   = grad + weight_decay * p
        buf = g                        on the first step
        buf = momentum * buf + g       afterwards
        p   = p - lr * buf             (with momentum 0, simply p - lr * g)
    """

    def __init__(
        self,
        parameters: Iterable[Value],
        lr: float = 0.1,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(parameters, lr)
        self.momentum = _check_number(momentum, "momentum", "SGD", 0.0)
        self.weight_decay = _check_number(weight_decay, "weight_decay", "SGD", 0.0)
        self.momentum_buffer: list[float] = [0.0] * len(self.parameters)
        self.steps = 0

    def step(self) -> None:
        """Move every parameter against its gradient."""
        lr, momentum, weight_decay = self.lr, self.momentum, self.weight_decay
        buffers = self.momentum_buffer
        for i, p in enumerate(self.parameters):
            g = p.grad + weight_decay * p.data
            if momentum:
                buffers[i] = g if self.steps == 0 else momentum * buffers[i] + g
                g = buffers[i]
            p.data -= lr * g
        self.steps += 1

    def __repr__(self) -> str:
        return (f"SGD(lr={self.lr}, momentum={self.momentum}, weight_decay={self.weight_decay}, "
                f"{len(self.parameters)} parameters)")


class Adam(Optimizer):
    """Adam: a step scaled per parameter by running averages of the gradient and its square.

    For each parameter p with gradient grad, at step t = 1, 2, ..., as
    ``torch.optim.Adam`` does it:

        g     = grad + weight_decay * p
        m     = beta1 * m + (1 - beta1) * g          (m and v start at 0)
        v     = beta2 * v + (1 - beta2) * g**2
        m_hat = m / (1 - beta1**t)                   (bias correction: undoes the pull
        v_hat = v / (1 - beta2**t)                    towards the zero start)
        p     = p - lr * m_hat / (sqrt(v_hat) + eps)
    """

    def __init__(
        self,
        parameters: Iterable[Value],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(parameters, lr)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise TypeError(f"Adam: betas must be a pair (beta1, beta2), got {betas!r}")
        self.betas = (
            _check_number(betas[0], "betas[0]", "Adam", 0.0, 1.0),
            _check_number(betas[1], "betas[1]", "Adam", 0.0, 1.0),
        )
        self.eps = _check_number(eps, "eps", "Adam", 0.0)
        self.weight_decay = _check_number(weight_decay, "weight_decay", "Adam", 0.0)
        self.first_moment: list[float] = [0.0] * len(self.parameters)  # m
        self.second_moment: list[float] = [0.0] * len(self.parameters)  # v
        self.steps = 0  # t

    def step(self) -> None:
        """Move every parameter by its bias-corrected, normalized gradient."""
        self.steps += 1
        lr, eps, weight_decay = self.lr, self.eps, self.weight_decay
        beta1, beta2 = self.betas
        correction1 = 1.0 - beta1**self.steps
        correction2 = 1.0 - beta2**self.steps
        m, v = self.first_moment, self.second_moment
        for i, p in enumerate(self.parameters):
            g = p.grad + weight_decay * p.data
            m[i] = beta1 * m[i] + (1.0 - beta1) * g
            v[i] = beta2 * v[i] + (1.0 - beta2) * g * g
            m_hat = m[i] / correction1
            v_hat = v[i] / correction2
            p.data -= lr * m_hat / (math.sqrt(v_hat) + eps)

    def __repr__(self) -> str:
        return (f"Adam(lr={self.lr}, betas={self.betas}, eps={self.eps}, "
                f"weight_decay={self.weight_decay}, {len(self.parameters)} parameters)")


def linear_decay(lr: float, steps: int) -> Callable[[int], float]:
    """The schedule lr * (1 - step / steps): ``lr`` at step 0, falling in a straight line to 0 at ``steps`` (and after).

    Large steps early, while the loss falls fast, and ever smaller ones as
    training settles (microgpt's schedule). Give it to ``train(learning_rate=...)``,
    or set ``optimizer.lr = schedule(step)`` before each step of a loop of your own.
    """
    lr = _check_number(lr, "lr", "linear_decay", 0.0)
    if type(steps) is not int or steps < 1:
        raise ValueError(f"linear_decay: steps must be a whole number >= 1, got {steps!r}")
    return lambda step: lr * max(0.0, 1.0 - step / steps)
