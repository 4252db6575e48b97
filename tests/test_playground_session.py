"""The playground's session: the training thread, frames, points, CSV, weights, code.

The settings alone are tested in test_playground_settings.py, the frame's parts alone in test_playground_frames.py.
"""

from __future__ import annotations

import base64
import json
import math
import re
import threading
import time

import numpy as np
import pytest

from viz.playground import session as session_module
from viz.playground.session import BadRequest, Session, Settings

FAST = {"speed": 25}  # steps per frame, so that a test needs few frames


@pytest.fixture
def open_session():
    """Sessions made by ``open_session(**settings)``, started, and closed after the test."""
    made = []

    def make(**settings) -> Session:
        session = Session(Settings().changed(settings))
        session.start()
        made.append(session)
        return session

    yield make
    for session in made:
        session.close()


def frame_where(session: Session, condition, timeout: float = 10.0, after: int = 0) -> dict:
    """The first frame (newer than ``after``) for which ``condition(frame)`` holds."""
    deadline = time.monotonic() + timeout
    version = after
    while time.monotonic() < deadline:
        got = session.wait_frame(version, deadline - time.monotonic())
        if got is None:
            break
        version, text = got
        frame = json.loads(text)
        if condition(frame):
            return frame
    raise AssertionError("no frame met the condition in time")


def latest(session: Session) -> dict:
    """The frame built after everything asked so far (the thread builds one after each change)."""
    time.sleep(0.1)  # longer than a frame's build and the frame-rate pause
    return json.loads(session.wait_frame(0, 5)[1])


def no_new_frame(session: Session) -> bool:
    version = session.wait_frame(0, 5)[0]
    return session.wait_frame(version, 0.3) is None


def test_the_server_finds_its_names_here():
    # viz/playground/server.py and benchmarks/playground_fps.py import them from session, not from settings
    from viz.playground import settings

    assert session_module.__all__ == ["BadRequest", "LIMITS", "Settings", "Session", "MAX_FRAMES_PER_SECOND"]
    for name in ("BadRequest", "LIMITS", "Settings", "MAX_FRAMES_PER_SECOND"):
        assert getattr(session_module, name) is getattr(settings, name)


# --- training ------------------------------------------------------------------------


def test_a_session_learns_moons(open_session):
    session = open_session(**FAST)
    first = latest(session)
    assert first["step"] == 0 and first["metrics"]["accuracy"] < 0.8
    session.control("play")
    trained = frame_where(session, lambda frame: frame["step"] >= 300)
    assert trained["metrics"]["accuracy"] >= 0.95
    assert trained["metrics"]["test_accuracy"] >= 0.9
    assert trained["metrics"]["loss"] < first["metrics"]["loss"] / 5


def test_the_learning_rate_changes_while_playing_without_a_reset(open_session):
    session = open_session(speed=5)
    session.control("play")
    before = frame_where(session, lambda frame: frame["step"] >= 50)
    session.update({"learning_rate": 0.02, "batch_size": 16})
    after = frame_where(session, lambda frame: frame["settings"]["learning_rate"] == "0.02")
    assert after["running"] and after["step"] >= before["step"]  # went on: no reset to step 0
    later = frame_where(session, lambda frame: frame["step"] >= after["step"] + 10)
    assert later["curves"]["step"][0] == 0 and len(later["curves"]["step"]) > 50  # one curve, from the start
    assert session._run.training.optimizer.lr == 0.02


def test_reset_with_the_same_weights_repeats_the_run(open_session):
    session = open_session(batch_size=16)  # mini-batches: their order must start again too
    for _ in range(3):
        session.control("step")
    first = frame_where(session, lambda frame: frame["step"] == 3)
    session.control("reset")
    start = frame_where(session, lambda frame: frame["step"] == 0, after=first["version"])
    assert start["metrics"]["loss"] == first["curves"]["loss"][0]
    for _ in range(3):
        session.control("step")
    again = frame_where(session, lambda frame: frame["step"] == 3, after=start["version"])
    assert again["curves"]["loss"] == first["curves"]["loss"]
    session.control("reset", new_weights=True)
    other = frame_where(session, lambda frame: frame["settings"]["weights_seed"] == "1")
    assert other["step"] == 0 and other["metrics"]["loss"] != first["curves"]["loss"][0]


