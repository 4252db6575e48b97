"""Measure glassgrad beside the engines a user would pick instead, in one run.

Each (engine, workload) pair runs in a fresh Python process of its own, with
the garbage collector on as users run it, so no engine pays for another's
garbage; the table then gives every figure and its ratio to micrograd's.

Engines, where installed: glassgrad's scalar engine, glassgrad's batched replay
(engine.batch), micrograd 0.1.0 (PyPI), PyTorch as a scalar graph built node by
node, and PyTorch vectorised (nn.Linear over the whole batch).

Then the rows measured side by side: two engines in one process take turns,
one step each on the same inputs, each timed phase after a gc.collect() outside
the timing, and a ratio is total time over the same steps (this survives a
drifting machine load and the collector's bursts). glassgrad's Value against
a lean microgpt-style reference Value, both running the same plain code of
microgpt's GPT training on names (drop-in); nn.GPT, with a dot node per
weighted sum, against that plain GPT on the lean Value; backward alone and
every operation per node against micrograd; and the batched replay against
PyTorch vectorised at 100 to 100,000 points.

    python benchmarks/bench.py             # the whole table (a few minutes)
    python benchmarks/bench.py --quick     # fewer repeats, smaller chains
    python benchmarks/bench.py --json out.json
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import random
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENGINES = ["glassgrad", "glassgrad-batched", "glassgrad-chain", "micrograd", "torch-scalar", "torch-vectorised"]
OPS = ["+", "*", "**", "exp", "log", "tanh", "relu", "sigmoid"]


# --- the engines, behind one small interface --------------------------------

def engine_api(name: str):
    """(Value class, MLP factory, relu/sigmoid helpers) for a scalar engine, or None if missing."""
    if name == "glassgrad":
        sys.path.insert(0, str(ROOT))
        from engine import Value
        from nn import MLP

        return Value, lambda: MLP(2, [16, 16, 1], seed=0)
    if name == "micrograd":
        from micrograd.engine import Value
        from micrograd.nn import MLP

        return Value, lambda: MLP(2, [16, 16, 1])
    raise ValueError(name)


def moons_data():
    import numpy as np

    sys.path.insert(0, str(ROOT))
    from nn import LOSSES, make_moons

    X, y = make_moons(n=100, noise=0.1, seed=1)
    (targets,) = LOSSES["hinge"].targets(y, 1)  # classes 0/1 become the hinge loss's -1/+1
    return X, targets, np


def time_repeats(function, repeats: int) -> float:
    """Median seconds of ``repeats`` calls, after one warm-up call."""
    function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


# --- workload 1: one full-batch training step of micrograd's moons demo ----

def moons_step(engine: str, repeats: int) -> dict:
    X, y, np = moons_data()
    if engine in ("glassgrad", "micrograd", "glassgrad-chain"):
        Value, make_model = engine_api(engine.split("-")[0])
        model = make_model()
        if engine == "glassgrad-chain":
            model = MicrogradShapedMLP(model)
        params = model.parameters()
        rows = [(float(a), float(b)) for a, b in X]
        labels = y.tolist()
        counted = {}

        def step():
            scores = [model([Value(a), Value(b)]) for a, b in rows]
            losses = [(1 + -yi * score).relu() for yi, score in zip(labels, scores)]
            data_loss = sum(losses) * (1.0 / len(losses))
            reg_loss = 1e-4 * sum(p * p for p in params)
            total = data_loss + reg_loss
            model.zero_grad()
            total.backward()
            for p in params:
                p.data -= 0.05 * p.grad
            if not counted:
                counted["nodes"] = count_nodes(total)

        seconds = time_repeats(step, repeats)
        return {"seconds": seconds, "nodes": counted["nodes"]}
    if engine == "glassgrad-batched":
        sys.path.insert(0, str(ROOT))
        from engine.batch import record
        from nn import MLP
        from nn.losses import hinge

        model = MLP(2, [16, 16, 1], seed=0)
        params = model.parameters()
        recording = record(lambda a, b, t: hinge(model([a, b]), t), [0.0, 0.0, 1.0])
        columns = [X[:, 0], X[:, 1], y]
        weight = np.full(len(X), 1.0 / len(X))

        def step():
            model.zero_grad()
            (sample_losses,) = recording.forward(columns)
            recording.backward([weight])
            for p in params:  # + 1e-4 * sum(p**2): its gradient is 2e-4 * p
                p.grad += 2e-4 * p.data
                p.data -= 0.05 * p.grad

        return {"seconds": time_repeats(step, repeats * 10), "nodes": len(recording.nodes)}
    import torch

    torch.set_num_threads(1)
    if engine == "torch-vectorised":
        net = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.ReLU(), torch.nn.Linear(16, 16),
                                  torch.nn.ReLU(), torch.nn.Linear(16, 1)).double()
        Xt, yt = torch.tensor(X), torch.tensor(y)
        opt = torch.optim.SGD(net.parameters(), lr=0.05)

        def step():
            scores = net(Xt)[:, 0]
            loss = torch.relu(1 - yt * scores).mean() + 1e-4 * sum((p * p).sum() for p in net.parameters())
            opt.zero_grad()
            loss.backward()
            opt.step()

        return {"seconds": time_repeats(step, repeats * 10)}
    # torch-scalar: micrograd's recipe with every scalar a 0-d tensor
    rng = np.random.default_rng(0)
    sizes = [2, 16, 16, 1]
    layers = [[([torch.tensor(rng.uniform(-1, 1), requires_grad=True) for _ in range(sizes[i])],
                torch.tensor(0.0, dtype=torch.float64, requires_grad=True)) for _ in range(sizes[i + 1])]
              for i in range(3)]
    params = [p for layer in layers for w, b in layer for p in (*w, b)]

    def forward(x):
        for index, layer in enumerate(layers):
            out = [sum((wi * xi for wi, xi in zip(w, x)), b) for w, b in layer]
            x = [o.relu() for o in out] if index < 2 else out
        return x[0]

    rows = [(torch.tensor(a), torch.tensor(b)) for a, b in X]

    def step():
        scores = [forward(list(row)) for row in rows]
        loss = sum((1 - yi * s).relu() for yi, s in zip(y.tolist(), scores)) / len(rows)
        loss = loss + 1e-4 * sum(p * p for p in params)
        for p in params:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= 0.05 * p.grad

    return {"seconds": time_repeats(step, max(1, repeats // 3))}


class MicrogradShapedMLP:
    """glassgrad's Values wired as micrograd wires them: a product node per weight, a chain of + nodes."""

    def __init__(self, model) -> None:
        self.model = model

    def __call__(self, x):
        for layer in self.model.layers:
            outs = []
            for neuron in layer.neurons:
                act = sum((wi * xi for wi, xi in zip(neuron.w, x)), neuron.b)
                outs.append(act.relu() if neuron.activation == "relu" else act)
            x = outs
        return x[0]

    def parameters(self):
        return self.model.parameters()

    def zero_grad(self):
        self.model.zero_grad()


