"""Draw a computation graph with Graphviz: numbers flow forward, gradients flow back.

``draw_dot(root)`` returns a ``graphviz.Digraph`` of every node ``root`` depends
on, as in micrograd's notebook: each Value is a box showing its label, ``data``
and ``grad``; each operation is a small oval of its own between its operands
and its result. Arrows point the way the numbers were computed (left to right
by default); ``backward()`` sends the gradient the opposite way along the same
arrows, and ``edge_grads=True`` writes on each arrow how much gradient it
carries back.

Legend (``legend=True`` draws it beside the graph; ``draw_legend()`` alone):

    box fill / border        meaning
    #fff3bf / #a67c00 gold   parameter leaf: a leaf passed in ``parameters=``, or, without
                             that argument, a leaf whose label ends in w, b, w<digits> or
                             b<digits> after the last dot ("L1.N3.w2", "L1.N3.b", "w1", "b")
    #e9ecef / #868e96 grey   input leaf: every other leaf (data, targets, constants like the 2 in 2*x)
    #ffffff / #adb5bd white  intermediate value: the result of an operation
    #d3f9d8 / #2b8a3e green  output: the root the graph was drawn from (bold border)
    #e5dbff / #7048e8 purple a whole neuron drawn as one box (``collapse_neurons=True``)
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
weighted sum b + w1*x1 + ... (the engine's "dot" node).

Numbers are printed with 4 decimals (``format_number``), in a monospace font so
that columns line up. Node names in the DOT source are numbered by position,
never by ``id()``, so the same graph always gives the same source text.

Graphs built by ``nn`` name their parameters "L1.N3.w2" and each neuron's
output "L1.N3"; ``group=True`` reads these labels (``nn.module.parse_label``) to
box each layer and neuron in a Graphviz cluster. ``draw_dot`` first decides what
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
    title: str  # its label ("" for none); a collapsed neuron's is its output's, "L1.N3"
    cells: list[str]  # a collapsed neuron's formula, then "data ..." and "grad ..."
    fill: str
    border: str
    border_width: int
    notes: list[str]  # the failed gradient checks shown on this box
    oval: _Oval | None
    cluster: tuple[str, str | None] | None  # (layer, neuron); (layer, None): the layer's column of collapsed neurons
    rank: int  # a collapsed neuron's number: L1.N1 above L1.N2 above ... L1.N10 in its column


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


@dataclass
class _Layout:
    """All that ``draw_dot`` draws, decided before any DOT is written; ``_write`` writes it."""

    boxes: list[_Box]  # leaves first, root last, so that the DOT text reads in computing order
    arrows: list[_Arrow]
    collapsed: bool  # collapse_neurons: the layer columns keep their neurons in order
    straight: bool  # collapsed without edge_grads: straight arrows between the columns
    legend: list[tuple[str, str, str]]  # (text, fill, border) of each row; empty: no legend


def _layout(
    root: Value, *, show_grad: bool, edge_grads: bool, shade: str, group: bool, collapse_neurons: bool,
    legend: bool, parameters: set[Value] | None, failed: dict[Value, list], max_nodes: int | None,
) -> _Layout:
    """Which values get a box and where, what each box says, the arrows between them."""
    order = topological_order(root)  # root first, each node before its parents
    position = {node: index for index, node in enumerate(order)}
    drawn = order
    if not collapse_neurons:  # refused before the search for neurons, which is slow on a huge graph
        _check_size(drawn, {}, max_nodes, collapse=False)
    neurons = _find_neurons(order, position) if group or collapse_neurons else []
    collapsed: dict[Value, list[tuple[Value, float]]] = {}  # a neuron drawn as one box (its output) -> its inputs
    owner: dict[Value, Value] = {}  # a node hidden inside a collapsed neuron -> that neuron's output
    if collapse_neurons:
        for neuron in neurons:
            for output, members in neuron.uses.items():
                collapsed[output] = _neuron_inputs(output, members)
                owner.update((member, output) for member in members if member not in owner)
        drawn = _visible_nodes(root, collapsed, position)
        _check_size(drawn, collapsed, max_nodes, collapse=True)
    emitted = drawn[::-1]  # leaves first, root last: the DOT text then reads in computing order
    name = {node: f"v{index}" for index, node in enumerate(emitted)}
    places = _places(neurons, collapse_neurons) if group else {}
    notes: dict[Value, list[str]] = {}  # the box that shows each failure: the node's, or its neuron's
    for node, results in failed.items():
        notes.setdefault(owner.get(node, node), []).extend(_check_note(r, _operand_names(node)) for r in results)
    boxes = _boxes(emitted, name, root, collapsed, places, parameters, failed, notes, shade, show_grad)
    arrows = _arrows(emitted, name, collapsed, places, failed, edge_grads)
    rows = _legend_rows(shade, collapse_neurons, checked=bool(failed)) if legend else []
    return _Layout(boxes, arrows, collapse_neurons, collapse_neurons and not edge_grads, rows)


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


def _boxes(
    emitted: list[Value], name: dict[Value, str], root: Value, collapsed: dict[Value, list], places: dict,
    parameters: set[Value] | None, failed: dict, notes: dict[Value, list[str]], shade: str, show_grad: bool,
) -> list[_Box]:
    """A box per value, coloured by its kind (or its grad, with shade="grad"), with its operation's oval."""
    largest = max((abs(node.grad) for node in emitted if not math.isnan(node.grad)), default=0.0)
    boxes = []
    for index, node in enumerate(emitted):
        kind = _kind(node, root, node in collapsed, parameters)
        fill, border = COLORS[kind]
        border_width = 2 if kind == "output" or shade == "grad" else 1
        if shade == "grad":
            fill = _grad_fill(node.grad, largest)
        if node in notes:
            border, border_width = COLORS["failed"][1], 3
        cells = [_describe_neuron(node)] if node in collapsed else []
        cells.append(f"data {format_number(node.data)}")
        if show_grad:
            cells.append(f"grad {format_number(node.grad)}")
        oval = None
        if node.parents and node not in collapsed:
            oval = _Oval(f"op{index}", OP_TEXT.get(node.op, node.op), node in failed)
        rank = parse_label(node.label)[1] if node in collapsed else 0
        boxes.append(_Box(name[node], node.label, cells, fill, border, border_width, notes.get(node, []), oval,
                          places.get(node), rank))
    return boxes


