"""Pictures of a GPT on names (viz.text): each computes what it claims, and each draws a readable page.

The model is tiny (8 numbers per token, 2 heads, 2 layers) and trained for a
few steps only: the tests ask what the pictures promise (the masked cells are
the later letters, PCA's directions are orthonormal, the top contexts are the
largest outputs), not for a good model. Numbers the pictures read from the
model's trace, one name at a time or replayed for many names at once, are
checked against the forward pass written out again from the issue's recipe,
with nn.gpt's building blocks.
"""

from __future__ import annotations

import re
import shutil

import matplotlib
import numpy as np
import pytest
from matplotlib.text import Text

import nn
from engine import Value
from nn.gpt import causal_self_attention, linear, rmsnorm
from nn.sequence_replay import NextTokenReplay
from tests.helpers import assert_saved_png_fits_a_page
from viz.graph import draw_dot, format_number
from viz.text import (
    draw_attention_head,
    draw_attention_maps,
    draw_letter_space,
    draw_neuron_contexts,
    draw_next_letter,
    letter_space,
    neuron_contexts,
    neuron_outputs,
    next_letter_probabilities,
)

matplotlib.use("Agg")

TOKENIZER = nn.CharTokenizer()
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot program is not installed")


@pytest.fixture(scope="module")
def names() -> list[str]:
    """40 held-out names: the pictures look inside the model on names it did not train on."""
    return nn.split_names(nn.load_names())[1][:40]


@pytest.fixture(scope="module")
def model() -> nn.GPT:
    """A two-layer GPT small enough to run in a blink, after 30 training names."""
    model = nn.GPT(n_embd=8, n_head=2, n_layer=2, block_size=12, seed=0)
    nn.train_on_names(model, nn.split_names(nn.load_names())[0], steps=30)
    return model


def forward_to_neurons(model: nn.GPT, name: str, layer: int) -> np.ndarray:
    """relu(mlp_fc1 · rmsnorm(x)) at each position, the issue's forward pass written out again.

    x = rmsnorm(wte[token] + wpe[position]); each layer: x = x + attn_wo · heads(rmsnorm(x)),
    then the MLP reads rmsnorm(x); x = x + mlp_fc2 · relu(...) before the next layer.
    """
    tokens = TOKENIZER.encode_name(name)[:-1]
    xs = [rmsnorm([e + p for e, p in zip(model.wte[token], model.wpe[t])]) for t, token in enumerate(tokens)]
    for index, block in enumerate(model.layers):
        m = block.matrices
        heads = causal_self_attention([rmsnorm(x) for x in xs], m["attn_wq"], m["attn_wk"], m["attn_wv"],
                                      model.n_head)
        xs = [[a + b for a, b in zip(x, linear(m["attn_wo"], h))] for x, h in zip(xs, heads)]
        hidden = [[h.relu() for h in linear(m["mlp_fc1"], rmsnorm(x))] for x in xs]
        if index == layer:
            return np.array([[h.data for h in row] for row in hidden])
        xs = [[a + b for a, b in zip(x, linear(m["mlp_fc2"], h))] for x, h in zip(xs, hidden)]
    raise AssertionError(f"no layer {layer}")


# --- what the pictures compute ----------------------------------------------------


@pytest.mark.parametrize("layer", [0, 1])
def test_neuron_outputs_are_the_mlps_relus_of_the_forward_pass(model, layer):
    for name in ("emma", "christopher", "li"):
        np.testing.assert_allclose(neuron_outputs(model, name, layer), forward_to_neurons(model, name, layer),
                                   rtol=0, atol=1e-12)


