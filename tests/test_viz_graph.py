"""viz.graph: the Graphviz picture of a computation graph, checked through its DOT source."""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ElementTree

import graphviz
import pytest

from engine import Value, topological_order
from nn import MLP
from viz.gradcheck import check_gradients
from viz.graph import (
    COLORS,
    NEGATIVE_GRAD_COLOR,
    POSITIVE_GRAD_COLOR,
    GraphvizNotFound,
    draw_dot,
    draw_legend,
    format_number,
    render,
)

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot program is not installed")

VALUE_NODE = re.compile(r"^\s*(v\d+) \[label=<(.*)> margin=0 shape=none\]$", re.MULTILINE)
OP_NODE = re.compile(r"^\s*(op\d+) \[label=", re.MULTILINE)
EDGE = re.compile(r"^\s*(\w+) -> (\w+)(?: \[(.*)\])?$", re.MULTILINE)
FIRST_NUMBER = re.compile(r"-?\d+\.\d+(?:e[-+]\d+)?")


def tanh_neuron() -> tuple[Value, dict[str, Value]]:
    """micrograd's neuron: o = tanh(x1*w1 + x2*w2 + b), after backward."""
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    n = x1 * w1 + x2 * w2 + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    o.backward()
    return o, {"x1": x1, "x2": x2, "w1": w1, "w2": w2, "b": b, "n": n, "o": o}


def mlp_sample_loss(seed: int = 0) -> tuple[Value, MLP, list[Value]]:
    """The squared error of a 2-2-1 tanh MLP on one sample, after backward."""
    model = MLP(2, [2, 1], activation="tanh", seed=seed)
    inputs = [Value(0.5, label="x1"), Value(-1.0, label="x2")]
    loss = (model(inputs) - 1.0) ** 2
    loss.label = "loss"
    loss.backward()
    return loss, model, inputs


def value_nodes(dot: graphviz.Digraph) -> dict[str, str]:
    return dict(VALUE_NODE.findall(dot.source))


def edges(dot: graphviz.Digraph) -> list[tuple[str, str, str]]:
    """(tail, head, attributes) of every visible arrow (invisible ones only order the layout)."""
    found = [(tail, head, attributes or "") for tail, head, attributes in EDGE.findall(dot.source)]
    return [edge for edge in found if "style=invis" not in edge[2]]


def node_name(dot: graphviz.Digraph, label: str) -> str:
    """The DOT name of the value box whose label cell is ``label``."""
    (name,) = [name for name, html in value_nodes(dot).items() if f"<B>{label}</B>" in html]
    return name


def cluster_body(source: str, cluster: str) -> str:
    """The text inside ``subgraph <cluster> { ... }``, nested clusters included."""
    start = re.search(rf'subgraph "?{re.escape(cluster)}"? {{', source)
    assert start, f"no subgraph {cluster} in the source"
    depth, index = 1, start.end()
    while depth:
        depth += {"{": 1, "}": -1}.get(source[index], 0)
        index += 1
    return source[start.end() : index - 1]


def edge_gradient(attributes: str) -> float:
    """The gradient written on an arrow: the first number of its label, after an optional tag."""
    label = re.search(r'label="([^"]*)"', attributes).group(1)
    return float(FIRST_NUMBER.search(label).group())


# --- what is drawn ------------------------------------------------------------


def test_every_value_and_operation_is_a_node():
    loss, _, _ = mlp_sample_loss()
    order = topological_order(loss)
    dot = draw_dot(loss)
    assert len(value_nodes(dot)) == len(order)
    assert len(OP_NODE.findall(dot.source)) == sum(1 for node in order if node.parents)


def test_every_edge_is_drawn_operands_into_op_and_op_into_result():
    loss, _, _ = mlp_sample_loss()
    order = topological_order(loss)
    expected = sum(len(node.parents) for node in order) + sum(1 for node in order if node.parents)
    assert len(edges(draw_dot(loss))) == expected


def test_boxes_show_label_data_and_grad_with_four_decimals():
    o, nodes = tanh_neuron()
    boxes = value_nodes(draw_dot(o))
    for label, node in nodes.items():
        (box,) = [html for html in boxes.values() if f"<B>{label}</B>" in html]
        assert f"data {node.data:.4f}" in box
        assert f"grad {node.grad:.4f}" in box


def test_show_grad_false_leaves_out_the_grads():
    o, _ = tanh_neuron()
    source = draw_dot(o, show_grad=False).source
    assert "data 0.7071" in source
    assert "grad " not in source