def test_a_diverging_run_pauses_with_advice_and_finite_weights(open_session):
    session = open_session(loss="mse", learning_rate=10.0, speed=10)
    session.control("play")
    frame = frame_where(session, lambda frame: frame["status"]["kind"] == "diverged")
    assert not frame["running"]
    assert "lower the learning rate (from 10 to 1)" in frame["status"]["message"].lower()
    weights = [p["value"] for p in session.weights_document()["parameters"]]
    assert all(math.isfinite(w) for w in weights)
    assert no_new_frame(session)  # paused: the thread rests
    session.update({"learning_rate": 0.01})
    session.control("play")  # and the run goes on from there
    frame_where(session, lambda frame: frame["running"] and frame["step"] > 0)


def test_stop_at_steps_and_at_accuracy(open_session):
    session = open_session(stop_steps=40, speed=7)
    session.control("play")
    stopped = frame_where(session, lambda frame: frame["status"]["kind"] == "stopped")
    assert stopped["step"] == 40 and not stopped["running"]
    session = open_session(stop_accuracy=0.9, **FAST)
    session.control("play")
    stopped = frame_where(session, lambda frame: frame["status"]["kind"] == "stopped")
    assert stopped["metrics"]["accuracy"] >= 0.9 and "accuracy" in stopped["status"]["message"]


# --- refused input changes nothing ---------------------------------------------------------


def snapshot(session: Session) -> tuple:
    frame = latest(session)
    return session.settings, frame["points"], session.weights_document()


@pytest.mark.parametrize(("call", "message"), [
    (lambda s: s.update({"points": 0}), "points: 0 is out of range"),
    (lambda s: s.update({"learning_rate": 0.5, "hidden": "99"}), "hidden: '99'"),  # none of it applied
    (lambda s: s.update({"dataset": "custom"}), "comes from clicking on the plane or uploading a CSV"),
    (lambda s: s.update(["points"]), "settings must be an object"),
    (lambda s: s.control("jump"), "action: 'jump' is not one of play, pause, step, reset"),
    (lambda s: s.control("reset", new_weights="yes"), "new_weights: 'yes' is not true or false"),
    (lambda s: s.add_point(0.0, 0.0, 2), r"label: 2 is not a class of this data; give 0 to 1"),
    (lambda s: s.add_point(float("nan"), 0.0, 1), "x1: nan is not a finite number"),
    (lambda s: s.remove_point(40.0, 40.0), "no point within"),
    (lambda s: s.load_weights({"format": "something else"}), "not a glassgrad parameter file"),
    (lambda s: s.select(point=10_000), "point: 10000 is not an index of the points"),
    (lambda s: s.select(focus={"kind": "neuron", "layer": 9, "neuron": 1}), "focus: layer 9 is not one of 1 to 3"),
    (lambda s: s.select(focus={"kind": "edge", "layer": 1, "neuron": 1, "input": 3}),
     "focus: input 3 is not one of 0 to 2"),
])
def test_bad_input_is_refused_and_nothing_changes(open_session, call, message):
    session = open_session()
    before = snapshot(session)
    with pytest.raises(BadRequest, match=re.escape(message) if "\\" not in message else message):
        call(session)
    assert no_new_frame(session)
    assert snapshot(session) == before


def test_weights_of_another_shape_rebuild_the_network_in_that_shape(open_session):
    session, other = open_session(), open_session(hidden="4", activation="tanh", weights_seed=3)
    session.load_weights(other.weights_document())
    assert (session.settings.hidden, session.settings.activation) == ((4,), "tanh")
    assert session.weights_document() == other.weights_document()
    frame = frame_where(session, lambda frame: frame["network"]["sizes"] == [2, 4, 1])
    assert "the network now has that shape" in frame["status"]["message"]


