"""Specification of the GPT's batched path: sequences in the replay, batched training, the bigram baseline.

The replay must compute what the scalar engine computes, so most tests here
build the same loss both ways, on names of mixed lengths, and compare the
loss and every parameter's gradient to 1e-12. The training target has a fast
seeded version here; the full recipe's figures are in the demo's report.
"""

from __future__ import annotations

import gc
import math
import weakref

import pytest

from engine import Value
from nn import GPT, Adam, CharTokenizer, linear_decay, load_names, next_token_loss, split_names
from nn.language_model import bigram_loss, mean_next_token_loss, train_on_name_batches
from nn.sequence_replay import NextTokenReplay
from tests.helpers import TINY, SteepAtZero, tiny_gpt

TOKENIZER = CharTokenizer(letters="abcdef")  # 7 symbols, as the tiny model reads
# 1 to 8 letters: 2 to 9 predictions, the last two names longer than the block of 6
MIXED_NAMES = ["a", "bad", "face", "cafe", "ed", "dab", "fade", "abcde", "decaf", "abcdef", "fedcbaf", "acebdfab"]


def _predictions(name: str, block_size: int) -> int:
    """How many next tokens a name is scored on: its letters and the closing boundary, at most a block."""
    return min(len(name) + 1, block_size)


def _scalar_mean_per_token(model: GPT, names: list[str]) -> Value:
    """The batch loss on the scalar engine: next_token_loss of each name, weighted by its predictions."""
    weights = [_predictions(name, model.block_size) for name in names]
    total = Value.sum([next_token_loss(model, TOKENIZER.encode_name(name)) * weight
                       for name, weight in zip(names, weights)])
    return total * (1.0 / sum(weights))


def _encoded(names: list[str]) -> list[list[int]]:
    return [TOKENIZER.encode_name(name) for name in names]


# --- one model code path --------------------------------------------------------


def test_one_hot_tokens_give_exactly_the_logits_of_ids() -> None:
    model, tokens = tiny_gpt(), [6, 2, 0, 5, 1]
    one_hots = [[Value(1.0 if v == token else 0.0) for v in range(TINY["vocab_size"])] for token in tokens]
    assert [[z.data for z in row] for row in model(one_hots)] == [[z.data for z in row] for row in model(tokens)]


def test_the_one_hot_embedding_is_one_weighted_sum_per_dimension_over_wtes_column() -> None:
    model = tiny_gpt()
    one_hot = [Value(1.0 if v == 3 else 0.0) for v in range(TINY["vocab_size"])]
    embedding = model.embed(one_hot, 2)
    assert all(x.op == "dot" for x in embedding)
    assert [x.data for x in embedding] == [w.data + p.data for w, p in zip(model.wte[3], model.wpe[2])]


# --- the replay against the scalar engine ---------------------------------------------


def test_batched_loss_and_gradients_equal_the_scalar_engines_on_names_of_mixed_lengths() -> None:
    batched, scalar = tiny_gpt(), tiny_gpt()
    loss = NextTokenReplay(batched).loss(_encoded(MIXED_NAMES), backward=True)
    expected = _scalar_mean_per_token(scalar, MIXED_NAMES)
    expected.backward()
    assert loss == pytest.approx(expected.data, rel=1e-12)
    for name, matrix in batched.state_dict().items():
        ours = [p.grad for row in matrix for p in row]
        theirs = [p.grad for row in scalar.state_dict()[name] for p in row]
        assert ours == pytest.approx(theirs, rel=1e-12, abs=1e-14), name


def test_the_batch_loss_is_the_mean_per_predicted_token_not_per_name() -> None:
    model, names = tiny_gpt(), ["a", "fedcb"]  # 2 and 6 predictions
    short, long = (next_token_loss(model, TOKENIZER.encode_name(name)).data for name in names)
    assert NextTokenReplay(model).loss(_encoded(names)) == pytest.approx((2 * short + 6 * long) / 8, rel=1e-12)


def test_a_name_longer_than_the_block_is_scored_on_its_first_block_size_predictions() -> None:
    model, tokens = tiny_gpt(), TOKENIZER.encode_name("acebdfab")  # 9 predictions, block of 6
    assert NextTokenReplay(model).loss([tokens]) == pytest.approx(next_token_loss(model, tokens).data, rel=1e-12)


