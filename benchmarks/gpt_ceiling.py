"""How fast can a scalar engine of glassgrad's design run the GPT's training step? Issue 13 asks for 15x.

Issue 13 asks nn.GPT's training step (one name, backward, Adam) to be at least
15 times as fast as the same GPT written with plain operations on the lean
reference Value of benchmarks/bench.py. This script measures how far the
design itself can go, in one run, the engines taking turns as bench.py's
side-by-side rows do (same names, same initial weights, same losses):

- lean:   the plain GPT on the lean reference Value (bench.py's);
- nn.GPT: glassgrad's model, optimizer and loss (bench.py's);
- bare:   the same design stripped bare. A node with glassgrad's slots and
          nothing else (no checks, no labels, no op names), one ``dot`` node
          per weighted sum and one ``logsumexp`` node per softmax, the
          engine's own ``Value.backward`` (called on these nodes: it reads
          only the slots), and Adam as five numpy lines.

For bare, it also times the walk (``topological_order``, once more after the
backward, off the step's clock), and so the step's floor: the forward plus the
chain rule's loop alone, as if walking the graph, updating and freeing cost
nothing. That floor's ratio is the most any engine of this design could reach
on this machine: a node per scalar, and a Python statement per edge of the
graph to build it and to send the gradient back through it.

    python benchmarks/gpt_ceiling.py              # 40 steps (about a minute)
    python benchmarks/gpt_ceiling.py --steps 10
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402  (the lean Value, the plain GPT and the side-by-side protocol)

sys.path.insert(0, str(bench.ROOT))
from engine.value import Value, topological_order  # noqa: E402

GOAL = 15.0  # issue 13: nn.GPT's step against the plain GPT on the lean Value


class Bare:
    """A node with glassgrad's inline edges (see engine/value.py's __slots__) and only the operations the GPT uses."""

    __slots__ = ("data", "grad", "_a", "_da", "_b", "_db")

    def __init__(self, data, a=None, da=0.0, b=None, db=0.0):
        self.data, self.grad, self._a, self._da, self._b, self._db = data, 0.0, a, da, b, db

    def __add__(self, other):
        return Bare(self.data + other.data, self, 1.0, other, 1.0)

    def __sub__(self, other):
        return Bare(self.data - other.data, self, 1.0, other, -1.0)

    def __mul__(self, number):  # a number: the scale of a score, the 1/n of a mean
        return Bare(self.data * number, self, number)

    def __pow__(self, n):
        return Bare(self.data**n, self, n * self.data ** (n - 1))

    def exp(self):
        e = math.exp(self.data)
        return Bare(e, self, e)

    def relu(self):
        return Bare(self.data, self, 1.0) if self.data > 0.0 else Bare(0.0, self, 0.0)


def product(a: Bare, b: Bare) -> Bare:
    return Bare(a.data * b.data, a, b.data, b, a.data)


def dot(a: list, b: list) -> Bare:
    """a1*b1 + ... + an*bn as one node, as Value.dot without its bias and its checks."""
    a_data, b_data = [x.data for x in a], [x.data for x in b]
    total = 0.0
    for x, y in zip(a_data, b_data):
        total += x * y
    return Bare(total, (*a, *b), (*b_data, *a_data))


def logsumexp(values: list) -> Bare:
    """log(sum_i e**vi) as one node; its local derivatives are the softmax."""
    data = [v.data for v in values]
    largest = max(data)
    out = largest + math.log(sum([math.exp(x - largest) for x in data]))
    return Bare(out, tuple(values), tuple([math.exp(x - out) for x in data]))


def rmsnorm(x: list) -> list:
    scale = (dot(x, x) * (1.0 / len(x)) + Bare(1e-5)) ** -0.5
    return [product(xi, scale) for xi in x]


def linear(weights: list, x: list) -> list:
    return [dot(row, x) for row in weights]


def bare_gpt_loss(params: dict, tokens: list) -> Bare:
    """The GPT of nn/gpt.py, position by position: a dot node per weighted sum, logsumexp per softmax."""
    head_dim = len(params["layer0.attn_wq"]) // bench.N_HEAD
    keys, values, losses = [], [], []
    n = min(len(tokens) - 1, len(params["wpe"]))
    for position in range(n):
        x = rmsnorm([t + p for t, p in zip(params["wte"][tokens[position]], params["wpe"][position])])
        residual, x = x, rmsnorm(x)
        q = linear(params["layer0.attn_wq"], x)
        keys.append(linear(params["layer0.attn_wk"], x))
        values.append(linear(params["layer0.attn_wv"], x))
        heads = []
        for head in range(bench.N_HEAD):
            part = slice(head * head_dim, (head + 1) * head_dim)
            scores = [dot(q[part], key[part]) * head_dim**-0.5 for key in keys]
            normaliser = logsumexp(scores)
            weights = [(s - normaliser).exp() for s in scores]
            heads += [dot(weights, column) for column in zip(*[value[part] for value in values])]
        x = [a + r for a, r in zip(linear(params["layer0.attn_wo"], heads), residual)]
        hidden = [h.relu() for h in linear(params["layer0.mlp_fc1"], rmsnorm(x))]
        x = [m + r for m, r in zip(linear(params["layer0.mlp_fc2"], hidden), x)]
        logits = linear(params["lm_head"], x)
        losses.append(logsumexp(logits) - logits[tokens[position + 1]])
    total = losses[0]
    for loss in losses[1:]:
        total = total + loss
    return total * (1.0 / n)


def bare_gpt(steps: int):
    """The bare engine's training step: step(tokens) -> (loss, {phase: seconds})."""
    params = {name: [[Bare(x) for x in row] for row in matrix] for name, matrix in bench.gpt_weights().items()}
    flat = [p for matrix in params.values() for row in matrix for p in row]
    (beta1, beta2), m, v, taken = bench.BETAS, np.zeros(len(flat)), np.zeros(len(flat)), [0]

    def step(tokens: list) -> tuple[float, dict]:
        clock = time.perf_counter
        start = clock()
        loss = bare_gpt_loss(params, tokens)
        forward = clock()
        Value.backward(loss)  # glassgrad's own backward: walk, reset, chain rule (it reads only the slots)
        backward = clock()
        taken[0] += 1
        t, lr = taken[0], bench.LEARNING_RATE * (1 - (taken[0] - 1) / steps)
        g = np.array([p.grad for p in flat])
        m[:] = beta1 * m + (1 - beta1) * g
        v[:] = beta2 * v + (1 - beta2) * g * g
        data = np.array([p.data for p in flat]) - lr * (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + 1e-8)
        for p, x in zip(flat, data.tolist()):
            p.data, p.grad = x, 0.0
        updated = clock()
        walk_start = clock()
        topological_order(loss, leaves=False)  # again, to time the walk alone; subtracted from the step below
        walk = clock() - walk_start
        value = loss.data
        del loss
        return value, {"forward": forward - start, "backward": backward - forward, "update": updated - backward,
                       "walk": walk}
    return step