def count_nodes(root) -> int:
    seen, stack = {id(root)}, [root]
    while stack:
        node = stack.pop()
        for parent in getattr(node, "parents", None) or getattr(node, "_prev", ()):
            if id(parent) not in seen:
                seen.add(id(parent))
                stack.append(parent)
    return len(seen)


# --- workloads 2-5 ------------------------------------------------------------

def scalar_value(engine: str):
    if engine in ("glassgrad", "micrograd"):
        return engine_api(engine)[0]
    import torch

    return lambda v: torch.tensor(float(v), dtype=torch.float64, requires_grad=True)


def chain(engine: str, n: int) -> dict:
    """y = x * c, n times over, then backward: a graph n nodes deep."""
    Value = scalar_value(engine)
    x, c = Value(1.0), Value(1.0000001)
    start = time.perf_counter()
    try:
        y = x
        for _ in range(n):
            y = y * c
        y.backward()
    except RecursionError:
        return {"n": n, "ok": False, "error": "RecursionError"}
    return {"n": n, "ok": True, "seconds": time.perf_counter() - start}


def pairwise_sum(values: list):
    """v1 + v2 + ... with binary + nodes arranged as a balanced tree, so the graph is only log2(n) deep.

    (A left-to-right chain would be n deep, which micrograd's recursive backward cannot walk.)
    """
    while len(values) > 1:
        values = [values[i] + values[i + 1] if i + 1 < len(values) else values[i] for i in range(0, len(values), 2)]
    return values[0]


def wide_sum(engine: str, n: int = 100_000) -> dict:
    """sum of n products a_i * b_i, forward and backward."""
    Value = scalar_value(engine)
    a = [Value(i * 1e-5) for i in range(n)]
    b = [Value(1.0 - i * 1e-6) for i in range(n)]

    def run():
        total = pairwise_sum([ai * bi for ai, bi in zip(a, b)])
        total.backward()

    return {"seconds": time_repeats(run, 3)}


