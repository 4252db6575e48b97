"""What happens inside a neural network while it learns, step by step, in words and pictures.

The story, on two interleaving moons and an MLP(2, [8, 8, 1]) with tanh:

1. the untrained network: its layers, its random weights, what it does to one point;
2. one prediction: the score, the loss, and the error flowing back through the
   graph to every weight (the computation graph of that one point);
3. training: many small steps against the gradient;
4. the trained network: the same point again, the decision boundary, and what
   each layer's neurons now respond to (early layers draw lines, later layers
   combine them into shapes).

Every step prints what it shows and writes a picture; story.md ties them together,
and report.html shows the whole run on one page.

    python examples/inside.py           # --help for the options
"""

from __future__ import annotations

import common  # first: puts the project on sys.path for source checkouts

from nn import MLP, Adam, make_moons, train


class Story:
    """Prints each chapter and keeps it, with its pictures, for story.md."""

    def __init__(self, folder) -> None:
        self.folder = folder
        self.lines: list[str] = ["# Inside a network, step by step", ""]

    def say(self, text: str) -> None:
        print(text)
        self.lines += [text, ""]

    def chapter(self, title: str) -> None:
        print(f"\n== {title} ==")
        self.lines += [f"## {title}", ""]

    def picture(self, path, caption: str) -> None:
        if path is not None and str(path).endswith((".png", ".svg")):
            self.lines += [f"![{caption}]({path.name})", f"*{caption}*", ""]

    def save(self) -> None:
        if self.folder is not None:
            (self.folder / "story.md").write_text("\n".join(self.lines))


def main(argv: list[str] | None = None) -> int:
    parser = common.parser(__doc__.splitlines()[0], steps=150)
    args = parser.parse_args(argv)
    with common.Run("inside", args, parser) as run:
        folder = run.folder
        pictures = folder is not None
        if pictures:
            import viz
        story = Story(folder)
        X, y = make_moons(n=100, noise=0.1, seed=args.seed)
        model = MLP(2, [8, 8, 1], activation="tanh", seed=args.seed)
        point, label = X[0], int(y[0])

        story.chapter("1. The untrained network")
        story.say(f"{model}. Information flows left to right: each neuron multiplies its inputs by its "
                  "weights, adds its bias and squashes the sum with tanh; its output feeds every neuron "
                  "of the next layer. The weights start random (uniform in [-1, 1]), so the network's "
                  "answers are random too.")
        weights = [abs(p.data) for p in model.parameters()]
        story.say(f"Its {len(weights)} parameters have mean size {sum(weights) / len(weights):.2f}. "
                  f"For the point ({point[0]:.2f}, {point[1]:.2f}) of class {label} it outputs "
                  f"a score of {model(list(point)).data:+.3f} (positive means class 1).")
        if pictures:
            story.picture(viz.save(viz.draw_mlp(model, x=point), folder / "1_untrained_network.png"),
                          "The untrained network: weights as edges (blue positive, orange negative), "
                          "neurons filled with their output for one point")
            story.picture(viz.save(viz.decision_boundary(model, X, y), folder / "1_untrained_boundary.png"),
                          "Its decision regions before training: no relation to the data yet")

        story.chapter("2. One prediction, its loss, and the error flowing back")
        loss = common.point_graph(model, point, label, "hinge")
        story.say(f"The hinge loss max(0, 1 - y*score) for this point is {loss.data:.3f}. "
                  "loss.backward() walks the graph from the loss back to the inputs, multiplying local "
                  "derivatives along the way (the chain rule), and leaves in every weight's .grad how "
                  "much the loss would change if that weight grew a little.")
        largest = sorted(model.parameters(), key=lambda p: -abs(p.grad))[:3]
        story.say("The weights this point blames most: "
                  + ", ".join(f"{p.label} (grad {p.grad:+.3f})" for p in largest) + ".")
        if pictures:
            for path in common.draw_graph(loss, folder / "2_one_prediction_graph", collapse_neurons=True,
                                          shade="grad", title="one point's loss after backward"):
                story.picture(path, "The graph of one prediction: each neuron one box, shaded by its gradient")
        model.zero_grad()

        story.chapter("3. Training")
        story.say(f"Now {args.steps} steps of Adam on all 100 points: forward, loss, backward, and a small "
                  "move of every weight against its gradient.")
        timer = common.Timer()
        history = train(model, X, y, loss="hinge", optimizer=Adam(model.parameters(), lr=0.05),
                        steps=args.steps, batched=not args.scalar, progress=not args.quiet,
                        callback=run.count_step)
        seconds = timer.seconds
        story.say(f"After the first step the loss was {history.loss[0]:.3f} and the accuracy "
                  f"{history.accuracy[0]:.0%}; after the last, {history.loss[-1]:.4f} and "
                  f"{history.accuracy[-1]:.1%}, {seconds:.2f} s later.")
        if pictures:
            story.picture(viz.save(viz.training_curves(history), folder / "3_training_curves.png"),
                          "Loss and accuracy at every step")

        story.chapter("4. The trained network")
        loss = common.point_graph(model, point, label, "hinge")
        story.say(f"The same point now scores {model(list(point)).data:+.3f} and its loss is {loss.data:.4f}: "
                  "with a margin of at least 1 on the right side, the hinge loss is 0 and sends no "
                  "gradient back at all.")
        model.zero_grad()
        if pictures:
            story.picture(viz.save(viz.draw_mlp(model, x=point, health=viz.unit_health(model, X)),
                                   folder / "4_trained_network.png"),
                          "The trained network: larger, more decided weights")
            story.picture(viz.save(viz.decision_boundary(model, X, y), folder / "4_trained_boundary.png"),
                          "The decision regions now follow the moons")
            story.picture(viz.save(viz.neuron_maps(model, X, y), folder / "4_neuron_maps.png"),
                          "What each neuron responds to over the input plane: the first layer draws "
                          "soft lines, the second combines them into curved shapes")
            story.picture(viz.write_report(folder / "report.html", model, X, y, history, title="glassgrad: inside"),
                          "The whole run on one page")
        story.say("Each first-layer neuron can only draw one soft line across the plane (tanh of a "
                  "weighted sum); the second layer adds and bends those lines into curved regions, "
                  "and the output weighs those regions into the final boundary: features becoming "
                  "abstractions.")
        story.save()
        common.report("inside", history, seconds)
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
