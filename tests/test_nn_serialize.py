"""Specification of nn.serialize: readable JSON, exact round trips, atomic saves, careful loads."""

from __future__ import annotations

import json
import math
import os
import signal
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from engine import Value
from nn import MLP, Module, load_parameters, save_parameters, serialize

REPOSITORY = Path(__file__).resolve().parents[1]


def _values(model: MLP) -> list[float]:
    return [p.data for p in model.parameters()]


def test_round_trip_restores_every_parameter_exactly(tmp_path: Path) -> None:
    saved, restored = MLP(2, [8, 8, 1], seed=1), MLP(2, [8, 8, 1], seed=2)
    saved.parameters()[0].data = 0.1 + 0.2  # a float whose shortest repr has 17 digits
    saved.parameters()[1].data = 1e-300
    assert _values(saved) != _values(restored)
    save_parameters(saved, tmp_path / "model.json")
    load_parameters(restored, tmp_path / "model.json")
    assert _values(restored) == _values(saved)


def test_file_is_indented_json_listing_labels_and_values_in_order(tmp_path: Path) -> None:
    model = MLP(2, [3, 1], seed=0)
    path = tmp_path / "model.json"
    save_parameters(model, str(path))
    text = path.read_text(encoding="utf-8")
    document = json.loads(text)
    assert document["format"] == "glassgrad-parameters"
    assert document["version"] == 1
    assert document["model"] == repr(model)
    assert document["parameters"] == [{"label": p.label, "value": p.data} for p in model.parameters()]
    assert '\n  "parameters": [' in text  # one key per line, indented for reading


def test_saving_replaces_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "model.json"
    path.write_text("old contents", encoding="utf-8")
    save_parameters(MLP(2, [1], seed=0), path)
    assert json.loads(path.read_text(encoding="utf-8"))["format"] == "glassgrad-parameters"


def _without_architecture(path: Path) -> None:
    """Rewrite ``path`` as saves wrote it before files recorded the architecture."""
    document = json.loads(path.read_text(encoding="utf-8"))
    del document["architecture"]
    path.write_text(json.dumps(document), encoding="utf-8")


def test_the_file_records_the_architecture_the_mlp_is_built_from(tmp_path: Path) -> None:
    model = MLP(3, [4, 2], activation="tanh", seed=0)
    save_parameters(model, tmp_path / "model.json")
    architecture = json.loads((tmp_path / "model.json").read_text(encoding="utf-8"))["architecture"]
    assert architecture == {"nin": 3, "nouts": [4, 2], "activation": "tanh"}
    assert repr(MLP(**architecture)) == repr(model)


@pytest.mark.parametrize("saved, loading, message", [
    (MLP(2, [4, 1], activation="relu"), MLP(2, [4, 1], activation="tanh"), "activation='relu', .* activation='tanh'"),
    (MLP(2, [16, 16, 1]), MLP(2, [4, 4, 1]), r"nouts=\[16, 16, 1\], .* nouts=\[4, 4, 1\]"),
    (MLP(2, [3, 1]), MLP(5, [3, 1]), "nin=2, .* nin=5"),
], ids=["activation", "sizes", "inputs"])
def test_loading_into_a_model_of_another_architecture_names_both_and_changes_nothing(
    tmp_path: Path, saved: MLP, loading: MLP, message: str
) -> None:
    save_parameters(saved, tmp_path / "model.json")
    before = _values(loading)
    with pytest.raises(ValueError, match=message):
        load_parameters(loading, tmp_path / "model.json")
    assert _values(loading) == before


def test_an_architecture_entry_the_model_lacks_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "model.json"
    save_parameters(MLP(2, [3, 1], seed=0), path)
    document = json.loads(path.read_text(encoding="utf-8"))
    document["architecture"]["dropout"] = 0.5  # recorded by some other program: this MLP has no such thing
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(ValueError, match="dropout=0.5, .* dropout=None"):
        load_parameters(MLP(2, [3, 1], seed=1), path)


def test_a_file_without_an_architecture_from_an_older_save_still_loads(tmp_path: Path) -> None:
    saved, restored = MLP(2, [3, 1], seed=0), MLP(2, [3, 1], seed=1)
    save_parameters(saved, tmp_path / "model.json")
    _without_architecture(tmp_path / "model.json")
    load_parameters(restored, tmp_path / "model.json")
    assert _values(restored) == _values(saved)