@pytest.mark.parametrize(("change", "message"), [
    (lambda doc: doc["architecture"].update(nin=3), "a network with 3 inputs; the playground's networks have 2"),
    (lambda doc: doc["architecture"].update(nouts=[4, 3]), "have 3 outputs (one per class), the data has 2 classes"),
    (lambda doc: doc["architecture"].update(nouts=[17, 1]), "do not fit the playground: hidden: '17'"),
    (lambda doc: doc["parameters"].pop(), "has 336 parameters, model has 337"),
    (lambda doc: doc["parameters"][0].update(value="big"), 'parameter 0: expected {"label": text, "value": finite'),
    (lambda doc: [p.update(value=1e300) for p in doc["parameters"]], "these weights make the loss overflow"),
])
def test_weights_that_do_not_fit_are_refused_and_nothing_changes(open_session, change, message):
    session = open_session()
    document = session.weights_document()
    change(document)
    before = snapshot(session)
    with pytest.raises(BadRequest, match=re.escape(message)):
        session.load_weights(document)
    assert snapshot(session) == before


def test_weights_save_and_load_round_trip(open_session):
    session = open_session()
    saved = session.weights_document()
    assert saved["format"] == "glassgrad-parameters" and saved["architecture"]["nouts"] == [16, 16, 1]
    for _ in range(5):
        session.control("step")
    frame_where(session, lambda frame: frame["step"] == 5)
    assert session.weights_document() != saved
    session.load_weights(json.loads(json.dumps(saved)))  # as it comes back from the page
    assert session.weights_document() == saved


# --- points and CSV ------------------------------------------------------------------------


def test_add_and_remove_a_point(open_session):
    session = open_session()
    count = len(latest(session)["points"])
    session.add_point(0.25, -0.75, 1)
    frame = latest(session)
    assert len(frame["points"]) == count + 1 and frame["points"][-1] == [0.25, -0.75, 1, False]
    assert frame["settings"]["dataset"] == "custom"
    session.remove_point(0.26, -0.74)  # the nearest point, within the radius
    frame = latest(session)
    assert len(frame["points"]) == count and [0.25, -0.75, 1, False] not in frame["points"]


def test_a_good_csv_replaces_the_points_and_switches_to_softmax_for_three_classes(open_session):
    session = open_session()
    rows = [f"{math.cos(k):.3f},{math.sin(k):.3f},{k % 3}" for k in range(30)]
    assert session.load_csv("x1,x2,label\n" + "\n".join(rows) + "\n") == 30  # the header is not a point
    frame = latest(session)
    assert len(frame["points"]) == 30 and frame["classes"] == 3
    assert frame["settings"]["loss"] == "softmax" and "softmax" in frame["status"]["message"]
    assert frame["network"]["sizes"] == [2, 16, 16, 3]
    assert sum(point[3] for point in frame["points"]) == math.ceil(0.25 * 30)  # the test set


GOOD_ROWS = "\n".join(f"{i / 10},{-i / 10},{i % 2}" for i in range(10))


@pytest.mark.parametrize(("text", "message"), [
    ("0,0,0\n" * 20_000, "the CSV file is 120,000 bytes; the limit is 100,000"),
    (GOOD_ROWS + "\n1,2\n", "CSV line 11: 2 columns; each line must be x1,x2,label"),
    (GOOD_ROWS + "\n1,2,0,4\n", "CSV line 11: 4 columns"),
    (GOOD_ROWS + "\n1,abc,0\n", "CSV line 11: 'abc' is not a number"),
    (GOOD_ROWS + "\n1,inf,0\n", "CSV line 11: 'inf' is not a finite number"),
    (GOOD_ROWS + "\n1,2,7\n", "CSV line 11: label '7' is not a class number 0 to 4"),
    (GOOD_ROWS + "\n1,2,0.5\n", "CSV line 11: label '0.5' is not a class number"),
    (GOOD_ROWS + "\n1,2,-1\n", "CSV line 11: label '-1' is not a class number"),
    (GOOD_ROWS.replace(",1\n", ",0\n").replace(",1", ",0"), "this file has labels [0]"),
    (GOOD_ROWS + "\n1,2,3\n", "each used at least once; this file has labels [0, 1, 3]"),
    ("0,0,0\n1,1,1\n", "the CSV file has 2 points; give at least 4"),
    ("", "the CSV file has 0 points"),
])
def test_a_bad_csv_is_refused_naming_the_problem_and_nothing_changes(open_session, text, message):
    session = open_session()
    before = snapshot(session)
    with pytest.raises(BadRequest, match=re.escape(message)):
        session.load_csv(text)
    assert snapshot(session) == before


