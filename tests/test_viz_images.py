"""Pictures of a digit classifier (viz.images): each computes what it claims, and each draws a readable page.

The model is trained for a few seconds only: the tests ask for what the
computations promise (ascent raises its target, saliency is the gradient,
occlusion measures a drop), not for a good classifier; its mistakes give the
pictures of mistakes something to show.
"""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest
from matplotlib.text import Text

import nn
from nn import MLP, Adam, classify, layer_outputs, predict, train
from tests.helpers import assert_saved_png_fits_a_page
from viz.images import (
    Regularisation,
    class_probabilities,
    confusion_matrix,
    draw_confusion,
    draw_explanations,
    draw_imagined,
    draw_layers_story,
    draw_misclassified,
    draw_top_examples,
    draw_weight_images,
    imagine,
    occlusion,
    saliency,
)

matplotlib.use("Agg")



@pytest.fixture(scope="module")
def digits() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(X_train, X_test, y_train, y_test): the shipped digits, split 75/25 by class."""
    X, y = nn.load_digits()
    return nn.train_test_split(X, y, 0.25, seed=0, stratify=True)


@pytest.fixture(scope="module")
def model(digits) -> MLP:
    """MLP(64, [32, 10]) after a few full-batch Adam steps on 300 digits: right on most test digits, not all."""
    X_train, X_test, y_train, y_test = digits
    model = MLP(64, [32, 10], seed=0)
    train(model, X_train[:300], y_train[:300], loss="softmax", steps=25, optimizer=Adam(model.parameters(), lr=0.03))
    accuracy = np.mean(classify(model, X_test) == y_test)
    assert 0.6 < accuracy < 1.0, f"the fixture should have learned something and still make mistakes: {accuracy:.1%}"
    return model


@pytest.fixture(scope="module")
def deep_model(digits) -> MLP:
    X_train, _, y_train, _ = digits
    model = MLP(64, [32, 16, 10], seed=0)
    train(model, X_train[:200], y_train[:200], loss="softmax", steps=10, optimizer=Adam(model.parameters(), lr=0.03))
    return model


def scalar_score(model: MLP, x: np.ndarray, cls: int) -> float:
    """The class's score from the scalar engine, one Value graph (not the batched replay)."""
    return model([float(v) for v in x])[cls].data


# --- activation maximisation ---------------------------------------------------


@pytest.mark.parametrize("target", [(-1, 3), (-1, 7), (0, 0), (0, 5)])
def test_imagine_raises_the_target_and_stays_in_0_to_1(model, target):
    layer, neuron = target
    image = imagine(model, target, steps=40)
    outputs = layer_outputs(model, np.vstack([np.full(64, 0.5), image.ravel()]))[layer][:, neuron]
    assert image.shape == (8, 8)
    assert image.min() >= 0.0 and image.max() <= 1.0
    assert outputs[1] > outputs[0] + 0.5, f"the output went from {outputs[0]:.3f} on grey to {outputs[1]:.3f}"


def test_a_larger_l2_penalty_imagines_with_less_ink(model):
    light = imagine(model, (-1, 2), steps=40, regularisation=Regularisation(l2=2.0, smoothness=0.5))
    heavy = imagine(model, (-1, 2), steps=40, regularisation=Regularisation(l2=0.0, smoothness=0.5))
    assert light.sum() < heavy.sum()


def test_imagine_is_repeatable_for_a_seed(model):
    np.testing.assert_array_equal(imagine(model, (-1, 1), steps=10, seed=4), imagine(model, (-1, 1), steps=10, seed=4))


# --- saliency and occlusion -----------------------------------------------------


def test_saliency_is_the_central_difference_of_the_class_score(model, digits):
    x, h = digits[1][5], 1e-6
    answer = int(classify(model, x[None])[0])
    gradient = saliency(model, x, answer).ravel()
    for pixel in range(64):
        up, down = x.copy(), x.copy()
        up[pixel] += h
        down[pixel] -= h
        estimate = (scalar_score(model, up, answer) - scalar_score(model, down, answer)) / (2 * h)
        assert gradient[pixel] == pytest.approx(estimate, abs=1e-6), f"pixel {pixel}"
    assert np.any(gradient != 0.0)