def resident_bytes() -> int:
    """The process's resident memory (Linux), which also sees memory that tracemalloc cannot (C++)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def bytes_per_node(engine: str, n: int = 200_000) -> dict:
    """tracemalloc's peak while a 200,000-node graph (a chain of products) is alive, per node.

    Also the growth of resident memory over a second such graph, which counts
    allocations outside Python's allocator (PyTorch's C++ tensors) too.
    """
    Value = scalar_value(engine)
    x, c = Value(1.0), Value(1.0000001)
    gc.collect()
    before = resident_bytes()  # first, while freed memory cannot yet be reused
    y = x
    for _ in range(n):
        y = y * c
    grown = resident_bytes() - before
    del y
    gc.collect()
    tracemalloc.start()
    y = x
    for _ in range(n):
        y = y * c
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {"bytes": peak / n, "resident_bytes": grown / n}


def per_op(engine: str, n: int = 20_000) -> dict:
    """Microseconds per node for each operation: forward (build n nodes) and backward."""
    Value = scalar_value(engine)
    results = {}
    for op in OPS:
        leaves = [Value(0.5 + i * 1e-6) for i in range(n)]
        other = Value(0.75)
        build = {
            "+": lambda v, other=other: v + other, "*": lambda v, other=other: v * other, "**": lambda v: v ** 3,
            "exp": lambda v: v.exp(), "log": lambda v: v.log(), "tanh": lambda v: v.tanh(),
            "relu": lambda v: v.relu(), "sigmoid": lambda v: v.sigmoid(),
        }[op]
        if op.isalpha() and not hasattr(leaves[0], op):
            results[op] = None  # micrograd 0.1.0 has relu but no exp, log, tanh or sigmoid
            continue
        start = time.perf_counter()
        outs = [build(v) for v in leaves]
        forward = time.perf_counter() - start
        root = pairwise_sum(outs)
        start = time.perf_counter()
        root.backward()
        backward = time.perf_counter() - start
        results[op] = {"forward_us": forward / n * 1e6, "backward_us": backward / n * 1e6}
    return results


def decision_grid(engine: str) -> dict:
    """Evaluate MLP(2, [16, 16, 1]) on a 200 x 200 grid, as a decision-boundary picture does."""
    import numpy as np

    sys.path.insert(0, str(ROOT))
    from nn import MLP, predict

    model = MLP(2, [16, 16, 1], seed=0)
    axis = np.linspace(-2.0, 2.0, 200)
    grid = np.stack(np.meshgrid(axis, axis), axis=-1).reshape(-1, 2)
    batched = engine == "glassgrad-batched"
    seconds = time_repeats(lambda: predict(model, grid, batched=batched), 5 if batched else 1)
    return {"seconds": seconds, "points": len(grid)}


WORKLOADS = {
    "decision_grid": lambda engine, quick: decision_grid(engine),
    "moons_step": lambda engine, quick: moons_step(engine, 3 if quick else 7),
    "chain": lambda engine, quick: chain(engine, int(os.environ["BENCH_N"])),
    "wide_sum": lambda engine, quick: wide_sum(engine, 20_000 if quick else 100_000),
    "bytes_per_node": lambda engine, quick: bytes_per_node(engine),
    "per_op": lambda engine, quick: per_op(engine, 5_000 if quick else 20_000),
}


# --- side by side: engines take turns in one process --------------------------
# This machine's load drifts and the cyclic garbage collector strikes in bursts,
# so the rows below compare engines in a way that survives both: the engines
# take turns, one step each, on the same inputs (which engine goes first flips
# every round); each timed phase starts after a gc.collect() outside the timing,
# with the collector on; a ratio is total time over the same steps.

def timed(function):
    """(result, seconds) of one call, after a gc.collect() that is not timed."""
    gc.collect()
    start = time.perf_counter()
    result = function()
    return result, time.perf_counter() - start


def take_turns(steps: dict, rounds: int) -> dict:
    """Total seconds per engine and phase over ``rounds`` rounds (after one round to warm up).

    ``steps[engine](round)`` runs one step of that engine and returns {phase: seconds}.
    """
    names = list(steps)
    totals = {name: {} for name in names}
    for index in range(-1, rounds):
        for name in names if index % 2 == 0 else names[::-1]:
            phases = steps[name](max(index, 0))
            if index >= 0:
                for phase, seconds in phases.items():
                    totals[name][phase] = totals[name].get(phase, 0.0) + seconds
    return totals


class LeanValue:
    """The reference: the leanest modern scalar Value, written as karpathy's microgpt writes its own.

    Parents and local gradients as tuples in ``__slots__``, one line per
    operation, and a backward that sorts the graph with a recursive walk and
    a visited set, then runs one loop. Node for node with glassgrad: ``-``,
    ``/`` and negation are one node each here too (microgpt makes ``a - b`` and
    ``a / b`` from two), and exp is computed once. The walk is a method, not
    microgpt's nested function: that one refers to itself, a reference cycle
    that keeps the whole graph alive until the collector runs, here in the
    gc.collect() between steps, off the clock; so this graph, like glassgrad's,
    is freed by its step.
    """

    __slots__ = ("data", "grad", "parents", "local_grads")

    def __init__(self, data, parents=(), local_grads=()):
        self.data = data
        self.grad = 0.0
        self.parents = parents
        self.local_grads = local_grads

    def __add__(self, other):
        other = other if isinstance(other, LeanValue) else LeanValue(other)
        return LeanValue(self.data + other.data, (self, other), (1.0, 1.0))

    def __mul__(self, other):
        other = other if isinstance(other, LeanValue) else LeanValue(other)
        return LeanValue(self.data * other.data, (self, other), (other.data, self.data))

    def __sub__(self, other):
        other = other if isinstance(other, LeanValue) else LeanValue(other)
        return LeanValue(self.data - other.data, (self, other), (1.0, -1.0))

    def __truediv__(self, other):
        other = other if isinstance(other, LeanValue) else LeanValue(other)
        return LeanValue(self.data / other.data, (self, other), (1.0 / other.data, -self.data / other.data**2))

    def exp(self):
        e = math.exp(self.data)
        return LeanValue(e, (self,), (e,))

    def __pow__(self, n): return LeanValue(self.data**n, (self,), (n * self.data ** (n - 1),))
    def __neg__(self): return LeanValue(-self.data, (self,), (-1.0,))
    def log(self): return LeanValue(math.log(self.data), (self,), (1.0 / self.data,))
    def relu(self): return LeanValue(max(0.0, self.data), (self,), (float(self.data > 0),))
    def __radd__(self, other): return self + other
    def __rmul__(self, other): return self * other
    def __rsub__(self, other): return LeanValue(other) - self
    def __rtruediv__(self, other): return LeanValue(other) / self

    def backward(self):
        order = []
        self.visit(set(), order)
        self.grad = 1.0
        for node in reversed(order):
            for parent, local_grad in zip(node.parents, node.local_grads):
                parent.grad += local_grad * node.grad

    def visit(self, visited, order):
        if self not in visited:
            visited.add(self)
            for parent in self.parents:
                parent.visit(visited, order)
            order.append(self)


# --- a GPT on names, written as code for micrograd-style engines is written ----

N_HEAD, BETAS, LEARNING_RATE = 4, (0.85, 0.99), 0.01  # nn.GPT()'s heads; microgpt's Adam


def gpt_weights(seed: int = 0) -> dict:
    """nn.GPT's initial weights as numbers, by state_dict name: every engine starts from these."""
    sys.path.insert(0, str(ROOT))
    from nn import GPT

    return {name: [[p.data for p in row] for row in matrix] for name, matrix in GPT(seed=seed).state_dict().items()}


