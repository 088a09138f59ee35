"""The truth of bench/alignment_real.py: a reply played from a plan sounds each moment where
the pair builder's time map says (tests/support/real_pairs.py).

Tones every 0.6 s (other than the calibration's), played with a late start, a pause, a slow
and a fast passage, a repeated and a skipped one, plain and a whole tone up: each tone's energy
centre is found in the reply and must sit where the map puts the original's. Tones that
straddle a join are left out (a cross-fade mixes them).
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.support import real_pairs

PLAN = [
    real_pairs.Silence(1.0),
    real_pairs.Piece(0.0, 4.0, 0.6),
    real_pairs.Silence(2.5),
    real_pairs.Piece(4.0, 8.0, 1.5),
    real_pairs.Piece(6.0, 10.0, 1.0),  # 6-8 s again
    real_pairs.Piece(11.0, 12.0, 0.8),  # 10-11 s skipped
]
JOINS_S = (4.0, 6.0, 8.0, 10.0, 11.0)


def _tones():
    samples, _ = real_pairs.calibration_notes(seconds=12.0, period_s=0.6)
    centres = real_pairs.energy_centres(samples)
    return samples, centres


@pytest.mark.parametrize("semitones", [0, 2])
def test_each_tone_sounds_where_the_map_says(semitones):
    samples, centres = _tones()
    source = real_pairs.transpose(samples, semitones) if semitones else samples
    reply, truth = real_pairs.play(source, PLAN)

    clear = [c for c in centres if min(abs(c - j) for j in JOINS_S) > 0.3]
    expected = sorted(t for c in clear for t in truth.reply_times(c))
    found = real_pairs.energy_centres(reply)
    errors_ms = np.array([1000 * min(abs(f - e) for f in found) for e in expected])

    # 10-11 s is skipped, 6-8 s is there twice.
    assert truth.reply_times(10.5) == []
    assert len(truth.reply_times(7.0)) == 2
    assert len(expected) >= 14
    assert np.median(errors_ms) <= 3.0, errors_ms
    assert errors_ms.max() <= 10.0, errors_ms


def test_the_map_places_the_pause_and_the_speeds():
    _, truth = real_pairs.play(np.zeros(12 * real_pairs.RATE, dtype=np.float32), PLAN)
    first, second = truth.segments[:2]

    assert first.reply_at(0.0) == pytest.approx(1.0)
    assert first.reply_at(4.0) == pytest.approx(1.0 + 4.0 / 0.6, abs=1e-3)
    # After the 2.5 s pause, at 1.5 times the speed.
    assert second.reply_start_s == pytest.approx(1.0 + 4.0 / 0.6 + 2.5, abs=1e-3)
    assert second.reply_at(8.0) - second.reply_at(4.0) == pytest.approx(4.0 / 1.5, abs=1e-3)


def test_errors_take_either_place_of_a_repeat_and_skip_a_skipped_moment():
    _, truth = real_pairs.play(np.zeros(12 * real_pairs.RATE, dtype=np.float32), PLAN)
    first, second = truth.reply_times(7.0)

    errors = truth.errors_ms(np.array([7.0, 7.0, 10.5]), np.array([first, second + 0.05, 0.0]))

    assert errors[0] == pytest.approx(0.0, abs=1e-6)
    assert errors[1] == pytest.approx(50.0, abs=1e-3)
    assert np.isnan(errors[2])