# --- frames --------------------------------------------------------------------------------


def decoded(text: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype=np.uint8)


def test_the_frame_has_the_contract_shape(open_session):
    session = open_session()
    frame = latest(session)
    assert set(frame) == {"version", "step", "running", "status", "settings", "loss_name", "metrics", "curves",
                          "extent", "classes", "points", "boundary", "neurons", "network", "chosen", "focus"}
    assert frame["loss_name"] == "hinge loss max(0, 1 - y*score)"
    x1min, x1max, x2min, x2max = frame["extent"]
    points = np.array([point[:2] for point in frame["points"]])
    assert x1min < points[:, 0].min() and points[:, 0].max() < x1max
    assert x2min < points[:, 1].min() and points[:, 1].max() < x2max
    boundary = frame["boundary"]
    assert boundary["size"] == 100 and len(boundary["pixels"]) == len(boundary["confidence"]) == 13_336
    assert set(decoded(boundary["pixels"])) <= {0, 1} and decoded(boundary["confidence"]).size == 10_000
    assert [(m["layer"], m["neuron"]) for m in frame["neurons"]] == (
        [(1, n) for n in range(1, 17)] + [(2, n) for n in range(1, 17)] + [(3, 1)])
    for neuron_map in frame["neurons"]:
        assert neuron_map["size"] == 50 and decoded(neuron_map["pixels"]).size == 2500
        assert neuron_map["low"] <= neuron_map["high"]
    network = frame["network"]
    assert network["sizes"] == [2, 16, 16, 1]
    assert [np.shape(w) for w in network["weights"]] == [(16, 2), (16, 16), (1, 16)]
    assert [np.shape(g) for g in network["weight_grads"]] == [(16, 2), (16, 16), (1, 16)]
    assert [len(b) for b in network["biases"]] == [16, 16, 1] and network["values"] is None



def test_choosing_a_point_gives_its_values(open_session):
    session = open_session()
    session.select(point=3)
    frame = frame_where(session, lambda frame: frame["chosen"] == 3)
    assert [len(layer) for layer in frame["network"]["values"]] == [16, 16, 1]


def test_selecting_a_neuron_gives_its_graph_and_live_numbers(open_session):
    session = open_session()
    static = session.select(point=0, focus={"kind": "neuron", "layer": 1, "neuron": 2})
    assert static["kind"] == "neuron" and (static["svg"] or static["error"])
    frame = frame_where(session, lambda frame: frame["focus"] is not None)
    assert frame["chosen"] == 0 and frame["focus"]["kind"] == "neuron"
    session.select(focus=None)
    assert frame_where(session, lambda frame: frame["focus"] is None)["chosen"] == 0


def test_opening_a_graph_without_a_point_chooses_the_hardest_one(open_session):
    session = open_session()
    static = session.select(focus={"kind": "edge", "layer": 3, "neuron": 1, "input": 0})
    assert static["kind"] == "edge" and "d loss / d" in static["formula"]
    frame = frame_where(session, lambda frame: frame["chosen"] is not None)
    model_losses = session._run.training.recording.forward(
        [np.array([p[0] for p in frame["points"]]), np.array([p[1] for p in frame["points"]]),
         np.array([2.0 * p[2] - 1 for p in frame["points"]])])[0]
    is_test = np.array([p[3] for p in frame["points"]])
    assert frame["chosen"] == int(np.argmax(np.where(is_test, -np.inf, model_losses)))


def test_close_stops_the_thread_and_wakes_readers():
    session = Session(Settings())
    session.start()
    session.control("play")
    assert session.wait_frame(0, 5) is not None
    session.close()
    assert not any(thread.name == "playground-session" for thread in threading.enumerate())
    assert session.wait_frame(0, 0.1) is None
    with pytest.raises(BadRequest, match="this session is closed"):
        session.control("play")
    session.close()  # twice is fine


# --- as code ---------------------------------------------------------------------------------


