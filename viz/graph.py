"""Draw a computation graph with Graphviz: numbers flow forward, gradients flow back.

``draw_dot(root)`` returns a ``graphviz.Digraph`` of every node ``root`` depends
on, as in micrograd's notebook: each Value is a box showing its label, ``data``
and ``grad``; each operation is a small oval of its own between its operands
and its result. Arrows point the way the numbers were computed (left to right
by default); ``backward()`` sends the gradient the opposite way along the same
arrows, and ``edge_grads=True`` writes on each arrow how much gradient it
carries back.

Legend (``legend=True`` draws it beside the graph, with a row for each kind of
box the picture holds; ``draw_legend()`` alone, every row):

    box fill / border        meaning
    #fff3bf / #a67c00 gold   parameter leaf: a leaf passed in ``parameters=``, or, without
                             that argument, a leaf whose label ends in w, b, w<digits> or
                             b<digits> after the last dot ("L1.N3.w2", "L1.N3.b", "w1", "b")
    #e9ecef / #868e96 grey   input leaf: every other labelled leaf (data "x1", a target "y")
    #f8f9fa / #ced4da pale   constant: a leaf without a label, a number the formula holds
                             (the 2 in 2*x); drawn as "constant 2", with no grad: nothing
                             updates it. (nn's losses label theirs: the hinge's "margin".)
    #ffffff / #adb5bd white  intermediate value: the result of an operation
    #d3f9d8 / #2b8a3e green  output: the root the graph was drawn from (bold border)
    #e5dbff / #7048e8 purple a whole neuron drawn as one box (``collapse_neurons=True``)
    #f3f0ff / #9775fa lilac  "+ 21 more neurons": the neurons a wide layer leaves out
    #f8f9fa oval             an operation ("+", "*", "tanh", "b + w·x", ...)
    #ffc9c9 / #c92a2a red    a local derivative that failed ``check_gradients`` (``checks=``)

With ``shade="grad"`` the fill shows the gradient instead (the border keeps the
kind): orange for a negative grad, blue for a positive one, white for zero, the
intensity proportional to |grad| / (largest |grad| in the picture). The full
colours are ``viz.style``'s, as in every picture: its orange #f59322, and its blue
lightened to #77b4db so that black text reads on both. (The parameter border is gold,
not orange, to show on an orange fill and not to read as "negative".)

Operands whose order matters are tagged on their arrow: "a" and "b" for a - b
and a / b, "x" and "y" for x ** y, and "b", "w1", "x1", ... for a neuron's
weighted sum b + w1*x1 + ... (the engine's "dot" node); inside a neuron's
cluster its parameters stand in that order too, b above w1 above w2.

``collapse_neurons=True`` draws the overview of a network, made to fit on a
screen: each neuron is one box ("L1.N3 | tanh(b + w·x)" above its numbers), a
layer wider than ``max_neurons`` shows its neurons with the largest |grad| and
one box for the rest, each other operation is written in its result's box
instead of an oval, and each labelled part of a formula ("max(z)", "softplus(z)",
as ``nn.losses`` names them) is one box, its unlabelled operations inside.

When backward reached nothing but the root (a hinge loss of 0: relu's slope
there is 0), a sentence under the title says so, and where the gradient stopped.

Numbers are printed with 4 decimals (``format_number``), in a monospace font so
that columns line up. Node names in the DOT source are numbered by position,
never by ``id()``, so the same graph always gives the same source text.

Graphs built by ``nn`` name their parameters "L1.N3.w2" and each neuron's
output "L1.N3"; ``group=True`` reads these labels (``nn.module.parse_label``) to
box each layer and neuron in a Graphviz cluster; ``clusters=`` boxes any other
groups of values the caller names (a head's query, keys and values, say).
``draw_dot`` first decides what
the picture holds (``_layout``: boxes, arrows, clusters, as plain data), then
writes it as DOT (``_write``). Rendering needs Graphviz's ``dot`` program; without
it ``render`` (and the Digraph's own ``render``/``pipe``) raise `GraphvizNotFound`,
which says how to install it.
"""

from __future__ import annotations

import contextlib
import html
import math
import numbers
import reprlib
import textwrap
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import graphviz

from engine import Value, topological_order
from engine.value import split_dot
from nn.module import parse_label
from viz.style import NEGATIVE, POSITIVE

__all__ = [
    "COLORS",
    "GlassDigraph",
    "GraphvizNotFound",
    "draw_dot",
    "draw_legend",
    "format_number",
    "render",
]

# kind of box -> (fill, border); the legend in the module docstring explains them
COLORS = {
    "parameter": ("#fff3bf", "#a67c00"),
    "input": ("#e9ecef", "#868e96"),
    "intermediate": ("#ffffff", "#adb5bd"),
    "output": ("#d3f9d8", "#2b8a3e"),
    "neuron": ("#e5dbff", "#7048e8"),
    "operation": ("#f8f9fa", "#868e96"),
    "failed": ("#ffc9c9", "#c92a2a"),
    "constant": ("#f8f9fa", "#ced4da"),
    "summary": ("#f3f0ff", "#9775fa"),
}


