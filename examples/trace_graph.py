"""Draw the computation graph of one neuron, before and after backpropagation.

The neuron is micrograd's lecture example, o = tanh(x1*w1 + x2*w2 + b), built
from the engine's primitive operations so that every product and sum is a
node of its own. The first picture shows the values computed forward (every
gradient still 0); the second, after ``o.backward()``, shows each node's
gradient do/dnode, and on each edge the part of the gradient that flows
through it (the output's gradient times the local derivative). With
``--steps N`` the neuron then takes N gradient-descent steps that pull o
towards 0, and a third picture shows where that left it.

    python examples/trace_graph.py      # --help for the options
"""

from __future__ import annotations

import random

import common  # first: puts the project on sys.path for source checkouts

from engine import Value


def build_neuron(seed: int) -> tuple[list[Value], Value]:
    """The leaves (x1, x2, w1, w2, b) and the output o; seed 0 gives micrograd's lecture numbers."""
    if seed == 0:
        numbers = [2.0, 0.0, -3.0, 1.0, 6.8813735870195432]
    else:
        rng = random.Random(seed)
        numbers = [rng.uniform(-2, 2), rng.uniform(-2, 2), rng.uniform(-1, 1), rng.uniform(-1, 1), 0.0]
    x1, x2, w1, w2, b = (Value(v, label=name) for v, name in zip(numbers, ["x1", "x2", "w1", "w2", "b"]))
    return [x1, x2, w1, w2, b], forward(x1, x2, w1, w2, b)


def forward(x1: Value, x2: Value, w1: Value, w2: Value, b: Value) -> Value:
    x1w1 = x1 * w1
    x1w1.label = "x1*w1"
    x2w2 = x2 * w2
    x2w2.label = "x2*w2"
    total = x1w1 + x2w2
    total.label = "x1*w1 + x2*w2"
    n = total + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    return o


def main(argv: list[str] | None = None) -> int:
    parser = common.parser(__doc__.splitlines()[0], steps=0)
    args = parser.parse_args(argv)
    with common.Run("trace_graph", args, parser) as run:
        folder = run.folder
        leaves, o = build_neuron(args.seed)
        x1, x2, w1, w2, b = leaves
        print(f"forward:  o = tanh({x1.data:.4g}*{w1.data:.4g} + {x2.data:.4g}*{w2.data:.4g} + {b.data:.4g})"
              f" = {o.data:.4f}")
        if folder is not None:
            common.draw_graph(o, folder / "graph_before", edge_grads=False,
                              title="forward: every value computed, every gradient still 0")
        o.backward()
        print("backward: " + ", ".join(f"do/d{v.label} = {v.grad:.4f}" for v in leaves))
        if folder is not None:
            common.draw_graph(o, folder / "graph_after", edge_grads=True,
                              title="after o.backward(): gradients, and what each edge carries")
        if args.steps:
            # gradient descent on loss = o**2 over the weights and the bias: pull o towards 0
            from tqdm import tqdm

            parameters = [w1, w2, b]
            bar = tqdm(range(args.steps), desc="descent", unit="step", disable=args.quiet)
            for _ in bar:
                o = forward(x1, x2, w1, w2, b)
                loss = o * o
                for p in leaves:
                    p.grad = 0.0
                loss.backward()
                for p in parameters:
                    p.data -= 0.1 * p.grad
                bar.set_postfix(loss=f"{loss.data:.6f}", o=f"{o.data:+.4f}")
                run.count_step()
            o = forward(x1, x2, w1, w2, b)
            loss = o * o
            loss.label = "loss = o**2"
            for p in leaves:
                p.grad = 0.0
            loss.backward()
            print(f"after {args.steps} steps of gradient descent on o**2: "
                  f"o = {o.data:.4f}, loss = {loss.data:.6f}")
            if folder is not None:
                common.draw_graph(loss, folder / "graph_trained", edge_grads=True,
                                  title=f"after {args.steps} steps of gradient descent on o**2")
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
