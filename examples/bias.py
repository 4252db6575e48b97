"""A model learns the gaps in its data: the same classifier on a balanced and on a biased sample.

Both models are MLP(2, [16, 16, 1]) trained the same way on two moons. The
balanced sample covers both moons; the biased sample is the same data with
one region removed: the tip of class 1's moon (x1 > 1.2). Nothing in the
biased data says what belongs there, so that model extends class 0's region
into the gap, and on fresh test points from the gap it is wrong where the
balanced model is right. bias.png puts the two decision boundaries side
by side on one colour scale, with the missing region outlined; report.html
tells the comparison: the two samples, the two boundaries, the numbers.

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


def side_by_side(models, X_test, y_test):
    """Both models' decision regions over the same plane and colour scale, the fresh test points on top."""
    from viz.plots import compare_boundaries

    titles = []
    gap = in_gap(X_test, y_test)
    for model, sample in zip(models, ["balanced", "biased"]):
        right = float(np.mean(classify(model, X_test[gap]) == 1))
        titles.append(f"trained on the {sample} sample\n{right:.0%} right on test points in the dashed region")
    figure = compare_boundaries(models, titles, X_test, y_test)
    low, high = X_test.min(axis=0) - 0.3, X_test.max(axis=0) + 0.3
    for ax in figure.axes[:len(models)]:
        outline_gap(ax, low, high)
    figure.suptitle("The same classifier, shown fresh test points;\n"
                    "the biased sample had no class-1 points in the dashed region")
    return figure


def outline_gap(ax, low, high) -> None:
    """A dashed box around the region the biased sample left out."""
    from matplotlib.patches import Rectangle

    ax.add_patch(Rectangle((GAP_X1, low[1]), high[0] - GAP_X1, high[1] - low[1], fill=False, linestyle="--",
                           linewidth=1.5, edgecolor="black"))


def samples_side_by_side(X, y, keep):
    """The two training samples over the same limits: all the points, and the same points less the gap's."""
    import viz

    figure = viz.style.new_figure(9.2, 3.9)
    low, high = X.min(axis=0) - 0.3, X.max(axis=0) + 0.3
    for ax, chosen, name in zip(figure.subplots(1, 2), [np.ones(len(X), dtype=bool), keep], ["balanced", "biased"]):
        viz.plot_dataset(X[chosen], y[chosen], ax=ax)
        ax.set_title(f"the {name} sample: {int(chosen.sum())} points", fontsize=11)
        ax.set_aspect("equal", adjustable="box")
        ax.set_xlim(low[0], high[0])
        ax.set_ylim(low[1], high[1])
        if name == "biased":
            outline_gap(ax, low + 0.12, high - 0.12)  # inside the frame, so that all four sides show
    return figure


def write_files(folder, X, y, keep, models, X_test, y_test, table) -> None:
    """bias.png, and report.html telling the comparison: the two samples, the two boundaries, the numbers."""
    import viz
    from viz.report import Chapter, Picture, Table, write_story

    boundaries = viz.save(side_by_side(models, X_test, y_test), folder / "bias.png")
    gap_points = int(in_gap(X_test, y_test).sum())
    chapters = [
        Chapter("Two samples of the same moons", [
            f"Both models are MLP(2, [16, 16, 1]) trained the same way. The balanced sample is all {len(X)} "
            f"points; the biased sample is the same points less the tip of class 1's moon (x1 > {GAP_X1}), "
            f"{int(keep.sum())} points. Nothing in the biased sample says what belongs there.",
            Picture(samples_side_by_side(X, y, keep), "left: every point; right: the class-1 points in the dashed "
                                                      "region removed"),
        ]),
        Chapter("Two boundaries, shown fresh points", [
            f"Both models now classify {len(X_test)} fresh test points, {gap_points} of them in the region the "
            "biased sample left empty (dashed). The biased model extends class 0 into the gap: it never saw "
            "a reason not to. Both panels share one colour scale, so their shades compare.",
            Picture(boundaries, "decision regions of both models over the fresh test points"),
        ]),
        Chapter("The numbers", [
            "Training accuracy cannot reveal the gap: both models reach it on their own sample. Only points "
            "from the region the training data missed show the difference.",
            Table(table),
        ]),
    ]
    write_story(folder / "report.html", "glassgrad: bias", chapters,
                    subtitle="A model learns the gaps in its data: the same classifier on a balanced "
                             "and on a biased sample.")


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
        table = [["model", "train acc", "test acc", "test acc in the gap"]]
        print(f"\n{'':10} {'train acc':>10} {'test acc':>10} {'test acc in the gap':>21}")
        for name, model, history in [("balanced", balanced, balanced_history), ("biased", biased, biased_history)]:
            test = float(np.mean(classify(model, X_test) == y_test))
            in_region = float(np.mean(classify(model, X_test[gap]) == y_test[gap]))
            print(f"{name:10} {history.accuracy[-1]:>10.1%} {test:>10.1%} {in_region:>21.1%}")
            table.append([name, f"{history.accuracy[-1]:.1%}", f"{test:.1%}", f"{in_region:.1%}"])
        print(f"({int(gap.sum())} of the {len(X_test)} test points lie in the gap; both trained in {seconds:.2f} s)")
        if folder is not None:
            write_files(folder, X, y, keep, [balanced, biased], X_test, y_test, table)
        reached = balanced_history.accuracy[-1] >= 1.0
        print(f"target: 100% train accuracy for the balanced model, {'reached' if reached else 'NOT reached'}")
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
