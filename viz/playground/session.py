"""One playground session: its model, the thread that trains it, and its frames.

The page (through ``viz.playground.server``) only ever talks to a ``Session``:
it changes settings, presses play, clicks points, and reads frames. Everything
numeric happens in Python, with the rest of glassgrad; the parts live in:

- ``viz.playground.settings``: the knobs (``Settings``, ``LIMITS``, ``BadRequest``);
- ``viz.playground.data``: the points, their split, and the plane they are drawn on;
- ``viz.playground.frames``: the model's state as the frame's JSON parts;
- ``viz.playground.as_code``: the "as code" text.

This module keeps the run and the session. The model is an ``nn.MLP`` trained
one step at a time by ``nn.train.Training``, the same machinery ``nn.train``
loops over (the batched replay). ``Session``, ``Settings``, ``LIMITS``,
``BadRequest`` and ``MAX_FRAMES_PER_SECOND`` are all importable from here.

A training thread owns the work. While playing it takes ``speed`` optimizer
steps per frame, at most ``MAX_FRAMES_PER_SECOND`` frames a second (so a
second core is left to serve HTTP); while paused it sleeps, and builds one new
frame after each change. A frame is encoded to JSON once and shared by every
reader (``wait_frame``); a slow reader skips to the latest frame.

One lock keeps the page's changes and the thread apart. Every change from the
page is checked in full before anything is touched: a ``BadRequest`` means
nothing changed. A step whose loss or gradients stop being finite never kills
the thread: ``Training`` leaves the weights as they were before that step, and
the session pauses with status "diverged" and a message saying what to change.

Choices this module makes (the contract leaves them open):

- "stop at accuracy" is the accuracy on the *training* points (it can always
  reach 100%); the run stops when it reaches the goal (or the step count
  reaches ``stop_steps``) during a play, and play goes on from there.
- ``reset`` keeps playing or paused as it was; ``reset(new_weights=True)`` draws
  new initial weights by moving ``weights_seed`` on by one, so the address still
  reproduces the run. Any change to the data or the network rebuilds the model
  from ``weights_seed`` at step 0; learning rate, l2, batch size, speed and the
  stop conditions apply live.
- Clicked points join the training set; the model goes on training. A CSV is
  split into train and test with ``test_fraction`` and ``seed``. A CSV with more
  than two classes switches the loss to softmax (the only loss for them), and
  says so in the status. A link whose dataset is "custom" cannot carry the
  points: it starts from moons and says so. On custom points, ``points``,
  ``noise`` and ``classes`` do not apply; a new ``seed`` or ``test_fraction``
  splits the same points again.
- A "step" while playing pauses, then takes that one step.
- After divergence the optimizer's running averages (momentum, Adam's moments)
  start again from zero, since they may hold the step that overflowed.
- Loaded weights (``load_weights``) replace the current ones and training goes
  on from the same step; ``reset`` returns to the weights of ``weights_seed``.
  Weights of another shape (hidden layers, activation, outputs) rebuild the
  network in that shape first, if the playground's limits and the data allow it.
- The focus's live numbers come from ``viz.playground.focus``; opening a graph
  with no point chosen chooses the training point with the largest loss.
- ``batch_size`` larger than the training set means the full batch.
"""

from __future__ import annotations

import contextlib
import json
import math
import threading
import time
import traceback
from collections.abc import Iterator
from dataclasses import replace

import numpy as np

from nn.evaluate import layer_outputs
from nn.losses import LOSSES
from nn.module import MLP
from nn.optim import SGD, Adam
from nn.serialize import load_document, parameters_document
from nn.train import Diverged, Training, batches
from viz.playground.as_code import code
from viz.playground.data import Data, grid, parse_csv, square_around
from viz.playground.focus import focus_numbers, focus_view  # the graphs behind a neuron, an edge or the output
from viz.playground.frames import Curves, boundary, finite_or_none, network, neuron_maps
from viz.playground.settings import (
    DATA,
    FIELDS,
    GRID_SIZE,
    LIMITS,
    MAX_FRAMES_PER_SECOND,
    MAX_POINTS,
    MOMENTUM,
    BadRequest,
    Settings,
)

__all__ = ["BadRequest", "LIMITS", "Settings", "Session", "MAX_FRAMES_PER_SECOND"]


