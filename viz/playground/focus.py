"""The graph behind a click in the playground: a neuron's, an edge's or the output's computation for one point.

TensorFlow Playground shows what a network computes; this shows how. The learner
chooses a point and clicks a part of the network:

- a neuron: its own computation for that point, drawn by ``viz.graph.draw_dot``:
  its inputs (the previous layer's outputs for the point, "L1.N3", or "x1", "x2"),
  its weights and bias ("L2.N5.w3", "L2.N5.b"), the weighted sum z and the
  activation, each with data and grad, and on each arrow the gradient it carries back;
- an edge (a weight, or the bias): the weight, its gradient for this point and for
  the batch, and the chain rule with the numbers in it,
  "d loss / d w = upstream × input = 0.3100 × (-1.2000) = -0.3720";
- the output: the loss of the point as a graph, forward and backward, each neuron
  one box (``collapse_neurons=True``) so that a 2-16-16-1 network fits a screen.

Every grad shown is d (loss of the chosen point) / d (that value): the gradient this
one point sends back, not the batch's (the edge's numbers give both).

A graph is laid out by Graphviz's ``dot`` once (``focus_view``, when the learner
clicks); while training runs, ``focus_numbers`` gives each frame the new texts for
the same picture without calling ``dot``. ``texts`` is a list of ``[title, [text, ...]]``,
one entry per ``<g class="node">`` or ``<g class="edge">`` of the SVG that holds text
(an arrow without a label has none): ``title`` is the group's ``<title>`` as the DOM's
``textContent`` gives it ("v3", "v1->op5"), the list the new contents of its ``<text>``
elements in document order. When two groups share a title (an operand used twice),
the k-th entry with that title belongs to the k-th such group. The texts are read
from ``draw_dot``'s DOT source for the same graph with the new numbers: the
graph's structure does not change while training (same nodes, same names), so
neither does the picture's. Every layer is drawn whole (``max_neurons=None``):
which neurons a wide layer would leave out depends on their gradients, and would
change the picture from frame to frame (the playground's layers have at most 16).
The picture's caption is fixed too; what changes in words goes to ``note``.

The model's own parameters are never touched, their ``grad`` included: the point's
graph is built on a copy of them (``_detached``), since the training thread reads
those grads for its next step.

Without ``dot`` the static part has ``"svg": None`` and ``"error"``: the install
hint of ``viz.graph.GraphvizNotFound``; the numbers still come.
"""

from __future__ import annotations

import copy
import html
import math
import numbers
import re
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass

from engine import Value, topological_order
from engine.value import split_dot
from nn.evaluate import sample_loss
from nn.losses import Loss
from nn.module import MLP, Neuron, parse_label
from viz.graph import GlassDigraph, GraphvizNotFound, draw_dot, format_number

__all__ = ["FOCUS_KINDS", "NeuronGraph", "focus_numbers", "focus_view", "neuron_graph", "svg_texts"]

FOCUS_KINDS = ("neuron", "edge", "output")
_FIELDS = {"neuron": ("layer", "neuron"), "edge": ("layer", "neuron", "input"), "output": ()}
_GRAD_MEANING = "grad = d loss / d value, for this point alone"


@dataclass(frozen=True)
class Focus:
    """What the learner clicked, checked against the model.

    layer, neuron and input count from 1; input 0 is the bias. The output layer is layer len(hidden) + 1.
    """

    kind: str
    layer: int = 0
    neuron: int = 0
    input: int = 0


# --- the public functions ----------------------------------------------------


def focus_view(model: MLP, loss: Loss, point_x: Sequence[float], label: int, focus: dict,
               batch_grads: Sequence[float] | None) -> dict:
    """The static part of the focus, computed once per (focus, point, network shape).

    Returns {"kind", "title", "svg": SVG text to insert in a page (one ``dot`` run) or None,
    "error": None or why there is no SVG (Graphviz missing), "formula": the edge's chain
    rule or None, "edge": the edge's numbers or None, "numbers": ``focus_numbers``'s answer
    for the same state, so the page starts in step with the picture}.
    ValueError (naming the field and its range) for a focus, point or label that does not fit.
    """
    where = _check(model, loss, point_x, label, focus, batch_grads)
    numbers_now, graph = _numbers_and_graph(model, loss, point_x, label, where, batch_grads)
    svg, error = (None, None) if graph is None else _render_svg(graph)
    if graph is None and where.kind != "edge":  # the point's loss could not be computed: say why
        error = numbers_now["note"]
    edge = numbers_now["edge"]
    return {"kind": where.kind, "title": _title(model, loss, point_x, label, where), "svg": svg, "error": error,
            "formula": edge["formula"] if edge else None, "edge": edge, "numbers": numbers_now}


