"""Save a model's parameters to a readable JSON file, and load them back.

The file lists every parameter's label and value in ``model.parameters()``
order, so it can be read (and diffed) by eye:

    {
      "format": "glassgrad-parameters",
      "version": 1,
      "model": "MLP(2 -> 16 -> 16 -> 1, relu hidden, linear output, 337 parameters)",
      "parameters": [
        {"label": "L1.N1.w1", "value": 0.6394267984578837},
        ...

Floats are written with ``repr``, which reads back as exactly the same float.
Saving is atomic (write a temporary file, then rename it over the target), and
loading checks the whole file against the model before it changes anything.
"""

from __future__ import annotations

import contextlib
import errno
import json
import math
import numbers
import os
import uuid
from pathlib import Path

from nn.module import Module

__all__ = ["FORMAT", "VERSION", "load_parameters", "save_parameters"]

FORMAT = "glassgrad-parameters"
VERSION = 1


def save_parameters(model: Module, path: str | os.PathLike) -> None:
    """Write every parameter's label and value to the JSON file ``path``.

    The file is first written in full under a temporary name in the same
    directory, then renamed over ``path`` (``os.replace``, atomic), so a crash
    leaves either the old file or the new one, never half of one.
    """
    path = Path(path)
    parameters = model.parameters()
    for p in parameters:
        if not math.isfinite(p.data):
            raise ValueError(
                f"save_parameters: parameter {p.label or '(unlabelled)'} is {p.data}; JSON holds only "
                "finite numbers (did training diverge? lower the learning rate)"
            )
    document = {
        "format": FORMAT,
        "version": VERSION,
        "model": repr(model),
        "parameters": [{"label": p.label, "value": p.data} for p in parameters],
    }
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        with open(temporary, "x", encoding="utf-8") as file:
            json.dump(document, file, indent=2)
            file.write("\n")
            file.flush()
            os.fsync(file.fileno())  # the bytes are on disk before the rename makes them visible
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
        raise


def _read_document(path: Path) -> dict:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileNotFoundError(
            errno.ENOENT, "load_parameters: no parameter file here; write one with save_parameters", str(path)
        ) from None
    try:
        document = json.loads(text)
    except ValueError as error:  # JSONDecodeError, or bytes that are not UTF-8
        raise ValueError(f"load_parameters: {path} is not valid JSON ({error})") from error
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ValueError(f"load_parameters: {path} is not a glassgrad parameter file (no \"format\": \"{FORMAT}\")")
    if document.get("version") != VERSION:
        raise ValueError(
            f"load_parameters: {path} has format version {document.get('version')!r}; "
            f"this glassgrad reads version {VERSION}"
        )
    return document


def _finite_float(value: object) -> float | None:
    """``value`` as a float if it is a finite number (not a bool), else None."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except OverflowError:  # an int too large for a float
        return None
    return number if math.isfinite(number) else None


def _saved_values(path: Path, document: dict) -> tuple[list[str], list[float]]:
    """The labels and values of the file's parameters, after checking each entry's shape."""
    entries = document.get("parameters")
    if not isinstance(entries, list):
        # the file's content is wrong, not an argument's type: ValueError, as json itself would raise
        raise ValueError(f"load_parameters: {path} has no \"parameters\" list")  # noqa: TRY004
    labels, values = [], []
    for i, entry in enumerate(entries):
        label = entry.get("label") if isinstance(entry, dict) else None
        value = _finite_float(entry.get("value")) if isinstance(entry, dict) else None
        if not isinstance(label, str) or value is None:
            raise ValueError(
                f"load_parameters: {path}, parameter {i}: expected {{\"label\": text, \"value\": "
                f"finite number}}, got {entry!r}"
            )
        labels.append(label)
        values.append(value)
    return labels, values


def load_parameters(model: Module, path: str | os.PathLike) -> None:
    """Set the model's parameters to the values saved in ``path`` by ``save_parameters``.

    The file must hold as many parameters as the model, with the same labels
    in the same order; otherwise ValueError says what differs, and the model
    is left exactly as it was.
    """
    path = Path(path)
    document = _read_document(path)
    labels, values = _saved_values(path, document)
    parameters = model.parameters()
    saved_from = document.get("model", "an unnamed model")
    if len(labels) != len(parameters):
        raise ValueError(
            f"load_parameters: {path} has {len(labels)} parameters, model has {len(parameters)} "
            f"(the file was saved from {saved_from}; this model is {model!r})"
        )
    for i, (label, p) in enumerate(zip(labels, parameters)):
        if label != p.label:
            raise ValueError(
                f"load_parameters: parameter {i} is labelled {label!r} in {path} but {p.label!r} in the "
                f"model (the file was saved from {saved_from}; this model is {model!r})"
            )
    for value, p in zip(values, parameters):
        p.data = value
