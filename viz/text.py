"""Pictures of a language model on text: where a tiny GPT looks, where it puts letters, what it predicts.

The other pictures of ``viz`` show networks on points and on images. Here the
model is an ``nn.GPT`` that reads names letter by letter (``nn.CharTokenizer``:
the letters a-z, and the boundary "." that starts and ends a name), and the
pictures open it up:

- ``draw_attention_maps``: where each letter looks: every head's attention
  weights as a grid, the letter reading by the letter read, for a few names;
- ``draw_letter_space``: the token embeddings (the rows of ``wte``) along
  their two directions of largest spread (``letter_space``, a PCA);
- ``draw_neuron_contexts``: for every MLP neuron, the last few letters that
  excite it most (``neuron_contexts``);
- ``draw_next_letter``: as a name is typed, the probability of every letter
  that could come next (``next_letter_probabilities``);
- ``draw_attention_head``: one head's computation on a short name as a graph
  of Values (``viz.graph.draw_dot``): query, keys, values, scores, softmax and
  the weighted sum.

The model reads a name as the boundary and then its letters (".emma"): at
each position it has read that much and predicts what comes next, the last
position predicting the boundary that ends the name. Numbers from inside the
model (a neuron's output, a head's query) are read from ``model.trace(tokens)``,
the forward pass that ``model(tokens)`` runs with what it computed on the way
kept, so the pictures show what the model computes, not a second copy of its
forward pass; over many names, from the same trace replayed for all of them at
once (``nn.sequence_replay``). Colours follow
``viz.style``: an amount (a weight, a probability, an output) is white at 0
and blue at its largest; vowels are blue and consonants orange.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import Normalize, PowerNorm
from matplotlib.figure import Figure
from matplotlib.image import AxesImage
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

from engine import Value
from nn.evaluate import softmax_rows
from nn.gpt import GPT, attention_head
from nn.sequence_replay import NextTokenReplay
from nn.tokenizer import CharTokenizer
from viz.graph import GlassDigraph, draw_dot, render
from viz.images import COUNT_CMAP
from viz.style import PAGE_WIDTH, class_color, new_figure, save

__all__ = [
    "Context",
    "LetterSpace",
    "draw_attention_head",
    "draw_attention_maps",
    "draw_letter_space",
    "draw_neuron_contexts",
    "draw_next_letter",
    "letter_space",
    "neuron_contexts",
    "neuron_outputs",
    "next_letter_probabilities",
]

AMOUNT_CMAP = COUNT_CMAP  # white at 0, blue at the largest: every amount here is >= 0
CANNOT_LOOK = "#d5dade"  # the cells of a later letter, which attention may not read: not a weight of 0
VOWELS = "aeiou"
MOST_NAMES_SIDE_BY_SIDE = 4  # attention maps of more names do not fit a page's width
# Outputs closer than this are one output: the replay computes them to rounding, and names of
# different lengths in different groups, so the "." that starts every name gives every name the
# same output but for the last bit.
SAME_OUTPUT = 1e-12


# --- checks ------------------------------------------------------------------


def _checked_tokenizer(model: GPT, tokenizer: CharTokenizer | None, caller: str) -> CharTokenizer:
    """The tokenizer (a-z and "." by default) after checking that it and the model agree on the vocabulary."""
    if not isinstance(model, GPT):
        raise TypeError(f"{caller}: draws the inside of an nn.GPT, got {type(model).__name__}; "
                        "build one with nn.GPT() and train it with nn.train_on_names")
    tokenizer = tokenizer if tokenizer is not None else CharTokenizer()
    if tokenizer.vocab_size != model.vocab_size:
        raise ValueError(f"{caller}: the model has {model.vocab_size} tokens but the tokenizer {tokenizer.vocab_size} "
                         f"({tokenizer!r}); pass the tokenizer the model was trained with")
    return tokenizer


def _tokens_read(model: GPT, tokenizer: CharTokenizer, name: str, caller: str) -> list[int]:
    """What the model reads of ``name``: the boundary, then every letter (the closing boundary is what it predicts)."""
    if not isinstance(name, str):
        raise TypeError(f"{caller}: a name is text (a str), got {name!r} of type {type(name).__name__}")
    if not name:
        raise ValueError(f"{caller}: got an empty name; give a name of at least one letter, such as 'emma'")
    if len(name) >= model.block_size:
        raise ValueError(f"{caller}: {name!r} has {len(name)} letters, but the model reads at most "
                         f"block_size={model.block_size} tokens: the boundary and {model.block_size - 1} letters")
    return tokenizer.encode_name(name)[:-1]  # encode_name names a character outside the vocabulary


def _checked_layer(model: GPT, layer: int, caller: str) -> int:
    if not isinstance(layer, int) or isinstance(layer, bool) or not 0 <= layer < model.n_layer:
        raise ValueError(f"{caller}: layer must be a whole number from 0 to {model.n_layer - 1} "
                         f"(the model has {model.n_layer}), got {layer!r}")
    return layer


def _checked_count(value: object, name: str, smallest: int, caller: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < smallest:
        raise ValueError(f"{caller}: {name} must be a whole number >= {smallest}, got {value!r}")
    return value


# --- reading numbers from the model's trace -----------------------------------


def neuron_outputs(model: GPT, name: str, layer: int = 0, tokenizer: CharTokenizer | None = None) -> np.ndarray:
    """Every MLP neuron's output at every position of ``name``: shape (letters + 1, 4 * n_embd).

    Neuron j of ``layer`` is relu(row j of mlp_fc1 · rmsnorm(x)): its value
    after the model has read the boundary and the first t letters is in row
    t. The numbers are those of ``model(tokens)``, from its trace.
    """
    tokenizer = _checked_tokenizer(model, tokenizer, "neuron_outputs")
    tokens = _tokens_read(model, tokenizer, name, "neuron_outputs")
    layer = _checked_layer(model, layer, "neuron_outputs")
    return _numbers(model.trace(tokens).layers[layer].hidden)


def _head_vectors(model: GPT, tokens: list[int], layer: int, head: int) -> tuple[np.ndarray, ...]:
    """(queries, keys, values) of one head at every position: (positions, head_dim) each, as the model computed them."""
    traced = model.trace(tokens).layers[layer]
    head_dim = model.n_embd // model.n_head
    part = slice(head * head_dim, (head + 1) * head_dim)
    return tuple(_numbers(vectors)[:, part] for vectors in (traced.queries, traced.keys, traced.values))


def _numbers(vectors: list[list[Value]]) -> np.ndarray:
    """The data of a list of vectors of Values, one row per vector."""
    return np.array([[value.data for value in vector] for vector in vectors])


# --- what the pictures compute -------------------------------------------------


@dataclass(frozen=True)
class LetterSpace:
    """The token embeddings seen along their two directions of largest spread.

    ``points[i]`` is token i's embedding (row i of wte, its symbol
    ``symbols[i]``) minus the mean embedding, in coordinates along the unit
    ``directions`` (one per row, orthogonal); ``variance_shares[k]`` is the
    share of all the embeddings' variance that lies along direction k.
    """

    symbols: str
    points: np.ndarray  # (vocab_size, 2)
    directions: np.ndarray  # (2, n_embd)
    variance_shares: np.ndarray  # (2,)


def letter_space(model: GPT, tokenizer: CharTokenizer | None = None) -> LetterSpace:
    """PCA of the token embeddings (the rows of wte), to two dimensions.

    With E the embeddings, one per row, and m their mean: in the singular value
    decomposition E - m = U S V^T, the rows of V^T are orthogonal unit
    directions, the first the one along which the embeddings spread most, the
    second the one that holds the most of what is left. The variance along direction k is S_k**2 / vocab_size,
    so its share of the whole is S_k**2 / sum(S**2). The points are (E - m) V[:2]^T.
    """
    tokenizer = _checked_tokenizer(model, tokenizer, "letter_space")
    if model.n_embd < 2:
        raise ValueError(f"letter_space: projects embeddings to 2 dimensions, but this model's have {model.n_embd}")
    embeddings = np.array([[weight.data for weight in row] for row in model.wte])
    centred = embeddings - embeddings.mean(axis=0)
    _, singular_values, directions = np.linalg.svd(centred, full_matrices=False)
    variance = singular_values ** 2
    shares = variance[:2] / variance.sum() if variance.sum() > 0 else np.zeros(2)
    return LetterSpace(tokenizer.symbols, centred @ directions[:2].T, directions[:2], shares)


@dataclass(frozen=True)
class Context:
    """Where a neuron fired: the last ``letters`` read ("." is the boundary), its ``output`` there, the ``name``."""

    letters: str
    output: float
    name: str


def neuron_contexts(model: GPT, names: Sequence[str], layer: int = 0, letters: int = 3, top: int = 5,
                    seen_at_least: int = 1, tokenizer: CharTokenizer | None = None) -> list[list[Context]]:
    """For each MLP neuron of ``layer``, the ``top`` contexts in ``names`` that excite it most, strongest first.

    A context is the last ``letters`` tokens read at a position (fewer at the
    start of a name: "." is the boundary alone, ".e" after the first letter).
    A context met several times counts once, with the largest output it gave
    the neuron (the output also depends on earlier letters, through attention),
    and with the first name that gave it. Contexts met fewer than
    ``seen_at_least`` times in ``names`` are left out: a rare letter such as q
    has an embedding unlike the others and excites many neurons once, which
    says little about what a neuron reads in most names (5 suits the 3,204
    test names). Only contexts where the neuron fires (output > 0) are listed:
    one that never fires gets an empty list. The outputs are those of
    ``neuron_outputs``, computed for all the names at once by replaying the
    model's trace (``NextTokenReplay.trace_values``): the 3,204 test names
    take a few seconds, where a forward pass per name took two minutes.
    """
    tokenizer = _checked_tokenizer(model, tokenizer, "neuron_contexts")
    layer = _checked_layer(model, layer, "neuron_contexts")
    letters = _checked_count(letters, "letters", 1, "neuron_contexts")
    top = _checked_count(top, "top", 1, "neuron_contexts")
    seen_at_least = _checked_count(seen_at_least, "seen_at_least", 1, "neuron_contexts")
    if isinstance(names, str) or not names:
        raise ValueError(f"neuron_contexts: names must be a non-empty list of names, got {names!r}")
    readings = [_tokens_read(model, tokenizer, name, "neuron_contexts") for name in names]
    every_output = NextTokenReplay.of(model).trace_values(readings, lambda trace: trace.layers[layer].hidden)
    outputs = np.concatenate(every_output)  # a row per position read, name after name: (rows, neurons)
    row_names: list[str] = []  # the name each row was read in
    rows_by_context: dict[str, list[int]] = {}  # context -> the rows where it was read, in order
    for name in names:
        read = tokenizer.boundary + name  # what the model read, as _tokens_read gave it
        for position in range(len(read)):
            context = read[max(0, position + 1 - letters):position + 1]
            rows_by_context.setdefault(context, []).append(len(row_names))
            row_names.append(name)
    contexts = list(rows_by_context)
    largest, giver = _largest_per_context(outputs, list(rows_by_context.values()))
    often = np.array([len(rows) >= seen_at_least for rows in rows_by_context.values()])
    ranked = []
    for neuron in range(outputs.shape[1]):
        firing = np.flatnonzero(often & (largest[:, neuron] > 0.0))  # i: the context contexts[i]
        strongest = sorted(firing, key=lambda i: (-largest[i, neuron], contexts[i]))[:top]
        ranked.append([Context(contexts[i], float(largest[i, neuron]), row_names[giver[i, neuron]]) for i in strongest])
    return ranked


def _largest_per_context(outputs: np.ndarray, rows_by_context: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    """Each neuron's largest output in each context, and the row that gave it: (contexts, neurons) each.

    Of rows whose outputs are the same to rounding (``SAME_OUTPUT``), the
    first one counts: the first name, in the order given, that gave it.
    """
    neurons = np.arange(outputs.shape[1])
    largest = np.empty((len(rows_by_context), len(neurons)))
    giver = np.empty((len(rows_by_context), len(neurons)), dtype=np.int64)
    for context, rows in enumerate(rows_by_context):
        met = outputs[rows]  # (times met, neurons)
        first = np.argmax(met >= met.max(axis=0) - SAME_OUTPUT, axis=0)  # argmax of booleans: the first True
        largest[context] = met[first, neurons]
        giver[context] = np.asarray(rows)[first]
    return largest, giver


def next_letter_probabilities(model: GPT, name: str, tokenizer: CharTokenizer | None = None) -> np.ndarray:
    """p(next token | what was read) at every position of ``name``: (letters + 1, vocab_size), rows summing to 1.

    Row t is the prediction after the boundary and the first t letters; the
    last row predicts what follows the whole name (the boundary, if the model
    thinks the name is complete). Probabilities are softmax(logits).
    """
    tokenizer = _checked_tokenizer(model, tokenizer, "next_letter_probabilities")
    logits = model(_tokens_read(model, tokenizer, name, "next_letter_probabilities"))
    return softmax_rows(np.array([[logit.data for logit in row] for row in logits]))


# --- 1. attention maps -----------------------------------------------------------


def draw_attention_maps(model: GPT, names: Sequence[str], layer: int = 0, tokenizer: CharTokenizer | None = None,
                        path: str | Path | None = None) -> Figure:
    """Every head's attention weights in ``layer`` for each of ``names``, side by side (a column per name).

    Row t of a grid is the letter that reads (the query at position t), and
    its cells the weight it gives to each letter read so far (the keys); a row
    sums to 1. Cells of later letters are hatched grey: the model is causal, so
    a letter cannot look at them at all (that is not a weight of 0).
    """
    tokenizer = _checked_tokenizer(model, tokenizer, "draw_attention_maps")
    layer = _checked_layer(model, layer, "draw_attention_maps")
    if isinstance(names, str) or not 1 <= len(names) <= MOST_NAMES_SIDE_BY_SIDE:
        raise ValueError(f"draw_attention_maps: names must be a list of 1 to {MOST_NAMES_SIDE_BY_SIDE} names "
                         f"(more do not fit side by side), got {names!r}")
    readings = [_tokens_read(model, tokenizer, name, "draw_attention_maps") for name in names]
    # a grid's side in inches: room for the longest name's letters, yet never so large that four heads overflow
    grid = min(max(0.17 * max(len(tokens) for tokens in readings), 1.4), 2.0)
    figure = new_figure(min(PAGE_WIDTH, 1.0 + len(names) * (grid + 0.4) + 0.9), 1.3 + model.n_head * (grid + 0.5))
    axes = figure.subplots(model.n_head, len(names), squeeze=False)
    norm = Normalize(0.0, 1.0)
    for column, (name, tokens) in enumerate(zip(names, readings)):
        maps = model.attention_maps(tokens)[layer]
        read = tokenizer.decode(tokens)
        for head, ax in enumerate(axes[:, column]):
            shown = _attention_grid(ax, np.array(maps[head]), read, norm)
            ax.set_title(f'"{name}", head {head}', fontsize=9)
            if column == 0:
                ax.set_ylabel("the letter reading (query)", fontsize=8)
            if head == model.n_head - 1:
                ax.set_xlabel("a letter read (key)", fontsize=8)
    figure.suptitle(f"Where each letter looks: the attention weights of the {model.n_head} heads of layer {layer}\n"
                    "row: the letter doing the reading, column: each letter read so far; a row adds up to 1",
                    fontsize=10)
    bar = figure.colorbar(shown, ax=axes, shrink=min(0.5, 3.0 / figure.get_figheight()), aspect=25)
    bar.set_label("attention weight", fontsize=8)
    bar.ax.tick_params(labelsize=7)
    figure.legend(handles=[Patch(facecolor=CANNOT_LOOK, edgecolor="white", hatch="////",
                                 label="a later letter: cannot be read")],
                  loc="outside lower center", fontsize=8, frameon=False)
    return _finish(figure, path)


def _attention_grid(ax: Axes, weights: np.ndarray, read: str, norm: Normalize) -> AxesImage:
    """One head's grid: the weights in colour, the cells above the diagonal masked and hatched."""
    later = np.triu(np.ones(weights.shape, dtype=bool), k=1)
    shown = ax.imshow(np.ma.masked_array(weights, later), cmap=AMOUNT_CMAP, norm=norm, interpolation="nearest")
    for query, key in zip(*np.nonzero(later)):
        ax.add_patch(Rectangle((key - 0.5, query - 0.5), 1, 1, facecolor=CANNOT_LOOK, edgecolor="white",
                               hatch="////", linewidth=0))
    positions = np.arange(len(read))
    ax.set_xticks(positions, list(read), fontsize=8)
    ax.set_yticks(positions, list(read), fontsize=8)
    ax.tick_params(length=0)
    return shown


