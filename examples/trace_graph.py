"""Draw the computation graph of one neuron, before and after backpropagation.

The neuron is micrograd's lecture example, o = tanh(x1*w1 + x2*w2 + b), built
from the engine's primitive operations so that every product and sum is a
node of its own. The first picture shows the values computed forward (every
gradient still 0); the second, after ``o.backward()``, shows each node's
gradient do/dnode, and on each edge the part of the gradient that flows
through it (the output's gradient times the local derivative). With
``--steps N`` the neuron then takes N gradient-descent steps that pull o
towards 0, and a third picture shows where that left it. Each picture is
written as SVG and PNG; report.html shows them in order, with what they say.

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
    parser = common.parser(__doc__.splitlines()[0], steps=0, scalar=False,
                           steps_help="steps of gradient descent on o**2 after the first backward, 0 for none")
    args = parser.parse_args(argv)
    with common.Run("trace_graph", args, parser) as run:
        folder = run.folder
        chapters = []  # (title, parts, graph file, caption) for report.html; a part is a paragraph or table rows
        leaves, o = build_neuron(args.seed)
        x1, x2, w1, w2, b = leaves
        equation = (f"o = tanh({x1.data:.4g}*{w1.data:.4g} + {x2.data:.4g}*{w2.data:.4g} + {b.data:.4g})"
                    f" = {o.data:.4f}")
        print(f"forward:  {equation}")
        if folder is not None:
            graph = common.draw_graph(o, folder / "graph_before", edge_grads=False,
                                      title="forward: every value computed, every gradient still 0")
            chapters.append(("Forward: every value computed", [FORWARD, equation], graph[0],
                             "values computed forward; every gradient still 0"))
        o.backward()
        print("backward: " + ", ".join(f"do/d{v.label} = {v.grad:.4f}" for v in leaves))
        if folder is not None:
            graph = common.draw_graph(o, folder / "graph_after", edge_grads=True,
                                      title="after o.backward(): gradients, and what each edge carries")
            table = [["leaf", "value", "gradient do/dleaf"]] + [[v.label, f"{v.data:.4g}", f"{v.grad:.4f}"]
                                                                for v in leaves]
            chapters.append(("Backward: every gradient", [BACKWARD, table], graph[0],
                             "after o.backward(): each node's gradient, each edge's contribution"))
        if args.steps:
            o, loss = descend(leaves, args, run)
            print(f"after {args.steps} steps of gradient descent on o**2: o = {o.data:.4f}, loss = {loss.data:.6f}")
            if folder is not None:
                graph = common.draw_graph(loss, folder / "graph_trained", edge_grads=True,
                                          title=f"after {args.steps} steps of gradient descent on o**2")
                words = (f"{args.steps} steps of gradient descent on loss = o**2 moved w1, w2 and b against "
                         f"their gradients (x1 and x2 are data and stay put): o is now {o.data:.4f} "
                         f"and the loss {loss.data:.6f}.")
                chapters.append((f"After {args.steps} steps of gradient descent", [words], graph[0],
                                 "the same neuron after gradient descent, with loss = o**2 on top"))
        if folder is not None:
            write_page(folder / "report.html", chapters)
        return 0


def descend(leaves: list[Value], args, run: common.Run) -> tuple[Value, Value]:
    """Gradient descent on loss = o**2 over the weights and the bias; the final o and loss, after backward."""
    from tqdm import tqdm

    x1, x2, w1, w2, b = leaves
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
    return o, loss


FORWARD = ("One neuron, o = tanh(x1*w1 + x2*w2 + b), built from the engine's primitive operations: every "
           "product and every sum is a node of its own. Read the graph left to right: each node holds the "
           "value computed from its parents. Nothing has been differentiated yet, so every gradient is 0.")
BACKWARD = ("o.backward() walks the graph from o back to the leaves. Each node's gradient is do/dnode: the "
            "gradient of the node it feeds, times the local derivative of that operation (the chain rule). "
            "On each edge is the part of the gradient that flows through it. A leaf's gradient says how much "
            "o would change if that number grew a little:")


def write_page(path, chapters) -> None:
    """report.html: the chapters, each with its graph inline (or a note where Graphviz was missing)."""
    from viz.report import Chapter, Picture, Table, write_story

    pages = [Chapter(title, [*(Table(part) if isinstance(part, list) else part for part in parts),
                             Picture(graph, caption)])
             for title, parts, graph, caption in chapters]
    write_story(path, "glassgrad: one neuron, forward and backward", pages,
                subtitle="The computation graph of one neuron, before and after backpropagation.")


if __name__ == "__main__":
    raise SystemExit(main())
