"""Honest labels from the alignment engine (learning/alignment/engine/feedback.py), on
generated music with a known time map: a reply that comes in late or stops early is said as
such, and the summary's overall tempo is the time map's slope, not the median local tempo."""

from __future__ import annotations

import functools

import numpy as np

from learning.alignment import engine
from learning.alignment.engine import synthesis

SECONDS = 16.0


@functools.cache
def _melody():
    return synthesis.melody(duration_s=SECONDS, seed=11)


def _analyse(*, warp=None, reply_notes=None, cut_s=None):
    warp = warp or synthesis.varying(duration_s=SECONDS, delay_s=1.5)
    pair = synthesis.make_pair(
        "labels", notes=_melody(), reply_notes=reply_notes, warp=warp, snr_db=30.0
    )
    reply = pair.reply if cut_s is None else pair.reply[: int(cut_s * synthesis.SAMPLE_RATE)]
    result = engine.analyse(pair.demo, reply)
    assert result.aligned, result.reason
    return pair, result


def test_a_reply_faster_for_a_third_of_the_piece_is_a_few_percent_faster_overall():
    # Given a reply 12 % faster for the first 6 s of a 16 s piece, as before elsewhere
    warp = synthesis.varying(duration_s=SECONDS, delay_s=1.5, faster=(0.0, 6.0, 1.12))
    pair, result = _analyse(warp=warp)

    # Then the overall tempo is what the whole take says: 16 s of music in 15.36 s
    expected = SECONDS / (6.0 / 1.12 + 10.0)
    assert abs(result.summary["tempo_ratio"] - expected) < 0.01, result.summary
    # And it agrees with the time map the page is given, first note to last
    onsets_ms = pair.demo_onsets_s * 1000
    reply_ms = result.time_map.reply_at(onsets_ms[[0, -1]])
    map_ratio = (onsets_ms[-1] - onsets_ms[0]) / (reply_ms[1] - reply_ms[0])
    assert abs(result.summary["tempo_ratio"] - map_ratio) < 0.01


def test_a_steady_reply_with_a_pause_is_close_to_the_demonstration_tempo():
    melody = _melody()
    warp = synthesis.varying(
        duration_s=SECONDS, delay_s=1.5, pause=(synthesis.note_start_near(melody, 8.0), 1.1)
    )
    _, result = _analyse(warp=warp)

    # The pause is a pause, and does not make the tempo read slower
    assert [b["kind"] for b in result.bands] == ["extra"]
    assert "pauses" in result.bands[0]["message"]
    assert abs(result.summary["tempo_ratio"] - 1.0) < 0.01


def test_a_reply_that_comes_in_late_is_said_to_start_late_not_to_pause():
    # Given a take that begins with a false start (the opening bar, abandoned), then the piece
    melody = _melody()
    opening = [n for n in melody if n.start_s < 0.6]
    again = 0.6 + 1.1
    reply_notes = opening + [
        synthesis.Note(n.start_s + again, n.duration_s, n.pitches) for n in melody
    ]
    _, result = _analyse(reply_notes=reply_notes)

    # Then it is a late start, at the beginning, with how late, and nothing else
    kinds = [b["kind"] for b in result.bands]
    assert kinds == ["late_start"], result.bands
    band = result.bands[0]
    assert band["message"].startswith("The reply starts ")
    assert " s late" in band["message"]
    assert band["start_ms"] <= 1000
    assert result.summary["counts"]["late_start"] == 1
    assert result.summary["counts"]["extra"] == 0


def test_a_reply_that_stops_before_the_end_is_said_to_end_early_not_to_miss_a_passage():
    # Given a take that stops 3 s before the piece ends (1.5 s lead-in + 16 s, cut at 15 s)
    _, result = _analyse(cut_s=15.0)

    kinds = [b["kind"] for b in result.bands]
    assert kinds == ["early_end"], result.bands
    band = result.bands[0]
    early_s = float(band["message"].removeprefix("The reply ends ").removesuffix(" s early."))
    # The reply's 15 s are the score's 13.5 s: 2.5 s of notes (and their ringing) not played
    assert 2.3 <= early_s <= 3.5
    assert band["end_ms"] >= 16_000
    assert np.isclose(result.summary["tempo_ratio"], 1.0, atol=0.01)
