"""Train a network on real handwritten digits, then look inside it: what each layer sees.

The data are 1,797 handwritten digits of 8x8 pixels (``nn.load_digits``),
three quarters to train on and a quarter held out, split so that every digit is
as common in both parts. The network, MLP(64, [32, 10]), reads the 64 pixels,
has 32 ReLU neurons, and gives 10 scores, one per digit; it learns with
softmax cross-entropy and Adam, and gets at least 97% of the held-out digits
right. A deeper MLP(64, [32, 16, 10]) is trained the same way, to follow one
digit through two hidden layers.

Then the pictures, each a way to open the black box: what the first layer
looks for (its weights as images), which digits excite each neuron, what the
network imagines a digit looks like, why it gave one answer (saliency and
occlusion), one digit followed layer by layer, and which digits it confuses.
report.html gathers them, one chapter each.

    python examples/digits.py           # --help for the options
    python examples/digits.py --scalar --steps 5 --no-pictures

``--scalar`` gives the same numbers from one scalar graph per digit: about 6 s
a step on the two-core machine it was measured on, where the batched replay
takes about 0.01 s, so a few steps are enough to watch it work.
"""

from __future__ import annotations

import common  # first: puts the project on sys.path for source checkouts
import numpy as np

from nn import (
    MLP,
    Adam,
    History,
    classify,
    layer_outputs,
    load_digits,
    predict,
    save_parameters,
    train,
    train_test_split,
)

# The recipe, found by measurement and used by the tests too. On seeds 0-4 (each its own split and
# initial weights) MLP(64, [32, 10]) gets 97.1%, 98.2%, 98.2%, 98.7% and 98.4% of the held-out digits
# right, each trained in 3 to 6 s on two busy cores. The first weights start small (init="fan_in"): from
# micrograd's [-1, 1], the trained first-layer weights still correlate 0.54 with their random start, so
# their pictures show much of that noise; from fan_in, 0.15. The L2 penalty fades the weights of pixels that
# never help (the nearly always blank edges) towards 0.
HIDDEN = [32]  # one hidden layer: the model of the pictures
DEEPER_HIDDEN = [32, 16]  # two: the model of the layers story
TEST_FRACTION = 0.25
STEPS = 300  # full-batch: every step sees all the training digits
LEARNING_RATE = 0.03
L2 = 3e-4
SEED = 0  # the default seed: which digits are held out, and the initial weights
TARGET = 0.97  # held-out accuracy of MLP(64, [32, 10]) on the default seed