def focus_numbers(model: MLP, loss: Loss, point_x: Sequence[float], label: int, focus: dict,
                  batch_grads: Sequence[float] | None) -> dict:
    """The live part: the focus's numbers now, for a picture ``focus_view`` laid out; no ``dot`` call.

    Returns {"kind", "texts": [[group title, [text, ...]], ...] (empty for an edge),
    "loss": the point's loss (None if not finite), "note": a sentence when no gradient
    reaches the picture (else ""), "edge": {"weight", "grad_point", "grad_batch",
    "upstream", "input", "formula", "name"} for an edge, else None}.
    Non-finite numbers are None in the JSON fields (JSON has no NaN), "nan" in the texts.
    """
    where = _check(model, loss, point_x, label, focus, batch_grads)
    return _numbers_and_graph(model, loss, point_x, label, where, batch_grads)[0]


def _numbers_and_graph(model: MLP, loss: Loss, point_x: Sequence[float], label: int, where: Focus,
                       batch_grads: Sequence[float] | None) -> tuple[dict, GlassDigraph | None]:
    """The numbers of the focus, and the picture they come from (None for an edge)."""
    try:
        point = _PointGraph(model, loss, point_x, label)
    except (OverflowError, ZeroDivisionError, ValueError) as error:
        # the forward pass itself failed (a score squared past the largest float): nothing to draw
        note = f"This point's loss cannot be computed ({error}): training diverged; reset, or lower the learning rate."
        return {"kind": where.kind, "texts": [], "loss": None, "note": note, "edge": None}, None
    numbers_now = {"kind": where.kind, "texts": [], "loss": _json_number(point.root.data), "note": point.note,
                   "edge": None}
    graph = None
    if where.kind == "neuron":
        graph, note = _neuron_picture(model, point, where)
        numbers_now["note"] = point.note or note
    elif where.kind == "output":
        graph = draw_dot(point.root, collapse_neurons=True, max_neurons=None, legend=True,
                         parameters=point.parameters)
    else:
        numbers_now["edge"] = _edge_numbers(model, point, where, batch_grads)
    if graph is not None:
        _set_caption(graph, _caption(model, where))
        numbers_now["texts"] = svg_texts(graph.source)
    return numbers_now, graph


# --- the point's whole graph, on a copy of the parameters ----------------------


def _detached(neuron: Neuron) -> Neuron:
    """The same neuron with fresh parameter leaves (same data and labels, grad 0).

    A graph built through it computes exactly what the model's neuron computes (the
    neuron's own ``__call__`` runs), but backward writes its gradients into the copies,
    never into the model's parameters.
    """
    twin = copy.copy(neuron)
    twin.w = [Value(w.data, label=w.label) for w in neuron.w]
    twin.b = Value(neuron.b.data, label=neuron.b.label)
    return twin


def _detached_model(model: MLP) -> MLP:
    twin = copy.copy(model)
    twin.layers = []
    for layer in model.layers:
        layer_twin = copy.copy(layer)
        layer_twin.neurons = [_detached(neuron) for neuron in layer.neurons]
        twin.layers.append(layer_twin)
    return twin