def _arrows(
    emitted: list[Value], name: dict[Value, str], collapsed: dict[Value, list],
    places: dict[Value, tuple[str, str | None]], failed: dict[Value, list], edge_grads: bool,
) -> list[_Arrow]:
    """Operands into their operation, and it into its result; a collapsed neuron's inputs straight into it."""
    arrows = []
    for index, node in enumerate(emitted):
        if node in collapsed:
            arrows += [
                _Arrow(name[source], name[node], carries=(node.grad, derivative) if edge_grads else None,
                       straight=not edge_grads)
                for source, derivative in collapsed[node]
            ]
        elif node.parents:
            tags = _operand_names(node) or [None] * len(node.parents)
            wrong = {result.index for result in failed.get(node, ())}
            for slot, (parent, local_grad, tag) in enumerate(zip(node.parents, node.local_grads, tags)):
                carries = (node.grad, local_grad) if edge_grads else None
                into_cluster = node in places and places.get(parent) != places[node]
                arrows.append(_Arrow(name[parent], f"op{index}", tag, carries, slot in wrong, into_cluster))
            arrows.append(_Arrow(f"op{index}", name[node]))
    return arrows


def _kind(node: Value, root: Value, is_neuron: bool, parameters: set[Value] | None) -> str:
    """Which entry of the legend (a key of COLORS) a value box belongs to."""
    if node is root:
        return "output"
    if is_neuron:
        return "neuron"
    if node.parents:
        return "intermediate"
    if parameters is not None:
        return "parameter" if node in parameters else "input"
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


# --- checking the arguments ---------------------------------------------------


