"""The playground's focus: the graph behind a neuron, an edge or the output, laid out once, numbers live."""

from __future__ import annotations

import copy
import json
import math
import shutil
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from engine import topological_order
from nn.evaluate import sample_loss
from nn.losses import LOSSES
from nn.module import MLP
from viz.graph import format_number
from viz.playground.focus import focus_numbers, focus_view, neuron_graph, svg_texts

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot program is not installed")
SVG = "{http://www.w3.org/2000/svg}"
POINT, LABEL = [0.4, -0.7], 1


def small_model() -> MLP:
    return MLP(2, [4, 3, 1], activation="tanh", seed=0)  # tanh: no dead unit, every gradient nonzero


def full_graph(model: MLP, loss_name: str, point=POINT, label=LABEL) -> dict:
    """The point's whole loss graph on a copy of the model, after backward: label -> node."""
    twin = copy.deepcopy(model)
    root = sample_loss(twin, point, label, loss_name)
    root.backward()
    nodes = {node.label: node for node in topological_order(root) if node.label}
    nodes["loss"] = root
    return nodes


def svg_groups(svg: str) -> dict[str, list[list[str]]]:
    """Group title -> the texts of each <g class="node"|"edge"> with that title (in document order) that has text."""
    groups: dict[str, list[list[str]]] = {}
    for group in ET.fromstring(svg).iter(f"{SVG}g"):
        texts = ["".join(text.itertext()) for text in group.iter(f"{SVG}text")]
        if group.get("class") in ("node", "edge") and texts:
            groups.setdefault(group.find(f"{SVG}title").text, []).append(texts)
    return groups


def as_groups(texts: list) -> dict[str, list[list[str]]]:
    groups: dict[str, list[list[str]]] = {}
    for title, contents in texts:
        groups.setdefault(title, []).append(contents)
    return groups


def one_training_step(model: MLP, loss_name: str, learning_rate: float = 0.5) -> list[float]:
    """An SGD step on a few points, as training would; returns the batch gradients."""
    model.zero_grad()
    points = [([0.4, -0.7], 1), ([-1.0, 0.2], 0), ([0.9, 0.9], 1)]
    total = sum(sample_loss(model, x, label, loss_name) for x, label in points)
    total.backward()
    grads = [p.grad for p in model.parameters()]
    for p in model.parameters():
        p.data -= learning_rate * p.grad
    return grads


# --- a neuron's graph: its grads are the point's loss gradients -------------------


@pytest.mark.parametrize("layer, neuron", [(1, 2), (2, 3), (3, 1)])
def test_neuron_graph_grads_equal_the_full_graphs(layer, neuron):
    model = small_model()
    graph = neuron_graph(model, LOSSES["mse"], POINT, LABEL, layer, neuron)
    full = full_graph(model, "mse")
    name = f"L{layer}.N{neuron}"
    assert graph.output.data == full[name].data
    assert graph.output.grad == pytest.approx(full[name].grad, rel=1e-12)
    assert graph.upstream == full[name].grad
    for copied in graph.parameters:
        assert copied.grad == pytest.approx(full[copied.label].grad, rel=1e-12, abs=1e-15)
    weighted_sum = full[name] if full[name].op == "dot" else full[name].parents[0]
    z = graph.output if graph.output.op == "dot" else graph.output.parents[0]
    assert z.grad == pytest.approx(weighted_sum.grad, rel=1e-12)
    assert [leaf.label for leaf in graph.inputs] == (
        ["x1", "x2"] if layer == 1 else [f"L{layer - 1}.N{j + 1}" for j in range(model.sizes[layer - 1])])