class _PointGraph:
    """The chosen point's loss graph after backward: every node's grad is d loss / d node.

    ``neuron_output["L2.N5"]`` is that neuron's output node in it; ``parameters`` the
    copies of the model's parameters, in the model's order.
    """

    def __init__(self, model: MLP, loss: Loss, point_x: Sequence[float], label: int) -> None:
        twin = _detached_model(model)
        self.parameters = twin.parameters()
        self.root = sample_loss(twin, [float(v) for v in point_x], label, loss.name)
        self.note = ""
        try:
            self.root.backward()
        except FloatingPointError:
            # training diverged: show the numbers forward, and say why there are no gradients
            for node in topological_order(self.root):
                node.grad = math.nan
            self.note = f"This point's loss is {self.root.data}: no gradient can be computed (training diverged)."
        if self.root.data == 0.0:  # a hinge loss beyond the margin, a squared error hit exactly
            self.note = f"This point's {loss.name} loss is 0, so it sends no gradient back: every grad here is 0."
        # nn labels each neuron's output "L2.N5" (and its parameters "L2.N5.w1", which are leaves)
        self.neuron_output = {node.label: node for node in topological_order(self.root, leaves=False)
                              if node.label and (parse_label(node.label) or (0, 0, "part"))[2] is None}

    def weighted_sum(self, layer: int, neuron: int) -> Value:
        """The neuron's node b + w·x; its output is an activation of it, or (a linear neuron) the sum itself."""
        output = self.neuron_output[f"L{layer}.N{neuron}"]
        return output if output.op == "dot" else output.parents[0]


# --- a neuron ------------------------------------------------------------------


def _input_names(model: MLP, layer: int) -> list[str]:
    """What the inputs of a neuron in ``layer`` are called: "x1", "x2" for layer 1, else "L1.N1", "L1.N2", ..."""
    if layer == 1:
        return [f"x{i + 1}" for i in range(model.nin)]
    return [f"L{layer - 1}.N{j + 1}" for j in range(model.sizes[layer - 1])]


@dataclass
class NeuronGraph:
    """One neuron's own computation for a point, after backward: every grad is d (loss of the point) / d node."""

    output: Value  # the neuron's output, labelled "L2.N5"; its weighted sum is labelled "z" (unless it is the output)
    inputs: list[Value]  # leaves: the previous layer's outputs for the point ("L1.N3"), or "x1", "x2"
    parameters: list[Value]  # leaves: copies of the neuron's weights, then its bias ("L2.N5.w1", ..., "L2.N5.b")
    upstream: float  # d loss / d output, read from the point's whole graph


def neuron_graph(model: MLP, loss: Loss, point_x: Sequence[float], label: int, layer: int, neuron: int) -> NeuronGraph:
    """The graph of neuron ``neuron`` of ``layer`` (both from 1) for one point, with d loss / d node on every node.

    The model's parameters are not touched (the graph holds copies of them).
    """
    where = _check(model, loss, point_x, label, {"kind": "neuron", "layer": layer, "neuron": neuron}, None)
    return _neuron_graph(model, _PointGraph(model, loss, point_x, label), where)


def _neuron_graph(model: MLP, point: _PointGraph, where: Focus) -> NeuronGraph:
    upstream = point.neuron_output[f"L{where.layer}.N{where.neuron}"].grad  # from the point's whole graph
    _, _, full_inputs = split_dot(point.weighted_sum(where.layer, where.neuron))
    inputs = [Value(x.data, label=text) for x, text in zip(full_inputs, _input_names(model, where.layer))]
    neuron = _detached(model.layers[where.layer - 1].neurons[where.neuron - 1])
    output = neuron(inputs)  # the model's own Neuron.__call__, on copies: same nodes, same numbers
    if output.op != "dot":
        output.parents[0].label = "z"  # the weighted sum, named so that a reader can refer to it
    # Seeding this small graph with d loss / d output: backward() seeds the root with 1 and
    # gives d output / d node; the chain rule says d loss / d node = d loss / d output *
    # d output / d node, the same factor for every node, since the loss reaches these nodes
    # only through the output. So the seeded backward pass is the engine's own backward
    # followed by one multiplication per node: no copy of the engine's loop here, and no
    # constant node "× upstream" that would show in the picture as if it were part of the
    # neuron. (A leaf's grad starts at 0 here, so nothing else is scaled along.)
    try:
        output.backward()
    except FloatingPointError:
        upstream = math.nan
    for node in topological_order(output):
        node.grad *= upstream
    return NeuronGraph(output, inputs, [*neuron.w, neuron.b], upstream)


def _neuron_picture(model: MLP, point: _PointGraph, where: Focus) -> tuple[GlassDigraph, str]:
    """The neuron's own graph for the point, drawn; and a note when no gradient reaches it."""
    graph = _neuron_graph(model, point, where)
    # the inputs boxed together: one column beside the neuron, not a trail of boxes around it
    source = "the point" if where.layer == 1 else f"L{where.layer - 1}'s outputs for this point"
    picture = draw_dot(graph.output, edge_grads=True, legend=True, parameters=graph.parameters,
                       clusters={f"its inputs: {source}": graph.inputs})
    return picture, _neuron_note(graph.output.label, graph.upstream, graph.output)


