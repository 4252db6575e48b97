"""Train a network on XOR: the class is 1 where x1 and x2 have opposite signs.

XOR is the classic problem a single neuron cannot solve (no one line splits
the four corners), and a hidden layer can. 100 points around the corners of
the square, MLP(2, [8, 8, 1]) with tanh, binary cross-entropy on the logit,
Adam. Reaches 100% training accuracy.

    python examples/xor.py              # --help for the options
"""

from __future__ import annotations

import common  # first: puts the project on sys.path for source checkouts

from nn import MLP, Adam, make_xor, train


def main(argv: list[str] | None = None) -> int:
    parser = common.parser(__doc__.splitlines()[0], steps=150)
    args = parser.parse_args(argv)
    with common.Run("xor", args, parser) as run:
        X, y = make_xor(n=100, noise=0.1, seed=args.seed)
        model = MLP(2, [8, 8, 1], activation="tanh", seed=args.seed)
        print(model)
        timer = common.Timer()
        history = train(model, X, y, loss="bce", optimizer=Adam(model.parameters(), lr=0.05),
                        steps=args.steps, batched=not args.scalar, progress=not args.quiet,
                        callback=run.count_step)
        return common.finish(run, model, X, y, history, loss="bce", target=1.0, seconds=timer.seconds)


if __name__ == "__main__":
    raise SystemExit(main())