def test_operations_are_small_ovals_named_by_their_symbol():
    o, _ = tanh_neuron()
    source = draw_dot(o).source
    assert re.search(r"op\d+ \[label=tanh .*shape=ellipse", source)
    assert len(re.findall(r'op\d+ \[label="\*"', source)) == 2
    assert len(re.findall(r'op\d+ \[label="\+"', source)) == 2


def test_operands_whose_order_matters_are_tagged_on_their_arrows():
    a, b = Value(5.0, label="a"), Value(2.0, label="b")
    dot = draw_dot(b - a)  # drawn as "a - b" with b as the first operand
    tags = {
        tail: re.search(r"label=(\w+)", attributes).group(1)
        for tail, _, attributes in edges(dot)
        if attributes
    }
    assert tags == {node_name(dot, "b"): "a", node_name(dot, "a"): "b"}


def test_format_number_uses_four_decimals_or_scientific_for_tiny_and_huge():
    assert format_number(2.0) == "2.0000"
    assert format_number(-0.5) == "-0.5000"
    assert format_number(-0.0) == "0.0000"
    assert format_number(1.5e-7) == "1.500e-07"
    assert format_number(2.5e9) == "2.500e+09"
    assert format_number(float("nan")) == "nan"
    assert format_number(float("-inf")) == "-inf"


def test_a_deep_chain_is_drawn_without_recursion():
    x = Value(0.0, label="x")
    y = x
    for _ in range(5000):  # far deeper than Python's recursion limit allows a recursive walk
        y = y + 1.0
    dot = draw_dot(y, max_nodes=None)
    assert len(value_nodes(dot)) == len(topological_order(y))


# --- determinism and layout -----------------------------------------------------


def test_the_same_graph_built_twice_gives_identical_source():
    first, _, _ = mlp_sample_loss(seed=3)
    second, _, _ = mlp_sample_loss(seed=3)
    assert draw_dot(first).source == draw_dot(second).source
    assert (
        draw_dot(first, edge_grads=True, shade="grad", legend=True).source
        == draw_dot(second, edge_grads=True, shade="grad", legend=True).source
    )


def test_node_names_are_positions_not_ids():
    o, _ = tanh_neuron()
    names = set(value_nodes(draw_dot(o)))
    assert names == {f"v{i}" for i in range(len(topological_order(o)))}


def test_left_to_right_by_default_and_top_to_bottom_on_request():
    o, _ = tanh_neuron()
    assert "rankdir=LR" in draw_dot(o).source
    assert "rankdir=TB" in draw_dot(o, rankdir="TB").source


def test_unknown_rankdir_or_shade_is_refused():
    o, _ = tanh_neuron()
    with pytest.raises(ValueError, match="rankdir"):
        draw_dot(o, "svg")
    with pytest.raises(ValueError, match="shade"):
        draw_dot(o, shade="loud")


def test_title_is_drawn_above_the_graph():
    o, _ = tanh_neuron()
    source = draw_dot(o, title="one neuron").source
    assert 'label="one neuron"' in source and "labelloc=t" in source


# --- colours --------------------------------------------------------------------


def box_colors(html: str) -> tuple[str, str]:
    """(fill, border) of a value box's table."""
    border = re.search(r'<TABLE[^>]* COLOR="(#\w+)"', html).group(1)
    fill = re.search(r'<TABLE[^>]* BGCOLOR="(#\w+)"', html).group(1)
    return fill, border


def test_colors_tell_parameters_inputs_intermediates_and_output_apart():
    loss, model, inputs = mlp_sample_loss()
    dot = draw_dot(loss)
    boxes = value_nodes(dot)
    for parameter in model.parameters():
        assert box_colors(boxes[node_name(dot, parameter.label)]) == COLORS["parameter"]
    for leaf in inputs:
        assert box_colors(boxes[node_name(dot, leaf.label)]) == COLORS["input"]
    assert box_colors(boxes[node_name(dot, "L1.N1")]) == COLORS["intermediate"]
    assert box_colors(boxes[node_name(dot, "loss")]) == COLORS["output"]


def test_parameters_argument_decides_which_leaves_are_parameters():
    o, nodes = tanh_neuron()
    dot = draw_dot(o, parameters=[nodes["x1"]])
    boxes = value_nodes(dot)
    assert box_colors(boxes[node_name(dot, "x1")]) == COLORS["parameter"]
    assert box_colors(boxes[node_name(dot, "w1")]) == COLORS["input"]


