"""nn.train and nn.evaluate: the training loop and evaluating a model on many points."""

import numpy as np
import pytest

from engine import Value
from nn import MLP, SGD, Adam, make_moons, make_spirals, make_xor
from nn.evaluate import classify, find_hardest, hardest_point, input_gradients, layer_outputs, predict
from nn.train import Diverged, History, train


def test_training_reaches_full_accuracy_on_xor():
    X, y = make_xor(n=100, noise=0.1, seed=0)
    model = MLP(2, [8, 8, 1], activation="tanh", seed=0)
    history = train(model, X, y, loss="bce", optimizer=Adam(model.parameters(), lr=0.05), steps=150)
    assert history.accuracy[-1] == 1.0
    assert history.loss[-1] < history.loss[0]


def test_micrograd_recipe_reaches_full_accuracy_on_moons():
    X, y = make_moons(n=100, noise=0.1, seed=1337)
    model = MLP(2, [16, 16, 1], seed=1337)
    history = train(model, X, y, loss="hinge", l2=1e-4, learning_rate=lambda k: 1.0 - 0.9 * k / 100, steps=100)
    assert history.accuracy[-1] == 1.0


@pytest.mark.parametrize("loss, outputs, activation", [("hinge", 1, "relu"), ("mse", 1, "tanh"),
                                                       ("bce", 1, "sigmoid"), ("softmax", 3, "relu")])
def test_batched_and_scalar_training_give_the_same_history(loss, outputs, activation):
    X, y = make_spirals(n=30, classes=3, seed=2) if outputs == 3 else make_moons(n=30, seed=2)
    histories, weights = [], []
    for batched in (True, False):
        model = MLP(2, [5, outputs], activation=activation, seed=4)
        histories.append(train(model, X, y, loss=loss, l2=1e-3, learning_rate=0.1, steps=4, batched=batched))
        weights.append([p.data for p in model.parameters()])
    np.testing.assert_allclose(histories[0].loss, histories[1].loss, rtol=1e-12)
    assert histories[0].accuracy == histories[1].accuracy
    np.testing.assert_allclose(weights[0], weights[1], rtol=1e-11, atol=1e-14)


def test_history_records_every_step_and_test_figures():
    X, y = make_moons(n=40, seed=0)
    model = MLP(2, [4, 1], seed=0)
    seen = []
    history = train(model, X[:30], y[:30], X_test=X[30:], y_test=y[30:], steps=5,
                    callback=lambda step, h: seen.append((step, len(h))))
    assert isinstance(history, History)
    assert len(history.loss) == len(history.accuracy) == len(history.test_loss) == len(history.test_accuracy) == 5
    assert seen == [(k, k + 1) for k in range(5)]


def test_learning_rate_schedule_sets_the_optimizer_rate_each_step():
    X, y = make_moons(n=20, seed=0)
    model = MLP(2, [3, 1], seed=0)
    history = train(model, X, y, steps=3, learning_rate=lambda k: 1.0 / (k + 1))
    assert history.learning_rate == [1.0, 0.5, 1.0 / 3]


def test_mini_batches_cover_the_data_and_are_reproducible():
    X, y = make_moons(n=50, seed=0)
    runs = []
    for _ in range(2):
        model = MLP(2, [4, 1], seed=0)
        runs.append(train(model, X, y, steps=6, batch_size=16, seed=3).loss)
    assert runs[0] == runs[1]
    model = MLP(2, [4, 1], seed=0)
    assert train(model, X, y, steps=6, batch_size=16, seed=4).loss != runs[0]


def test_sgd_step_equals_the_hand_computed_update_with_l2():
    X = np.array([[1.0, 2.0]])
    y = np.array([0])  # hinge label -1: loss = relu(1 + score)
    model = MLP(2, [1], seed=0)
    w1, w2, b = (p.data for p in model.parameters())
    score = b + w1 * 1.0 + w2 * 2.0
    assert 1 + score > 0  # the hinge is active, so d loss / d score = +1
    grads = np.array([1.0, 2.0, 1.0]) + 2 * 0.01 * np.array([w1, w2, b])
    train(model, X, y, loss="hinge", l2=0.01, learning_rate=0.5, steps=1,
          optimizer=SGD(model.parameters(), lr=0.5))
    np.testing.assert_allclose([p.data for p in model.parameters()], np.array([w1, w2, b]) - 0.5 * grads,
                               rtol=1e-12)