def test_backward_adds_to_the_gradients_and_a_forward_alone_adds_nothing() -> None:
    model = tiny_gpt()
    replay = NextTokenReplay(model)
    replay.loss(_encoded(MIXED_NAMES))
    assert all(p.grad == 0.0 for p in model.parameters())
    replay.loss(_encoded(MIXED_NAMES), backward=True)
    once = [p.grad for p in model.parameters()]
    replay.loss(_encoded(MIXED_NAMES), backward=True)
    assert [p.grad for p in model.parameters()] == pytest.approx([2 * g for g in once], rel=1e-12, abs=1e-15)


# --- recordings, cached --------------------------------------------------------


def test_there_is_one_recording_per_length_made_once() -> None:
    replay = NextTokenReplay(tiny_gpt())
    replay.loss(_encoded(["ab", "cd", "fade"]))  # 3, 3 and 5 predictions
    assert sorted(replay.recordings) == [3, 5]
    first = dict(replay.recordings)
    replay.loss(_encoded(["ef", "acebdfab"]))  # 3 again, and a long name cut to the block's 6
    assert sorted(replay.recordings) == [3, 5, 6]
    assert replay.recordings[3] is first[3] and replay.recordings[5] is first[5]


def test_a_recording_reads_one_hot_tokens_and_targets_per_position() -> None:
    recording = NextTokenReplay(tiny_gpt()).recording(3)
    assert len(recording.inputs) == 2 * 3 * TINY["vocab_size"]
    assert [x.label for x in recording.inputs[:2]] == ["token0[0]", "token0[1]"]
    assert recording.inputs[3 * TINY["vocab_size"]].label == "next0[0]"


def test_a_models_recordings_are_made_once_and_shared_by_its_replays() -> None:
    model = tiny_gpt()
    NextTokenReplay.of(model).loss(_encoded(["ab"]))
    assert list(NextTokenReplay.of(model).recordings) == [3]
    assert NextTokenReplay.of(model).recordings is NextTokenReplay.of(model).recordings
    assert NextTokenReplay.of(tiny_gpt()).recordings == {}


def test_kept_recordings_do_not_keep_the_model_alive() -> None:
    model = tiny_gpt()
    NextTokenReplay.of(model).loss(_encoded(["ab"]))
    alive = weakref.ref(model)
    del model
    gc.collect()
    assert alive() is None


def test_held_out_loss_is_the_batched_mean_per_predicted_token() -> None:
    model = tiny_gpt()
    expected = _scalar_mean_per_token(model, MIXED_NAMES).data
    assert mean_next_token_loss(model, MIXED_NAMES, TOKENIZER) == pytest.approx(expected, rel=1e-12)


# --- batched training ------------------------------------------------------------


def test_a_batched_step_is_adam_with_microgpts_betas_on_the_batch_mean() -> None:
    trained, by_hand = tiny_gpt(), tiny_gpt()
    names = ["bad", "face", "ed", "abcdef"]
    losses = train_on_name_batches(trained, names, steps=2, batch_size=len(names), learning_rate=0.01,
                                   tokenizer=TOKENIZER)

    optimizer = Adam(by_hand.parameters(), lr=0.01, betas=(0.85, 0.99))
    schedule = linear_decay(0.01, 2)
    for step in range(2):  # every step reads all four names: their order does not change the mean
        optimizer.zero_grad()
        loss = _scalar_mean_per_token(by_hand, names)
        loss.backward()
        assert losses[step] == pytest.approx(loss.data, rel=1e-12)
        optimizer.lr = schedule(step)
        optimizer.step()
    assert [p.data for p in trained.parameters()] == pytest.approx([p.data for p in by_hand.parameters()],
                                                                  rel=1e-9, abs=1e-12)


def test_batched_training_is_reproducible_by_seed() -> None:
    runs = [train_on_name_batches(tiny_gpt(), MIXED_NAMES, steps=3, batch_size=4, seed=seed, tokenizer=TOKENIZER)
            for seed in (1, 1, 2)]
    assert runs[0] == runs[1] != runs[2]


