"""Specification of nn.serialize: readable JSON, exact round trips, atomic saves, careful loads."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from nn import MLP, load_parameters, save_parameters, serialize


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


def test_loading_into_a_model_of_another_shape_says_how_many_parameters_differ(tmp_path: Path) -> None:
    big, small = MLP(2, [16, 16, 1], seed=0), MLP(2, [4, 4, 1], seed=0)
    save_parameters(big, tmp_path / "big.json")
    message = f"has {big.num_parameters()} parameters, model has {small.num_parameters()}"
    with pytest.raises(ValueError, match=message):
        load_parameters(small, tmp_path / "big.json")


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