# --- the model being trained -----------------------------------------------------


def _optimizer(settings: Settings, parameters: list) -> SGD | Adam:
    if settings.optimizer == "adam":
        return Adam(parameters, lr=settings.learning_rate)
    return SGD(parameters, lr=settings.learning_rate, momentum=MOMENTUM if settings.optimizer == "momentum" else 0.0)


class _Run:
    """One model trained on one dataset: the MLP, its optimizer, the ``Training``, the step count, the curves."""

    def __init__(self, settings: Settings, data: Data) -> None:
        self.model = MLP(2, [*settings.hidden, settings.outputs], activation=settings.activation,
                         seed=settings.weights_seed)
        self.parameters = self.model.parameters()
        self.settings = settings
        self.step = 0
        self.curves = Curves()
        self.figures: dict = {}
        self.batch_grads = [0.0] * len(self.parameters)
        self.use_data(data, self._new_optimizer())

    def _new_optimizer(self) -> SGD | Adam:
        return _optimizer(self.settings, self.parameters)

    def use_data(self, data: Data, optimizer: SGD | Adam | None = None) -> None:
        """Train on ``data`` from now on (the weights and the step count stay); measure the model on it."""
        X_train, y_train = data.train()
        X_test, y_test = data.test()
        try:
            training = Training.start(self.model, X_train, y_train, self.settings.loss,
                                      optimizer or self.training.optimizer, self.settings.l2, X_test, y_test)
            training.record("measuring the model")
        except ValueError as error:
            raise BadRequest(str(error).removeprefix("train: ")) from None
        except FloatingPointError as error:
            raise BadRequest(f"the loss on these points is not finite ({error}); nothing changed") from None
        self.training, self.data = training, data
        self.restart_batches()
        self._take_figures()

    def restart_batches(self) -> None:
        n = len(self.training.X)
        size = self.settings.batch_size
        self.rows = batches(n, size if 0 < size < n else None, np.random.default_rng(self.settings.seed))

    def apply_live(self, settings: Settings) -> None:
        """Learning rate, l2 and batch size: changed between two steps, nothing else touched."""
        self.training.optimizer.lr = settings.learning_rate
        self.training.l2 = settings.l2
        old, self.settings = self.settings, settings
        if settings.batch_size != old.batch_size:
            self.restart_batches()

    def restart_optimizer(self) -> None:
        self.training.optimizer = self._new_optimizer()

    def measure(self) -> None:
        """The figures of the model as it is now (no step); they replace the curves' point of this step."""
        self.training.record("measuring the model")
        self._take_figures()

    def train_step(self) -> None:
        """One optimizer step; FloatingPointError leaves the weights as before (``Training``)."""
        self.training.train_step(next(self.rows), f"step {self.step + 1}")
        self.step += 1
        self.batch_grads = [p.grad for p in self.parameters]  # before anything else adds to .grad
        self._take_figures()

    def _take_figures(self) -> None:
        history = self.training.history
        last = {key: getattr(history, key)[-1] if getattr(history, key) else None
                for key in ("loss", "accuracy", "test_loss", "test_accuracy")}
        for column in (history.loss, history.accuracy, history.test_loss, history.test_accuracy,
                       history.learning_rate):
            column.clear()  # the session keeps its own, thinned, curves
        self.figures = last
        self.curves.add(self.step, last)


# --- the session -----------------------------------------------------------------


