"""Train a tiny GPT on 32,033 names, then look inside it: where it looks, what its letters and neurons mean.

The data are the first names of karpathy's makemore (``nn.load_names``), nine
tenths to learn from and a tenth held out. The model is karpathy's microgpt,
built from glassgrad Values: ``nn.GPT()``, one layer of four attention heads
and an MLP, 4,192 parameters. It reads a name letter by letter and predicts
each next letter; the loss is its mean surprise, -log p of the letter that
really came next, in nats per character. A model that counts which letter
follows which (the bigram baseline) scores about 2.45 on the held-out names;
the GPT, trained by the batched replay for about a minute, about 2.14.

Then the model writes new names, and five pictures open it up: where each
letter looks (the attention maps), where the letters sit in the model's space
(the embeddings), which letter combinations excite each MLP neuron, what it
predicts as a name is typed, and one attention head drawn as a graph of
Values. report.html gathers them, one chapter each.

    python examples/names.py           # --help for the options
    python examples/names.py --scalar --steps 50 --no-pictures

``--scalar`` trains as microgpt does, one name per step on the scalar engine
at a learning rate of 0.01: about 35 ms a step on the busy two-core machine it
was measured on, where a batched step of 256 names takes about 0.2 s. Its
default 300 steps reach a held-out loss of 2.43, microgpt's 1,000 steps 2.36.
"""

from __future__ import annotations

import argparse
import math
import textwrap
from dataclasses import dataclass

import common  # first: puts the project on sys.path for source checkouts
import numpy as np

from nn import (
    GPT,
    CharTokenizer,
    bigram_loss,
    load_names,
    mean_next_token_loss,
    sample_names,
    save_parameters,
    split_names,
    train_on_name_batches,
    train_on_names,
)

# The recipe of nn.train_on_name_batches, measured there: on seeds 0, 1, 2 it reaches a held-out loss of
# 2.140, 2.142 and 2.144 in about a minute on two cores. The scalar path is microgpt's: one name a step.
STEPS = 300
BATCH_SIZE = 256
LEARNING_RATE = 0.05
SCALAR_LEARNING_RATE = 0.01
SEED = 0  # the default seed: which names are held out, the initial weights, the batches, the samples
TARGET = 2.25  # nats per character on the held-out names, the bound for the batched path
TEMPERATURE = 0.5  # microgpt's: below 1, sampling favours the likelier letters
SAMPLES = 20

# What the pictures show. The names are chosen to read well, not from the split: each may be a training name.
ATTENTION_NAMES = ["emma", "olivia", "isabella", "christopher"]
NEXT_LETTER_NAME = "isabella"
HEAD_NAME = "ava"  # three letters: its attention head fits on a page as a graph of Values
SEEN_AT_LEAST = 5  # the neurons' picture lists contexts met at least this often in the held-out names
VOWELS = "aeiou"


@dataclass
class Trained:
    """A trained model and what the demo measured of it."""

    model: GPT
    train_names: list[str]
    test_names: list[str]
    losses: list[float]  # each step's training loss, before its update
    seconds: float  # the wall time of training
    held_out: float  # mean next-letter loss on the test names, in nats per character
    baseline: float  # the bigram count model's, on the same names
    sampled: list[str]
    temperature: float
    scalar: bool

    def recipe(self) -> str:
        if self.scalar:
            return f"{len(self.losses)} steps of one name each on the scalar engine"
        return f"{len(self.losses)} steps of {BATCH_SIZE} names each through the batched replay"

    def names_per_second(self) -> float:
        return len(self.losses) * (1 if self.scalar else BATCH_SIZE) / self.seconds

    def new_names(self) -> list[str]:
        """The sampled names that are not among the training names."""
        seen = set(self.train_names)
        return [name for name in self.sampled if name not in seen]


def fit(model: GPT, train_names: list[str], steps: int, scalar: bool, seed: int, progress: bool = False,
        callback=None) -> list[float]:
    """Train ``model`` by the recipe (batched, or microgpt's scalar one with ``scalar``); each step's loss."""
    if scalar:
        return train_on_names(model, train_names, steps, learning_rate=SCALAR_LEARNING_RATE, callback=callback,
                              progress=progress)
    return train_on_name_batches(model, train_names, steps, batch_size=BATCH_SIZE, learning_rate=LEARNING_RATE,
                                 seed=seed, callback=callback, progress=progress)


def shown(name: str) -> str:
    """A sampled name as printed: the model may end a name before its first letter, which prints as ""."""
    return name or '""'