def _neuron_note(name: str, upstream: float, output: Value) -> str:
    """Why every grad in the neuron's picture is 0, when it is; else ""."""
    if upstream == 0.0:
        return (f"No gradient reaches {name} from this point's loss (d loss / d {name} = 0), "
                "so every grad here is 0.")
    if output.op != "dot" and output.local_grads[0] == 0.0:
        return (f"{output.op}'s slope at z = {format_number(output.parents[0].data)} is 0: "
                f"no gradient passes back through {name} for this point.")
    return ""


# --- an edge -------------------------------------------------------------------


def _edge_numbers(model: MLP, point: _PointGraph, where: Focus, batch_grads: Sequence[float] | None) -> dict:
    """One weight (or the bias): its value, its gradient for the point and the batch, and the chain rule."""
    layer, neuron = where.layer, where.neuron
    weighted_sum = point.weighted_sum(layer, neuron)
    bias, weights, inputs = split_dot(weighted_sum)
    parameter, value_in = (bias, 1.0) if where.input == 0 else (weights[where.input - 1], inputs[where.input - 1].data)
    # the position of this parameter in model.parameters(), which the copies keep
    index = next(k for k, copied in enumerate(point.parameters) if copied is parameter)
    upstream = weighted_sum.grad
    input_text = "1" if where.input == 0 else _operand(value_in)
    input_name = "1" if where.input == 0 else "input"
    formula = (f"d loss / d {'b' if where.input == 0 else 'w'} = upstream × {input_name} = "
               f"{_operand(upstream)} × {input_text} = {format_number(upstream * value_in)}")
    source = "the bias" if where.input == 0 else _input_names(model, layer)[where.input - 1]
    return {
        "name": parameter.label,
        "from": source,
        "to": f"L{layer}.N{neuron}",
        "weight": _json_number(parameter.data),
        "grad_point": _json_number(parameter.grad),
        "grad_batch": None if batch_grads is None else _json_number(float(batch_grads[index])),
        "upstream": _json_number(upstream),
        "input": _json_number(value_in),
        "formula": formula,
        "meaning": (f"upstream = d loss / d z, z = b + w·x of L{layer}.N{neuron} for this point; input = "
                    + ("1 (the bias is added as is)" if where.input == 0
                       else f"{source} of the point" if layer == 1 else f"{source}'s output for this point")),
    }


def _operand(x: float) -> str:
    """A number inside a product: in parentheses when negative, as draw_dot writes them on arrows."""
    text = format_number(x)
    return f"({text})" if text.startswith("-") else text


def _json_number(x: float) -> float | None:
    return x if math.isfinite(x) else None


# --- titles and the caption ---------------------------------------------------


def _title(model: MLP, loss: Loss, point_x: Sequence[float], label: int, where: Focus) -> str:
    point = f"point ({', '.join(f'{float(v):.2f}' for v in point_x)}), class {int(label)}"
    if where.kind == "neuron":
        activation = model.layers[where.layer - 1].activation
        formula = "b + w·x" if activation == "linear" else f"{activation}(b + w·x)"
        return f"neuron L{where.layer}.N{where.neuron} = {formula}, for {point}"
    if where.kind == "edge":
        part = "bias" if where.input == 0 else f"weight w{where.input}"
        source = "" if where.input == 0 else f", from {_input_names(model, where.layer)[where.input - 1]}"
        return f"{part} of L{where.layer}.N{where.neuron}{source}, for {point}"
    return f"{loss.title} of {point}, forward and backward"


def _caption(model: MLP, where: Focus) -> str:
    """The static line above the picture (never draw_dot's own, which can change as training runs)."""
    if where.kind == "neuron":
        activation = model.layers[where.layer - 1].activation
        name = f"L{where.layer}.N{where.neuron}"
        steps = f"{name}, an output: no activation" if activation == "linear" else f"z → {activation} → {name}"
        return (f"inputs (grey) × weights (gold) + bias → {steps}\n"
                f"{_GRAD_MEANING} (an input's: the part that flows through {name})\n"
                "on each arrow (purple): the gradient it carries back = result's grad × local derivative")
    activation = model.layers[0].activation if len(model.layers) > 1 else "linear"
    neuron = "b + w·x" if activation == "linear" else f"{activation}(b + w·x)"
    return f"each purple box is a whole neuron, {neuron}, with its output's data and grad\n{_GRAD_MEANING}"