def test_an_inputs_grads_summed_over_the_layers_neurons_give_the_full_graphs():
    # each neuron's picture shows the part of d loss / d input that flows through that neuron
    model = small_model()
    full = full_graph(model, "mse")
    graphs = [neuron_graph(model, LOSSES["mse"], POINT, LABEL, 2, n + 1) for n in range(3)]
    for j in range(4):
        shares = sum(graph.inputs[j].grad for graph in graphs)
        assert shares == pytest.approx(full[f"L1.N{j + 1}"].grad, rel=1e-12)
        assert graphs[0].inputs[j].data == full[f"L1.N{j + 1}"].data


def test_a_numpy_row_and_label_give_the_same_numbers_as_plain_numbers():
    model, focus = small_model(), {"kind": "neuron", "layer": 2, "neuron": 1}
    row, label = np.array([[0.4, -0.7]])[0], np.array([1])[0]
    assert (focus_numbers(model, LOSSES["hinge"], row, label, focus, None)
            == focus_numbers(model, LOSSES["hinge"], POINT, LABEL, focus, None))


def test_focus_never_touches_the_models_parameters():
    model = small_model()
    for k, p in enumerate(model.parameters()):
        p.grad = 0.01 * k  # the training thread's batch gradient, which must survive
    before = [(p.data, p.grad) for p in model.parameters()]
    for focus in ({"kind": "neuron", "layer": 2, "neuron": 1}, {"kind": "output"},
                  {"kind": "edge", "layer": 1, "neuron": 1, "input": 2}):
        focus_numbers(model, LOSSES["mse"], POINT, LABEL, focus, None)
    assert [(p.data, p.grad) for p in model.parameters()] == before


# --- laid out once, numbers live ---------------------------------------------------


@needs_dot
@pytest.mark.parametrize("loss_name, sizes, focus", [
    ("mse", [4, 3, 1], {"kind": "neuron", "layer": 2, "neuron": 2}),
    ("hinge", [4, 3, 1], {"kind": "neuron", "layer": 1, "neuron": 4}),
    ("softmax", [4, 3], {"kind": "neuron", "layer": 2, "neuron": 3}),
    ("mse", [4, 3, 1], {"kind": "output"}),
    ("softmax", [4, 3], {"kind": "output"}),
])
def test_numbers_reproduce_the_rendered_svgs_texts(loss_name, sizes, focus):
    model = MLP(2, sizes, activation="tanh", seed=0)
    view = focus_view(model, LOSSES[loss_name], POINT, LABEL, focus, None)
    assert view["error"] is None and view["svg"].startswith("<svg")
    assert "<?xml" not in view["svg"] and "DOCTYPE" not in view["svg"]
    numbers = focus_numbers(model, LOSSES[loss_name], POINT, LABEL, focus, None)
    assert numbers["texts"] == view["numbers"]["texts"]
    assert as_groups(numbers["texts"]) == svg_groups(view["svg"])


@needs_dot
@pytest.mark.parametrize("focus", [{"kind": "neuron", "layer": 2, "neuron": 1}, {"kind": "output"}])
def test_after_a_training_step_the_numbers_change_and_fit_the_same_picture(focus):
    model = small_model()
    view = focus_view(model, LOSSES["mse"], POINT, LABEL, focus, None)
    one_training_step(model, "mse")
    after = focus_numbers(model, LOSSES["mse"], POINT, LABEL, focus, None)["texts"]
    drawn = svg_groups(view["svg"])
    assert {title: [len(texts) for texts in groups] for title, groups in as_groups(after).items()} == {
        title: [len(texts) for texts in groups] for title, groups in drawn.items()}
    changed = [title for title, texts in after if texts not in drawn[title]]
    assert changed  # the data and grads moved
    # and the new texts are the picture dot would draw now, in the same places
    assert as_groups(after) == svg_groups(focus_view(model, LOSSES["mse"], POINT, LABEL, focus, None)["svg"])