# --- 2. letters in space ---------------------------------------------------------


def draw_letter_space(model: GPT, tokenizer: CharTokenizer | None = None, path: str | Path | None = None) -> Figure:
    """The token embeddings as points in the plane of their two largest directions (``letter_space``).

    Vowels are blue, consonants orange, the boundary a dark square; letters
    the model treats alike sit close together. The axes say how much of the
    embeddings' variance each direction holds.
    """
    tokenizer = _checked_tokenizer(model, tokenizer, "draw_letter_space")
    space = letter_space(model, tokenizer)
    figure = new_figure(6.4, 5.6)
    ax = figure.add_subplot()
    for symbol, (x, y) in zip(space.symbols, space.points):
        if symbol == tokenizer.boundary:
            ax.scatter(x, y, s=380, marker="s", color="#3d4a54", zorder=2)
            ax.text(x, y, symbol, ha="center", va="center", color="white", fontsize=14, fontweight="bold", zorder=3)
            continue
        colour = class_color(1) if symbol in VOWELS else class_color(0)
        ax.scatter(x, y, s=300, color="white", edgecolors=colour, linewidths=1.8, zorder=2)
        ax.text(x, y, symbol, ha="center", va="center", color=colour, fontsize=11, fontweight="bold", zorder=3)
    ax.set_aspect("equal", adjustable="datalim")  # a distance means the same across as up and down
    ax.margins(0.12)
    ax.axhline(0.0, color="#ced4da", linewidth=0.8, zorder=1)
    ax.axvline(0.0, color="#ced4da", linewidth=0.8, zorder=1)
    first, second = space.variance_shares
    ax.set_xlabel(f"PCA direction 1, the largest spread: {first:.0%} of the variance", fontsize=9)
    ax.set_ylabel(f"PCA direction 2, the next largest: {second:.0%} of the variance", fontsize=9)
    ax.tick_params(labelsize=7)
    ax.legend(handles=[
        Line2D([], [], marker="o", linestyle="", markerfacecolor="white", markeredgecolor=class_color(1),
               markeredgewidth=1.8, markersize=10, label="vowel (a e i o u)"),
        Line2D([], [], marker="o", linestyle="", markerfacecolor="white", markeredgecolor=class_color(0),
               markeredgewidth=1.8, markersize=10, label="consonant"),
        Line2D([], [], marker="s", linestyle="", color="#3d4a54", markersize=10,
               label='boundary "." (starts and ends a name)'),
    ], fontsize=8, loc="best", framealpha=0.9)
    figure.suptitle(f"Letters in space: the {len(space.symbols)} token embeddings (rows of wte, {model.n_embd} "
                    "numbers each)\nseen along the two directions in which they differ most (PCA); letters the "
                    f"model treats alike sit close\nthese two directions hold {first + second:.0%} of the "
                    "embeddings' variance", fontsize=10)
    return _finish(figure, path)


