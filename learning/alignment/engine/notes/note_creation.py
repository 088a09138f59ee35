"""Basic Pitch's model output -> note events, numpy and scipy only.

A port of `basic_pitch.note_creation` (Spotify's Basic Pitch 0.4.0, Apache License 2.0,
Copyright 2022 Spotify AB; see model/LICENSE and model/NOTICE): `output_to_notes_polyphonic`
with `get_infered_onsets`, `constrain_frequency` and `model_frames_to_time`, as
`basic_pitch.inference.predict` calls them (onset threshold 0.5, frame threshold 0.3,
minimum note length 127.7 ms, inferred onsets, the "melodia trick"). What the runtime may
not import is replaced: librosa's `frames_to_time` and `hz_to_midi` by their formulas;
pretty_midi and the pitch bends (only the MIDI file uses them) are left out.

One change that does not change the result: the melodia trick's "largest remaining
energy" is found from a per-frame maximum that is updated for the frames each step
clears, instead of a search of the whole matrix per step (the same cell wins: the first
frame holding the maximum, then the first pitch in it, as `np.argmax` picks). On a
3-minute piano take that is the difference between seconds and tens of milliseconds.

Another: the inferred onsets and their peaks are computed a few pitch columns at a time
(both work down the time axis only), so the float64 work arrays are a block's, not the
whole take's (about 50 MB less for 3 minutes); the same arithmetic, the same peaks in the
same order. `scipy.signal.argrelmax` is written out (scipy.signal pulls scipy.stats in).
"""

from __future__ import annotations

import numpy as np

AUDIO_SAMPLE_RATE = 22050
FFT_HOP = 256
ANNOTATIONS_FPS = AUDIO_SAMPLE_RATE // FFT_HOP  # 86
AUDIO_WINDOW_LENGTH = 2
ANNOT_N_FRAMES = ANNOTATIONS_FPS * AUDIO_WINDOW_LENGTH
AUDIO_N_SAMPLES = AUDIO_SAMPLE_RATE * AUDIO_WINDOW_LENGTH - FFT_HOP
MIDI_OFFSET = 21
MAX_FREQ_IDX = 87

ONSET_THRESHOLD = 0.5
FRAME_THRESHOLD = 0.3
MINIMUM_NOTE_LENGTH_MS = 127.70
ENERGY_TOL = 11


def min_note_frames(minimum_note_length_ms: float = MINIMUM_NOTE_LENGTH_MS) -> int:
    return int(np.round(minimum_note_length_ms / 1000 * (AUDIO_SAMPLE_RATE / FFT_HOP)))


def _hz_to_midi(hz: float) -> float:
    return 12.0 * (np.log2(hz) - np.log2(440.0)) + 69.0


def model_frames_to_time(n_frames: int) -> np.ndarray:
    original_times = np.arange(n_frames) * FFT_HOP / AUDIO_SAMPLE_RATE
    window_numbers = np.floor(np.arange(n_frames) / ANNOT_N_FRAMES)
    window_offset = (FFT_HOP / AUDIO_SAMPLE_RATE) * (
        ANNOT_N_FRAMES - (AUDIO_N_SAMPLES / FFT_HOP)
    ) + 0.0018  # Basic Pitch's own constant
    return original_times - (window_offset * window_numbers)


COLUMNS = 8  # pitch columns per block of the onset search


def _frame_diff(frames: np.ndarray, n_diff: int) -> np.ndarray:
    """Basic Pitch's frame difference (the smallest of the 1..n_diff-frame rises, float64,
    negatives and the first n_diff frames zeroed) of a block of columns."""
    frames = np.asarray(frames, dtype=np.float64)
    frame_diff = None
    for n in range(1, n_diff + 1):
        diff = frames.copy()
        diff[n:] -= frames[:-n]
        frame_diff = diff if frame_diff is None else np.minimum(frame_diff, diff, out=frame_diff)
        del diff
    frame_diff[frame_diff < 0] = 0
    frame_diff[:n_diff, :] = 0
    return frame_diff


