"""Save a model's parameters to a readable JSON file, and load them back.

The file lists every parameter's label and value in ``model.parameters()``
order, so it can be read (and diffed) by eye. For an MLP or a GPT it also
records the architecture, in the words of the constructor (``Module.architecture``),
so ``MLP(**architecture)`` builds a model the file loads into:

    {
      "format": "glassgrad-parameters",
      "version": 1,
      "model": "MLP(2 -> 16 -> 16 -> 1, relu hidden, linear output, 337 parameters)",
      "architecture": {"nin": 2, "nouts": [16, 16, 1], "activation": "relu"},
      "parameters": [
        {"label": "L1.N1.w1", "value": 0.6394267984578837},
        ...

Floats are written with ``repr``, which reads back as exactly the same float.
Saving is atomic (write a temporary file, then rename it over the target), and
loading checks the whole file against the model before it changes anything.
Files written before "architecture" existed are still version 1: they load,
checked by their labels alone.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import hashlib
import json
import math
import numbers
import os
import stat
import uuid
from pathlib import Path

from nn.module import Module

__all__ = ["FORMAT", "VERSION", "load_document", "load_parameters", "parameters_document", "save_parameters"]

FORMAT = "glassgrad-parameters"
VERSION = 1


def _architecture(model: Module) -> dict | None:
    """The constructor arguments that fix the model's shape (``type(model)(**them)`` rebuilds it), or None."""
    architecture = getattr(model, "architecture", None)
    # None for a user's own Module that gives none: its parameters' labels are all a file can check
    return architecture() if callable(architecture) else None


def save_parameters(model: Module, path: str | os.PathLike) -> None:
    """Write every parameter's label and value to the JSON file ``path``.

    The file is first written in full under a temporary name in the same
    directory, then renamed over ``path`` (``os.replace``, atomic), so a crash
    leaves either the old file or the new one, never half of one. A save killed
    before its rename leaves its temporary file (``.NAME.HASH.RANDOM.tmp``, NAME
    cut to 32 characters so that any valid target name works); the next save of
    the same file deletes it. If two saves of one file overlap, the one that
    starts later deletes the earlier one's temporary file too: it wins, and the
    earlier save raises FileNotFoundError; the file is whole either way.

    Saving over an existing file keeps its permissions. If ``path`` is a
    symbolic link, the save writes through it, as ``open(path, "w")`` would:
    the file it points to is replaced (atomically) and the link stays a link.
    """
    target = _file_to_write(path)
    _write_atomically(target, _document(model, "save_parameters"))


def parameters_document(model: Module) -> dict:
    """The document ``save_parameters`` writes, as a JSON-ready dict (for a caller that sends it, not a file).

    ValueError if a parameter is not finite, as ``save_parameters``.
    """
    return _document(model, "parameters_document")


def _document(model: Module, caller: str) -> dict:
    parameters = model.parameters()
    for p in parameters:
        if not math.isfinite(p.data):
            raise ValueError(
                f"{caller}: parameter {p.label or '(unlabelled)'} is {p.data}; JSON holds only "
                "finite numbers (did training diverge? lower the learning rate)"
            )
    document: dict = {"format": FORMAT, "version": VERSION, "model": repr(model)}
    architecture = _architecture(model)
    if architecture is not None:
        document["architecture"] = architecture
    document["parameters"] = [{"label": p.label, "value": p.data} for p in parameters]
    return document


def _write_atomically(target: Path, document: dict) -> None:
    """Write ``document`` as JSON to a temporary file beside ``target``, then rename it over ``target``."""
    # The temporary name must stay short (the target's may already be the 255 bytes a name can
    # have) yet belong to this target alone, so that the next save can find what a killed one left.
    digest = hashlib.sha256(os.fsencode(target.name)).hexdigest()[:12]
    prefix = f".{target.name[:32]}.{digest}."
    _delete_leftovers(target.parent, prefix)
    temporary = target.with_name(f"{prefix}{uuid.uuid4().hex[:12]}.tmp")
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        mode = None
    # created with the target's mode (less the umask): new parameters are never readable by more people
    opener = functools.partial(os.open, mode=0o666 if mode is None else mode)
    try:
        with open(temporary, "x", encoding="utf-8", opener=opener) as file:
            json.dump(document, file, indent=2)
            file.write("\n")
            file.flush()
            os.fsync(file.fileno())  # the bytes are on disk before the rename makes them visible
        if mode is not None:
            os.chmod(temporary, mode)  # exactly the target's mode, bits the umask took away included
        _replace(temporary, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
        raise


def _replace(temporary: Path, target: Path) -> None:
    try:
        os.replace(temporary, target)
    except FileNotFoundError:
        raise FileNotFoundError(
            errno.ENOENT,
            "save_parameters: this save's temporary file was deleted before it could be renamed, "
            "most likely by another save of the same file running at the same time, which wins; "
            "save again if this model's parameters should be the ones kept",
            str(target),
        ) from None


def _file_to_write(path: str | os.PathLike) -> Path:
    """The file a save replaces: ``path`` with symbolic links resolved, once it is sure to name a file."""
    name = os.fspath(path)
    if name == "":
        raise ValueError("save_parameters: the path is empty; give a file name such as 'model.json'")
    target = Path(os.path.realpath(name))
    if name.endswith(("/", os.sep)) or target.is_dir():
        raise IsADirectoryError(
            errno.EISDIR,
            f"save_parameters: this is a folder; give a file name in it, such as {os.path.join(name, 'model.json')!r}",
            name,
        )
    if not target.parent.is_dir():
        raise FileNotFoundError(errno.ENOENT, "save_parameters: no such folder; create it first", str(target.parent))
    return target


def _delete_leftovers(folder: Path, prefix: str) -> None:
    """Delete the temporary files that killed saves of the same target left in ``folder``."""
    # Housekeeping only: a folder that can be written but not listed, or a leftover that cannot be
    # deleted, must not stop the save itself.
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        for entry in entries:
            if entry.name.startswith(prefix) and entry.name.endswith(".tmp"):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)


