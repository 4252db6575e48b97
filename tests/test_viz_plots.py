"""The pictures that open a network up: diagram, decision regions, neuron maps, saliency, health, curves.

Each picture is checked for what it claims to show, not just that it draws:
an edge per weight, an image per neuron, region colours that match the
model's classes, saliency equal to the engine's input gradients.
"""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest
from matplotlib.collections import LineCollection
from matplotlib.colors import to_rgb, to_rgba
from matplotlib.contour import ContourSet
from matplotlib.figure import Figure
from matplotlib.patches import Circle, Rectangle, Wedge

from nn import MLP, History, classify, input_gradients, layer_outputs, make_blobs, make_moons, predict, train
from tests.helpers import PNG_SIGNATURE
from viz.features import excite_neuron, plot_excitation, saliency_map
from viz.health import DEAD, SATURATION, plot_unit_health, unit_health
from viz.network import draw_mlp, edge_opacity
from viz.neurons import TILE_INCHES, TILES_PER_ROW, neuron_maps
from viz.plots import compare_boundaries, decision_boundary, plot_dataset, training_curves
from viz.style import NEGATIVE, PAGE_WIDTH, POSITIVE, SIGNED_CMAP, class_color, format_coordinate, input_plane, save

matplotlib.use("Agg")  # viz never uses pyplot, but a test run must never open a window either



@pytest.fixture(scope="module")
def moons() -> tuple[np.ndarray, np.ndarray]:
    return make_moons(60, 0.1, seed=1337)


@pytest.fixture(scope="module")
def trained(moons) -> tuple[MLP, History]:
    """A 2-8-8-1 ReLU network trained on the moons until it separates them well."""
    X, y = moons
    model = MLP(2, [8, 8, 1], seed=1337)
    history = train(model, X, y, loss="hinge", l2=1e-4, learning_rate=lambda k: 1.0 - 0.9 * k / 40, steps=40)
    assert history.accuracy[-1] > 0.85, "the fixture should be a model that has learned something"
    return model, history


@pytest.fixture(scope="module")
def three_classes() -> tuple[MLP, np.ndarray, np.ndarray]:
    X, y = make_blobs(90, centers=3, seed=0)
    model = MLP(2, [8, 8, 3], seed=0)
    train(model, X, y, loss="softmax", steps=30, learning_rate=0.2)
    return model, X, y


def pixels(figure: Figure) -> np.ndarray:
    """The figure rendered to an (height, width, 4) array."""
    figure.canvas.draw()
    return np.asarray(figure.canvas.buffer_rgba()).copy()


# --- every picture: a Figure, and a PNG on disk -------------------------------

PICTURES = {
    "draw_mlp": lambda model, history, X, y: draw_mlp(model),
    "draw_mlp with x and health": lambda model, history, X, y: draw_mlp(model, x=X[0], health=unit_health(model, X)),
    "decision_boundary": lambda model, history, X, y: decision_boundary(model, X, y, resolution=40),
    "neuron_maps": lambda model, history, X, y: neuron_maps(model, X, y, resolution=20),
    "saliency_map": lambda model, history, X, y: saliency_map(model, X, y, resolution=20, arrows=6),
    "plot_excitation": lambda model, history, X, y: plot_excitation(model, 1, 0, X, y, steps=10, resolution=20),
    "plot_unit_health": lambda model, history, X, y: plot_unit_health(model, unit_health(model, X)),
    "training_curves": lambda model, history, X, y: training_curves(history),
    "plot_dataset": lambda model, history, X, y: plot_dataset(X, y),
}


@pytest.mark.parametrize("name", PICTURES)
def test_picture_is_a_figure_saved_as_a_nonempty_png(name, trained, moons, tmp_path):
    model, history = trained
    X, y = moons
    figure = PICTURES[name](model, history, X, y)
    assert isinstance(figure, Figure)
    path = save(figure, tmp_path / "deeper" / f"{name}.png")
    assert path.stat().st_size > 1000
    assert path.read_bytes()[:8] == PNG_SIGNATURE


