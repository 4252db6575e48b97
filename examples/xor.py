"""Train a network on XOR: the class is 1 where x1 and x2 have opposite signs.

XOR is the classic problem a single neuron cannot solve (no one line splits
the four corners), and a hidden layer can. 100 points around the corners of
the square, binary cross-entropy on the logit, Adam: first one neuron,
MLP(2, [1]), which ends at 50%, then MLP(2, [8, 8, 1]) with tanh, which
reaches 100% training accuracy. one_neuron_vs_network.png shows both decision
regions side by side, and the report opens with them.

    python examples/xor.py              # --help for the options
"""

from __future__ import annotations

import common  # first: puts the project on sys.path for source checkouts

from nn import MLP, Adam, make_xor, train


def fit(model: MLP, X, y, args, run: common.Run):
    return train(model, X, y, loss="bce", optimizer=Adam(model.parameters(), lr=0.05), steps=args.steps,
                 batched=not args.scalar, progress=not args.quiet, callback=run.count_step)


def one_neuron_chapter(folder, one_neuron: MLP, one_history, model: MLP, history, X, y):
    """one_neuron_vs_network.png, and the report's first chapter around it."""
    import viz
    from viz.plots import compare_boundaries
    from viz.report import Chapter, Picture

    titles = [f"one neuron, MLP(2, [1]): {one_history.accuracy[-1]:.0%} right",
              f"MLP(2, [8, 8, 1]), tanh: {history.accuracy[-1]:.0%} right"]
    figure = compare_boundaries([one_neuron, model], titles, X, y)
    figure.suptitle("XOR: no straight line splits the four corners; a hidden layer bends the boundary around them")
    picture = viz.save(figure, folder / "one_neuron_vs_network.png")
    return Chapter("The problem one neuron cannot solve", [
        "A single neuron computes w1*x1 + w2*x2 + b: its decision boundary is one straight line. On XOR, "
        "class 1 sits in two opposite corners of the square and class 0 in the other two, so every line "
        "leaves at least one corner on the wrong side. Trained with the same loss, optimizer and steps as "
        f"the network, the lone neuron ends at {one_history.accuracy[-1]:.0%} training accuracy with a loss of "
        f"{one_history.loss[-1]:.3f} (ln 2 = 0.693 is a coin toss): its best move is to shrink its weights "
        "and answer 'not sure' everywhere, which is why its panel is so pale.",
        "With a hidden layer, each hidden neuron draws its own line and the next layer combines them: "
        f"MLP(2, [8, 8, 1]) reaches {history.accuracy[-1]:.0%}. Both panels share one colour scale.",
        Picture(picture, "left: the best one straight line can do; right: lines combined by a hidden layer"),
    ])


def main(argv: list[str] | None = None) -> int:
    parser = common.parser(__doc__.splitlines()[0], steps=150)
    args = parser.parse_args(argv)
    with common.Run("xor", args, parser, total_steps=2 * args.steps) as run:  # two models trained in turn
        X, y = make_xor(n=100, noise=0.1, seed=args.seed)
        one_neuron = MLP(2, [1], seed=args.seed)
        model = MLP(2, [8, 8, 1], activation="tanh", seed=args.seed)
        print(model)
        one_history = fit(one_neuron, X, y, args, run)
        print(f"one neuron, {one_neuron!r}: {one_history.accuracy[-1]:.1%} train accuracy "
              "(one straight line cannot split XOR's four corners)")
        timer = common.Timer()
        history = fit(model, X, y, args, run)
        story = []
        if run.folder is not None:  # one_neuron_vs_network.png, and the chapter the report opens with
            story = [one_neuron_chapter(run.folder, one_neuron, one_history, model, history, X, y)]
        return common.finish(run, model, X, y, history, loss="bce", target=1.0, seconds=timer.seconds,
                             story=story)


if __name__ == "__main__":
    raise SystemExit(main())
