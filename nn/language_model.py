"""Teach a character model names, and ask it for new ones.

The loss of a name is how surprised the model is by each next letter: at
every position, the cross-entropy between its prediction and the letter that
actually comes next, averaged over the name (``next_token_loss``). Training
comes two ways, which share one loop (``_train``): Adam with betas
(0.85, 0.99) and a learning rate falling linearly to 0, a step only when
every gradient is finite.

- ``train_on_names``: microgpt's recipe on the scalar engine, one name per
  step at a learning rate of 0.01. Slow, and every number can be looked at.
- ``train_on_name_batches``: hundreds of names per step, their loss the
  mean per predicted token, computed by replaying one recorded graph per
  name length over all the names of that length (``nn.sequence_replay``).
  Its defaults train ``GPT()`` to a held-out loss of 2.14 in about a minute.

``mean_next_token_loss`` scores a model on held-out names the same way, and
``bigram_loss`` is the baseline it should beat: counting which letter follows
which. Sampling runs the model forward one letter at a time, drawing each
next letter from its predicted probabilities, until it predicts the boundary
(``sample_names``).

    names = nn.load_names()
    train_names, test_names = nn.split_names(names)
    model = nn.GPT(seed=0)
    losses = train_on_name_batches(model, train_names, progress=True)
    print(mean_next_token_loss(model, test_names), bigram_loss(train_names, test_names))
    print(sample_names(model, count=20, temperature=0.5, seed=0))

Any model that maps a list of token ids to one list of logits per position
will do for the scalar path; the batched path also needs it to read one-hot
vectors of Values and to have ``vocab_size`` and ``block_size``, as
``nn.GPT`` does.
"""

from __future__ import annotations

import contextlib
import math
import numbers
import random
from collections.abc import Callable, Iterator, Sequence

import numpy as np

from engine import Value
from engine.value import explain_non_finite_grad
from nn.losses import softmax_cross_entropy_loss
from nn.optim import Adam, linear_decay
from nn.sequence_replay import NextTokenReplay
from nn.tokenizer import CharTokenizer
from nn.train import batches  # the same walk through fresh shuffles as train's mini-batches

__all__ = ["bigram_loss", "mean_next_token_loss", "next_token_loss", "sample_names", "train_on_name_batches",
           "train_on_names"]


def next_token_loss(model: Callable, tokens: Sequence[int]) -> Value:
    """-1/n * sum_t log p(tokens[t+1] | tokens[0..t]): the mean surprise at each next token.

    ``tokens`` is a whole training sequence, such as ``encode_name("emma")``
    (boundary, e, m, m, a, boundary): the model reads all but the last token
    and is scored on predicting tokens[1:]. A sequence longer than the model's
    ``block_size`` is scored on its first ``block_size`` predictions, as in
    microgpt (no name of ``load_names`` is that long).
    """
    n = min(len(tokens) - 1, getattr(model, "block_size", len(tokens)))
    if n < 1:
        raise ValueError(f"next_token_loss: got {len(tokens)} tokens; it takes at least 2 (read one, predict one)")
    return softmax_cross_entropy_loss(model(tokens[:n]), list(tokens[1:n + 1]))


def train_on_names(
    model,
    names: Sequence[str],
    steps: int,
    tokenizer: CharTokenizer | None = None,
    learning_rate: float = 0.01,
    betas: tuple[float, float] = (0.85, 0.99),
    callback: Callable[[int, float], None] | None = None,
    progress: bool = False,
) -> list[float]:
    """Train ``model`` on one name per step, ``steps`` times; the loss of each step's name, before its update.

    Step i reads ``names[i % len(names)]`` (shuffle the names first, as
    ``split_names`` does, so that the model never sees them in the file's
    order). Each step: the name's ``next_token_loss``, backward, one Adam
    step with the learning rate of ``linear_decay(learning_rate, steps)``.
    ``callback(step, loss)`` runs after every step; ``progress`` shows a bar.
    A loss or gradient that is not finite stops training with a
    FloatingPointError before it reaches the parameters.
    """
    _check_steps(steps, "train_on_names")
    if not names:
        raise ValueError("train_on_names: got no names to train on")
    tokenizer = tokenizer if tokenizer is not None else CharTokenizer()

    def one_name(step: int) -> tuple[float, str, Callable[[], str]]:
        name = names[step % len(names)]
        loss = next_token_loss(model, tokenizer.encode_name(name))
        loss.backward()  # refuses a loss that is not finite, before anything changes
        return loss.data, repr(name), lambda: explain_non_finite_grad(loss)

    return _train(model, steps, one_name, learning_rate, betas, callback, progress, "train_on_names", "name")


