"""Measure glassgrad beside the engines a user would pick instead, in one run.

Each (engine, workload) pair runs in a fresh Python process of its own, with
the garbage collector on as users run it, so no engine pays for another's
garbage; the table then gives every figure and its ratio to micrograd's.

Engines, where installed: glassgrad's scalar engine, glassgrad's batched replay
(engine.batch), micrograd 0.1.0 (PyPI), PyTorch as a scalar graph built node by
node, and PyTorch vectorised (nn.Linear over the whole batch).

    python benchmarks/bench.py             # the whole table (a few minutes)
    python benchmarks/bench.py --quick     # fewer repeats, smaller chains
    python benchmarks/bench.py --json out.json
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
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


# --- running each measurement in its own process ---------------------------

def available(engine: str) -> bool:
    module = {"micrograd": "micrograd", "torch-scalar": "torch", "torch-vectorised": "torch"}.get(engine)
    if module is None:
        return True
    import importlib.util

    return importlib.util.find_spec(module) is not None


def measure(engine: str, workload: str, quick: bool, n: int | None = None, timeout: float = 600) -> dict:
    env = dict(os.environ, BENCH_N=str(n or 0))
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
    results: dict = {"machine": machine(), "engines": engines, "quick": quick}
    for workload, engine, n in tqdm(tasks, desc="benchmark", unit="run"):
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