def _check_root_and_limit(root: object, max_nodes: object) -> None:
    # Refused here, by name: otherwise they fail deep inside, with Python's words ("no attribute 'parents'").
    if not isinstance(root, Value):
        hint = ""
        if isinstance(root, (list, tuple)):
            hint = "; to draw several outputs, draw one Value that uses them all, e.g. draw_dot(sum(outputs))"
        raise TypeError(
            f"draw_dot(root={reprlib.repr(root)}): root must be a Value, the output whose graph to draw "
            f"(such as a loss), got {type(root).__name__}{hint}"
        )
    # bool is an int to Python, but max_nodes=True is a mistake
    if max_nodes is not None and (not isinstance(max_nodes, numbers.Integral) or isinstance(max_nodes, bool)):
        raise TypeError(
            f"max_nodes={max_nodes!r}: expected a whole number of nodes or None (no limit), "
            f"got {type(max_nodes).__name__}"
        )


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
    if title:
        dot.attr(label=_literal(title), labelloc="t", fontsize="16")
    dot.attr("node", fontname=FONT, fontsize="11")
    dot.attr("edge", fontname=FONT, fontsize="9", color="#495057", arrowsize="0.6")
    return dot


def _write(dot: graphviz.Digraph, layout: _Layout, rankdir: str) -> None:
    """Write ``layout`` into ``dot``: the boxes outside clusters, each layer's cluster, the arrows, the legend."""
    if layout.collapsed:
        # remincross=false keeps the neurons in their order, which a last crossing pass would shuffle.
        dot.attr(remincross="false")
    if layout.straight:
        # Neighbouring layers are joined by every pair of neurons; curved splines would spread
        # those columns over many screens, straight lines between the boxes' sides do not.
        # (Graphviz places the labels of straight lines badly, hence not with edge_grads.)
        dot.attr(splines="line", ranksep="1.2")
    clusters: dict[str, dict[str | None, list[_Box]]] = {}  # layer -> neuron -> boxes, in order of appearance
    for box in layout.boxes:
        if box.cluster is None:
            _write_box(dot, box, rankdir)
        else:
            clusters.setdefault(box.cluster[0], {}).setdefault(box.cluster[1], []).append(box)
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


def _write_box(graph: graphviz.Digraph, box: _Box, rankdir: str) -> None:
    cells = [_literal(cell, html_like=True) for cell in box.cells]
    if box.title:
        cells.insert(0, f"<B>{_literal(box.title, html_like=True)}</B>")
    notes = [_literal(note, html_like=True) for note in box.notes]
    label = _table(cells, box.fill, box.border, box.border_width, notes, vertical=rankdir in ("TB", "BT"))
    graph.node(box.name, label=label, shape="none", margin="0")
    if box.oval:
        fill, border = COLORS["failed" if box.oval.failed else "operation"]
        graph.node(box.oval.name, label=_literal(box.oval.text), shape="ellipse", style="filled", fillcolor=fill,
                   color=border, margin="0.04,0.02", height="0.3")


def _write_neuron(graph: graphviz.Digraph, neuron: str | None, boxes: list[_Box], rankdir: str) -> None:
    """A neuron's cluster; or, for neuron None, the column of a layer's collapsed neurons."""
    if neuron is not None:
        with graph.subgraph(name=_literal(f"cluster_{neuron}")) as neuron_graph:
            neuron_graph.attr(
                label=_literal(neuron), labeljust="l", style="rounded,filled", fillcolor="#f8f9fa", color="#ced4da"
            )
            for box in boxes:
                _write_box(neuron_graph, box, rankdir)
        return
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
    if arrow.carries is not None:
        attributes = _gradient_label(*arrow.carries, arrow.tag)
    elif arrow.tag:
        attributes = {"label": arrow.tag, "fontcolor": "#868e96"}
    if arrow.straight:
        # leave one side, enter the other: straight arrows between columns, never across a box
        attributes.update(tailport=PORTS[rankdir][0], headport=PORTS[rankdir][1])
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


