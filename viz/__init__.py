"""Pictures of what happens inside a network.

- ``viz.graph``: the computation graph of a Value, with data and gradients (Graphviz).
- ``viz.gradcheck``: each operation's local derivative against a central difference.
- ``viz.network``: the network as layers of neurons, weights as coloured edges.
- ``viz.plots``: the data, the decision boundary, training curves.
- ``viz.neurons``: every hidden neuron's output over the input plane.
- ``viz.features``: saliency maps and gradient ascent on the input.
- ``viz.health``: dead and saturated units.
- ``viz.images``: a network on image inputs (8x8 digits): weight images, top examples, imagined inputs,
  saliency and occlusion, one digit through the layers, the confusion matrix, the mistakes.
- ``viz.text``: a GPT on names: attention maps, letters in space, the contexts MLP neurons read,
  the next letter's probabilities, one attention head as a graph of Values.
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
from viz.images import (
    Regularisation,
    class_probabilities,
    confusion_matrix,
    draw_confusion,
    draw_explanations,
    draw_imagined,
    draw_layers_story,
    draw_misclassified,
    draw_top_examples,
    draw_weight_images,
    imagine,
    occlusion,
    saliency,
)
from viz.network import draw_mlp
from viz.neurons import neuron_maps
from viz.plots import compare_boundaries, decision_boundary, plot_dataset, training_curves
from viz.report import Chapter, Picture, Table, write_report, write_story
from viz.style import save
from viz.text import (
    Context,
    LetterSpace,
    draw_attention_head,
    draw_attention_maps,
    draw_letter_space,
    draw_neuron_contexts,
    draw_next_letter,
    letter_space,
    neuron_contexts,
    neuron_outputs,
    next_letter_probabilities,
)

__all__ = [
    "Chapter",
    "Regularisation",
    "class_probabilities",
    "confusion_matrix",
    "draw_confusion",
    "draw_explanations",
    "draw_imagined",
    "draw_layers_story",
    "draw_misclassified",
    "draw_top_examples",
    "draw_weight_images",
    "imagine",
    "occlusion",
    "saliency",
    "Context",
    "LetterSpace",
    "draw_attention_head",
    "draw_attention_maps",
    "draw_letter_space",
    "draw_neuron_contexts",
    "draw_next_letter",
    "letter_space",
    "neuron_contexts",
    "neuron_outputs",
    "next_letter_probabilities",
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
