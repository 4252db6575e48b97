"""Train a network to untangle three interleaved spiral arms.

Three classes, so the network has three outputs, one score (logit) per class,
and learns with softmax cross-entropy: the softmax turns the scores into
probabilities and the loss is -log of the true class's probability. 150
points, MLP(2, [32, 32, 3]) with ReLU, Adam, a test set held out. Reaches at
least 95% training accuracy.

    python examples/spirals.py          # --help for the options
"""

from __future__ import annotations

import common  # first: puts the project on sys.path for source checkouts

from nn import MLP, Adam, make_spirals, train, train_test_split


def main(argv: list[str] | None = None) -> int:
    parser = common.parser(__doc__.splitlines()[0], steps=300)
    args = parser.parse_args(argv)
    with common.Run("spirals", args, parser) as run:
        X, y = make_spirals(n=200, classes=3, noise=0.2, seed=args.seed)
        X_train, X_test, y_train, y_test = train_test_split(X, y, test_fraction=0.25, seed=args.seed)
        model = MLP(2, [32, 32, 3], activation="relu", seed=args.seed)
        print(model)
        timer = common.Timer()
        history = train(model, X_train, y_train, loss="softmax", optimizer=Adam(model.parameters(), lr=0.02),
                        steps=args.steps, X_test=X_test, y_test=y_test,
                        batched=not args.scalar, progress=not args.quiet, callback=run.count_step)
        return common.finish(run, model, X_train, y_train, history, loss="softmax",
                             target=0.95, seconds=timer.seconds, X_test=X_test, y_test=y_test)


if __name__ == "__main__":
    raise SystemExit(main())