@pytest.mark.parametrize("name", PICTURES)
def test_picture_displays_itself_in_a_notebook(name, trained, moons):
    # Jupyter shows a cell's last value through _repr_png_; a plain Figure prints "<Figure size ...>"
    model, history = trained
    X, y = moons
    png = PICTURES[name](model, history, X, y)._repr_png_()
    assert png[:8] == PNG_SIGNATURE and len(png) > 1000


def test_path_argument_writes_the_picture(trained, moons, tmp_path):
    model, _ = trained
    X, y = moons
    path = tmp_path / "new folder" / "boundary.png"
    decision_boundary(model, X, y, resolution=30, path=path)
    assert path.read_bytes()[:8] == PNG_SIGNATURE


def test_picture_draws_into_a_given_axes(trained, moons):
    model, _ = trained
    X, y = moons
    host = Figure()
    ax = host.add_subplot()
    assert decision_boundary(model, X, y, ax=ax, resolution=30) is host
    assert draw_mlp(model, ax=ax) is host


@pytest.mark.parametrize("name", ["draw_mlp", "decision_boundary", "neuron_maps", "saliency_map"])
def test_trained_and_untrained_models_look_different(name, trained, moons):
    model, history = trained
    X, y = moons
    untrained = MLP(2, [8, 8, 1], seed=1337)  # the same start the trained model had
    before = pixels(PICTURES[name](untrained, history, X, y))
    after = pixels(PICTURES[name](model, history, X, y))
    assert before.shape != after.shape or not np.array_equal(before, after)


# --- the network diagram -------------------------------------------------------


def weight_edges(figure: Figure) -> list[LineCollection]:
    return [c for c in figure.axes[0].collections if str(c.get_label()).endswith("weights")]


@pytest.mark.parametrize("sizes", [[16, 16, 1], [8, 8, 3]])
def test_draw_mlp_draws_one_edge_per_weight_and_one_circle_per_neuron(sizes):
    model = MLP(2, sizes, seed=3)
    figure = draw_mlp(model)
    edges = weight_edges(figure)
    assert len(edges) == len(model.layers)
    for layer, collection in zip(model.layers, edges):
        assert len(collection.get_segments()) == layer.nin * layer.nout
    circles = [p for p in figure.axes[0].patches if isinstance(p, Circle)]
    assert len(circles) == sum(model.sizes)


def test_edge_width_grows_with_weight_magnitude_and_color_shows_sign():
    model = MLP(2, [8, 8, 1], seed=5)
    edges = weight_edges(draw_mlp(model))
    weights = np.array([w.data for layer in model.layers for neuron in layer.neurons for w in neuron.w])
    widths = np.concatenate([c.get_linewidths() for c in edges])
    colors = np.concatenate([c.get_colors()[:, :3] for c in edges])
    order = np.argsort(np.abs(weights))
    assert np.all(np.diff(widths[order]) >= 0), "a larger |weight| must never get a thinner edge"
    assert widths[order[-1]] > 5 * widths[order[0]]
    expected = np.where(weights[:, None] > 0, to_rgb(POSITIVE), to_rgb(NEGATIVE))
    assert np.allclose(colors, expected)


def test_draw_mlp_fills_neurons_with_their_output_for_x(trained, moons):
    model, _ = trained
    X, _ = moons
    first_layer = layer_outputs(model, X)[0]
    # a point for which some first-layer neurons are silent and some fire
    x = X[np.flatnonzero(np.any(first_layer == 0, axis=1) & np.any(first_layer > 0, axis=1))[0]]
    figure = draw_mlp(model, x=x)
    assert len(figure.axes) == 2, "the activation colour bar"
    circles = [p for p in figure.axes[0].patches if isinstance(p, Circle)]
    first_hidden = circles[model.nin:model.nin + model.layers[0].nout]
    outputs = layer_outputs(model, x[None, :])[0][0]
    silent = to_rgba(SIGNED_CMAP(0.5))
    for circle, output in zip(first_hidden, outputs):
        if output == 0.0:
            assert np.allclose(circle.get_facecolor(), silent, atol=0.01)
        else:
            assert not np.allclose(circle.get_facecolor(), silent, atol=0.01)