class Session:
    """Settings, data, model and the training thread of one page; see the module docstring."""

    def __init__(self, settings: Settings) -> None:
        if not isinstance(settings, Settings):
            raise TypeError(f"Session needs a Settings, got {type(settings).__name__}")
        notice = ""
        if settings.dataset == "custom":  # the points of a custom dataset are not in the address
            settings = replace(settings, dataset="moons", classes=2)
            notice = ("This link's points were clicked or uploaded, and an address cannot carry them: "
                      "started from moons; upload the CSV again.")
        settings.check()
        self.settings = settings
        self._run = _Run(settings, Data.generated(settings))
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)  # the thread waits here for play, a step or a change
        self._frames = threading.Condition()  # readers wait here for a newer frame
        self._closed = threading.Event()
        self._thread: threading.Thread | None = None
        self._playing = False
        self._pending_steps = 0
        self._dirty = True  # a frame is due
        self._status = {"kind": "paused", "message": notice or "Press play to train."}
        self._chosen: int | None = None
        self._focus: dict | None = None
        self._version = 0
        self._frame_text = ""
        self.timings = {"step": 0.0, "maps": 0.0, "encode": 0.0, "frames": 0}  # seconds, for the benchmark

    # --- the thread ---

    def start(self) -> None:
        """Start the training thread (a daemon); calling it again does nothing."""
        with self._lock:
            if self._thread is not None or self._closed.is_set():
                return
            self._thread = threading.Thread(target=self._loop, name="playground-session", daemon=True)
            self._thread.start()

    def close(self) -> None:
        """Stop the thread, wake every reader (they get None), and let go of the model; idempotent."""
        with self._lock:
            self._closed.set()
            self._wake.notify_all()
            thread = self._thread
        with self._frames:
            self._frames.notify_all()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)
        with self._lock:
            self._run = self._focus = None  # let go of the model and the data

    @contextlib.contextmanager
    def _open(self) -> Iterator[_Run]:
        """Hold the lock over an open session's run; BadRequest once it is closed."""
        with self._lock:
            if self._closed.is_set() or self._run is None:
                raise BadRequest("this session is closed; start a new one")
            yield self._run

    def _loop(self) -> None:
        last_frame = 0.0
        while True:
            with self._lock:
                self._wake.wait_for(lambda: self._closed.is_set() or self._playing or self._pending_steps
                                    or self._dirty)
                if self._closed.is_set():
                    break
                began = time.perf_counter()
                self._tick()
                trained = time.perf_counter()
                frame = self._safe_frame()
                drawn = time.perf_counter()
                self._dirty = False
            if frame is not None:
                text = self._encoded(frame)
                if text is not None:
                    self._publish(text, (trained - began, drawn - trained, time.perf_counter() - drawn))
            # at most MAX_FRAMES_PER_SECOND: sleep what is left of this frame's share (close wakes us), and
            # always a little, so that a page's request waiting for the lock gets it even at full speed
            now = time.perf_counter()
            self._closed.wait(max(0.002, last_frame + 1.0 / MAX_FRAMES_PER_SECOND - now))
            last_frame = max(now, last_frame + 1.0 / MAX_FRAMES_PER_SECOND)

    def _encoded(self, frame: dict) -> str | None:
        """The frame as JSON text, once for every reader; None (and a paused run) if a number cannot be JSON."""
        try:
            return json.dumps(frame, separators=(",", ":"), allow_nan=False)
        except ValueError as error:  # a NaN that slipped through: say so, and draw again without the graph
            traceback.print_exc()
            with self._lock:
                self._playing, self._pending_steps, self._focus = False, 0, None
                self._status = {"kind": "stopped", "message": f"A frame could not be sent ({error}); the graph "
                                                              "was closed and training paused."}
                self._changed()
            return None

    def _safe_frame(self) -> dict | None:
        """The frame; on an unexpected error, one more try without the open graph, paused (the thread lives on)."""
        try:
            return self._frame()
        except Exception as error:
            traceback.print_exc()
            self._playing, self._pending_steps, self._focus = False, 0, None
            self._status = {"kind": "stopped", "message": f"Drawing the frame failed ({error}); the graph was "
                                                          "closed and training paused."}
        try:
            return self._frame()
        except Exception:
            traceback.print_exc()
            return None  # no frame until the next change

    def _publish(self, text: str, seconds: tuple[float, float, float]) -> None:
        with self._frames:
            self._version += 1
            self._frame_text = text
            for key, spent in zip(("step", "maps", "encode"), seconds):
                self.timings[key] += spent
            self.timings["frames"] += 1
            self._frames.notify_all()

    def _tick(self) -> None:
        """The steps of one frame: ``speed`` while playing, else the single steps asked for."""
        if not (self._playing or self._pending_steps):
            return
        count = self.settings.speed if self._playing else 1
        self._pending_steps = max(0, self._pending_steps - 1) if not self._playing else 0
        run = self._run
        try:
            with np.errstate(over="ignore", invalid="ignore"):  # Training checks every number itself
                for _ in range(count):
                    accuracy_before = run.figures["accuracy"]
                    run.train_step()
                    if self._playing and self._reached_stop(run, accuracy_before):
                        break
        except FloatingPointError as error:
            self._diverged(run, error)
        except Exception as error:  # never let the thread die: say what happened, and pause
            traceback.print_exc()
            self._playing, self._pending_steps = False, 0
            self._status = {"kind": "stopped", "message": f"Training stopped on an error: {error}"}

    def _reached_stop(self, run: _Run, accuracy_before: float) -> bool:
        settings = self.settings
        reason = ""
        if settings.stop_steps and run.step == settings.stop_steps:
            reason = f"Reached {run.step} steps (stop at steps)."
        elif settings.stop_accuracy and accuracy_before < settings.stop_accuracy <= run.figures["accuracy"]:
            reason = (f"The training accuracy reached {run.figures['accuracy']:.1%} at step {run.step} "
                      f"(stop at accuracy {settings.stop_accuracy:.0%}).")
        if reason:
            self._playing = False
            self._status = {"kind": "stopped", "message": reason + " Press play to go on."}
        return bool(reason)

    def _diverged(self, run: _Run, error: FloatingPointError) -> None:
        self._playing, self._pending_steps = False, 0
        run.restart_optimizer()
        lr = self.settings.learning_rate
        advice = ", or choose the adam optimizer" if self.settings.optimizer != "adam" else ""
        what = error.what if isinstance(error, Diverged) else str(error)  # the advice is ours to give
        # every node finite, yet the loss is not: the mean over the batch overflowed; naming no node says so
        what = what.split("; it first stopped being finite where every value")[0]
        self._status = {"kind": "diverged", "message": (
            f"Training diverged at step {run.step + 1}: the numbers grew past what a float holds ({what}). "
            f"The weights are as they were before that step, and the run is paused. Lower the learning rate "
            f"(from {lr:g} to {lr / 10:g}){advice}, then press play.")}

    # --- the page's controls ---

    def control(self, action: str, **options: object) -> None:
        """"play", "pause", "step" (one step, paused) or "reset" (new_weights: bool = False)."""
        allowed = {"reset": {"new_weights"}}.get(action, set()) if isinstance(action, str) else set()
        if action not in ("play", "pause", "step", "reset"):
            raise BadRequest(f"action: {str(action)[:40]!r} is not one of play, pause, step, reset")
        unknown = set(options) - allowed
        if unknown:
            raise BadRequest(f"{action} takes no option {sorted(unknown)[0]!r}")
        new_weights = options.get("new_weights", False)
        if not isinstance(new_weights, bool):
            raise BadRequest(f"new_weights: {new_weights!r} is not true or false")
        with self._open():
            if action == "play":
                self._playing = True
                self._status = {"kind": "ok", "message": "Training."}
            elif action == "pause":
                self._playing = False
                self._status = {"kind": "paused", "message": "Paused."}
            elif action == "step":
                self._playing = False
                self._pending_steps += 1
                self._status = {"kind": "paused", "message": "One step at a time."}
            else:
                self._reset(new_weights)
            self._changed()

    def _reset(self, new_weights: bool) -> None:
        settings = self.settings
        if new_weights:
            high = int(FIELDS["weights_seed"].high)
            settings = replace(settings, weights_seed=(settings.weights_seed + 1) % (high + 1))
        self._rebuild(settings, self._run.data)
        self._status = {"kind": "ok" if self._playing else "paused",
                        "message": "Reset to new initial weights." if new_weights else "Reset to step 0."}

    def _rebuild(self, settings: Settings, data: Data) -> None:
        """A new model from ``weights_seed`` at step 0 on ``data`` (built completely before it replaces the old)."""
        run = _Run(settings, data)
        self.settings, self._run = settings, run
        self._focus = None
        if self._chosen is not None and self._chosen >= len(data.X):
            self._chosen = None

    def _changed(self) -> None:
        """Something changed: the thread builds a frame."""
        self._dirty = True
        self._wake.notify_all()

    def update(self, updates: dict) -> Settings:
        """Apply the page's setting changes (checked in full first); live ones keep training, others rebuild."""
        with self._open() as run:
            custom = self.settings.dataset == "custom"
            if isinstance(updates, dict) and updates.get("dataset") == "custom" and not custom:
                raise BadRequest('dataset: "custom" data comes from clicking on the plane or uploading a CSV')
            settings = self.settings.changed(updates)
            data_keys = DATA
            if custom and settings.dataset == "custom":  # the points stay: only a new split applies to them
                settings = replace(settings, classes=run.data.classes)
                settings.check()
                data_keys = ("test_fraction", "seed")
            data_changed = any(getattr(settings, key) != getattr(self.settings, key) for key in data_keys)
            network_changed = any(getattr(settings, key) != getattr(self.settings, key)
                                  for key in ("hidden", "activation", "loss", "optimizer", "weights_seed"))
            if data_changed:
                data = self._new_data(settings)
                self._chosen = None
                self._rebuild(settings, data)
            elif network_changed:
                self._rebuild(settings, self._run.data)
            else:
                self._run.apply_live(settings)
                self.settings = settings
            if data_changed or network_changed:
                if self._status["kind"] in ("diverged", "stopped"):
                    self._status = {"kind": "paused", "message": "Rebuilt with the new settings."}
            self._changed()
            return self.settings

    def _new_data(self, settings: Settings) -> Data:
        if settings.dataset != "custom":
            return Data.generated(settings)
        data = self._run.data  # custom points: split again (a new seed or test fraction); n and noise do not apply
        return Data.split(data.X, data.y, data.classes, settings)

    # --- points ---

    def add_point(self, x1: float, x2: float, label: int) -> None:
        """Add a training point of class ``label``; the dataset becomes "custom" and training goes on."""
        point = [_checked_coordinate(name, value) for name, value in (("x1", x1), ("x2", x2))]
        with self._open() as run:
            data = run.data
            if isinstance(label, bool) or not isinstance(label, int) or not 0 <= label < data.classes:
                raise BadRequest(f"label: {label!r} is not a class of this data; give 0 to {data.classes - 1}")
            if len(data.X) >= MAX_POINTS:
                raise BadRequest(f"there are already {MAX_POINTS} points, the limit; remove some first")
            X = np.vstack([data.X, point])
            extent = data.extent
            if not (extent[0] <= point[0] <= extent[1] and extent[2] <= point[1] <= extent[3]):
                extent = square_around(X)
            self._use_custom(Data(X, np.append(data.y, label), np.append(data.is_test, False), data.classes, extent))

    def remove_point(self, x1: float, x2: float) -> None:
        """Remove the point nearest (x1, x2), if one lies within 3% of the plane's width; BadRequest if none."""
        point = np.array([_checked_coordinate(name, value) for name, value in (("x1", x1), ("x2", x2))])
        with self._open() as run:
            data = run.data
            distances = np.hypot(*(data.X - point).T)
            nearest = int(np.argmin(distances))
            radius = 0.03 * (data.extent[1] - data.extent[0])
            if distances[nearest] > radius:
                raise BadRequest(f"no point within {radius:.3g} of ({x1:g}, {x2:g}); click on a point to remove it")
            keep = np.arange(len(data.X)) != nearest
            if not (keep & ~data.is_test).any():
                raise BadRequest("that is the last training point; a model needs at least one to train on")
            self._use_custom(Data(data.X[keep], data.y[keep], data.is_test[keep], data.classes, data.extent))
            if self._chosen == nearest:
                self._chosen, self._focus = None, None
            elif self._chosen is not None and self._chosen > nearest:
                self._chosen -= 1

    def _use_custom(self, data: Data) -> None:
        self._run.use_data(data)
        self.settings = replace(self.settings, dataset="custom", classes=data.classes)
        self._run.settings = self.settings
        self._changed()

    def load_csv(self, text: str) -> int:
        """Replace the points by a CSV of x1,x2,label rows, and return how many; a new model at step 0.

        BadRequest (naming the line and the problem) leaves everything as it was.
        """
        if not isinstance(text, str):
            raise BadRequest("the CSV must be text: lines of x1,x2,label")
        X, y = parse_csv(text)
        classes = int(y.max()) + 1
        with self._open():
            settings = replace(self.settings, dataset="custom", classes=classes)
            note = ""
            if classes > 2 and not LOSSES[settings.loss].per_class:
                settings = replace(settings, loss="softmax")
                note = f" It has {classes} classes, so the loss is now softmax (the only one for more than two)."
            self._rebuild(settings, Data.split(X, y, classes, settings))
            self._chosen = None
            self._status = {"kind": "ok" if self._playing else "paused",
                            "message": f"Loaded {len(X)} points from the CSV file.{note}"}
            self._changed()
        return len(X)

    # --- weights and code ---

    def weights_document(self) -> dict:
        """The model's parameters in the project's JSON format (``nn.serialize``)."""
        with self._open() as run:
            return parameters_document(run.model)

    def load_weights(self, document: object) -> None:
        """Set the weights from a document of ``weights_document``'s format, checked in full first.

        Weights of another shape of network (another "architecture" in the document)
        rebuild the network in that shape, if the playground allows it.
        """
        with self._open() as run:
            settings = self._settings_for_weights(document, run)
            target = run if settings == self.settings else _Run(settings, run.data)
            before = [p.data for p in target.parameters]
            try:
                load_document(target.model, document, "the uploaded weights")
                target.measure()
            except ValueError as error:  # load_document changed nothing
                raise BadRequest(str(error).removeprefix("load_document: ")) from None
            except FloatingPointError as error:  # finite weights so large that the loss overflows
                for p, data in zip(target.parameters, before):
                    p.data = data
                raise BadRequest(f"these weights make the loss overflow ({error}); nothing was loaded") from None
            target.restart_optimizer()
            message = "Loaded the weights."
            if target is not run:
                self.settings, self._run, self._focus = settings, target, None
                message = f"Loaded the weights of {target.model!r}; the network now has that shape."
            self._status = {"kind": "ok" if self._playing else "paused", "message": message}
            self._changed()

    def _settings_for_weights(self, document: object, run: _Run) -> Settings:
        """The settings of the network the document describes: these settings if it is this network's shape."""
        architecture = document.get("architecture") if isinstance(document, dict) else None
        if not isinstance(architecture, dict) or architecture == run.model.architecture():
            return self.settings  # load_document checks the rest
        nin, nouts = architecture.get("nin"), architecture.get("nouts")
        if nin != 2:
            raise BadRequest(f"the uploaded weights are of a network with {nin!r} inputs; the playground's "
                             "networks have 2 (x1, x2)")
        if not isinstance(nouts, list) or not nouts or not all(type(n) is int and n >= 1 for n in nouts):
            raise BadRequest(f"the uploaded weights have \"nouts\": {str(nouts)[:60]}; expected layer sizes")
        updates = {"hidden": nouts[:-1], "activation": architecture.get("activation")}
        outputs, classes = nouts[-1], run.data.classes
        if outputs > 1:
            if outputs != classes:
                raise BadRequest(f"the uploaded weights have {outputs} outputs (one per class), the data has "
                                 f"{classes} classes")
            updates["loss"] = "softmax"
        elif LOSSES[self.settings.loss].per_class:
            raise BadRequest("the uploaded weights have one output (a score), the softmax loss needs one per "
                             "class: choose hinge, mse or bce first")
        try:
            return self.settings.changed(updates)
        except BadRequest as error:
            raise BadRequest(f"the uploaded weights do not fit the playground: {error}") from None

    def as_code(self) -> str:
        """Python that builds and trains the same model on the same data with glassgrad (no live changes)."""
        with self._open() as run:
            return code(self.settings, run.data, run.step)

    # --- the graph behind a neuron, an edge or the output ---

    def select(self, point: int | None = None, focus: dict | None = None) -> dict:
        """Choose a point (index into the frame's points; None keeps it) and open a graph (None closes it)."""
        with self._open() as run:
            data, model = run.data, run.model
            if point is not None and (isinstance(point, bool) or not isinstance(point, int)
                                      or not 0 <= point < len(data.X)):
                raise BadRequest(f"point: {point!r} is not an index of the points (0 to {len(data.X) - 1})")
            if focus is not None:
                focus = _checked_focus(focus, model)
            chosen = point if point is not None else self._chosen
            if focus is not None and chosen is None:
                chosen = self._hardest_point()
            static = {"kind": None}
            if focus is not None:
                try:
                    static = focus_view(model, LOSSES[self.settings.loss], *self._point(chosen), focus,
                                        run.batch_grads)
                except ValueError as error:
                    raise BadRequest(str(error)) from None
            self._chosen, self._focus = chosen, focus
            self._changed()
            return static

    def _hardest_point(self) -> int:
        """The training point with the largest loss: its graph has gradients worth looking at."""
        data = self._run.data
        targets = LOSSES[self.settings.loss].targets(data.y, self.settings.outputs)
        losses = self._run.training.recording.forward(list(data.X.T) + targets)[0]
        return int(np.argmax(np.where(data.is_test, -np.inf, losses)))

    def _point(self, index: int) -> tuple[list[float], int]:
        data = self._run.data
        return [float(v) for v in data.X[index]], int(data.y[index])

    # --- frames ---

    def wait_frame(self, after: int, timeout: float) -> tuple[int, str] | None:
        """The latest frame once it is newer than version ``after``: (version, JSON text); None on timeout or close."""
        with self._frames:
            # version 0 is "no frame yet": a reader that asks for anything newer than -1 waits for the first
            ready = self._frames.wait_for(lambda: self._closed.is_set() or self._version > max(after, 0), timeout)
            if not ready or self._closed.is_set():
                return None
            return self._version, self._frame_text

    def _frame(self) -> dict:
        """Everything the page draws, as JSON-ready data (encoded by the caller, outside the lock)."""
        run, settings = self._run, self.settings
        data = run.data
        # one replay gives every neuron over the grid, and (as one more row) for the chosen point
        rows = grid(data.extent) if self._chosen is None else np.vstack([grid(data.extent), data.X[self._chosen]])
        outputs = layer_outputs(run.model, rows)
        chosen_values = None if self._chosen is None else [
            [finite_or_none(value) for value in layer[-1].tolist()] for layer in outputs]
        outputs = [layer[:GRID_SIZE * GRID_SIZE] for layer in outputs]
        return {
            "version": self._version + 1,
            "step": run.step,
            "running": self._playing,
            "status": dict(self._status),
            "settings": settings.to_query(),
            "loss_name": LOSSES[settings.loss].title,
            "metrics": {key: finite_or_none(value) for key, value in run.figures.items()},
            "curves": {key: [finite_or_none(v) for v in column] for key, column in run.curves.thinned().items()},
            "extent": list(data.extent),
            "classes": data.classes,
            "points": data.points,
            "boundary": boundary(outputs[-1], settings.loss),
            "neurons": neuron_maps(outputs),
            "network": network(run.model, run.batch_grads, chosen_values),
            "chosen": self._chosen,
            "focus": self._focus_numbers(),
        }

    def _focus_numbers(self) -> dict | None:
        if self._focus is None or self._chosen is None:
            return None
        return focus_numbers(self._run.model, LOSSES[self.settings.loss], *self._point(self._chosen), self._focus,
                             self._run.batch_grads)


