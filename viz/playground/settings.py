"""The playground's settings: every knob, its range, and how the page's text or JSON becomes a ``Settings``.

The address of the page carries the settings as a query (``Settings.from_query``,
``Settings.to_query``), and the page changes them with JSON (``Settings.changed``).
Both go through the same parsing, so a value is checked the same way whichever
way it comes, and a ``BadRequest`` names the field and the range to give. ``LIMITS``
describes every field for the page, which shows the ranges from there and never
hard-codes them.

This is the bottom of the playground's modules (settings <- data <- frames and
as_code <- session): the limits that the others obey (points, classes, the grid
drawn, frames a second) are defined here, next to the fields that use them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace

from nn.losses import LOSS_NAMES, LOSSES
from nn.module import ACTIVATIONS
from viz.style import CLASS_COLORS, NEGATIVE, POSITIVE, ZERO

MAX_FRAMES_PER_SECOND = 30
GRID_SIZE = 100  # the boundary is GRID_SIZE x GRID_SIZE pixels
MAP_STEP = 2  # a neuron's map takes every other grid point: 50x50
MOMENTUM = 0.9  # the "momentum" optimizer is SGD with this momentum
TWO_CLASS_DATASETS = ("moons", "circles", "xor")
GENERATED_DATASETS = (*TWO_CLASS_DATASETS, "spirals", "blobs")


class BadRequest(ValueError):
    """Input from the page that cannot be used; str(error) is the message shown on the page."""


@dataclass(frozen=True)
class _Field:
    """One knob: its kind ("int", "float", "choice", "layers"), range or choices, and what it means."""

    kind: str
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    help: str = ""

    def describe(self) -> dict:
        """JSON-ready, for LIMITS (the page shows ranges from here)."""
        described: dict = {"kind": self.kind, "help": self.help}
        if self.choices:
            described["choices"] = list(self.choices)
        if self.low is not None:
            described.update(min=self.low, max=self.high)
        return described


MAX_LAYERS, MAX_WIDTH, MAX_POINTS, MAX_CLASSES = 6, 16, 1000, 5

FIELDS: dict[str, _Field] = {
    "dataset": _Field("choice", choices=(*GENERATED_DATASETS, "custom"),
                      help='the points; "custom" after a click or a CSV'),
    "points": _Field("int", 10, MAX_POINTS, help="how many points the dataset generates"),
    "noise": _Field("float", 0.0, 1.0, help="noise of the generated points (spirals: of the angle; blobs: the std)"),
    "test_fraction": _Field("float", 0.05, 0.9, help="share of the points held out as the test set"),
    "seed": _Field("int", 0, 999_999_999, help="seed of the data, its train/test split and the mini-batches"),
    "classes": _Field("int", 2, MAX_CLASSES, help="classes of spirals and blobs (the others have 2)"),
    "hidden": _Field("layers", 0, MAX_WIDTH, help=f'hidden layer widths, e.g. "16,16": up to {MAX_LAYERS} layers '
                                                 f'of 1 to {MAX_WIDTH}; empty for no hidden layer'),
    "activation": _Field("choice", choices=tuple(ACTIVATIONS),
                         help="activation of the hidden neurons (the output is linear)"),
    "loss": _Field("choice", choices=LOSS_NAMES,
                   help="hinge, mse and bce: one output, two classes; softmax: one output per class"),
    "optimizer": _Field("choice", choices=("sgd", "momentum", "adam"),
                        help=f"sgd, sgd with momentum {MOMENTUM}, or adam"),
    "learning_rate": _Field("float", 0.0, 100.0, help="step size (changes live)"),
    "l2": _Field("float", 0.0, 1.0, help="l2 * sum(w**2) added to the loss (changes live)"),
    "batch_size": _Field("int", 0, MAX_POINTS, help="points per step; 0 for all of them (changes live)"),
    "speed": _Field("int", 1, 100, help="optimizer steps per frame (changes live)"),
    "stop_steps": _Field("int", 0, 10_000_000, help="pause when the step count reaches it; 0: never"),
    "stop_accuracy": _Field("float", 0.0, 1.0, help="pause when the training accuracy reaches it; 0: never"),
    "weights_seed": _Field("int", 0, 999_999_999, help="seed of the initial weights"),
}

_LIVE = ("learning_rate", "l2", "batch_size", "speed", "stop_steps", "stop_accuracy")
DATA = ("dataset", "points", "noise", "test_fraction", "seed", "classes")

LIMITS: dict = {
    "max_layers": MAX_LAYERS,
    "max_width": MAX_WIDTH,
    "max_points": MAX_POINTS,
    "max_classes": MAX_CLASSES,
    "max_csv_bytes": 100_000,
    "max_frames_per_second": MAX_FRAMES_PER_SECOND,
    "grid_size": GRID_SIZE,
    "map_size": GRID_SIZE // MAP_STEP,
    "datasets": list(GENERATED_DATASETS),
    "activations": list(FIELDS["activation"].choices),
    "losses": list(LOSS_NAMES),
    "loss_names": {name: loss.title for name, loss in LOSSES.items()},
    "optimizers": list(FIELDS["optimizer"].choices),
    "live": list(_LIVE),
    "stop_accuracy_of": "train",
    "fields": {name: field.describe() for name, field in FIELDS.items()},
    # the page draws in the project's colours, which live in viz/style.py alone
    "colors": {"positive": POSITIVE, "negative": NEGATIVE, "zero": ZERO,
               "classes": list(CLASS_COLORS)},
}


def _parse(name: str, value: object) -> object:
    """``value`` (text from a query, or JSON from the page) as the field's type; BadRequest naming the field."""
    field = FIELDS[name]
    if field.kind == "choice":
        if value not in field.choices:
            raise BadRequest(f"{name}: {value!r} is not one of {', '.join(field.choices)}")
        return value
    if field.kind == "layers":
        return _parse_layers(value)
    number = _parse_number(name, value, field)
    if not field.low <= number <= field.high:
        raise BadRequest(f"{name}: {number!r} is out of range; give a number from {field.low} to {field.high}")
    return number