@pytest.mark.parametrize("layer", [0, 1])
def test_batched_neuron_outputs_are_the_scalar_forwards_on_names_of_mixed_lengths(model, names, layer):
    chosen = names[:12] + ["li", "christopher"]
    readings = [TOKENIZER.encode_name(name)[:-1] for name in chosen]
    assert len({len(tokens) for tokens in readings}) > 4, "the names should fall into several length groups"
    found = NextTokenReplay(model).trace_values(readings, lambda trace: trace.layers[layer].hidden)
    for name, outputs in zip(chosen, found):
        np.testing.assert_allclose(outputs, forward_to_neurons(model, name, layer), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("seen_at_least", [1, 2])
def test_top_contexts_are_the_largest_outputs_of_each_neuron(model, names, seen_at_least):
    letters, top = 3, 4
    # neuron -> context -> its largest output on the scalar engine, and the first name that gave it
    largest: list[dict[str, tuple[float, str]]] = [{} for _ in range(4 * model.n_embd)]
    met: dict[str, int] = {}
    for name in names:
        read = "." + name
        for position, row in enumerate(forward_to_neurons(model, name, 0)):
            context = read[max(0, position - letters + 1):position + 1]
            met[context] = met.get(context, 0) + 1
            for neuron, output in enumerate(row):
                if output > largest[neuron].get(context, (0.0, ""))[0]:
                    largest[neuron][context] = (output, name)
    found = neuron_contexts(model, names, layer=0, letters=letters, top=top, seen_at_least=seen_at_least)
    assert len(found) == 4 * model.n_embd
    assert sum(map(len, found)) > 2 * model.n_embd, "most neurons should fire somewhere on 40 names"
    for neuron, contexts in enumerate(found):
        often = [(context, *best) for context, best in largest[neuron].items() if met[context] >= seen_at_least]
        expected = sorted(often, key=lambda item: (-item[1], item[0]))[:top]
        assert [(c.letters, c.name) for c in contexts] == [(letters, name) for letters, _, name in expected], neuron
        np.testing.assert_allclose([c.output for c in contexts], [output for _, output, _ in expected], atol=1e-12)
        for context in contexts:  # the name it came from really holds the context
            assert context.letters in "." + context.name


def test_a_context_is_at_most_the_asked_number_of_letters_and_starts_with_the_boundary_early(model, names):
    found = neuron_contexts(model, names, letters=2)
    shown = {context.letters for contexts in found for context in contexts}
    assert shown and all(1 <= len(letters) <= 2 for letters in shown)
    assert all(letters[0] == "." for letters in shown if len(letters) == 1)


def test_next_letter_probabilities_are_the_softmax_of_the_logits_and_sum_to_1(model):
    probabilities = next_letter_probabilities(model, "olivia")
    assert probabilities.shape == (len("olivia") + 1, model.vocab_size)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    logits = np.array([[z.data for z in row] for row in model(TOKENIZER.encode_name("olivia")[:-1])])
    expected = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(probabilities, expected, rtol=1e-12)


def test_pca_directions_are_orthonormal_and_the_variance_shares_add_up_to_at_most_1(model):
    space = letter_space(model)
    np.testing.assert_allclose(space.directions @ space.directions.T, np.eye(2), atol=1e-12)
    assert 0.0 <= space.variance_shares[1] <= space.variance_shares[0]
    assert space.variance_shares.sum() <= 1.0 + 1e-12
    assert space.symbols == TOKENIZER.symbols


def test_pca_finds_the_largest_variances_of_the_embeddings(model):
    embeddings = np.array([[w.data for w in row] for row in model.wte])
    covariance = np.cov(embeddings, rowvar=False, bias=True)
    eigenvalues = np.linalg.eigvalsh(covariance)[::-1]  # largest first
    space = letter_space(model)
    np.testing.assert_allclose(space.points.var(axis=0), eigenvalues[:2], rtol=1e-9)
    np.testing.assert_allclose(space.variance_shares, eigenvalues[:2] / eigenvalues.sum(), rtol=1e-9)
    np.testing.assert_allclose(space.points, (embeddings - embeddings.mean(axis=0)) @ space.directions.T,
                               atol=1e-12)


# --- the attention maps ---------------------------------------------------------


def test_attention_cells_of_later_letters_are_masked_and_the_rest_are_the_weights(model):
    chosen = ["emma", "li"]
    figure = draw_attention_maps(model, chosen)
    grids = [image for ax in figure.axes for image in ax.images]
    assert len(grids) == model.n_head * len(chosen)
    for ax in figure.axes[:len(grids)]:
        image = ax.images[0]
        name, head = re.fullmatch(r'"(\w+)", head (\d+)', ax.get_title()).groups()
        weights = np.array(model.attention_maps(TOKENIZER.encode_name(name)[:-1])[0][int(head)])
        shown = image.get_array()
        np.testing.assert_array_equal(np.ma.getmaskarray(shown), np.triu(np.ones(weights.shape, bool), k=1))
        np.testing.assert_allclose(shown.filled(0.0), weights, atol=1e-15)
        np.testing.assert_allclose(shown.sum(axis=1), 1.0, atol=1e-12)  # what a letter can see adds up to 1


# --- every picture --------------------------------------------------------------

PICTURES = {  # each draws with path=..., so that every function's own saving is tested too
    "attention maps": (lambda model, names, path: draw_attention_maps(model, ["emma", "olivia", "christopher"],
                                                                      path=path), "Where each letter looks"),
    "letter space": (lambda model, names, path: draw_letter_space(model, path=path), "Letters in space"),
    "neuron contexts": (lambda model, names, path: draw_neuron_contexts(model, names[:12], path=path),
                        "Neurons that read letter combinations"),
    "next letter": (lambda model, names, path: draw_next_letter(model, "olivia", path=path), "The next letter"),
}


@pytest.mark.parametrize("picture", PICTURES)
def test_picture_draws_a_titled_page_no_wider_than_a_page(picture, model, names, tmp_path):
    draw, title = PICTURES[picture]
    path = tmp_path / "pictures" / "picture.png"
    figure = draw(model, names, path)
    texts = [text.get_text() for text in figure.findobj(Text)]
    assert any(title in text for text in texts), f"no title containing {title!r}"
    assert_saved_png_fits_a_page(path)


@pytest.mark.parametrize("picture", ["attention maps", "neuron contexts", "next letter"])
def test_where_colour_carries_a_number_a_colour_bar_says_which(picture, model, names):
    figure = PICTURES[picture][0](model, names, None)
    assert any(hasattr(ax, "_colorbar") for ax in figure.axes)


def test_letter_space_names_its_axes_by_their_share_of_the_variance_and_colours_vowels(model):
    figure = draw_letter_space(model)
    ax = figure.axes[0]
    first, second = letter_space(model).variance_shares
    assert f"{first:.0%} of the variance" in ax.get_xlabel()
    assert f"{second:.0%} of the variance" in ax.get_ylabel()
    assert {text.get_text() for text in ax.get_legend().get_texts()} >= {"vowel (a e i o u)", "consonant"}
    assert {text.get_text() for text in ax.texts} == set(TOKENIZER.symbols)  # every token is on the page


def test_next_letter_boxes_the_letter_that_comes_next_with_its_probability(model):
    figure = draw_next_letter(model, "ava")
    ax = figure.axes[0]
    boxed = [(round(patch.get_x() + 0.5), round(patch.get_y() + 0.5)) for patch in ax.patches]
    following = TOKENIZER.encode_name("ava")[1:]
    assert boxed == list(enumerate(following))
    probabilities = next_letter_probabilities(model, "ava")
    assert [text.get_text() for text in ax.texts] == [f"{probabilities[t, token]:.0%}" for t, token in boxed]


# --- one head as a graph ----------------------------------------------------------

BOX = re.compile(r"<B>([^<]+)</B>.*?data (-?[\d.e+-]+)")


def boxes(dot) -> dict[str, str]:
    """Each labelled box of a drawn graph: label -> the data it prints."""
    return dict(BOX.findall(dot.source))


def test_head_graph_labels_query_keys_values_scores_weights_and_output(model):
    shown = boxes(draw_attention_head(model, "ava", head=1))
    positions = len(".ava")
    expected = ({f"q[{i}]" for i in range(4)} | {f"k{s}[{i}]" for s in range(positions) for i in range(4)}
                | {f"v{s}[0]" for s in range(positions)} | {"max score", "sum of exps", "out[0]", "1/sqrt(d)"}
                | {f"{part}{s}" for part in ("q·k", "score", "exp", "weight") for s in range(positions)})
    assert expected <= set(shown), f"missing: {sorted(expected - set(shown))}"


def test_head_graph_weights_are_the_models_attention_and_its_clusters_are_named(model):
    tokens = TOKENIZER.encode_name("ava")[:-1]
    dot = draw_attention_head(model, "ava", layer=1, head=0, position=2)
    weights = model.attention_maps(tokens)[1][0][2]  # layer 1, head 0, the query at position 2 ("v")
    shown = boxes(dot)
    assert [shown[f"weight{s}"] for s in range(3)] == [format_number(w) for w in weights[:3]]
    assert "weight3" not in shown, "the query at position 2 cannot see position 3"
    for cluster in ("query of 'v'", "key of '.' (0)", "key of 'v' (2)", "scores: q·k / sqrt(d)",
                    "softmax: weights adding up to 1", "number 0 of each value"):
        assert cluster in dot.source


@needs_dot
def test_head_graph_renders_no_wider_than_a_screen(model, tmp_path):
    path = draw_attention_head(model, "ava", path=tmp_path / "head.svg") and tmp_path / "head.svg"
    width = float(re.search(r'<svg width="([\d.]+)pt"', path.read_text()).group(1))
    assert width <= 1440, f"the graph is {width:.0f} pt wide, more than a 1920-pixel screen shows"


# --- draw_dot's clusters ----------------------------------------------------------


def test_draw_dot_boxes_named_groups_of_values_in_clusters():
    a, b = Value(1.0, label="a"), Value(2.0, label="b")
    c = (a * b).relu()
    c.label = "c"
    source = draw_dot(c, clusters={"the inputs": [a, b], "the answer": c}).source
    inputs = source[source.index('label="the inputs"'):]
    assert inputs.index("<B>a</B>") < inputs.index("}") and inputs.index("<B>b</B>") < inputs.index("}")
    answer = source[source.index('label="the answer"'):]
    assert answer.index("<B>c</B>") < answer.index("}")


def test_draw_dot_refuses_a_value_in_two_clusters():
    a = Value(1.0, label="a")
    with pytest.raises(ValueError, match="in both 'one' and 'two'"):
        draw_dot(a * 2, clusters={"one": [a], "two": [a]})
    with pytest.raises(TypeError, match="mapping from a cluster's name"):
        draw_dot(a * 2, clusters=[a])


# --- bad input ------------------------------------------------------------------


@pytest.mark.parametrize("call, error, words", [
    (lambda model: draw_next_letter(nn.MLP(2, [3, 1]), "ava"), TypeError, "nn.GPT"),
    (lambda model: draw_next_letter(model, ["ava"]), TypeError, "a name is text"),
    (lambda model: draw_next_letter(model, ""), ValueError, "empty name"),
    (lambda model: draw_next_letter(model, "Ava"), ValueError, "lowercase"),
    (lambda model: draw_next_letter(model, "maximilianus"), ValueError, "at most block_size=12"),
    (lambda model: draw_attention_maps(model, "emma"), ValueError, "a list of 1 to 4 names"),
    (lambda model: draw_attention_maps(model, ["a", "b", "c", "d", "e"]), ValueError, "a list of 1 to 4 names"),
    (lambda model: draw_attention_maps(model, ["emma"], layer=2), ValueError, "layer must be"),
    (lambda model: draw_attention_head(model, "ava", head=2), ValueError, "head must be a whole number from 0 to 1"),
    (lambda model: draw_attention_head(model, "ava", position=4), ValueError, "position must be"),
    (lambda model: draw_attention_head(model, "ava", coordinate=4), ValueError, "coordinate must be"),
    (lambda model: neuron_contexts(model, [], top=3), ValueError, "non-empty list of names"),
    (lambda model: neuron_contexts(model, ["ava"], letters=0), ValueError, "letters must be"),
    (lambda model: neuron_contexts(model, ["ava"], seen_at_least=0), ValueError, "seen_at_least must be"),
    (lambda model: letter_space(model, nn.CharTokenizer("abc")), ValueError, "27 tokens but the tokenizer 4"),
])
def test_bad_input_fails_at_once_with_a_clear_message(model, call, error, words):
    with pytest.raises(error, match=re.escape(words)):
        call(model)
