"""One self-contained HTML page about a training run: the data, the network, what it learned, how.

``write_report`` gathers the pictures of ``viz`` into a single file that
opens in any browser, offline and forever: every image is inlined (PNG as a
``data:`` URI, the computation graph as inline SVG), the style sheet is in
the page, there is no script, and a Content-Security-Policy forbids the
page from loading anything at all from elsewhere.

Each section pairs a picture with a paragraph in plain words, following the
two directions of a network's life: information flows *forward* from the
inputs through the neurons to a score; the error flows *backward* from the
loss to every weight; and along the way, the hidden neurons turn simple
features of the input into more abstract ones.
"""

from __future__ import annotations

import base64
import html
import inspect
import io
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from engine import Value
from nn.evaluate import classify, predict
from nn.losses import binary_cross_entropy, hinge, softmax_cross_entropy, squared_error
from nn.module import MLP
from nn.train import History
from viz.features import plot_excitation, saliency_map
from viz.health import plot_unit_health, unit_health
from viz.network import draw_mlp
from viz.neurons import neuron_maps
from viz.plots import decision_boundary, plot_dataset, training_curves

__all__ = ["write_report", "hardest_point", "sample_loss", "SECTION_TITLES", "GRAPHVIZ_INSTALL_NOTE"]

SECTION_TITLES = (
    "The data",
    "The network",
    "Decision boundary",
    "What each neuron computes",
    "What the output is sensitive to",
    "Unit health",
    "Training curves",
    "One sample through the network, forward and backward",
)

GRAPHVIZ_INSTALL_NOTE = (
    "To draw it, install Graphviz, which provides the dot program (Debian or Ubuntu: "
    "sudo apt-get install graphviz; macOS: brew install graphviz; conda: conda install graphviz), "
    "and the Python package (pip install graphviz), then write the report again."
)

# Nothing may be fetched: images only from data: URIs, styles only from the page itself.
CONTENT_SECURITY_POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"

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
#graph-full-size:checked ~ .graph svg { width: var(--natural-width); height: var(--natural-height);
                                         max-width: none; max-height: none; }
