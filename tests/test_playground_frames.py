"""The parts of a frame built from a model's outputs: neuron maps, the decision boundary, and the curves."""

from __future__ import annotations

import base64

import numpy as np

from viz.playground.data import grid
from viz.playground.frames import Curves, boundary, neuron_maps


def decoded(text: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype=np.uint8)


def test_neuron_maps_are_signed_around_128():
    # a map takes every other grid point: grid points 0 and 2 are its first two pixels
    values = np.zeros((10_000, 1))
    values[0], values[2], values[1] = -2.0, 4.0, 9.0  # grid point 1 is not on the map
    (neuron_map,) = neuron_maps([values])
    pixels = decoded(neuron_map["pixels"])
    assert pixels.size == 2500 and list(pixels[:3]) == [128 - 128 * 2 // 4, 255, 128]
    assert (neuron_map["low"], neuron_map["high"]) == (-2.0, 4.0)


def test_the_boundary_follows_the_model():
    # row 0 is the top of the plane (x2 largest): a score of x2 puts class 1 in the top half
    centres = grid((-1.0, 1.0, -1.0, 1.0))
    drawn = boundary(centres[:, 1:2], "hinge")
    pixels = decoded(drawn["pixels"]).reshape(100, 100)
    assert (pixels[:50] == 1).all() and (pixels[50:] == 0).all()
    confidence = decoded(drawn["confidence"]).reshape(100, 100)
    assert confidence[0, 0] == confidence[-1, 0] == round(0.99 * 255)  # |score| = 0.99 at the edges


def test_curves_are_thinned_to_400_points():
    curves = Curves()
    for step in range(5_000):
        curves.add(step, {"loss": float(step), "test_loss": None, "accuracy": 1.0, "test_accuracy": None})
    thinned = curves.thinned()
    assert len(thinned["step"]) == 400 and thinned["step"][0] == 0 and thinned["step"][-1] > 4_800
    assert thinned["loss"] == [float(step) for step in thinned["step"]]