def test_shade_grad_fills_negative_orange_positive_blue_scaled_by_the_largest():
    o, nodes = tanh_neuron()  # grads: x1 -1.5 (the largest), w1 1.0, w2 0.0
    dot = draw_dot(o, shade="grad")
    boxes = value_nodes(dot)

    def fill(label: str) -> str:
        return box_colors(boxes[node_name(dot, label)])[0]

    assert fill("x1") == NEGATIVE_GRAD_COLOR.lower()
    assert fill("w2") == "#ffffff"
    blue = [int(POSITIVE_GRAD_COLOR[i : i + 2], 16) for i in (1, 3, 5)]
    strength = abs(nodes["w1"].grad) / abs(nodes["x1"].grad)
    expected = "#" + "".join(f"{round(255 + (c - 255) * strength):02x}" for c in blue)
    assert fill("w1") == expected
    # the border still tells the kind
    assert box_colors(boxes[node_name(dot, "w1")])[1] == COLORS["parameter"][1]


def test_legend_names_every_kind_of_box():
    o, _ = tanh_neuron()
    source = draw_dot(o, legend=True, shade="grad").source
    legend = cluster_body(source, "cluster_legend")
    for text in ("parameter leaf", "input leaf", "intermediate value", "output (root)", "operation"):
        assert text in legend
    assert "grad &lt; 0" in legend and "grad &gt; 0" in legend
    assert "cluster_legend" not in draw_dot(o).source


def test_draw_legend_alone():
    source = draw_legend(collapse_neurons=True).source
    assert "neuron (collapsed)" in source and "failed gradient check" in source


# --- gradients on the arrows --------------------------------------------------------


def test_a_node_used_twice_gets_two_arrows_that_add_up_to_its_grad():
    x = Value(3.0, label="x")
    y = x * x
    y.backward()
    dot = draw_dot(y, edge_grads=True)
    from_x = [attributes for tail, _, attributes in edges(dot) if tail == node_name(dot, "x")]
    assert len(from_x) == 2
    contributions = [edge_gradient(attributes) for attributes in from_x]
    assert contributions == [y.grad * x.data, y.grad * x.data]  # 1 * d(x*x)/dx along each path = 3
    assert sum(contributions) == x.grad == 6.0


def test_arrow_gradients_add_up_to_every_grad_in_an_mlp():
    loss, _, _ = mlp_sample_loss()
    dot = draw_dot(loss, edge_grads=True)
    names = {node: node_name(dot, node.label) for node in topological_order(loss) if node.label}
    for node, name in names.items():
        if node is loss:
            continue
        outgoing = [edge_gradient(attributes) for tail, _, attributes in edges(dot) if tail == name]
        assert sum(outgoing) == pytest.approx(node.grad, abs=1e-4 * len(outgoing))


def test_arrow_label_spells_out_result_grad_times_local_derivative():
    a, b = Value(2.0, label="a"), Value(-4.0, label="b")
    c = a * b
    c.backward()
    dot = draw_dot(c, edge_grads=True)
    (into_op,) = [attributes for tail, _, attributes in edges(dot) if tail == node_name(dot, "a")]
    assert "-4.0000" in into_op and "= 1.0000 × (-4.0000)" in into_op


# --- clusters for nn graphs ------------------------------------------------------------


def test_mlp_graph_has_a_cluster_per_layer_and_per_neuron():
    loss, _, _ = mlp_sample_loss()
    source = draw_dot(loss).source
    for layer in ("L1", "L2"):
        assert f"subgraph cluster_{layer} {{" in source
        assert f"label={layer}" in source
    for neuron in ("L1.N1", "L1.N2", "L2.N1"):
        assert f'subgraph "cluster_{neuron}" {{' in source
        assert f'label="{neuron}"' in source


def test_a_neuron_cluster_holds_its_parameters_sum_and_output_but_not_its_inputs():
    loss, model, inputs = mlp_sample_loss()
    body = cluster_body(draw_dot(loss).source, "cluster_L1.N2")
    for parameter in model.layers[0].neurons[1].parameters():
        assert f"<B>{parameter.label}</B>" in body
    assert "<B>L1.N2</B>" in body
    assert "b + w·x" in body and "tanh" in body
    for outsider in ("x1", "x2", "L1.N1", "L1.N1.w1", "L2.N1"):
        assert f"<B>{outsider}</B>" not in body
    layer_two = cluster_body(draw_dot(loss).source, "cluster_L2")
    assert "<B>L1.N1</B>" not in layer_two and "<B>L2.N1.b</B>" in layer_two


