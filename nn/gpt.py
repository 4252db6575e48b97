"""A tiny GPT built from Values: the chapter after the MLP.

An MLP maps one input to one output. A language model reads a sequence of
tokens (letters here; ``nn.tokenizer`` turns text into ids) and predicts, at
every position, the token that comes next. This file builds one from the same
engine Values as the MLP, in the GPT-2 layout without biases and with karpathy's
microgpt's choices (RMS norm, ReLU, Gaussian initial weights of std 0.08).
For a list of tokens t_0 .. t_(T-1), position by position:

    x_t      = rmsnorm(wte[t_t] + wpe[t])                        look up and add two rows
    per layer:
    x_t      = x_t + attn_wo · heads(rmsnorm(x))_t                attention: mixes in earlier positions
    x_t      = x_t + mlp_fc2 · relu(mlp_fc1 · rmsnorm(x_t))       MLP: thinks about each position alone
    logits_t = lm_head · x_t                                      one score per token of the vocabulary

``rmsnorm(v) = v / sqrt(mean(v**2) + 1e-5)``. Attention is where the positions
talk: head h scores every position s <= t by how well its key k_s matches the
query q_t, turns the scores into weights that add up to 1 with
``softmax(q_t·k_s / sqrt(head_dim))``, and returns the weighted sum of the
values v_s. Positions after t get no weight at all (the model is *causal*):
what it predicts at t may only depend on what it has read so far.

A matrix is a list of rows of Values, output-major like PyTorch's
``Linear.weight``: ``linear(W, x)`` gives one output per row. Every weighted
sum, a row against a vector or a query against a key, is one ``Value.dot``
node, so a drawn graph stays readable and backward has fewer nodes to visit.
The building blocks are plain functions over lists of Values; ``Block`` and
``GPT`` only hold the matrices and call them in order.

``model.trace(tokens)`` is that forward pass with what it computed on the
way kept (a ``GPTTrace``): the embeddings, each layer's queries, keys, values,
attention weights, MLP neurons and outputs (a ``BlockTrace``), and the logits,
all live Values of the one graph. ``model(tokens)`` is its logits, so what a
picture reads from a trace is what the model computes.
"""

from __future__ import annotations

import math
import numbers
import random
from collections.abc import Sequence
from dataclasses import dataclass

from engine import Value
from nn.losses import softmax
from nn.module import Module

__all__ = [
    "GPT",
    "GPTTrace",
    "Block",
    "BlockTrace",
    "INIT_STD",
    "attention_head",
    "causal_attention",
    "causal_self_attention",
    "dot",
    "gaussian_matrix",
    "linear",
    "mlp",
    "mlp_hidden",
    "rmsnorm",
]

INIT_STD = 0.08  # microgpt's: every weight starts as a draw from N(0, 0.08**2)
RMS_EPS = 1e-5  # keeps rmsnorm finite for a vector of zeros

Vector = list[Value]
Matrix = list[list[Value]]


# --- the building blocks ---------------------------------------------------


def gaussian_matrix(rows: int, columns: int, rng: random.Random, name: str, std: float = INIT_STD) -> Matrix:
    """``rows`` lists of ``columns`` leaves drawn from N(0, std**2), labelled "name[i][j]"."""
    return [[Value(rng.gauss(0.0, std), label=f"{name}[{i}][{j}]") for j in range(columns)] for i in range(rows)]


def dot(a: Sequence[Value], b: Sequence[Value]) -> Value:
    """a1*b1 + a2*b2 + ... + an*bn as one node."""
    # Value.dot is a neuron's sum, bias + w·x; these sums have no bias, so it gets a zero leaf.
    return Value.dot(a, b, Value(0.0))


def linear(weights: Sequence[Sequence[Value]], x: Sequence[Value]) -> Vector:
    """W · x, without a bias: output i is row i of W against x, one dot node each."""
    no_bias = Value(0.0)  # one zero leaf for all the rows (a leaf per row made a training step 1.1x slower)
    return [Value.dot(row, x, no_bias) for row in weights]


def rmsnorm(x: Sequence[Value]) -> Vector:
    """x / sqrt(mean(x**2) + 1e-5): the vector scaled to a root mean square of 1 (almost).

    It keeps the numbers flowing into every layer at the same size, however
    large the residual sum has grown. GPT-2's LayerNorm also subtracts the mean
    and learns a scale and a shift; RMS norm does neither, as in microgpt.
    """
    mean_square = dot(x, x) * (1.0 / len(x))
    scale = (mean_square + RMS_EPS) ** -0.5
    return [xi * scale for xi in x]


