"""The demos in examples/: each runs in a fast setting and writes the files it promises."""

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
sys.path.insert(0, str(EXAMPLES))

# demo -> (fast arguments, files it must write)
DEMOS = {
    "moons": (["--steps", "3"], ["decision_boundary.png", "neuron_maps.png", "network.png", "training_curves.png",
                                 "graph.svg", "report.html", "parameters.json"]),
    "circles": (["--steps", "3"], ["decision_boundary.png", "neuron_maps.png", "report.html", "graph.svg"]),
    "xor": (["--steps", "3"], ["decision_boundary.png", "neuron_maps.png", "report.html", "graph.svg"]),
    "spirals": (["--steps", "3"], ["decision_boundary.png", "neuron_maps.png", "report.html", "graph.svg"]),
    "trace_graph": (["--steps", "2"], ["graph_before.svg", "graph_before.png", "graph_after.svg", "graph_after.png",
                                       "graph_trained.svg"]),
    "inside": (["--steps", "3"], ["1_untrained_network.png", "2_one_prediction_graph.svg", "3_training_curves.png",
                                  "4_neuron_maps.png", "story.md", "report.html"]),
    "bias": (["--steps", "3"], ["bias.png"]),
}


def run_demo(name: str, args: list[str], capsys) -> str:
    module = importlib.import_module(name)
    assert module.main(args + ["--quiet"]) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("name", sorted(DEMOS))
def test_demo_writes_its_files(name, tmp_path, capsys):
    args, files = DEMOS[name]
    out = tmp_path / name
    printed = run_demo(name, args + ["--out", str(out)], capsys)
    for file in files:
        assert (out / file).is_file(), f"{name} did not write {file}"
        assert (out / file).stat().st_size > 0
    if "report.html" in files:
        assert "<html" in (out / "report.html").read_text()
    assert "wrote" in printed


@pytest.mark.parametrize("name", sorted(DEMOS))
def test_demo_prints_the_same_numbers_for_the_same_seed(name, capsys):
    args, _ = DEMOS[name]
    first = run_demo(name, args + ["--no-pictures", "--seed", "3"], capsys)
    second = run_demo(name, args + ["--no-pictures", "--seed", "3"], capsys)
    strip_times = [line for line in first.splitlines() if " s" not in line]
    assert strip_times == [line for line in second.splitlines() if " s" not in line]


def test_a_demo_refuses_to_overwrite_an_earlier_run_without_force(tmp_path, capsys):
    out = tmp_path / "run"
    run_demo("xor", ["--steps", "2", "--out", str(out)], capsys)
    with pytest.raises(SystemExit, match="--force"):
        run_demo("xor", ["--steps", "2", "--out", str(out)], capsys)
    run_demo("xor", ["--steps", "2", "--out", str(out), "--force"], capsys)


def test_default_output_folders_are_fresh_each_run(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    run_demo("xor", ["--steps", "2"], capsys)
    run_demo("xor", ["--steps", "2"], capsys)
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["xor-1", "xor-2"]


def test_scalar_engine_option_gives_the_same_training_numbers(capsys):
    batched = run_demo("moons", ["--steps", "3", "--no-pictures"], capsys)
    scalar = run_demo("moons", ["--steps", "3", "--no-pictures", "--scalar"], capsys)
    assert [line.split(" after ")[0] for line in batched.splitlines()] == \
        [line.split(" after ")[0] for line in scalar.splitlines()]


@pytest.mark.parametrize("name", sorted(DEMOS))
def test_every_demo_has_help(name):
    done = subprocess.run([sys.executable, str(EXAMPLES / f"{name}.py"), "--help"], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0
    for option in ("--seed", "--steps", "--out", "--force"):
        assert option in done.stdout


def test_bad_steps_are_refused_with_a_message(capsys):
    with pytest.raises(SystemExit):
        run_demo("moons", ["--steps", "0"], capsys)
    assert "positive number of steps" in capsys.readouterr().err
