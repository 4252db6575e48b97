"""The demos in examples/: each runs in a fast setting and writes the files it promises."""

import importlib
import os
import signal
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


@pytest.fixture
def quick_pictures(monkeypatch):
    """A stand-in for the slow matplotlib pictures, for the tests about folders rather than pictures."""
    common = importlib.import_module("common")

    def write_report_only(folder, *args, **kwargs):
        (folder / "report.html").write_text("<html>a quick stand-in for the pictures</html>")
        return [folder / "report.html"]

    monkeypatch.setattr(common, "write_pictures", write_report_only)


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


def test_a_demo_refuses_to_overwrite_an_earlier_run_without_force(tmp_path, capsys, quick_pictures):
    out = tmp_path / "run"
    run_demo("xor", ["--steps", "2", "--out", str(out)], capsys)
    with pytest.raises(SystemExit) as refused:
        run_demo("xor", ["--steps", "2", "--out", str(out)], capsys)
    assert refused.value.code == 2
    assert "--force" in capsys.readouterr().err
    run_demo("xor", ["--steps", "2", "--out", str(out), "--force"], capsys)


def test_default_output_folders_are_fresh_each_run(tmp_path, monkeypatch, capsys, quick_pictures):
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


def folder_contents(folder: Path) -> dict:
    """Every file under ``folder`` (hidden ones included) with its bytes, to compare before and after."""
    return {str(path.relative_to(folder)): path.read_bytes() if path.is_file() else None
            for path in sorted(folder.rglob("*"))}


# command lines that must be refused, each with the option its error must name; {tmp} is a fresh folder
# holding a_file (a file in the way) and broken (a symlink to nowhere)
BAD_OPTIONS = {
    "negative seed": (["--seed", "-1"], "--seed"),
    "seed numpy refuses": (["--seed", str(2**32)], "--seed"),
    "seed not a number": (["--seed", "one"], "--seed"),
    "zero steps": (["--steps", "0"], "--steps"),
    "steps not a number": (["--steps", "many"], "--steps"),
    "out in /proc": (["--out", "/proc/x"], "--out"),
    "out a broken symlink": (["--out", "{tmp}/broken"], "--out"),
    "out a file": (["--out", "{tmp}/a_file"], "--out"),
    "out below a file": (["--out", "{tmp}/a_file/run"], "--out"),
    "out empty": (["--out", ""], "--out"),
    "unknown option": (["--sed", "1"], "--sed"),
}


@pytest.mark.parametrize("case", sorted(BAD_OPTIONS))
def test_a_bad_option_gives_one_line_exit_2_and_creates_nothing(case, tmp_path, monkeypatch, capsys):
    (tmp_path / "a_file").write_text("in the way")
    (tmp_path / "broken").symlink_to(tmp_path / "nowhere" / "at_all")
    monkeypatch.chdir(tmp_path)
    argv, option = BAD_OPTIONS[case]
    argv = [arg.format(tmp=tmp_path) for arg in argv]
    quick = [] if "--steps" in argv else ["--steps", "2"]  # were the option accepted, the run would be short
    before = folder_contents(tmp_path)
    with pytest.raises(SystemExit) as refused:
        run_demo("moons", argv + quick, capsys)
    assert refused.value.code == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and "error:" in lines[0] and option in lines[0], lines
    assert folder_contents(tmp_path) == before


