"""The playground's settings: the address's query, the page's JSON updates, and the limits shown on the page."""

from __future__ import annotations

import json

import pytest

from viz.playground.settings import LIMITS, BadRequest, Settings


def test_settings_round_trip_through_the_query():
    settings = Settings(dataset="spirals", points=300, noise=0.35, test_fraction=0.3, seed=7, classes=3,
                        hidden=(8, 4, 2), activation="tanh", loss="softmax", optimizer="adam",
                        learning_rate=0.003, l2=1e-4, batch_size=32, speed=5, stop_steps=900,
                        stop_accuracy=0.95, weights_seed=11)
    query = settings.to_query()
    assert all(isinstance(value, str) for value in query.values())
    assert query["hidden"] == "8,4,2"
    assert Settings.from_query(query) == settings
    no_hidden = Settings(hidden=())
    assert Settings.from_query(no_hidden.to_query()) == no_hidden


def test_missing_query_keys_keep_the_defaults():
    assert Settings.from_query({}) == Settings()
    assert Settings.from_query({"noise": "0.2"}) == Settings(noise=0.2)


@pytest.mark.parametrize(("query", "message"), [
    ({"points": "many"}, r"points: 'many' is not a whole number from 10 to 1000"),
    ({"points": "5"}, r"points: 5 is out of range; give a number from 10 to 1000"),
    ({"points": "2.5"}, r"points: '2.5' is not a whole number"),
    ({"noise": "nan"}, r"noise: nan is not a number from 0.0 to 1.0"),
    ({"learning_rate": "-1"}, r"learning_rate: -1.0 is out of range; give a number from 0.0 to 100.0"),
    ({"learning_rate": "inf"}, r"learning_rate: inf is not a number"),
    ({"hidden": "17"}, r"hidden: '17' is not a width from 1 to 16"),
    ({"hidden": "4,,4"}, r"hidden: '' is not a width from 1 to 16"),
    ({"hidden": "1,2,3,4,5,6,7"}, r"hidden: 7 layers is too many; give up to 6 widths"),
    ({"activation": "gelu"}, r"activation: 'gelu' is not one of relu, tanh, sigmoid"),
    ({"loss": "huber"}, r"loss: 'huber' is not one of hinge, mse, bce, softmax"),
    ({"dataset": "iris"}, r"dataset: 'iris' is not one of moons, circles, xor, spirals, blobs"),
    ({"dataset": "spirals", "classes": "3"}, r"loss: hinge tells two classes apart, the data has 3; softmax "
                                             r"\(one output per class\) is the only loss for more than two"),
    ({"colour": "red"}, r"unknown setting 'colour'; the settings are dataset, points"),
    ({"classes": "9"}, r"classes: 9 is out of range; give a number from 2 to 5"),
])
def test_bad_query_is_refused_naming_the_field_and_range(query, message):
    with pytest.raises(BadRequest, match=message):
        Settings.from_query(query)


def test_json_updates_take_numbers_and_lists():
    settings = Settings().changed({"points": 300, "hidden": [4, 4], "learning_rate": 1, "speed": 3.0})
    assert (settings.points, settings.hidden, settings.learning_rate, settings.speed) == (300, (4, 4), 1.0, 3)
    for bad in ({"points": True}, {"points": [1]}, {"hidden": 16}, {"speed": 2.5}):
        with pytest.raises(BadRequest):
            Settings().changed(bad)


def test_limits_are_json_and_name_every_setting():
    limits = json.loads(json.dumps(LIMITS))
    assert (limits["max_layers"], limits["max_width"]) == (6, 16)
    assert set(limits["fields"]) == set(Settings().to_query())
    assert limits["losses"] == ["hinge", "mse", "bce", "softmax"]
