"""One self-contained HTML page about a training run: the data, the network, what it learned, how.

``write_report`` gathers the pictures of ``viz`` into a single file that
opens in any browser, offline and forever: every image is inlined (PNG as a
``data:`` URI, the computation graph as inline SVG), the style sheet is in
the page, there is no script, and a Content-Security-Policy forbids the
page from loading anything at all from elsewhere.

A demo with a story to tell puts it first, as ``Chapter``s (a title,
paragraphs, pictures with captions, a table); ``write_story`` writes a page of
chapters alone, for a demo that trains no MLP on 2-D points.

Each section pairs a picture with a paragraph in plain words, following the
two directions of a network's life: information flows *forward* from the
inputs through the neurons to a score; the error flows *backward* from the
loss to every weight; and along the way, the hidden neurons turn simple
features of the input into more abstract ones.
"""

from __future__ import annotations

import base64
import html
import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from engine import Value
from nn.evaluate import classify, find_hardest, sample_loss
from nn.losses import default_loss, find_loss
from nn.module import MLP
from nn.train import History
from viz.features import plot_excitation, saliency_map
from viz.graph import GraphvizNotFound, draw_dot
from viz.health import plot_unit_health, unit_health
from viz.network import draw_mlp
from viz.neurons import neuron_maps
from viz.plots import decision_boundary, plot_dataset, training_curves
from viz.style import format_coordinate

__all__ = [
    "write_report",
    "write_story",
    "Chapter",
    "Picture",
    "Table",
    "SECTION_TITLES",
    "CONTENT_WIDTH_PX",
    "REPORT_DPI",
]

# Nothing may be fetched: images only from data: URIs, styles only from the page itself.
CONTENT_SECURITY_POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"

REPORT_DPI = 110  # pixels per inch of the pictures in the page
CONTENT_WIDTH_PX = 1020  # what a section holds: main's 1120 px less its and the section's padding (see STYLE)

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", Arial, sans-serif;
       color: #1f2a33; background: #f6f7f8; margin: 0; line-height: 1.55; }