def test_history_loss_includes_the_l2_penalty_and_the_optimizer_is_left_as_it_was():
    X, y = make_moons(n=20, seed=0)
    model = MLP(2, [4, 1], seed=0)
    optimizer = Adam(model.parameters(), lr=0.01, weight_decay=0.5)
    history = train(model, X, y, loss="hinge", l2=0.01, steps=2, optimizer=optimizer)
    parameters = model.parameters()
    data_loss = np.mean([max(0.0, 1.0 - (2 * label - 1) * model(list(point)).data) for point, label in zip(X, y)])
    penalty = 0.01 * sum(p.data ** 2 for p in parameters)
    assert history.loss[-1] == pytest.approx(data_loss + penalty, rel=1e-12)
    assert optimizer.weight_decay == 0.5


def test_hardest_point_has_the_largest_scalar_loss():
    X, y = make_moons(n=30, noise=0.2, seed=3)
    model = MLP(2, [4, 1], seed=3)
    train(model, X, y, loss="mse", steps=5)
    scalar = [(model(list(point)).data - (2 * label - 1)) ** 2 for point, label in zip(X, y)]
    assert hardest_point(model, X, y, "mse") == int(np.argmax(scalar))


def test_find_hardest_gives_the_largest_loss_and_no_note_when_it_is_above_zero():
    X, y = make_moons(n=30, noise=0.2, seed=3)
    model = MLP(2, [4, 1], seed=3)
    scalar = [max(0.0, 1.0 - (2 * label - 1) * model(list(point)).data) for point, label in zip(X, y)]
    hardest = find_hardest(model, X, y, "hinge")
    assert max(scalar) > 0.0
    assert hardest.index == int(np.argmax(scalar)) and hardest.loss == pytest.approx(max(scalar))
    assert hardest.note == ""


def model_beyond_the_margin() -> tuple[MLP, np.ndarray, np.ndarray]:
    """Every point of class 1 and every score at least 1: every hinge loss is 0."""
    X, _ = make_moons(n=30, noise=0.2, seed=3)
    model = MLP(2, [4, 1], activation="tanh", seed=3)
    # four tanh outputs in [-1, 1], times weights in [-1, 1], move the score less than 4 from the bias
    model.layers[-1].neurons[0].b.data = 10.0
    return model, X, np.ones(len(X), dtype=int)


def test_when_every_loss_is_zero_the_point_nearest_the_boundary_is_chosen_and_the_note_says_why():
    model, X, y = model_beyond_the_margin()
    scores = [model(list(point)).data for point in X]
    assert min(scores) >= 1.0  # so that every hinge loss is 0
    hardest = find_hardest(model, X, y, "hinge")
    assert hardest.index == int(np.argmin(np.abs(scores))) and hardest.loss == 0.0
    assert "hinge loss 0" in hardest.note and "beyond the margin" in hardest.note
    assert hardest_point(model, X, y, "hinge") == hardest.index


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"loss": "nope"}, "unknown loss"),
        ({"steps": -1}, "steps"),
        ({"steps": True}, "steps"),
        ({"steps": 2.0}, "steps"),
        ({"batch_size": 0}, "batch_size"),
        ({"batch_size": 2.5}, "batch_size"),
        ({"batch_size": True}, "batch_size"),
        ({"l2": -1.0}, "l2"),
        ({"l2": "x"}, "l2"),
        ({"l2": np.nan}, "l2"),
        ({"learning_rate": "fast"}, "learning_rate"),
        ({"learning_rate": np.inf}, "learning_rate"),
        ({"X_test": np.zeros((2, 2))}, "y_test"),
        ({"y_test": np.zeros(2, dtype=int)}, "X_test"),
        ({"loss": "softmax"}, "one output per class"),
    ],
)
def test_bad_training_arguments_are_refused_before_any_change(kwargs, message):
    X, y = make_moons(n=10, seed=0)
    model = MLP(2, [3, 1], seed=0)
    before = [p.data for p in model.parameters()]
    with pytest.raises(ValueError, match=message):
        train(model, X, y, **kwargs)
    assert [p.data for p in model.parameters()] == before


def test_bad_data_shapes_are_refused():
    model = MLP(2, [3, 1], seed=0)
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        train(model, np.zeros((5, 3)), np.zeros(5, dtype=int))
    with pytest.raises(ValueError, match="labels must lie in 0..1"):
        train(model, np.zeros((5, 2)), np.array([0, 1, 2, 0, 1]))
    with pytest.raises(ValueError, match="integer class labels"):
        train(model, np.zeros((5, 2)), np.zeros(5))


