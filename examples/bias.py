"""A model learns the gaps in its data: the same classifier on a balanced and on a biased sample.

Both models are MLP(2, [16, 16, 1]) trained the same way on two moons. The
balanced sample covers both moons; the biased sample is the same data with
one region removed: the tip of class 1's moon (x1 > 1.2). Nothing in the
biased data says what belongs there, so that model extends class 0's region
into the gap, and on fresh test points from the gap it is wrong where the
balanced model is right. The picture puts the two decision boundaries side
by side, with the missing region outlined.

    python examples/bias.py             # --help for the options
"""

from __future__ import annotations

import common  # first: puts the project on sys.path for source checkouts
import numpy as np

from nn import MLP, Adam, classify, make_moons, train

GAP_X1 = 1.2  # class 1 points right of this line are missing from the biased sample


def in_gap(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    return (y == 1) & (X[:, 0] > GAP_X1)


def fit(X: np.ndarray, y: np.ndarray, args, name: str, run: common.Run) -> tuple[MLP, object]:
    model = MLP(2, [16, 16, 1], seed=args.seed)
    print(f"{name}: {len(X)} training points")
    history = train(model, X, y, loss="hinge", optimizer=Adam(model.parameters(), lr=0.02), l2=1e-4,
                    steps=args.steps, batched=not args.scalar, progress=not args.quiet,
                    callback=run.count_step)
    return model, history


def side_by_side(models, X_test, y_test, path):
    """Both models' decision regions over the same plane, with the fresh test points on top."""
    from matplotlib.patches import Rectangle

    import viz

    figure = viz.style.new_figure(12, 5.2)
    for index, (model, title) in enumerate(zip(models, ["balanced", "biased"])):
        ax = figure.add_subplot(1, 2, index + 1)
        viz.decision_boundary(model, X_test, y_test, ax=ax)
        top = X_test[:, 1].max() + 0.3
        ax.add_patch(Rectangle((GAP_X1, X_test[:, 1].min() - 0.3), X_test[:, 0].max() + 0.3 - GAP_X1,
                               top - X_test[:, 1].min(), fill=False, linestyle="--", linewidth=1.5,
                               edgecolor="black"))
        gap = in_gap(X_test, y_test)
        right = float(np.mean(classify(model, X_test[gap]) == 1))
        ax.set_title(f"trained on the {title} sample\n{right:.0%} right on test points in the dashed region")
    figure.suptitle("The same classifier, shown fresh test points; the biased sample had no class-1 points "
                    "in the dashed region")
    return viz.save(figure, path)


def main(argv: list[str] | None = None) -> int:
    parser = common.parser(__doc__.splitlines()[0], steps=200)
    args = parser.parse_args(argv)
    with common.Run("bias", args, parser, total_steps=2 * args.steps) as run:  # two models trained in turn
        folder = run.folder
        X, y = make_moons(n=200, noise=0.1, seed=args.seed)
        X_test, y_test = make_moons(n=400, noise=0.1, seed=args.seed + 1)
        keep = ~in_gap(X, y)
        timer = common.Timer()
        balanced, balanced_history = fit(X, y, args, "balanced", run)
        biased, biased_history = fit(X[keep], y[keep], args, "biased (gap removed)", run)
        seconds = timer.seconds

        gap = in_gap(X_test, y_test)
        print(f"\n{'':10} {'train acc':>10} {'test acc':>10} {'test acc in the gap':>21}")
        for name, model, history in [("balanced", balanced, balanced_history), ("biased", biased, biased_history)]:
            test = float(np.mean(classify(model, X_test) == y_test))
            in_region = float(np.mean(classify(model, X_test[gap]) == y_test[gap]))
            print(f"{name:10} {history.accuracy[-1]:>10.1%} {test:>10.1%} {in_region:>21.1%}")
        print(f"({int(gap.sum())} of the {len(X_test)} test points lie in the gap; both trained in {seconds:.2f} s)")
        if folder is not None:
            side_by_side([balanced, biased], X_test, y_test, folder / "bias.png")
        reached = balanced_history.accuracy[-1] >= 1.0
        print(f"target: 100% train accuracy for the balanced model, {'reached' if reached else 'NOT reached'}")
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