def test_occlusion_with_the_value_a_region_already_holds_changes_nothing(model, digits):
    x = digits[1][0]
    image = x.reshape(8, 8)
    drops = occlusion(model, x, 0, patch=2, fill=0.0)  # painting blank paper onto blank paper
    # a pixel whose every covering 2x2 patch is blank; the patches covering (r, c) start at rows r-1..r, columns c-1..c
    blank = np.ones((8, 8), dtype=bool)
    for row in range(8):
        for column in range(8):
            for top in range(max(row - 1, 0), min(row, 6) + 1):
                for left in range(max(column - 1, 0), min(column, 6) + 1):
                    blank[row, column] &= bool(np.all(image[top:top + 2, left:left + 2] == 0.0))
    assert blank.any() and not blank.all(), "the test digit should have both blank and inked places"
    np.testing.assert_allclose(drops[blank], 0.0, atol=1e-12)
    assert np.abs(drops[~blank]).max() > 1e-6, "hiding the ink should change the probability somewhere"


def test_occlusion_by_one_patch_over_the_whole_image_is_the_drop_to_a_grey_image(model, digits):
    x, cls = digits[1][3], 4
    drops = occlusion(model, x, cls, patch=8, fill=0.5)
    probabilities = class_probabilities(model, np.vstack([x, np.full(64, 0.5)]))[:, cls]
    np.testing.assert_allclose(drops, probabilities[0] - probabilities[1], atol=1e-12)


def test_class_probabilities_are_the_softmax_of_the_scores(model, digits):
    X = digits[1][:5]
    scores = predict(model, X)
    expected = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(class_probabilities(model, X), expected, rtol=1e-12)


def test_confusion_matrix_counts_every_test_digit_once(model, digits):
    _, X_test, _, y_test = digits
    counts = confusion_matrix(model, X_test, y_test)
    answers = classify(model, X_test)
    np.testing.assert_array_equal(counts.sum(axis=1), np.bincount(y_test, minlength=10))
    np.testing.assert_array_equal(counts.sum(axis=0), np.bincount(answers, minlength=10))
    assert np.trace(counts) == np.sum(answers == y_test)


# --- every picture --------------------------------------------------------------

PICTURES = {  # each draws with path=..., so that every function's own saving is tested too
    "weights": (lambda model, deep, X, y, path: draw_weight_images(model, path=path),
                "What each of the 32 first-layer neurons"),
    "top examples": (lambda model, deep, X, y, path: draw_top_examples(model, X, y, top=2, path=path),
                     "What excites each first-layer neuron"),
    "imagined classes": (lambda model, deep, X, y, path: draw_imagined(model, "class", steps=5, path=path),
                         "What the network imagines each digit looks like"),
    "imagined neurons": (lambda model, deep, X, y, path: draw_imagined(model, "neuron", steps=5, path=path),
                         "What each first-layer neuron imagines"),
    "explanations": (lambda model, deep, X, y, path: draw_explanations(model, X, y, path=path), "Why this answer?"),
    "layers story": (lambda model, deep, X, y, path: draw_layers_story(deep, X[0], label=int(y[0]), path=path),
                     "One digit followed through the network"),
    "confusion": (lambda model, deep, X, y, path: draw_confusion(model, X, y, path=path),
                  "Which digits are mistaken for which"),
    "misclassified": (lambda model, deep, X, y, path: draw_misclassified(model, X, y, most=16, path=path),
                      "the network gets wrong"),
}


@pytest.mark.parametrize("name", PICTURES)
def test_picture_draws_a_titled_page_with_a_colour_scale(name, model, deep_model, digits, tmp_path):
    draw, title = PICTURES[name]
    path = tmp_path / "pictures" / "picture.png"
    figure = draw(model, deep_model, digits[1], digits[3], path)
    texts = [text.get_text() for text in figure.findobj(Text)]
    assert any(title in text for text in texts), f"no title containing {title!r}"
    assert any(hasattr(ax, "_colorbar") for ax in figure.axes), "colour carries a number here: a scale must say which"
    assert_saved_png_fits_a_page(path)