def run_code(code: str, steps: int) -> dict:
    code, replaced = re.subn(r"^STEPS = \d+", f"STEPS = {steps}", code, flags=re.MULTILINE)
    assert replaced == 1
    namespace: dict = {}
    exec(compile(code, "as_code", "exec"), namespace)  # noqa: S102 - the code under test
    return namespace


def test_as_code_reproduces_the_run(open_session):
    session = open_session(stop_steps=20, speed=20, batch_size=32, optimizer="momentum", l2=0.001)
    session.control("play")
    frame = frame_where(session, lambda frame: frame["status"]["kind"] == "stopped")
    namespace = run_code(session.as_code(), 20)
    assert namespace["history"].loss[-1] == pytest.approx(frame["metrics"]["loss"], rel=1e-9)
    assert namespace["history"].test_accuracy[-1] == frame["metrics"]["test_accuracy"]


def test_as_code_writes_custom_points_inline(open_session):
    session = open_session(dataset="blobs", classes=3, loss="softmax", hidden="")
    session.add_point(0.5, 0.5, 2)
    code = session.as_code()
    assert "nn.make_dataset" not in code and "[0.5, 0.5]" in code
    namespace = run_code(code, 3)
    assert len(namespace["history"]) == 3 and namespace["model"].sizes == [2, 3]


def test_a_link_to_custom_points_starts_from_moons_and_says_why(open_session):
    session = open_session(dataset="custom")
    frame = latest(session)
    assert frame["settings"]["dataset"] == "moons" and "upload the CSV again" in frame["status"]["message"]


def test_no_frame_before_the_thread_draws_one():
    session = Session(Settings())
    try:
        assert session.wait_frame(-1, 0.05) is None  # the server starts from -1: it must wait for frame 1
        session.start()
        assert session.wait_frame(-1, 5)[0] == 1
    finally:
        session.close()


def test_a_failing_drawing_pauses_and_the_thread_lives_on(open_session, monkeypatch):
    session = open_session()

    def broken(*args):
        raise RuntimeError("no numbers today")

    monkeypatch.setattr(session_module, "focus_numbers", broken)
    session._focus, session._chosen = {"kind": "output"}, 0  # as select() leaves them
    session.control("play")
    frame = frame_where(session, lambda frame: frame["status"]["kind"] == "stopped")
    assert "no numbers today" in frame["status"]["message"] and frame["focus"] is None and not frame["running"]
    session.control("step")
    frame_where(session, lambda frame: frame["step"] >= 1)


def test_a_split_that_leaves_no_training_point_is_refused(open_session):
    session = open_session()
    session.load_csv("0,0,0\n1,1,1\n0,1,0\n1,0,1\n")
    before = snapshot(session)
    with pytest.raises(BadRequest, match=r"test_fraction: 4 points cannot be split with test_fraction=0.9"):
        session.update({"test_fraction": 0.9})
    assert snapshot(session) == before


def test_paused_the_thread_draws_once_per_change_and_readers_share_the_text(open_session):
    session = open_session()
    version, text = session.wait_frame(0, 5)
    assert session.wait_frame(version, 0.3) is None  # paused and unchanged: no work
    session.update({"l2": 0.001})
    newer, shared = session.wait_frame(version, 5)
    assert newer == version + 1 and session.wait_frame(newer, 0.3) is None
    assert session.wait_frame(version, 1)[1] is shared  # encoded once, the same text for every reader


def test_playing_stops_at_the_frame_rate_cap(open_session):
    session = open_session(speed=1)
    session.control("play")
    start = session.wait_frame(0, 5)[0]
    time.sleep(1.0)
    frames = session.wait_frame(start, 5)[0] - start
    assert 10 <= frames <= session_module.MAX_FRAMES_PER_SECOND + 2


def test_a_number_json_cannot_hold_pauses_and_the_next_frame_comes_without_the_graph(open_session, monkeypatch):
    session = open_session()
    monkeypatch.setattr(session_module, "focus_numbers", lambda *args: {"loss": float("nan")})
    session._focus, session._chosen = {"kind": "output"}, 0  # as select() leaves them
    session.control("play")
    frame = frame_where(session, lambda frame: frame["status"]["kind"] == "stopped")
    assert "could not be sent" in frame["status"]["message"] and frame["focus"] is None and not frame["running"]