def split_digits(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(X_train, X_test, y_train, y_test): the digits split 75/25 by ``seed``, each class in proportion."""
    X, y = load_digits()
    return train_test_split(X, y, TEST_FRACTION, seed=seed, stratify=True)


def new_model(hidden: list[int], seed: int) -> MLP:
    """An untrained MLP from 64 pixels through ``hidden`` to 10 digit scores."""
    return MLP(64, hidden + [10], seed=seed, init="fan_in")


def fit(model: MLP, split: tuple, steps: int = STEPS, scalar: bool = False, progress: bool = False,
        callback=None) -> History:
    """Train ``model`` by the recipe on the split's training digits, recording the held-out ones too."""
    X_train, X_test, y_train, y_test = split
    return train(model, X_train, y_train, loss="softmax", optimizer=Adam(model.parameters(), lr=LEARNING_RATE),
                 l2=L2, steps=steps, X_test=X_test, y_test=y_test, batched=not scalar, progress=progress,
                 callback=callback)


def held_out_line(name: str, model: MLP, split: tuple) -> str:
    """How many held-out digits ``model`` gets right, as a count and a percentage."""
    _, X_test, _, y_test = split
    right = int(np.sum(classify(model, X_test) == y_test))
    return f"{name}: {right} of {len(y_test)} held-out digits right ({right / len(y_test):.1%})"


def followed_digit(model: MLP, split: tuple) -> int:
    """The held-out digit the layers story follows: the first one ``model`` gets right (else the first)."""
    _, X_test, _, y_test = split
    right = np.flatnonzero(classify(model, X_test) == y_test)
    return int(right[0]) if len(right) else 0


def silent_neurons(model: MLP, X: np.ndarray) -> list[str]:
    """The first-layer neurons that are 0 on every image of ``X``: dead ReLUs, which nothing can teach."""
    outputs = layer_outputs(model, X)[0]
    return [neuron.label for j, neuron in enumerate(model.layers[0].neurons) if not outputs[:, j].any()]


def neurons_for_several_digits(model: MLP, X: np.ndarray, y: np.ndarray, top: int = 6) -> int:
    """How many first-layer neurons have more than one digit among the ``top`` images of X exciting them most."""
    outputs = layer_outputs(model, X)[0]
    strongest = np.argsort(-outputs, axis=0, kind="stable")[:top]
    return sum(len(set(y[strongest[:, j]])) > 1 for j in range(outputs.shape[1]) if outputs[:, j].any())


def second_guesses_right(model: MLP, X: np.ndarray, y: np.ndarray) -> tuple[int, int]:
    """(how many of the mistakes have the right digit as their second guess, how many mistakes)."""
    ranked = np.argsort(-predict(model, X), axis=1, kind="stable")
    wrong = ranked[:, 0] != y
    return int(np.sum(ranked[wrong, 1] == y[wrong])), int(np.sum(wrong))


def write_files(folder, model: MLP, history: History, deeper: MLP, deeper_history: History, split: tuple,
                seed: int) -> None:
    """Every picture as a PNG, and report.html telling them in order, one chapter per picture."""
    import viz
    from viz.report import write_story

    _, X_test, _, y_test = split
    follow = followed_digit(deeper, split)
    drawings = [  # the report's pictures: what it calls each, its file, how to draw it there
        ("training", "training_curves.png", lambda path: viz.save(viz.training_curves(history), path)),
        ("weights", "weight_images.png", lambda path: viz.draw_weight_images(model, path=path)),
        ("examples", "top_examples.png", lambda path: viz.draw_top_examples(model, X_test, y_test, path=path)),
        ("classes", "imagined_digits.png", lambda path: viz.draw_imagined(model, kind="class", path=path)),
        ("neurons", "imagined_neurons.png", lambda path: viz.draw_imagined(model, kind="neuron", path=path)),
        ("why", "explanations.png", lambda path: viz.draw_explanations(model, X_test, y_test, path=path)),
        ("layers", "layers_story.png",
         lambda path: viz.draw_layers_story(deeper, X_test[follow], label=int(y_test[follow]), path=path)),
        ("confusion", "confusion.png", lambda path: viz.draw_confusion(model, X_test, y_test, path=path)),
        ("mistakes", "misclassified.png", lambda path: viz.draw_misclassified(model, X_test, y_test, path=path)),
    ]
    pictures = {}
    for key, name, draw in drawings:
        draw(folder / name)
        pictures[key] = folder / name  # the report embeds the file, so each picture is drawn once
    write_story(folder / "report.html", "glassgrad: digits",
                chapters(pictures, model, history, deeper, deeper_history, split, seed),
                subtitle="A network trained on real handwritten digits, opened up layer by layer.")


def chapters(pictures: dict, model: MLP, history: History, deeper: MLP, deeper_history: History, split: tuple,
             seed: int) -> list:
    """The report's story: the training, then one chapter per picture, in the order a reader asks."""
    from viz.report import Chapter, Picture, Table

    X_train, X_test, _, y_test = split
    silent = silent_neurons(model, X_train)
    silent_note = (f" {', '.join(silent)} {'is' if len(silent) == 1 else 'are'} 0 on every training digit (a dead "
                   "ReLU: no gradient flows through it, so it never learns) and stays flat grey."
                   if silent else "")
    rescued, mistakes = second_guesses_right(model, X_test, y_test)
    shared = neurons_for_several_digits(model, X_test, y_test)
    table = [["model", "parameters", "train accuracy", "held-out accuracy"]]
    for trained, trained_history in ((model, history), (deeper, deeper_history)):
        table.append([f"MLP({trained.nin}, {trained.sizes[1:]})",
                      str(trained.num_parameters()), f"{trained_history.accuracy[-1]:.1%}",
                      f"{trained_history.test_accuracy[-1]:.1%}"])
    return [
        Chapter("The digits and the training", [
            f"1,797 handwritten digits, each 8x8 pixels of ink from 0 (paper) to 1 (full ink): {len(X_train):,} to "
            f"learn from and {len(X_test)} held out, never trained on, split by seed {seed} so that each digit "
            "is as common in both parts. The network reads the 64 pixels as 64 numbers; it is never told they "
            "form an image.",
            f"Both models learn by softmax cross-entropy with Adam (learning rate {LEARNING_RATE}), an L2 "
            f"penalty of {L2:g} on every parameter, {len(history)} steps that each see all the training digits.",
            Table(table),
            Picture(pictures["training"], "loss and accuracy after each step of MLP(64, [32, 10]): training "
                                          "digits solid, held-out digits dashed"),
        ]),
        Chapter("What the first layer learned", [
            "Each first-layer neuron adds up the 64 pixels, each times its own weight. Drawn in the pixels' "
            "places, the weights show what the neuron looks for: ink on a blue pixel raises it, ink on an "
            "orange pixel lowers it. Nobody told it about strokes; these shapes are what helped it tell the "
            "digits apart. The left and right edges are almost always blank paper, so their weights get "
            "almost no gradient, and the L2 penalty fades them to grey." + silent_note,
            Picture(pictures["weights"], "the first layer's weights, one 8x8 tile per neuron"),
        ]),
        Chapter("What excites each neuron", [
            "A weight image says what a neuron looks for; the held-out digits that make it fire most say what "
            f"it finds. For {shared} of the {model.sizes[1]} neurons these are not all the same digit: a neuron "
            "answers to strokes that several digits share, and no single neuron decides. The last layer "
            "weighs them all together.",
            Picture(pictures["examples"], "each neuron's weights beside the held-out digits that excite it most"),
        ]),
        Chapter("What the network imagines a digit looks like", [
            "Start from a grey image and change its pixels, step by step, along the gradient of one class's "
            "score: the image the network likes most for that class appears. Left alone, the climb finds "
            "noise that happens to score high, so it is held to real ink (0..1), penalised for ink it does not "
            "need and for ragged strokes, and jittered at each step (the picture's title names each term).",
            Picture(pictures["classes"], "the image that raises each digit's score most"),
        ]),
        Chapter("What each neuron imagines", [
            "The same climb for each first-layer neuron instead of a class: the input that makes it fire most. "
            "The weight image says which pixels the neuron weighs and how much; this says what ink it wants "
            "to see, within the same penalties: a stroke here, blank paper there.",
            Picture(pictures["neurons"], "the image that makes each first-layer neuron fire most"),
        ]),
        Chapter("Why this answer", [
            "Two ways to ask which pixels an answer rests on. Saliency is the gradient of the answer's score "
            "with respect to each pixel: how the score would lean if that pixel changed a little. Occlusion "
            "greys out a small patch and measures how much the answer's probability drops: what it rests on "
            "now. They often agree; where they do not, the gradient's local view and the patch's blunt one "
            "tell different stories, as on the mistakes.",
            Picture(pictures["why"], "saliency and occlusion for right and wrong answers on held-out digits"),
        ]),
        Chapter("From pixels to an answer, layer by layer", [
            f"The deeper MLP(64, [32, 16, 10]) gets {deeper_history.test_accuracy[-1]:.1%} of the held-out "
            "digits right. Follow one digit through it: the first-layer neurons it excites most (each drawn by "
            "its weights), the second layer combining them, and the probability of each digit at the end.",
            Picture(pictures["layers"], "one held-out digit followed through MLP(64, [32, 16, 10])"),
        ]),
        Chapter("Which digits are mistaken for which", [
            "Each row is a true digit, each column the network's answer: the diagonal holds the right answers, "
            "everything else is a mistake, and which pairs get confused says what the network finds alike.",
            Picture(pictures["confusion"], "the confusion matrix of MLP(64, [32, 10]) on the held-out digits"),
        ]),
        Chapter("The mistakes", [
            f"Every held-out digit the network gets wrong, with its two best guesses. For {rescued} of the "
            f"{mistakes} the second guess is the right digit, and some of these a person would hesitate over too.",
            Picture(pictures["mistakes"], "the misclassified held-out digits and the network's two best guesses"),
        ]),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = common.parser(__doc__.splitlines()[0], steps=STEPS, seed=SEED)
    args = parser.parse_args(argv)
    with common.Run("digits", args, parser, total_steps=2 * args.steps) as run:  # two models trained in turn
        split = split_digits(args.seed)
        print(f"{len(split[0])} training digits, {len(split[1])} held out (seed {args.seed})")
        trained = []
        for name, hidden in (("digits", HIDDEN), ("digits, deeper", DEEPER_HIDDEN)):
            model = new_model(hidden, args.seed)
            print(model)
            timer = common.Timer()
            history = fit(model, split, args.steps, args.scalar, progress=not args.quiet, callback=run.count_step)
            common.report(name, history, timer.seconds)
            print(held_out_line(name, model, split))
            trained += [model, history]
        if run.folder is not None:
            write_files(run.folder, *trained, split, args.seed)
            save_parameters(trained[0], run.folder / "parameters.json")
        reached = trained[1].test_accuracy[-1] >= TARGET
        print(f"target: {TARGET:.0%} held-out accuracy for MLP(64, {HIDDEN + [10]}), "
              f"{'reached' if reached else 'NOT reached'}")
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