def measure(steps: int, progress: bool = False) -> dict:
    """Total seconds per engine and phase over ``steps`` names, the engines taking turns; the losses must agree."""
    from tqdm import tqdm

    names = bench.training_names(steps + 1)  # the first round warms up, on the first name
    engines = {"lean": bench.plain_gpt(bench.LeanValue, steps), "nn.GPT": bench.glassgrad_gpt(steps),
               "bare": bare_gpt(steps)}
    losses = {name: [] for name in engines}
    bar = tqdm(total=(steps + 1) * len(engines), desc="steps, in turns", unit="step", disable=not progress)

    def turn(name: str):
        def run(index: int) -> dict:
            (loss, phases), seconds = bench.timed(lambda: engines[name](names[index + 1 if losses[name] else 0]))
            losses[name].append(loss)
            bar.update()  # after the timing: the bar's own work is on no engine's clock
            phases = phases if isinstance(phases, dict) else {"forward": phases}
            return {**phases, "step": seconds - phases.get("walk", 0.0)}
        return run

    totals = bench.take_turns({name: turn(name) for name in engines}, steps)
    bar.close()
    difference = max(abs(a - b) for row in zip(*losses.values()) for a in row for b in row)
    if difference > 1e-12:
        raise AssertionError(f"the engines' losses differ by {difference!r}")
    return {"steps": steps, "loss_difference": difference, "seconds": totals}


def report(result: dict) -> str:
    seconds, steps = result["seconds"], result["steps"]
    lean = seconds["lean"]["step"]
    bare = seconds["bare"]
    floor = bare["forward"] + bare["backward"] - bare["walk"]

    def row(label: str, total: float, note: str = "", ratio: bool = True) -> str:
        shown = f"{lean / total:6.2f}x" if ratio else ""
        return f"  {label:<46}{total * 1000 / steps:8.2f}   {shown:>7}   {note}".rstrip()

    lines = [f"a GPT's training step, {steps} names, against the plain GPT on the lean Value "
             f"(issue 13 asks {GOAL:.0f}x)",
             f"  {'':<46}{'ms/step':>8}   {'ratio':>7}",
             row("lean reference Value, plain GPT", lean),
             row("nn.GPT on glassgrad's Value", seconds["nn.GPT"]["step"]),
             row("bare: the same design, nothing else", bare["step"]),
             row("  of which the forward", bare["forward"], ratio=False),
             row("  the walk (topological order)", bare["walk"], ratio=False),
             row("  the chain rule's loop", bare["backward"] - bare["walk"], ratio=False),
             row("  Adam and freeing", bare["step"] - bare["forward"] - bare["backward"], ratio=False),
             row("the floor: bare forward and chain rule alone", floor,
                 "as if walking, updating and freeing took no time"),
             f"  (the same losses at every step, to {result['loss_difference']:.1e}; ratio = the lean Value's "
             "step time over this one's)"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="The engines take turns, one name each, as in benchmarks/bench.py's "
                                            "side-by-side rows; each ratio is the lean Value's time over the row's.")
    parser.add_argument("--steps", type=int, default=40, help="names to train on, one a step (default 40)")
    args = parser.parse_args(argv)
    if args.steps < 1:
        parser.error(f"--steps must be at least 1, got {args.steps}")
    print(report(measure(args.steps, progress=True)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