def test_draw_mlp_health_ring_is_full_and_dark_for_a_dead_neuron(moons):
    X, _ = moons
    model = MLP(2, [8, 8, 1], seed=2)
    model.layers[0].neurons[0].b.data = -100.0
    figure = draw_mlp(model, health=unit_health(model, X))
    full_rings = [
        p for p in figure.axes[0].patches
        if isinstance(p, Wedge) and p.theta2 - p.theta1 == 360 and np.allclose(p.get_facecolor(), to_rgba(DEAD))
    ]
    assert len(full_rings) >= 1


def hidden_centres(model: MLP) -> list[tuple[float, float, int, int]]:
    """(x, y, layer, neuron) of every hidden neuron, as draw_mlp places them: layer columns 4 apart, rows 1 apart."""
    centres = []
    for index, layer in enumerate(model.layers[:-1]):
        for j in range(layer.nout):
            centres.append((4.0 * (index + 1), (layer.nout - 1) / 2.0 - j, index, j))
    return centres


def test_draw_mlp_writes_in_each_hidden_neuron_its_output_for_x(trained, moons):
    model, _ = trained
    X, _ = moons
    figure = draw_mlp(model, x=X[3])
    outputs = layer_outputs(model, X[3:4])
    texts = {tuple(np.round(t.get_position(), 6)): t.get_text() for t in figure.axes[0].texts}
    for x, y, layer, neuron in hidden_centres(model):
        written = texts[(round(x, 6), round(y, 6))]
        assert float(written) == pytest.approx(outputs[layer][0, neuron], abs=0.051, rel=0.051)


def test_draw_mlp_without_an_input_writes_no_number_in_a_neuron(trained):
    model, _ = trained
    figure = draw_mlp(model)
    centres = {(round(x, 6), round(y, 6)) for x, y, _, _ in hidden_centres(model)}
    assert not [t for t in figure.axes[0].texts if tuple(np.round(t.get_position(), 6)) in centres]


def test_draw_mlp_shows_each_bias_as_a_square_in_its_sign_colour():
    model = MLP(2, [4, 1], seed=0)
    for neuron, bias in zip(model.layers[0].neurons, [0.9, -0.9, 0.0, 0.9]):
        neuron.b.data = bias
    squares = [p for p in draw_mlp(model).axes[0].patches if isinstance(p, Rectangle) and p.get_label() == "bias"]
    assert len(squares) == sum(model.sizes[1:])
    colours = [np.array(square.get_facecolor()[:3]) for square in squares[:4]]
    blue, orange, grey = np.array(to_rgb(POSITIVE)), np.array(to_rgb(NEGATIVE)), np.array(SIGNED_CMAP(0.5)[:3])
    assert np.linalg.norm(colours[0] - blue) < np.linalg.norm(colours[0] - orange)
    assert np.linalg.norm(colours[1] - orange) < np.linalg.norm(colours[1] - blue)
    assert np.allclose(colours[2], grey)


def test_the_smaller_half_of_a_wide_layers_weights_is_faint_and_the_strongest_opaque():
    model = MLP(2, [16, 16, 1], seed=4)  # weights uniform in [-1, 1]
    l2_edges = weight_edges(draw_mlp(model))[1]
    opacity = l2_edges.get_colors()[:, 3]
    sizes = np.abs([w.data for neuron in model.layers[1].neurons for w in neuron.w])
    assert np.all(opacity[sizes <= np.median(sizes)] < 0.15), "the smaller half of the 256 weights fades"
    assert opacity.max() > 0.9
    assert edge_opacity(1 / 3) < 0.06 and edge_opacity(1.0) == 1.0


def test_draw_mlp_legend_names_every_mark(trained, moons):
    model, _ = trained
    X, _ = moons
    figure = draw_mlp(model, x=X[0], health=unit_health(model, X))
    labels = " | ".join(text.get_text() for text in figure.axes[0].get_legend().get_texts())
    for mark in ("positive weight", "negative weight", "small |weight|", "the bias", "output for this input",
                 "dead or saturated"):
        assert mark in labels


