"""Sequences in the replay: the next-token loss of many names at once, from one recorded graph per length.

``engine.batch`` replays one recorded scalar graph over a whole batch, which
needs every sample to compute the same graph. A language model breaks that
twice. Its graph's *shape* depends on the sequence's length (a name of 4
letters is 5 predictions, each attending to the ones before it); and its
inputs *select* rows of a table (``wte[token]``), a different row per name.
So:

- one recording per length: a batch is grouped by length, and each group is
  replayed through the graph of its length, recorded the first time that
  length comes up and kept for the next batches;
- tokens enter as one-hot vectors of placeholders, ``vocab_size`` numbers per
  position with a 1 at the token's id, which ``GPT.embed`` turns into
  weighted sums against ``wte``'s columns. The graph is the same for every
  name; the numbers fed in pick the row. The targets come in the same way,
  since ``softmax_cross_entropy`` takes one target probability per class.

The recorded graph is the model's own forward pass (``model(one_hots)``),
so what runs is what ``draw_dot`` would draw, and its gradients equal the
scalar engine's to rounding (the tests ask for 1e-12).

    replay = NextTokenReplay(GPT(seed=0))
    sequences = [CharTokenizer().encode_name(name) for name in ["emma", "ava", "olivia"]]
    loss = replay.loss(sequences, backward=True)   # mean per predicted token; grads added to the parameters

The same replay reads the inside of a GPT for many names at once: a second
recording per length holds ``model.trace`` (``nn.gpt.GPTTrace``), whose Values
are nodes of that graph, so after one forward over a group every traced Value
has a number per name (``trace_values``, which ``viz.text`` uses for the MLP's
neurons on thousands of names).
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Callable, Sequence

import numpy as np

from engine import Value
from engine.batch import Recording, record
from nn.gpt import GPTTrace
from nn.losses import softmax_cross_entropy

__all__ = ["NextTokenReplay"]

# Names replayed at once. A replay keeps every node's value and local derivatives for every name:
# 256 names of 16 predictions hold about 80 MB. Larger chunks were also slower per name (512 names
# of 16 predictions: 0.67 s for forward and backward, against 0.12 s for 256), as the blocks outgrow the caches.
CHUNK = 256


class NextTokenReplay:
    """The next-token loss of a batch of token sequences, by replaying ``model``'s graph, one per length.

    A sequence is a whole training sequence, as ``next_token_loss`` takes it
    (``encode_name("emma")``: boundary, e, m, m, a, boundary): the model
    reads all but the last token and is scored on predicting the next one
    at each of the n = len - 1 positions, the first ``block_size`` of them
    when the sequence is longer.
    """

    def __init__(self, model, recordings: dict[int, Recording] | None = None,
                 traces: dict[int, tuple[Recording, GPTTrace]] | None = None) -> None:
        self.model = model
        # predictions per sequence -> the graph of one such sequence
        self.recordings = recordings if recordings is not None else {}
        # tokens read -> the graph of model.trace on that many tokens, and the trace (see traced)
        self.traces = traces if traces is not None else {}
        self._used: list[tuple[int, Recording]] = []  # the recordings the latest call replayed, to explain failures

    @classmethod
    def of(cls, model) -> NextTokenReplay:
        """A replay of ``model`` that shares the recordings of every other ``of(model)``: recording takes seconds.

        They are kept as long as the model lives (they hold its parameters,
        not the model, so keeping them does not keep the model alive).
        """
        return cls(model, _RECORDINGS.setdefault(model, {}), _TRACES.setdefault(model, {}))

    def recording(self, length: int) -> Recording:
        """The graph of one sequence with ``length`` predictions: the sum of their cross-entropies; cached.

        Its placeholders are the one-hot vectors of the ``length`` tokens read,
        then those of the ``length`` tokens to predict, ``vocab_size`` each.
        """
        if length not in self.recordings:
            vocab_size = self.model.vocab_size
            names = [f"{role}{t}[{v}]" for role in ("token", "next") for t in range(length) for v in range(vocab_size)]

            def sequence_loss(*placeholders: Value) -> Value:
                one_hots = [placeholders[i:i + vocab_size] for i in range(0, len(placeholders), vocab_size)]
                logits = self.model(one_hots[:length])
                return Value.sum([softmax_cross_entropy(z, target) for z, target in zip(logits, one_hots[length:])])

            example = [1.0 if v == 0 else 0.0 for _ in range(2 * length) for v in range(vocab_size)]
            self.recordings[length] = record(sequence_loss, example, names)
        return self.recordings[length]

    def traced(self, length: int) -> tuple[Recording, GPTTrace]:
        """The graph of ``model.trace`` on ``length`` tokens, and that trace, whose Values are its nodes; cached.

        Its placeholders are the one-hot vectors of the tokens read,
        ``vocab_size`` each; its outputs are the logits, which depend on every
        Value of the trace, so the recording holds them all.
        """
        if length not in self.traces:
            vocab_size = self.model.vocab_size
            names = [f"token{t}[{v}]" for t in range(length) for v in range(vocab_size)]
            traces = []  # what the recorded function traced, since record keeps only its outputs

            def logits(*placeholders: Value) -> list[Value]:
                one_hots = [placeholders[i:i + vocab_size] for i in range(0, len(placeholders), vocab_size)]
                traces.append(self.model.trace(one_hots))
                return [z for row in traces[0].logits for z in row]

            example = [1.0 if v == 0 else 0.0 for _ in range(length) for v in range(vocab_size)]
            self.traces[length] = (record(logits, example, names), traces[0])
        return self.traces[length]

    def trace_values(self, readings: Sequence[Sequence[int]], select: Callable[[GPTTrace], object]) -> list[np.ndarray]:
        """The numbers of the Values that ``select`` picks from ``model.trace(tokens)``, for every token list at once.

        ``select`` takes a trace and returns a Value, a list of them or a list
        of equally long lists (``lambda trace: trace.layers[0].hidden``: every
        position's MLP neurons); the answer holds, for each token list of
        ``readings`` in their order, an array of that shape: what
        ``model.trace(tokens)`` gives, to rounding (the tests ask for 1e-12).
        A token list is what the model reads, 1 to ``block_size`` ids. The lists
        are grouped by length, and each group is replayed through ``traced``.
        """
        groups: dict[int, list[int]] = {}  # length -> which token lists
        for i, tokens in enumerate(readings):
            if not 1 <= len(tokens) <= self.model.block_size:
                raise ValueError(f"NextTokenReplay.trace_values: token list {i} has {len(tokens)} tokens; the model "
                                 f"reads 1 to block_size={self.model.block_size}")
            self._check_ids(tokens, f"NextTokenReplay.trace_values: token list {i}")
            groups.setdefault(len(tokens), []).append(i)
        answers: list = [None] * len(readings)
        for length, members in groups.items():
            recording, trace = self.traced(length)
            nodes = np.array(select(trace), dtype=object)  # the selection's shape, with a Value in each cell
            for start in range(0, len(members), CHUNK):
                chunk = members[start:start + CHUNK]
                recording.forward(self._one_hot_columns(np.array([readings[i] for i in chunk])))
                numbers = np.array([recording.value_of(node) for node in nodes.flat])  # (nodes, token lists)
                for i, column in zip(chunk, numbers.T):
                    answers[i] = column.reshape(nodes.shape)
        return answers

    def loss(self, sequences: Sequence[Sequence[int]], backward: bool = False) -> float:
        """The mean cross-entropy per predicted token over all the sequences; with ``backward``, its gradients.

        That is sum_i sum_t loss_it / sum_i n_i: every prediction counts
        once, so a long name weighs more than a short one. It equals the
        mean of ``next_token_loss`` over the sequences weighted by their
        n_i. ``backward`` adds d(this mean)/d parameter to each parameter's
        ``grad``. A loss that is not finite raises FloatingPointError naming
        where it stopped being finite, before its group's backward (groups
        replayed before it have added their gradients already).
        """
        groups = self._grouped(sequences)
        count = sum(length * len(group) for length, group in groups.items())
        total, self._used = 0.0, []
        for length, group in sorted(groups.items()):
            recording = self.recording(length)
            self._used.append((length, recording))
            for start in range(0, len(group), CHUNK):
                tokens = group[start:start + CHUNK]
                read_then_predicted = np.concatenate([tokens[:, :-1], tokens[:, 1:]], axis=1)  # the placeholders' order
                per_sequence, = recording.forward(self._one_hot_columns(read_then_predicted))
                chunk_total = float(per_sequence.sum())
                if not math.isfinite(chunk_total):
                    raise FloatingPointError(f"the loss of the names of {length} predictions is {chunk_total}; "
                                             f"it first stopped being finite at {recording.explain_non_finite()}")
                if backward:
                    recording.backward([np.full(len(tokens), 1.0 / count)])
                total += chunk_total
        return total / count

    def explain_non_finite_grad(self) -> str:
        """After ``loss(..., backward=True)``: where the first gradient that is not finite came from."""
        for length, recording in self._used:
            explanation = recording.explain_non_finite_grad()
            if explanation != "every gradient is finite":
                return f"names of {length} predictions, {explanation}"
        return "every gradient is finite"

    def _grouped(self, sequences: Sequence[Sequence[int]]) -> dict[int, np.ndarray]:
        """The sequences by their number of predictions n: one array of shape (sequences, n + 1) per n."""
        if len(sequences) == 0:
            raise ValueError("NextTokenReplay.loss: got no sequences; a batch needs at least one name")
        block_size = self.model.block_size
        groups: dict[int, list[Sequence[int]]] = {}
        for i, tokens in enumerate(sequences):
            if len(tokens) < 2:
                raise ValueError(f"NextTokenReplay.loss: sequence {i} has {len(tokens)} tokens; it takes at "
                                 "least 2 (read one, predict one)")
            self._check_ids(tokens, f"NextTokenReplay.loss: sequence {i}")
            n = min(len(tokens) - 1, block_size)  # scored on at most block_size predictions, as next_token_loss
            groups.setdefault(n, []).append(tokens[:n + 1])
        return {n: np.array(group, dtype=np.int64) for n, group in groups.items()}

    def _check_ids(self, tokens: Sequence[int], which: str) -> None:
        """Refuse ``tokens`` unless every one is a token id; ``which`` names them in the message."""
        vocab_size = self.model.vocab_size
        if not all(isinstance(t, (int, np.integer)) and 0 <= t < vocab_size for t in tokens):
            raise ValueError(f"{which}, {list(tokens)!r}, holds something that is not a token id "
                             f"(whole numbers from 0 to {vocab_size - 1})")

    def _one_hot_columns(self, tokens: np.ndarray) -> np.ndarray:
        """A recording's input columns for a (sequences, k) array of ids: one row per placeholder, (t, v) in order.

        Row (t, v) is 1 where token t of a sequence is v, else 0.
        """
        one_hots = np.eye(self.model.vocab_size)[tokens]  # (sequences, k, vocab_size)
        return one_hots.reshape(len(tokens), -1).T


_RECORDINGS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # model -> its recordings, by length
_TRACES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # model -> its traced recordings, by length
