"""Pictures of what happens inside a network.

- ``viz.graph``: the computation graph of a Value, with data and gradients (Graphviz).
- ``viz.gradcheck``: each operation's local derivative against a central difference.
- ``viz.network``: the network as layers of neurons, weights as coloured edges.
- ``viz.plots``: the data, the decision boundary, training curves.
- ``viz.neurons``: every hidden neuron's output over the input plane.
- ``viz.features``: saliency maps and gradient ascent on the input.
- ``viz.health``: dead and saturated units.
- ``viz.style``: the colours every picture shares (blue positive, orange negative), figures, saving.
- ``viz.report``: one self-contained HTML page for a training run.

This file only gathers the public names.
"""

try:
    import graphviz  # noqa: F401
    import matplotlib  # noqa: F401
except ImportError as error:  # glassgrad depends on both; a partial install can still lack one
    raise ImportError(
        f"viz needs the graphviz and matplotlib packages ({error.name} is missing): "
        f"pip install {error.name}, or reinstall glassgrad with pip, which brings both"
    ) from error

from viz.features import excite_neuron, neuron_label, plot_excitation, saliency_map
from viz.gradcheck import GradCheckReport, LocalGradCheck, check_gradients
from viz.graph import GlassDigraph, GraphvizNotFound, draw_dot, draw_legend, format_number, render
from viz.health import plot_unit_health, unit_health
from viz.network import draw_mlp
from viz.neurons import neuron_maps
from viz.plots import compare_boundaries, decision_boundary, plot_dataset, training_curves
from viz.report import Chapter, Picture, Table, write_report, write_story
from viz.style import save

__all__ = [
    "Chapter",
    "Picture",
    "Table",
    "compare_boundaries",
    "write_story",
    "GlassDigraph",
    "GradCheckReport",
    "GraphvizNotFound",
    "LocalGradCheck",
    "check_gradients",
    "decision_boundary",
    "draw_dot",
    "draw_legend",
    "draw_mlp",
    "excite_neuron",
    "format_number",
    "neuron_label",
    "neuron_maps",
    "plot_dataset",
    "plot_excitation",
    "plot_unit_health",
    "render",
    "saliency_map",
    "save",
    "training_curves",
    "unit_health",
    "write_report",
]
