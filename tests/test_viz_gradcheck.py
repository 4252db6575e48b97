"""viz.gradcheck: every stored local derivative against a central difference of its operation."""

from __future__ import annotations

import math

import pytest

from engine import Value, topological_order
from nn import MLP
from viz.gradcheck import check_gradients, forward_function
from viz.graph import COLORS, draw_dot


def mlp_sample_loss() -> Value:
    model = MLP(2, [3, 3, 1], activation="tanh", seed=0)
    loss = (model([Value(0.5, label="x1"), Value(-1.0, label="x2")]) - 1.0) ** 2
    loss.backward()
    return loss


def every_operation() -> Value:
    """One expression using every operation the engine records, at smooth points."""
    a, b, c = Value(0.7, label="a"), Value(-1.3, label="b"), Value(2.1, label="c")
    terms = [
        a + b,
        a - b,
        a * b,
        a / b,
        -a,
        b**3,
        c**-0.5,
        c**a,
        a.exp(),
        c.log(),
        b.tanh(),
        a.relu(),
        b.relu(),
        b.sigmoid(),
        Value.dot([a, b], [c, a], b),
    ]
    return Value.sum(terms)


def tamper(node: Value, index: int, wrong: float) -> None:
    """Store a wrong local derivative, as a buggy operation would.

    ``local_grads`` is a read-only view, so this writes the slot behind it
    (see Value.__slots__): ``_da``/``_db`` for one or two parents, or the one
    tuple in ``_da`` for many.
    """
    if type(node._da) is tuple:
        grads = list(node._da)
        grads[index] = wrong
        node._da = tuple(grads)
    elif index == 0:
        node._da = wrong
    else:
        node._db = wrong


def test_a_correct_mlp_graph_passes():
    loss = mlp_sample_loss()
    report = check_gradients(loss)
    assert report.ok, report.summary()
    order = topological_order(loss)
    assert len(report.results) == sum(len(node.parents) for node in order)
    assert not report.skipped


def test_every_operation_passes_at_smooth_points():
    report = check_gradients(every_operation())
    assert report.ok, report.summary()
    assert not report.skipped and not report.unknown_ops
    ops = {
        "+",
        "-",
        "*",
        "/",
        "neg",
        "**3",
        "**-0.5",
        "**",
        "exp",
        "log",
        "tanh",
        "relu",
        "sigmoid",
        "sum",
        "dot",
    }
    assert {r.node.op for r in report.results} == ops


def test_results_carry_both_numbers_per_node_and_parent():
    x = Value(0.5, label="x")
    y = x.tanh()
    (result,) = check_gradients(y).results
    assert result.node is y and result.index == 0 and result.parent is x
    assert result.engine == y.local_grads[0]
    assert result.numeric == pytest.approx(1.0 - math.tanh(0.5) ** 2, rel=1e-8)
    assert result.ok


def test_a_tampered_local_derivative_is_flagged():
    loss = mlp_sample_loss()
    hidden = next(node for node in topological_order(loss) if node.op == "tanh")
    right = hidden.local_grads[0]
    tamper(hidden, 0, right + 0.1)
    report = check_gradients(loss)
    assert not report.ok
    (failure,) = report.failures
    assert failure.node is hidden and failure.index == 0
    assert failure.engine == right + 0.1
    assert failure.numeric == pytest.approx(right, rel=1e-6)
    assert "WRONG" in report.summary() and "tanh" in report.summary()


def test_a_node_whose_rule_does_not_match_its_op_is_flagged():
    x = Value(0.5, label="x")
    fake = Value(math.sin(x.data), (x,), (math.cos(x.data),), "exp")  # sin's rule, labelled exp
    (failure,) = check_gradients(fake * 2.0).failures
    assert failure.node is fake
    assert failure.numeric == pytest.approx(math.exp(0.5), rel=1e-6)


def test_a_small_relative_error_is_caught():
    x = Value(1.2)
    y = x.exp()
    tamper(y, 0, y.local_grads[0] * (1 + 1e-3))
    assert not check_gradients(y).ok


