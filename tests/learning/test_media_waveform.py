"""Waveform peaks: one loudest-sample value per window, covering the probed duration."""

from __future__ import annotations

import json
from array import array

import pytest

from learning.media.pipeline import Waveform, probe, waveform_peaks
from learning.media.pipeline.waveform import peak_count, peaks_from_pcm
from tests.support.media_samples import TONE_AMPLITUDE, sample


def _pcm(*samples: int) -> bytes:
    return array("h", samples).tobytes()


def test_each_window_keeps_its_loudest_sample_either_sign():
    pcm = _pcm(0, 16384, -8192, 100, -32768, 5)

    assert peaks_from_pcm(pcm, count=3, window=2) == (0.5, 0.25, 1.0)


def test_audio_shorter_than_the_duration_is_padded_with_silence():
    assert peaks_from_pcm(_pcm(3277, 0, 0), count=4, window=2) == (0.1, 0.0, 0.0, 0.0)


def test_extra_audio_beyond_the_duration_is_dropped_and_a_stray_byte_ignored():
    assert peaks_from_pcm(_pcm(100, 200, 32767, 1) + b"\x01", count=1, window=2) == (0.006,)


@pytest.mark.parametrize(
    ("duration", "expected"), [(2.0, 40), (2.023, 41), (0.01, 1), (0.0, 1), (59.999, 1200)]
)
def test_peak_count_covers_the_duration(duration, expected):
    assert peak_count(duration, 20) == expected


def test_tone_peaks_match_its_amplitude():
    info = probe(sample("tone.wav"))

    waveform = waveform_peaks(sample("tone.wav"), probe_result=info)

    assert waveform.peaks_per_second == 20
    assert len(waveform.peaks) == 40
    assert all(abs(peak - TONE_AMPLITUDE) < 0.02 for peak in waveform.peaks)


def test_a_hard_panned_instrument_is_not_halved():
    info = probe(sample("left_only.wav"))

    waveform = waveform_peaks(sample("left_only.wav"), probe_result=info, peaks_per_second=10)

    assert len(waveform.peaks) == 20
    assert min(waveform.peaks) > TONE_AMPLITUDE - 0.02


def test_a_video_without_sound_has_a_flat_waveform():
    info = probe(sample("h264_silent.mp4"))

    waveform = waveform_peaks(sample("h264_silent.mp4"), probe_result=info)

    assert waveform.peaks == (0.0,) * peak_count(info.duration_s, 20)


def test_json_document_round_trips():
    waveform = Waveform(peaks_per_second=20, peaks=(0.0, 0.5, 1.0))

    document = json.loads(waveform.to_json())

    assert document == {"peaks_per_second": 20, "peaks": [0.0, 0.5, 1.0]}