def test_diverging_training_stops_with_a_clear_error():
    X, y = make_moons(n=20, seed=0)
    model = MLP(2, [8, 1], activation="relu", seed=0)
    with pytest.raises(FloatingPointError, match="lower the learning rate"), pytest.warns(RuntimeWarning):
        train(model, X, y, loss="mse", learning_rate=1e6, steps=20)


def test_evaluate_matches_the_scalar_engine_point_by_point():
    model = MLP(2, [5, 4, 3], activation="tanh", seed=1)
    X = np.random.default_rng(0).normal(size=(20, 2))
    fast, slow = layer_outputs(model, X), layer_outputs(model, X, batched=False)
    assert [a.shape for a in fast] == [(20, 5), (20, 4), (20, 3)]
    for a, b in zip(fast, slow):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    np.testing.assert_allclose(predict(model, X), [[v.data for v in model(list(row))] for row in X], rtol=1e-12)
    assert classify(model, X).tolist() == np.argmax(predict(model, X), axis=1).tolist()


def test_input_gradients_match_scalar_backward_and_leave_parameters_alone():
    model = MLP(2, [4, 1], activation="tanh", seed=2)
    X = np.random.default_rng(1).normal(size=(6, 2))
    grads = input_gradients(model, X)
    for row, grad in zip(X, grads):
        inputs = [Value(float(v)) for v in row]
        model(inputs).backward()
        np.testing.assert_allclose(grad, [x.grad for x in inputs], rtol=1e-12)
    model.zero_grad()
    input_gradients(model, X, layer=0, neuron=3)
    assert all(p.grad == 0.0 for p in model.parameters())
    with pytest.raises(IndexError):
        input_gradients(model, X, layer=0, neuron=4)