def test_group_false_draws_no_clusters():
    loss, _, _ = mlp_sample_loss()
    assert "subgraph" not in draw_dot(loss, group=False).source


def test_graph_without_nn_labels_has_no_clusters():
    o, _ = tanh_neuron()
    assert "subgraph" not in draw_dot(o).source


# --- collapsing neurons ------------------------------------------------------------------


def test_collapse_neurons_draws_each_neuron_as_one_box_from_its_inputs():
    loss, model, _ = mlp_sample_loss()
    full, collapsed = draw_dot(loss), draw_dot(loss, collapse_neurons=True)
    assert len(value_nodes(collapsed)) + len(OP_NODE.findall(collapsed.source)) < len(
        value_nodes(full)
    ) + len(OP_NODE.findall(full.source))
    source = collapsed.source
    for parameter in model.parameters():
        assert parameter.label not in source
    box = value_nodes(collapsed)[node_name(collapsed, "L1.N1")]
    assert "tanh(b + w·x)" in box
    assert "b + w·x" in value_nodes(collapsed)[node_name(collapsed, "L2.N1")]  # the linear output neuron
    into_l2 = [tail for tail, head, _ in edges(collapsed) if head == node_name(collapsed, "L2.N1")]
    assert into_l2 == [node_name(collapsed, "L1.N1"), node_name(collapsed, "L1.N2")]
    assert "subgraph cluster_L1 {" in source and "cluster_L1.N1" not in source


def test_collapsed_arrow_gradients_still_add_up_to_the_inputs_grads():
    loss, _, inputs = mlp_sample_loss()
    dot = draw_dot(loss, collapse_neurons=True, edge_grads=True)
    for leaf in inputs:
        name = node_name(dot, leaf.label)
        outgoing = [edge_gradient(attributes) for tail, _, attributes in edges(dot) if tail == name]
        assert len(outgoing) == 2  # one arrow into each neuron of layer 1
        assert sum(outgoing) == pytest.approx(leaf.grad, abs=2e-4)


# --- refusing huge graphs ------------------------------------------------------------------


def test_a_graph_larger_than_max_nodes_is_refused_with_its_size_and_what_to_do():
    loss, _, _ = mlp_sample_loss()
    order = topological_order(loss)
    n_ops = sum(1 for node in order if node.parents)
    with pytest.raises(ValueError) as refused:
        draw_dot(loss, max_nodes=10)
    message = str(refused.value)
    assert f"{len(order)} value nodes and {n_ops} operation nodes" in message
    assert "one sample" in message and "collapse_neurons=True" in message and "max_nodes" in message


def test_collapse_neurons_can_bring_a_graph_under_max_nodes():
    loss, _, _ = mlp_sample_loss()
    order = topological_order(loss)
    limit = len(order) + sum(1 for node in order if node.parents) - 1
    with pytest.raises(ValueError):
        draw_dot(loss, max_nodes=limit)
    draw_dot(loss, max_nodes=limit, collapse_neurons=True)


# --- rendering ------------------------------------------------------------------------


@needs_dot
def test_svg_render_is_xml_holding_the_labels(tmp_path):
    o, _ = tanh_neuron()
    path = render(draw_dot(o), tmp_path / "neuron.svg")
    assert path == tmp_path / "neuron.svg"
    tree = ElementTree.parse(path)
    texts = {element.text for element in tree.iter() if element.text}
    for expected in ("x1", "w1", "o", "tanh", "data 0.7071", "grad 1.0000"):
        assert expected in texts
    assert list(tmp_path.iterdir()) == [path]  # no DOT file left beside it


@needs_dot
@pytest.mark.parametrize(("format", "magic"), [("png", b"\x89PNG\r\n\x1a\n"), ("pdf", b"%PDF")])
def test_png_and_pdf_render_with_the_right_magic_bytes(tmp_path, format, magic):
    loss, _, _ = mlp_sample_loss()
    path = render(draw_dot(loss), tmp_path / "graph", format=format)
    assert path.name == f"graph.{format}"
    assert path.read_bytes().startswith(magic)


@needs_dot
def test_digraph_render_works_like_graphviz(tmp_path):
    o, _ = tanh_neuron()
    written = draw_dot(o, format="png").render(tmp_path / "neuron")
    assert open(written, "rb").read(4) == b"\x89PNG"