# --- 3. neurons that read letter combinations -------------------------------------


def draw_neuron_contexts(model: GPT, names: Sequence[str], layer: int = 0, letters: int = 3, top: int = 5,
                         seen_at_least: int = 1, tokenizer: CharTokenizer | None = None,
                         path: str | Path | None = None) -> Figure:
    """For every MLP neuron of ``layer``, the ``top`` contexts of ``names`` that excite it most (``neuron_contexts``).

    A row per neuron (neuron j is row j of mlp_fc1), a cell per context: the
    last ``letters`` letters read and the neuron's output there, the cell's
    colour that output on one scale for all. ``seen_at_least`` leaves out rare
    contexts (see ``neuron_contexts``).
    """
    found = neuron_contexts(model, names, layer, letters, top, seen_at_least, tokenizer)
    outputs = np.zeros((len(found), top))
    for neuron, contexts in enumerate(found):
        outputs[neuron, :len(contexts)] = [context.output for context in contexts]
    largest = float(outputs.max()) or 1.0
    blocks = 2 if len(found) > 16 else 1
    rows = -(-len(found) // blocks)  # ceiling division
    figure = new_figure(min(PAGE_WIDTH, 0.5 + blocks * (0.45 + 0.8 * top)), 1.6 + 0.2 * rows)
    axes = figure.subplots(1, blocks, squeeze=False)[0]
    norm = Normalize(0.0, largest)
    for block, ax in enumerate(axes):
        neurons = range(block * rows, min((block + 1) * rows, len(found)))
        shown = _contexts_block(ax, [found[j] for j in neurons], outputs[list(neurons)], neurons, letters, norm)
    often = f", each met at least {seen_at_least} times" if seen_at_least > 1 else ""
    figure.suptitle(f"Neurons that read letter combinations: for each of the {len(found)} MLP neurons of layer "
                    f"{layer}, the {top} contexts\n(the last {letters} letters read, \".\" the boundary) that excite "
                    f"it most in {len(names):,} names{often}, with its output there", fontsize=10)
    bar = figure.colorbar(shown, ax=axes, location="bottom", shrink=0.5, aspect=40, pad=0.01)
    bar.set_label("the neuron's output, relu(row of mlp_fc1 \u00b7 rmsnorm(x))", fontsize=8)
    bar.ax.tick_params(labelsize=7)
    return _finish(figure, path)


def _contexts_block(ax: Axes, found: list[list[Context]], outputs: np.ndarray, neurons: range, letters: int,
                    norm: Normalize) -> AxesImage:
    """A table of neurons (rows) by their strongest contexts (cells), each cell coloured by its output."""
    shown = ax.imshow(outputs, cmap=AMOUNT_CMAP, norm=norm, aspect="auto", interpolation="nearest")
    for row, contexts in enumerate(found):
        if not contexts:
            ax.text(-0.4, row, "fires on none of these contexts", fontsize=6.5, va="center", color="#8a949b")
        for column, context in enumerate(contexts):
            dark = norm(context.output) > 0.6
            ax.text(column, row, f"{context.letters:>{letters}} {context.output:.2f}", ha="center", va="center",
                    fontsize=6.5, family="monospace", color="white" if dark else "#1f2a33")
    ax.set_yticks(range(len(found)), [str(neuron) for neuron in neurons], fontsize=6.5)
    ax.set_xticks(range(outputs.shape[1]), [f"{rank + 1}." for rank in range(outputs.shape[1])], fontsize=7)
    ax.xaxis.tick_top()
    ax.set_ylabel("neuron (row of mlp_fc1)", fontsize=8)
    ax.tick_params(length=0)
    ax.set_xticks(np.arange(outputs.shape[1] + 1) - 0.5, minor=True)
    ax.set_yticks(np.arange(len(found) + 1) - 0.5, minor=True)
    ax.grid(which="minor", color="white", linewidth=1.0)
    ax.tick_params(which="minor", length=0)
    return shown


# --- 4. the next letter ------------------------------------------------------------


def draw_next_letter(model: GPT, name: str, tokenizer: CharTokenizer | None = None,
                     path: str | Path | None = None) -> Figure:
    """As ``name`` is typed, the model's probability for each next letter (``next_letter_probabilities``).

    A column per position, headed by what the model has read so far; a row per
    token that could come next (the boundary "." means the name ends). The
    letter that really comes next is boxed, its probability under the column.
    """
    tokenizer = _checked_tokenizer(model, tokenizer, "draw_next_letter")
    probabilities = next_letter_probabilities(model, name, tokenizer)
    actual = tokenizer.encode_name(name)[1:]
    read = tokenizer.decode(tokenizer.encode_name(name))
    positions, vocabulary = probabilities.shape
    figure = new_figure(min(PAGE_WIDTH, 2.6 + 0.5 * positions), 6.6)
    ax = figure.add_subplot()
    shown = ax.imshow(probabilities.T, cmap=AMOUNT_CMAP, norm=PowerNorm(0.5, 0.0, 1.0), aspect="auto",
                      interpolation="nearest")
    for position, token in enumerate(actual):
        ax.add_patch(Rectangle((position - 0.5, token - 0.5), 1, 1, fill=False, edgecolor="#1f2a33", linewidth=1.8))
        probability = probabilities[position, token]
        ax.text(position, token, f"{probability:.0%}", ha="center", va="center", fontsize=7.5, fontweight="bold",
                color="white" if probability > 0.45 else "#1f2a33")
    symbols = [("end ." if symbol == tokenizer.boundary else symbol) for symbol in tokenizer.symbols]
    ax.set_yticks(range(vocabulary), symbols, fontsize=7.5)
    ax.set_xticks(range(positions), [read[:position + 1] for position in range(positions)], fontsize=8,
                  family="monospace", rotation=90)
    ax.xaxis.tick_top()
    ax.set_xlabel("what the model has read", fontsize=8)
    ax.xaxis.set_label_position("top")
    ax.set_ylabel("the next letter", fontsize=8)
    ax.tick_params(length=0)
    surprise = -np.mean(np.log([probabilities[position, token] for position, token in enumerate(actual)]))
    figure.suptitle(f'The next letter: as "{name}" is typed, the model\'s probability for each letter that could '
                    f"come next\nboxed, with its probability: the letter that really comes next; mean surprise "
                    f"-log p = {surprise:.2f} nats", fontsize=10)
    bar = figure.colorbar(shown, ax=ax, shrink=0.6)
    bar.set_label("probability (colour: its square root)", fontsize=8)
    bar.ax.tick_params(labelsize=7)
    return _finish(figure, path)


# --- 5. one attention head as a graph ---------------------------------------------


def draw_attention_head(model: GPT, name: str, layer: int = 0, head: int = 0, position: int | None = None,
                        coordinate: int = 0, tokenizer: CharTokenizer | None = None,
                        path: str | Path | None = None) -> GlassDigraph:
    """One head's computation at one ``position`` of ``name`` as a graph of Values (``viz.graph.draw_dot``).

    The query of the letter at ``position`` (by default the last one) and the
    keys and values of that letter and every one before it are leaves holding
    the numbers the model computed on the name. ``nn.gpt.attention_head``, the
    code the model runs, builds the rest from them: a score q·k / sqrt(d) for
    each letter read, the softmax that turns the scores into weights adding up
    to 1, and the values weighted by them, the head's output. Each part is a
    labelled cluster. The head's output has d numbers, each the same weighted
    sum over another number of the values; the graph draws number
    ``coordinate`` (so only that number of each value), to stay readable.
    ``path`` also renders the graph (its format from the suffix).
    """
    tokenizer = _checked_tokenizer(model, tokenizer, "draw_attention_head")
    layer = _checked_layer(model, layer, "draw_attention_head")
    tokens = _tokens_read(model, tokenizer, name, "draw_attention_head")
    head_dim = model.n_embd // model.n_head
    head = _checked_index(head, model.n_head, "head", "draw_attention_head", f"the model has {model.n_head} heads")
    position = _checked_index(len(tokens) - 1 if position is None else position, len(tokens), "position",
                              "draw_attention_head", f"the boundary and the {len(name)} letters of {name!r}")
    coordinate = _checked_index(coordinate, head_dim, "coordinate", "draw_attention_head",
                                f"a head's output has {head_dim} numbers")
    queries, keys, values = _head_vectors(model, tokens, layer, head)
    read = tokenizer.decode(tokens)
    parts = _head_graph(queries[position], keys[:position + 1], values[:position + 1, coordinate:coordinate + 1])
    clusters = {f"query of {read[position]!r}: what it looks for": parts["query"]}
    for seen in range(position + 1):
        clusters[f"key of {read[seen]!r} ({seen})"] = parts["keys"][seen]
    clusters["scores: q·k / sqrt(d)"] = parts["scores"]
    clusters["softmax: weights adding up to 1"] = parts["softmax"]
    clusters[f"number {coordinate} of each value"] = [value[0] for value in parts["values"]]
    # Drawn compactly (draw_dot's collapse_neurons): each operation is written in the box of the
    # value it makes, not in an oval of its own, which halves the picture's width.
    dot = draw_dot(parts["output"][0], show_grad=False, clusters=clusters, group=False, collapse_neurons=True,
                   legend=False, title=f"Attention head {head} of layer {layer} at {read[position]!r} "
                   f"(position {position}) of {read!r}: how much it reads each letter so far, and what it passes on")
    # Few arrows here, so they may curve around the boxes (collapse_neurons draws straight lines, for
    # the many between two columns of neurons), and the leaves' tall column may stand closer.
    dot.attr(splines="spline", nodesep="0.08")
    if path is not None:
        render(dot, path)
    return dot


def _checked_index(value: object, count: int, name: str, caller: str, why: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < count:
        raise ValueError(f"{caller}: {name} must be a whole number from 0 to {count - 1} ({why}), got {value!r}")
    return value


def _head_graph(query: np.ndarray, keys: np.ndarray, values: np.ndarray) -> dict[str, list]:
    """``attention_head`` on leaves holding these numbers, every node labelled; the nodes, by part.

    "query" and "output" hold Values; "keys" and "values" a list of Values per
    position read; "scores" and "softmax" the nodes between them.
    """
    query_leaves = [Value(number, label=f"q[{i}]") for i, number in enumerate(query)]
    key_leaves = [[Value(number, label=f"k{s}[{i}]") for i, number in enumerate(key)] for s, key in enumerate(keys)]
    value_leaves = [[Value(number, label=f"v{s}[{i}]") for i, number in enumerate(value)]
                    for s, value in enumerate(values)]
    output, weights = attention_head(query_leaves, key_leaves, value_leaves)
    for i, node in enumerate(output):
        node.label = f"out[{i}]"
    scores, softmax = _label_softmax(weights)
    return {"query": query_leaves, "keys": key_leaves, "values": value_leaves, "scores": scores,
            "softmax": softmax, "output": output}


def _label_softmax(weights: list[Value]) -> tuple[list[Value], list[Value]]:
    """Names for the nodes behind the attention weights, walking back from each weight; (score nodes, softmax nodes).

    weight_s = exp_s / total, exp_s = exp(score_s - max), score_s = (q·k_s) * (1/sqrt(d)),
    as ``attention_head`` and ``nn.losses.softmax`` build them.
    """
    scores, softmax = [], []
    for s, weight in enumerate(weights):
        exp, total = weight.parents
        shifted = exp.parents[0]
        score, largest = shifted.parents
        product, scale = score.parents
        names = ((weight, f"weight{s}"), (exp, f"exp{s}"), (shifted, f"score{s} - max"), (score, f"score{s}"),
                 (product, f"q·k{s}"), (scale, "1/sqrt(d)"), (total, "sum of exps"), (largest, "max score"))
        for node, label in names:
            node.label = label
        scores += [product, scale, score]
        softmax += [shifted, exp, weight]
    return scores, softmax + [largest, total]


def _finish(figure: Figure, path: str | Path | None) -> Figure:
    if path is not None:
        save(figure, path)
    return figure