def test_a_file_without_an_architecture_for_another_shape_says_how_many_parameters_differ(tmp_path: Path) -> None:
    big, small = MLP(2, [16, 16, 1], seed=0), MLP(2, [4, 4, 1], seed=0)
    save_parameters(big, tmp_path / "big.json")
    _without_architecture(tmp_path / "big.json")
    message = f"has {big.num_parameters()} parameters, model has {small.num_parameters()}"
    with pytest.raises(ValueError, match=message):
        load_parameters(small, tmp_path / "big.json")


class Pair(Module):
    """A user's own module: two labelled parameters, and none of an MLP's attributes."""

    def __init__(self, first: float, second: float) -> None:
        self.first, self.second = Value(first, label="first"), Value(second, label="second")

    def parameters(self) -> list[Value]:
        return [self.first, self.second]


def test_a_module_that_is_not_an_mlp_saves_and_loads_by_its_labels(tmp_path: Path) -> None:
    save_parameters(Pair(1.5, -2.0), tmp_path / "pair.json")
    assert "architecture" not in json.loads((tmp_path / "pair.json").read_text(encoding="utf-8"))
    restored = Pair(0.0, 0.0)
    load_parameters(restored, tmp_path / "pair.json")
    assert [p.data for p in restored.parameters()] == [1.5, -2.0]


def test_a_failed_load_leaves_the_model_unchanged(tmp_path: Path) -> None:
    save_parameters(MLP(2, [16, 16, 1], seed=0), tmp_path / "big.json")
    model = MLP(2, [4, 4, 1], seed=3)
    before = _values(model)
    with pytest.raises(ValueError):
        load_parameters(model, tmp_path / "big.json")
    assert _values(model) == before


def test_a_label_mismatch_is_reported_and_nothing_is_loaded(tmp_path: Path) -> None:
    path = tmp_path / "model.json"
    save_parameters(MLP(2, [3, 1], seed=0), path)
    document = json.loads(path.read_text(encoding="utf-8"))
    document["parameters"][-1]["label"] = "L9.N9.b"  # the last entry: every other value would fit
    path.write_text(json.dumps(document), encoding="utf-8")
    model = MLP(2, [3, 1], seed=5)
    before = _values(model)
    with pytest.raises(ValueError, match="labelled 'L9.N9.b' in .* but 'L2.N1.b' in the model"):
        load_parameters(model, path)
    assert _values(model) == before


@pytest.mark.parametrize("change, message", [
    (lambda d: d.update(format="something-else"), "not a glassgrad parameter file"),
    (lambda d: d.update(version=2), "version 2"),
    (lambda d: d.update(parameters={"L1.N1.w1": 0.5}), "no \"parameters\" list"),
    (lambda d: d["parameters"][0].update(value="0.5"), "parameter 0"),
    (lambda d: d["parameters"][1].pop("label"), "parameter 1"),
    (lambda d: d.update(architecture=[2, 1]), "\"architecture\" that is not an object"),
])
def test_a_malformed_file_is_rejected_with_a_value_error(tmp_path: Path, change, message: str) -> None:
    path = tmp_path / "model.json"
    save_parameters(MLP(2, [1], seed=0), path)
    document = json.loads(path.read_text(encoding="utf-8"))
    change(document)
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        load_parameters(MLP(2, [1], seed=0), path)