def test_draw_mlp_writes_the_input_and_the_score_beside_them_without_a_minus_zero():
    model = MLP(2, [4, 1], seed=0)
    texts = [t.get_text() for t in draw_mlp(model, x=[-0.0001, 0.0]).axes[0].texts]
    assert "x1 = -0.0001" in texts and "x2 = 0" in texts
    assert not [text for text in texts if "-0.00" in text and "-0.0001" not in text]


# --- unit health -------------------------------------------------------------


def test_unit_health_gives_a_share_in_0_1_per_hidden_neuron(trained, moons):
    model, _ = trained
    X, _ = moons
    health = unit_health(model, X)
    assert [h.shape for h in health] == [(layer.nout,) for layer in model.layers[:-1]]
    for share in health:
        assert np.all((share >= 0.0) & (share <= 1.0))


def test_a_relu_with_a_huge_negative_bias_is_dead_on_every_point(moons):
    X, _ = moons
    model = MLP(2, [8, 8, 1], seed=2)
    model.layers[0].neurons[3].b.data = -100.0  # |w| <= 1 and |x| < 3: w.x + b < 0 everywhere
    health = unit_health(model, X)
    assert health[0][3] == 1.0
    assert np.sum(health[0] == 1.0) >= 1


@pytest.mark.parametrize("activation, bias", [("tanh", 100.0), ("tanh", -100.0), ("sigmoid", 100.0),
                                              ("sigmoid", -100.0)])
def test_a_saturated_unit_is_flat_on_every_point(activation, bias, moons):
    X, _ = moons
    model = MLP(2, [4, 1], activation=activation, seed=0)
    model.layers[0].neurons[1].b.data = bias
    assert unit_health(model, X)[0][1] == 1.0


def test_unit_health_counts_exactly_the_points_where_relu_is_zero(trained, moons):
    model, _ = trained
    X, _ = moons
    first_layer = layer_outputs(model, X)[0]
    assert np.allclose(unit_health(model, X)[0], np.mean(first_layer == 0.0, axis=0))


def test_tanh_threshold_is_the_documented_one():
    assert SATURATION == 0.97


# --- decision boundary ---------------------------------------------------------


def test_two_class_boundary_is_the_zero_line_of_the_score(trained, moons):
    model, _ = trained
    X, y = moons
    figure = decision_boundary(model, X, y, resolution=80)
    lines = [c for c in figure.axes[0].collections if hasattr(c, "levels") and list(c.levels) == [0.0]]
    assert len(lines) == 1
    vertices = np.concatenate([path.vertices for path in lines[0].get_paths()])
    scores = predict(model, vertices)[:, 0]
    plane_scores = predict(model, input_plane(X, 80).points)[:, 0]
    assert np.median(np.abs(scores)) < 0.01 * np.ptp(plane_scores)


def test_three_class_regions_take_the_color_of_the_predicted_class(three_classes):
    model, X, y = three_classes
    resolution = 30
    figure = decision_boundary(model, X, y, resolution=resolution)
    image = np.asarray(figure.axes[0].images[0].get_array()).reshape(-1, 3)
    predicted = classify(model, input_plane(X, resolution).points)
    assert len(np.unique(predicted)) == 3
    # a region pixel is white tinted towards its class colour: 1 - pixel points along 1 - colour
    tints = 1.0 - image
    directions = np.array([1.0 - np.array(to_rgb(class_color(k))) for k in range(3)])
    cosine = (tints @ directions.T) / (np.linalg.norm(tints, axis=1)[:, None] * np.linalg.norm(directions, axis=1))
    assert np.array_equal(np.argmax(cosine, axis=1), predicted)


def test_decision_boundary_needs_two_inputs():
    with pytest.raises(ValueError, match="2 inputs"):
        decision_boundary(MLP(3, [4, 1]), np.zeros((5, 3)), np.zeros(5, dtype=int))


# --- neuron maps ---------------------------------------------------------------


