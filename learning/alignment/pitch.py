"""Pitch tracks of monophonic takes (an instrument or a voice playing one note at a time).

YIN (librosa.yin) with our own voicing rule, not pYIN: librosa's pYIN took 12 s for 30 s
of audio on this project's machines (its HMM over 100 thresholds), YIN takes well under a
second. Voicing: the frame is loud enough and its pitch is steady against its neighbours,
which is what separates a held note from a transient or noise.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.ndimage

from . import features

FMIN_HZ = 60.0
FMAX_HZ = 1600.0
FRAME_LENGTH = 2048
STEADY_CENTS = 30.0  # how far a voiced frame may stray from its neighbours' median
MIN_VOICED_SHARE = 0.5  # of sounding frames, for a take to count as monophonic


@dataclass(frozen=True)
class PitchTrack:
    cents: np.ndarray = field(repr=False)  # per frame (features' frame rate), NaN if unvoiced
    monophonic: bool

    @property
    def voiced(self) -> np.ndarray:
        return ~np.isnan(self.cents)


def track(audio: np.ndarray, *, silent: np.ndarray) -> PitchTrack:
    """Pitch in cents above A0-ish (MIDI 0 = 0 cents), at features.FRAMES_PER_SECOND."""
    import librosa  # lazily: numba

    f0 = librosa.yin(
        np.asarray(audio, dtype=np.float32), fmin=FMIN_HZ, fmax=FMAX_HZ,
        sr=features.SAMPLE_RATE, frame_length=FRAME_LENGTH, hop_length=features.HOP,
    )
    count = min(len(f0), len(silent))
    cents = 1200 * np.log2(f0[:count] / 440.0) + 6900
    neighbours = scipy.ndimage.median_filter(cents, size=5, mode="nearest")
    steady = np.abs(cents - neighbours) < STEADY_CENTS
    voiced = steady & ~silent[:count]
    sounding = int((~silent[:count]).sum())
    monophonic = sounding > 0 and voiced.sum() / sounding >= MIN_VOICED_SHARE
    cents = np.where(voiced, cents, np.nan)
    if count < len(silent):
        cents = np.concatenate([cents, np.full(len(silent) - count, np.nan)])
    return PitchTrack(cents=cents, monophonic=bool(monophonic))