def _checked_coordinate(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or abs(value) > 1e6:
        raise BadRequest(f"{name}: {value!r} is not a finite number up to 1e6 in size")
    return float(value)


def _checked_focus(focus: object, model: MLP) -> dict:
    """``focus`` with its layer, neuron and input checked against the model (all 1-based; input 0 is the bias)."""
    if not isinstance(focus, dict) or focus.get("kind") not in ("neuron", "edge", "output"):
        raise BadRequest('focus: give {"kind": "neuron" | "edge" | "output", ...} or null')
    kind = focus["kind"]
    wanted = {"neuron": ("layer", "neuron"), "edge": ("layer", "neuron", "input"), "output": ()}[kind]
    extra = set(focus) - {"kind", *wanted}
    if extra:
        raise BadRequest(f"focus: a {kind} has no {sorted(extra)[0]!r}; give {', '.join(('kind', *wanted))}")
    checked = {"kind": kind}
    layers = model.layers
    limits = {"layer": len(layers)}
    for key in wanted:
        value = focus.get(key)
        if key == "neuron":
            limits["neuron"] = layers[checked["layer"] - 1].nout
        if key == "input":
            limits["input"] = layers[checked["layer"] - 1].nin
        low = 0 if key == "input" else 1
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= limits[key]:
            raise BadRequest(f"focus: {key} {value!r} is not one of {low} to {limits[key]}"
                             + (" (0 is the bias)" if key == "input" else ""))
        checked[key] = value
    return checked