def test_neuron_maps_has_one_titled_axes_per_neuron(trained, moons):
    model, _ = trained
    X, y = moons
    figure = neuron_maps(model, X, y, resolution=16)
    expected = [f"L{i + 1}.N{j + 1}" for i, layer in enumerate(model.layers) for j in range(layer.nout)]
    assert len(figure.axes) == len(expected)
    assert [ax.get_title() for ax in figure.axes] == expected


def test_neuron_map_images_are_the_neurons_outputs_over_the_plane(trained, moons):
    model, _ = trained
    X, y = moons
    figure = neuron_maps(model, X, y, resolution=16)
    outputs = np.concatenate(layer_outputs(model, input_plane(X, 16).points), axis=1)
    for column, ax in enumerate(figure.axes):
        assert np.allclose(ax.images[0].get_array().ravel(), outputs[:, column])


def tile_axes_by_layer(figure: Figure, model: MLP) -> list[list]:
    tiles, start = [], 0
    for layer in model.layers:
        tiles.append(figure.axes[start:start + layer.nout])
        start += layer.nout
    return tiles


def test_neuron_maps_wraps_a_wide_layer_at_eight_tiles_a_row():
    model = MLP(2, [32, 16, 3], seed=0)
    figure = neuron_maps(model, resolution=8)
    figure.canvas.draw()
    assert TILES_PER_ROW == 8
    for layer, tiles in zip(model.layers, tile_axes_by_layer(figure, model)):
        rows: dict[float, int] = {}
        for ax in tiles:
            top = round(ax.get_window_extent().y1, 1)
            rows[top] = rows.get(top, 0) + 1
        assert max(rows.values()) <= TILES_PER_ROW
        assert len(rows) == -(-layer.nout // TILES_PER_ROW), "a layer fills its rows before starting a new one"


def test_neuron_map_tiles_are_large_enough_to_read_in_a_png_and_in_a_report():
    from viz.report import CONTENT_WIDTH_PX, REPORT_DPI

    model = MLP(2, [32, 3], seed=0)
    figure = neuron_maps(model, resolution=8)
    figure.canvas.draw()
    inches = min(ax.get_window_extent().width for ax in figure.axes) / figure.dpi
    assert inches >= 0.95 * TILE_INCHES
    assert inches * 120 >= 110, "save() writes 120 dpi: a tile of at least 110 px"
    assert inches * REPORT_DPI >= 100, "the report shows a tile at 100 px or more"
    assert figure.get_figwidth() <= PAGE_WIDTH and (PAGE_WIDTH + 0.2) * REPORT_DPI <= CONTENT_WIDTH_PX, \
        "the report never shrinks the picture (0.2: the margins save() adds)"


def test_neuron_maps_says_what_every_colour_means_in_the_picture(moons):
    X, y = moons
    model = MLP(2, [4, 1], seed=2)
    model.layers[0].neurons[1].b.data = -100.0  # zero over the whole plane
    figure = neuron_maps(model, X, y, resolution=16)
    key = " | ".join(text.get_text() for legend in figure.subfigs[0].legends for text in legend.get_texts())
    for meaning in ("output > 0", "output 0", "output < 0", "dark-red title", "class 0", "class 1"):
        assert meaning in key
    dead = figure.axes[1]
    assert dead.get_title() == "L1.N2" and dead.title.get_color() == DEAD
    assert dead.get_xlabel() == "0 everywhere"
    assert [ax.get_xlabel() for ax in figure.axes if ax is not dead][0].startswith("|out|")


# --- feature visualisation -------------------------------------------------------


def test_saliency_image_is_the_length_of_the_input_gradient(trained, moons):
    model, _ = trained
    X, y = moons
    for neuron in [(-1, 0), (0, 2)]:
        figure = saliency_map(model, X, y, neuron=neuron, resolution=25, arrows=5)
        expected = np.linalg.norm(input_gradients(model, input_plane(X, 25).points, *neuron), axis=1)
        assert np.allclose(figure.axes[0].images[0].get_array().ravel(), expected)


def test_excite_neuron_climbs_to_a_higher_activation(trained):
    model, _ = trained
    path, activations = excite_neuron(model, layer=1, neuron=0, steps=30, lr=0.1, seed=0)
    assert path.shape == (31, 2) and activations.shape == (31,)
    assert activations[-1] > activations[0]


def test_excite_neuron_activations_are_the_neurons_outputs_along_the_path(trained):
    model, _ = trained
    path, activations = excite_neuron(model, layer=0, neuron=1, steps=10, seed=1)
    assert np.allclose(activations, layer_outputs(model, path)[0][:, 1])


def test_excite_neuron_stays_in_its_box_and_leaves_parameter_grads_alone(trained):
    model, _ = trained
    for k, p in enumerate(model.parameters()):
        p.grad = 0.01 * k
    path, _ = excite_neuron(model, layer=-1, neuron=0, steps=50, lr=1.0, start=[0.0, 0.0], box=(-0.5, 0.5))
    assert np.all((path >= -0.5) & (path <= 0.5))
    assert [p.grad for p in model.parameters()] == [0.01 * k for k in range(len(model.parameters()))]
    model.zero_grad()


# --- training curves -------------------------------------------------------------


def curve_labels(figure: Figure) -> list[list[str]]:
    return [[line.get_label().split(" ")[0] for line in ax.lines] for ax in figure.axes]


def test_training_curves_show_test_lines_only_with_test_data(moons):
    X, y = moons
    without_test = train(MLP(2, [4, 1], seed=0), X, y, steps=5)
    with_test = train(MLP(2, [4, 1], seed=0), X[:40], y[:40], steps=5, X_test=X[40:], y_test=y[40:])
    assert curve_labels(training_curves(without_test)) == [["train"], ["train"]]
    assert curve_labels(training_curves(with_test)) == [["train", "test"], ["train", "test"]]


def test_training_curves_plot_the_history(trained):
    _, history = trained
    figure = training_curves(history)
    loss_line, accuracy_line = figure.axes[0].lines[0], figure.axes[1].lines[0]
    assert np.allclose(loss_line.get_ydata(), history.loss)
    assert np.allclose(accuracy_line.get_ydata(), history.accuracy)
    assert list(loss_line.get_xdata()) == list(range(1, len(history) + 1))


def test_training_curves_legends_stay_off_the_curves(trained):
    _, history = trained  # reaches 100%: an inside legend would sit on that plateau
    figure = training_curves(history)
    figure.canvas.draw()
    for ax in figure.axes:
        legend = ax.get_legend().get_window_extent()
        assert not legend.overlaps(ax.get_window_extent()), "the legend sits under the panel, not on it"


def test_compare_boundaries_draws_every_panel_on_one_colour_scale(trained, moons):
    model, _ = trained
    X, y = moons
    quiet = MLP(2, [1], seed=0)  # an untrained neuron: scores far smaller than the trained model's
    figure = compare_boundaries([quiet, model], ["quiet", "trained"], X, y, resolution=30)
    shadings = [[c for c in ax.collections if isinstance(c, ContourSet) and c.filled][0] for ax in figure.axes[:2]]
    assert np.array_equal(shadings[0].levels, shadings[1].levels)
    assert len(figure.axes) == 3, "two panels and one colour bar"
    assert figure.get_figwidth() <= PAGE_WIDTH


def test_decision_boundary_takes_a_given_score_limit(trained, moons):
    model, _ = trained
    X, y = moons
    figure = decision_boundary(model, X, y, resolution=30, score_limit=7.0, colorbar=False)
    shading = [c for c in figure.axes[0].collections if isinstance(c, ContourSet) and c.filled][0]
    assert shading.levels[0] == -7.0 and shading.levels[-1] == 7.0
    assert len(figure.axes) == 1


@pytest.mark.parametrize("value, text", [(0.0, "0"), (-0.0, "0"), (-0.001, "-0.001"), (0.0042, "0.0042"),
                                         (-0.004999, "-0.005"), (1.234, "1.23"), (-0.004, "-0.004")])
def test_format_coordinate_never_writes_minus_zero(value, text):
    assert format_coordinate(value) == text