def attention_head(query: Sequence[Value], keys: Sequence[Sequence[Value]],
                   values: Sequence[Sequence[Value]]) -> tuple[Vector, Vector]:
    """One head at one position: (its output, its attention weights).

    weights_s = softmax(query·key_s / sqrt(d))     over the positions s it may see
    output    = sum_s weights_s * value_s          a mix of their values, d numbers

    Dividing by sqrt(d) (d = the head's size) keeps the scores' spread the same
    whatever d is, so the softmax neither flattens nor saturates as heads grow.
    """
    scale = 1.0 / math.sqrt(len(query))
    weights = softmax([score * scale for score in linear(keys, query)])  # the keys as rows, against the query
    output = linear(list(zip(*values)), weights)  # coordinate i: the values' i-th numbers against the weights
    return output, weights


def causal_attention(queries: Sequence[Sequence[Value]], keys: Sequence[Sequence[Value]],
                     values: Sequence[Sequence[Value]], n_head: int) -> tuple[list[Vector], list[list[Vector]]]:
    """Every head at every position: (the heads' outputs, side by side; each head's attention weights).

    Head h works on slice h of every query, key and value, ``head_dim``
    numbers wide, and at position t reads positions 0..t only. outputs[t]
    joins the heads' outputs at t back into one vector; weights[h][t] are
    head h's t + 1 weights at t.
    """
    head_dim = len(queries[0]) // n_head
    outputs: list[Vector] = [[] for _ in queries]
    weights: list[list[Vector]] = []
    for h in range(n_head):
        part = slice(h * head_dim, (h + 1) * head_dim)
        weights.append([])
        for t, query in enumerate(queries):
            seen = range(t + 1)  # itself and the positions before it: never the future
            output, row = attention_head(query[part], [keys[s][part] for s in seen], [values[s][part] for s in seen])
            outputs[t] += output
            weights[h].append(row)
    return outputs, weights


def causal_self_attention(xs: Sequence[Sequence[Value]], wq: Matrix, wk: Matrix, wv: Matrix,
                          n_head: int) -> list[Vector]:
    """Every position's heads, side by side: position t reads positions 0..t only.

    Each position's vector x_t gives a query q_t = wq·x_t (what it looks for),
    a key k_t = wk·x_t (what it offers) and a value v_t = wv·x_t (what it
    passes on); "self" because all three come from the same sequence. Then
    ``causal_attention`` mixes them. ``Block.trace`` takes these two steps
    too, and keeps what they make.
    """
    queries, keys, values = ([linear(w, x) for x in xs] for w in (wq, wk, wv))
    return causal_attention(queries, keys, values, n_head)[0]


def mlp_hidden(x: Sequence[Value], fc1: Matrix) -> Vector:
    """relu(fc1 · x): the MLP's neurons, 4x as many numbers as x, each kept only where positive."""
    return [h.relu() for h in linear(fc1, x)]


def mlp(x: Sequence[Value], fc1: Matrix, fc2: Matrix) -> Vector:
    """fc2 · relu(fc1 · x): widen to 4x the size, keep the positive parts, narrow back."""
    return linear(fc2, mlp_hidden(x, fc1))


def add(a: Sequence[Value], b: Sequence[Value]) -> Vector:
    """a + b, element by element: the residual connection that adds a block's output to its input."""
    return [ai + bi for ai, bi in zip(a, b)]


# --- the model -----------------------------------------------------------------


@dataclass(frozen=True)
class BlockTrace:
    """What one layer computed, position by position: live Values of one forward pass.

    queries[t], keys[t], values[t]   n_embd Values each, the heads side by side
                                     (head h is slice h * head_dim .. (h + 1) * head_dim)
    attention[h][t]                  head h's weights at position t over positions 0..t, summing to 1
    hidden[t]                        the MLP's 4 * n_embd neurons, relu(mlp_fc1 · rmsnorm(x_t))
    outputs[t]                       x_t after the layer: what the next layer, or lm_head, reads
    """

    queries: list[Vector]
    keys: list[Vector]
    values: list[Vector]
    attention: list[list[Vector]]
    hidden: list[Vector]
    outputs: list[Vector]


@dataclass(frozen=True)
class GPTTrace:
    """What ``GPT.trace(tokens)`` computed, position by position: live Values of one forward pass.

    embeddings[t]   rmsnorm(wte[token_t] + wpe[t]), what the first layer reads
    layers[i]       layer i's BlockTrace
    logits[t]       the vocab_size scores of the token after position t: what ``model(tokens)`` returns
    """

    embeddings: list[Vector]
    layers: list[BlockTrace]
    logits: list[Vector]


