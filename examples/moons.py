"""Train a small network to separate two interleaving half-moons.

This is micrograd's demo recipe: 100 noisy moons, MLP(2, [16, 16, 1]) with ReLU,
the max-margin (hinge) loss plus 1e-4 * L2, plain gradient descent with a
learning rate falling from 1.0 to 0.1, 100 full-batch steps. It reaches 100%
training accuracy.

    python examples/moons.py            # --help for the options
"""

from __future__ import annotations

import common  # noqa: F401  (first: puts the project on sys.path for source checkouts)

from nn import MLP, make_moons, train


def main(argv: list[str] | None = None) -> int:
    args = common.parser(__doc__.splitlines()[0], steps=100, seed=1337).parse_args(argv)
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
    )
    common.report("moons", history, timer.seconds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