@pytest.mark.parametrize("name", sorted(DEMOS))
def test_every_demo_refuses_a_negative_seed_from_its_command_line(name, tmp_path):
    done = subprocess.run([sys.executable, str(EXAMPLES / f"{name}.py"), "--seed", "-1", "--quiet"],
                          capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert done.returncode == 2
    assert len(done.stderr.splitlines()) == 1 and "--seed" in done.stderr
    assert list(tmp_path.iterdir()) == []


def interrupt_mid_training(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """Start moons for far too many steps, send Ctrl-C (SIGINT) once it is training, and wait for it."""
    process = subprocess.Popen(
        [sys.executable, "-u", str(EXAMPLES / "moons.py"), "--steps", "100000", "--quiet", *args],
        cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        # a shell may start background jobs with SIGINT ignored; give the demo the default, as a terminal does
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    first_line = process.stdout.readline()  # the model's description, printed just before training
    assert first_line.startswith("MLP"), first_line
    os.kill(process.pid, signal.SIGINT)
    out, err = process.communicate(timeout=30)
    return subprocess.CompletedProcess(process.args, process.returncode, first_line + out, err)


def assert_interrupted(done: subprocess.CompletedProcess) -> None:
    assert done.returncode == 130
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("interrupted at step ") and lines[0].endswith(" of 100000"), lines
    assert "Traceback" not in done.stdout + done.stderr


def test_ctrl_c_leaves_no_default_folder_to_block_the_next_run(tmp_path, monkeypatch, capsys, quick_pictures):
    assert_interrupted(interrupt_mid_training([], tmp_path))
    assert list(tmp_path.iterdir()) == []  # not even the runs/ folder the run had made
    monkeypatch.chdir(tmp_path)
    run_demo("moons", ["--steps", "2"], capsys)
    assert [p.name for p in (tmp_path / "runs").iterdir()] == ["moons-1"]


def test_ctrl_c_leaves_no_out_folder_and_the_same_out_works_again(tmp_path, capsys, quick_pictures):
    out = tmp_path / "new" / "run"
    assert_interrupted(interrupt_mid_training(["--out", str(out)], tmp_path))
    assert list(tmp_path.iterdir()) == []
    run_demo("moons", ["--steps", "2", "--out", str(out)], capsys)
    assert (out / "report.html").is_file()


def test_ctrl_c_with_force_leaves_the_users_folder_as_it_was(tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("my notes")
    (out / "report.html").write_text("my earlier report")
    before = folder_contents(tmp_path)
    assert_interrupted(interrupt_mid_training(["--out", str(out), "--force"], tmp_path))
    assert folder_contents(tmp_path) == before


def test_force_replaces_only_the_runs_own_files_and_keeps_the_users(tmp_path, capsys, quick_pictures):
    out = tmp_path / "mine"
    (out / "drafts").mkdir(parents=True)
    (out / "notes.txt").write_text("my notes")
    (out / "drafts" / "idea.txt").write_text("an idea")
    (out / "report.html").write_text("my earlier report")
    printed = run_demo("moons", ["--steps", "2", "--out", str(out), "--force"], capsys)
    assert (out / "notes.txt").read_text() == "my notes"
    assert (out / "drafts" / "idea.txt").read_text() == "an idea"
    assert "<html" in (out / "report.html").read_text()
    assert sorted(p.name for p in out.iterdir()) == ["drafts", "notes.txt", "parameters.json", "report.html"]
    assert "notes.txt" not in printed and "wrote" in printed


def test_ctrl_c_while_writing_pictures_keeps_nothing(tmp_path, monkeypatch, capsys):
    common = importlib.import_module("common")

    def interrupted_half_way(folder, *args, **kwargs):
        (folder / "decision_boundary.png").write_text("half a picture")
        raise KeyboardInterrupt

    monkeypatch.setattr(common, "write_pictures", interrupted_half_way)
    with pytest.raises((SystemExit, KeyboardInterrupt)) as stopped:  # a bare KeyboardInterrupt would stop pytest
        run_demo("moons", ["--steps", "2", "--out", str(tmp_path / "run")], capsys)
    assert stopped.type is SystemExit and stopped.value.code == 130
    assert capsys.readouterr().err.splitlines() == ["interrupted at step 2 of 2, while writing the files"]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("path", sorted(path for path in EXAMPLES.glob("*.py") if path.stem not in DEMOS),
                         ids=lambda path: path.name)
def test_a_python_file_in_examples_that_is_not_a_demo_says_so(path):
    for argv in (["--help"], []):
        done = subprocess.run([sys.executable, str(path), *argv], capture_output=True, text=True, timeout=60)
        assert done.returncode == 2 and "not a demo" in done.stderr, (argv, done.stderr)
        assert all(f"examples/{name}.py" in done.stderr for name in DEMOS), done.stderr


@pytest.mark.parametrize("name, argv", [("moons", ["--seed", str(2**32 - 1)]), ("bias", ["--seed", str(2**32 - 1)]),
                                        ("trace_graph", ["--steps", "0"])])
def test_the_edge_values_of_the_options_are_accepted(name, argv, capsys):
    run_demo(name, ["--steps", "1", "--no-pictures", *argv], capsys)