def print_results(trained: Trained) -> None:
    """The wall time, the held-out loss against the baseline, and the sampled names, new ones counted."""
    print(f"names: {trained.recipe()} in {trained.seconds:.1f} s "
          f"({trained.names_per_second():,.0f} names a second)")
    print(f"held-out loss {trained.held_out:.4f} nats per character; "
          f"the bigram baseline on the same names: {trained.baseline:.4f}")
    print(f"{len(trained.sampled)} names sampled at temperature {trained.temperature:g}:")
    print(textwrap.fill("  ".join(shown(name) for name in trained.sampled), width=78,
                        initial_indent="  ", subsequent_indent="  "))
    new = trained.new_names()
    print(f"{len(new)} of the {len(trained.sampled)} are new, not among the {len(trained.train_names):,} "
          "training names")


# --- what the pictures' numbers say ----------------------------------------------------


READINGS = ('the boundary "."', "earlier letters", "the letter just before", "the letter itself")


def attention_shares(model: GPT, names: list[str]) -> tuple[np.ndarray, np.ndarray, float]:
    """Where each head's attention goes, averaged over every letter from the second on of ``names``.

    Returns (shares, on_vowels, vowel_share): ``shares[h]`` splits head h's
    weights over ``READINGS`` (the four add up to 1); ``on_vowels[h]`` is the
    weight head h gives to vowels; ``vowel_share`` is the share of vowels among
    what those letters may read, which is what a head without preference gives them.
    """
    tokenizer = CharTokenizer()
    shares, on_vowels, vowel_shares = [], [], []
    for name in names:
        tokens = tokenizer.encode_name(name)[:-1]  # what the model reads: the boundary, then the letters
        maps = np.array(model.attention_maps(tokens)[0])  # (head, query, key)
        is_vowel = np.array([symbol in VOWELS for symbol in tokenizer.decode(tokens)])
        for t in range(2, len(tokens)):  # from the second letter on, the four readings are distinct
            weights = maps[:, t, :t + 1]
            shares.append(np.stack([weights[:, 0], weights[:, 1:t - 1].sum(axis=1), weights[:, t - 1],
                                    weights[:, t]], axis=1))
            on_vowels.append(weights[:, is_vowel[:t + 1]].sum(axis=1))
            vowel_shares.append(is_vowel[:t + 1].mean())
    return np.mean(shares, axis=0), np.mean(on_vowels, axis=0), float(np.mean(vowel_shares))


def pairs_sentence(shares: np.ndarray, head: int) -> str:
    """What ``head``, the one that gives the letter just before the most weight, reads."""
    before = shares[head, READINGS.index("the letter just before")]
    itself = shares[head, READINGS.index("the letter itself")]
    sentence = (f"Of the {len(shares)} heads, head {head} gives the letter just before the most weight, {before:.0%}, "
                f"and the letter itself {itself:.0%}")
    return sentence + (": mostly, it reads the last two letters." if before + itself > 0.5 else ".")


def letter_space_sentence(model: GPT) -> str:
    """Which side of PCA direction 1 the vowels take, and who joins them there."""
    import viz

    space = viz.letter_space(model)
    along = dict(zip(space.symbols, space.points[:, 0]))
    side = np.sign(np.mean([along[vowel] for vowel in VOWELS]))
    vowels_there = [vowel for vowel in VOWELS if np.sign(along[vowel]) == side]
    consonants = [symbol for symbol in space.symbols if symbol not in VOWELS and symbol != "."]
    joining = [symbol for symbol in consonants if np.sign(along[symbol]) == side]
    company = (f"{len(joining)} of the {len(consonants)} consonants: {', '.join(joining)}" if joining
               else "no consonant")
    where = "left" if side < 0 else "right"
    boundary = "with them" if np.sign(along["."]) == side else "on the other side"
    apart = len(vowels_there) == len(VOWELS) and len(joining) <= 2  # the vowels, nearly alone on one side
    vowels_counted = "all 5 vowels" if len(vowels_there) == len(VOWELS) else f"{len(vowels_there)} of the 5 vowels"
    sentence = f"Along direction 1, {vowels_counted} lie on the {where} of 0, and with them {company}; the " \
               f"boundary is {boundary}."
    if apart:
        sentence += " Nobody told the model which letters are vowels: it placed them from which letters follow which."
    return sentence


