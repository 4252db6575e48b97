"""The demos in examples/: each runs in a fast setting and writes the files it promises."""

import html
import importlib
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from matplotlib.contour import ContourSet

from nn import MLP, make_moons, train
from viz.report import SECTION_TITLES

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
sys.path.insert(0, str(EXAMPLES))

# demo -> (fast arguments, files it must write)
DEMOS = {
    "moons": (["--steps", "3"], ["decision_boundary.png", "neuron_maps.png", "network.png", "training_curves.png",
                                 "graph.svg", "report.html", "parameters.json"]),
    "circles": (["--steps", "3"], ["decision_boundary.png", "neuron_maps.png", "report.html", "graph.svg"]),
    "xor": (["--steps", "3"], ["decision_boundary.png", "neuron_maps.png", "report.html", "graph.svg",
                               "one_neuron_vs_network.png"]),
    "spirals": (["--steps", "3"], ["decision_boundary.png", "neuron_maps.png", "report.html", "graph.svg"]),
    "trace_graph": (["--steps", "2"], ["graph_before.svg", "graph_before.png", "graph_after.svg", "graph_after.png",
                                       "graph_trained.svg", "report.html"]),
    "inside": (["--steps", "3"], ["1_untrained_network.png", "2_one_prediction_graph.svg", "3_training_curves.png",
                                  "4_neuron_maps.png", "story.md", "report.html"]),
    "bias": (["--steps", "3"], ["bias.png", "report.html"]),
    "digits": (["--steps", "3"], ["training_curves.png", "weight_images.png", "top_examples.png",
                                  "imagined_digits.png", "imagined_neurons.png", "explanations.png",
                                  "layers_story.png", "confusion.png", "misclassified.png", "report.html",
                                  "parameters.json"]),
    "names": (["--steps", "3"], ["training.png", "attention_maps.png", "letter_space.png", "neuron_contexts.png",
                                 "next_letter.png", "attention_head.svg", "report.html", "parameters.json"]),
}

# demo -> the headings of its report.html, in order: a demo with a story tells it first
REPORT_HEADINGS = {
    "moons": list(SECTION_TITLES),
    "circles": list(SECTION_TITLES),
    "spirals": list(SECTION_TITLES),
    "xor": ["The problem one neuron cannot solve", *SECTION_TITLES],
    "inside": ["1. The untrained network", "2. One prediction, its loss, and the error flowing back", "3. Training",
               "4. The trained network", "The data", "What the output is sensitive to", "Unit health",
               "One sample through the network, forward and backward"],
    "trace_graph": ["Forward: every value computed", "Backward: every gradient", "After 2 steps of gradient descent"],
    "bias": ["Two samples of the same moons", "Two boundaries, shown fresh points", "The numbers"],
    "digits": ["The digits and the training", "What the first layer learned", "What excites each neuron",
               "What the network imagines a digit looks like", "What each neuron imagines", "Why this answer",
               "From pixels to an answer, layer by layer", "Which digits are mistaken for which", "The mistakes"],
    "names": ["The names and the training", "Where each letter looks", "Letters in space",
              "Neurons that read letter combinations", "The next letter", "One attention head as a graph of Values"],
}


@pytest.fixture
def quick_pictures(monkeypatch):
    """A stand-in for the slow matplotlib pictures, for the tests about folders rather than pictures."""
    common = importlib.import_module("common")

    def write_report_only(folder, *args, **kwargs):
        (folder / "report.html").write_text("<html>a quick stand-in for the pictures</html>")
        return [folder / "report.html"]

    monkeypatch.setattr(common, "write_pictures", write_report_only)
    # xor draws a picture for the chapter its report opens with: no need for that either
    monkeypatch.setattr(importlib.import_module("xor"), "one_neuron_chapter", lambda *args, **kwargs: None)


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
    assert "report.html" in files, "every demo writes a report"
    page = (out / "report.html").read_text()
    assert "<html" in page
    assert [html.unescape(heading) for heading in re.findall(r"<h2>(.*?)</h2>", page)] == REPORT_HEADINGS[name]
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
    # every default is said once, in words: no "(default: None)" after "(default: a fresh runs/NAME-N folder)"
    assert "(default: None)" not in done.stdout and "(default: False)" not in done.stdout
    # a demo offers only what it does: trace_graph trains no network, so it has no --scalar
    assert ("--scalar" in done.stdout) == (name != "trace_graph")


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


def test_xor_shows_one_neuron_failing_where_the_network_succeeds(capsys):
    printed = run_demo("xor", ["--no-pictures"], capsys)  # the default 150 steps: the network reaches 100%
    lone = re.search(r"one neuron, .*: ([0-9.]+)% train accuracy", printed)
    assert lone is not None, printed
    assert float(lone.group(1)) <= 75.0, "one line can get at most three of XOR's four corners right"
    assert "target: 100% train accuracy, reached" in printed