def _set_caption(graph: GlassDigraph, text: str) -> None:
    """Replace the graph's caption: the last ``label`` of the graph wins in DOT."""
    graph.attr(label=text, labelloc="t", fontsize="13")  # our own text: no DOT escapes in it


# --- checking the input ----------------------------------------------------------


def _check(model: MLP, loss: Loss, point_x: Sequence[float], label: int, focus: object,
           batch_grads: Sequence[float] | None) -> Focus:
    """The focus as a Focus; ValueError naming the field, its value and the range it must be in."""
    if not isinstance(model, MLP):
        raise TypeError(f"focus: model must be an nn.MLP, got {type(model).__name__}")
    if not isinstance(loss, Loss):
        raise TypeError(f"focus: loss must be an nn.losses.Loss (nn.losses.LOSSES[name]), got {type(loss).__name__}")
    _check_point(model, loss, point_x, label)
    where = _check_focus(model, focus)
    if batch_grads is not None and len(batch_grads) != len(model.parameters()):
        raise ValueError(f"focus: batch_grads has {len(batch_grads)} numbers, the model "
                         f"{len(model.parameters())} parameters; give one per parameter, or None")
    return where


def _check_point(model: MLP, loss: Loss, point_x: Sequence[float], label: int) -> None:
    # a list, a tuple or a row of a numpy array
    if isinstance(point_x, (str, bytes)) or not hasattr(point_x, "__len__") or len(point_x) != model.nin:
        raise ValueError(f"focus: the point must be {model.nin} numbers (x1, x2, ...), got {point_x!r}")
    for i, v in enumerate(point_x):
        if not isinstance(v, numbers.Real) or isinstance(v, bool) or not math.isfinite(v):
            raise ValueError(f"focus: the point's x{i + 1} is {v!r}; it must be a finite number")
    classes = loss.classes(model.sizes[-1], "focus")
    if not isinstance(label, numbers.Integral) or isinstance(label, bool) or not 0 <= label < classes:
        raise ValueError(f"focus: the point's class is {label!r}; it must be a whole number from 0 to {classes - 1}")


def _check_focus(model: MLP, focus: object) -> Focus:
    if not isinstance(focus, dict):
        raise ValueError(f"focus must be an object such as {{\"kind\": \"neuron\", \"layer\": 1, \"neuron\": 2}}, "
                         f"got {type(focus).__name__}")
    kind = focus.get("kind")
    if kind not in FOCUS_KINDS:
        raise ValueError(f"focus kind={kind!r}: choose one of {', '.join(FOCUS_KINDS)}")
    fields = _FIELDS[kind]
    unknown = sorted(set(focus) - {"kind", *fields})
    if unknown:
        allowed = ", ".join(fields) or "no other field"
        raise ValueError(f"focus of kind {kind!r}: unknown field {unknown[0]!r} (it takes {allowed})")
    if kind == "output":
        return Focus(kind)
    layers = len(model.layers)
    layer = _whole_number(focus, "layer", 1, layers, f" ({layers} is the output layer)")
    neuron = _whole_number(focus, "neuron", 1, model.sizes[layer], f" (layer {layer} has {model.sizes[layer]})")
    if kind == "neuron":
        return Focus(kind, layer, neuron)
    nin = model.sizes[layer - 1]
    return Focus(kind, layer, neuron, _whole_number(focus, "input", 0, nin, " (0 is the bias)"))


def _whole_number(focus: dict, name: str, low: int, high: int, hint: str) -> int:
    value = focus.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        what = f"{name} is missing" if name not in focus else f"{name}={value!r}"
        raise ValueError(f"focus {what}: it must be a whole number from {low} to {high}{hint}")
    return value


# --- the SVG, and its texts read from the DOT source ------------------------------


def _render_svg(graph: GlassDigraph) -> tuple[str | None, str | None]:
    """(the SVG element's text, None), or (None, why not): one ``dot`` run."""
    try:
        svg = graph.pipe(format="svg").decode("utf-8")
    except GraphvizNotFound as error:
        return None, str(error)
    except subprocess.CalledProcessError as error:  # dot ran and failed: say so, do not break the page
        return None, f"Graphviz's dot failed to lay out this graph: {error}"
    # The XML prolog, doctype and generator comments may not stand inside an HTML page.
    return svg[svg.index("<svg"):], None