main { max-width: 1120px; margin: 0 auto; padding: 24px 28px 48px; }
h1 { font-size: 1.9em; margin: 0.2em 0 0.1em; }
h2 { font-size: 1.35em; margin: 0 0 0.4em; border-bottom: 2px solid #0877bd; padding-bottom: 0.2em; }
.subtitle { color: #5b6770; margin: 0 0 1.2em; }
section { background: white; border-radius: 8px; padding: 18px 22px; margin: 18px 0;
          box-shadow: 0 1px 3px rgba(0, 0, 0, 0.08); }
section p { max-width: 52em; }
figure { margin: 12px 0 4px; overflow-x: auto; }
figure img { max-width: 100%; height: auto; display: block; margin: 0 auto; }
.pair { display: flex; flex-wrap: wrap; gap: 12px; }
.pair figure { flex: 1 1 420px; }
.graph { overflow: auto; max-height: 960px; border: 1px solid #dde3e7; border-radius: 6px; padding: 6px; }
.graph svg { display: block; margin: 0 auto; width: 100%; height: auto; max-height: 900px; }
.zoom { font-size: 0.95em; color: #3d4a54; cursor: pointer; }
.zoom-toggle:checked ~ .graph svg { width: var(--natural-width); height: var(--natural-height);
                                    max-width: none; max-height: none; }
figcaption { color: #5b6770; font-size: 0.93em; text-align: center; margin-top: 4px; }
.divider { color: #5b6770; margin: 32px 0 0; font-size: 1.05em; }
table.metrics { border-collapse: collapse; margin: 8px 0; }
table.metrics th, table.metrics td { text-align: left; padding: 4px 16px 4px 0; border-bottom: 1px solid #e8eaeb; }
table.metrics td { font-variant-numeric: tabular-nums; font-weight: 600; }
table.story { border-collapse: collapse; margin: 8px 0; font-variant-numeric: tabular-nums; }
table.story th, table.story td { text-align: right; padding: 4px 14px; border-bottom: 1px solid #e8eaeb; }
table.story th:first-child, table.story td:first-child { text-align: left; padding-left: 0; }
.note { background: #fff6e8; border-left: 4px solid #f59322; padding: 10px 14px; border-radius: 4px;
        white-space: pre-line; }
code { background: #eef1f3; padding: 1px 4px; border-radius: 3px; }
"""


# --- building blocks -------------------------------------------------------


def _png(figure: Figure, alt: str, caption: str = "") -> str:
    """``figure`` as an <img> whose source is the PNG itself, base64 in a data: URI."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=REPORT_DPI, facecolor="white", bbox_inches="tight", pad_inches=0.1)
    return _png_bytes(buffer.getvalue(), alt, caption)


def _png_bytes(png: bytes, alt: str, caption: str = "") -> str:
    encoded = base64.b64encode(png).decode("ascii")
    below = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
    return f'<figure><img alt="{html.escape(alt)}" src="data:image/png;base64,{encoded}">{below}</figure>'


def _note(text: str) -> str:
    return f'<p class="note">{html.escape(text)}</p>'


def _section(title: str, explanation: str, body: str) -> str:
    anchor = title.lower().replace(" ", "-").replace(",", "")
    heading = f'<section id="{html.escape(anchor)}">\n<h2>{html.escape(title)}</h2>'
    return f"{heading}\n<p>{explanation}</p>\n{body}\n</section>"


def _plane_picture(model: MLP, make: Callable[[], Figure], alt: str) -> str:
    """A picture over the 2-D input plane, or a note when the model does not take 2 inputs."""
    if model.nin != 2:
        return _note(f"This picture is drawn over the 2-D input plane; the model takes {model.nin} inputs.")
    return _png(make(), alt)


def _metrics_table(model: MLP, X: np.ndarray, y: np.ndarray, history: History | None) -> str:
    rows = [("model", html.escape(repr(model)))]
    if history is not None and len(history) > 0:
        rows += [
            ("training steps", str(len(history))),
            ("final training loss", f"{history.loss[-1]:.4f}"),
            ("final training accuracy", f"{history.accuracy[-1]:.1%}"),
        ]
        if history.test_loss:
            rows += [
                ("final test loss", f"{history.test_loss[-1]:.4f}"),
                ("final test accuracy", f"{history.test_accuracy[-1]:.1%}"),
            ]
    else:
        rows += [("training accuracy", f"{float(np.mean(classify(model, X) == y)):.1%}"),
                 ("training steps", "none recorded")]
    cells = "\n".join(f"<tr><th>{name}</th><td>{value}</td></tr>" for name, value in rows)
    return f'<table class="metrics">\n{cells}\n</table>'


def _most_influential_hidden_neuron(model: MLP, health: list[np.ndarray]) -> tuple[int, int]:
    """(layer, neuron) from 0: the living neuron of the last hidden layer with the largest weights to the output."""
    if len(model.layers) < 2:
        return -1, 0
    last_hidden = len(model.layers) - 2
    influence = np.zeros(model.layers[last_hidden].nout)
    for output_neuron in model.layers[-1].neurons:
        influence += np.abs([w.data for w in output_neuron.w])
    influence[health[last_hidden] >= 1.0] = -1.0  # a dead neuron cannot be excited
    return last_hidden, int(np.argmax(influence))


# --- the sections, in order: each gives its paragraph and its pictures --------


class _Run:
    """What the sections read: the model, its data and history, and the training point with the largest
    loss (by the loss it was trained with), which they follow through the network."""

    def __init__(self, model: MLP, X: np.ndarray, y: np.ndarray, history: History | None,
                 X_test: np.ndarray | None, y_test: np.ndarray | None, sample_graph: bool) -> None:
        self.model, self.history, self.sample_graph = model, history, sample_graph
        self.X, self.y = np.asarray(X, dtype=float), np.asarray(y)
        self.has_test = X_test is not None and y_test is not None
        if self.has_test:
            X_test, y_test = np.asarray(X_test, dtype=float), np.asarray(y_test)
        self.X_test, self.y_test = X_test, y_test
        self.health = unit_health(model, self.X)
        trained_with = history.loss_name if history is not None else ""
        self.loss = find_loss(trained_with, "write_report") if trained_with else default_loss(model.sizes[-1])
        hardest = find_hardest(model, self.X, self.y, self.loss.name)
        self.sample, self.sample_label = self.X[hardest.index], int(self.y[hardest.index])
        self.sample_note = f" {hardest.note}" if hardest.note else ""
        coordinates = ", ".join(format_coordinate(v) for v in self.sample)
        self.sample_text = f"({coordinates}), class {self.sample_label}"
        self.sample_why = _why_hardest(self.X, self.y, self.sample)


def _why_hardest(X: np.ndarray, y: np.ndarray, sample: np.ndarray) -> str:
    """A sentence when the hardest point cannot be answered right: other points of other classes sit on it."""
    here = np.all(X == sample, axis=1)
    classes = sorted({int(label) for label in y[here]})
    if len(classes) < 2:
        return ""
    names = ", ".join(str(k) for k in classes[:-1]) + f" and {classes[-1]}"
    return (f" {int(here.sum())} training points sit exactly there, of classes {names}: one input can get "
            f"only one answer, so no network gets them all right, and one of them stays the hardest however "
            f"long it trains.")


def _data(run: _Run) -> tuple[str, str]:
    test_words = f" and {len(run.X_test)} test points (hollow rings, held out from training)" if run.has_test else ""
    return (
        f"The network learns from {len(run.X)} training points{test_words}. Each point is a pair of numbers "
        f"(x1, x2) with a class, shown by its colour. The network never sees this picture: it only ever "
        f"receives one point's two numbers at a time and must answer with a score.",
        _plane_picture(run.model, lambda: plot_dataset(run.X, run.y, run.X_test, run.y_test), "the training data"),
    )


def _network(run: _Run) -> tuple[str, str]:
    return (
        "Information flows forward, left to right. Each neuron multiplies every input by a weight (a line: "
        "blue positive, orange negative, thick and dark when large, faint when small, so the strong paths "
        "stand out), adds its bias (the small square at its lower left, in the same colours) and passes the "
        "sum through its activation; its output feeds every neuron of the next layer. Here the neurons are "
        f"filled with their outputs for one training point, {run.sample_text}: grey means silent (0), blue "
        "positive, orange negative, and where there is room the output is written inside the neuron too. "
        "The ring around a hidden neuron shows the share of the training data on which it is dead (a ReLU "
        "stuck at zero) or saturated: there it passes no gradient back and does not learn. A full dark ring "
        "is a neuron dead on every point.",
        _png(draw_mlp(run.model, x=run.sample, health=run.health), "the network diagram"),
    )


def _boundary(run: _Run) -> tuple[str, str]:
    return (
        "Every point of the plane, run through the network, gets a score; the picture colours the plane "
        "by the class the network would predict there, and draws the decision boundary where it changes. "
        "Points on the wrong side are mistakes. A smooth boundary that follows the data generalises; a "
        "boundary that wraps around single points has memorised them.",
        _plane_picture(run.model, lambda: decision_boundary(run.model, run.X, run.y, X_test=run.X_test,
                                                            y_test=run.y_test), "the decision boundary"),
    )


def _neurons(run: _Run) -> tuple[str, str]:
    return (
        "Each small image is one neuron's output over the whole input plane. In the first layer each "
        "neuron can only draw a straight line: it is silent on one side and grows on the other. The next "
        "layer adds such lines up and cuts again, drawing corners and bands; the output combines them "
        "into the curved shape that separates the classes. This is how a deep network builds abstract "
        "features from simple ones. Each tile has its own colour scale, written under it, so that a weak "
        "neuron shows its shape too; the key above the tiles names every colour.",
        _plane_picture(run.model, lambda: neuron_maps(run.model, run.X, run.y), "every neuron's output over the plane"),
    )


def _sensitivity(run: _Run) -> tuple[str, str]:
    model, X, y = run.model, run.X, run.y
    layer, neuron = _most_influential_hidden_neuron(model, run.health)
    return (
        "The same backward pass that trains the weights can ask about the input instead. Left: the length "
        "of the gradient of the output with respect to the input, darker where a small move of the point "
        "changes the score most, with arrows pointing the way that raises it. Right: gradient ascent on "
        "the input. Starting from a point, the engine computes one neuron (the hidden neuron with the "
        "largest weights to the output), calls backward, and moves the point along its gradient, again "
        "and again: the path climbs to the inputs that excite that neuron most.",
        '<div class="pair">'
        + _plane_picture(model, lambda: saliency_map(model, X, y), "saliency of the output")
        + _plane_picture(model, lambda: plot_excitation(model, layer, neuron, X, y), "gradient ascent on one neuron")
        + "</div>",
    )


def _unit_health(run: _Run) -> tuple[str, str]:
    dead = sum(int(np.sum(share >= 1.0)) for share in run.health)
    hidden_units = sum(len(share) for share in run.health)
    return (
        f"A neuron learns only where its activation has a slope. For each hidden neuron, the bar is the "
        f"share of training points on which it is flat: a ReLU at zero, or a tanh or sigmoid pinned near "
        f"its limits. A ReLU is normally silent on part of the data; one that is silent on all of it is "
        f"dead and will never learn again. Here {dead} of {hidden_units} hidden neurons are flat on every "
        f"training point.",
        _png(plot_unit_health(run.model, run.health), "unit health") if run.health
        else _note("The model has no hidden layer."),
    )


def _training_curves(run: _Run) -> tuple[str, str]:
    trained = run.history is not None and len(run.history) > 0
    if trained and run.history.test_loss:
        test = ("when the test curve (dashed) turns away from the training curve, the network has started "
                "to memorise its training points.")
    else:
        test = ("this run held out no test set, so only the training curves are drawn: with one, a test "
                "curve turning away from them would show the network memorising its training points.")
    return (
        "At each step the error flows backward: the loss is differentiated with respect to every weight, "
        "and every weight moves a little against its gradient. The loss (left) should fall and the "
        f"accuracy (right) rise; {test}",
        _png(training_curves(run.history), "training curves") if trained
        else _note("No training history was recorded."),
    )


def _one_sample(run: _Run) -> tuple[str, str]:
    if run.sample_graph:
        graph = _graph_of(run.model, sample_loss(run.model, run.sample, run.sample_label, run.loss.name))
    else:
        graph = _note("Not drawn: the report was written with sample_graph=False.")
    return (
        f"Everything above is made of one operation repeated: a scalar node that remembers where it came "
        f"from. This is the graph the scalar engine builds for one training point, {run.sample_text}, the one "
        f"the network finds hardest, from the inputs through every neuron to its {html.escape(run.loss.title)}. "
        f"Each node shows its value, computed forward, and its gradient, computed backward by the chain "
        f"rule from the loss: how much the loss would change if that number changed."
        f"{html.escape(run.sample_note)}{run.sample_why}",
        graph,
    )


def _graph_of(model: MLP, loss: Value) -> str:
    """The graph of ``loss`` after ``backward``, each neuron one box shaded by its gradient, as inline SVG.

    A note instead when it cannot be drawn (with how to install Graphviz when
    that is why). The parameters' ``grad`` are put back as they were, so
    writing a report never changes the model.
    """
    parameters = model.parameters()
    saved_grads = [p.grad for p in parameters]
    model.zero_grad()
    try:
        loss.backward()
        dot = draw_dot(loss, collapse_neurons=True, shade="grad", legend=True, parameters=parameters)
        svg = dot.pipe(format="svg").decode("utf-8")
    except GraphvizNotFound as error:
        return _note(f"The computation graph is missing. {error}")
    except Exception as error:  # a picture that fails must not cost the whole report
        return _note(f"The computation graph could not be drawn ({type(error).__name__}: {error}).")
    finally:
        for p, grad in zip(parameters, saved_grads):
            p.grad = grad
    return _zoomable(svg, "graph-full-size")


def _zoomable(svg: str, key: str, caption: str = "") -> str:
    """Graphviz's SVG inline, fitted to the page, with a checkbox (id ``key``) that shows it at full size."""
    toggle = (f'<input type="checkbox" class="zoom-toggle" id="{key}">'
              f'<label class="zoom" for="{key}"> show the graph at full size (then scroll in it)</label>')
    below = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
    return f'<div>{toggle}\n<div class="graph">{_inline_svg(svg)}</div>{below}</div>'


def _inline_svg(svg: str) -> str:
    """Graphviz's SVG made fit to sit inside HTML and be scaled by CSS.

    Drops the XML prolog, doctype and namespace URLs (HTML knows SVG), and
    moves the fixed width and height into CSS variables, so the whole
    picture fits the window by default and shows at its natural size on request.
    """
    svg = svg[svg.index("<svg"):]
    for namespace in (' xmlns="http://www.w3.org/2000/svg"', ' xmlns:xlink="http://www.w3.org/1999/xlink"'):
        svg = svg.replace(namespace, "")
    size = re.match(r'<svg width="([^"]+)" height="([^"]+)"', svg)
    if size is None:
        return svg
    natural = f"--natural-width: {size.group(1)}; --natural-height: {size.group(2)}"
    return f'<svg style="{natural}"' + svg[size.end():]


_SECTIONS: tuple[tuple[str, Callable[[_Run], tuple[str, str]]], ...] = (
    ("The data", _data),
    ("The network", _network),
    ("Decision boundary", _boundary),
    ("What each neuron computes", _neurons),
    ("What the output is sensitive to", _sensitivity),
    ("Unit health", _unit_health),
    ("Training curves", _training_curves),
    ("One sample through the network, forward and backward", _one_sample),
)
SECTION_TITLES = tuple(title for title, _ in _SECTIONS)


# --- a demo's story: chapters of paragraphs, pictures and tables ------------------


@dataclass(frozen=True)
class Picture:
    """A picture of a chapter: a matplotlib Figure, or a PNG or SVG file already written; and its caption."""

    source: Figure | str | Path
    caption: str = ""


@dataclass(frozen=True)
class Table:
    """A small table of a chapter; the first row holds the headings."""

    rows: Sequence[Sequence[str]]


@dataclass
class Chapter:
    """One part of a demo's story: a title, then paragraphs (plain text), ``Picture``s and ``Table``s in order."""

    title: str
    parts: list[str | Picture | Table]


def _picture(picture: Picture, key: str) -> str:
    if isinstance(picture.source, Figure):
        return _png(picture.source, picture.caption, picture.caption)
    path = Path(picture.source)
    if path.suffix == ".png":
        return _png_bytes(path.read_bytes(), picture.caption, picture.caption)
    if path.suffix == ".svg":
        return _zoomable(path.read_text(encoding="utf-8"), key, picture.caption)
    return _note(f"{picture.caption}: not drawn ({path.name} is not a picture a page can show).")


def _table(table: Table) -> str:
    heading, *rows = table.rows
    head = "".join(f"<th>{html.escape(str(cell))}</th>" for cell in heading)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(cell))}</td>" for cell in row) + "</tr>" for row in rows)
    return f'<table class="story">\n<tr>{head}</tr>\n{body}\n</table>'


def _chapter(chapter: Chapter, number: int) -> str:
    blocks = []
    for index, part in enumerate(chapter.parts):
        if isinstance(part, Picture):
            blocks.append(_picture(part, f"chapter-{number}-picture-{index}"))
        elif isinstance(part, Table):
            blocks.append(_table(part))
        else:
            blocks.append(f"<p>{html.escape(part)}</p>")
    anchor = html.escape(f"chapter-{number}")
    return f'<section id="{anchor}">\n<h2>{html.escape(chapter.title)}</h2>\n' + "\n".join(blocks) + "\n</section>"


# --- the page ----------------------------------------------------------------


def _write_page(path: str | Path, title: str, subtitle: str, body: Sequence[str]) -> Path:
    """The page around ``body`` (HTML blocks): head, policy, style, title; written to ``path``."""
    page = "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(title)}</title>",
        f"<style>{STYLE}</style>",
        "</head>",
        "<body>",
        "<main>",
        f"<h1>{html.escape(title)}</h1>",
        f'<p class="subtitle">{html.escape(subtitle)}</p>',
        *body,
        "</main>",
        "</body>",
        "</html>",
        "",
    ])
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path


def write_report(
    path: str | Path,
    model: MLP,
    X: np.ndarray,
    y: np.ndarray,
    history: History | None,
    X_test: np.ndarray | None = None,
    y_test: np.ndarray | None = None,
    title: str = "glassgrad training report",
    sample_graph: bool = True,
    story: Sequence[Chapter] = (),
    sections: Sequence[str] = SECTION_TITLES,
) -> Path:
    """Write one self-contained HTML page about ``model`` trained on (X, y); return its path.

    Sections (``SECTION_TITLES``): the data, the network diagram (with each
    unit's health, and one training point flowing through it), the decision
    boundary, every neuron's map, saliency and gradient ascent, unit health,
    the training curves with the final metrics (loss to 4 decimals,
    accuracy as a percentage with one decimal), and the computation graph of
    that one training point's loss after ``backward`` (needs Graphviz's
    ``dot``; without it a note says how to install it). The point is the
    training point with the largest loss, so that its gradients are not all zero.

    ``story``: a demo's own chapters, told first. ``sections``: the sections
    to write after them, by title (a story may already show some).
    """
    unknown = [name for name in sections if name not in SECTION_TITLES]
    if unknown:
        raise ValueError(f"write_report: no section {unknown[0]!r}; the sections are {list(SECTION_TITLES)}")
    run = _Run(model, X, y, history, X_test, y_test, sample_graph)
    body = [_metrics_table(model, run.X, run.y, history)]
    body += [_chapter(chapter, number) for number, chapter in enumerate(story, start=1)]
    if story and sections:
        body.append('<p class="divider">The trained network, section by section:</p>')
    body += [_section(heading, *make(run)) for heading, make in _SECTIONS if heading in sections]
    subtitle = "A look inside a small neural network trained with glassgrad, a see-through autograd engine. " \
               "Final metrics:"
    return _write_page(path, title, subtitle, body)


def write_story(path: str | Path, title: str, chapters: Sequence[Chapter], subtitle: str = "") -> Path:
    """Write a self-contained HTML page of ``chapters`` alone (as ``write_report`` tells a story); return its path.

    For a demo whose pictures are not of an MLP trained on 2-D points: one
    neuron's graph, two models compared.
    """
    body = [_chapter(chapter, number) for number, chapter in enumerate(chapters, start=1)]
    return _write_page(path, title, subtitle, body)