def training_names(count: int) -> list:
    """``count`` names of the package's list, shuffled by a seed, each as token ids with the boundary (26) around it."""
    sys.path.insert(0, str(ROOT))
    from nn import CharTokenizer, load_names

    names = load_names()
    random.Random(0).shuffle(names)
    return [CharTokenizer().encode_name(name) for name in names[:count]]


def plain_linear(x: list, weights: list) -> list:
    return [sum(w * xi for w, xi in zip(row, x)) for row in weights]


def plain_rmsnorm(x: list) -> list:
    scale = (sum(xi * xi for xi in x) / len(x) + 1e-5) ** -0.5
    return [xi * scale for xi in x]


def plain_softmax(logits: list) -> list:
    largest = max(z.data for z in logits)  # a number: the shift cancels in the gradient
    exps = [(z - largest).exp() for z in logits]
    total = sum(exps)
    return [e / total for e in exps]


def plain_gpt_loss(params: dict, tokens: list):
    """Mean next-letter cross-entropy of microgpt's one-layer GPT, one position at a time, in plain operations."""
    head_dim = len(params["layer0.attn_wq"]) // N_HEAD
    keys, values, losses = [], [], []
    n = min(len(tokens) - 1, len(params["wpe"]))
    for position in range(n):
        x = plain_rmsnorm([t + p for t, p in zip(params["wte"][tokens[position]], params["wpe"][position])])
        residual = x
        x = plain_rmsnorm(x)
        q = plain_linear(x, params["layer0.attn_wq"])
        keys.append(plain_linear(x, params["layer0.attn_wk"]))
        values.append(plain_linear(x, params["layer0.attn_wv"]))
        attended = []
        for head in range(N_HEAD):
            part = slice(head * head_dim, (head + 1) * head_dim)
            scores = [sum(qi * ki for qi, ki in zip(q[part], key[part])) / head_dim**0.5 for key in keys]
            weights = plain_softmax(scores)
            attended += [sum(w * value[part][i] for w, value in zip(weights, values)) for i in range(head_dim)]
        x = [a + r for a, r in zip(plain_linear(attended, params["layer0.attn_wo"]), residual)]
        residual = x
        hidden = [h.relu() for h in plain_linear(plain_rmsnorm(x), params["layer0.mlp_fc1"])]
        x = [m + r for m, r in zip(plain_linear(hidden, params["layer0.mlp_fc2"]), residual)]
        probabilities = plain_softmax(plain_linear(x, params["lm_head"]))
        losses.append(-probabilities[tokens[position + 1]].log())
    return sum(losses) / n


class PlainAdam:
    """microgpt's Adam loop over a list of parameters, with its learning rate falling linearly to 0."""

    def __init__(self, parameters: list, steps: int) -> None:
        self.parameters, self.steps, self.t = parameters, steps, 0
        self.m, self.v = [0.0] * len(parameters), [0.0] * len(parameters)

    def step(self) -> None:
        (beta1, beta2), lr = BETAS, LEARNING_RATE * (1 - self.t / self.steps)
        self.t += 1
        for i, p in enumerate(self.parameters):
            self.m[i] = beta1 * self.m[i] + (1 - beta1) * p.grad
            self.v[i] = beta2 * self.v[i] + (1 - beta2) * p.grad**2
            m_hat, v_hat = self.m[i] / (1 - beta1**self.t), self.v[i] / (1 - beta2**self.t)
            p.data -= lr * m_hat / (v_hat**0.5 + 1e-8)
            p.grad = 0.0


def plain_gpt(Value, steps: int):
    """A training step of the plain GPT on ``Value``'s class: step(tokens) -> (loss, seconds its forward took)."""
    params = {name: [[Value(x) for x in row] for row in matrix] for name, matrix in gpt_weights().items()}
    optimizer = PlainAdam([p for matrix in params.values() for row in matrix for p in row], steps)

    def step(tokens: list) -> tuple[float, float]:
        start = time.perf_counter()
        loss = plain_gpt_loss(params, tokens)
        forward = time.perf_counter() - start
        loss.backward()
        optimizer.step()
        return loss.data, forward
    return step


