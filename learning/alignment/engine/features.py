"""Frame features for alignment: chroma (what is played) and chroma onsets (when).

Frames are 20 ms apart (50 per second) from a 93 ms window at 11,025 Hz. The STFT is
computed in blocks so that memory stays flat whatever the length: a 3-minute take needs a
few megabytes here, where a whole spectrogram would need 37.

* Chroma: energy per pitch class, log-compressed so that loud notes do not drown quiet ones,
  then normalised per frame. 1e-6 is added before normalising: a silent frame becomes a flat
  vector instead of 0/0, which would poison the DTW with NaNs.
* Chroma onsets: the rise of each pitch class's log energy, with a short exponential decay
  and normalised by the local maximum (the idea of DLNCO features in Sync Toolbox). They
  pin note starts to a frame, where chroma alone only says which chord sounds.
* Coarse features (CENS-like): the log chroma averaged over blocks of frames, normalised.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np
import scipy.fft
import scipy.ndimage
from numba import njit

# 11,025 Hz is plenty for pitch classes (the chroma filters stop near 5 kHz) and halves
# the FFT work of 22,050 Hz at the same 10.8 Hz bin spacing.
SAMPLE_RATE = 11_025
N_FFT = 1024
HOP = 220  # ~20 ms
FRAMES_PER_SECOND = SAMPLE_RATE / HOP
BLOCK_FRAMES = 512
FFT_WORKERS = 1  # the aligner already runs the two takes in parallel
FLATNESS_BINS = 465  # ~5 kHz at 10.8 Hz per bin
LOG_GAMMA = 100.0
EPSILON = 1e-6
ONSET_DECAY = 0.7  # per frame: an onset fades over ~100 ms
ONSET_NORM_WINDOW_S = 2.0
BROADBAND_ONSET_WEIGHT = 1.5
SILENCE_DB = -45.0  # frames this far below the take's loud frames count as silence
NOISE_MAX_DB = -12.0
NOISE_FLATNESS = 0.3  # white noise's periodogram has ~0.56, music well under 0.1


@dataclass(frozen=True)
class Features:
    chroma: np.ndarray = field(repr=False)  # (frames, 13) unit vectors: 12 pitch classes, silence
    log_chroma: np.ndarray = field(repr=False)  # (frames, 12) unnormalised, for coarse levels
    onsets: np.ndarray = field(repr=False)  # (frames, 13) float32: 12 pitch classes, any note
    silent: np.ndarray = field(repr=False)  # (frames,) bool

    @property
    def frames(self) -> int:
        return len(self.chroma)


@functools.cache
def _chroma_filter() -> np.ndarray:
    """The STFT-bin → pitch-class weights, (N_FFT // 2 + 1, 12).

    librosa's `filters.chroma` with its defaults (Ellis's chromagram filters: a Gaussian bump
    per pitch class around each bin's position in octaves, columns L2-normalised, weighted by
    a Gaussian over octaves centred on C5, rows rolled to start at C), written out here so
    that the worker image does not carry librosa and the scikit-learn it pulls in for this
    one matrix. `tests/learning/test_alignment_features.py` checks it against librosa.
    """
    n_chroma = 12
    frequencies = np.linspace(0, SAMPLE_RATE, N_FFT, endpoint=False)[1:]
    bins = n_chroma * np.log2(frequencies / (440.0 / 16))
    # The 0 Hz bin gets a made-up position 1.5 octaves below the first bin.
    bins = np.concatenate(([bins[0] - 1.5 * n_chroma], bins))
    widths = np.concatenate((np.maximum(bins[1:] - bins[:-1], 1.0), [1.0]))
    distance = np.subtract.outer(bins, np.arange(n_chroma, dtype=np.float64)).T
    half = np.round(n_chroma / 2)
    distance = np.remainder(distance + half + 10 * n_chroma, n_chroma) - half
    weights = np.exp(-0.5 * (2 * distance / widths[np.newaxis, :]) ** 2)
    weights /= np.linalg.norm(weights, axis=0, keepdims=True)
    weights *= np.exp(-0.5 * ((bins / n_chroma - 5.0) / 2.0) ** 2)[np.newaxis, :]
    weights = np.roll(weights, -3, axis=0)
    return np.ascontiguousarray(weights[:, : 1 + N_FFT // 2].T, dtype=np.float32)


def hann(size: int) -> np.ndarray:
    """The periodic Hann window (scipy.signal.get_window("hann", size), without importing
    scipy.signal and the scipy.stats it pulls in: a third of a second of a worker's start)."""
    return (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(size) / size)).astype(np.float32)


@njit(cache=True)
def _decay(rise, decay):
    """out[t] = rise[t] + decay * out[t - 1] along axis 0 (an exponential decay; what
    scipy.signal.lfilter([1], [1, -decay], rise, axis=0) computes)."""
    out = np.empty_like(rise)
    for f in range(rise.shape[1]):
        level = 0.0
        for t in range(rise.shape[0]):
            level = rise[t, f] + decay * level
            out[t, f] = level
    return out


def normalise_rows(matrix: np.ndarray) -> np.ndarray:
    matrix = matrix + EPSILON
    return (matrix / np.linalg.norm(matrix, axis=1, keepdims=True)).astype(np.float32)