def test_the_loss_target_in_a_short_seeded_run() -> None:
    # The recipe (train_on_name_batches' defaults: 300 steps of 256 names) reaches 2.14 held out
    # in about a minute; 20 steps of 128 names (a few seconds) reach 2.38. Asked for here: below
    # 2.42 after those 20 steps, while the bigram count model scores 2.45 on the same split.
    train_names, test_names = split_names(load_names())
    model = GPT(seed=0)
    losses = train_on_name_batches(model, train_names, steps=20, batch_size=128)
    held_out = mean_next_token_loss(model, test_names)
    assert losses[0] == pytest.approx(math.log(27), abs=0.05)  # small initial weights: about uniform
    assert held_out < 2.42 < bigram_loss(train_names, test_names)


# --- the bigram baseline --------------------------------------------------------


def test_bigram_loss_is_a_hand_count_with_add_one_smoothing() -> None:
    tokenizer = CharTokenizer(letters="ab")  # a, b and the boundary "."
    # training pairs: .a twice, ab, b., a.   ->  p(a|.) = (2+1)/(2+3),  p(.|a) = (1+1)/(2+3)
    expected = -(math.log(3 / 5) + math.log(2 / 5)) / 2  # "a" is scored on: a after ., then . after a
    assert bigram_loss(["ab", "a"], ["a"], tokenizer) == pytest.approx(expected, rel=1e-12)


def test_bigram_baseline_on_the_names_split_is_about_2_45() -> None:
    train_names, test_names = split_names(load_names())
    assert bigram_loss(train_names, test_names) == pytest.approx(2.45, abs=0.01)


# --- bad input ------------------------------------------------------------------


def test_an_empty_batch_is_refused() -> None:
    with pytest.raises(ValueError, match="no sequences"):
        NextTokenReplay(tiny_gpt()).loss([])
    with pytest.raises(ValueError, match="train_on_name_batches: got no names"):
        train_on_name_batches(tiny_gpt(), [], steps=1, tokenizer=TOKENIZER)
    with pytest.raises(ValueError, match="mean_next_token_loss: got no names"):
        mean_next_token_loss(tiny_gpt(), [], TOKENIZER)


def test_a_name_outside_the_vocabulary_is_named_before_any_step() -> None:
    model = tiny_gpt()
    before = [p.data for p in model.parameters()]
    with pytest.raises(ValueError, match=r"train_on_name_batches: name 1: .*'z' at position 2 of 'abz'"):
        train_on_name_batches(model, ["bad", "abz"], steps=1, tokenizer=TOKENIZER)
    assert [p.data for p in model.parameters()] == before


def test_a_sequence_that_is_not_token_ids_is_refused() -> None:
    replay = NextTokenReplay(tiny_gpt())
    with pytest.raises(ValueError, match="sequence 1, .* is not a token id"):
        replay.loss([[6, 0, 6], [6, 7, 6]])  # 7 is past the vocabulary of 7
    with pytest.raises(ValueError, match="sequence 0 has 1 tokens; it takes at least 2"):
        replay.loss([[6]])


@pytest.mark.parametrize("options, message", [
    ({"steps": 0}, "steps must be a whole number >= 1"),
    ({"batch_size": 0}, "batch_size must be a whole number >= 1"),
    ({"batch_size": 2.5}, "batch_size must be a whole number >= 1"),
])
def test_bad_options_are_refused(options: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        train_on_name_batches(tiny_gpt(), ["bad"], tokenizer=TOKENIZER, **options)


def test_a_gradient_that_is_not_finite_stops_batched_training_before_any_update() -> None:
    model = SteepAtZero()
    with pytest.raises(FloatingPointError, match="train_on_name_batches: step 0 .*no parameter was changed"):
        train_on_name_batches(model, ["a", "aa"], steps=3, tokenizer=CharTokenizer(letters="a"))
    assert model.p.data == 0.0


def test_a_loss_that_is_not_finite_is_refused_and_explained() -> None:
    model = SteepAtZero(math.nan)
    message = "step 0: the loss of the names of 2 predictions is nan; .*leaf p is nan.*no parameter was changed"
    with pytest.raises(FloatingPointError, match=message):
        train_on_name_batches(model, ["a"], steps=1, tokenizer=CharTokenizer(letters="a"))
    assert math.isnan(model.p.data)