def _read_document(path: Path) -> object:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise FileNotFoundError(
            errno.ENOENT, "load_parameters: no parameter file here; write one with save_parameters", str(path)
        ) from None
    try:
        return json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError) as error:  # bad JSON, bytes that are not UTF-8, or nesting too deep
        raise ValueError(f"load_parameters: {path} is not valid JSON ({error})") from None


def _check_format(path: Path | str, document: object, caller: str) -> None:
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ValueError(f"{caller}: {path} is not a glassgrad parameter file (no \"format\": \"{FORMAT}\")")
    if document.get("version") != VERSION:
        raise ValueError(
            f"{caller}: {path} has format version {document.get('version')!r}; "
            f"this glassgrad reads version {VERSION}"
        )


def _finite_float(value: object) -> float | None:
    """``value`` as a float if it is a finite number (not a bool), else None."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except OverflowError:  # an int too large for a float
        return None
    return number if math.isfinite(number) else None


def _saved_values(path: Path | str, document: dict, caller: str) -> tuple[list[str], list[float]]:
    """The labels and values of the file's parameters, after checking each entry's shape."""
    entries = document.get("parameters")
    if not isinstance(entries, list):
        # the file's content is wrong, not an argument's type: ValueError, as json itself would raise
        raise ValueError(f"{caller}: {path} has no \"parameters\" list")  # noqa: TRY004
    labels, values = [], []
    for i, entry in enumerate(entries):
        label = entry.get("label") if isinstance(entry, dict) else None
        value = _finite_float(entry.get("value")) if isinstance(entry, dict) else None
        if not isinstance(label, str) or value is None:
            raise ValueError(
                f"{caller}: {path}, parameter {i}: expected {{\"label\": text, \"value\": "
                f"finite number}}, got {entry!r}"
            )
        labels.append(label)
        values.append(value)
    return labels, values


def _check_architecture(path: Path | str, document: dict, model: Module, saved_from: str, caller: str) -> None:
    """Refuse the file if any entry of its "architecture" differs from the model's."""
    saved, actual = document.get("architecture"), _architecture(model)
    if saved is not None and not isinstance(saved, dict):
        raise ValueError(f"{caller}: {path} has an \"architecture\" that is not an object: {saved!r}")
    if saved is None or actual is None:
        return  # an older file, or a model that gives no architecture: the labels are checked instead
    for key in {**actual, **saved}:  # the model's entries, then any the file has and the model lacks
        if saved.get(key) != actual.get(key):
            raise ValueError(
                f"{caller}: {path} was saved from a model with {key}={saved.get(key)!r}, "
                f"this model has {key}={actual.get(key)!r}; build the model the file describes "
                f"(the file was saved from {saved_from}; this model is {model!r})"
            )


def load_parameters(model: Module, path: str | os.PathLike) -> None:
    """Set the model's parameters to the values saved in ``path`` by ``save_parameters``.

    The file must describe the same architecture as the model (when both have
    one: an MLP's ``nin``, ``nouts`` and ``activation``, a GPT's sizes), and hold as many
    parameters as the model, with the same labels in the same order; otherwise
    ValueError says what differs, and the model is left exactly as it was.
    """
    path = Path(path)
    _load(model, _read_document(path), path, "load_parameters")


def load_document(model: Module, document: object, source: str = "the document") -> None:
    """Set the model's parameters from a ``parameters_document`` (parsed JSON), checked as ``load_parameters``.

    ``source`` names the document in messages (such as "the uploaded file"); on any
    ValueError the model is left exactly as it was.
    """
    _load(model, document, source, "load_document")


def _load(model: Module, document: object, path: Path | str, caller: str) -> None:
    """Check the whole document against the model, then (and only then) set its parameters."""
    _check_format(path, document, caller)
    labels, values = _saved_values(path, document, caller)
    parameters = model.parameters()
    saved_from = document.get("model", "an unnamed model")
    _check_architecture(path, document, model, saved_from, caller)
    if len(labels) != len(parameters):
        raise ValueError(
            f"{caller}: {path} has {len(labels)} parameters, model has {len(parameters)} "
            f"(the file was saved from {saved_from}; this model is {model!r})"
        )
    for i, (label, p) in enumerate(zip(labels, parameters)):
        if label != p.label:
            raise ValueError(
                f"{caller}: parameter {i} is labelled {label!r} in {path} but {p.label!r} in the "
                f"model (the file was saved from {saved_from}; this model is {model!r})"
            )
    for value, p in zip(values, parameters):
        p.data = value