def extract(audio: np.ndarray) -> Features:
    """Features of mono float audio at SAMPLE_RATE."""
    audio = np.asarray(audio, dtype=np.float32)
    padded = np.pad(audio, (N_FFT // 2, N_FFT // 2))
    count = 1 + len(audio) // HOP
    needed = (count - 1) * HOP + N_FFT
    if len(padded) < needed:
        padded = np.pad(padded, (0, needed - len(padded)))
    frames = np.lib.stride_tricks.sliding_window_view(padded, N_FFT)[::HOP][:count]
    window = hann(N_FFT)
    chroma_filter = _chroma_filter()
    chroma = np.empty((count, 12), dtype=np.float32)
    energy = np.empty(count, dtype=np.float32)
    flatness = np.empty(count, dtype=np.float32)
    for start in range(0, count, BLOCK_FRAMES):
        block = frames[start : start + BLOCK_FRAMES] * window
        spectrum = scipy.fft.rfft(block, axis=1, workers=FFT_WORKERS)
        power = spectrum.real**2 + spectrum.imag**2
        chroma[start : start + len(block)] = power @ chroma_filter
        energy[start : start + len(block)] = power.sum(axis=1)
        # Spectral flatness on every 4th bin up to ~5 kHz: plenty to tell hiss from notes,
        # and the logarithm of every bin would cost as much as the FFT.
        sample = power[:, 1:FLATNESS_BINS:4] + 1e-20
        flatness[start : start + len(block)] = np.exp(np.log(sample).mean(axis=1)) / sample.mean(
            axis=1
        )
    # Level-independent: scale by the take's loud frames, so a quiet microphone matches.
    loud = float(np.percentile(chroma.sum(axis=1), 95)) or 1.0
    log_chroma = np.log1p(LOG_GAMMA * chroma / loud).astype(np.float32)
    level_db = 10 * np.log10(energy + 1e-12)
    # Silence: far below the take's loud frames, or quieter and noise-like (a flat spectrum:
    # a room's hiss between notes). A decaying piano note is quiet too, but tonal.
    loud_db = float(np.percentile(level_db, 95))
    silent = (level_db < loud_db + SILENCE_DB) | (
        (level_db < loud_db + NOISE_MAX_DB) & (flatness > NOISE_FLATNESS)
    )
    onsets = _onsets(log_chroma)
    onsets[silent] = 0.0
    # The 13th component (same width as chroma for the DTW kernel) is how strongly any note
    # starts, whatever its pitch: a wrong note still starts when the right one would, and
    # pins the path there where the pitch classes alone let it drift.
    strength = np.linalg.norm(onsets, axis=1, keepdims=True) * BROADBAND_ONSET_WEIGHT
    return Features(
        chroma=with_silence(normalise_rows(log_chroma), silent.astype(np.float32)),
        log_chroma=log_chroma,
        onsets=np.concatenate([onsets, strength], axis=1).astype(np.float32),
        silent=silent,
    )


def with_silence(chroma: np.ndarray, silence: np.ndarray) -> np.ndarray:
    """Chroma with a 13th component for silence (the share of silent frames).

    A silent frame is then orthogonal to any sounding one: a pause costs the same against
    every note of the demonstration, so the path crosses it in one straight run where the
    music stops instead of smearing it over the notes around it. Noise alone would look
    like a weak chord of everything and match some notes better than others.
    """
    extended = np.concatenate([chroma * (1.0 - silence)[:, None], silence[:, None]], axis=1)
    return normalise_rows(extended)


def _onsets(log_chroma: np.ndarray) -> np.ndarray:
    rise = np.maximum(np.diff(log_chroma, axis=0, prepend=log_chroma[:1]), 0.0)
    decayed = _decay(np.ascontiguousarray(rise, dtype=np.float64), ONSET_DECAY)
    strength = np.linalg.norm(decayed, axis=1)
    window = max(1, int(ONSET_NORM_WINDOW_S * FRAMES_PER_SECOND))
    local_max = scipy.ndimage.maximum_filter1d(strength, size=window, mode="nearest")
    floor = 0.05 * float(strength.max() or 1.0)
    return (decayed / np.maximum(local_max, floor)[:, None]).astype(np.float32)


def coarse(feats: Features, factor: int) -> np.ndarray:
    """CENS-like chroma (with silence) at 1/factor of the frame rate: block means of the
    sounding frames' log chroma, smoothed, normalised."""
    count = -(-feats.frames // factor)
    extra = count * factor - feats.frames
    sounding = np.pad(~feats.silent, (0, extra), mode="edge").astype(np.float32)
    padded = np.pad(feats.log_chroma, ((0, extra), (0, 0)), mode="edge") * sounding[:, None]
    blocks = padded.reshape(count, factor, 12).mean(axis=1)
    silence = 1.0 - sounding.reshape(count, factor).mean(axis=1)
    if factor > 1:
        blocks = scipy.ndimage.uniform_filter1d(blocks, size=3, axis=0, mode="nearest")
    return with_silence(normalise_rows(blocks), silence)


def transpose(matrix: np.ndarray, semitones: int) -> np.ndarray:
    """Pitch-class features moved down by `semitones` (undoing a transposition up); a 13th
    (silence) column stays where it is."""
    moved = matrix.copy()
    moved[:, :12] = np.roll(matrix[:, :12], -semitones, axis=1)
    return moved