def test_a_neurons_texts_show_its_parameters_data_and_grad():
    model = small_model()
    full = full_graph(model, "mse")
    texts = [contents for _, contents in focus_numbers(model, LOSSES["mse"], POINT, LABEL,
                                                       {"kind": "neuron", "layer": 2, "neuron": 3}, None)["texts"]]
    for name in ("L2.N3.w1", "L2.N3.w4", "L2.N3.b", "L2.N3", "L1.N2"):
        node = full[name]
        grad = node.grad if name != "L1.N2" else full["L2.N3"].parents[0].grad * full["L2.N3.w2"].data
        assert [name, f"data {format_number(node.data)}", f"grad {format_number(grad)}"] in texts


def test_svg_texts_reads_labels_lines_and_ports():
    source = "\n".join([
        "digraph {",
        '\tnode [fontname=monospace]',
        '\ta [label=<<TABLE><TR><TD><B>L1.N1</B></TD><TD>data &lt;0</TD></TR></TABLE>> shape=none]',
        '\tb [label="two\\nlines" shape=ellipse]',
        "\tc",
        '\ta -> b [label="x: 1\\n= 2 × 0.5" fontcolor=red]',
        "\tb -> c [tailport=e headport=w]",
        "\tc -> a [style=invis label=hidden]",
        '\tb -> c [headlabel=a tailport=e headport=w]',
        "}",
    ])
    assert svg_texts(source) == [
        ["a", ["L1.N1", "data <0"]], ["b", ["two", "lines"]], ["c", ["c"]],
        ["a->b", ["x: 1", "= 2 × 0.5"]], ["b:e->c:w", ["a"]],
    ]


# --- an edge -----------------------------------------------------------------------


def test_an_edge_gives_the_weight_its_two_gradients_and_the_chain_rule_with_numbers():
    model = small_model()
    batch_grads = [float(k) for k in range(len(model.parameters()))]  # each one its own index
    edge = focus_view(model, LOSSES["mse"], POINT, LABEL, {"kind": "edge", "layer": 2, "neuron": 1, "input": 3},
                      batch_grads)["edge"]
    full = full_graph(model, "mse")
    weight = model.layers[1].neurons[0].w[2]
    assert edge["name"] == "L2.N1.w3" and edge["weight"] == weight.data
    assert model.parameters()[int(edge["grad_batch"])] is weight
    assert edge["input"] == full["L1.N3"].data
    assert edge["upstream"] == full["L2.N1"].parents[0].grad  # d loss / d z
    assert edge["grad_point"] == pytest.approx(full["L2.N1.w3"].grad, rel=1e-12)
    assert edge["grad_point"] == edge["upstream"] * edge["input"]
    upstream, value_in = (format_number(v) for v in (edge["upstream"], edge["input"]))
    value_in = f"({value_in})" if value_in.startswith("-") else value_in
    upstream = f"({upstream})" if upstream.startswith("-") else upstream
    assert edge["formula"] == (f"d loss / d w = upstream × input = {upstream} × {value_in} = "
                               f"{format_number(edge['grad_point'])}")


def test_the_bias_edge_multiplies_the_upstream_gradient_by_one():
    model = small_model()
    view = focus_view(model, LOSSES["mse"], POINT, LABEL, {"kind": "edge", "layer": 3, "neuron": 1, "input": 0}, None)
    edge = view["edge"]
    assert view["svg"] is None and view["formula"] == edge["formula"]
    assert edge["name"] == "L3.N1.b" and edge["input"] == 1.0 and edge["grad_batch"] is None
    assert edge["grad_point"] == edge["upstream"] == full_graph(model, "mse")["L3.N1"].grad
    assert "d loss / d b = upstream × 1 = " in edge["formula"]


# --- what goes wrong ------------------------------------------------------------------


