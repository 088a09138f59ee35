"""The aligner where a reply changes the piece's structure (issue 14), on short generated
pairs with a known truth (tests/support/structure_pairs.py): a pause and a restart, a
skipped passage, a repeated one reported as a repeat, half and double speed. Errors are
measured at the demonstration's note onsets, as in the benchmarks."""

from __future__ import annotations

import numpy as np
import pytest

from learning.alignment import engine
from learning.alignment.engine import dtw
from tests.support import structure_pairs as sp


@pytest.fixture(scope="module")
def results():
    cache = {}

    def result(kind):
        if kind not in cache:
            p = sp.pair(kind)
            cache[kind] = (p, engine.analyse(p.demo, p.reply))
        return cache[kind]

    return result


def _kinds(result, *kinds):
    return [b for b in result.bands if b["kind"] in kinds]


def test_a_pause_and_restart_is_one_pause_and_the_note_after_it_lands_after_it(results):
    p, result = results("pause_restart")

    assert result.aligned, result.reason
    errors = p.errors_ms(result.time_map)
    assert np.percentile(errors, 95) <= 80
    # The first note after the 3 s pause: where the reply plays it, not inside the pause.
    after = sp.at_note(12.0)
    index = next(i for i, n in enumerate(sp.melody()) if n.start_s == after)
    predicted = result.time_map.reply_at(p.demo_onsets_s[index] * 1000)
    assert abs(predicted / 1000 - p.reply_onsets_s[index][0]) <= 0.1
    (pause,) = _kinds(result, "extra")
    assert "pauses" in pause["message"]
    assert 2.6 <= (pause["reply_end_ms"] - pause["reply_start_ms"]) / 1000 <= 3.2


def test_a_skipped_passage_is_missing_where_it_is_and_the_map_steps_over_it(results):
    p, result = results("skip")

    assert result.aligned, result.reason
    errors = p.errors_ms(result.time_map)
    assert np.percentile(errors, 95) <= 80
    assert errors.max() <= 150
    (missing,) = _kinds(result, "missing")
    start = sp.at_note(9.0) + sp.DEMO_LEAD_IN_S
    end = sp.at_note(14.0) + sp.DEMO_LEAD_IN_S
    assert abs(missing["start_ms"] / 1000 - start) <= 0.5
    assert abs(missing["end_ms"] / 1000 - end) <= 0.5
    # Not read as a rushed passage: the map jumps, the tempo around it is the same.
    assert not _kinds(result, "rushed", "dragged")


def test_a_repeated_passage_is_reported_as_a_repeat_not_forced_into_the_path(results):
    p, result = results("repeat")

    assert result.aligned, result.reason
    errors = p.errors_ms(result.time_map)
    assert np.percentile(errors, 95) <= 80
    (repeat,) = _kinds(result, "repeat")
    assert not _kinds(result, "extra", "missing")
    assert "again" in repeat["message"]
    # The demonstration passage played twice: score 8-13 s.
    start = sp.at_note(8.0) + sp.DEMO_LEAD_IN_S
    end = sp.at_note(13.0) + sp.DEMO_LEAD_IN_S
    overlap = min(end, repeat["end_ms"] / 1000) - max(start, repeat["start_ms"] / 1000)
    assert overlap >= 0.6 * (end - start), repeat
    # ...where the reply plays it the second time (the reply's 14 s on).
    second = 1.0 + sp.at_note(13.0)
    assert repeat["reply_start_ms"] / 1000 >= second - 1.5
    assert result.summary["counts"]["repeat"] == 1


@pytest.mark.parametrize(("kind", "ratio"), [("half_speed", 0.5), ("double_speed", 2.0)])
def test_half_and_double_speed_align_and_say_how_much_slower_or_faster(results, kind, ratio):
    p, result = results(kind)

    assert result.aligned, result.reason
    errors = p.errors_ms(result.time_map)
    assert np.median(errors) <= 30
    assert np.percentile(errors, 95) <= 80
    assert result.summary["tempo_ratio"] == pytest.approx(ratio, rel=0.05)
    assert not _kinds(result, "missing", "extra", "repeat")


def test_a_jump_is_spelled_out_as_the_run_it_stands_for():
    # A diagonal of matching cells with rows 10-29 of the demonstration skipped: at a price
    # for the jump, the path takes it in one step; every cell it crosses is in the path.
    n, m = 50, 30
    cost = np.ones((n, m))
    for j in range(m):
        cost[j if j < 10 else j + 20, j] = 0.0
    plain_total, plain = dtw.full(cost)
    jumped_total, jumped = dtw.full(cost, jump_cost=2.0, gap_cost=0.2)

    # One jump over 20 rows: its price and 0.2 a row, instead of 1 a cell.
    assert plain_total == pytest.approx(20.0)
    assert jumped_total == pytest.approx(2.0 + 0.2 * 20)

    steps = np.diff(jumped, axis=0)
    assert ((steps >= 0) & (steps <= 1)).all() and (steps.sum(axis=1) >= 1).all()
    assert {(i, 9) for i in range(9, 30)} <= set(map(tuple, jumped.tolist()))
    on_diagonal = sum(cost[i, j] == 0 for i, j in jumped)
    assert on_diagonal == m
    assert np.array_equal(plain, jumped)  # the same cells, spelled out