def contexts_sentences(model: GPT, names: list[str]) -> str:
    """What the table of neuron contexts shows: neurons of the start of a name, the strongest, silent ones."""
    import viz

    found = viz.neuron_contexts(model, names, seen_at_least=SEEN_AT_LEAST)
    starters = [j for j, contexts in enumerate(found)
                if len(contexts) >= 3 and all(context.letters.startswith(".") for context in contexts)]
    listed = [(context, j) for j, contexts in enumerate(found) for context in contexts]
    silent = [j for j, contexts in enumerate(found) if not contexts]
    sentences = []
    if starters:
        example = ", ".join(context.letters for context in found[starters[0]])
        sentences.append(f"For {len(starters)} of the {len(found)} neurons, every one of the strongest contexts "
                         f"begins with the boundary: they fire near the start of a name (neuron {starters[0]}: "
                         f"{example}).")
    if listed:
        context, j = max(listed, key=lambda pair: pair[0].output)
        sentences.append(f"The strongest output in the table, {context.output:.2f}, is neuron {j}'s after "
                         f'"{context.letters}" (in "{context.name}").')
    if silent:
        sentences.append(f"For {len(silent)} of the {len(found)} neurons no context is listed: such a neuron fires "
                         "on rarer contexts only, or never (a dead ReLU, which no gradient reaches).")
    return " ".join(sentences)


def next_letter_sentences(trained: Trained, name: str) -> str:
    """What the model expected at each letter of ``name``: its first guesses, its surest one, the end."""
    import viz

    tokenizer = CharTokenizer()
    probabilities = viz.next_letter_probabilities(trained.model, name)
    actual = tokenizer.encode_name(name)[1:]
    right = probabilities[np.arange(len(actual)), actual]
    read = tokenizer.decode(tokenizer.encode_name(name))
    first_guesses = np.argsort(-probabilities[0], kind="stable")[:3]
    said = [symbol if symbol != tokenizer.boundary else "the end" for symbol in tokenizer.symbols]
    guesses = ", ".join(f"{said[token]} {probabilities[0, token]:.0%}" for token in first_guesses)
    surest = int(np.argmax(right[:-1]))  # of the letters; the end comes next
    surprise = float(-np.mean(np.log(right)))
    known = "a training name" if name in set(trained.train_names) else "a name it never trained on"
    return (f"After the boundary alone the model can only guess a first letter (its three likeliest: {guesses}); "
            f'the name\'s own first letter, "{name[0]}", gets {right[0]:.0%}. Its surest right guess is '
            f'"{name[surest]}" after "{read[:surest + 1]}" ({right[surest]:.0%}), and after the whole name it gives '
            f"the end {right[-1]:.0%}. "
            f'Its mean surprise on "{name}", {known}, is {surprise:.2f} nats, against {trained.held_out:.2f} '
            "on the held-out names.")


def head_sentences(model: GPT, name: str, head: int, zero_bias_shown: bool) -> str:
    """The weights that the graph of one head shows, in words."""
    tokens = CharTokenizer().encode_name(name)[:-1]
    read = CharTokenizer().decode(tokens)
    position = len(tokens) - 1
    weights = model.attention_maps(tokens)[0][head][position][:position + 1]
    head_dim = model.n_embd // model.n_head
    split = ", ".join(f'"{symbol}" {weight:.0%}' for symbol, weight in zip(read, weights))
    zero_bias = ('; a "constant 0" is the bias of a weighted sum, which the GPT\'s sums do not use'
                 if zero_bias_shown else "")
    return (f'The head reads "{read}" at its last letter (position {position}). Its query meets the key of each '
            f"letter read so far in a dot product, scaled by 1/sqrt({head_dim}) = {1 / math.sqrt(head_dim):g}; the "
            f"softmax turns the {position + 1} scores into weights adding up to 1 ({split}); the output is the "
            f"values weighted by them. Every box is a Value, with its number, as in the MLP's graphs{zero_bias}. "
            f"A head's output has {head_dim} numbers, each the same weighted sum over another number of the "
            "values: the graph draws number 0.")


# --- the pictures and the report ------------------------------------------------


def draw_losses(trained: Trained):
    """Each step's training loss, with the held-out loss and the two baselines it is measured against."""
    from viz.style import NEGATIVE, PAGE_WIDTH, POSITIVE, new_figure

    figure = new_figure(PAGE_WIDTH * 0.8, 3.4)
    ax = figure.add_subplot()
    steps = np.arange(1, len(trained.losses) + 1)
    ax.plot(steps, trained.losses, color="#2c3e50", linewidth=1.2, label="each step's training names")
    lines = ((math.log(CharTokenizer().vocab_size), "#8a949b", ":", "guessing among the 27 symbols"),
             (trained.baseline, NEGATIVE, "--", "the bigram baseline, held-out names"),
             (trained.held_out, POSITIVE, "-", "the trained GPT, held-out names"))
    for level, colour, style, label in lines:
        ax.axhline(level, color=colour, linestyle=style, linewidth=1.6, label=f"{label}: {level:.2f}")
    ax.set_xlabel("training step", fontsize=9)
    ax.set_ylabel("loss (nats per character)", fontsize=9)
    ax.tick_params(labelsize=8)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="center right", framealpha=0.9)  # clear of the curve, which falls fast
    ax.set_title(f"Training: {trained.recipe()}", fontsize=10)
    return figure