def test_without_dot_the_view_says_how_to_install_graphviz_and_the_numbers_still_come(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty folder: no dot program to find
    model = small_model()
    for focus in ({"kind": "neuron", "layer": 1, "neuron": 1}, {"kind": "output"}):
        view = focus_view(model, LOSSES["mse"], POINT, LABEL, focus, None)
        assert view["svg"] is None
        assert "Graphviz's `dot` program was not found" in view["error"]
        assert "apt-get install graphviz" in view["error"]
        assert view["numbers"]["texts"]


@pytest.mark.parametrize("focus, words", [
    ("L1.N1", ["focus must be an object"]),
    ({"kind": "weights"}, ["kind", "neuron, edge, output"]),
    ({"layer": 1, "neuron": 1}, ["kind"]),
    ({"kind": "neuron", "layer": 0, "neuron": 1}, ["layer", "from 1 to 3"]),
    ({"kind": "neuron", "layer": 4, "neuron": 1}, ["layer=4", "from 1 to 3", "output layer"]),
    ({"kind": "neuron", "layer": 2, "neuron": 4}, ["neuron=4", "from 1 to 3"]),
    ({"kind": "neuron", "layer": 1}, ["neuron is missing"]),
    ({"kind": "neuron", "layer": "2", "neuron": 1}, ["layer='2'", "whole number"]),
    ({"kind": "neuron", "layer": True, "neuron": 1}, ["layer=True"]),
    ({"kind": "neuron", "layer": 1.0, "neuron": 1}, ["layer=1.0"]),
    ({"kind": "edge", "layer": 2, "neuron": 1, "input": 5}, ["input=5", "from 0 to 4", "bias"]),
    ({"kind": "edge", "layer": 2, "neuron": 1, "input": -1}, ["input=-1"]),
    ({"kind": "output", "layer": 1}, ["unknown field 'layer'"]),
])
def test_a_bad_focus_is_refused_naming_the_field_and_its_range(focus, words):
    with pytest.raises(ValueError) as error:
        focus_view(small_model(), LOSSES["mse"], POINT, LABEL, focus, None)
    for word in words:
        assert word in str(error.value)


@pytest.mark.parametrize("point, label, batch_grads, words", [
    ([0.4], 1, None, ["2 numbers"]),
    ([0.4, math.nan], 1, None, ["x2", "finite"]),
    ([0.4, -0.7], 2, None, ["class", "from 0 to 1"]),
    ([0.4, -0.7], 1, [0.0, 1.0], ["batch_grads has 2 numbers", "31 parameters"]),
])
def test_a_bad_point_label_or_batch_gradient_is_refused(point, label, batch_grads, words):
    with pytest.raises(ValueError) as error:
        focus_numbers(small_model(), LOSSES["hinge"], point, label, {"kind": "output"}, batch_grads)
    for word in words:
        assert word in str(error.value)


def test_a_point_with_zero_loss_says_why_every_grad_is_zero():
    model = MLP(2, [4, 3, 1], seed=0)
    model.layers[-1].neurons[0].b.data = 100.0  # a score far beyond the hinge's margin for class 1
    numbers = focus_numbers(model, LOSSES["hinge"], POINT, LABEL, {"kind": "neuron", "layer": 2, "neuron": 1}, None)
    assert numbers["loss"] == 0.0 and "loss is 0" in numbers["note"]
    assert all(text == "grad 0.0000" for _, texts in numbers["texts"] for text in texts if text.startswith("grad"))


@pytest.mark.parametrize("weight", [1e300, math.nan])  # the squared error overflows; NaN runs through to the loss
def test_a_diverged_model_gives_a_note_not_an_exception_and_valid_json(weight):
    model = small_model()
    model.layers[-1].neurons[0].w[0].data = weight
    for focus in ({"kind": "neuron", "layer": 3, "neuron": 1}, {"kind": "output"},
                  {"kind": "edge", "layer": 3, "neuron": 1, "input": 1}):
        numbers = focus_numbers(model, LOSSES["mse"], POINT, LABEL, focus, None)
        assert numbers["loss"] is None and "diverged" in numbers["note"]
        json.dumps(numbers, allow_nan=False)  # what the frame's encoder needs