def test_a_missing_file_raises_file_not_found_naming_the_path(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.json"
    with pytest.raises(FileNotFoundError, match="nowhere.json") as error:
        load_parameters(MLP(2, [1]), path)
    assert error.value.filename == str(path)


def test_corrupt_json_raises_value_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"format": "glassgrad-parameters", "parameters": [', encoding="utf-8")
    with pytest.raises(ValueError, match="broken.json is not valid JSON"):
        load_parameters(MLP(2, [1]), path)


def test_json_nested_too_deeply_raises_value_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000, encoding="utf-8")  # deeper than json's parser can recurse
    with pytest.raises(ValueError, match="deep.json is not valid JSON"):
        load_parameters(MLP(2, [1]), path)


def test_bytes_that_are_not_utf8_raise_value_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "latin1.json"
    path.write_bytes('{"format": "glassgrad-parameters", "model": "café"}'.encode("latin-1"))
    with pytest.raises(ValueError, match="latin1.json is not valid JSON"):
        load_parameters(MLP(2, [1]), path)


def test_a_failed_save_keeps_the_previous_file_and_leaves_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "model.json"
    save_parameters(MLP(2, [3, 1], seed=0), path)
    previous = path.read_text(encoding="utf-8")

    def crash_halfway(document: object, file, **options: object) -> None:
        file.write('{"format": "glassgrad-par')
        raise OSError("disk full")

    monkeypatch.setattr(serialize.json, "dump", crash_halfway)
    with pytest.raises(OSError, match="disk full"):
        save_parameters(MLP(2, [3, 1], seed=1), path)
    assert path.read_text(encoding="utf-8") == previous
    assert [p.name for p in tmp_path.iterdir()] == ["model.json"]


def test_a_failed_first_save_creates_no_file_at_all(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def crash(document: object, file, **options: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(serialize.json, "dump", crash)
    with pytest.raises(KeyboardInterrupt):
        save_parameters(MLP(2, [1], seed=0), tmp_path / "model.json")
    assert list(tmp_path.iterdir()) == []


def test_saving_a_non_finite_parameter_raises_value_error_naming_it(tmp_path: Path) -> None:
    model = MLP(2, [1], seed=0)
    model.parameters()[1].data = math.nan
    with pytest.raises(ValueError, match="L1.N1.w2 is nan"):
        save_parameters(model, tmp_path / "model.json")
    assert list(tmp_path.iterdir()) == []


# A child process that saves and is killed with SIGKILL (kill -9) partway: no except clause or
# finally block runs, so whatever the save had put on disk stays there, as after a real crash.
KILLED_SAVE = """
import json, os, signal, sys
from nn import MLP, save_parameters

def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)

real_dump = json.dump
def dump_half_then_die(document, file, **options):
    file.write('{"format": "glassgrad-par')
    file.flush()
    die()

path, moment = sys.argv[1], sys.argv[2]
if moment == "while writing":
    json.dump = dump_half_then_die
else:
    os.replace = die
save_parameters(MLP(2, [3, 1], seed=7), path)
"""


def _killed_save(path: Path, moment: str) -> None:
    """Run ``save_parameters(..., path)`` in a child process and kill -9 it at ``moment``."""
    child = subprocess.run(
        [sys.executable, "-c", KILLED_SAVE, str(path), moment],
        cwd=REPOSITORY,
        env={**os.environ, "PYTHONPATH": str(REPOSITORY)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
@pytest.mark.parametrize("moment", ["while writing", "before renaming"])
def test_saves_killed_midway_keep_the_old_file_and_the_next_save_removes_their_leftovers(
    tmp_path: Path, moment: str
) -> None:
    path = tmp_path / "model.json"
    save_parameters(MLP(2, [3, 1], seed=0), path)
    previous = path.read_text(encoding="utf-8")
    for _ in range(3):
        _killed_save(path, moment)
    assert path.read_text(encoding="utf-8") == previous
    leftovers = [p for p in tmp_path.iterdir() if p.name != "model.json"]
    assert len(leftovers) == 1  # the last killed save's: each save deleted those before it
    save_parameters(MLP(2, [3, 1], seed=1), path)
    assert [p.name for p in tmp_path.iterdir()] == ["model.json"]


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
def test_a_save_leaves_the_leftovers_of_other_files_alone(tmp_path: Path) -> None:
    # the names share a long beginning, longer than the part a temporary name keeps
    other, mine = tmp_path / ("checkpoint" * 8 + "-a.json"), tmp_path / ("checkpoint" * 8 + "-b.json")
    _killed_save(other, "before renaming")
    leftovers = set(tmp_path.iterdir())
    assert len(leftovers) == 1
    save_parameters(MLP(2, [1], seed=0), mine)
    assert set(tmp_path.iterdir()) == leftovers | {mine}


def test_a_save_overtaken_by_another_save_of_the_same_file_fails_and_leaves_the_other(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "model.json"
    first, second = MLP(2, [3, 1], seed=1), MLP(2, [3, 1], seed=2)
    real_dump = json.dump

    def dump_while_another_save_runs(document: object, file, **options: object) -> None:
        monkeypatch.setattr(serialize.json, "dump", real_dump)
        save_parameters(second, path)  # starts and finishes while the first save is writing
        real_dump(document, file, **options)

    monkeypatch.setattr(serialize.json, "dump", dump_while_another_save_runs)
    with pytest.raises(FileNotFoundError, match="at the same time"):
        save_parameters(first, path)
    restored = MLP(2, [3, 1], seed=3)
    load_parameters(restored, path)
    assert _values(restored) == _values(second)
    assert [p.name for p in tmp_path.iterdir()] == ["model.json"]


def test_concurrent_saves_of_one_file_always_leave_one_whole_file(tmp_path: Path) -> None:
    path = tmp_path / "model.json"
    models = [MLP(2, [8, 8, 1], seed=1), MLP(2, [8, 8, 1], seed=2)]

    def save_repeatedly(model: MLP) -> None:
        for _ in range(20):
            try:
                save_parameters(model, path)
            except FileNotFoundError:
                pass  # overtaken by the other thread's save, which then wins

    threads = [threading.Thread(target=save_repeatedly, args=(model,)) for model in models]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    restored = MLP(2, [8, 8, 1], seed=3)
    load_parameters(restored, path)
    assert _values(restored) in [_values(model) for model in models]
    assert [p.name for p in tmp_path.iterdir()] == ["model.json"]


@pytest.mark.parametrize("length", [220, 255])  # 255 bytes: the longest name most file systems allow
def test_a_target_name_as_long_as_the_file_system_allows_is_saved(tmp_path: Path, length: int) -> None:
    path = tmp_path / ("m" * (length - len(".json")) + ".json")
    model, restored = MLP(2, [3, 1], seed=0), MLP(2, [3, 1], seed=1)
    save_parameters(model, path)
    load_parameters(restored, path)
    assert _values(restored) == _values(model)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


@pytest.mark.parametrize("mode", [0o600, 0o664], ids=oct)  # private; wider than the usual umask gives
def test_saving_over_a_file_keeps_its_permissions(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "model.json"
    path.write_text("old contents", encoding="utf-8")
    path.chmod(mode)
    save_parameters(MLP(2, [1], seed=0), path)
    assert stat.S_IMODE(path.stat().st_mode) == mode


def test_a_new_file_gets_the_permissions_the_umask_allows(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    try:
        save_parameters(MLP(2, [1], seed=0), tmp_path / "model.json")
    finally:
        os.umask(umask)
    assert stat.S_IMODE((tmp_path / "model.json").stat().st_mode) == 0o666 & ~0o022


def test_saving_through_a_symbolic_link_replaces_the_file_it_points_to(tmp_path: Path) -> None:
    (tmp_path / "runs").mkdir()
    real = tmp_path / "runs" / "model.json"
    save_parameters(MLP(2, [3, 1], seed=0), real)
    link = tmp_path / "latest.json"
    link.symlink_to(Path("runs") / "model.json")  # relative, as such links usually are
    model, restored = MLP(2, [3, 1], seed=1), MLP(2, [3, 1], seed=2)
    save_parameters(model, link)
    assert link.is_symlink()
    load_parameters(restored, real)
    assert _values(restored) == _values(model)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["latest.json", "runs"]
    assert [p.name for p in real.parent.iterdir()] == ["model.json"]


@pytest.mark.parametrize("path, error, message", [
    ("", ValueError, "the path is empty"),
    (".", IsADirectoryError, "is a folder"),
    ("/", IsADirectoryError, "is a folder"),
    ("new-folder/", IsADirectoryError, "is a folder"),
])
def test_a_path_that_names_no_file_is_refused_with_a_clear_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, path: str, error: type, message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(error, match=message):
        save_parameters(MLP(2, [1], seed=0), path)
    assert list(tmp_path.iterdir()) == []


def test_saving_to_an_existing_folder_raises_is_a_directory_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(IsADirectoryError, match="is a folder") as error:
        save_parameters(MLP(2, [1], seed=0), tmp_path)
    assert error.value.filename == str(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_saving_into_a_missing_folder_raises_file_not_found_naming_the_folder(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no such folder") as error:
        save_parameters(MLP(2, [1], seed=0), tmp_path / "missing" / "model.json")
    assert error.value.filename == str(tmp_path / "missing")
