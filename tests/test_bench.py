"""benchmarks/bench.py: its reference engine and its side-by-side protocol do what the table says.

Nothing here is timed; the speed itself is shown by running the script.
"""

from __future__ import annotations

import gc
import importlib.util
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine import Value
from tests.browser import find_chromium

BENCH = Path(__file__).resolve().parent.parent / "benchmarks" / "bench.py"


def load_script(path: Path):
    """A script of benchmarks/ as a module, to test its parts (it is not a package)."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bench():
    return load_script(BENCH)


def test_help_describes_the_script_and_exits_cleanly() -> None:
    done = subprocess.run([sys.executable, str(BENCH), "--help"], capture_output=True, text=True)
    assert done.returncode == 0
    assert "--quick" in done.stdout
    assert "side by side" in done.stdout


def _plain_parameters(bench, Value) -> dict:
    return {name: [[Value(x) for x in row] for row in matrix] for name, matrix in bench.gpt_weights().items()}


def _flat(params: dict) -> list:
    return [p for matrix in params.values() for row in matrix for p in row]


def test_the_plain_gpt_gives_the_same_loss_and_gradients_on_both_engines(bench) -> None:
    (tokens,) = bench.training_names(1)
    params = {cls: _plain_parameters(bench, cls) for cls in (Value, bench.LeanValue)}
    losses = {cls: bench.plain_gpt_loss(params[cls], tokens) for cls in params}
    for loss in losses.values():
        loss.backward()
    assert math.isclose(losses[Value].data, losses[bench.LeanValue].data, rel_tol=1e-12)
    for mine, theirs in zip(_flat(params[Value]), _flat(params[bench.LeanValue])):
        assert math.isclose(mine.grad, theirs.grad, rel_tol=1e-9, abs_tol=1e-12)


def test_the_plain_gpt_is_nn_gpt_written_out(bench) -> None:
    from nn import GPT, next_token_loss

    (tokens,) = bench.training_names(1)
    model = GPT(seed=0)
    plain = _plain_parameters(bench, Value)
    mine, theirs = next_token_loss(model, tokens), bench.plain_gpt_loss(plain, tokens)
    mine.backward()
    theirs.backward()
    assert math.isclose(mine.data, theirs.data, rel_tol=1e-12)
    for a, b in zip(model.parameters(), _flat(plain)):
        assert math.isclose(a.grad, b.grad, rel_tol=1e-9, abs_tol=1e-12)


def test_lean_reference_builds_the_same_graph_node_for_node(bench) -> None:
    def count(root) -> int:
        seen, stack = {id(root)}, [root]
        while stack:
            for parent in stack.pop().parents:
                if id(parent) not in seen:
                    seen.add(id(parent))
                    stack.append(parent)
        return len(seen)

    (tokens,) = bench.training_names(1)
    counts = {cls: count(bench.plain_gpt_loss(_plain_parameters(bench, cls), tokens))
              for cls in (Value, bench.LeanValue)}
    assert counts[Value] == counts[bench.LeanValue]


def test_both_gpt_steps_take_the_same_adam_steps(bench) -> None:
    # the side-by-side rows compare losses step by step: the two updates must be the same update
    steps = bench.gpt_side_by_side({"plain": bench.plain_gpt(Value, 3), "nn.GPT": bench.glassgrad_gpt(3)}, 3)
    assert steps["loss_difference"] < 1e-12 and steps["steps"] == 3


def test_engines_take_turns_and_the_first_round_only_warms_up(bench) -> None:
    calls = []

    def step(name: str):
        def run(index: int) -> dict:
            calls.append((name, index))
            return {"phase": 1.0}
        return run

    totals = bench.take_turns({"a": step("a"), "b": step("b")}, rounds=3)
    assert calls == [("b", 0), ("a", 0), ("a", 0), ("b", 0), ("b", 1), ("a", 1), ("a", 2), ("b", 2)]
    assert totals == {"a": {"phase": 3.0}, "b": {"phase": 3.0}}


def test_side_by_side_rows_print_each_ratio_as_the_other_engine_over_glassgrad(bench, capsys) -> None:
    results = {
        "transformer": {"steps": 2, "letters": 10, "loss_difference": 0.0, "seconds": {"glassgrad": 1.0, "lean": 1.5},
                        "forward_seconds": {"glassgrad": 0.5, "lean": 0.5}},
        "backward": {"chain 10": {"nodes": 10, "rounds": 1, "seconds": {"glassgrad": 2.0, "micrograd": 5.0}}},
        "ops": {"n": 1, "rounds": 1, "us_per_node": {"+": {"glassgrad": {"forward": 1.0, "backward": 2.0},
                                                           "micrograd": {"forward": 3.0, "backward": 3.0}}}},
        "replay": {"error": "PyTorch is not installed"},
    }
    bench.print_side_by_side(results)
    shown = capsys.readouterr().out
    for ratio in ("1.50x", "2.50x", "3.00x"):
        assert ratio in shown
    assert "PyTorch is not installed" in shown


def test_lean_reference_graph_is_freed_by_reference_counting_alone(bench) -> None:
    # as glassgrad's is, so that the step that drops it pays for freeing it (not a gc.collect() off the clock)
    gc.collect()
    gc.disable()
    try:
        before = sum(1 for obj in gc.get_objects() if type(obj) is bench.LeanValue)
        x = bench.LeanValue(2.0)
        loss = (x * x + x).exp()
        loss.backward()
        alive_with_graph = sum(1 for obj in gc.get_objects() if type(obj) is bench.LeanValue)
        del x, loss
        alive_after_drop = sum(1 for obj in gc.get_objects() if type(obj) is bench.LeanValue)
    finally:
        gc.enable()
    assert alive_with_graph > before
    assert alive_after_drop == before


# --- benchmarks/playground_fps.py ---------------------------------------------------------

PLAYGROUND_FPS = BENCH.parent / "playground_fps.py"


def test_the_playground_benchmark_counts_frames_built_received_and_drawn() -> None:
    """One short run prints its three columns, each a number (not timed: the figures are the script's to show)."""
    done = subprocess.run([sys.executable, str(PLAYGROUND_FPS), "--seconds", "1"], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "OPENBLAS_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("frames a second"))
    assert lines[header].split()[-3:] == ["built", "received", "drawn"]
    built, received, drawn = lines[header + 1].split()[:3]
    assert float(built) > 0 and float(received) > 0
    assert drawn == "no" if find_chromium() is None else float(drawn) > 0
    assert "time of one frame" in done.stdout


# --- benchmarks/gpt_ceiling.py ------------------------------------------------------------

GPT_CEILING = BENCH.parent / "gpt_ceiling.py"


@pytest.fixture(scope="module")
def ceiling():
    return load_script(GPT_CEILING)


def test_the_bare_engine_computes_nn_gpts_loss_and_gradients(ceiling) -> None:
    """The floor is measured on the same computation: the bare GPT's loss and every gradient are nn.GPT's."""
    from nn import GPT, next_token_loss

    (tokens,) = ceiling.bench.training_names(1)
    model = GPT(seed=0)
    loss = next_token_loss(model, tokens)
    loss.backward()
    params = {name: [[ceiling.Bare(p.data) for p in row] for row in matrix]
              for name, matrix in model.state_dict().items()}
    bare = ceiling.bare_gpt_loss(params, tokens)
    Value.backward(bare)
    assert math.isclose(bare.data, loss.data, rel_tol=1e-12)
    for name, matrix in model.state_dict().items():
        for row, bare_row in zip(matrix, params[name]):
            for p, q in zip(row, bare_row):
                assert math.isclose(q.grad, p.grad, rel_tol=1e-9, abs_tol=1e-12), name


def test_the_bare_engine_trains_as_nn_gpt_does(ceiling) -> None:
    """Three Adam steps on the same names give nn.GPT's losses (the script refuses to report otherwise)."""
    names = ceiling.bench.training_names(3)
    bare, mine = ceiling.bare_gpt(3), ceiling.bench.glassgrad_gpt(3)
    for tokens in names:
        (bare_loss, phases), (my_loss, _) = bare(tokens), mine(tokens)
        assert math.isclose(bare_loss, my_loss, rel_tol=1e-12)
        assert set(phases) == {"forward", "backward", "update", "walk"} and phases["walk"] > 0


def test_the_ceiling_script_prints_each_engine_and_the_floor() -> None:
    """A two-step run prints every row with a time and the ratio rows with a ratio (not timed: the script shows them)."""
    done = subprocess.run([sys.executable, str(GPT_CEILING), "--steps", "2"], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    rows = {line[:48].strip(): line[48:].split() for line in done.stdout.splitlines()[2:-1]}
    assert list(rows) == ["lean reference Value, plain GPT", "nn.GPT on glassgrad's Value",
                          "bare: the same design, nothing else", "of which the forward",
                          "the walk (topological order)", "the chain rule's loop", "Adam and freeing",
                          "the floor: bare forward and chain rule alone"]
    assert all(float(cells[0]) > 0 for cells in rows.values())
    assert rows["lean reference Value, plain GPT"][1] == "1.00x"
    assert all(rows[name][1].endswith("x") for name in ("nn.GPT on glassgrad's Value",
                                                        "the floor: bare forward and chain rule alone"))
    refused = subprocess.run([sys.executable, str(GPT_CEILING), "--steps", "0"], capture_output=True, text=True)
    assert refused.returncode == 2 and "--steps must be at least 1" in refused.stderr