def test_weight_tiles_are_the_first_layer_weights_in_pixel_order(model):
    figure = draw_weight_images(model)
    tiles = figure.axes[0].images
    assert len(tiles) == 32
    for tile, neuron in zip(tiles, model.layers[0].neurons):
        np.testing.assert_array_equal(tile.get_array(), np.array([w.data for w in neuron.w]).reshape(8, 8))


def test_top_examples_are_the_images_that_excite_the_neuron_most(model, digits):
    X_test, y_test = digits[1], digits[3]
    tiles = draw_top_examples(model, X_test, y_test, top=3).axes[0].images
    first_neuron = layer_outputs(model, X_test)[0][:, 0]
    strongest = np.sort(first_neuron)[::-1][:3]
    shown = [tile.get_array().ravel() for tile in tiles[1:4]]  # tile 0 is the neuron's weights
    shown_outputs = layer_outputs(model, np.array(shown))[0][:, 0]
    np.testing.assert_allclose(shown_outputs, strongest, rtol=1e-12)


def test_misclassified_shows_every_mistake(model, digits):
    X_test, y_test = digits[1], digits[3]
    mistakes = np.sum(classify(model, X_test) != y_test)
    tiles = draw_misclassified(model, X_test, y_test, most=500).axes[0].images
    assert len(tiles) == mistakes


def test_misclassified_says_so_when_there_is_no_mistake(model, digits):
    X_test = digits[1][:20]
    figure = draw_misclassified(model, X_test, classify(model, X_test))
    assert any("None: the network gets all 20 right" in text.get_text() for text in figure.findobj(Text))


# --- bad input -------------------------------------------------------------------


def test_a_non_square_input_count_is_refused(digits):
    with pytest.raises(ValueError, match="63 inputs make no square"):
        draw_weight_images(MLP(63, [4, 10], seed=0))
    with pytest.raises(ValueError, match="square"):
        imagine(MLP(63, [4, 10], seed=0), (-1, 0))


def test_a_model_without_one_output_per_class_is_refused(digits):
    one_score = MLP(64, [8, 1], seed=0)
    with pytest.raises(ValueError, match="one output per class"):
        draw_confusion(one_score, digits[1], digits[3])
    with pytest.raises(ValueError, match="one output per class"):
        saliency(one_score, digits[1][0], 0)


def test_labels_the_model_has_no_output_for_are_refused(digits):
    five_classes = MLP(64, [8, 5], seed=0)
    with pytest.raises(ValueError, match=r"labels must lie in 0..4"):
        draw_misclassified(five_classes, digits[1], digits[3])


def test_images_of_the_wrong_size_are_refused(model, digits):
    with pytest.raises(ValueError, match=r"shape \(n, 64\)"):
        draw_top_examples(model, digits[1][:, :63], digits[3])
    with pytest.raises(ValueError, match="one integer label per image"):
        draw_explanations(model, digits[1], digits[3][:-1])
    with pytest.raises(ValueError, match="one image of 64 pixels"):
        saliency(model, np.zeros(65), 0)
    with pytest.raises(ValueError, match="one image of 64 pixels"):
        draw_layers_story(model, digits[1][:2])


def test_bad_options_are_refused_with_their_value(model, digits):
    with pytest.raises(ValueError, match="only the first layer"):
        draw_weight_images(model, layer=1)
    with pytest.raises(ValueError, match="correct must be a whole number of digits >= 0, got -1"):
        draw_explanations(model, digits[1], digits[3], correct=-1)
    with pytest.raises(ValueError, match="kind must be"):
        draw_imagined(model, kind="pixel")
    with pytest.raises(ValueError, match="patch must be a whole number of pixels from 1 to 8, got 9"):
        occlusion(model, digits[1][0], 0, patch=9)
    with pytest.raises(ValueError, match="cls must be a class from 0 to 9, got 10"):
        saliency(model, digits[1][0], 10)
    with pytest.raises(IndexError, match="no neuron 40 in layer 0"):
        imagine(model, (0, 40))
    with pytest.raises(ValueError, match="no hidden layer"):
        draw_top_examples(MLP(64, [10], seed=0), digits[1], digits[3])