def test_render_refuses_a_suffix_that_contradicts_the_format(tmp_path):
    o, _ = tanh_neuron()
    with pytest.raises(ValueError, match="svg"):
        render(draw_dot(o), tmp_path / "graph.png", format="svg")


def test_without_dot_building_works_and_rendering_says_how_to_install(tmp_path, monkeypatch):
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    o, _ = tanh_neuron()
    dot = draw_dot(o)
    assert "tanh" in dot.source
    saved = dot.save(tmp_path / "neuron.gv")
    assert "tanh" in open(saved).read()
    for attempt in (
        lambda: render(dot, tmp_path / "neuron.svg"),
        lambda: dot.render(tmp_path / "neuron", format="svg"),
        lambda: dot.pipe(format="svg"),
    ):
        with pytest.raises(GraphvizNotFound) as missing:
            attempt()
        message = str(missing.value)
        assert "sudo apt-get install graphviz" in message
        assert "brew install graphviz" in message
        assert "conda install -c conda-forge graphviz" in message
        assert isinstance(missing.value, RuntimeError)
        assert isinstance(missing.value, graphviz.ExecutableNotFound)  # old except clauses still work


def box_positions(dot: graphviz.Digraph) -> dict[str, tuple[float, float]]:
    """Label of each labelled value box -> its (x, y) centre in the layout, y up."""
    labels = {name: re.search(r"<B>([^<]+)</B>", html) for name, html in value_nodes(dot).items()}
    positions = {}
    for line in dot.pipe(format="plain").decode().splitlines():
        parts = line.split()
        if parts[0] == "node" and labels.get(parts[1]):
            positions[labels[parts[1]].group(1)] = (float(parts[2]), float(parts[3]))
    return positions


@needs_dot
@pytest.mark.parametrize("rankdir", ["LR", "TB"])
def test_collapsed_neurons_are_drawn_in_order_n1_n2_n3(rankdir):
    model = MLP(2, [12, 1], seed=0)
    loss = model([Value(0.5, label="x1"), Value(-1.0, label="x2")]) ** 2
    loss.backward()
    positions = box_positions(draw_dot(loss, rankdir=rankdir, collapse_neurons=True))
    neurons = [f"L1.N{i}" for i in range(1, 13)]
    if rankdir == "LR":  # top to bottom
        assert sorted(neurons, key=lambda label: -positions[label][1]) == neurons
    else:  # left to right
        assert sorted(neurons, key=lambda label: positions[label][0]) == neurons


def test_top_to_bottom_stacks_each_box_label_data_grad():
    o, _ = tanh_neuron()
    html = value_nodes(draw_dot(o, rankdir="TB"))[node_name(draw_dot(o, rankdir="TB"), "o")]
    assert html.count("<TR>") == 3
    assert value_nodes(draw_dot(o))[node_name(draw_dot(o), "o")].count("<TR>") == 1


def test_a_failure_inside_a_collapsed_neuron_is_shown_on_its_box():
    loss, _, _ = mlp_sample_loss()
    inner = next(node for node in topological_order(loss) if node.op == "dot" and not node.label)
    inner._da = (0.0, *inner._da[1:])  # d/db of b + w·x is 1, not 0 (a dot node keeps local_grads in _da)
    dot = draw_dot(loss, collapse_neurons=True, checks=check_gradients(loss))
    failed_border = COLORS["failed"][1]
    boxes = [html for html in value_nodes(dot).values() if failed_border in html]
    assert len(boxes) == 1 and "engine 0.0000 ≠ numeric 1.0000" in boxes[0]


def test_a_lone_leaf_is_drawn_as_the_output():
    leaf = Value(1.5, label="w")
    dot = draw_dot(leaf)
    assert len(value_nodes(dot)) == 1 and not OP_NODE.findall(dot.source) and not edges(dot)
    assert box_colors(value_nodes(dot)["v0"]) == COLORS["output"]


# --- user text reaches Graphviz as text -------------------------------------------------

# Labels, operation names and titles are free text: each must be drawn as typed, never read as DOT.
CRAFTED = [
    'x" ]; injected [label="pwned',  # closing the quoted label to add a node
    'x\\" ]; injected [label=\\"pwned',  # the same with the quote already escaped
    "<x> ]; injected [label=<pwned>",  # an HTML-shaped string, which the graphviz package leaves unquoted
    "<<b>bold</b>>",  # markup
    "a\\lb",  # \l: a Graphviz line break
    "ends\\",  # a final backslash would escape the closing quote
    "AT&amp;T",  # an HTML entity
]