def train_on_name_batches(
    model,
    names: Sequence[str],
    steps: int = 300,
    batch_size: int = 256,
    learning_rate: float = 0.05,
    betas: tuple[float, float] = (0.85, 0.99),
    seed: int | None = 0,
    tokenizer: CharTokenizer | None = None,
    callback: Callable[[int, float], None] | None = None,
    progress: bool = False,
) -> list[float]:
    """Train ``model`` on ``batch_size`` names per step through the replay; each step's loss, before its update.

    The batched path: the same Adam and linear decay as ``train_on_names``,
    but each step's loss is the mean per predicted token over a batch of
    names (``NextTokenReplay.loss``), computed by replaying one recorded
    graph per name length over every name of that length at once. The
    batches walk through fresh shuffles of the names (drawn from ``seed``).
    Every name is encoded before the first step, so a name the tokenizer
    cannot read fails at once.

    The defaults are the recipe, measured for ``GPT()`` on the training split
    of ``split_names(load_names())``: 300 steps of 256 names (77,000 names,
    2.7 passes over the 28,829) at a learning rate of 0.05 reach a held-out
    loss of 2.14 nats per token (seeds 0, 1, 2: 2.140, 2.142, 2.144) in about
    a minute on two cores (63 s, 1,220 names a second); the bigram count
    model scores 2.45. Smaller rates and batches did less well in the same
    time (300 steps of 128 names: 2.21 at 0.01, 2.18 at 0.02), and larger
    batches no better (200 steps of 512: 2.15). A step's time grows slowly
    with its size (32 names: 0.22 s, 512: 0.45 s), since the replay's numpy
    calls, more than the numbers they work on, take the time: large batches pay.
    """
    _check_steps(steps, "train_on_name_batches")
    if type(batch_size) is not int or batch_size < 1:
        raise ValueError(f"train_on_name_batches: batch_size must be a whole number >= 1, got {batch_size!r}")
    sequences = _encoded(names, tokenizer, "train_on_name_batches")
    replay = NextTokenReplay.of(model)
    row_batches = batches(len(sequences), min(batch_size, len(sequences)), np.random.default_rng(seed))

    def one_batch(step: int) -> tuple[float, str, Callable[[], str]]:
        rows = next(row_batches)
        loss = replay.loss([sequences[i] for i in rows], backward=True)
        return loss, f"a batch of {len(rows)} names", replay.explain_non_finite_grad

    return _train(model, steps, one_batch, learning_rate, betas, callback, progress, "train_on_name_batches", "step")


def _check_steps(steps: object, caller: str) -> None:
    if type(steps) is not int or steps < 1:
        raise ValueError(f"{caller}: steps must be a whole number >= 1, got {steps!r}")


def _encoded(names: Sequence[str], tokenizer: CharTokenizer | None, caller: str) -> list[list[int]]:
    """Every name as a training sequence (boundary, letters, boundary); a name that cannot be read is named."""
    if len(names) == 0:
        raise ValueError(f"{caller}: got no names")
    tokenizer = tokenizer if tokenizer is not None else CharTokenizer()
    sequences = []
    for i, name in enumerate(names):
        try:
            sequences.append(tokenizer.encode_name(name))
        except (TypeError, ValueError) as error:
            raise type(error)(f"{caller}: name {i}: {error}") from None
    return sequences


_UNCHANGED = "no parameter was changed; lower the learning rate"


def _train(
    model,
    steps: int,
    step_loss: Callable[[int], tuple[float, str, Callable[[], str]]],
    learning_rate: float,
    betas: tuple[float, float],
    callback: Callable[[int, float], None] | None,
    progress: bool,
    caller: str,
    unit: str,
) -> list[float]:
    """The loop both paths share: Adam with linear decay, a step only on finite gradients, the losses.

    ``step_loss(step)`` adds the step's gradients to the parameters and
    returns its loss, what it read (for an error message) and a function
    that explains a gradient that is not finite.
    """
    parameters = model.parameters()
    optimizer = Adam(parameters, lr=learning_rate, betas=betas)
    schedule = linear_decay(learning_rate, steps)
    losses = []
    with _progress_bar(steps, progress, unit) as show:
        for step in range(steps):
            optimizer.zero_grad()
            try:
                loss, what, explain_grad = step_loss(step)
            except FloatingPointError as error:  # the loss is not finite: refused before any gradient
                raise FloatingPointError(f"{caller}: step {step}: {error}; {_UNCHANGED}") from None
            if not math.isfinite(sum(p.grad for p in parameters)):  # a NaN or infinity anywhere spoils the sum
                raise FloatingPointError(f"{caller}: step {step} ({what}): {explain_grad()}; {_UNCHANGED}")
            optimizer.lr = schedule(step)
            optimizer.step()
            losses.append(loss)
            show(loss)
            if callback is not None:
                callback(step, loss)
    return losses


