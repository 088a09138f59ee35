"""Pitch tracks of monophonic takes (an instrument or a voice playing one note at a time).

YIN (de Cheveigné and Kawahara 2002), computed here in blocks so that its trough depth (the
aperiodicity) is kept: a frame is voiced when its period is clear (trough below 0.15),
loud enough and steady against its neighbours. pYIN (librosa.pyin) would be the reference
but took 12 s for 30 s of audio on this project's machines (its HMM over 100 thresholds);
this takes a fraction of a second. A take counts as monophonic when most of its sounding
frames are voiced: chords have no clear single period and so turn pitch feedback off.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.fft
import scipy.ndimage

from . import features

FMIN_HZ = 60.0
FMAX_HZ = 1600.0
FRAME_LENGTH = features.N_FFT  # same frame centres as the alignment features
TROUGH_THRESHOLD = 0.15
STEADY_CENTS = 30.0  # how far a voiced frame may stray from its neighbours' median
MIN_VOICED_SHARE = 0.5  # of sounding frames, for a take to count as monophonic
BLOCK_FRAMES = 256
EVERY = 2  # frames per pitch estimate (40 ms)


@dataclass(frozen=True)
class PitchTrack:
    cents: np.ndarray = field(repr=False)  # MIDI cents (6900 = A4) per frame, NaN if unvoiced
    monophonic: bool

    @property
    def voiced(self) -> np.ndarray:
        return ~np.isnan(self.cents)


def _yin_block(frames: np.ndarray, min_period: int, max_period: int):
    """Period (in samples, refined) and trough depth of each frame."""
    # d(tau) = E(0) + E(tau) - 2 r(tau) over a window of W samples (YIN's equation 7).
    window = frames.shape[1] - max_period
    size = 2 * frames.shape[1]
    lags = max_period + 1
    spectrum = scipy.fft.rfft(frames, size, axis=1)
    head = scipy.fft.rfft(frames[:, :window][:, ::-1], size, axis=1)
    acf = scipy.fft.irfft(spectrum * head, size, axis=1)[:, window - 1 : window - 1 + lags]
    energy = np.concatenate(
        [np.zeros((len(frames), 1)), np.cumsum(frames.astype(np.float64) ** 2, axis=1)], axis=1
    )
    energy = energy[:, window : window + lags] - energy[:, :lags]
    difference = energy[:, :1] + energy - 2 * acf
    difference[:, 0] = 0.0
    tau = np.arange(1, max_period + 1)
    mean = np.cumsum(difference[:, 1:], axis=1) / tau
    cmnd = difference[:, min_period : max_period + 1] / (mean[:, min_period - 1 :] + 1e-12)
    trough = np.zeros_like(cmnd, dtype=bool)
    trough[:, 1:-1] = (cmnd[:, 1:-1] < cmnd[:, :-2]) & (cmnd[:, 1:-1] <= cmnd[:, 2:])
    below = trough & (cmnd < TROUGH_THRESHOLD)
    index = np.where(below.any(axis=1), below.argmax(axis=1), cmnd.argmin(axis=1))
    rows = np.arange(len(cmnd))
    depth = cmnd[rows, index]
    # Parabolic refinement of the trough position.
    left = cmnd[rows, np.maximum(index - 1, 0)]
    right = cmnd[rows, np.minimum(index + 1, cmnd.shape[1] - 1)]
    curvature = left - 2 * depth + right
    with np.errstate(divide="ignore", invalid="ignore"):
        shift = np.where(np.abs(curvature) > 1e-12, 0.5 * (left - right) / curvature, 0.0)
    shift = np.nan_to_num(shift)
    return min_period + index + np.clip(shift, -1, 1), depth


def track(audio: np.ndarray, *, silent: np.ndarray) -> PitchTrack:
    """Pitch at features.FRAMES_PER_SECOND, frame for frame with features.extract."""
    sr = features.SAMPLE_RATE
    min_period = int(np.floor(sr / FMAX_HZ))
    max_period = min(int(np.ceil(sr / FMIN_HZ)), FRAME_LENGTH - 1)
    padded = np.pad(np.asarray(audio, dtype=np.float32), (FRAME_LENGTH // 2, FRAME_LENGTH))
    count = len(silent)
    frames = np.lib.stride_tricks.sliding_window_view(padded, FRAME_LENGTH)[:: features.HOP]
    count = min(count, len(frames))
    # YIN on every EVERY-th frame, each value held for the frames after it: a pitch band
    # lasts half a second at least, and this halves the pitch tracks' share of a task.
    sampled = frames[:count:EVERY]
    periods = np.empty(len(sampled))
    depths = np.empty(len(sampled))
    for start in range(0, len(sampled), BLOCK_FRAMES):
        block = sampled[start : start + BLOCK_FRAMES]
        periods[start : start + len(block)], depths[start : start + len(block)] = _yin_block(
            block, min_period, max_period
        )
    periods = np.repeat(periods, EVERY)[:count]
    depths = np.repeat(depths, EVERY)[:count]
    cents = 1200 * np.log2(sr / periods / 440.0) + 6900
    neighbours = scipy.ndimage.median_filter(cents, size=5, mode="nearest")
    voiced = (
        (depths < TROUGH_THRESHOLD)
        & (np.abs(cents - neighbours) < STEADY_CENTS)
        & ~silent[:count]
    )
    sounding = int((~silent[:count]).sum())
    monophonic = sounding > 0 and voiced.sum() / sounding >= MIN_VOICED_SHARE
    cents = np.where(voiced, cents, np.nan)
    if count < len(silent):
        cents = np.concatenate([cents, np.full(len(silent) - count, np.nan)])
    return PitchTrack(cents=cents, monophonic=bool(monophonic))