def test_decision_boundary_grid_of_200_by_200_is_evaluated_in_one_replay():
    model = MLP(2, [16, 16, 1], seed=0)
    xs = np.linspace(-2, 2, 200)
    grid = np.array([(a, b) for b in xs for a in xs])
    scores = predict(model, grid)
    assert scores.shape == (40000, 1)
    np.testing.assert_allclose(scores[123, 0], model(list(grid[123])).data, rtol=1e-12)


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
@pytest.mark.parametrize("loss", ["hinge", "mse", "bce", "softmax"])
def test_batched_gradients_equal_the_sum_of_per_sample_scalar_gradients(loss, activation):
    from engine.batch import record
    from nn.losses import LOSSES

    classes = 3 if loss == "softmax" else 1
    model = MLP(2, [6, 5, classes], activation=activation, seed=7)
    rng = np.random.default_rng(11)
    X = rng.normal(scale=1.5, size=(25, 2))
    y = rng.integers(0, max(classes, 2), size=25)
    targets = LOSSES[loss].targets(y, classes)

    def sample_loss(x1, x2, *t):
        return LOSSES[loss].sample(model([x1, x2]), t)

    model.zero_grad()
    scalar_losses = []
    for i in range(len(X)):
        value = sample_loss(*[Value(float(v)) for v in X[i]], *[float(t[i]) for t in targets])
        value.backward()
        scalar_losses.append(value.data)
    scalar_grads = [p.grad for p in model.parameters()]

    model.zero_grad()
    recording = record(sample_loss, [0.0, 0.0] + [float(t[0]) for t in targets])
    (batch_losses,) = recording.forward([X[:, 0], X[:, 1], *targets])
    recording.backward([np.ones(len(X))])
    np.testing.assert_allclose(batch_losses, scalar_losses, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose([p.grad for p in model.parameters()], scalar_grads, rtol=1e-12, atol=1e-15)


# --- nothing non-finite gets in or out --------------------------------------------------


def _moons_with(value: float, row: int, column: int):
    X, y = make_moons(n=20, seed=0)
    X[row, column] = value
    return X, y


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_train_refuses_non_finite_inputs_naming_the_row_and_column(bad):
    X, y = _moons_with(bad, row=3, column=1)
    model = MLP(2, [4, 1], seed=0)
    before = [p.data for p in model.parameters()]
    with pytest.raises(ValueError, match=rf"train: X holds {bad} at row 3, column 1"):
        train(model, X, y, steps=3)
    assert [p.data for p in model.parameters()] == before


def test_train_refuses_a_nan_in_the_test_set_or_the_labels():
    X, y = make_moons(n=20, seed=0)
    model = MLP(2, [4, 1], seed=0)
    X_test = X.copy()
    X_test[5, 0] = np.nan
    with pytest.raises(ValueError, match="X_test holds nan at row 5, column 0"):
        train(model, X, y, X_test=X_test, y_test=y, steps=1)
    labels = y.astype(float)
    labels[2] = np.nan
    with pytest.raises(ValueError, match="y holds nan at row 2"):
        train(model, X, labels, steps=1)
    with pytest.raises(ValueError, match="y_test holds nan at row 2"):
        train(model, X, y, X_test=X, y_test=labels, steps=1)


@pytest.mark.parametrize("helper", [predict, classify, layer_outputs, input_gradients])
def test_evaluation_helpers_refuse_non_finite_points(helper):
    X = np.zeros((4, 2))
    X[2, 1] = np.inf
    with pytest.raises(ValueError, match="holds inf at row 2, column 1"):
        helper(MLP(2, [3, 1], seed=0), X)


def _last_good_parameters(model, **options):
    """Train until the error, and return the error and the parameters after the last step that succeeded."""
    snapshots = [[p.data for p in model.parameters()]]
    with pytest.raises(FloatingPointError) as raised:
        train(model, callback=lambda step, history: snapshots.append([p.data for p in model.parameters()]),
              **options)
    return raised.value, snapshots[-1]


@pytest.mark.parametrize("batched", [True, False])
def test_an_overflowing_step_names_the_operation_and_leaves_the_parameters_as_they_were(batched):
    X, y = make_moons(n=20, seed=0)
    model = MLP(2, [8, 1], seed=0)
    with pytest.warns(RuntimeWarning, match="training is diverging"):
        error, last_good = _last_good_parameters(model, X=X, y=y, loss="mse", learning_rate=1e6, steps=20,
                                                 batched=batched)
    message = str(error)
    assert "train: step 3 of 20" in message
    assert "**" in message and "overflows a float" in message  # (score - target) ** 2 did
    assert "lower the learning rate" in message
    # what happened, without the step and the advice: for a caller that words its own (the playground)
    assert isinstance(error, Diverged) and error.what in message
    assert "overflows a float" in error.what and "step 3" not in error.what and "learning rate" not in error.what
    assert [p.data for p in model.parameters()] == last_good
    assert all(p.grad == 0.0 for p in model.parameters())


@pytest.mark.parametrize("batched", [True, False])
def test_a_non_finite_gradient_stops_the_step_before_any_update(batched):
    # score = w * x with x = 1.7e308 and w = 1e-308: the loss (score - 1)**2 is finite,
    # but d loss / d w = 2 * (score - 1) * x overflows
    model = MLP(1, [1], seed=0)
    w, b = model.parameters()
    w.data, b.data = 1e-308, 0.0
    with pytest.raises(FloatingPointError, match="a gradient is not finite") as raised:
        train(model, np.array([[1.7e308]]), np.array([1]), loss="mse", steps=1, batched=batched)
    assert "L1.N1.w1" in str(raised.value)
    assert (w.data, b.data) == (1e-308, 0.0)
    assert (w.grad, b.grad) == (0.0, 0.0)


def test_a_loss_that_runs_away_gives_one_warning_with_the_step_and_the_advice():
    X, y = make_moons(n=20, seed=0)
    model = MLP(2, [8, 1], seed=0)
    with pytest.warns(RuntimeWarning) as warned:
        train(model, X, y, loss="mse", learning_rate=0.5, steps=3, optimizer=SGD(model.parameters(), lr=30.0))
    messages = [str(w.message) for w in warned if "diverging" in str(w.message)]
    assert len(messages) == 1
    assert "after step" in messages[0] and "lower the learning rate" in messages[0]


def test_ordinary_training_gives_no_warning(recwarn):
    X, y = make_moons(n=20, seed=0)
    train(MLP(2, [8, 1], seed=0), X, y, steps=30)
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


def test_empty_data_is_refused_with_a_message():
    with pytest.raises(ValueError, match="X has no rows"):
        train(MLP(2, [4, 1], seed=0), np.zeros((0, 2)), np.zeros(0, dtype=int))


def test_softmax_rows_are_probabilities_even_for_scores_whose_exp_overflows() -> None:
    from nn.evaluate import softmax_rows

    probabilities = softmax_rows(np.array([[1.0, 2.0, 3.0], [1000.0, 1000.0, -1000.0]]))
    assert np.allclose(probabilities.sum(axis=1), 1.0)
    assert np.allclose(probabilities[0], np.exp([1.0, 2.0, 3.0]) / np.exp([1.0, 2.0, 3.0]).sum())
    assert np.allclose(probabilities[1], [0.5, 0.5, 0.0])