def _table(cells: list[str], fill: str, border: str, border_width: int, notes: list[str], vertical: bool) -> str:
    """An HTML-like Graphviz label: the cells side by side (or stacked), then a full-width row per note.

    Side by side suits rankdir LR, where boxes stack vertically; stacked suits TB.
    """
    if vertical:
        rows = "".join(f"<TR><TD>{cell}</TD></TR>" for cell in cells)
    else:
        rows = "<TR>" + "".join(f"<TD>{cell}</TD>" for cell in cells) + "</TR>"
    span = 1 if vertical else len(cells)
    failed_fill, failed_border = COLORS["failed"]
    for note in notes:
        rows += (
            f'<TR><TD COLSPAN="{span}" BGCOLOR="{failed_fill}">'
            f'<FONT COLOR="{failed_border}">{note}</FONT></TD></TR>'
        )
    return (
        f'<<TABLE BORDER="{border_width}" CELLBORDER="1" CELLSPACING="0" CELLPADDING="3" '
        f'COLOR="{border}" BGCOLOR="{fill}">{rows}</TABLE>>'
    )


# --- the legend ---------------------------------------------------------------


def _legend_rows(shade: str, collapsed: bool, checked: bool) -> list[tuple[str, str, str]]:
    """(text, fill, border) for each row of the legend, in the order a reader meets them."""
    kinds = [
        ("parameter", "parameter leaf"),
        ("input", "input leaf (data, constant)"),
        ("intermediate", "intermediate value"),
        ("output", "output (root)"),
        ("operation", "operation (oval)"),
    ]
    if collapsed:
        kinds.insert(3, ("neuron", "neuron (collapsed)"))
    rows = [(text, *COLORS[kind]) for kind, text in kinds]
    if shade == "grad":
        rows.append(("fill: grad < 0", NEGATIVE_GRAD_COLOR, COLORS["intermediate"][1]))
        rows.append(("fill: grad > 0", POSITIVE_GRAD_COLOR, COLORS["intermediate"][1]))
    if checked:
        rows.append(("failed gradient check", *COLORS["failed"]))
    return rows


def _write_legend(dot: graphviz.Digraph, rows: list[tuple[str, str, str]]) -> None:
    """A small cluster holding one table: a coloured row per kind of box."""
    cells = "".join(
        f'<TR><TD BGCOLOR="{fill}" COLOR="{border}" BORDER="2">{_literal(text, html_like=True)}</TD></TR>'
        for text, fill, border in rows
    )
    table = f'<<TABLE BORDER="0" CELLSPACING="3" CELLPADDING="3">{cells}</TABLE>>'
    with dot.subgraph(name="cluster_legend") as legend:
        legend.attr(label="legend", style="rounded", color="#ced4da", fontsize="11", labeljust="c")
        legend.node("legend", label=table, shape="none", margin="0", fontsize="10")


def draw_legend(rankdir: str = "LR", shade: str = "none", collapse_neurons: bool = False) -> GlassDigraph:
    """The colour legend on its own (the same one ``draw_dot(..., legend=True)`` adds)."""
    dot = _new_graph(rankdir, "svg", None)
    _write_legend(dot, _legend_rows(shade, collapse_neurons, checked=True))
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
    legend: bool = False,
    parameters: Iterable[Value] | None = None,
    checks: object = None,
    max_nodes: int | None = 2000,
    title: str | None = None,
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
    collapse_neurons  draw each neuron as one box, e.g. "L1.N3 | relu(b + w·x) | data | grad",
                      with arrows from its inputs; its parameters and weighted sum are hidden.
    legend            add the colour legend as a cluster.
    parameters        the leaves to colour as parameters (e.g. ``model.parameters()``);
                      by default, leaves whose label looks like one ("L1.N3.w2", "b").
    checks            a report from ``viz.gradcheck.check_gradients`` (or a mapping from node
                      to such results): wrong local derivatives are painted red with both numbers.
    max_nodes         refuse (ValueError) to draw more boxes and ovals than this; None: no limit.
    title             a caption above the graph.
    """
    _check_root_and_limit(root, max_nodes)
    if shade not in SHADES:
        raise ValueError(f"shade={shade!r}: choose one of {', '.join(map(repr, SHADES))}")
    dot = _new_graph(rankdir, format, title)
    layout = _layout(
        root, show_grad=show_grad, edge_grads=edge_grads, shade=shade, group=group, collapse_neurons=collapse_neurons,
        legend=legend, parameters=_parameter_set(parameters), failed=_failed_checks(checks), max_nodes=max_nodes,
    )
    _write(dot, layout, rankdir)
    return dot