def write_files(folder, trained: Trained) -> None:
    """Every picture as a file, and report.html telling them in order, one chapter per picture."""
    import viz
    from viz.report import write_story

    model = trained.model
    attention = attention_shares(model, ATTENTION_NAMES)
    head = int(np.argmax(attention[0][:, READINGS.index("the letter just before")]))  # the graph's head
    pictures = {  # what the report calls each picture: its file, drawn now (the report embeds the file)
        "training": viz.save(draw_losses(trained), folder / "training.png"),
        "attention": folder / "attention_maps.png",
        "letters": folder / "letter_space.png",
        "neurons": folder / "neuron_contexts.png",
        "next": folder / "next_letter.png",
    }
    viz.draw_attention_maps(model, ATTENTION_NAMES, path=pictures["attention"])
    viz.draw_letter_space(model, path=pictures["letters"])
    viz.draw_neuron_contexts(model, trained.test_names, seen_at_least=SEEN_AT_LEAST, path=pictures["neurons"])
    viz.draw_next_letter(model, NEXT_LETTER_NAME, path=pictures["next"])
    graph = viz.draw_attention_head(model, HEAD_NAME, head=head)
    pictures["head"] = common.write_graph(graph, folder / "attention_head")[0]
    zero_bias_shown = "constant 0" in graph.source
    write_story(folder / "report.html", "glassgrad: names",
                chapters(pictures, trained, attention, head, zero_bias_shown),
                subtitle="A tiny GPT built from Values, trained on 32,033 names, writing new ones, opened up.")


def chapters(pictures: dict, trained: Trained, attention: tuple, head: int, zero_bias_shown: bool) -> list:
    """The report's story: the training and the new names, then one chapter per picture.

    ``attention``: what ``attention_shares`` says of the attention maps' names; ``head``: the head drawn
    as a graph; ``zero_bias_shown``: whether that graph draws the zero bias of its weighted sums.
    """
    from viz.report import Chapter, Picture, Table

    model = trained.model
    shares, on_vowels, vowel_share = attention
    vowel_seeker = int(np.argmax(on_vowels))
    new = trained.new_names()
    learning_rate = SCALAR_LEARNING_RATE if trained.scalar else LEARNING_RATE
    attention_table = [["head", *READINGS, "vowels, all told"]]
    attention_table += [[str(h), *(f"{share:.0%}" for share in shares[h]), f"{on_vowels[h]:.0%}"]
                        for h in range(model.n_head)]
    return [
        Chapter("The names and the training", [
            f"32,033 first names, {len(trained.train_names):,} to learn from and {len(trained.test_names):,} held "
            "out. The model reads a name as the boundary \".\", then its letters (27 symbols in all), and at "
            "every position predicts the next one, the last prediction being the boundary that ends the name. "
            "Its loss is the mean surprise, -log p of the letter that really came next. The model, "
            f"{model!r}, is karpathy's microgpt: one layer of four attention heads and an MLP, every number "
            "in it a Value.",
            f"Training: {trained.recipe()}, Adam (betas 0.85, 0.99) at a learning rate of {learning_rate} falling "
            f"to 0, in {trained.seconds:.0f} s ({trained.names_per_second():,.0f} names a second).",
            Table([["model", "held-out loss, nats per character"],
                   ["guessing among the 27 symbols", f"{math.log(CharTokenizer().vocab_size):.4f}"],
                   ["bigram counts: each letter from the one before", f"{trained.baseline:.4f}"],
                   ["this GPT", f"{trained.held_out:.4f}"]]),
            Picture(pictures["training"], "each step's training loss, and the held-out losses after training"),
            f"{len(trained.sampled)} names sampled at temperature {trained.temperature:g}: "
            f"{', '.join(shown(name) for name in trained.sampled)}. {len(new)} of them are new, not among the "
            f"training names{': ' + ', '.join(shown(name) for name in new) if new else ''}.",
        ]),
        Chapter("Where each letter looks", [
            "Attention is where a letter reads the letters before it. Each grid is one head on one name: row t "
            "is the letter doing the reading, its cells the weight it gives each letter read so far, adding up "
            "to 1. The hatched cells are later letters, which the model may not read at all. Averaged over "
            "every letter from the second on of these four names, the heads share out their attention like "
            "this:",
            Table(attention_table),
            pairs_sentence(shares, head) + f" Head {vowel_seeker} gives vowels the most, "
            f"{on_vowels[vowel_seeker]:.0%}, where a head without preference would give them {vowel_share:.0%} "
            "(their share of what these letters may read).",
            Picture(pictures["attention"], "the attention weights of the four heads on four names"),
        ]),
        Chapter("Letters in space", [
            f"The embedding table wte gives each of the 27 symbols {model.n_embd} numbers, learnt with the rest "
            "of the model. Seen along the two directions in which the embeddings differ most (a PCA), letters "
            "the model treats alike sit close together. " + letter_space_sentence(model),
            Picture(pictures["letters"], "the 27 token embeddings along their two largest directions"),
        ]),
        Chapter("Neurons that read letter combinations", [
            f"Each row is one of the {4 * model.n_embd} neurons of the MLP block, each cell a context (the last "
            "three letters read, \".\" the boundary) where the neuron's output was among its largest, in "
            f"the {len(trained.test_names):,} held-out names; contexts met fewer than {SEEN_AT_LEAST} times are left "
            "out, since a rare letter excites many neurons once. " + contexts_sentences(model, trained.test_names),
            Picture(pictures["neurons"], "the contexts that excite each MLP neuron most"),
        ]),
        Chapter("The next letter", [
            f'As "{NEXT_LETTER_NAME}" is typed, each column is the model\'s prediction after reading that much: '
            "a probability for each letter and for the end. The boxed cell is the letter that really came next. "
            + next_letter_sentences(trained, NEXT_LETTER_NAME),
            Picture(pictures["next"], f'the next-letter probabilities as "{NEXT_LETTER_NAME}" is typed'),
        ]),
        Chapter("One attention head as a graph of Values", [
            f"Head {head} (the one that reads the letter just before most), drawn as the engine computes it: "
            "nn.gpt.attention_head, the code the model runs, builds this graph from the head's query, keys "
            "and values. "
            + head_sentences(model, HEAD_NAME, head, zero_bias_shown),
            Picture(pictures["head"], f'attention head {head} at the last letter of "{HEAD_NAME}"'),
        ]),
    ]