def test_bias_draws_both_boundaries_on_one_colour_scale():
    bias = importlib.import_module("bias")
    X, y = make_moons(60, 0.1, seed=0)
    models = [MLP(2, [4, 1], seed=0), MLP(2, [4, 1], seed=1)]
    train(models[0], X, y, steps=20, learning_rate=0.5)  # the other stays untrained: much smaller scores
    figure = bias.side_by_side(models, X, y)
    shadings = [[c for c in ax.collections if isinstance(c, ContourSet) and c.filled][0] for ax in figure.axes[:2]]
    assert np.array_equal(shadings[0].levels, shadings[1].levels)
    assert len(figure.axes) == 3, "two panels and one colour bar"


def test_digits_says_how_many_held_out_digits_each_model_gets_right(capsys):
    printed = run_demo("digits", ["--steps", "3", "--no-pictures"], capsys)
    counts = re.findall(r"(\d+) of 450 held-out digits right \(([0-9.]+)%\)", printed)
    assert len(counts) == 2, printed  # MLP(64, [32, 10]) and the deeper MLP(64, [32, 16, 10])
    for right, percent in counts:
        assert float(percent) == round(100 * int(right) / 450, 1)
    # three steps are far too few: the demo says so rather than claiming the target
    assert "target: 97% held-out accuracy for MLP(64, [32, 10]), NOT reached" in printed


def sampled_names(printed: str) -> list[str]:
    """The names that names.py prints between "N names sampled at ..." and "N of the N are new"."""
    lines = printed.splitlines()
    start = next(i for i, line in enumerate(lines) if " names sampled at temperature " in line)
    end = next(i for i, line in enumerate(lines) if " are new, not among the " in line)
    return [name for line in lines[start + 1:end] for name in line.split()]


def test_names_prints_the_held_out_loss_beside_the_baseline_and_counts_the_new_names(capsys):
    from nn import bigram_loss, load_names, split_names

    printed = run_demo("names", ["--steps", "2", "--no-pictures", "--samples", "6"], capsys)
    train_names, test_names = split_names(load_names(), seed=0)
    baseline = bigram_loss(train_names, test_names)
    assert re.search(r"held-out loss [0-9.]+ nats per character; the bigram baseline on the same names: "
                     + re.escape(f"{baseline:.4f}"), printed), printed
    assert re.search(r"names: 2 steps of 256 names each through the batched replay in [0-9.]+ s", printed), printed
    names = sampled_names(printed)
    assert len(names) == 6
    new = sum(name not in set(train_names) for name in names)
    assert f"{new} of the 6 are new, not among the 28,829 training names" in printed
    # two steps are far too few: the demo says so rather than claiming the target
    assert "target: held-out loss at most 2.25 nats per character, NOT reached" in printed


def test_names_samples_with_the_temperature_it_is_given(capsys):
    warm = run_demo("names", ["--steps", "1", "--no-pictures", "--samples", "5", "--temperature", "2"], capsys)
    cool = run_demo("names", ["--steps", "1", "--no-pictures", "--samples", "5", "--temperature", "0.2"], capsys)
    assert "5 names sampled at temperature 2:" in warm and "5 names sampled at temperature 0.2:" in cool
    assert sampled_names(warm) != sampled_names(cool)


def test_names_scalar_option_trains_one_name_per_step(capsys):
    printed = run_demo("names", ["--scalar", "--steps", "2", "--no-pictures", "--samples", "1"], capsys)
    assert "names: 2 steps of one name each on the scalar engine in " in printed


def test_names_help_says_how_slow_the_scalar_path_is():
    done = subprocess.run([sys.executable, str(EXAMPLES / "names.py"), "--help"], capture_output=True, text=True,
                          timeout=60)
    help_text = " ".join(done.stdout.split())  # argparse wraps the lines
    assert "--temperature" in help_text and "--samples" in help_text
    assert re.search(r"--scalar .*ms a step", help_text), help_text


@pytest.mark.parametrize("argv, option", [(["--temperature", "0"], "--temperature"),
                                          (["--temperature", "-1"], "--temperature"),
                                          (["--temperature", "nan"], "--temperature"),
                                          (["--temperature", "hot"], "--temperature"),
                                          (["--samples", "0"], "--samples"),
                                          (["--samples", "many"], "--samples")])
def test_names_refuses_a_bad_temperature_or_sample_count_in_one_line(argv, option, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as refused:
        run_demo("names", argv + ["--steps", "1"], capsys)
    assert refused.value.code == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and "error:" in lines[0] and option in lines[0], lines
    assert list(tmp_path.iterdir()) == []


def test_ctrl_c_stops_names_mid_training_and_leaves_nothing(tmp_path):
    process = subprocess.Popen(
        [sys.executable, "-u", str(EXAMPLES / "names.py"), "--steps", "100000", "--quiet"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    for _ in range(2):  # the split, then the model: printed just before training
        process.stdout.readline()
    time.sleep(2)  # into training: recording the first batch's lengths alone takes longer
    os.kill(process.pid, signal.SIGINT)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 130
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("interrupted at step ") and lines[0].endswith(" of 100000"), lines
    assert list(tmp_path.iterdir()) == []
