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
and report.html tells the same story on one page, followed by what the story
leaves out (the data, sensitivity, unit health, the hardest point's graph).

    python examples/inside.py           # --help for the options
"""

from __future__ import annotations

import common  # first: puts the project on sys.path for source checkouts

from nn import MLP, Adam, make_moons, train


class Story:
    """Prints each chapter and keeps it, with its pictures, for story.md and the report."""

    def __init__(self, folder) -> None:
        self.folder = folder
        self.chapters: list[tuple[str, list]] = []  # (title, parts); a part is a paragraph or (path, caption)

    def say(self, text: str) -> None:
        print(text)
        self.chapters[-1][1].append(text)

    def chapter(self, title: str) -> None:
        print(f"\n== {title} ==")
        self.chapters.append((title, []))

    def picture(self, path, caption: str) -> None:
        if path is not None and str(path).endswith((".png", ".svg")):
            self.chapters[-1][1].append((path, caption))

    def draw(self, name: str, caption: str, make) -> None:
        """Save the figure ``make(viz)`` returns as ``name`` and tell it, unless pictures are off."""
        if self.folder is not None:
            import viz

            self.picture(viz.save(make(viz), self.folder / name), caption)

    def report_chapters(self) -> list:
        """The chapters as the report takes them."""
        from viz.report import Chapter, Picture

        return [Chapter(title, [Picture(*part) if isinstance(part, tuple) else part for part in parts])
                for title, parts in self.chapters]

    def save(self) -> None:
        if self.folder is None:
            return
        lines = ["# Inside a network, step by step", ""]
        for title, parts in self.chapters:
            lines += [f"## {title}", ""]
            for part in parts:
                if isinstance(part, tuple):
                    path, caption = part
                    lines += [f"![{caption}]({path.name})", f"*{caption}*", ""]
                else:
                    lines += [part, ""]
        (self.folder / "story.md").write_text("\n".join(lines))


# the report's own sections that the story does not already tell
REPORT_SECTIONS = ("The data", "What the output is sensitive to", "Unit health",
                   "One sample through the network, forward and backward")


def untrained(story: Story, model: MLP, X, y, point, label: int) -> None:
    story.chapter("1. The untrained network")
    story.say(f"{model}. Information flows left to right: each neuron multiplies its inputs by its "
              "weights, adds its bias and squashes the sum with tanh; its output feeds every neuron "
              "of the next layer. The weights start random (uniform in [-1, 1]), so the network's "
              "answers are random too.")
    weights = [abs(p.data) for p in model.parameters()]
    story.say(f"Its {len(weights)} parameters have mean size {sum(weights) / len(weights):.2f}. "
              f"For the point ({point[0]:.2f}, {point[1]:.2f}) of class {label} it outputs "
              f"a score of {model(list(point)).data:+.3f} (positive means class 1).")
    story.draw("1_untrained_network.png", "The untrained network: weights as edges (blue positive, orange "
               "negative), biases still 0 (grey squares), neurons filled with their output for one point",
               lambda viz: viz.draw_mlp(model, x=point))
    story.draw("1_untrained_boundary.png", "Its decision regions before training: no relation to the data yet",
               lambda viz: viz.decision_boundary(model, X, y))


def one_prediction(story: Story, model: MLP, point, label: int) -> None:
    story.chapter("2. One prediction, its loss, and the error flowing back")
    loss = common.point_graph(model, point, label, "hinge")
    story.say(f"The hinge loss max(0, 1 - y*score) for this point is {loss.data:.3f}. "
              "loss.backward() walks the graph from the loss back to the inputs, multiplying local "
              "derivatives along the way (the chain rule), and leaves in every weight's .grad how "
              "much the loss would change if that weight grew a little.")
    largest = sorted(model.parameters(), key=lambda p: -abs(p.grad))[:3]
    story.say("The weights this point blames most: "
              + ", ".join(f"{p.label} (grad {p.grad:+.3f})" for p in largest) + ".")
    if story.folder is not None:
        graph = common.draw_graph(loss, story.folder / "2_one_prediction_graph", collapse_neurons=True,
                                  shade="grad", title="one point's loss after backward")
        story.picture(graph[0], "The graph of one prediction: each neuron one box, shaded by its gradient")
    model.zero_grad()


def training(story: Story, model: MLP, X, y, args, run: common.Run):
    """Train, and tell it; returns the history and the seconds it took."""
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
    story.draw("3_training_curves.png", "Loss and accuracy at every step", lambda viz: viz.training_curves(history))
    return history, seconds


def trained(story: Story, model: MLP, X, y, point, label: int) -> None:
    story.chapter("4. The trained network")
    loss = common.point_graph(model, point, label, "hinge")
    margin = ("with a margin of at least 1 on the right side, the hinge loss is 0 and sends no gradient "
              "back at all." if loss.data == 0 else "its margin is still under 1, so it still sends "
              "gradient back, less than before.")
    story.say(f"The same point now scores {model(list(point)).data:+.3f} and its loss is {loss.data:.4f}: "
              + margin)
    model.zero_grad()
    story.draw("4_trained_network.png", "The trained network: larger, more decided weights",
               lambda viz: viz.draw_mlp(model, x=point, health=viz.unit_health(model, X)))
    story.draw("4_trained_boundary.png", "The decision regions now follow the moons",
               lambda viz: viz.decision_boundary(model, X, y))
    story.draw("4_neuron_maps.png", "What each neuron responds to over the input plane: the first layer "
               "draws soft lines, the second combines them into curved shapes",
               lambda viz: viz.neuron_maps(model, X, y))
    story.say("Each first-layer neuron can only draw one soft line across the plane (tanh of a "
              "weighted sum); the second layer adds and bends those lines into curved regions, "
              "and the output weighs those regions into the final boundary: features becoming "
              "abstractions.")


def main(argv: list[str] | None = None) -> int:
    parser = common.parser(__doc__.splitlines()[0], steps=150)
    args = parser.parse_args(argv)
    with common.Run("inside", args, parser) as run:
        story = Story(run.folder)
        X, y = make_moons(n=100, noise=0.1, seed=args.seed)
        model = MLP(2, [8, 8, 1], activation="tanh", seed=args.seed)
        point, label = X[0], int(y[0])
        untrained(story, model, X, y, point, label)
        one_prediction(story, model, point, label)
        history, seconds = training(story, model, X, y, args, run)
        trained(story, model, X, y, point, label)
        if run.folder is not None:
            from viz.report import write_report

            write_report(run.folder / "report.html", model, X, y, history, title="glassgrad: inside",
                         story=story.report_chapters(), sections=REPORT_SECTIONS)
        story.save()
        common.report("inside", history, seconds)
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