def drawn(dot: graphviz.Digraph) -> tuple[list[str], list[str]]:
    """What Graphviz made of the DOT source: the names of the nodes it laid out, and every text it wrote."""
    svg = ElementTree.fromstring(dot.pipe(format="svg"))
    tag = "{http://www.w3.org/2000/svg}"
    names = [group.find(f"{tag}title").text for group in svg.iter(f"{tag}g") if group.get("class") == "node"]
    return names, [text.text for text in svg.iter(f"{tag}text")]


def one_step(op: str = "+", label: str = "x") -> Value:
    """A leaf and the result of an operation on it: two value boxes and one oval."""
    leaf = Value(2.0, label=label)
    return Value(3.0, (leaf,), (1.0,), op=op, label="y")


@needs_dot
@pytest.mark.parametrize("text", CRAFTED)
def test_a_crafted_operation_name_is_drawn_literally_and_adds_no_node(text):
    names, texts = drawn(draw_dot(one_step(op=text)))
    assert sorted(names) == ["op1", "v0", "v1"]
    assert text in texts


@needs_dot
@pytest.mark.parametrize("text", CRAFTED)
def test_a_crafted_title_is_drawn_literally_and_adds_no_node(text):
    names, texts = drawn(draw_dot(one_step(), title=text))
    assert sorted(names) == ["op1", "v0", "v1"]
    assert text in texts


@needs_dot
@pytest.mark.parametrize("text", CRAFTED)
def test_a_crafted_label_is_drawn_literally_and_adds_no_node(text):
    names, texts = drawn(draw_dot(one_step(label=text)))
    assert sorted(names) == ["op1", "v0", "v1"]
    assert text in texts


@needs_dot
@pytest.mark.parametrize("layer", [text.replace(" ", "") for text in CRAFTED])
def test_crafted_layer_labels_name_their_clusters_literally(layer):
    # a neuron's labels "<layer>.N1" and "<layer>.N1.w" make group=True draw clusters named after them
    weight, x = Value(0.5, label=f"{layer}.N1.w"), Value(3.0, label="x")
    output = weight * x
    output.label = f"{layer}.N1"
    names, texts = drawn(draw_dot(output))
    assert sorted(names) == ["op2", "v0", "v1", "v2"]
    assert layer in texts and f"{layer}.N1" in texts


# --- wrong arguments ------------------------------------------------------------------


@pytest.mark.parametrize("root", [5, 2.5, None, "loss", [Value(1.0)]])
def test_a_root_that_is_not_a_value_is_refused_naming_root(root):
    with pytest.raises(TypeError, match=r"root.*Value") as refused:
        draw_dot(root)
    assert type(root).__name__ in str(refused.value)


def test_a_list_of_roots_is_refused_with_how_to_draw_several():
    with pytest.raises(TypeError, match=r"sum\(") as refused:
        draw_dot([Value(1.0), Value(2.0)])
    assert "root" in str(refused.value)


@pytest.mark.parametrize(
    ("argument", "value"),
    [("rankdir", "XX"), ("rankdir", 5), ("shade", "loud"), ("format", "xyz"), ("format", 5)],
)
def test_a_bad_option_value_is_refused_naming_the_option(argument, value):
    with pytest.raises(ValueError, match=f"{argument}={value!r}"):
        draw_dot(one_step(), **{argument: value})


@pytest.mark.parametrize(
    ("argument", "value"),
    [("max_nodes", "100"), ("max_nodes", 2.5), ("max_nodes", True), ("title", 5), ("parameters", 5),
     ("parameters", MLP(2, [1])), ("parameters", [1.0]), ("checks", {Value(1.0): 5})],
)
def test_an_argument_of_the_wrong_type_is_refused_naming_it(argument, value):
    with pytest.raises(TypeError, match=f"{argument}="):
        draw_dot(one_step(), **{argument: value})


# --- constants, named parts, and the compact collapsed picture ----------------------------


def test_a_leaf_without_a_label_is_drawn_as_a_constant_without_a_grad():
    x = Value(3.0, label="x")
    y = x * 2.0
    y.label = "y"
    y.backward()
    dot = draw_dot(y)
    (constant,) = [html for html in value_nodes(dot).values() if "constant 2" in html]
    assert "grad" not in constant and "data" not in constant
    assert box_colors(constant) == COLORS["constant"]
    assert "grad 2.0000" in value_nodes(dot)[node_name(dot, "x")]  # a labelled leaf keeps its grad