def glassgrad_gpt(steps: int):
    """The same training step with nn.GPT (a dot node per weighted sum), nn.Adam and nn.next_token_loss."""
    sys.path.insert(0, str(ROOT))
    from nn import GPT, Adam, linear_decay, next_token_loss

    model = GPT(seed=0)
    optimizer, schedule = Adam(model.parameters(), lr=LEARNING_RATE, betas=BETAS), linear_decay(LEARNING_RATE, steps)
    taken = [0]

    def step(tokens: list) -> tuple[float, float]:
        start = time.perf_counter()
        loss = next_token_loss(model, tokens)
        forward = time.perf_counter() - start
        optimizer.zero_grad()
        loss.backward()
        optimizer.lr = schedule(taken[0])
        optimizer.step()
        taken[0] += 1
        return loss.data, forward
    return step


def gpt_side_by_side(steps_of: dict, steps: int) -> dict:
    """Engines take turns on the same names; every step's loss must agree to 1e-12."""
    names = training_names(steps + 1)  # the first round only warms up, on the first name
    losses = {name: [] for name in steps_of}

    def turn(name: str):
        def run(index: int) -> dict:
            (loss, forward), seconds = timed(lambda: steps_of[name](names[index + 1 if losses[name] else 0]))
            losses[name].append(loss)
            return {"step": seconds, "forward": forward}
        return run

    totals = take_turns({name: turn(name) for name in steps_of}, steps)
    difference = max(abs(a - b) for a, b in zip(*losses.values()))
    if difference > 1e-12:
        raise AssertionError(f"the engines' losses differ by {difference!r}")
    return {"steps": steps, "letters": sum(len(t) - 1 for t in names[1:]), "loss_difference": difference,
            "seconds": {name: totals[name]["step"] for name in steps_of},
            "forward_seconds": {name: totals[name]["forward"] for name in steps_of}}


def transformer_side_by_side(quick: bool) -> dict:
    """The plain GPT's code unchanged, on glassgrad's Value and on the lean reference: drop-in."""
    sys.path.insert(0, str(ROOT))
    from engine import Value

    steps = 12 if quick else 40
    return gpt_side_by_side({"glassgrad": plain_gpt(Value, steps), "lean": plain_gpt(LeanValue, steps)}, steps)


def gpt_model_side_by_side(quick: bool) -> dict:
    """nn.GPT against the plain GPT on the lean reference: the same model, weights, names and losses."""
    steps = 12 if quick else 40
    return gpt_side_by_side({"glassgrad": glassgrad_gpt(steps), "lean": plain_gpt(LeanValue, steps)}, steps)


# --- node for node against micrograd --------------------------------------------

BUILD = {"+": lambda v, other: v + other, "*": lambda v, other: v * other, "**": lambda v, other: v**3,
         "exp": lambda v, other: v.exp(), "log": lambda v, other: v.log(), "tanh": lambda v, other: v.tanh(),
         "relu": lambda v, other: v.relu(), "sigmoid": lambda v, other: v.sigmoid()}


def side_by_side_engines() -> dict:
    """glassgrad's Value, and micrograd's where installed, with micrograd's recursion limit raised so it can run."""
    engines = {"glassgrad": scalar_value("glassgrad")}
    if available("micrograd"):
        engines["micrograd"] = scalar_value("micrograd")
        sys.setrecursionlimit(max(sys.getrecursionlimit(), 2_100_000))  # its backward recurses once per node
    return engines


def ops_side_by_side(quick: bool) -> dict:
    """Microseconds per node of each operation, forward (n nodes) and backward (over their pairwise sum)."""
    n, rounds = (5_000, 3) if quick else (20_000, 7)
    return {"n": n, "rounds": rounds, "us_per_node": {op: one_op_side_by_side(op, n, rounds) for op in OPS}}


def one_op_side_by_side(op: str, n: int, rounds: int) -> dict:
    # (micrograd 0.1.0 has + * ** and relu, but no exp, log, tanh or sigmoid)
    engines = {name: Value for name, Value in side_by_side_engines().items() if not op.isalpha() or hasattr(Value, op)}

    def step(Value):
        def run(index: int) -> dict:
            leaves = [Value(0.5 + i * 1e-6) for i in range(n)]
            other = Value(0.75)
            outs, forward = timed(lambda: [BUILD[op](v, other) for v in leaves])
            root = pairwise_sum(outs)
            _, backward = timed(root.backward)
            return {"forward": forward, "backward": backward}
        return run

    totals = take_turns({name: step(Value) for name, Value in engines.items()}, rounds)
    return {name: {phase: seconds / rounds / n * 1e6 for phase, seconds in phases.items()}
            for name, phases in totals.items()}


def backward_side_by_side(quick: bool) -> dict:
    """Seconds of backward alone on a chain of products (10^5 and 10^6 deep) and on a wide pairwise sum."""
    engines = side_by_side_engines()
    shapes = {"chain 100,000": ("chain", 100_000, 3)}
    if not quick:
        shapes["chain 1,000,000"] = ("chain", 1_000_000, 3)
    shapes["wide sum of 20,000 products" if quick else "wide sum of 100,000 products"] = (
        "wide", 20_000 if quick else 100_000, 3 if quick else 5)
    results = {}
    for title, (shape, n, rounds) in shapes.items():
        def step(Value, shape=shape, n=n):
            def run(index: int) -> dict:
                if shape == "chain":
                    x, c = Value(1.0), Value(1.0000001)
                    root = x
                    for _ in range(n):
                        root = root * c
                else:
                    a = [Value(i * 1e-5) for i in range(n)]
                    b = [Value(1.0 - i * 1e-6) for i in range(n)]
                    root = pairwise_sum([ai * bi for ai, bi in zip(a, b)])
                _, seconds = timed(root.backward)
                return {"backward": seconds}
            return run

        totals = take_turns({name: step(Value) for name, Value in engines.items()}, rounds)
        results[title] = {"nodes": 2 * n - 1 if shape == "wide" else n, "rounds": rounds,
                          "seconds": {name: phases["backward"] / rounds for name, phases in totals.items()}}
    return results