def test_wrong_position_of_two_parents_is_flagged():
    a, b = Value(2.0), Value(5.0)
    c = a * b
    c._da, c._db = a.data, b.data  # swapped: d(ab)/da is b, not a (local_grads is a read-only view of these)
    report = check_gradients(c)
    assert [failure.index for failure in report.failures] == [0, 1]


def test_a_nan_or_infinite_local_derivative_is_flagged():
    x = Value(0.3)
    y = x.tanh()
    tamper(y, 0, math.inf)
    assert not check_gradients(y).ok
    tamper(y, 0, math.nan)
    assert not check_gradients(y).ok


def test_relu_at_its_kink_is_skipped_not_failed():
    y = Value(0.0).relu()
    report = check_gradients(y)
    assert report.ok
    (skipped,) = report.skipped
    assert "kink" in skipped.note


def test_max_at_a_tie_is_skipped_and_away_from_one_is_checked():
    tied = check_gradients(Value.max([Value(1.0), Value(1.0), Value(0.5)]))
    assert tied.ok and len(tied.skipped) == 2 and all("tie" in check.note for check in tied.skipped)
    apart = check_gradients(Value.max([Value(1.0), Value(2.0), Value(0.5)]))
    assert apart.ok and not apart.skipped


def test_log_next_to_zero_is_skipped_not_failed():
    report = check_gradients(Value(1e-9).log())
    assert report.ok and len(report.skipped) == 1
    assert "not defined" in report.skipped[0].note


def test_a_huge_plus_a_tiny_number_is_not_blamed_for_rounding():
    big, small = Value(1e10), Value(1.0)
    assert check_gradients(big + small).ok


def test_an_unknown_op_is_reported_as_not_checked():
    x = Value(0.5)
    mystery = Value(1.0, (x,), (2.0,), "mystery")
    report = check_gradients(mystery)
    assert report.ok and report.unknown_ops == [mystery]
    assert "mystery" in report.summary()


def test_forward_function_reads_number_exponents():
    assert forward_function("**3")(2.0) == 8.0
    assert forward_function("**-0.5")(4.0) == 0.5
    assert forward_function("**np.float64(2.0)")(3.0) == 9.0
    assert forward_function("no such op") is None


def test_step_must_be_positive():
    with pytest.raises(ValueError, match="step"):
        check_gradients(Value(1.0).exp(), h=0.0)


# --- painting the failures ------------------------------------------------------------


def test_draw_dot_paints_the_wrong_node_red_with_both_numbers():
    x = Value(0.5, label="x")
    h = Value(math.exp(0.5), (x,), (0.3,), "exp", label="h")  # the right derivative is exp(0.5)
    out = h * 2.0
    out.backward()
    report = check_gradients(out)
    source = draw_dot(out, checks=report).source
    failed_fill, failed_border = COLORS["failed"]
    h_line = next(line for line in source.splitlines() if "<B>h</B>" in line)
    assert f'COLOR="{failed_border}"' in h_line
    assert f"engine 0.3000 ≠ numeric {math.exp(0.5):.4f}" in h_line
    assert source.count(f'fillcolor="{failed_fill}"') == 1  # the exp oval, not the * oval
    assert f'color="{failed_border}"' in source  # the arrow from x into exp
    assert failed_fill not in draw_dot(out).source


def test_draw_dot_accepts_a_mapping_from_node_to_results():
    x = Value(0.5, label="x")
    y = x.tanh()
    y.label = "y"
    tamper(y, 0, 0.0)
    report = check_gradients(y)
    source = draw_dot(y, checks={y: report.failures[0]}).source
    assert "engine 0.0000" in source


def test_a_correct_graph_draws_no_red():
    loss = mlp_sample_loss()
    source = draw_dot(loss, checks=check_gradients(loss)).source
    assert COLORS["failed"][0] not in source and COLORS["failed"][1] not in source