def test_a_constant_is_not_shaded_by_its_grad():
    x = Value(3.0, label="x")
    y = x * 2.0
    y.backward()  # the constant's grad is 3: the largest, but nothing updates a constant
    dot = draw_dot(y, shade="grad")
    (constant,) = [html for html in value_nodes(dot).values() if "constant 2" in html]
    assert box_colors(constant)[0] == "#ffffff"
    assert box_colors(value_nodes(dot)[node_name(dot, "x")])[0] == POSITIVE_GRAD_COLOR.lower()


def test_the_collapsed_picture_writes_each_operation_in_its_result_box():
    loss, _, _ = mlp_sample_loss()
    dot = draw_dot(loss, collapse_neurons=True)
    assert not OP_NODE.findall(dot.source)
    boxes = value_nodes(dot)
    assert "**2" in boxes[node_name(dot, "loss")]
    (difference,) = [name for name, html in boxes.items() if "a - b" in html]
    tags = sorted(re.search(r"headlabel=(\w+)", attributes).group(1)
                  for _, head, attributes in edges(dot) if head == difference)
    assert tags == ["a", "b"]  # the operand names stay, by the arrow heads


def softplus_sample() -> tuple[Value, Value, Value]:
    """softplus(z) - y*z, as nn.losses.binary_cross_entropy builds it, after backward: (loss, z, softplus)."""
    z = Value(0.8, label="z")
    positive = z.relu()
    positive.label = "relu(z)"
    softplus = positive + (1.0 + (-(2.0 * positive - z)).exp()).log()
    softplus.label = "softplus(z)"
    loss = softplus - Value(1.0, label="y") * z
    loss.label = "loss"
    loss.backward()
    return loss, z, softplus


def test_a_labelled_part_of_a_formula_is_one_box_when_neurons_are():
    loss, z, softplus = softplus_sample()
    dot = draw_dot(loss, collapse_neurons=True, edge_grads=True)
    box = value_nodes(dot)[node_name(dot, "softplus(z)")]
    hidden = sum(1 for node in topological_order(softplus) if node.parents) - 1  # relu(z) has a box of its own
    assert f"{hidden} ops" in box and f"data {softplus.data:.4f}" in box
    assert not any(text in dot.source for text in (">exp<", ">log<", "constant 1", "constant 2"))
    # the gradient each arrow out of z carries still adds up to z's grad
    outgoing = [edge_gradient(attributes) for tail, _, attributes in edges(dot) if tail == node_name(dot, "z")]
    assert sum(outgoing) == pytest.approx(z.grad, abs=1e-4 * len(outgoing))


def test_the_root_keeps_its_operation_when_collapsed():
    loss, _, _ = softplus_sample()
    dot = draw_dot(loss, collapse_neurons=True)
    assert "a - b" in value_nodes(dot)[node_name(dot, "loss")]
    assert any("<TD>*</TD>" in html for html in value_nodes(dot).values())  # y*z, which only the root uses


# --- wide layers -----------------------------------------------------------------------


def wide_sample_loss(width: int = 20, seed: int = 0) -> tuple[Value, MLP]:
    model = MLP(2, [width, 1], seed=seed)
    loss = (model([Value(0.5, label="x1"), Value(-1.0, label="x2")]) - 1.0) ** 2
    loss.label = "loss"
    loss.backward()
    return loss, model


def test_a_wide_layer_shows_the_neurons_with_the_largest_grads_and_one_box_for_the_rest():
    loss, model = wide_sample_loss(width=20)
    dot = draw_dot(loss, collapse_neurons=True, max_neurons=6)
    layer = cluster_body(dot.source, "cluster_L1")
    shown = re.findall(r"<B>(L1\.N\d+)</B>", layer)
    outputs = {node.label: node for node in topological_order(loss) if re.fullmatch(r"L1\.N\d+", node.label)}
    largest = sorted(outputs, key=lambda label: -abs(outputs[label].grad))[:5]
    assert sorted(shown) == sorted(largest)
    assert "+ 15 more neurons" in layer
    left_out = [node.grad for label, node in outputs.items() if label not in largest]
    assert f"each |grad| ≤ {format_number(max(abs(grad) for grad in left_out))}" in layer


