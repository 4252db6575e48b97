"""Train a small network to separate two interleaving half-moons, then show what it learned.

This is micrograd's demo recipe: 100 noisy moons, MLP(2, [16, 16, 1]) with ReLU,
the max-margin (hinge) loss plus 1e-4 * L2, plain gradient descent with a
learning rate falling from 1.0 to 0.1, 100 full-batch steps. It reaches 100%
training accuracy, then writes the run's HTML report, the decision boundary,
the neuron maps and a computation graph into a fresh folder.

    python examples/moons.py            # --help for the options
"""

from __future__ import annotations

import common  # first: puts the project on sys.path for source checkouts

from nn import MLP, make_moons, train


def main(argv: list[str] | None = None) -> int:
    parser = common.parser(__doc__.splitlines()[0], steps=100, seed=1337)
    args = parser.parse_args(argv)
    with common.Run("moons", args, parser) as run:
        X, y = make_moons(n=100, noise=0.1, seed=args.seed)
        model = MLP(2, [16, 16, 1], seed=args.seed)
        print(model)
        timer = common.Timer()
        history = train(
            model, X, y,
            loss="hinge",
            l2=1e-4,
            learning_rate=lambda k: 1.0 - 0.9 * k / args.steps,
            steps=args.steps,
            batched=not args.scalar,
            progress=not args.quiet,
            callback=run.count_step,
        )
        return common.finish(run, model, X, y, history, loss="hinge", target=1.0, seconds=timer.seconds)


if __name__ == "__main__":
    raise SystemExit(main())
