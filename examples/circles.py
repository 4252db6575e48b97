"""Train a network to tell the inside of a ring from the outside.

No straight line separates two concentric circles, so a network must bend its
boundary into a closed curve: each tanh neuron of the first layer draws one
line, and the second layer combines those lines into a ring. 100 points,
MLP(2, [8, 8, 1]) with tanh, hinge loss, Adam. Reaches 100% training accuracy.

    python examples/circles.py          # --help for the options
"""

from __future__ import annotations

import common  # first: puts the project on sys.path for source checkouts

from nn import MLP, Adam, make_circles, train


def main(argv: list[str] | None = None) -> int:
    parser = common.parser(__doc__.splitlines()[0], steps=200)
    args = parser.parse_args(argv)
    with common.Run("circles", args, parser) as run:
        X, y = make_circles(n=100, noise=0.05, factor=0.5, seed=args.seed)
        model = MLP(2, [8, 8, 1], activation="tanh", seed=args.seed)
        print(model)
        timer = common.Timer()
        history = train(model, X, y, loss="hinge", optimizer=Adam(model.parameters(), lr=0.05),
                        steps=args.steps, batched=not args.scalar, progress=not args.quiet,
                        callback=run.count_step)
        return common.finish(run, model, X, y, history, loss="hinge", target=1.0, seconds=timer.seconds)


if __name__ == "__main__":
    raise SystemExit(main())