class Block(Module):
    """One transformer layer: attention, then an MLP, each added onto the vector it read.

    The six matrices keep microgpt's names (``attn_wq``, ..., ``mlp_fc2``);
    ``GPT.state_dict`` prefixes them with the layer, "layer0.attn_wq".
    """

    MATRICES = ("attn_wq", "attn_wk", "attn_wv", "attn_wo", "mlp_fc1", "mlp_fc2")

    def __init__(self, n_embd: int, n_head: int, rng: random.Random, name: str) -> None:
        shapes = {"attn_wq": (n_embd, n_embd), "attn_wk": (n_embd, n_embd), "attn_wv": (n_embd, n_embd),
                  "attn_wo": (n_embd, n_embd), "mlp_fc1": (4 * n_embd, n_embd), "mlp_fc2": (n_embd, 4 * n_embd)}
        self.matrices = {key: gaussian_matrix(*shapes[key], rng, f"{name}.{key}") for key in self.MATRICES}
        self.n_head = n_head
        self.name = name

    def __call__(self, xs: Sequence[Sequence[Value]]) -> list[Vector]:
        return self.trace(xs).outputs

    def trace(self, xs: Sequence[Sequence[Value]]) -> BlockTrace:
        """The layer on every position (see the module docstring), keeping what it computed on the way."""
        m = self.matrices
        normed = [rmsnorm(x) for x in xs]
        queries, keys, values = ([linear(m[key], x) for x in normed] for key in ("attn_wq", "attn_wk", "attn_wv"))
        heads, attention = causal_attention(queries, keys, values, self.n_head)
        xs = [add(x, linear(m["attn_wo"], h)) for x, h in zip(xs, heads)]
        hidden = [mlp_hidden(rmsnorm(x), m["mlp_fc1"]) for x in xs]
        outputs = [add(x, linear(m["mlp_fc2"], h)) for x, h in zip(xs, hidden)]
        return BlockTrace(queries, keys, values, attention, hidden, outputs)

    def parameters(self) -> list[Value]:
        return [p for matrix in self.matrices.values() for row in matrix for p in row]


