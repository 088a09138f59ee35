"""Generated demonstration/reply pairs for the alignment tests (20-30 s, cached per session)."""

from __future__ import annotations

import functools
import wave
from pathlib import Path

import numpy as np

from learning.alignment.engine import synthesis

SECONDS = 24.0


@functools.cache
def notes():
    return synthesis.melody(duration_s=SECONDS, seed=11)


@functools.cache
def pair(kind: str) -> synthesis.Pair:
    melody = notes()
    plain = synthesis.varying(duration_s=SECONDS, delay_s=1.5)
    if kind == "matching":
        return synthesis.make_pair(kind, notes=melody, warp=plain, snr_db=30.0)
    if kind == "varied":  # late, tempo ±20 %, a pause, another timbre, 20 dB SNR
        warp = synthesis.varying(
            duration_s=SECONDS, delay_s=6.0, depth=0.2, period_s=10.0,
            pause=(synthesis.note_start_near(melody, 12.0), 1.5),
        )
        return synthesis.make_pair(kind, notes=melody, warp=warp, snr_db=20.0)
    if kind == "transposed":
        return synthesis.make_pair(kind, notes=melody, warp=plain, transpose=2)
    if kind == "rushed":  # 35 % faster from 8 s to 14 s of the score
        warp = synthesis.varying(duration_s=SECONDS, delay_s=1.5, faster=(8.0, 14.0, 1.35))
        return synthesis.make_pair(kind, notes=melody, warp=warp, snr_db=30.0)
    if kind == "flat":  # 60 cents flat from 15 s to 20 s of the score
        detuned = synthesis.detune(melody, start_s=15.0, end_s=20.0, cents=-60)
        return synthesis.make_pair(kind, notes=melody, reply_notes=detuned, warp=plain,
                                   snr_db=30.0)
    if kind == "unrelated":
        other = synthesis.melody(duration_s=SECONDS, seed=99)
        return synthesis.make_pair(kind, notes=melody, reply_notes=other, warp=plain)
    raise ValueError(kind)


# Score seconds -> demonstration seconds: make_pair's demonstration starts after 0.5 s.
DEMO_LEAD_IN_S = 0.5


def write_wav(samples: np.ndarray, path: Path) -> Path:
    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(synthesis.SAMPLE_RATE)
        out.writeframes(pcm.tobytes())
    return path