# --- the command line ---------------------------------------------------------------


def _temperature(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0.0 < value < math.inf:
        raise argparse.ArgumentTypeError(f"expected a temperature above 0, such as 0.5, got {text!r}")
    return value


def _samples(text: str) -> int:
    return common.whole_number(text, 1, math.inf, "a positive number of names")


def make_parser() -> argparse.ArgumentParser:
    parser = common.parser(
        __doc__.splitlines()[0], steps=STEPS, seed=SEED,
        steps_help=f"training steps: each a batch of {BATCH_SIZE} names, or one name with --scalar",
        scalar_help="train as microgpt does: one name per step on the scalar engine at a learning rate of "
                    f"{SCALAR_LEARNING_RATE}, about 35 ms a step on two busy cores, where the batched replay "
                    f"learns from {BATCH_SIZE} names in about 0.2 s (the default 300 steps: about 10 s, held-out "
                    "loss 2.43; microgpt's --steps 1000: about 36 s, 2.36)")
    parser.add_argument("--temperature", type=_temperature, default=TEMPERATURE,
                        help="sampling temperature: below 1 favours the likelier letters (default: %(default)s)")
    parser.add_argument("--samples", type=_samples, default=SAMPLES,
                        help="how many new names to sample (default: %(default)s)")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = make_parser()
    args = parser.parse_args(argv)
    with common.Run("names", args, parser) as run:
        train_names, test_names = split_names(load_names(), seed=args.seed)
        print(f"{len(train_names):,} training names, {len(test_names):,} held out (seed {args.seed})")
        model = GPT(seed=args.seed)
        print(model)
        timer = common.Timer()
        losses = fit(model, train_names, args.steps, args.scalar, args.seed, progress=not args.quiet,
                     callback=run.count_step)
        seconds = timer.seconds
        trained = Trained(model, train_names, test_names, losses, seconds,
                          held_out=mean_next_token_loss(model, test_names),
                          baseline=bigram_loss(train_names, test_names),
                          sampled=sample_names(model, args.samples, args.temperature, seed=args.seed),
                          temperature=args.temperature, scalar=args.scalar)
        print_results(trained)
        if run.folder is not None:
            write_files(run.folder, trained)
            save_parameters(model, run.folder / "parameters.json")
        reached = trained.held_out <= TARGET
        print(f"target: held-out loss at most {TARGET} nats per character, {'reached' if reached else 'NOT reached'}")
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
