"""Specification of the text model: names, the tokenizer, the GPT's blocks, its trace, training and sampling.

Every building block's gradients are checked against central differences;
the whole GPT's logits and gradients against the same recipe written in
PyTorch (skipped when torch is absent); every stage of its trace against the
recipe written in numpy. The models here are tiny, so the file runs in seconds.
"""

from __future__ import annotations

import gc
import json
import math
import random
import weakref
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest

import nn.sequence_replay
from engine import Value
from engine.value import topological_order
from nn import (
    GPT,
    Adam,
    CharTokenizer,
    linear_decay,
    load_names,
    load_parameters,
    next_token_loss,
    sample_names,
    save_parameters,
    split_names,
    train_on_names,
)
from nn.gpt import Block, add, attention_head, causal_self_attention, dot, linear, mlp, rmsnorm
from nn.losses import softmax
from nn.sequence_replay import NextTokenReplay
from tests.helpers import TINY, SteepAtZero, central_difference, tiny_gpt

MICROGPT_NAMES = ["wte", "wpe", "lm_head", "layer0.attn_wq", "layer0.attn_wk", "layer0.attn_wv",
                  "layer0.attn_wo", "layer0.mlp_fc1", "layer0.mlp_fc2"]


def _weighted_total(outputs: Sequence[Value]) -> Value:
    """One scalar that every output moves, each by its own amount: sum_i c_i * out_i."""
    return Value.sum([(0.3 + 0.2 * i) * (-1) ** i * out for i, out in enumerate(outputs)])


def _assert_gradients_match_central_differences(function: Callable[[list[Value]], Value], xs: list[float]) -> None:
    """backward through ``function(leaves)`` gives every leaf the slope that central differences measure."""
    leaves = [Value(x) for x in xs]
    function(leaves).backward()

    def at(values: list[float]) -> float:
        return function([Value(v) for v in values]).data

    for i, leaf in enumerate(leaves):
        assert leaf.grad == pytest.approx(central_difference(at, xs, i), rel=1e-6, abs=1e-8), f"input {i}"


def _numbers(n: int, seed: int = 0) -> list[float]:
    rng = random.Random(seed)
    return [rng.uniform(-1.5, 1.5) for _ in range(n)]


def _rows(values: Sequence[Value], width: int) -> list[list[Value]]:
    return [list(values[i:i + width]) for i in range(0, len(values), width)]


# --- the names ------------------------------------------------------------------


def test_load_names_gives_32033_names_of_lowercase_letters() -> None:
    names = load_names()
    assert len(names) == 32_033
    assert names[:3] == ["emma", "olivia", "ava"]  # the file's order, most popular first
    assert all(name.isascii() and name.isalpha() and name.islower() for name in names)


def test_split_names_holds_out_a_tenth_of_the_names() -> None:
    names = load_names()
    train_names, test_names = split_names(names)
    assert len(test_names) == math.ceil(0.1 * len(names))
    assert sorted(train_names + test_names) == sorted(names)  # every name once, in one set or the other


def test_split_names_is_seeded() -> None:
    names = [f"name{i}" for i in range(50)]
    assert split_names(names, seed=3) == split_names(names, seed=3)
    assert split_names(names, seed=3) != split_names(names, seed=4)


# --- the tokenizer ------------------------------------------------------------------


def test_vocabulary_is_the_26_letters_then_the_boundary() -> None:
    tokenizer = CharTokenizer()
    assert tokenizer.vocab_size == 27
    assert tokenizer.encode("az") == [0, 25]
    assert tokenizer.boundary_id == 26
    assert tokenizer.decode([26]) == "."


@pytest.mark.parametrize("text", ["emma", "", "zzz", ".ava.", "abcdefghijklmnopqrstuvwxyz"])
def test_decoding_an_encoded_text_gives_it_back(text: str) -> None:
    tokenizer = CharTokenizer()
    assert tokenizer.decode(tokenizer.encode(text)) == text


