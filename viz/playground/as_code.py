"""The "as code" text: Python that builds and trains the playground's model with glassgrad.

The settings are written as the same ``nn`` calls the playground makes
(``nn.make_dataset`` with the same arguments, ``nn.MLP``, the optimizer,
``nn.train``), so running the text reproduces the run; custom points (clicked or
from a CSV) are written inline. Live changes made while training (learning
rate, l2, batch size) are not replayed: the text uses the settings as they are.
"""

from __future__ import annotations

import json

import numpy as np

from viz.playground.data import Data, generator_arguments
from viz.playground.settings import MOMENTUM, Settings


def code(settings: Settings, data: Data, step: int) -> str:
    """The text of ``Session.as_code``: the settings written as glassgrad calls.

    It trains for ``step`` steps, the steps the run has taken (at step 0: ``stop_steps``, or 500), and
    writes the points of ``data`` inline when they are custom.
    """
    pairs = [f"{key}={value}" for key, value in settings.to_query().items()]
    query = "\n".join("&".join(pairs[i:i + 6]) for i in range(0, len(pairs), 6))
    steps, why = step, "the steps the playground had taken"
    if not steps:
        steps, why = (settings.stop_steps, "stop at steps") if settings.stop_steps else (500, "enough for a first look")
    lines = [
        '"""Build and train the playground\'s model with glassgrad.',
        "",
        "Its settings, as in the playground's address:",
        query,
        "Live changes made while it trained (learning rate, l2, batch size) are not replayed here.",
        '"""',
        *(["import numpy as np", ""] if settings.dataset == "custom" else []),
        "import nn",
        "",
        f"STEPS = {steps}  # {why}",
        "",
    ]
    if settings.dataset == "custom":
        lines += _custom_data_lines(data)
    else:
        arguments = ", ".join(f"{key}={value!r}" for key, value in generator_arguments(settings).items())
        lines += [
            f"X, y = nn.make_dataset({json.dumps(settings.dataset)}, {arguments})",
            f"X_train, X_test, y_train, y_test = nn.train_test_split(X, y, test_fraction={settings.test_fraction!r}, "
            f"seed={settings.seed})",
        ]
    optimizer = {
        "sgd": f"nn.SGD(model.parameters(), lr={settings.learning_rate!r})",
        "momentum": f"nn.SGD(model.parameters(), lr={settings.learning_rate!r}, momentum={MOMENTUM})",
        "adam": f"nn.Adam(model.parameters(), lr={settings.learning_rate!r})",
    }[settings.optimizer]
    n_train = int((~data.is_test).sum())
    batch_size = settings.batch_size if 0 < settings.batch_size < n_train else None
    has_test = bool(data.is_test.any())
    lines += [
        f"model = nn.MLP(2, {[*settings.hidden, settings.outputs]}, activation={json.dumps(settings.activation)}, "
        f"seed={settings.weights_seed})",
        f"optimizer = {optimizer}",
        f"history = nn.train(model, X_train, y_train, loss={json.dumps(settings.loss)}, steps=STEPS, "
        "optimizer=optimizer,",
        f"                   l2={settings.l2!r}, batch_size={batch_size}, seed={settings.seed},",
        "                   X_test=X_test, y_test=y_test)" if has_test else "                   )",
        "print(history)",
        "",
    ]
    return "\n".join(lines)


def _custom_data_lines(data: Data) -> list[str]:
    """The points written inline, train and test."""
    def rows(mask: np.ndarray) -> str:
        return ",\n    ".join(f"[{x1!r}, {x2!r}]" for x1, x2 in data.X[mask].tolist())

    train, test = ~data.is_test, data.is_test
    lines = [f"X_train = np.array([\n    {rows(train)},\n])", f"y_train = np.array({data.y[train].tolist()})"]
    if test.any():
        lines += [f"X_test = np.array([\n    {rows(test)},\n])", f"y_test = np.array({data.y[test].tolist()})"]
    return lines