def test_max_neurons_is_the_most_boxes_in_a_column_none_draws_every_neuron():
    loss, _ = wide_sample_loss(width=20)
    assert len(re.findall(r"<B>L1\.N\d+</B>", draw_dot(loss, collapse_neurons=True, max_neurons=None).source)) == 20
    one = draw_dot(loss, collapse_neurons=True, max_neurons=1).source
    assert not re.findall(r"<B>L1\.N\d+</B>", one) and "+ 20 more neurons" in one
    default = draw_dot(loss, collapse_neurons=True).source  # max_neurons=12: a column of twelve boxes
    assert len(re.findall(r"<B>L1\.N\d+</B>", default)) == 11 and "+ 9 more neurons" in default


def test_arrows_into_and_out_of_the_left_out_neurons_carry_their_sum():
    loss, model = wide_sample_loss(width=20)
    dot = draw_dot(loss, collapse_neurons=True, max_neurons=6, edge_grads=True)
    for leaf in ("x1", "x2"):
        name = node_name(dot, leaf)
        outgoing = [edge_gradient(attributes) for tail, _, attributes in edges(dot) if tail == name]
        assert len(outgoing) == 6  # five neurons and the box for the rest
        leaf_grad = next(node.grad for node in topological_order(loss) if node.label == leaf)
        assert sum(outgoing) == pytest.approx(leaf_grad, abs=1e-4 * len(outgoing))


def test_neurons_an_operation_reads_are_never_left_out():
    model = MLP(2, [15], seed=0)  # 15 outputs, all read by the sum below
    total = Value.sum(model([Value(0.5, label="x1"), Value(-1.0, label="x2")]))
    total.backward()
    source = draw_dot(total, collapse_neurons=True, max_neurons=4).source
    assert len(re.findall(r"<B>L1\.N\d+</B>", source)) == 15 and "more neurons" not in source


@pytest.mark.parametrize(("value", "error"), [(0, ValueError), (2.5, TypeError), (True, TypeError)])
def test_a_bad_max_neurons_is_refused_naming_it(value, error):
    with pytest.raises(error, match="max_neurons="):
        draw_dot(one_step(), max_neurons=value)


@needs_dot
def test_a_neurons_parameters_stand_in_order_b_w1_w2_w3():
    model = MLP(3, [3, 1], activation="tanh", seed=1)
    loss = model([Value(0.5, label="x1"), Value(-1.0, label="x2"), Value(2.0, label="x3")]) ** 2
    loss.backward()
    positions = box_positions(draw_dot(loss))
    for neuron in ("L1.N1", "L1.N2", "L1.N3", "L2.N1"):
        names = [f"{neuron}.{part}" for part in ("b", "w1", "w2", "w3")]
        names = [name for name in names if name in positions]
        assert sorted(names, key=lambda name: -positions[name][1]) == names  # top to bottom


# --- the legend and the caption ------------------------------------------------------


def test_the_legend_is_drawn_by_default_when_the_colours_say_more_than_the_kind():
    o, _ = tanh_neuron()
    assert "cluster_legend" in draw_dot(o, shade="grad").source
    assert "cluster_legend" in draw_dot(o, collapse_neurons=True).source
    assert "cluster_legend" not in draw_dot(o, shade="grad", legend=False).source
    assert "cluster_legend" not in draw_dot(o).source


def test_the_legend_names_only_the_kinds_of_box_drawn():
    loss, _, _ = mlp_sample_loss()
    legend = cluster_body(draw_dot(loss, collapse_neurons=True, shade="grad").source, "cluster_legend")
    assert "neuron (collapsed)" in legend and "parameter leaf" not in legend and "operation (oval)" not in legend
    assert "border: what it is" in legend and "fill: its grad" in legend


def hinge_beyond_the_margin() -> Value:
    score = Value(2.5, label="score")
    loss = (Value(1.0, label="margin") - Value(1.0, label="y") * score).relu()
    loss.label = "loss"
    loss.backward()
    return loss


def test_a_picture_where_no_gradient_flows_says_where_it_stopped():
    loss = hinge_beyond_the_margin()
    source = draw_dot(loss, title="one point").source
    assert "one point\nNo gradient flows back from loss: relu's derivative at -1.5000 is 0" in source


def test_no_sentence_when_gradient_flows_or_before_backward():
    o, _ = tanh_neuron()
    assert "No gradient" not in draw_dot(o).source
    before = Value(2.0, label="x") * Value(3.0, label="w")
    assert "No gradient" not in draw_dot(before).source