def get_infered_onsets(
    onsets: np.ndarray,
    frames: np.ndarray,
    n_diff: int = 2,
    *,
    onset_max: float | None = None,
    peak: float | None = None,
) -> np.ndarray:
    """Onsets where the frame activation jumps, merged with the predicted ones. (The same
    float64 arithmetic as Basic Pitch's, a difference at a time instead of all at once.)
    For a block of columns, `onset_max` and `peak` are the whole take's largest onset and
    frame difference."""
    frame_diff = _frame_diff(frames, n_diff)
    if peak is None:
        peak = np.max(frame_diff)
    if onset_max is None:
        onset_max = np.max(onsets)
    if peak > 0:  # rescaled to the predicted onsets' maximum, in Basic Pitch's order
        frame_diff *= onset_max
        frame_diff /= peak
    return np.maximum(onsets, frame_diff, out=frame_diff)


def argrelmax0(data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`scipy.signal.argrelmax(data, axis=0)` of a 2-D array (order 1, mode "clip": the
    first and last rows are never peaks): (rows, columns) in row-major order."""
    if data.shape[0] < 3:
        return np.zeros(0, np.intp), np.zeros(0, np.intp)
    middle = data[1:-1]
    rows, columns = np.nonzero((middle > data[:-2]) & (middle > data[2:]))
    return rows + 1, columns


def onset_peaks(
    onsets: np.ndarray, frames: np.ndarray, onset_thresh: float, infer_onsets: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """(frames, pitch columns) of the onset peaks at or over `onset_thresh`, in Basic Pitch's
    order (row-major), computed COLUMNS pitch columns at a time."""
    n_columns = onsets.shape[1]
    blocks = [slice(low, min(low + COLUMNS, n_columns)) for low in range(0, n_columns, COLUMNS)]
    if infer_onsets:  # the whole take's maxima first, as Basic Pitch rescales by them
        onset_max = np.max(onsets)
        peak = max(np.max(_frame_diff(frames[:, block], 2)) for block in blocks)
    found_rows, found_columns = [], []
    for block in blocks:
        if infer_onsets:
            values = get_infered_onsets(
                onsets[:, block], frames[:, block], onset_max=onset_max, peak=peak
            )
        else:
            values = onsets[:, block]
        rows, columns = argrelmax0(values)
        strong = values[rows, columns] >= onset_thresh
        found_rows.append(rows[strong])
        found_columns.append(columns[strong] + block.start)
    rows, columns = np.concatenate(found_rows), np.concatenate(found_columns)
    order = np.lexsort((columns, rows))
    return rows[order], columns[order]


def constrain_frequency(onsets, frames, max_freq, min_freq):
    if max_freq is not None:
        max_freq_idx = int(np.round(_hz_to_midi(max_freq) - MIDI_OFFSET))
        onsets[:, max_freq_idx:] = 0
        frames[:, max_freq_idx:] = 0
    if min_freq is not None:
        min_freq_idx = int(np.round(_hz_to_midi(min_freq) - MIDI_OFFSET))
        onsets[:, :min_freq_idx] = 0
        frames[:, :min_freq_idx] = 0
    return onsets, frames


def _clear(energy: np.ndarray, i: int, freq_idx: int) -> None:
    energy[i, freq_idx] = 0
    if freq_idx < MAX_FREQ_IDX:
        energy[i, freq_idx + 1] = 0
    if freq_idx > 0:
        energy[i, freq_idx - 1] = 0


def output_to_notes_polyphonic(
    frames: np.ndarray,
    onsets: np.ndarray,
    onset_thresh: float = ONSET_THRESHOLD,
    frame_thresh: float = FRAME_THRESHOLD,
    min_note_len: int | None = None,
    infer_onsets: bool = True,
    max_freq: float | None = None,
    min_freq: float | None = None,
    melodia_trick: bool = True,
    energy_tol: int = ENERGY_TOL,
) -> list[tuple[int, int, int, float]]:
    """[(start_frame, end_frame, midi_pitch, amplitude)], as Basic Pitch decodes them."""
    if min_note_len is None:
        min_note_len = min_note_frames()
    frames = np.asarray(frames)
    onsets = np.asarray(onsets)
    n_frames = frames.shape[0]
    if n_frames == 0:
        return []
    if max_freq is not None or min_freq is not None:  # copies only when they are changed
        onsets, frames = constrain_frequency(onsets.copy(), frames.copy(), max_freq, min_freq)

    # Basic Pitch writes the peaks into a matrix of zeros and takes np.where of it: the same
    # cells in the same (row-major) order as the peaks themselves, filtered.
    rows, columns = onset_peaks(onsets, frames, onset_thresh, infer_onsets)
    onset_time_idx = rows[::-1]  # backwards in time
    onset_freq_idx = columns[::-1]

    # float32, as the model gives it: the same comparisons as Basic Pitch's float64 copy.
    remaining_energy = np.array(frames, dtype=np.float32)

    note_events = []
    for note_start_idx, freq_idx in zip(
        onset_time_idx.tolist(), onset_freq_idx.tolist(), strict=True
    ):
        if note_start_idx >= n_frames - 1:
            continue
        column = remaining_energy[:, freq_idx]
        i = note_start_idx + 1
        k = 0  # frames since the energy dropped below the threshold
        while i < n_frames - 1 and k < energy_tol:
            if column[i] < frame_thresh:
                k += 1
            else:
                k = 0
            i += 1
        i -= k  # back to the last frame above the threshold
        if i - note_start_idx <= min_note_len:
            continue
        remaining_energy[note_start_idx:i, freq_idx] = 0
        if freq_idx < MAX_FREQ_IDX:
            remaining_energy[note_start_idx:i, freq_idx + 1] = 0
        if freq_idx > 0:
            remaining_energy[note_start_idx:i, freq_idx - 1] = 0
        amplitude = np.mean(frames[note_start_idx:i, freq_idx])
        note_events.append((note_start_idx, i, freq_idx + MIDI_OFFSET, amplitude))

    if melodia_trick:
        row_max = remaining_energy.max(axis=1)
        while True:
            i_mid = int(np.argmax(row_max))
            if not row_max[i_mid] > frame_thresh:
                break
            freq_idx = int(np.argmax(remaining_energy[i_mid]))
            remaining_energy[i_mid, freq_idx] = 0

            i = i_mid + 1
            k = 0
            while i < n_frames - 1 and k < energy_tol:
                if remaining_energy[i, freq_idx] < frame_thresh:
                    k += 1
                else:
                    k = 0
                _clear(remaining_energy, i, freq_idx)
                i += 1
            touched_high = i  # rows [.., i) were cleared
            i_end = i - 1 - k

            i = i_mid - 1
            k = 0
            while i > 0 and k < energy_tol:
                if remaining_energy[i, freq_idx] < frame_thresh:
                    k += 1
                else:
                    k = 0
                _clear(remaining_energy, i, freq_idx)
                i -= 1
            touched_low = i + 1
            i_start = i + 1 + k

            low, high = min(touched_low, i_mid), max(touched_high, i_mid + 1)
            row_max[low:high] = remaining_energy[low:high].max(axis=1)

            if i_end - i_start <= min_note_len:
                continue
            amplitude = np.mean(frames[i_start:i_end, freq_idx])
            note_events.append((i_start, i_end, freq_idx + MIDI_OFFSET, amplitude))

    return note_events


def model_output_to_note_events(
    output: dict[str, np.ndarray],
) -> list[tuple[float, float, int, float]]:
    """[(start_s, end_s, midi_pitch, amplitude)] as `basic_pitch.inference.predict` gives
    them with its defaults (without the pitch bends)."""
    estimated = output_to_notes_polyphonic(output["note"], output["onset"])
    times_s = model_frames_to_time(output["note"].shape[0])
    return [
        (float(times_s[start]), float(times_s[end]), int(pitch), float(amplitude))
        for start, end, pitch, amplitude in estimated
    ]