# --- the batched replay against PyTorch, vectorised --------------------------------

def torch_copy(model):
    """A float64 torch.nn.Sequential with ``model``'s weights (one thread), for a step on the same numbers."""
    import torch

    torch.set_num_threads(1)
    modules = []
    for index, layer in enumerate(model.layers):
        linear_layer = torch.nn.Linear(len(layer.neurons[0].w), len(layer.neurons)).double()
        with torch.no_grad():
            linear_layer.weight.copy_(torch.tensor([[w.data for w in neuron.w] for neuron in layer.neurons],
                                                   dtype=torch.float64))
            linear_layer.bias.copy_(torch.tensor([neuron.b.data for neuron in layer.neurons], dtype=torch.float64))
        modules.append(linear_layer)
        if index < len(model.layers) - 1:
            modules.append(torch.nn.ReLU())
    return torch.nn.Sequential(*modules)


def replay_side_by_side(quick: bool) -> dict:
    """One full-batch SGD step: glassgrad's batched replay against PyTorch vectorised, on the same data and weights."""
    import numpy as np

    sys.path.insert(0, str(ROOT))
    from nn import MLP, make_moons

    rounds = 8 if quick else 30
    problems = {}
    for n in (100, 1_000, 10_000, 100_000):
        X, labels = make_moons(n=n, noise=0.1, seed=1)
        problems[f"moons MLP(2,[16,16,1]) hinge, {n:,} points"] = (MLP(2, [16, 16, 1], seed=0), X, labels, "hinge")
    rng = np.random.default_rng(0)
    problems["MLP(64,[32,10]) softmax, 1,797 samples"] = (
        MLP(64, [32, 10], seed=0), rng.normal(size=(1797, 64)), rng.integers(0, 10, size=1797), "softmax")
    return {title: one_replay_side_by_side(*problem, rounds) for title, problem in problems.items()}


def one_replay_side_by_side(model, X, labels, loss_name: str, rounds: int) -> dict:
    import numpy as np
    import torch

    from engine.batch import record
    from nn import LOSSES

    loss, n, nin, nout = LOSSES[loss_name], len(X), model.nin, model.sizes[-1]
    target_columns = loss.targets(labels, nout)
    recording = record(lambda *xs: loss.sample(model(list(xs[:nin])), list(xs[nin:])),
                       [0.0] * nin + loss.sample_targets(1, nout))
    params = model.parameters()
    columns, weight = list(X.T) + target_columns, np.full(n, 1.0 / n)
    net, Xt = torch_copy(model), torch.tensor(X)
    if loss_name == "hinge":
        signs = torch.tensor(target_columns[0])
        torch_loss = lambda: torch.relu(1 - signs * net(Xt)[:, 0]).mean()  # noqa: E731
    else:
        classes = torch.tensor(labels)
        torch_loss = lambda: torch.nn.functional.cross_entropy(net(Xt), classes)  # noqa: E731
    optimizer = torch.optim.SGD(net.parameters(), lr=0.05)

    def glassgrad_step() -> float:
        for p in params:
            p.grad = 0.0
        (sample_losses,) = recording.forward(columns)
        recording.backward([weight])
        for p in params:
            p.data -= 0.05 * p.grad
        return float(np.mean(sample_losses))

    def torch_step() -> float:
        value = torch_loss()
        optimizer.zero_grad()
        value.backward()
        optimizer.step()
        return value.item()

    losses = {"glassgrad-batched": [], "torch-vectorised": []}

    def step(name: str, function):
        def run(index: int) -> dict:
            value, seconds = timed(function)
            losses[name].append(value)
            return {"step": seconds}
        return run

    totals = take_turns({name: step(name, function) for name, function in
                         (("glassgrad-batched", glassgrad_step), ("torch-vectorised", torch_step))}, rounds)
    return {"rounds": rounds, "loss_difference": max(abs(a - b) for a, b in zip(*losses.values())),
            "seconds": {name: phases["step"] / rounds for name, phases in totals.items()}}


def times(other: float, mine: float) -> str:
    """How many times quicker glassgrad was: the other engine's time over glassgrad's."""
    return f"{other / mine:.2f}x"


SIDE_BY_SIDE = {"transformer": transformer_side_by_side, "gpt": gpt_model_side_by_side, "ops": ops_side_by_side,
                "backward": backward_side_by_side, "replay": replay_side_by_side}
WORKLOADS.update({f"side_by_side:{name}": (lambda engine, quick, run=run: run(quick))
                  for name, run in SIDE_BY_SIDE.items()})


