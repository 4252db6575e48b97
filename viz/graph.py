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
    #fff3bf / #f08c00 amber  parameter leaf: a leaf passed in ``parameters=``, or, without
                             that argument, a leaf whose label ends in w, b, w<digits> or
                             b<digits> after the last dot ("L1.N3.w2", "L1.N3.b", "w1", "b")
    #e9ecef / #868e96 grey   input leaf: every other leaf (data, targets, constants like the 2 in 2*x)
    #ffffff / #adb5bd white  intermediate value: the result of an operation
    #d3f9d8 / #2b8a3e green  output: the root the graph was drawn from (bold border)
    #e5dbff / #7048e8 purple a whole neuron drawn as one box (``collapse_neurons=True``)
    #f8f9fa oval             an operation ("+", "*", "tanh", "b + w·x", ...)
    #ffc9c9 / #c92a2a red    a local derivative that failed ``check_gradients`` (``checks=``)

With ``shade="grad"`` the fill shows the gradient instead (the border keeps the
kind): red for a negative grad, blue for a positive one, white for zero, the
intensity proportional to |grad| / (largest |grad| in the picture). The full
colours are #ff6b6b (red) and #4dabf7 (blue).

Operands whose order matters are tagged on their arrow: "a" and "b" for a - b
and a / b, "x" and "y" for x ** y, and "b", "w1", "x1", ... for a neuron's
weighted sum b + w1*x1 + ... (the engine's "dot" node).

Numbers are printed with 4 decimals (``format_number``), in a monospace font so
that columns line up. Node names in the DOT source are numbered by position,
never by ``id()``, so the same graph always gives the same source text.

Graphs built by ``nn`` name their parameters "L1.N3.w2" and each neuron's
output "L1.N3"; ``group=True`` uses this to box each layer and neuron in a
Graphviz cluster. Rendering needs Graphviz's ``dot`` program; without it
``render`` (and the Digraph's own ``render``/``pipe``) raise `GraphvizNotFound`,
which says how to install it.
"""

from __future__ import annotations

import contextlib
import html
import math
import numbers
import re
import reprlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import graphviz

from engine import Value, topological_order
from engine.value import split_dot

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
    "parameter": ("#fff3bf", "#f08c00"),
    "input": ("#e9ecef", "#868e96"),
    "intermediate": ("#ffffff", "#adb5bd"),
    "output": ("#d3f9d8", "#2b8a3e"),
    "neuron": ("#e5dbff", "#7048e8"),
    "operation": ("#f8f9fa", "#868e96"),
    "failed": ("#ffc9c9", "#c92a2a"),
}
NEGATIVE_GRAD_COLOR = "#ff6b6b"
POSITIVE_GRAD_COLOR = "#4dabf7"
GRADIENT_TEXT_COLOR = "#862e9c"  # the numbers edge_grads writes on arrows
FONT = "monospace"

RANKDIRS = ("LR", "TB", "RL", "BT")
PORTS = {"LR": ("e", "w"), "RL": ("w", "e"), "TB": ("s", "n"), "BT": ("n", "s")}  # (leave by, enter by)
SHADES = ("none", "grad")
ACTIVATIONS = ("relu", "tanh", "sigmoid", "exp", "log")

# how an operation is written in its oval, when the plain symbol would hide the operand order
OP_TEXT = {"-": "a - b", "/": "a / b", "**": "x ** y", "dot": "b + w·x"}

_PARAMETER_LABEL = re.compile(r"(?:^|\.)[wb]\d*$", re.IGNORECASE)
_NEURON_LABEL = re.compile(r"[^.\s]+\.[^.\s]+")  # "L1.N3": layer, dot, neuron

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
    """The neurons of a graph whose nodes follow nn's labels ("L1.N3" and "L1.N3.w2").

    A neuron's nodes are its parameters (leaves labelled "L1.N3.<name>"), its
    output (labelled "L1.N3") and every node on a path from those parameters
    to that output. Its inputs are not on such a path, so they stay outside.
    """
    outputs = [node for node in order if node.parents and _NEURON_LABEL.fullmatch(node.label)]
    is_output = set(outputs)
    neurons: dict[str, _Neuron] = {}
    for output in reversed(outputs):  # nearest the inputs first, so layer 1 comes first
        prefix = output.label + "."
        # Walk back from the output, not past other neurons' outputs or leaves.
        parameters, region, seen, stack = set(), [], {output}, [output]
        while stack:
            for parent in stack.pop().parents:
                if parent in seen:
                    continue
                seen.add(parent)
                if not parent.parents:
                    if parent.label.startswith(prefix):
                        parameters.add(parent)
                elif parent not in is_output:
                    region.append(parent)
                    stack.append(parent)
        if not parameters:
            continue  # a label like "loss.total" with no parameters of its own is not a neuron
        # Keep the region's nodes that a parameter reaches, parents before children.
        between = set(parameters)
        for node in sorted(region, key=position.__getitem__, reverse=True):
            if any(parent in between for parent in node.parents):
                between.add(node)
        between.add(output)
        layer = output.label.split(".")[0]
        neuron = neurons.setdefault(output.label, _Neuron(output.label, layer))
        neuron.uses[output] = sorted(between, key=position.__getitem__)
    return list(neurons.values())


def _neuron_inputs(output: Value, members: list[Value]) -> list[tuple[Value, float]]:
    """The nodes a neuron reads (besides its parameters), each with d output / d input.

    The derivative is a small backward pass over the neuron's own nodes, so
    ``output.grad * derivative`` is the gradient the neuron sends to that input.
    """
    inside = set(members)
    derivative = {output: 1.0}
    inputs: dict[Value, float] = {}
    for node in members:  # output first, each node before its parents
        if not node.parents:
            continue
        for parent, local_grad in zip(node.parents, node.local_grads):
            amount = derivative.get(node, 0.0) * local_grad
            if parent in inside:
                derivative[parent] = derivative.get(parent, 0.0) + amount
            else:
                inputs[parent] = inputs.get(parent, 0.0) + amount
    return sorted(inputs.items(), key=lambda item: _first_use(item[0], members))


def _first_use(node: Value, members: list[Value]) -> tuple[int, int]:
    # inputs in the order the neuron reads them: x1 before x2
    for rank, member in enumerate(reversed(members)):
        for index, parent in enumerate(member.parents):
            if parent is node:
                return rank, index
    return len(members), 0


def _describe_neuron(output: Value) -> str:
    if output.op == "dot":
        return "b + w·x"
    if output.op in ACTIVATIONS and output.parents and output.parents[0].op in ("dot", "+", "sum"):
        return f"{output.op}(b + w·x)"
    return f"{output.op}(...)"


# --- the labels ---------------------------------------------------------------


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


def _mix(color: str, strength: float) -> str:
    """``color`` blended with white: strength 0 is white, 1 is the colour itself."""
    channels = [int(color[i : i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(255 + (c - 255) * strength):02x}" for c in channels)


def _grad_fill(grad: float, largest: float) -> str:
    if math.isnan(grad) or largest == 0.0:
        return "#ffffff"
    strength = 1.0 if math.isinf(largest) or math.isinf(grad) else abs(grad) / largest
    return _mix(NEGATIVE_GRAD_COLOR if grad < 0 else POSITIVE_GRAD_COLOR, strength)


def _table(
    cells: list[str],
    fill: str,
    border: str,
    border_width: int,
    notes: Iterable[str] = (),
    vertical: bool = False,
) -> str:
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


def _check_note(check: object, names: tuple[str, ...] | None) -> str:
    parents = check.node.parents
    if parents[check.index].label:
        name = parents[check.index].label
    elif names:
        name = names[check.index]
    else:
        name = "input" if len(parents) == 1 else f"parent {check.index}"
    numeric = "skipped" if check.numeric is None else format_number(check.numeric)
    return _literal(f"✗ d/d {name}: engine {format_number(check.engine)} ≠ numeric {numeric}", html_like=True)


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


def _too_large(n_values: int, n_ops: int, max_nodes: int, collapsed: bool) -> ValueError:
    total = n_values + n_ops
    advice = [
        "draw the graph of one sample's loss instead of a whole batch or training step",
        f"raise the limit, e.g. draw_dot(root, max_nodes={total})",
    ]
    if not collapsed:
        advice.insert(1, "pass collapse_neurons=True to draw each neuron as one box")
    return ValueError(
        f"draw_dot: this graph has {n_values} value nodes and {n_ops} operation nodes ({total} in all), "
        f"more than max_nodes={max_nodes}; Graphviz would be slow and the picture unreadable. "
        f"To draw less: " + "; or ".join(advice) + "."
    )


# --- drawing ------------------------------------------------------------------


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


def _add_legend(dot: graphviz.Digraph, shade: str, collapsed: bool, checked: bool) -> None:
    """A small cluster holding one table: a coloured row per kind of box."""
    rows = "".join(
        f'<TR><TD BGCOLOR="{fill}" COLOR="{border}" BORDER="2">{_literal(text, html_like=True)}</TD></TR>'
        for text, fill, border in _legend_rows(shade, collapsed, checked)
    )
    table = f'<<TABLE BORDER="0" CELLSPACING="3" CELLPADDING="3">{rows}</TABLE>>'
    with dot.subgraph(name="cluster_legend") as legend:
        legend.attr(label="legend", style="rounded", color="#ced4da", fontsize="11", labeljust="c")
        legend.node("legend", label=table, shape="none", margin="0", fontsize="10")


def draw_legend(rankdir: str = "LR", shade: str = "none", collapse_neurons: bool = False) -> GlassDigraph:
    """The colour legend on its own (the same one ``draw_dot(..., legend=True)`` adds)."""
    dot = _new_graph(rankdir, "svg", None)
    _add_legend(dot, shade, collapse_neurons, checked=True)
    return dot


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
    shade             "none", or "grad": fill value boxes red (grad < 0) or blue (grad > 0),
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
    order = topological_order(root)  # root first, each node before its parents
    position = {node: index for index, node in enumerate(order)}
    n_ops = sum(1 for node in order if node.parents)
    if max_nodes is not None and not collapse_neurons and len(order) + n_ops > max_nodes:
        raise _too_large(len(order), n_ops, max_nodes, collapsed=False)

    neurons = _find_neurons(order, position) if group or collapse_neurons else []
    box_inputs: dict[Value, list[tuple[Value, float]]] = {}  # collapsed neuron -> (input, d out / d input)
    box_name: dict[Value, str] = {}
    owner: dict[Value, Value] = {}  # a node hidden inside a collapsed neuron -> that neuron's output
    if collapse_neurons:
        for neuron in neurons:
            for output, members in neuron.uses.items():
                box_inputs[output] = _neuron_inputs(output, members)
                box_name[output] = neuron.label
                for member in members:
                    owner.setdefault(member, output)
        drawn = _visible_nodes(root, box_inputs, position)
        # remincross=false keeps the neurons in their order, which a last crossing pass would shuffle.
        dot.attr(remincross="false")
        if not edge_grads:
            # Neighbouring layers are joined by every pair of neurons; curved splines would spread
            # those columns over many screens, straight lines between the boxes' sides do not.
            # (Graphviz places the labels of straight lines badly, hence not with edge_grads.)
            dot.attr(splines="line", ranksep="1.2")
        n_ops = sum(1 for node in drawn if node.parents and node not in box_inputs)
        if max_nodes is not None and len(drawn) + n_ops > max_nodes:
            raise _too_large(len(drawn), n_ops, max_nodes, collapsed=True)
    else:
        drawn = order

    # where each box goes: None (top level), a layer cluster or a neuron cluster
    cluster: dict[Value, tuple[str, str | None]] = {}
    if group:
        for neuron in neurons:
            for output, members in neuron.uses.items():
                if collapse_neurons:
                    cluster[output] = (neuron.layer, None)
                else:
                    for member in members:
                        cluster.setdefault(member, (neuron.layer, neuron.label))

    parameter_set = _parameter_set(parameters)
    failed = _failed_checks(checks)
    notes: dict[Value, list[str]] = {}  # the box that shows each failure
    for node, results in failed.items():
        shown_on = owner.get(node, node)
        notes.setdefault(shown_on, []).extend(_check_note(r, _operand_names(node)) for r in results)
    largest_grad = max((abs(node.grad) for node in drawn if not math.isnan(node.grad)), default=0.0)

    # Emit leaves first and the root last: the DOT text then reads in computing order.
    emitted = list(reversed(drawn))
    name = {node: f"v{index}" for index, node in enumerate(emitted)}
    statements: dict[tuple[str, str | None] | None, list[tuple[str, dict[str, str]]]] = {}
    box_label: dict[str, str] = {}  # DOT name of a collapsed neuron's box -> "L1.N3"

    for index, node in enumerate(emitted):
        kind = _kind(node, root, node in box_inputs, parameter_set)
        fill, border = COLORS[kind]
        border_width = 2 if kind == "output" or shade == "grad" else 1
        if shade == "grad":
            fill = _grad_fill(node.grad, largest_grad)
        if node in notes:
            border, border_width = COLORS["failed"][1], 3
        cells = []
        if node in box_inputs:
            neuron_name = _literal(box_name[node], html_like=True)
            cells += [f"<B>{neuron_name}</B>", _literal(_describe_neuron(node), html_like=True)]
            box_label[name[node]] = box_name[node]
        elif node.label:
            cells.append(f"<B>{_literal(node.label, html_like=True)}</B>")
        cells.append(f"data {format_number(node.data)}")
        if show_grad:
            cells.append(f"grad {format_number(node.grad)}")
        label = _table(
            cells, fill, border, border_width, notes.get(node, ()), vertical=rankdir in ("TB", "BT")
        )
        place = cluster.get(node)
        box = {"label": label, "shape": "none", "margin": "0"}
        statements.setdefault(place, []).append((name[node], box))
        if node.parents and node not in box_inputs:
            op_fill, op_border = COLORS["failed"] if node in failed else COLORS["operation"]
            op = {
                "label": _literal(OP_TEXT.get(node.op, node.op)),
                "shape": "ellipse",
                "style": "filled",
                "fillcolor": op_fill,
                "color": op_border,
                "margin": "0.04,0.02",
                "height": "0.3",
            }
            statements[place].append((f"op{index}", op))

    _emit_boxes(dot, statements, box_label, rankdir)
    _emit_arrows(dot, emitted, name, box_inputs, cluster, failed, edge_grads, rankdir)
    if legend:
        _add_legend(dot, shade, collapse_neurons, checked=bool(failed))
    return dot


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


def _emit_boxes(
    dot: graphviz.Digraph,
    statements: dict[tuple[str, str | None] | None, list[tuple[str, dict[str, str]]]],
    box_label: dict[str, str],
    rankdir: str,
) -> None:
    """Write the node statements: the top level's, then each layer's cluster with its neurons' clusters."""
    for place, items in statements.items():
        if place is None:
            for node_name, attributes in items:
                dot.node(node_name, **attributes)
    layers: dict[str, list[str | None]] = {}
    for place in statements:
        if place is not None:
            layers.setdefault(place[0], []).append(place[1])
    for layer, neuron_labels in layers.items():
        with dot.subgraph(name=_literal(f"cluster_{layer}")) as layer_graph:
            layer_graph.attr(
                label=_literal(layer), labeljust="l", style="rounded,dashed", color="#adb5bd", fontsize="13"
            )
            for neuron_label in neuron_labels:
                items = statements[(layer, neuron_label)]
                if neuron_label is None:  # collapsed neurons: one column, L1.N1 above L1.N2 above ...
                    items = sorted(items, key=lambda item: _natural_order(box_label[item[0]]))
                    with layer_graph.subgraph() as column:
                        column.attr(rank="same")
                        for node_name, attributes in items:
                            column.node(node_name, **attributes)
                        # Invisible arrows fix the order within the column. Graphviz puts an arrow's
                        # tail first along a rank, which rankdir LR or RL turns into "below".
                        chain = list(zip(items, items[1:]))
                        if rankdir in ("LR", "RL"):
                            chain = [(lower, upper) for upper, lower in chain]
                        for (tail, _), (head, _) in chain:
                            column.edge(tail, head, style="invis")
                    continue
                with layer_graph.subgraph(name=_literal(f"cluster_{neuron_label}")) as neuron_graph:
                    neuron_graph.attr(
                        label=_literal(neuron_label),
                        labeljust="l",
                        style="rounded,filled",
                        fillcolor="#f8f9fa",
                        color="#ced4da",
                    )
                    for node_name, attributes in items:
                        neuron_graph.node(node_name, **attributes)


def _emit_arrows(
    dot: graphviz.Digraph,
    emitted: list[Value],
    name: dict[Value, str],
    box_inputs: dict[Value, list[tuple[Value, float]]],
    cluster: dict[Value, tuple[str, str | None]],
    failed: dict[Value, list],
    edge_grads: bool,
    rankdir: str,
) -> None:
    """Write the edges: operands into their operation, operation into its result, inputs into neurons."""
    for index, node in enumerate(emitted):
        if node in box_inputs:
            for source, derivative in box_inputs[node]:
                attributes = {}
                if edge_grads:
                    attributes = _gradient_label(node.grad, derivative)
                else:
                    # leave one side, enter the other: straight arrows between columns, never across a box
                    attributes.update(tailport=PORTS[rankdir][0], headport=PORTS[rankdir][1])
                dot.edge(name[source], name[node], **attributes)
        elif node.parents:
            names = _operand_names(node)
            wrong = {result.index for result in failed.get(node, ())}
            for position_in_op, (parent, local_grad) in enumerate(zip(node.parents, node.local_grads)):
                attributes = {}
                tag = names[position_in_op] if names else None
                if edge_grads:
                    attributes = _gradient_label(node.grad, local_grad, tag)
                elif tag:
                    attributes = {"label": tag, "fontcolor": "#868e96"}
                if position_in_op in wrong:
                    attributes.update(color=COLORS["failed"][1], penwidth="2")
                if node in cluster and cluster.get(parent) != cluster[node]:
                    # An arrow into a neuron from outside it spans two ranks, so that the neuron's
                    # parameters get a column of their own and do not share one with the previous
                    # layer's outputs: the layers' clusters then sit side by side, not in a staircase.
                    attributes["minlen"] = "2"
                dot.edge(name[parent], f"op{index}", **attributes)
            dot.edge(f"op{index}", name[node])


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
    return "parameter" if _PARAMETER_LABEL.search(node.label) else "input"


def _natural_order(label: str) -> list[int | str]:
    # "L1.N10" after "L1.N9": compare the numbers in a label as numbers
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", label)]


def _gradient_label(result_grad: float, local_grad: float, tag: str | None = None) -> dict[str, str]:
    """What an arrow carries back: result.grad * local derivative, then that product spelled out."""
    contribution = format_number(result_grad * local_grad)
    local = format_number(local_grad)
    if local.startswith("-"):
        local = f"({local})"
    lines = [f"{tag}: {contribution}" if tag else contribution, f"= {format_number(result_grad)} × {local}"]
    return {"label": "\\n".join(lines), "fontcolor": GRADIENT_TEXT_COLOR}


def _visible_nodes(
    root: Value, box_inputs: dict[Value, list[tuple[Value, float]]], position: dict[Value, int]
) -> list[Value]:
    """The nodes left to draw when neurons are boxes: those reachable from root through boxes' inputs."""
    seen, stack = {root}, [root]
    while stack:
        node = stack.pop()
        sources = [source for source, _ in box_inputs[node]] if node in box_inputs else node.parents
        for source in sources:
            if source not in seen:
                seen.add(source)
                stack.append(source)
    return sorted(seen, key=position.__getitem__)  # root first, as topological_order