def mean_next_token_loss(model, names: Sequence[str], tokenizer: CharTokenizer | None = None) -> float:
    """The model's mean cross-entropy per predicted token over ``names``, in nats: the held-out loss.

    Each name of n letters is n + 1 predictions (its letters, then the
    boundary that ends it; at most ``block_size`` of them), and every
    prediction counts once: the mean of ``next_token_loss`` over the names,
    each weighted by its number of predictions. Computed by the
    batched replay (``NextTokenReplay``), so the 3,204 test names of
    ``split_names(load_names())`` take a fraction of a second.
    """
    return NextTokenReplay.of(model).loss(_encoded(names, tokenizer, "mean_next_token_loss"))


def bigram_loss(train_names: Sequence[str], test_names: Sequence[str], tokenizer: CharTokenizer | None = None) -> float:
    """The baseline to beat: a bigram count model's mean cross-entropy per predicted token on ``test_names``.

    The bigram model predicts each token from the one before it alone:

        p(b | a) = (count(a, b) + 1) / (count(a) + vocab_size)

    counting the pairs of neighbouring tokens in the training sequences
    (boundary, letters, boundary), with add-one (Laplace) smoothing, so that
    a pair never seen in training still gets a small probability. It is
    scored on the test names' predictions exactly as ``mean_next_token_loss``
    scores a model (every prediction of every name; none is cut at a
    block size, since a bigram model has none).
    """
    tokenizer = tokenizer if tokenizer is not None else CharTokenizer()
    counts = np.ones((tokenizer.vocab_size, tokenizer.vocab_size))  # the added one
    np.add.at(counts, _neighbours(train_names, tokenizer, "bigram_loss"), 1.0)
    log_probabilities = np.log(counts / counts.sum(axis=1, keepdims=True))
    return float(-log_probabilities[_neighbours(test_names, tokenizer, "bigram_loss")].mean())


def _neighbours(names: Sequence[str], tokenizer: CharTokenizer, caller: str) -> tuple[np.ndarray, np.ndarray]:
    """Every pair of neighbouring tokens in the names' sequences: (the token before, the token after)."""
    pairs = [(a, b) for tokens in _encoded(names, tokenizer, caller) for a, b in zip(tokens, tokens[1:])]
    previous, following = np.array(pairs).T
    return previous, following


def sample_names(
    model,
    count: int = 20,
    temperature: float = 0.5,
    seed: int | None = 0,
    tokenizer: CharTokenizer | None = None,
) -> list[str]:
    """``count`` new names, each drawn letter by letter from the model's predictions.

    A name starts as the boundary token; the model's logits z for the next
    token become probabilities softmax(z / temperature), one token is drawn
    from them, and it is appended, until the model draws the boundary (the
    name is finished) or its ``block_size`` positions are full. A temperature
    below 1 sharpens the distribution towards the likeliest letters (0.5 is
    microgpt's), above 1 flattens it. The same seed gives the same names.
    """
    if not isinstance(temperature, numbers.Real) or not 0.0 < temperature < math.inf:
        raise ValueError(f"sample_names: temperature must be a number above 0, got {temperature!r}")
    tokenizer = tokenizer if tokenizer is not None else CharTokenizer()
    rng = random.Random(seed)
    names = []
    for _ in range(count):
        tokens = [tokenizer.boundary_id]
        while len(tokens) <= model.block_size:
            logits = model(tokens)[-1]
            token = rng.choices(range(len(logits)), weights=_probabilities(logits, temperature))[0]
            if token == tokenizer.boundary_id:
                break
            tokens.append(token)
        names.append(tokenizer.decode(tokens[1:]))
    return names


def _probabilities(logits: Sequence[Value], temperature: float) -> list[float]:
    """softmax(z / temperature) in plain floats: sampling needs no graph."""
    scaled = [z.data / temperature for z in logits]
    largest = max(scaled)
    exps = [math.exp(s - largest) for s in scaled]
    total = sum(exps)
    return [e / total for e in exps]


@contextlib.contextmanager
def _progress_bar(steps: int, shown: bool, unit: str) -> Iterator[Callable[[float], None]]:
    """A function to call with each step's loss: it moves a progress bar, or does nothing."""
    if not shown:
        yield lambda loss: None
        return
    from tqdm import tqdm

    with tqdm(total=steps, desc="training", unit=unit) as bar:
        def show(loss: float) -> None:
            bar.set_postfix(loss=f"{loss:.4f}")
            bar.update(1)

        yield show