def _parse_number(name: str, value: object, field: _Field) -> int | float:
    whole = field.kind == "int"
    wanted = f"a {'whole number' if whole else 'number'} from {field.low} to {field.high}"
    if isinstance(value, str):
        try:
            value = int(value) if whole else float(value)
        except ValueError:
            raise BadRequest(f"{name}: {value[:40]!r} is not {wanted}") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadRequest(f"{name}: {value!r} is not {wanted}")
    if whole and isinstance(value, float):
        if not value.is_integer():
            raise BadRequest(f"{name}: {value!r} is not {wanted}")
        value = int(value)
    if not whole:
        value = float(value)
        if not math.isfinite(value):
            raise BadRequest(f"{name}: {value!r} is not {wanted}")
    return value


def _parse_layers(value: object) -> tuple[int, ...]:
    """"16,16" or [16, 16] as (16, 16); "" or [] for no hidden layer."""
    wanted = f'give up to {MAX_LAYERS} widths from 1 to {MAX_WIDTH} separated by commas, e.g. "16,16" (empty: none)'
    if isinstance(value, str):
        parts = [part.strip() for part in value.split(",")] if value.strip() else []
    elif isinstance(value, (list, tuple)):
        parts = list(value)
    else:
        raise BadRequest(f"hidden: {value!r} is not a list of layer widths; {wanted}")
    if len(parts) > MAX_LAYERS:
        raise BadRequest(f"hidden: {len(parts)} layers is too many; {wanted}")
    widths = []
    for part in parts:
        try:
            width = int(part) if isinstance(part, str) else part
        except ValueError:
            width = None
        if isinstance(width, bool) or not isinstance(width, int) or not 1 <= width <= MAX_WIDTH:
            raise BadRequest(f"hidden: {str(part)[:20]!r} is not a width from 1 to {MAX_WIDTH}; {wanted}")
        widths.append(width)
    return tuple(widths)


@dataclass(frozen=True)
class Settings:
    """Every knob of a session, with defaults that learn moons visibly in a few seconds."""

    dataset: str = "moons"
    points: int = 200
    noise: float = 0.1
    test_fraction: float = 0.25
    seed: int = 0
    classes: int = 2
    hidden: tuple[int, ...] = (16, 16)
    activation: str = "relu"
    loss: str = "hinge"
    optimizer: str = "sgd"
    learning_rate: float = 0.1
    l2: float = 0.0
    batch_size: int = 0
    speed: int = 2
    stop_steps: int = 0
    stop_accuracy: float = 0.0
    weights_seed: int = 0

    @classmethod
    def from_query(cls, query: dict[str, str]) -> Settings:
        """URL query -> Settings (missing keys keep their defaults); BadRequest on an unknown key or a bad value."""
        return cls().changed(query)

    def to_query(self) -> dict[str, str]:
        """The inverse of ``from_query``: every setting as text (floats by repr, so they read back exactly)."""
        query = {}
        for field in fields(self):
            value = getattr(self, field.name)
            query[field.name] = ",".join(map(str, value)) if field.name == "hidden" else str(value)
        return query

    def changed(self, updates: dict) -> Settings:
        """These settings with ``updates`` (text or JSON values) applied, all checked first; else BadRequest."""
        if not isinstance(updates, dict):
            raise BadRequest(f"settings must be an object of name: value, got {type(updates).__name__}")
        unknown = [key for key in updates if key not in FIELDS]
        if unknown:
            raise BadRequest(f"unknown setting {str(unknown[0])[:40]!r}; the settings are {', '.join(FIELDS)}")
        settings = replace(self, **{key: _parse(key, value) for key, value in updates.items()})
        settings.check()
        return settings

    @property
    def class_count(self) -> int:
        """How many classes the data has: 2 for moons, circles and xor, else ``classes``."""
        return 2 if self.dataset in TWO_CLASS_DATASETS else self.classes

    @property
    def outputs(self) -> int:
        """Outputs of the network: one per class for softmax, else one score."""
        return self.class_count if LOSSES[self.loss].per_class else 1

    def check(self) -> None:
        """What no single field can check: a loss that fits the number of classes."""
        if self.class_count > 2 and not LOSSES[self.loss].per_class:
            raise BadRequest(f"loss: {self.loss} tells two classes apart, the data has {self.class_count}; "
                             "softmax (one output per class) is the only loss for more than two classes: "
                             "choose loss softmax, or 2 classes")