table.metrics { border-collapse: collapse; margin: 8px 0; }
table.metrics th, table.metrics td { text-align: left; padding: 4px 16px 4px 0; border-bottom: 1px solid #e8eaeb; }
table.metrics td { font-variant-numeric: tabular-nums; font-weight: 600; }
.note { background: #fff6e8; border-left: 4px solid #f59322; padding: 10px 14px; border-radius: 4px; }
code { background: #eef1f3; padding: 1px 4px; border-radius: 3px; }
"""


# --- building blocks -------------------------------------------------------


def _png(figure: Figure, alt: str, dpi: int = 110) -> str:
    """``figure`` as an <img> whose source is the PNG itself, base64 in a data: URI."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, facecolor="white", bbox_inches="tight", pad_inches=0.1)
    encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<figure><img alt="{html.escape(alt)}" src="data:image/png;base64,{encoded}"></figure>'


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


def hardest_point(model: MLP, X: np.ndarray, y: np.ndarray, loss_name: str = "") -> int:
    """The index of the point with the largest loss: its graph has gradients worth looking at."""
    return int(np.argmax(_per_sample_losses(model, X, y, loss_name)))


def _per_sample_losses(model: MLP, X: np.ndarray, y: np.ndarray, loss_name: str = "") -> np.ndarray:
    """Each point's loss (with numpy): ``loss_name`` as nn.train names it, or by default
    hinge for one output and softmax cross-entropy for several."""
    scores = predict(model, X)
    if scores.shape[1] == 1:
        score, sign = scores[:, 0], 2.0 * y - 1.0
        if loss_name == "mse":
            return (score - sign) ** 2
        if loss_name == "bce":
            return np.logaddexp(0.0, score) - y * score
        return np.maximum(0.0, 1.0 - sign * score)
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_softmax = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return -log_softmax[np.arange(len(y)), y]


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


# --- the computation graph of one sample -------------------------------------


def sample_loss(model: MLP, x: np.ndarray, label: int, loss_name: str = "") -> tuple[Value, str]:
    """Run ``x`` through ``model`` with the scalar engine; return its loss and the loss's name.

    The loss is ``loss_name`` as nn.train names it; by default micrograd's
    hinge for a model with one output, softmax cross-entropy for several.
    """
    inputs = [Value(float(v), label=f"x{i + 1}") for i, v in enumerate(x)]
    output = model(inputs)
    if isinstance(output, list):
        loss, name = softmax_cross_entropy(output, int(label)), "softmax cross-entropy"
    elif loss_name == "mse":
        loss, name = squared_error(output, 2 * int(label) - 1), "squared error (score - y)**2"
    elif loss_name == "bce":
        loss, name = binary_cross_entropy(output, int(label)), "binary cross-entropy on the logit"
    else:
        loss, name = hinge(output, 2 * int(label) - 1), "hinge loss max(0, 1 - y*score)"
    loss.label = "loss"
    return loss, name


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


def _draw_dot_options(draw_dot: Callable, parameters: list[Value]) -> dict:
    """Options for a readable picture of a whole network: each neuron one box, shaded by its gradient.

    Only ``collapse_neurons`` is required of ``draw_dot``; the other options
    are passed when its signature has them.
    """
    wanted = {"shade": "grad", "legend": True, "parameters": parameters}
    accepted = inspect.signature(draw_dot).parameters
    return {"collapse_neurons": True} | {name: value for name, value in wanted.items() if name in accepted}


def _sample_graph(model: MLP, x: np.ndarray, label: int, loss_name: str = "") -> tuple[str, str]:
    """(HTML, loss name): the graph of one sample's loss after ``backward``, as inline SVG, or a note.

    The parameters' ``grad`` are put back as they were, so writing a report
    never changes the model.
    """
    loss, loss_name = sample_loss(model, x, label, loss_name)
    try:
        import graphviz

        from viz.graph import draw_dot
    except ImportError as error:
        return _note(f"The computation graph is missing: viz.graph cannot be imported ({error}). "
                     + GRAPHVIZ_INSTALL_NOTE), loss_name
    if shutil.which("dot") is None:
        return _note("The computation graph is missing: Graphviz's dot program is not on PATH. "
                     + GRAPHVIZ_INSTALL_NOTE), loss_name
    parameters = model.parameters()
    saved_grads = [p.grad for p in parameters]
    model.zero_grad()
    try:
        loss.backward()
        svg = draw_dot(loss, **_draw_dot_options(draw_dot, parameters)).pipe(format="svg").decode("utf-8")
    except Exception as error:  # a picture that fails must not cost the whole report
        advice = GRAPHVIZ_INSTALL_NOTE if isinstance(error, graphviz.ExecutableNotFound) else ""
        return _note(f"The computation graph could not be drawn ({type(error).__name__}: {error}). {advice}"), loss_name
    finally:
        for p, grad in zip(parameters, saved_grads):
            p.grad = grad
    toggle = ('<input type="checkbox" id="graph-full-size">'
              '<label class="zoom" for="graph-full-size"> show the graph at full size (then scroll in it)</label>')
    return f'{toggle}\n<div class="graph">{_inline_svg(svg)}</div>', loss_name


# --- the page ----------------------------------------------------------------


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
) -> Path:
    """Write one self-contained HTML page about ``model`` trained on (X, y); return its path.

    Sections (``SECTION_TITLES``): the data, the network diagram (with each
    unit's health, and one training point flowing through it), the decision
    boundary, every neuron's map, saliency and gradient ascent, unit health,
    the training curves with the final metrics (loss to 4 decimals,
    accuracy as a percentage with one decimal), and the computation graph of
    that one training point's loss after ``backward`` (needs ``viz.graph``
    and Graphviz's ``dot``; without them a note says how to install them).
    The point is the training point with the largest loss, so that its
    gradients are not all zero.
    """
    X, y = np.asarray(X, dtype=float), np.asarray(y)
    has_test = X_test is not None and y_test is not None
    if has_test:
        X_test, y_test = np.asarray(X_test, dtype=float), np.asarray(y_test)
    health = unit_health(model, X)
    trained_with = history.loss_name if history is not None else ""
    hardest = hardest_point(model, X, y, trained_with)
    sample, sample_label = X[hardest], int(y[hardest])
    sample_text = "(" + ", ".join(f"{v:.2f}" for v in sample) + f"), class {sample_label}"
    dead = sum(int(np.sum(share >= 1.0)) for share in health)
    hidden_units = sum(len(share) for share in health)
    sections = []

    test_words = f" and {len(X_test)} test points (hollow rings, held out from training)" if has_test else ""
    sections.append(_section(
        SECTION_TITLES[0],
        f"The network learns from {len(X)} training points{test_words}. Each point is a pair of numbers "
        f"(x1, x2) with a class, shown by its colour. The network never sees this picture: it only ever "
        f"receives one point's two numbers at a time and must answer with a score.",
        _plane_picture(model, lambda: plot_dataset(X, y, X_test, y_test), "the training data"),
    ))

    sections.append(_section(
        SECTION_TITLES[1],
        "Information flows forward, left to right. Each neuron multiplies every input by a weight "
        "(blue lines positive, orange negative, thicker for larger weights), adds its bias (the number "
        "inside it) and passes the sum through its activation; its output feeds every neuron of the next "
        f"layer. Here the neurons are filled with their outputs for one training point, {sample_text}: "
        "grey means silent, blue positive, orange negative. The ring around a hidden neuron shows the share of the "
        "training data on which it is dead (a ReLU stuck at zero) or saturated: there it passes no "
        "gradient back and does not learn. A full dark ring is a neuron dead on every point.",
        _png(draw_mlp(model, x=sample, health=health), "the network diagram"),
    ))

    sections.append(_section(
        SECTION_TITLES[2],
        "Every point of the plane, run through the network, gets a score; the picture colours the plane "
        "by the class the network would predict there, and draws the decision boundary where it changes. "
        "Points on the wrong side are mistakes. A smooth boundary that follows the data generalises; a "
        "boundary that wraps around single points has memorised them.",
        _plane_picture(model, lambda: decision_boundary(model, X, y, X_test=X_test, y_test=y_test),
                       "the decision boundary"),
    ))

    sections.append(_section(
        SECTION_TITLES[3],
        "Each small image is one neuron's output over the whole input plane. In the first layer each "
        "neuron can only draw a straight line: it is silent on one side and grows on the other. The next "
        "layer adds such lines up and cuts again, drawing corners and bands; the output combines them "
        "into the curved shape that separates the classes. This is how a deep network builds abstract "
        "features from simple ones. A red title marks a neuron that is zero everywhere.",
        _plane_picture(model, lambda: neuron_maps(model, X, y), "every neuron's output over the plane"),
    ))

    layer, neuron = _most_influential_hidden_neuron(model, health)
    sections.append(_section(
        SECTION_TITLES[4],
        "The same backward pass that trains the weights can ask about the input instead. Left: the length "
        "of the gradient of the output with respect to the input, darker where a small move of the point "
        "changes the score most, with arrows pointing the way that raises it. Right: gradient ascent on "
        "the input. Starting from a point, the engine computes one neuron (the hidden neuron with the "
        "largest weights to the output), calls backward, and moves the point along its gradient, again "
        "and again: the path climbs to the inputs that excite that neuron most.",
        '<div class="pair">'
        + _plane_picture(model, lambda: saliency_map(model, X, y), "saliency of the output")
        + _plane_picture(model, lambda: plot_excitation(model, layer, neuron, X, y),
                         "gradient ascent on one neuron")
        + "</div>",
    ))

    sections.append(_section(
        SECTION_TITLES[5],
        f"A neuron learns only where its activation has a slope. For each hidden neuron, the bar is the "
        f"share of training points on which it is flat: a ReLU at zero, or a tanh or sigmoid pinned near "
        f"its limits. A ReLU is normally silent on part of the data; one that is silent on all of it is "
        f"dead and will never learn again. Here {dead} of {hidden_units} hidden neurons are flat on every "
        f"training point.",
        _png(plot_unit_health(model, health), "unit health") if health else _note("The model has no hidden layer."),
    ))

    if history is not None and len(history) > 0:
        curves = _png(training_curves(history), "training curves")
    else:
        curves = _note("No training history was recorded.")
    sections.append(_section(
        SECTION_TITLES[6],
        "At each step the error flows backward: the loss is differentiated with respect to every weight, "
        "and every weight moves a little against its gradient. The loss (left) should fall and the "
        "accuracy (right) rise; when the test curve (dashed) turns away from the training curve, the "
        "network has started to memorise its training points.",
        curves,
    ))

    if sample_graph:
        graph, loss_name = _sample_graph(model, sample, sample_label, trained_with)
    else:
        graph, loss_name = _note("Not drawn: the report was written with sample_graph=False."), "loss"
    sections.append(_section(
        SECTION_TITLES[7],
        f"Everything above is made of one operation repeated: a scalar node that remembers where it came "
        f"from. This is the graph the scalar engine builds for one training point, {sample_text}, the one "
        f"the network finds hardest, from the inputs through every neuron to its {html.escape(loss_name)}. "
        f"Each node shows its value, computed forward, and its gradient, computed backward by the chain "
        f"rule from the loss: how much the loss would change if that number changed.",
        graph,
    ))

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
        '<p class="subtitle">A look inside a small neural network trained with glassgrad, a see-through '
        "autograd engine. Final metrics:</p>",
        _metrics_table(model, X, y, history),
        *sections,
        "</main>",
        "</body>",
        "</html>",
        "",
    ])
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path