def test_a_name_is_framed_by_the_boundary_at_both_ends() -> None:
    tokenizer = CharTokenizer()
    assert tokenizer.encode_name("ava") == [26, 0, 21, 0, 26]


@pytest.mark.parametrize("text, message", [
    ("Emma", r"'E' at position 0 of 'Emma' is not in the vocabulary .*lowercase"),
    ("jo-ann", r"'-' at position 2 of 'jo-ann' is not in the vocabulary \(the letters a-z and the boundary '.'\)"),
])
def test_a_character_outside_the_vocabulary_is_named_with_its_position(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        CharTokenizer().encode(text)


def test_a_name_holding_the_boundary_character_is_refused() -> None:
    with pytest.raises(ValueError, match="holds the boundary character"):
        CharTokenizer().encode_name("a.b")


@pytest.mark.parametrize("ids", [[27], [-1], [1.0], [True]])
def test_decoding_something_that_is_not_a_token_id_is_refused(ids: list) -> None:
    with pytest.raises(ValueError, match="is not a token id; ids are whole numbers from 0 to 26"):
        CharTokenizer().decode(ids)


# --- the building blocks, against central differences -----------------------------


def test_dot_gradients() -> None:
    _assert_gradients_match_central_differences(lambda v: dot(v[:3], v[3:]), _numbers(6))


def test_linear_gradients_for_weights_and_inputs() -> None:
    # W is 3 x 4 (output-major), x has 4 numbers: 16 inputs in all
    _assert_gradients_match_central_differences(lambda v: _weighted_total(linear(_rows(v[:12], 4), v[12:])),
                                                _numbers(16))


def test_linear_gives_one_output_per_row() -> None:
    weights = [[Value(1.0), Value(2.0)], [Value(-1.0), Value(0.5)], [Value(0.0), Value(3.0)]]
    assert [y.data for y in linear(weights, [Value(10.0), Value(1.0)])] == [12.0, -9.5, 3.0]


def test_rmsnorm_gradients() -> None:
    _assert_gradients_match_central_differences(lambda v: _weighted_total(rmsnorm(v)), _numbers(5))


def test_rmsnorm_scales_to_a_root_mean_square_of_one() -> None:
    x = [Value(3.0), Value(-4.0)]  # mean square 12.5
    expected = [3.0 / math.sqrt(12.5 + 1e-5), -4.0 / math.sqrt(12.5 + 1e-5)]
    assert [y.data for y in rmsnorm(x)] == pytest.approx(expected, rel=1e-15)


def test_softmax_gradients() -> None:
    _assert_gradients_match_central_differences(lambda v: _weighted_total(softmax(v)), _numbers(4))


def test_softmax_of_large_scores_does_not_overflow() -> None:
    weights = softmax([Value(1000.0), Value(1000.0 + math.log(3.0))])
    assert [w.data for w in weights] == pytest.approx([0.25, 0.75], rel=1e-12)


def test_attention_head_gradients_for_query_keys_and_values() -> None:
    def head(v: list[Value]) -> Value:  # a query of 3 numbers, then 3 keys and 3 values of 3
        output, _ = attention_head(v[:3], _rows(v[3:12], 3), _rows(v[12:], 3))
        return _weighted_total(output)

    _assert_gradients_match_central_differences(head, _numbers(21))


def test_attention_head_weights_each_value_by_the_softmax_of_its_scaled_score() -> None:
    query, keys = [Value(1.0), Value(2.0)], [[Value(0.5), Value(0.0)], [Value(1.0), Value(1.0)]]
    values = [[Value(10.0), Value(0.0)], [Value(0.0), Value(10.0)]]
    scores = [0.5 / math.sqrt(2), 3.0 / math.sqrt(2)]  # query·key / sqrt(head size)
    expected = [math.exp(s) / sum(math.exp(t) for t in scores) for s in scores]
    output, weights = attention_head(query, keys, values)
    assert [w.data for w in weights] == pytest.approx(expected, rel=1e-14)
    assert [o.data for o in output] == pytest.approx([10.0 * expected[0], 10.0 * expected[1]], rel=1e-14)


def test_causal_self_attention_gradients() -> None:
    # 3 positions of 4 numbers, then wq, wk, wv of 4 x 4; two heads of 2
    def attention(v: list[Value]) -> Value:
        xs = _rows(v[:12], 4)
        wq, wk, wv = _rows(v[12:28], 4), _rows(v[28:44], 4), _rows(v[44:], 4)
        return _weighted_total([y for out in causal_self_attention(xs, wq, wk, wv, 2) for y in out])

    _assert_gradients_match_central_differences(attention, _numbers(60))


def test_mlp_gradients() -> None:
    # x of 3, fc1 of 5 x 3, fc2 of 2 x 5
    _assert_gradients_match_central_differences(lambda v: _weighted_total(mlp(v[:3], _rows(v[3:18], 3),
                                                                              _rows(v[18:], 5))), _numbers(28))


def test_add_gradients() -> None:
    _assert_gradients_match_central_differences(lambda v: _weighted_total(add(v[:3], v[3:])), _numbers(6))


def test_whole_gpt_loss_gradients() -> None:
    model = GPT(vocab_size=5, n_embd=4, n_head=2, n_layer=1, block_size=4, seed=0)
    parameters, tokens = model.parameters(), [4, 1, 3, 0, 4]
    checked = list(range(0, len(parameters), 7))  # a spread of them: each difference runs the model twice

    def loss_at(values: list[float]) -> float:
        for p, value in zip(parameters, values):
            p.data = value
        return next_token_loss(model, tokens).data

    start = [p.data for p in parameters]
    next_token_loss(model, tokens).backward()
    grads = [p.grad for p in parameters]
    for i in checked:
        assert grads[i] == pytest.approx(central_difference(loss_at, start, i), rel=1e-6, abs=1e-8), parameters[i].label


# --- attention is causal -----------------------------------------------------------


def test_attention_rows_sum_to_one_and_give_later_positions_no_weight() -> None:
    model = tiny_gpt()
    maps = model.attention_maps([6, 0, 3, 3, 1])
    assert len(maps) == TINY["n_layer"] and all(len(heads) == TINY["n_head"] for heads in maps)
    for table in (table for heads in maps for table in heads):
        for t, row in enumerate(table):
            assert sum(row) == pytest.approx(1.0, abs=1e-12)
            assert all(weight > 0.0 for weight in row[:t + 1])
            assert row[t + 1:] == [0.0] * (len(row) - t - 1)


def test_a_position_predicts_from_earlier_tokens_only() -> None:
    model = tiny_gpt()
    first, second = model([6, 0, 3, 3, 1]), model([6, 0, 3, 5, 2])  # differ from position 3 on
    for t in range(3):
        assert [z.data for z in first[t]] == [z.data for z in second[t]]
    assert [z.data for z in first[3]] != [z.data for z in second[3]]


def test_no_gradient_reaches_a_later_position() -> None:
    model = tiny_gpt()
    logits = model([6, 0, 3, 3, 1])
    _weighted_total(logits[1]).backward()
    assert all(p.grad == 0.0 for row in model.wpe[2:] for p in row)
    assert any(p.grad != 0.0 for p in model.wpe[1])


# --- the trace: what the model computed inside ------------------------------------


def _recipe_stages(model: GPT, tokens: list[int]) -> dict:
    """The issue's forward recipe written out again in numpy, every stage kept: arrays of (positions, ...).

    x = rmsnorm(wte[token] + wpe[position]); per layer: q, k, v = attn_wq·rmsnorm(x), ...; head h weighs
    the values of positions s <= t by softmax(q·k / sqrt(head_dim)); x = x + attn_wo · heads;
    hidden = relu(mlp_fc1 · rmsnorm(x)); x = x + mlp_fc2 · hidden; logits = lm_head · x.
    """
    weights = {name: np.array([[p.data for p in row] for row in matrix]) for name, matrix in model.state_dict().items()}

    def rmsnorm_rows(x: np.ndarray) -> np.ndarray:
        return x / np.sqrt((x * x).mean(axis=1, keepdims=True) + 1e-5)

    positions, head_dim = len(tokens), model.n_embd // model.n_head
    later = np.triu(np.ones((positions, positions), dtype=bool), k=1)
    x = rmsnorm_rows(weights["wte"][tokens] + weights["wpe"][:positions])
    stages: dict = {"embeddings": x, "layers": []}
    for layer in range(model.n_layer):
        w = {name: weights[f"layer{layer}.{name}"] for name in Block.MATRICES}
        h = rmsnorm_rows(x)
        q, k, v = h @ w["attn_wq"].T, h @ w["attn_wk"].T, h @ w["attn_wv"].T
        attention, heads = [], np.zeros_like(x)
        for head in range(model.n_head):
            part = slice(head * head_dim, (head + 1) * head_dim)
            scores = np.where(later, -np.inf, q[:, part] @ k[:, part].T / math.sqrt(head_dim))
            exps = np.exp(scores - scores.max(axis=1, keepdims=True))  # e**-inf = 0: no weight on the future
            attention.append(exps / exps.sum(axis=1, keepdims=True))
            heads[:, part] = attention[-1] @ v[:, part]
        x = x + heads @ w["attn_wo"].T
        hidden = np.maximum(rmsnorm_rows(x) @ w["mlp_fc1"].T, 0.0)
        x = x + hidden @ w["mlp_fc2"].T
        stages["layers"].append({"queries": q, "keys": k, "values": v, "attention": attention, "hidden": hidden,
                                 "outputs": x})
    stages["logits"] = x @ weights["lm_head"].T
    return stages


def _data(vectors: Sequence[Sequence[Value]]) -> list[list[float]]:
    return [[value.data for value in vector] for vector in vectors]


def _assert_numbers_equal(vectors: Sequence[Sequence[Value]], expected: np.ndarray) -> None:
    np.testing.assert_allclose(_data(vectors), expected, rtol=1e-12, atol=1e-12)


def test_the_trace_holds_every_stage_of_the_recipe() -> None:
    model, tokens = tiny_gpt(), [6, 2, 0, 5, 5, 1]
    trace, expected = model.trace(tokens), _recipe_stages(model, tokens)
    _assert_numbers_equal(trace.embeddings, expected["embeddings"])
    assert len(trace.layers) == TINY["n_layer"]
    for traced, stages in zip(trace.layers, expected["layers"]):
        for stage in ("queries", "keys", "values", "hidden", "outputs"):
            _assert_numbers_equal(getattr(traced, stage), stages[stage])
        assert len(traced.attention) == TINY["n_head"]
        for head, weights in zip(traced.attention, stages["attention"]):
            assert [len(row) for row in head] == [t + 1 for t in range(len(tokens))]  # position t sees 0..t
            for t, row in enumerate(head):
                _assert_numbers_equal([row], weights[t:t + 1, :t + 1])
    _assert_numbers_equal(trace.logits, expected["logits"])


def test_the_model_returns_the_logits_of_its_trace() -> None:
    model, tokens = tiny_gpt(), [6, 2, 0, 5]
    assert _data(model(tokens)) == _data(model.trace(tokens).logits)


def test_every_traced_value_is_a_node_the_logits_depend_on() -> None:
    trace = tiny_gpt().trace([6, 2, 0])
    graph = set(topological_order(Value.sum([z for row in trace.logits for z in row])))
    stages = [trace.embeddings] + [getattr(layer, stage) for layer in trace.layers
                                   for stage in ("queries", "keys", "values", "hidden", "outputs")]
    stages += [head for layer in trace.layers for head in layer.attention]
    traced = [value for vectors in stages for vector in vectors for value in vector]
    # 3 positions: an embedding of 8, then per layer a query, key, value and output of 8 and 32 neurons;
    # each of 2 heads in each of 2 layers weighs 1, 2 and 3 positions
    assert len(traced) == 3 * (8 + 2 * (4 * 8 + 32)) + 2 * 2 * (1 + 2 + 3)
    assert all(value in graph for value in traced)


def test_the_building_blocks_compute_what_a_block_traces() -> None:
    model, tokens = tiny_gpt(), [6, 2, 0, 5]
    trace = model.trace(tokens)
    m, xs = model.layers[0].matrices, trace.embeddings
    heads = causal_self_attention([rmsnorm(x) for x in xs], m["attn_wq"], m["attn_wk"], m["attn_wv"], TINY["n_head"])
    xs = [add(x, linear(m["attn_wo"], h)) for x, h in zip(xs, heads)]
    assert _data([add(x, mlp(rmsnorm(x), m["mlp_fc1"], m["mlp_fc2"])) for x in xs]) == _data(trace.layers[0].outputs)


def test_attention_maps_are_the_recipes_softmax_weights() -> None:
    model, tokens = tiny_gpt(), [6, 0, 3, 3, 1]
    maps, expected = model.attention_maps(tokens), _recipe_stages(model, tokens)["layers"]
    for layer in range(TINY["n_layer"]):
        np.testing.assert_allclose(maps[layer], expected[layer]["attention"], rtol=1e-12, atol=1e-15)


# --- the trace, replayed for many token lists at once -------------------------------

MIXED_READINGS = [[6], [6, 1, 0, 3], [6, 2], [6, 5, 4, 3, 2, 1], [6, 0, 1, 2], [6, 4, 4]]  # 1 to 6 tokens
SELECTIONS = {  # what trace_values may pick: a list of vectors, a ragged list per length, a single Value
    "hidden of layer 1": lambda trace: trace.layers[1].hidden,
    "logits": lambda trace: trace.logits,
    "head 1's weights at the last position": lambda trace: trace.layers[0].attention[1][-1],
    "one logit": lambda trace: trace.logits[0][3],
}


@pytest.mark.parametrize("selection", SELECTIONS)
def test_trace_values_are_the_scalar_traces_numbers_on_token_lists_of_mixed_lengths(selection: str) -> None:
    model, select = tiny_gpt(), SELECTIONS[selection]
    found = NextTokenReplay(model).trace_values(MIXED_READINGS, select)
    assert len(found) == len(MIXED_READINGS)
    for tokens, numbers in zip(MIXED_READINGS, found):
        expected = np.vectorize(lambda value: value.data, otypes=[float])(np.array(select(model.trace(tokens)),
                                                                                   dtype=object))
        assert numbers.shape == expected.shape
        np.testing.assert_allclose(numbers, expected, rtol=1e-12, atol=1e-12)


def test_trace_values_keep_the_order_of_the_token_lists_across_chunks(monkeypatch) -> None:
    monkeypatch.setattr(nn.sequence_replay, "CHUNK", 2)  # 5 lists of 3 tokens: three chunks
    model, readings = tiny_gpt(), [[6, 0, 1], [6, 1, 2], [6, 2, 3], [6, 3, 4], [6, 4, 5]]
    found = NextTokenReplay(model).trace_values(readings, lambda trace: trace.logits)
    for tokens, numbers in zip(readings, found):
        np.testing.assert_allclose(numbers, _data(model(tokens)), rtol=1e-12, atol=1e-12)


def test_a_models_traced_recordings_are_shared_and_do_not_keep_it_alive() -> None:
    model = tiny_gpt()
    NextTokenReplay.of(model).trace_values([[6, 1]], lambda trace: trace.logits)
    assert list(NextTokenReplay.of(model).traces) == [2]
    assert NextTokenReplay.of(model).traces is NextTokenReplay.of(model).traces
    alive = weakref.ref(model)
    del model
    gc.collect()
    assert alive() is None


@pytest.mark.parametrize("readings, message", [
    ([[6, 1], [6, 7]], r"token list 1, \[6, 7\], holds something that is not a token id"),
    ([[]], "token list 0 has 0 tokens; the model reads 1 to block_size=6"),
    ([[6] * 7], "token list 0 has 7 tokens"),
])
def test_trace_values_refuse_what_the_model_cannot_read(readings: list, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        NextTokenReplay(tiny_gpt()).trace_values(readings, lambda trace: trace.logits)


# --- the GPT -------------------------------------------------------------------------


def test_default_gpt_is_microgpts_with_4192_parameters() -> None:
    model = GPT()
    assert (model.vocab_size, model.n_embd, model.n_head, model.n_layer, model.block_size) == (27, 16, 4, 1, 16)
    assert model.num_parameters() == 4192


def test_state_dict_uses_microgpts_names_in_order() -> None:
    assert list(GPT().state_dict()) == MICROGPT_NAMES
    names = list(GPT(n_layer=2).state_dict())
    assert names == MICROGPT_NAMES + [name.replace("layer0", "layer1") for name in MICROGPT_NAMES[3:]]


def test_state_dict_matrices_are_output_major() -> None:
    n, vocab, block = 8, 7, 6
    shapes = {name: (len(matrix), len(matrix[0])) for name, matrix in tiny_gpt().state_dict().items()}
    assert shapes["wte"] == shapes["lm_head"] == (vocab, n)
    assert shapes["wpe"] == (block, n)
    for layer in ("layer0", "layer1"):
        assert all(shapes[f"{layer}.attn_{w}"] == (n, n) for w in ("wq", "wk", "wv", "wo"))
        assert shapes[f"{layer}.mlp_fc1"] == (4 * n, n)  # out of fc1: 4n rows; into it: n columns
        assert shapes[f"{layer}.mlp_fc2"] == (n, 4 * n)


def test_parameters_are_the_state_dict_entries_row_by_row() -> None:
    model = tiny_gpt()
    flat = [p for matrix in model.state_dict().values() for row in matrix for p in row]
    assert model.parameters() == flat
    assert model.parameters()[0].label == "wte[0][0]"
    assert model.parameters()[-1].label == "layer1.mlp_fc2[7][31]"


def test_initial_weights_are_gaussian_with_std_0_08() -> None:
    weights = [p.data for p in GPT(seed=0).parameters()]
    mean = sum(weights) / len(weights)
    std = math.sqrt(sum((w - mean) ** 2 for w in weights) / len(weights))
    # the standard error of a std estimated from n draws is about std / sqrt(2n): 0.0009 here
    assert abs(mean) < 4 * 0.08 / math.sqrt(len(weights))
    assert std == pytest.approx(0.08, abs=4 * 0.08 / math.sqrt(2 * len(weights)))


def test_the_same_seed_gives_the_same_weights() -> None:
    assert [p.data for p in GPT(seed=1).parameters()] == [p.data for p in GPT(seed=1).parameters()]
    assert [p.data for p in GPT(seed=1).parameters()] != [p.data for p in GPT(seed=2).parameters()]


def test_the_model_gives_vocab_size_logits_for_every_position() -> None:
    logits = GPT(seed=0)([26, 4, 12, 12])
    assert len(logits) == 4
    assert all(len(row) == 27 and all(isinstance(z, Value) for z in row) for row in logits)


@pytest.mark.parametrize("tokens, message", [
    (list(range(7)) * 3, "got 21 tokens; the model reads 1 to block_size=16"),
    ([], "got 0 tokens"),
    ([26, 27], "token 27 at position 1 is not a token id"),
    ([26, -1], "token -1 at position 1 is not a token id"),
    ([26, 1.5], "token 1.5 at position 1 is not a token id"),
])
def test_tokens_the_model_cannot_read_are_refused(tokens: list, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        GPT(seed=0)(tokens)


def test_text_instead_of_token_ids_is_refused_with_a_hint() -> None:
    with pytest.raises(TypeError, match="CharTokenizer"):
        GPT(seed=0)("emma")


def test_heads_must_split_the_embedding_evenly() -> None:
    with pytest.raises(ValueError, match="n_embd must split evenly into n_head heads"):
        GPT(n_embd=10, n_head=4)


# --- against PyTorch ------------------------------------------------------------------


def _torch_logits(torch, state: dict, tokens: list[int], n_head: int):
    """The same forward recipe in PyTorch, a whole sequence at once, with a causal mask."""
    def rmsnorm_rows(x):
        return x / torch.sqrt((x * x).mean(dim=-1, keepdim=True) + 1e-5)

    T = len(tokens)
    x = rmsnorm_rows(state["wte"][tokens] + state["wpe"][:T])
    later = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)
    layer = 0
    while f"layer{layer}.attn_wq" in state:
        w = {name: state[f"layer{layer}.{name}"] for name in ("attn_wq", "attn_wk", "attn_wv", "attn_wo",
                                                               "mlp_fc1", "mlp_fc2")}
        h = rmsnorm_rows(x)
        head_dim = w["attn_wq"].shape[0] // n_head
        q, k, v = ((h @ w[name].T).view(T, n_head, head_dim).transpose(0, 1)
                   for name in ("attn_wq", "attn_wk", "attn_wv"))
        scores = (q @ k.transpose(1, 2) / math.sqrt(head_dim)).masked_fill(later, -math.inf)
        heads = (torch.softmax(scores, dim=-1) @ v).transpose(0, 1).reshape(T, -1)
        x = x + heads @ w["attn_wo"].T
        x = x + torch.relu(rmsnorm_rows(x) @ w["mlp_fc1"].T) @ w["mlp_fc2"].T
        layer += 1
    return x @ state["lm_head"].T


def test_logits_and_gradients_equal_pytorchs(torch) -> None:
    model, tokens = tiny_gpt(), [6, 2, 0, 5, 5, 1, 6]  # 6 positions read, 6 next tokens predicted
    state = {name: torch.tensor([[p.data for p in row] for row in matrix], dtype=torch.float64, requires_grad=True)
             for name, matrix in model.state_dict().items()}
    expected_logits = _torch_logits(torch, state, tokens[:-1], TINY["n_head"])
    torch.nn.functional.cross_entropy(expected_logits, torch.tensor(tokens[1:])).backward()

    logits = model(tokens[:-1])
    next_token_loss(model, tokens).backward()
    assert [z.data for row in logits for z in row] == pytest.approx(expected_logits.flatten().tolist(),
                                                                    rel=1e-9, abs=1e-9)
    for name, matrix in model.state_dict().items():
        grads = [p.grad for row in matrix for p in row]
        assert grads == pytest.approx(state[name].grad.flatten().tolist(), rel=1e-9, abs=1e-12), name


# --- the loss, saving, training ------------------------------------------------------------


def test_next_token_loss_is_the_mean_surprise_at_each_next_token() -> None:
    model, tokens = tiny_gpt(), [6, 2, 0, 5, 6]
    surprise = []
    for row, target in zip(model(tokens[:-1]), tokens[1:]):
        total = sum(math.exp(z.data) for z in row)
        surprise.append(-math.log(math.exp(row[target].data) / total))
    assert next_token_loss(model, tokens).data == pytest.approx(sum(surprise) / len(surprise), rel=1e-12)


def test_next_token_loss_scores_at_most_block_size_predictions() -> None:
    model = tiny_gpt()  # block_size 6
    long = [6, 1, 2, 3, 4, 5, 0, 1, 6]
    assert next_token_loss(model, long).data == next_token_loss(model, long[:7]).data


def test_save_and_load_restore_every_weight_and_record_the_architecture(tmp_path: Path) -> None:
    saved, restored = tiny_gpt(seed=0), tiny_gpt(seed=1)
    save_parameters(saved, tmp_path / "gpt.json")
    load_parameters(restored, tmp_path / "gpt.json")
    assert [p.data for p in restored.parameters()] == [p.data for p in saved.parameters()]
    assert json.loads((tmp_path / "gpt.json").read_text(encoding="utf-8"))["architecture"] == TINY


def test_loading_into_a_gpt_of_another_shape_is_refused(tmp_path: Path) -> None:
    save_parameters(tiny_gpt(), tmp_path / "gpt.json")
    with pytest.raises(ValueError, match="n_head=2, .* n_head=4"):
        load_parameters(GPT(**{**TINY, "n_head": 4}), tmp_path / "gpt.json")


def test_linear_decay_falls_from_the_learning_rate_to_zero() -> None:
    schedule = linear_decay(0.01, 100)
    assert [schedule(step) for step in (0, 50, 100, 120)] == [0.01, 0.005, 0.0, 0.0]


def test_a_training_step_is_adam_with_microgpts_betas_on_one_name() -> None:
    trained, by_hand = tiny_gpt(), tiny_gpt()
    tokenizer = CharTokenizer(letters="abcdef")  # 7 symbols, as the tiny model reads
    train_on_names(trained, ["bad", "face"], steps=2, tokenizer=tokenizer)

    optimizer = Adam(by_hand.parameters(), lr=0.01, betas=(0.85, 0.99))
    for step, name in enumerate(["bad", "face"]):
        optimizer.zero_grad()
        next_token_loss(by_hand, tokenizer.encode_name(name)).backward()
        optimizer.lr = 0.01 * (1 - step / 2)
        optimizer.step()
    assert [p.data for p in trained.parameters()] == [p.data for p in by_hand.parameters()]


def test_training_on_a_name_makes_it_less_surprising() -> None:
    model, tokenizer = GPT(**TINY, seed=0), CharTokenizer(letters="abcdef")
    losses = train_on_names(model, ["cafe"], steps=40, tokenizer=tokenizer)
    assert len(losses) == 40
    assert losses[-1] < 0.5 * losses[0]


def test_the_callback_hears_every_step_and_its_loss() -> None:
    heard = []
    losses = train_on_names(GPT(**TINY, seed=0), ["ab", "cd", "ef"], steps=4, tokenizer=CharTokenizer("abcdef"),
                            callback=lambda step, loss: heard.append((step, loss)))
    assert heard == list(enumerate(losses))


def test_a_gradient_that_is_not_finite_stops_training_before_any_update() -> None:
    model = SteepAtZero()
    with pytest.raises(FloatingPointError, match="step 0 .*no parameter was changed"):
        train_on_names(model, ["a"], steps=3, tokenizer=CharTokenizer(letters="a"))
    assert model.p.data == 0.0


# --- sampling --------------------------------------------------------------------


def test_sampling_is_reproducible_by_seed() -> None:
    model, tokenizer = tiny_gpt(), CharTokenizer(letters="abcdef")
    first = sample_names(model, count=8, temperature=1.0, seed=5, tokenizer=tokenizer)
    assert sample_names(model, count=8, temperature=1.0, seed=5, tokenizer=tokenizer) == first
    assert sample_names(model, count=8, temperature=1.0, seed=6, tokenizer=tokenizer) != first


def test_sampled_names_are_letters_and_fit_the_block() -> None:
    names = sample_names(tiny_gpt(), count=10, temperature=2.0, seed=0, tokenizer=CharTokenizer(letters="abcdef"))
    assert len(names) == 10
    assert all(set(name) <= set("abcdef") and len(name) <= TINY["block_size"] for name in names)


def test_a_cold_temperature_picks_the_likeliest_letter_every_time() -> None:
    model, tokenizer = tiny_gpt(), CharTokenizer(letters="abcdef")
    tokens = [tokenizer.boundary_id]
    while len(tokens) <= model.block_size:  # greedy: always the largest logit
        row = model(tokens)[-1]
        best = max(range(len(row)), key=lambda i: row[i].data)
        if best == tokenizer.boundary_id:
            break
        tokens.append(best)
    greedy = tokenizer.decode(tokens[1:])
    assert sample_names(model, count=3, temperature=1e-6, seed=0, tokenizer=tokenizer) == [greedy] * 3


@pytest.mark.parametrize("temperature", [0.0, -1.0, math.nan])
def test_temperature_must_be_above_zero(temperature: float) -> None:
    with pytest.raises(ValueError, match="temperature must be a number above 0"):
        sample_names(tiny_gpt(), temperature=temperature)