def _mix(color: str, strength: float) -> str:
    """``color`` blended with white: strength 0 is white, 1 is the colour itself."""
    channels = [int(color[i : i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(255 + (c - 255) * strength):02x}" for c in channels)


# shade="grad" fills from white to these at the largest |grad| (see the module docstring)
NEGATIVE_GRAD_COLOR = NEGATIVE
POSITIVE_GRAD_COLOR = _mix(POSITIVE, 0.55)
GRADIENT_TEXT_COLOR = "#862e9c"  # the numbers edge_grads writes on arrows
FONT = "monospace"

RANKDIRS = ("LR", "TB", "RL", "BT")
PORTS = {"LR": ("e", "w"), "RL": ("w", "e"), "TB": ("s", "n"), "BT": ("n", "s")}  # (leave by, enter by)
SHADES = ("none", "grad")
_ACTIVATION_OPS = ("relu", "tanh", "sigmoid", "exp", "log")  # what a neuron's output may apply to its sum

# how an operation is written in its oval, when the plain symbol would hide the operand order
OP_TEXT = {"-": "a - b", "/": "a / b", "**": "x ** y", "dot": "b + w·x"}

INSTALL_HELP = """\
Graphviz's `dot` program was not found on PATH, so the graph cannot be rendered.
Building the graph still works: its DOT text is in .source, and .save() writes it.
To render, install Graphviz (pip install graphviz installs only the Python bindings):
    Debian/Ubuntu:  sudo apt-get install graphviz
    macOS:          brew install graphviz
    conda:          conda install -c conda-forge graphviz
    Windows:        winget install graphviz   (then add its bin folder to PATH)"""


class GraphvizNotFound(graphviz.ExecutableNotFound):
    """Graphviz's ``dot`` program is missing; the message says how to install it.

    A subclass of ``graphviz.ExecutableNotFound`` (and so of ``RuntimeError``),
    so code that already catches those keeps working.
    """

    def __init__(self, detail: str = "") -> None:
        message = INSTALL_HELP + (f"\n(graphviz said: {detail})" if detail else "")
        RuntimeError.__init__(self, message)


@contextlib.contextmanager
def _explain_missing_dot() -> Iterator[None]:
    try:
        yield
    except GraphvizNotFound:
        raise
    except graphviz.ExecutableNotFound as error:
        raise GraphvizNotFound(str(error)) from error


class GlassDigraph(graphviz.Digraph):
    """A ``graphviz.Digraph`` whose ``render``, ``pipe`` and ``view`` explain a missing Graphviz."""

    def render(self, *args, **kwargs):
        with _explain_missing_dot():
            return super().render(*args, **kwargs)

    def pipe(self, *args, **kwargs):  # also what Jupyter calls to show the graph
        with _explain_missing_dot():
            return super().pipe(*args, **kwargs)


def render(dot: graphviz.Digraph, path: str | Path, format: str | None = None) -> Path:
    """Render ``dot`` to the file ``path`` (svg, png, pdf, ...) and return its path.

    The format comes from ``format``, else from the file's suffix, else svg (a
    path without a suffix gets one). Only the picture is written, no DOT file
    beside it. Raises `GraphvizNotFound` when the ``dot`` program is missing.
    """
    path = Path(path)
    suffix = path.suffix.lstrip(".").lower()
    format = (format or suffix or "svg").lower()
    if not suffix:
        path = path.with_name(f"{path.name}.{format}")
    elif suffix != format:
        raise ValueError(f"render: the file {str(path)!r} ends in .{suffix} but format={format!r}")
    with _explain_missing_dot():
        picture = dot.pipe(format=format)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(picture)
    return path


def format_number(x: float) -> str:
    """A number as a box shows it: 4 decimals, or 4 significant digits when tiny or huge.

    >>> format_number(2.0), format_number(-0.5), format_number(1.5e-7), format_number(0.0)
    ('2.0000', '-0.5000', '1.500e-07', '0.0000')
    """
    if not math.isfinite(x):
        return str(x)  # nan, inf, -inf
    if x == 0.0:
        return "0.0000"  # -0.0 too
    if 1e-3 <= abs(x) < 1e5:
        return f"{x:.4f}"
    return f"{x:.3e}"


# --- finding the neurons of an nn graph ---------------------------------------


@dataclass
class _Neuron:
    """A neuron of an nn graph: its label, its layer, and its nodes in each use."""

    label: str  # "L1.N3"
    layer: str  # "L1"
    # output node -> the nodes between the neuron's parameters and that output, output first.
    # A batch graph calls each neuron once per sample, so one neuron can have several outputs.
    uses: dict[Value, list[Value]] = field(default_factory=dict)


def _find_neurons(order: list[Value], position: dict[Value, int]) -> list[_Neuron]:
    """The neurons of a graph labelled by nn ("L1.N3" and "L1.N3.w2", read by ``nn.module.parse_label``).

    A neuron's nodes are its parameters (leaves labelled "L1.N3.<name>"), its
    output (labelled "L1.N3") and every node on a path from those parameters
    to that output. Its inputs are not on such a path, so they stay outside.
    """
    labels = {node: parse_label(node.label) for node in order if node.label}
    outputs = [node for node, label in labels.items() if label and label[2] is None and node.parents]
    neuron_of = {node: label[:2] for node, label in labels.items() if label and label[2] and not node.parents}
    is_output = set(outputs)
    neurons: dict[str, _Neuron] = {}
    for output in reversed(outputs):  # nearest the inputs first, so layer 1 comes first
        parameters, region = _walk_back(output, is_output, neuron_of)
        if not parameters:
            continue  # an output label with no parameters of its own is not a neuron
        # Keep the region's nodes that a parameter reaches, parents before children.
        between = set(parameters)
        for node in sorted(region, key=position.__getitem__, reverse=True):
            if any(parent in between for parent in node.parents):
                between.add(node)
        between.add(output)
        neuron = neurons.setdefault(output.label, _Neuron(output.label, labels[output][0]))
        neuron.uses[output] = sorted(between, key=position.__getitem__)
    return list(neurons.values())


def _walk_back(output: Value, outputs: set[Value], neuron_of: dict[Value, tuple]) -> tuple[set[Value], list[Value]]:
    """The neuron's parameters and the operations after them: back from its output, not past other outputs.

    ``neuron_of`` maps each parameter leaf to its neuron: ("L1", 3) for "L1.N3.w2".
    """
    neuron = parse_label(output.label)[:2]
    parameters, region, seen, stack = set(), [], {output}, [output]
    while stack:
        for parent in stack.pop().parents:
            if parent in seen:
                continue
            seen.add(parent)
            if parent.parents and parent not in outputs:
                region.append(parent)
                stack.append(parent)
            elif neuron_of.get(parent) == neuron:
                parameters.add(parent)
    return parameters, region


def _neuron_inputs(output: Value, members: list[Value]) -> list[tuple[Value, float]]:
    """The nodes a neuron reads (besides its parameters), each with d output / d input.

    The derivative is a small backward pass over the neuron's own nodes, so
    ``output.grad * derivative`` is the gradient the neuron sends to that input.
    """
    inside = set(members)
    derivative = {output: 1.0}
    inputs: dict[Value, float] = {}
    for node in members:  # output first, each node before its parents
        for parent, local_grad in zip(node.parents, node.local_grads):
            amount = derivative.get(node, 0.0) * local_grad
            if parent in inside:
                derivative[parent] = derivative.get(parent, 0.0) + amount
            else:
                inputs[parent] = inputs.get(parent, 0.0) + amount
    first_read: dict[Value, int] = {}  # the order the neuron reads them: x1 before x2
    for node in reversed(members):
        for parent in node.parents:
            first_read.setdefault(parent, len(first_read))
    return sorted(inputs.items(), key=lambda item: first_read[item[0]])


def _describe_neuron(output: Value) -> str:
    if output.op == "dot":
        return "b + w·x"
    if output.op in _ACTIVATION_OPS and output.parents and output.parents[0].op in ("dot", "+", "sum"):
        return f"{output.op}(b + w·x)"
    return f"{output.op}(...)"


# --- the layout: what the picture holds, as plain data ------------------------


@dataclass
class _Oval:
    """The operation that made a value: a small oval, written just after the value's box."""

    name: str  # "op3", beside the box "v3" it makes
    text: str  # the symbol, or OP_TEXT's longer form
    failed: bool  # one of its local derivatives failed check_gradients


@dataclass
class _Box:
    """A value drawn as a table: a bold title, its cells side by side, then a row per note."""

    name: str  # "v3": numbered by position, never by id(), so one graph always gives one text
    kind: str  # its entry of the legend, a key of COLORS
    title: str  # its label ("" for none); a collapsed neuron's is its output's, "L1.N3"
    formula: str  # what it is: a collapsed neuron's "tanh(b + w·x)", a constant's "constant 2"; or ""
    cells: list[str]  # its numbers: "data ..." and "grad ..."
    fill: str
    border: str
    border_width: int
    notes: list[str]  # the failed gradient checks shown on this box
    oval: _Oval | None
    cluster: tuple[str, str | None] | None  # (layer, neuron); (layer, None): the layer's column of collapsed neurons
    rank: int  # its place in a lined-up column: L1.N1 above L1.N2 ... above L1.N10; b above w1 above w2
    lined_up: bool = False  # in its neuron's cluster, one column in rank order (a neuron's parameters)
    compact: bool = False  # rankdir LR: title and formula above the numbers, to keep the picture narrow
    group: str | None = None  # the name of the caller's cluster it is in (clusters=), which wins over ``cluster``


@dataclass
class _Arrow:
    """An operand into its operation, an operation into its result, or an input into a collapsed neuron."""

    tail: str
    head: str
    tag: str | None = None  # the operand's name where the order matters: "a", "b", "w1", "x1"
    carries: tuple[float, float] | None = None  # (result grad, local derivative), written with edge_grads
    failed: bool = False  # its local derivative failed check_gradients
    into_cluster: bool = False  # from outside a neuron's cluster into it
    straight: bool = False  # between columns of collapsed neurons
    total: float | None = None  # into or out of a "+ N more neurons" box: the gradient of all it stands for
    compact: bool = False  # in a collapsed picture, which has no room to spare


@dataclass
class _Layout:
    """All that ``draw_dot`` draws, decided before any DOT is written; ``_write`` writes it."""

    boxes: list[_Box]  # leaves first, root last, so that the DOT text reads in computing order
    arrows: list[_Arrow]
    collapsed: bool  # collapse_neurons: the layer columns keep their neurons in order
    straight: bool  # collapsed without edge_grads: straight arrows between the columns
    legend: list[tuple[str, str, str]]  # (text, fill, border) of each row; empty: no legend
    caption: list[str]  # the lines above the picture: the title, then why no gradient flows (if none does)
    legend_beside: str = ""  # the box whose column the legend shares


@dataclass
class _Picture:
    """What each box and arrow is decided from: draw_dot's options, and what ``_layout`` found."""

    root: Value
    name: dict[Value, str]  # node -> its box's DOT name
    collapsed: dict[Value, list[tuple[Value, float]]]  # a node drawn as one box with its insides -> its inputs
    neurons: set[Value]  # the collapsed nodes that are neurons (the others are named parts of a formula)
    inside: dict[Value, int]  # a collapsed node -> how many operations its box hides
    places: dict[Value, tuple[str, str | None]]  # node -> its cluster
    hidden: dict[Value, str]  # a neuron left out of a wide layer -> the name of its layer's "+ N more" box
    parameters: set[Value] | None
    failed: dict[Value, list]
    notes: dict[Value, list[str]]  # the box that shows each failure: the node's, or its neuron's
    shade: str
    show_grad: bool
    edge_grads: bool
    ovals: bool  # each operation an oval of its own; else written in its result's box (collapse_neurons)
    groups: dict[Value, str] = field(default_factory=dict)  # node -> the caller's cluster it goes in (clusters=)


def _layout(
    root: Value, *, show_grad: bool, edge_grads: bool, shade: str, group: bool, collapse_neurons: bool,
    legend: bool, parameters: set[Value] | None, failed: dict[Value, list], max_nodes: int | None,
    max_neurons: int | None, title: str | None, groups: dict[Value, str],
) -> _Layout:
    """Which values get a box and where, what each box says, the arrows between them."""
    order = topological_order(root)  # root first, each node before its parents
    position = {node: index for index, node in enumerate(order)}
    drawn = order
    if not collapse_neurons:  # refused before the search for neurons, which is slow on a huge graph
        _check_size(drawn, {}, max_nodes, collapse=False)
    neurons = _find_neurons(order, position) if group or collapse_neurons else []
    owner: dict[Value, Value] = {}  # a node hidden inside a collapsed box -> that box's node
    insides: dict[Value, list[Value]] = {}  # a collapsed node -> its nodes, itself first
    if collapse_neurons:
        for neuron in neurons:
            for output, members in neuron.uses.items():
                insides[output] = members
                owner.update((member, output) for member in members if member not in owner)
        neuron_outputs = set(insides)
        for top, members in _named_parts(order, root, owner, position):
            insides[top] = members
            owner.update((member, top) for member in members)
        collapsed = {node: _neuron_inputs(node, members) for node, members in insides.items()}
        drawn = _visible_nodes(root, collapsed, position)
        _check_size(drawn, collapsed, max_nodes, collapse=True)
    else:
        collapsed, neuron_outputs = {}, set()
    emitted = drawn[::-1]  # leaves first, root last: the DOT text then reads in computing order
    notes: dict[Value, list[str]] = {}
    for node, results in failed.items():
        notes.setdefault(owner.get(node, node), []).extend(_check_note(r, _operand_names(node)) for r in results)
    picture = _Picture(
        root, {node: f"v{index}" for index, node in enumerate(emitted)}, collapsed, neuron_outputs,
        {node: sum(1 for member in members if member.parents) for node, members in insides.items()},
        _places(neurons, collapse_neurons) if group else {},
        _hidden_neurons(emitted, collapsed, neuron_outputs, root, max_neurons),
        parameters, failed, notes, shade, show_grad, edge_grads, ovals=not collapse_neurons, groups=groups,
    )
    boxes = _boxes(emitted, picture, compact=collapse_neurons)
    rows = _legend_rows([box.kind for box in boxes], shade, bool(failed), any(box.oval for box in boxes))
    caption = ([title] if title else []) + _wrap(_stopped_gradient(root, drawn))
    # The legend shares a column that has room to spare: the output layer's, whose few neurons
    # are as wide as it is, or else the root's. (In the inputs' column, where Graphviz would put
    # it, the arrows to the first layer cross it.)
    last_neuron = [box.name for box in boxes if box.kind == "neuron"][-1:]
    return _Layout(boxes, _arrows(emitted, picture), collapse_neurons, collapse_neurons and not edge_grads,
                   rows if legend else [], caption, (last_neuron or [boxes[-1].name])[0])


def _named_parts(
    order: list[Value], root: Value, owner: dict[Value, Value], position: dict[Value, int]
) -> list[tuple[Value, list[Value]]]:
    """The labelled values of a formula, each with the unlabelled nodes that only it uses, itself first.

    In the softmax cross-entropy, "max(z)" is six operations and "log sum exp" five; drawn
    as one box each, as a neuron's box hides its weighted sum, a loss fits beside the network.
    The root is never one: its last operations are what the picture is about (the hinge
    loss's relu, say). Neurons (``owner``) are taken already; a label stops the walk, so a
    named part never swallows another.
    """
    consumers: dict[Value, list[Value]] = {}
    for node in order:
        for parent in node.parents:
            consumers.setdefault(parent, []).append(node)
    parts = []
    for top in order:
        if top is root or not top.label or not top.parents or top in owner:
            continue
        members, stack = {top}, [top]
        while stack:
            for parent in stack.pop().parents:
                # taken once its last user is: a node two parts share stays a box of its own
                if (parent not in members and not parent.label and parent not in owner
                        and all(user in members for user in consumers[parent])):
                    members.add(parent)
                    stack.append(parent)
        if len(members) > 1:
            parts.append((top, sorted(members, key=position.__getitem__)))
    return parts


def _check_size(drawn: list[Value], collapsed: Mapping[Value, object], max_nodes: int | None, collapse: bool) -> None:
    n_ops = sum(1 for node in drawn if node.parents and node not in collapsed)
    total = len(drawn) + n_ops
    if max_nodes is None or total <= max_nodes:
        return
    collapsing = "" if collapse else "pass collapse_neurons=True to draw each neuron as one box; or "
    raise ValueError(
        f"draw_dot: this graph has {len(drawn)} value nodes and {n_ops} operation nodes ({total} in all), "
        f"more than max_nodes={max_nodes}; Graphviz would be slow and the picture unreadable. To draw less: "
        f"draw the graph of one sample's loss instead of a whole batch or training step; or {collapsing}"
        f"raise the limit, e.g. draw_dot(root, max_nodes={total})."
    )


def _visible_nodes(root: Value, collapsed: dict[Value, list], position: dict[Value, int]) -> list[Value]:
    """The nodes left to draw when neurons are boxes: those reachable from root through boxes' inputs."""
    seen, stack = {root}, [root]
    while stack:
        node = stack.pop()
        sources = [source for source, _ in collapsed[node]] if node in collapsed else node.parents
        for source in sources:
            if source not in seen:
                seen.add(source)
                stack.append(source)
    return sorted(seen, key=position.__getitem__)  # root first, as topological_order


def _places(neurons: list[_Neuron], collapse: bool) -> dict[Value, tuple[str, str | None]]:
    """The cluster of each box: (layer, neuron), or (layer, None) for a collapsed neuron in its layer's column."""
    places: dict[Value, tuple[str, str | None]] = {}
    for neuron in neurons:
        for output, members in neuron.uses.items():
            for member in [output] if collapse else members:
                places.setdefault(member, (neuron.layer, None if collapse else neuron.label))
    return places


def _hidden_neurons(
    emitted: list[Value], collapsed: dict[Value, list], neurons: set[Value], root: Value, max_neurons: int | None
) -> dict[Value, str]:
    """The collapsed neurons left out of wide layers, each -> the name of its layer's "+ N more neurons" box.

    A layer with more than ``max_neurons`` neurons keeps the ``max_neurons - 1`` with the
    largest |grad| (the ones backward sends the most through) and stands the others in one
    box, so that its column holds ``max_neurons`` boxes. Only neurons read by nothing but
    other neurons are left out, so every operation drawn (the loss's, say) keeps its operands.
    """
    if max_neurons is None:
        return {}
    only_neurons_read = neurons - {root}
    for node in emitted:
        if node not in neurons:
            sources = [source for source, _ in collapsed[node]] if node in collapsed else node.parents
            only_neurons_read.difference_update(sources)
    layers: dict[str, list[Value]] = {}
    for node in emitted:
        if node in neurons:
            layers.setdefault(parse_label(node.label)[0], []).append(node)
    hidden = {}
    for number, outputs in enumerate(layers.values()):
        if len(outputs) <= max_neurons:
            continue
        by_grad = sorted(outputs, key=lambda node: (-_size(node.grad), parse_label(node.label)[1]))
        left_out = [node for node in by_grad[max_neurons - 1:] if node in only_neurons_read]
        if len(left_out) > 1:  # a box for a single neuron would hide nothing
            hidden.update((node, f"more{number}") for node in left_out)
    return hidden


def _size(grad: float) -> float:
    return 0.0 if math.isnan(grad) else abs(grad)


def _boxes(emitted: list[Value], picture: _Picture, compact: bool) -> list[_Box]:
    """A box per value, coloured by its kind (or its grad, with shade="grad"), with its operation's oval.

    A wide layer's left-out neurons get one box together, where the first of them would be.
    """
    shown = [node for node in emitted if node not in picture.hidden]
    kinds = {node: _kind(node, picture.root, node in picture.neurons, picture.parameters) for node in shown}
    largest = max((_size(node.grad) for node in shown if kinds[node] != "constant"), default=0.0)
    left_out: dict[str, list[Value]] = {}
    for node, summary in picture.hidden.items():
        left_out.setdefault(summary, []).append(node)
    boxes = []
    for index, node in enumerate(emitted):
        if node in picture.hidden:
            summary = picture.hidden[node]
            if summary in left_out:
                boxes.append(_summary_box(summary, left_out.pop(summary), picture, compact))
            continue
        box = _box(node, kinds[node], picture, largest, compact)
        if node.parents and node not in picture.collapsed:
            operation = OP_TEXT.get(node.op, node.op)
            if picture.ovals:
                box.oval = _Oval(f"op{index}", operation, node in picture.failed)
            else:  # the box says which operation made it, as a collapsed neuron's does
                box.formula = operation
        boxes.append(box)
    return boxes


def _box(node: Value, kind: str, picture: _Picture, largest: float, compact: bool) -> _Box:
    """The box of one value: what it says, and its colours."""
    fill, border = COLORS[kind]
    border_width = 2 if kind == "output" or picture.shade == "grad" else 1
    if picture.shade == "grad":
        # a constant's grad is no signal to anyone: nothing updates a constant
        fill = "#ffffff" if kind == "constant" else _grad_fill(node.grad, largest)
    notes = picture.notes.get(node, [])
    if notes:
        border, border_width = COLORS["failed"][1], 3
    formula, cells = "", [f"data {format_number(node.data)}"]
    if picture.show_grad:
        cells.append(f"grad {format_number(node.grad)}")
    if kind == "constant":
        formula, cells = f"constant {node.data:g}", []  # "constant 2": the number as the formula has it
    elif node in picture.neurons:
        formula = _describe_neuron(node)
    elif node in picture.collapsed:  # a named part of a formula, "max(z)": its label says what it is
        formula = f"{picture.inside[node]} ops"
    place = picture.places.get(node)
    rank, lined_up = 0, False
    if node in picture.neurons:
        rank = parse_label(node.label)[1]
    elif kind == "parameter" and place and place[1] is not None:
        rank, lined_up = _parameter_rank(node.label), True
    return _Box(picture.name[node], kind, node.label, formula, cells, fill, border, border_width, notes, None,
                place, rank, lined_up, compact, picture.groups.get(node))


def _parameter_rank(label: str) -> int:
    """Where a neuron's parameter stands in its column: the bias b first, then w1, w2, ... in order."""
    part = (parse_label(label) or ("", 0, ""))[2] or ""
    if part == "b":
        return 0
    return int(part[1:]) if part[:1] == "w" and part[1:].isdecimal() else 1 << 30


def _summary_box(name: str, left_out: list[Value], picture: _Picture, compact: bool) -> _Box:
    """One box for the neurons a wide layer leaves out: how many, and how small their gradients are."""
    fill, border = COLORS["summary"]
    cells = [f"each |grad| ≤ {format_number(max(_size(node.grad) for node in left_out))}"] if picture.show_grad else []
    place = picture.places.get(left_out[0])
    return _Box(name, "summary", f"+ {len(left_out)} more neurons", "", cells, fill, border, 1, [], None,
                place, 1 << 30, False, compact)  # the last of its column


def _arrows(emitted: list[Value], picture: _Picture) -> list[_Arrow]:
    """Operands into their operation, and it into its result; a collapsed neuron's inputs straight into it.

    Arrows into or out of a "+ N more neurons" box are merged: one per pair of boxes, carrying
    (with edge_grads) the sum of the gradients of the arrows it stands for.
    """
    name, collapsed, edge_grads = picture.name, picture.collapsed, picture.edge_grads
    arrows: list[_Arrow] = []
    merged: dict[tuple[str, str], _Arrow] = {}
    for index, node in enumerate(emitted):
        if node in collapsed:
            head = picture.hidden.get(node, name[node])
            straight = not edge_grads and node in picture.neurons  # the many arrows between layers
            for source, derivative in collapsed[node]:
                tail = picture.hidden.get(source, name[source])
                if source in picture.hidden or node in picture.hidden:
                    if (tail, head) not in merged:
                        merged[tail, head] = _Arrow(tail, head, straight=straight, total=0.0 if edge_grads else None)
                        arrows.append(merged[tail, head])
                    if edge_grads:
                        merged[tail, head].total += node.grad * derivative
                    continue
                arrows.append(_Arrow(tail, head, carries=(node.grad, derivative) if edge_grads else None,
                                     straight=straight))
        elif node.parents:
            tags = _operand_names(node) or [None] * len(node.parents)
            wrong = {result.index for result in picture.failed.get(node, ())}
            operation = f"op{index}" if picture.ovals else name[node]
            for slot, (parent, local_grad, tag) in enumerate(zip(node.parents, node.local_grads, tags)):
                carries = (node.grad, local_grad) if edge_grads else None
                into_cluster = node in picture.places and picture.places.get(parent) != picture.places[node]
                arrows.append(_Arrow(name[parent], operation, tag, carries, slot in wrong, into_cluster,
                                     compact=not picture.ovals))
            if picture.ovals:
                arrows.append(_Arrow(operation, name[node]))
    return arrows


def _kind(node: Value, root: Value, is_neuron: bool, parameters: set[Value] | None) -> str:
    """Which entry of the legend (a key of COLORS) a value box belongs to."""
    if node is root:
        return "output"
    if is_neuron:
        return "neuron"
    if node.parents:
        return "intermediate"
    if parameters is not None and node in parameters:
        return "parameter"
    if not node.label:
        return "constant"  # a number the formula holds, like the 2 in 2*x: data and parameters are labelled
    if parameters is not None:
        return "input"
    # micrograd's names, alone or after nn's "L1.N3.": w, b, w1, b2, ... (in any case)
    name = node.label.rsplit(".", 1)[-1].lower()
    return "parameter" if name[:1] in ("w", "b") and (name[1:] == "" or name[1:].isdecimal()) else "input"


def _operand_names(node: Value) -> tuple[str, ...] | None:
    """Names for the operands whose order matters, to tag their arrows; None for the others."""
    if node.op in ("-", "/"):
        return ("a", "b")
    if node.op == "**":
        return ("x", "y")
    if node.op == "dot":
        n = len(split_dot(node)[1])
        return ("b", *(f"w{i + 1}" for i in range(n)), *(f"x{i + 1}" for i in range(n)))
    return None


def _grad_fill(grad: float, largest: float) -> str:
    if math.isnan(grad) or largest == 0.0:
        return "#ffffff"
    strength = 1.0 if math.isinf(largest) or math.isinf(grad) else abs(grad) / largest
    return _mix(NEGATIVE_GRAD_COLOR if grad < 0 else POSITIVE_GRAD_COLOR, strength)


def _check_note(check: object, names: tuple[str, ...] | None) -> str:
    parents = check.node.parents
    if parents[check.index].label:
        name = parents[check.index].label
    elif names:
        name = names[check.index]
    else:
        name = "input" if len(parents) == 1 else f"parent {check.index}"
    numeric = "skipped" if check.numeric is None else format_number(check.numeric)
    return f"✗ d/d {name}: engine {format_number(check.engine)} ≠ numeric {numeric}"


def _stopped_gradient(root: Value, drawn: list[Value]) -> str:
    """Why a picture taken after backward shows no gradient but the root's; "" when gradient flowed.

    Backward multiplies the root's grad by each local derivative on the way back: when the
    root's own are all 0 (a relu at or below 0, say), nothing below it gets a gradient, and
    a picture full of "grad 0.0000" deserves a sentence saying so.
    """
    if root.grad == 0.0 or not root.parents or any(node.grad != 0.0 for node in drawn if node is not root):
        return ""
    inputs = ", ".join(format_number(parent.data) for parent in root.parents)
    if all(local_grad == 0.0 for local_grad in root.local_grads):
        why = f"{root.op}'s derivative at {inputs} is 0"
    else:
        why = "its paths back cancel out"
    return f"No gradient flows back from {root.label or 'the output'}: {why}, so every other grad is 0."


def _wrap(text: str) -> list[str]:
    # Graphviz widens the whole picture to fit its caption's longest line
    return textwrap.wrap(text, 100)


# --- checking the arguments ---------------------------------------------------


def _check_root_and_limits(root: object, limits: dict[str, object]) -> None:
    # Refused here, by name: otherwise they fail deep inside, with Python's words ("no attribute 'parents'").
    if not isinstance(root, Value):
        hint = ""
        if isinstance(root, (list, tuple)):
            hint = "; to draw several outputs, draw one Value that uses them all, e.g. draw_dot(sum(outputs))"
        raise TypeError(
            f"draw_dot(root={reprlib.repr(root)}): root must be a Value, the output whose graph to draw "
            f"(such as a loss), got {type(root).__name__}{hint}"
        )
    for name, limit in limits.items():  # max_nodes=..., max_neurons=...
        # bool is an int to Python, but max_nodes=True is a mistake
        if limit is not None and (not isinstance(limit, numbers.Integral) or isinstance(limit, bool)):
            raise TypeError(f"{name}={limit!r}: expected a whole number or None (no limit), got {type(limit).__name__}")
        if limit is not None and limit < 1:
            raise ValueError(f"{name}={limit!r}: expected at least 1, or None (no limit)")


def _parameter_set(parameters: object) -> set[Value] | None:
    if parameters is None:
        return None
    if isinstance(parameters, Iterable) and not isinstance(parameters, str):
        parameters = list(parameters)  # a generator can be read only once
        if all(isinstance(parameter, Value) for parameter in parameters):
            return set(parameters)
    raise TypeError(
        f"parameters={reprlib.repr(parameters)}: expected the Values to colour as parameters, "
        f"such as model.parameters()"
    )


def _groups(clusters: object) -> dict[Value, str]:
    """``clusters=`` as node -> the name of its cluster; a node named in two clusters is refused."""
    if clusters is None:
        return {}
    if not isinstance(clusters, Mapping):
        raise TypeError(f"clusters={reprlib.repr(clusters)}: expected a mapping from a cluster's name to its "
                        "Values, such as {'query': q, 'keys': k}")
    groups: dict[Value, str] = {}
    for name, members in clusters.items():
        members = [members] if isinstance(members, Value) else members
        if not isinstance(name, str) or not isinstance(members, Iterable) or isinstance(members, str):
            raise TypeError(f"clusters: expected a name (str) and the Values to box under it, got "
                            f"{reprlib.repr(name)}: {reprlib.repr(members)}")
        for node in members:
            if not isinstance(node, Value):
                raise TypeError(f"clusters[{name!r}] holds {reprlib.repr(node)}, not a Value")
            if groups.setdefault(node, name) != name:
                raise ValueError(f"clusters: a Value ({node!r}) is in both {groups[node]!r} and {name!r}; "
                                 "a box can be drawn in one cluster only")
    return groups


def _failed_checks(checks: object) -> dict[Value, list]:
    """Normalise ``checks=``: a gradcheck report, or a mapping node -> result(s), to node -> failures."""
    if checks is None:
        return {}
    mapping = checks.by_node() if hasattr(checks, "by_node") else checks
    if not isinstance(mapping, Mapping):
        raise TypeError(
            f"draw_dot(checks=...): expected a report from viz.gradcheck.check_gradients or a mapping "
            f"from node to check results, got {type(checks).__name__}"
        )
    failed = {}
    for node, results in mapping.items():
        results = list(results) if isinstance(results, (list, tuple)) else [results]
        if not all(hasattr(result, "ok") for result in results):
            raise TypeError(
                f"checks={reprlib.repr(checks)}: expected check results (from viz.gradcheck.check_gradients) "
                f"for each node, got {reprlib.repr(results)}"
            )
        wrong = [result for result in results if not result.ok]
        if wrong:
            failed[node] = wrong
    return failed


# --- writing DOT --------------------------------------------------------------


def _literal(text: str, *, html_like: bool = False) -> str:
    """User text (a label, an operation, a title) escaped so that Graphviz draws it as typed.

    Every string from the user goes into the DOT source through here, because DOT gives
    meaning to characters free text may hold. Inside an HTML-like label (``html_like``),
    ``<``, ``>`` and ``&`` are markup. In a quoted string, a backslash starts an escape
    (``\\l`` breaks the line; a final one eats the closing quote) and ``&amp;`` is an
    entity; and the graphviz package passes a string shaped ``<...>`` on unquoted, as HTML,
    where it can end the attribute list and add nodes. ``graphviz.escape`` doubles the
    backslashes and marks the text as not HTML; the package's quoting escapes double quotes.
    """
    if html_like:
        return html.escape(text)
    return graphviz.escape(text.replace("&", "&amp;"))


def _new_graph(rankdir: str, format: str, title: str | None) -> GlassDigraph:
    if rankdir not in RANKDIRS:
        raise ValueError(
            f"rankdir={rankdir!r}: choose one of {', '.join(RANKDIRS)} "
            f"(the output format is a keyword: draw_dot(root, format='svg'))"
        )
    # graphviz checks the format too, but its message names neither draw_dot nor the argument
    if not isinstance(format, str) or format.lower() not in graphviz.FORMATS:
        raise ValueError(f"format={format!r}: not a Graphviz output format; use e.g. 'svg', 'png' or 'pdf'")
    if title is not None and not isinstance(title, str):
        raise TypeError(f"title={title!r}: a title is text (a str), got {type(title).__name__}")
    dot = GlassDigraph(format=format)
    # newrank: rank nodes across clusters as one graph, so layers sit side by side, not in a staircase
    dot.attr(rankdir=rankdir, fontname=FONT, nodesep="0.2", ranksep="0.35", newrank="true")
    dot.attr("node", fontname=FONT, fontsize="11")
    dot.attr("edge", fontname=FONT, fontsize="9", color="#495057", arrowsize="0.6")
    return dot


def _write(dot: graphviz.Digraph, layout: _Layout, rankdir: str) -> None:
    """Write ``layout`` into ``dot``: the boxes outside clusters, each layer's cluster, the arrows, the legend."""
    if layout.caption:
        # a newline inside a quoted DOT string is a line break, and _literal keeps it
        dot.attr(label=_literal("\n".join(layout.caption)), labelloc="t", fontsize="16")
    if layout.collapsed or any(box.lined_up for box in layout.boxes):
        # remincross=false keeps the columns in their order (neurons N1, N2, ...; a neuron's b, w1,
        # w2, ...), which a last crossing pass would shuffle.
        dot.attr(remincross="false")
    if layout.collapsed:
        dot.attr(nodesep="0.15")  # a column of a dozen neurons, a little closer together, fits on a screen
    if layout.straight:
        # Neighbouring layers are joined by every pair of neurons; curved splines would spread
        # those columns over many screens, straight lines between the boxes' sides do not.
        # (Graphviz places the labels of straight lines badly, hence not with edge_grads.)
        dot.attr(splines="line")
    clusters: dict[str, dict[str | None, list[_Box]]] = {}  # layer -> neuron -> boxes, in order of appearance
    groups: dict[str, list[_Box]] = {}  # the caller's clusters (clusters=), in order of appearance
    for box in layout.boxes:
        if box.group is not None:
            groups.setdefault(box.group, []).append(box)
        elif box.cluster is None:
            _write_box(dot, box, rankdir)
        else:
            clusters.setdefault(box.cluster[0], {}).setdefault(box.cluster[1], []).append(box)
    for number, (name, boxes) in enumerate(groups.items()):
        with dot.subgraph(name=f"cluster_group{number}") as group_graph:  # numbered: a name is free text
            group_graph.attr(label=_literal(name), labeljust="l", style="rounded,filled", fillcolor="#f8f9fa",
                             color="#ced4da", fontsize="12")
            for box in boxes:
                _write_box(group_graph, box, rankdir)
    for layer, neurons in clusters.items():
        with dot.subgraph(name=_literal(f"cluster_{layer}")) as layer_graph:
            layer_graph.attr(
                label=_literal(layer), labeljust="l", style="rounded,dashed", color="#adb5bd", fontsize="13"
            )
            for neuron, boxes in neurons.items():
                _write_neuron(layer_graph, neuron, boxes, rankdir)
    for arrow in layout.arrows:
        dot.edge(arrow.tail, arrow.head, **_arrow_attributes(arrow, rankdir))
    if layout.legend:
        _write_legend(dot, layout.legend)
        with dot.subgraph() as column:
            column.attr(rank="same")
            column.node(layout.legend_beside)
            column.node("legend")


def _write_box(graph: graphviz.Digraph, box: _Box, rankdir: str) -> None:
    heading = [f"<B>{_literal(box.title, html_like=True)}</B>"] if box.title else []
    if box.formula:
        heading.append(_literal(box.formula, html_like=True))
    numbers = [_literal(cell, html_like=True) for cell in box.cells]
    if rankdir in ("TB", "BT"):
        rows = [[cell] for cell in heading + numbers]  # boxes side by side: each one narrow and tall
    elif box.compact:
        # the heading above the numbers; a neuron's side by side (its heading is as wide), another's stacked
        rows = [heading] if heading else []
        rows += [numbers] if box.kind == "neuron" else [[cell] for cell in numbers]
    else:
        rows = [heading + numbers]
    notes = [_literal(note, html_like=True) for note in box.notes]
    label = _table(rows, box.fill, box.border, box.border_width, notes, padding=2 if box.compact else 3)
    graph.node(box.name, label=label, shape="none", margin="0")
    if box.oval:
        fill, border = COLORS["failed" if box.oval.failed else "operation"]
        graph.node(box.oval.name, label=_literal(box.oval.text), shape="ellipse", style="filled", fillcolor=fill,
                   color=border, margin="0.04,0.02", height="0.3")


def _write_neuron(graph: graphviz.Digraph, neuron: str | None, boxes: list[_Box], rankdir: str) -> None:
    """A neuron's cluster, its parameters in one column (b, w1, w2, ...); or, for neuron None,
    the column of a layer's collapsed neurons."""
    if neuron is None:
        _write_column(graph, boxes, rankdir)
        return
    with graph.subgraph(name=_literal(f"cluster_{neuron}")) as neuron_graph:
        neuron_graph.attr(
            label=_literal(neuron), labeljust="l", style="rounded,filled", fillcolor="#f8f9fa", color="#ced4da"
        )
        for box in boxes:
            if not box.lined_up:
                _write_box(neuron_graph, box, rankdir)
        _write_column(neuron_graph, [box for box in boxes if box.lined_up], rankdir)


def _write_column(graph: graphviz.Digraph, boxes: list[_Box], rankdir: str) -> None:
    """Boxes side by side in one rank, in the order of their ``rank``: first at the top (LR) or left (TB)."""
    boxes = sorted(boxes, key=lambda box: box.rank)
    with graph.subgraph() as column:
        column.attr(rank="same")
        for box in boxes:
            _write_box(column, box, rankdir)
        # Invisible arrows fix the order within the column. Graphviz puts an arrow's
        # tail first along a rank, which rankdir LR or RL turns into "below".
        pairs = list(zip(boxes, boxes[1:]))
        if rankdir in ("LR", "RL"):
            pairs = [(lower, upper) for upper, lower in pairs]
        for tail, head in pairs:
            column.edge(tail.name, head.name, style="invis")


def _arrow_attributes(arrow: _Arrow, rankdir: str) -> dict[str, str]:
    attributes = {}
    if arrow.total is not None:
        attributes = {"label": f"{format_number(arrow.total)}\\nin all", "fontcolor": GRADIENT_TEXT_COLOR}
    elif arrow.carries is not None:
        attributes = _gradient_label(*arrow.carries, arrow.tag)
    elif arrow.tag:
        # A label sits in a rank of its own, which widens the picture; a head label does not,
        # and by the arrow's head it names the operand as well. (Only the collapsed picture is so
        # cramped; elsewhere the tag stays midway, where the eye follows the arrow.)
        attributes = {"headlabel" if arrow.compact else "label": arrow.tag, "fontcolor": "#868e96"}
    if arrow.straight:
        # leave one side, enter the other: straight arrows between columns, never across a box;
        # two ranks apart, so that the many lines between two columns have room to fan out
        attributes.update(tailport=PORTS[rankdir][0], headport=PORTS[rankdir][1], minlen="2")
    if arrow.failed:
        attributes.update(color=COLORS["failed"][1], penwidth="2")
    if arrow.into_cluster:
        # An arrow into a neuron from outside it spans two ranks, so that the neuron's parameters
        # get a column of their own and do not share one with the previous layer's outputs:
        # the layers' clusters then sit side by side, not in a staircase.
        attributes["minlen"] = "2"
    return attributes


def _gradient_label(result_grad: float, local_grad: float, tag: str | None = None) -> dict[str, str]:
    """What an arrow carries back: result.grad * local derivative, then that product spelled out."""
    contribution = format_number(result_grad * local_grad)
    local = format_number(local_grad)
    if local.startswith("-"):
        local = f"({local})"
    lines = [f"{tag}: {contribution}" if tag else contribution, f"= {format_number(result_grad)} × {local}"]
    return {"label": "\\n".join(lines), "fontcolor": GRADIENT_TEXT_COLOR}


def _table(rows: list[list[str]], fill: str, border: str, border_width: int, notes: list[str], padding: int = 3) -> str:
    """An HTML-like Graphviz label: rows of cells (a shorter row's last cell spans the rest), then a row per note."""
    width = max((len(row) for row in rows), default=1)
    lines = []
    for row in rows:
        cells = [f"<TD>{cell}</TD>" for cell in row[:-1]]
        span = width - len(row) + 1
        cells.append(f'<TD COLSPAN="{span}">{row[-1]}</TD>' if span > 1 else f"<TD>{row[-1]}</TD>")
        lines.append("<TR>" + "".join(cells) + "</TR>")
    failed_fill, failed_border = COLORS["failed"]
    for note in notes:
        lines.append(
            f'<TR><TD COLSPAN="{width}" BGCOLOR="{failed_fill}">'
            f'<FONT COLOR="{failed_border}">{note}</FONT></TD></TR>'
        )
    return (
        f'<<TABLE BORDER="{border_width}" CELLBORDER="1" CELLSPACING="0" CELLPADDING="{padding}" '
        f'COLOR="{border}" BGCOLOR="{fill}">{"".join(lines)}</TABLE>>'
    )


# --- the legend ---------------------------------------------------------------

# each kind of box (a key of COLORS) and its row of the legend, in the order a reader meets them
LEGEND = {
    "parameter": "parameter leaf",
    "input": "input leaf (data, target)",
    "constant": "constant of the formula",
    "intermediate": "intermediate value",
    "neuron": "neuron (collapsed)",
    "summary": "neurons left out",
    "output": "output (root)",
}


def _legend_rows(kinds: Iterable[str], shade: str, checked: bool, ovals: bool) -> list[tuple[str, str, str]]:
    """(text, fill, border) for each row of the legend: the kinds of box drawn, then what the fills mean.

    A row with no colours ("", "") is a heading.
    """
    drawn = set(kinds)
    shaded = shade == "grad"
    # shaded, the fill shows the grad and only the border the kind: the headings say so
    rows = [("border: what it is", "", "")] if shaded else []
    for kind, text in LEGEND.items():
        if kind in drawn:
            fill, border = COLORS[kind]
            rows.append((text, "#ffffff" if shaded else fill, border))
    if ovals:
        rows.append(("operation (oval)", *COLORS["operation"]))
    if shaded:
        rows.append(("fill: its grad", "", ""))
        rows.append(("grad < 0", NEGATIVE_GRAD_COLOR, COLORS["intermediate"][1]))
        rows.append(("grad > 0", POSITIVE_GRAD_COLOR, COLORS["intermediate"][1]))
    if checked:
        rows.append(("failed gradient check", *COLORS["failed"]))
    return rows


def _write_legend(dot: graphviz.Digraph, rows: list[tuple[str, str, str]]) -> None:
    """A small cluster holding one table: a coloured row per kind of box."""
    cells = "".join(
        f'<TR><TD BGCOLOR="{fill}" COLOR="{border}" BORDER="2">{_literal(text, html_like=True)}</TD></TR>' if fill
        else f'<TR><TD BORDER="0" ALIGN="LEFT"><I>{_literal(text, html_like=True)}</I></TD></TR>'
        for text, fill, border in rows
    )
    table = f'<<TABLE BORDER="0" CELLSPACING="3" CELLPADDING="3">{cells}</TABLE>>'
    with dot.subgraph(name="cluster_legend") as legend:
        legend.attr(label="legend", style="rounded", color="#ced4da", fontsize="11", labeljust="c")
        legend.node("legend", label=table, shape="none", margin="0", fontsize="10")


def draw_legend(rankdir: str = "LR", shade: str = "none", collapse_neurons: bool = False) -> GlassDigraph:
    """The colour legend on its own: every row the one ``draw_dot`` adds can have."""
    dot = _new_graph(rankdir, "svg", None)
    kinds = [kind for kind in LEGEND if collapse_neurons or kind not in ("neuron", "summary")]
    _write_legend(dot, _legend_rows(kinds, shade, checked=True, ovals=True))
    return dot


# --- drawing ------------------------------------------------------------------


def draw_dot(
    root: Value,
    rankdir: str = "LR",
    *,
    format: str = "svg",
    show_grad: bool = True,
    edge_grads: bool = False,
    shade: str = "none",
    group: bool = True,
    collapse_neurons: bool = False,
    max_neurons: int | None = 12,
    legend: bool | None = None,
    parameters: Iterable[Value] | None = None,
    checks: object = None,
    max_nodes: int | None = 2000,
    title: str | None = None,
    clusters: Mapping[str, Iterable[Value]] | None = None,
) -> GlassDigraph:
    """A Graphviz picture of every node ``root`` depends on (see the module docstring's legend).

    rankdir           "LR" (inputs left, output right) or "TB" (top to bottom), or "RL", "BT".
    format            the format ``dot.render()`` writes by default, as in micrograd.
    show_grad         print each node's grad beside its data.
    edge_grads        write on each arrow into an operation the gradient it carries back to
                      that operand, result.grad * local derivative; a node used twice gets
                      two arrows, whose numbers add up to its grad.
    shade             "none", or "grad": fill value boxes orange (grad < 0) or blue (grad > 0),
                      stronger for larger |grad|, to see where the error signal is large.
    group             put each layer and neuron of an nn graph in a labelled cluster
                      ("cluster_L1", "cluster_L1.N3").
    collapse_neurons  draw each neuron as one box, "L1.N3 | relu(b + w·x)" above "data | grad",
                      with arrows from its inputs; its parameters and weighted sum are hidden.
                      The rest is drawn as compactly (see the module docstring).
    max_neurons       with collapse_neurons, the most boxes a hidden layer's column holds: a wider
                      layer shows its max_neurons - 1 neurons with the largest |grad| and one box
                      "+ 21 more neurons" for the rest, so that it fits on a screen (1: one box
                      per layer); None: every neuron.
    legend            add the colour legend as a cluster; None (the default): add it when the
                      colours say more than the kind of box, with shade="grad" or collapse_neurons.
    parameters        the leaves to colour as parameters (e.g. ``model.parameters()``);
                      by default, leaves whose label looks like one ("L1.N3.w2", "b").
    checks            a report from ``viz.gradcheck.check_gradients`` (or a mapping from node
                      to such results): wrong local derivatives are painted red with both numbers.
    max_nodes         refuse (ValueError) to draw more boxes and ovals than this; None: no limit.
    title             a caption above the graph. When backward reached nothing but the root
                      (a hinge loss of 0, say), a sentence below it says where the gradient stopped.
    clusters          named groups of values, each boxed in a cluster with its name written on it
                      (with the oval of the operation that made each value), e.g.
                      {"query": q, "keys": k}: for graphs nn's labels do not group. A value in
                      one of them leaves the cluster group=True gave it.
    """
    _check_root_and_limits(root, {"max_nodes": max_nodes, "max_neurons": max_neurons})
    if shade not in SHADES:
        raise ValueError(f"shade={shade!r}: choose one of {', '.join(map(repr, SHADES))}")
    if legend is None:
        legend = shade == "grad" or collapse_neurons
    dot = _new_graph(rankdir, format, title)
    layout = _layout(
        root, show_grad=show_grad, edge_grads=edge_grads, shade=shade, group=group, collapse_neurons=collapse_neurons,
        legend=legend, parameters=_parameter_set(parameters), failed=_failed_checks(checks), max_nodes=max_nodes,
        max_neurons=max_neurons, title=title, groups=_groups(clusters),
    )
    _write(dot, layout, rankdir)
    return dot