def print_gpt_rows(title: str, row: dict) -> None:
    print(f"\n{title:40} {'glassgrad':>11} {'lean Value':>11} {'ratio':>7}")
    if "seconds" not in row:
        print(f"  {row.get('error', '-')}")
        return
    seconds, forward = row["seconds"], row["forward_seconds"]
    rest = {name: seconds[name] - forward[name] for name in seconds}
    for label, figures in ((f"{row['steps']} Adam steps, a name each ({row['letters']} letters)", seconds),
                           ("  of which the forward", forward),
                           ("  and backward, update, freeing", rest)):
        print(f"  {label:38} {figures['glassgrad']:9.2f} s {figures['lean']:9.2f} s "
              f"{times(figures['lean'], figures['glassgrad']):>7}")
    print(f"  (the same losses at every step, to {row['loss_difference']:.1e})")


def print_side_by_side(results: dict) -> None:
    print("\nside by side: the engines take turns in one process, one step each on the same inputs, each timed")
    print("phase after a gc.collect() outside the timing (collector on); ratio = the other engine's total time")
    print("over glassgrad's, so above 1.0x glassgrad is quicker")
    for key, title in (("transformer", "a GPT's training step, drop-in"),
                       ("gpt", "nn.GPT against the same GPT, plain")):
        print_gpt_rows(title, results.get(key, {}))
    b = results.get("backward", {})
    print(f"\n{'backward alone':40} {'glassgrad':>11} {'micrograd':>11} {'ratio':>7}"
          "   (micrograd's recursion limit raised)")
    for title, row in b.items() if "error" not in b else []:
        seconds = row["seconds"]
        print(f"  {title:38} {seconds['glassgrad']:9.3f} s "
              + (f"{seconds['micrograd']:9.3f} s {times(seconds['micrograd'], seconds['glassgrad']):>7}"
                 if "micrograd" in seconds else f"{'-':>11}"))
    if "error" in b:
        print(f"  {b['error']}")
    o = results.get("ops", {})
    print(f"\n{'microseconds per node':40} {'glassgrad':>11} {'micrograd':>11} {'ratio':>7}")
    for op, engines in o.get("us_per_node", {}).items():
        for phase in ("forward", "backward"):
            mine, theirs = engines["glassgrad"][phase], engines.get("micrograd", {}).get(phase)
            print(f"  {op + ' ' + phase:38} {mine:9.3f} us "
                  + (f"{theirs:8.3f} us {times(theirs, mine):>7}" if theirs else f"{'-':>11}"))
    if "error" in o:
        print(f"  {o['error']}")
    print("  (backward is one backward() over the pairwise sum of the n results, + nodes included, per result)")
    r = results.get("replay", {})
    print(f"\n{'one full-batch SGD step':46} {'glassgrad':>11} {'torch':>11} {'ratio':>7}"
          "   (batched replay vs PyTorch vectorised, float64, 1 thread)")
    for title, row in r.items() if "error" not in r else []:
        seconds = row["seconds"]
        print(f"  {title:44} {seconds['glassgrad-batched'] * 1e3:8.2f} ms {seconds['torch-vectorised'] * 1e3:8.2f} ms "
              f"{times(seconds['torch-vectorised'], seconds['glassgrad-batched']):>7}")
    if "error" in r:
        print(f"  {r['error']}")
    elif r:
        worst = max(row["loss_difference"] for row in r.values())
        print(f"  (the same losses at every step, to {worst:.1e})")


# --- running each measurement in its own process ---------------------------

def available(engine: str) -> bool:
    module = {"micrograd": "micrograd", "torch-scalar": "torch", "torch-vectorised": "torch"}.get(engine)
    if module is None:
        return True
    import importlib.util

    return importlib.util.find_spec(module) is not None