# a node or edge statement of the DOT text the graphviz package writes: one per line
_ID = r'"(?:[^"\\]|\\.)*"|[\w.]+'
_STATEMENT = re.compile(rf"^\s*(?P<tail>{_ID})(?:\s*->\s*(?P<head>{_ID}))?\s*(?:\[(?P<attributes>.*)\])?\s*$")
_KEYWORDS = {"node", "edge", "graph", "subgraph", "digraph", "strict"}
_KEY = re.compile(r"\s*(\w+)=")
# an HTML-like label: <...> around text and tags, which hold no < or > of their own (the text's are escaped)
_HTML_VALUE = re.compile(r"<(?:[^<>]|<[^<>]*>)*>")
_VALUE = re.compile(r'"(?:[^"\\]|\\.)*"|[^\s\]]+')  # a "quoted string" or a bare word
_EDGE_TEXTS = ("label", "xlabel", "headlabel", "taillabel")  # the order Graphviz writes them in the SVG


def svg_texts(source: str) -> list[list]:
    """[[group title, [text, ...]], ...] for every node and edge of DOT ``source`` that ``dot -Tsvg`` writes text in.

    The group title is what the SVG's ``<title>`` holds: a node's name, or "tail->head"
    (with ":port" after a name that has one). The texts are the label's lines or, for an
    HTML-like label, its runs of text between tags. Invisible edges are not drawn, and an
    arrow without a label has no <text> to update: both are left out.
    """
    nodes: dict[str, list[str] | None] = {}
    edges: list[list] = []
    for line in source.splitlines():
        if "->" in line and "label=" not in line:
            continue  # an arrow without text (most of them, between two layers): nothing to update
        match = _STATEMENT.match(line)
        if not match or match["tail"] in _KEYWORDS:
            continue
        attributes = _attributes(match["attributes"] or "")
        tail = _unquote(match["tail"])
        if match["head"] is None:
            label = attributes.get("label")
            if nodes.get(tail) is None:  # declared again without a label: the first label stays
                nodes[tail] = None if label is None else _label_texts(label)
            continue
        if attributes.get("style") == "invis":
            continue  # not in the SVG
        head = _unquote(match["head"])
        title = f"{_end(tail, attributes.get('tailport'))}->{_end(head, attributes.get('headport'))}"
        texts = [text for key in _EDGE_TEXTS if key in attributes for text in _label_texts(attributes[key])]
        if texts:
            edges.append([title, texts])
    # a node never given a label shows its name (Graphviz's default label \N)
    return [[name, texts if texts is not None else [name]] for name, texts in nodes.items()] + edges


def _end(name: str, port: str | None) -> str:
    return f"{name}:{_unquote(port)}" if port else name


def _attributes(text: str) -> dict[str, str]:
    """``key=value`` pairs of a DOT attribute list; a value is a bare word, a "quoted string" or an <HTML> label."""
    found, position = {}, 0
    while True:
        match = _KEY.match(text, position)
        if not match:
            return found
        key, position = match[1], match.end()
        value = (_HTML_VALUE if text.startswith("<", position) else _VALUE).match(text, position)
        found[key], position = value[0], value.end()


def _unquote(text: str) -> str:
    return text[1:-1] if text.startswith('"') else text


def _label_texts(value: str) -> list[str]:
    """The <text> contents Graphviz draws for one label value."""
    if value.startswith("<"):  # HTML-like: each run of text between tags is a <text>
        runs = re.split(r"<[^>]*>", value[1:-1])
        return [html.unescape(run) for run in runs if run.strip()]
    lines, current = [], []
    # DOT escapes in a quoted string: \n \l \r end a line, \" and \\ stand for themselves
    for piece in re.split(r"(\\.)", _unquote(value)):
        if piece in ("\\n", "\\l", "\\r"):
            lines.append("".join(current))
            current = []
        elif piece.startswith("\\") and len(piece) == 2:
            current.append(piece[1])
        else:
            current.append(piece)
    if current:
        lines.append("".join(current))
    return [html.unescape(line) for line in lines if line]