class GPT(Module):
    """A GPT over ``vocab_size`` tokens: ``model(tokens)`` gives every position's next-token logits.

    ``GPT()`` is microgpt's: 27 tokens (a-z and the boundary), vectors of 16
    numbers split over 4 heads, one layer, at most 16 positions; 4,192
    parameters. ``seed`` makes the initial weights reproducible.

    >>> model = GPT(seed=0)
    >>> logits = model([26, 4, 12])           # the boundary, "e", "m"
    >>> len(logits), len(logits[0])           # 3 positions, 27 scores each
    (3, 27)
    """

    def __init__(self, vocab_size: int = 27, n_embd: int = 16, n_head: int = 4, n_layer: int = 1,
                 block_size: int = 16, seed: int | None = None) -> None:
        sizes = {"vocab_size": vocab_size, "n_embd": n_embd, "n_head": n_head, "n_layer": n_layer,
                 "block_size": block_size}
        for key, size in sizes.items():
            if not isinstance(size, numbers.Integral) or isinstance(size, bool) or size < 1:
                raise ValueError(f"GPT({key}={size!r}): every size must be a positive int")
        if n_embd % n_head:
            raise ValueError(f"GPT(n_embd={n_embd}, n_head={n_head}): n_embd must split evenly into n_head heads")
        self.vocab_size, self.n_embd, self.n_head = int(vocab_size), int(n_embd), int(n_head)
        self.n_layer, self.block_size, self.seed = int(n_layer), int(block_size), seed
        rng = random.Random(seed)
        # drawn in microgpt's order: wte, wpe, lm_head, then each layer's six
        self.wte = gaussian_matrix(self.vocab_size, self.n_embd, rng, "wte")  # one row per token
        self.wpe = gaussian_matrix(self.block_size, self.n_embd, rng, "wpe")  # one row per position
        self.lm_head = gaussian_matrix(self.vocab_size, self.n_embd, rng, "lm_head")
        self.layers = [Block(self.n_embd, self.n_head, rng, f"layer{i}") for i in range(self.n_layer)]

    def __call__(self, tokens: Sequence[int | Sequence[Value]]) -> list[Vector]:
        """For each position, the ``vocab_size`` logits of the token that follows it.

        Each token is an id, or a one-hot vector of Values (see ``embed``).
        """
        return self.trace(tokens).logits

    def trace(self, tokens: Sequence[int | Sequence[Value]]) -> GPTTrace:
        """The forward pass on ``tokens``, keeping what it computed on the way (a ``GPTTrace``).

        >>> trace = GPT(seed=0).trace([26, 4, 12])
        >>> len(trace.layers[0].hidden), len(trace.layers[0].hidden[0])   # 3 positions, 64 neurons each
        (3, 64)
        """
        tokens = self._checked_tokens(tokens)
        embeddings = [rmsnorm(self.embed(token, t)) for t, token in enumerate(tokens)]
        layers, xs = [], embeddings
        for block in self.layers:
            layers.append(block.trace(xs))
            xs = layers[-1].outputs
        return GPTTrace(embeddings, layers, [linear(self.lm_head, x) for x in xs])  # no final norm, as in microgpt

    def attention_maps(self, tokens: Sequence[int]) -> list[list[list[list[float]]]]:
        """Every head's attention weights on ``tokens``: maps[layer][head][query][key], floats.

        Row t holds what position t attends to: positions 0..t, summing to 1,
        then zeros for the positions after it.
        """
        trace = self.trace(tokens)
        positions = len(trace.logits)
        return [[[[w.data for w in row] + [0.0] * (positions - len(row)) for row in head] for head in layer.attention]
                for layer in trace.layers]

    def embed(self, token: int | Sequence[Value], position: int) -> Vector:
        """wte[token] + wpe[position]: what the model knows about this token at this place.

        ``token`` is an id, or a one-hot vector: ``vocab_size`` Values, 1 at
        the token's id and 0 everywhere else. Then dimension d is the weighted
        sum ``wpe[position][d] + sum_v wte[v][d] * one_hot[v]``, one dot node:
        the zeros add nothing, so it is the same number as the lookup, exactly.
        """
        if isinstance(token, numbers.Integral):
            return add(self.wte[token], self.wpe[position])
        # The one-hot form is for the replay (nn.sequence_replay, engine.batch), which runs one
        # recorded graph for every name of a batch: a lookup would pick a different row for each
        # name, so the graph would differ, while a weighted sum over placeholders is one graph
        # for all, and the numbers fed into the placeholders pick the row.
        return [Value.dot(column, token, bias) for column, bias in zip(zip(*self.wte), self.wpe[position])]

    def _checked_tokens(self, tokens: Sequence[int | Sequence[Value]]) -> list[int | list[Value]]:
        if isinstance(tokens, (str, bytes)) or not hasattr(tokens, "__len__"):
            raise TypeError(f"GPT: expected a list of token ids, got {tokens!r}; "
                            "turn text into ids with nn.CharTokenizer().encode(text)")
        if not 1 <= len(tokens) <= self.block_size:
            raise ValueError(f"GPT: got {len(tokens)} tokens; the model reads 1 to block_size={self.block_size} "
                             f"(it has a position row for each), so pass at most the last {self.block_size}")
        return [self._checked_token(token, t) for t, token in enumerate(tokens)]

    def _checked_token(self, token: int | Sequence[Value], position: int) -> int | list[Value]:
        """A token id as an int, or a one-hot vector of Values as a list (its numbers are not checked)."""
        if isinstance(token, Sequence) and len(token) == self.vocab_size and all(isinstance(v, Value) for v in token):
            return list(token)
        if not isinstance(token, numbers.Integral) or isinstance(token, bool) or not 0 <= token < self.vocab_size:
            raise ValueError(f"GPT: token {token!r} at position {position} is not a token id; "
                             f"ids are whole numbers from 0 to vocab_size - 1 = {self.vocab_size - 1} "
                             f"(or one-hot vectors of {self.vocab_size} Values)")
        return int(token)

    def state_dict(self) -> dict[str, Matrix]:
        """Every matrix by microgpt's name: "wte", "wpe", "lm_head", "layer0.attn_wq", ... (the live Values)."""
        matrices = {"wte": self.wte, "wpe": self.wpe, "lm_head": self.lm_head}
        for layer in self.layers:
            matrices.update({f"{layer.name}.{key}": matrix for key, matrix in layer.matrices.items()})
        return matrices

    def parameters(self) -> list[Value]:
        return [p for matrix in self.state_dict().values() for row in matrix for p in row]

    def architecture(self) -> dict:
        return {"vocab_size": self.vocab_size, "n_embd": self.n_embd, "n_head": self.n_head,
                "n_layer": self.n_layer, "block_size": self.block_size}

    def __repr__(self) -> str:
        sizes = ", ".join(f"{key}={size}" for key, size in self.architecture().items())
        return f"GPT({sizes}, {self.num_parameters():,} parameters)"