# The replay against PyTorch runs both on one BLAS thread: torch is told so by
# set_num_threads, numpy's BLAS only by these, read when it loads. (Left to its
# own threads beside torch's on a busy machine, numpy's took 100x longer.)
ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def measure(engine: str, workload: str, quick: bool, n: int | None = None, timeout: float = 600) -> dict:
    env = dict(os.environ, BENCH_N=str(n or 0), **(ONE_THREAD if workload == "side_by_side:replay" else {}))
    command = [sys.executable, __file__, "--child", engine, workload] + (["--quick"] if quick else [])
    try:
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"ok": False, "error": f"over {timeout:.0f} s"}
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or [f"exit code {done.returncode}"])[-1]
        return {"ok": False, "error": last[:120]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"


def run_all(quick: bool) -> dict:
    from tqdm import tqdm

    engines = [e for e in ENGINES if available(e)]
    scalar_engines = [e for e in engines if e in ("glassgrad", "micrograd", "torch-scalar")]  # same Value per engine
    chain_sizes = [10_000, 100_000] if quick else [10_000, 100_000, 1_000_000]
    tasks = [("moons_step", e, None) for e in engines]
    tasks += [("chain", e, n) for e in scalar_engines for n in chain_sizes]
    tasks += [(w, e, None) for w in ("wide_sum", "bytes_per_node", "per_op") for e in scalar_engines]
    tasks += [("decision_grid", e, None) for e in ("glassgrad", "glassgrad-batched")]
    tasks += [(f"side_by_side:{name}", "glassgrad", None) for name in SIDE_BY_SIDE]
    results: dict = {"machine": machine(), "engines": engines, "quick": quick}
    for workload, engine, n in tqdm(tasks, desc="benchmark", unit="run"):
        if workload.startswith("side_by_side:"):
            name = workload.split(":")[1]
            if name == "replay" and not available("torch-vectorised"):
                outcome = {"error": "PyTorch is not installed (pip install glassgrad[bench])"}
            else:
                outcome = measure(engine, workload, quick, timeout=1800)
            results.setdefault("side_by_side", {})[name] = outcome
            continue
        if workload == "chain" and engine == "torch-scalar" and n > 100_000:
            results.setdefault("chain", {}).setdefault(engine, []).append(
                {"n": n, "ok": None, "error": "skipped: more than 10 minutes at this size"})
            continue
        outcome = measure(engine, workload, quick, n)
        if workload == "chain":
            outcome.setdefault("n", n)
            results.setdefault("chain", {}).setdefault(engine, []).append(outcome)
        else:
            results.setdefault(workload, {})[engine] = outcome
    return results


def ratio(reference: float | None, value: float | None, higher_is_better: bool = False) -> str:
    if not reference or not value:
        return "-"
    r = value / reference if higher_is_better else reference / value
    return f"{r:,.1f}x"


def print_table(results: dict) -> None:
    engines = results["engines"]
    print(f"\nmachine: {results['machine']}")
    print("every ratio is micrograd's figure over the engine's, measured in this run "
          "(for bytes: how many times fewer)\n")
    moons = results["moons_step"]
    base = moons.get("micrograd", {}).get("seconds")
    print(f"{'moons training step':28} {'time':>12} {'vs micrograd':>13} {'graph nodes':>12}")
    for engine in engines:
        m = moons.get(engine, {})
        seconds = m.get("seconds")
        shown = f"{seconds * 1e3:10.2f} ms" if seconds else m.get("error", "-")
        print(f"  {engine:26} {shown:>12} {ratio(base, seconds):>13} {m.get('nodes', ''):>12}")
    print(f"\n{'chain of N ops, fwd+bwd':28} " + " ".join(f"{'N=' + format(r['n'], ','):>14}"
          for r in next(iter(results["chain"].values()))) + "   largest N survived")
    for engine, runs in results["chain"].items():
        cells = []
        for r in runs:
            cells.append(f"{r['seconds']:12.2f} s" if r.get("ok") else f"{(r.get('error') or 'failed')[:14]:>14}")
        survived = max((r["n"] for r in runs if r.get("ok")), default=0)
        print(f"  {engine:26} " + " ".join(f"{c:>14}" for c in cells) + f"   {survived:,}")
    wide = results["wide_sum"]
    base = wide.get("micrograd", {}).get("seconds")
    print(f"\n{'wide sum of 100,000 products':28} {'time':>12} {'vs micrograd':>13}")
    for engine, w in wide.items():
        s = w.get("seconds")
        print(f"  {engine:26} {(f'{s:10.3f} s' if s else w.get('error', '-')):>12} {ratio(base, s):>13}")
    mem = results["bytes_per_node"]
    base = mem.get("micrograd", {}).get("bytes")
    rss_base = mem.get("micrograd", {}).get("resident_bytes")
    print(f"\n{'bytes per graph node':28} {'tracemalloc':>12} {'vs micrograd':>13} "
          f"{'resident':>10} {'vs micrograd':>13}")
    for engine, m in mem.items():
        b, r = m.get("bytes"), m.get("resident_bytes")
        print(f"  {engine:26} {(f'{b:10.0f}' if b else m.get('error', '-')):>12} {ratio(base, b):>13}"
              f" {(f'{r:8.0f}' if r else '-'):>10} {ratio(rss_base, r):>13}")
    print("  (tracemalloc sees only Python's allocator: PyTorch's C++ tensors show in 'resident' alone)")
    grid = results.get("decision_grid", {})
    print(f"\n{'decision boundary, 200x200':28} {'time':>12}")
    for engine, g in grid.items():
        s = g.get("seconds")
        print(f"  {engine:26} {(f'{s * 1e3:10.1f} ms' if s else g.get('error', '-')):>12}")
    print(f"\n{'microseconds per node':28} " + " ".join(f"{op:>13}" for op in OPS))
    for engine, ops in results["per_op"].items():
        if not isinstance(ops, dict) or "ok" in ops:
            continue
        cells = []
        for op in OPS:
            o = ops.get(op)
            cells.append("-" if not o else f"{o['forward_us']:.2f}/{o['backward_us']:.2f}")
        print(f"  {engine:26} " + " ".join(f"{c:>13}" for c in cells))
    print("  (forward/backward: backward is one backward() over the pairwise sum of the n results, + nodes included)")
    print_side_by_side(results.get("side_by_side", {}))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n".join(__doc__.splitlines()[2:]))
    parser.add_argument("--quick", action="store_true", help="fewer repeats and no 10^6 chain")
    parser.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    parser.add_argument("--child", nargs=2, metavar=("ENGINE", "WORKLOAD"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        engine, workload = args.child
        print(json.dumps(WORKLOADS[workload](engine, args.quick)))
        return 0
    results = run_all(args.quick)
    print_table(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
