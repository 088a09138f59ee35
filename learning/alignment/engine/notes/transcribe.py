"""Audio -> notes with Spotify's Basic Pitch model (ICASSP 2022), run on CPU by onnxruntime.

The model file is vendored (model/nmp.onnx, from the basic-pitch 0.4.0 wheel, Apache
License 2.0; model/LICENSE and model/NOTICE beside it; a test checks it is byte-for-byte the
wheel's). The framing is `basic_pitch.inference.run_inference`'s: 22,050 Hz mono, half an
overlap of zeros in front, windows of 43,844 samples every 36,164 (30 model frames of
overlap), 15 frames cut from each side of every window's output, the whole trimmed to the
input's length. onnxruntime is imported when notes are first computed, not with the
engine, and runs on two threads (the worker's two cores).

The sound may come as a stream of chunks (`model_output_stream`, from ffmpeg): each window is
run as soon as its samples are in, and only the model's outputs are kept (a few MB for
3 minutes), so a take's memory does not grow with its sound.
"""

from __future__ import annotations

import collections
import functools
import os
import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from math import gcd
from pathlib import Path

import numpy as np

from . import note_creation as nc

MODEL_PATH = Path(__file__).resolve().parent / "model" / "nmp.onnx"
SAMPLE_RATE = nc.AUDIO_SAMPLE_RATE
N_OVERLAPPING_FRAMES = 30
OVERLAP_LEN = N_OVERLAPPING_FRAMES * nc.FFT_HOP
HOP_SIZE = nc.AUDIO_N_SAMPLES - OVERLAP_LEN
THREADS = int(os.environ.get("PRACTIKA_NOTES_THREADS", "2"))
# Windows run one per call: on this model a batch is slower per window than single runs
# (measured 0.05 s single against 0.10-0.13 s per window in batches of 8-32, 2 threads).
_INPUT = "serving_default_input_2:0"
_OUTPUTS = ("StatefulPartitionedCall:1", "StatefulPartitionedCall:2", "StatefulPartitionedCall:0")
NAMES = ("note", "onset", "contour")
NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")


@dataclass(frozen=True)
class Note:
    start_s: float
    end_s: float
    pitch: int  # MIDI number
    amplitude: float

    @property
    def name(self) -> str:
        return note_name(self.pitch)


def note_name(pitch: int) -> str:
    """MIDI 60 -> "C4", 66 -> "F#4"."""
    return f"{NOTE_NAMES[pitch % 12]}{pitch // 12 - 1}"


_lock = threading.Lock()


@functools.cache
def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="notes")


@functools.cache
def _session():
    import onnxruntime  # ~0.3 s and 40 MB: only when notes are computed

    options = onnxruntime.SessionOptions()
    # One thread per run, THREADS windows run at once (`_pool`): no barrier per operator
    # between two threads, which stalls whenever one of them is descheduled on a busy machine.
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    # No arena: each window's buffers are freed after its run (and, as `analyse_files` has
    # glibc map them on their own, go back to the system) instead of kept in a pool.
    options.enable_cpu_mem_arena = False
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return onnxruntime.InferenceSession(
        str(MODEL_PATH), options, providers=["CPUExecutionProvider"]
    )


def resample(samples: np.ndarray, rate: int) -> np.ndarray:
    """Mono float32 at the model's 22,050 Hz (polyphase, scipy's Kaiser window)."""
    samples = np.asarray(samples, dtype=np.float32)
    if samples.ndim == 2:  # (channels, samples) or (samples, channels): the mean is mono
        samples = samples.mean(axis=0 if samples.shape[0] < samples.shape[1] else 1)
    if rate == SAMPLE_RATE:
        return samples
    divisor = gcd(int(rate), SAMPLE_RATE)
    up, down = SAMPLE_RATE // divisor, int(rate) // divisor
    import scipy.signal  # not with the engine: it pulls scipy.stats in (50 MB, 0.3 s)

    return scipy.signal.resample_poly(samples, up, down).astype(np.float32)


def windows(audio: np.ndarray) -> np.ndarray:
    """(n_windows, AUDIO_N_SAMPLES, 1) as Basic Pitch frames them."""
    return np.concatenate([window(audio, row) for row in range(window_count(audio))])


def window_count(audio: np.ndarray) -> int:
    return len(range(0, len(audio) + OVERLAP_LEN // 2, HOP_SIZE))


def window(audio: np.ndarray, row: int) -> np.ndarray:
    """Window `row` (1, AUDIO_N_SAMPLES, 1): the audio after OVERLAP_LEN / 2 zeros, from
    row * HOP_SIZE on, zero-padded at the end; made when it is run, not all kept at once."""
    out = np.zeros((1, nc.AUDIO_N_SAMPLES, 1), dtype=np.float32)
    start = row * HOP_SIZE - OVERLAP_LEN // 2  # in the audio's own samples
    first = max(0, start)
    chunk = audio[first : start + nc.AUDIO_N_SAMPLES]
    out[0, first - start : first - start + len(chunk), 0] = chunk
    return out


def unwrap(output: np.ndarray, original_length: int) -> np.ndarray:
    n_olap = N_OVERLAPPING_FRAMES // 2
    output = output[:, n_olap:-n_olap, :]
    n_frames = int(np.floor(original_length * (nc.ANNOTATIONS_FPS / SAMPLE_RATE)))
    return output.reshape(-1, output.shape[2])[:n_frames, :]


def model_output(audio: np.ndarray, *, with_contour: bool = False) -> dict[str, np.ndarray]:
    """The model's note, onset (and contour) activations, (frames, 88) at ~86 per second,
    for mono float32 audio at 22,050 Hz."""
    audio = np.asarray(audio, dtype=np.float32)
    output, _ = model_output_stream([audio], with_contour=with_contour, samples_hint=len(audio))
    return output


def model_output_stream(
    chunks: Iterable[np.ndarray], *, with_contour: bool = False, samples_hint: int = 0
) -> tuple[dict[str, np.ndarray], int]:
    """`model_output` for sound that comes in chunks (mono float32 at 22,050 Hz, any
    lengths): each window runs once its samples are in; only the outputs are kept, written
    into arrays made for `samples_hint` samples (grown if the sound is longer), so that no
    copy of the whole is made at the end. Returns the outputs and the number of samples."""
    session = _session()
    wanted = list(_OUTPUTS if with_contour else _OUTPUTS[:2])
    n_olap = N_OVERLAPPING_FRAMES // 2
    rows_per_window = nc.ANNOT_N_FRAMES - N_OVERLAPPING_FRAMES
    capacity = (len(range(0, samples_hint + OVERLAP_LEN // 2, HOP_SIZE)) + 1) * rows_per_window
    kept = [np.empty((capacity, 88), dtype=np.float32) for _ in wanted]
    filled = 0

    def run(frame: np.ndarray) -> list[np.ndarray]:
        # The overlap cut off at once: only the frames kept stay in memory.
        return [out[0, n_olap:-n_olap, :].copy() for out in session.run(wanted, {_INPUT: frame})]

    def collect(outs: list[np.ndarray]) -> None:
        nonlocal filled
        if filled + rows_per_window > len(kept[0]):  # longer than the hint: grown by half
            more = max(len(kept[0]) // 2, 16 * rows_per_window)
            kept[:] = [np.concatenate([part, np.empty((more, 88), np.float32)]) for part in kept]
        for part, out in zip(kept, outs, strict=True):
            part[filled : filled + len(out)] = out
        filled += rows_per_window

    with _lock:  # one take at a time per process: its windows use the cores
        pending: collections.deque = collections.deque()
        submit = _pool().submit if THREADS > 1 else None
        count = [0]  # samples read, updated by _frames
        for frame in _frames(chunks, count):
            if submit is None:
                collect(run(frame))
                continue
            pending.append(submit(run, frame))
            while len(pending) > 2 * THREADS:  # a few windows in flight, not the whole take
                collect(pending.popleft().result())
        while pending:
            collect(pending.popleft().result())
    total = count[0]
    n_frames = int(np.floor(total * (nc.ANNOTATIONS_FPS / SAMPLE_RATE)))
    output = {name: part[: min(n_frames, filled)] for name, part in zip(NAMES, kept, strict=False)}
    return output, total


def _frames(chunks: Iterable[np.ndarray], count: list[int]):
    """The windows (1, AUDIO_N_SAMPLES, 1) that `window(audio, row)` cuts from the whole
    sound, from its chunks; the samples before the next window are dropped as it goes.
    `count[0]` is the number of samples read."""
    half = OVERLAP_LEN // 2
    buffer = np.zeros(half, dtype=np.float32)  # the padded sound from padded index `base` on
    base = 0
    row = 0
    total = 0
    for chunk in chunks:
        chunk = np.asarray(chunk, dtype=np.float32).reshape(-1)
        total += len(chunk)
        count[0] = total
        buffer = np.concatenate([buffer, chunk]) if len(buffer) else chunk.copy()
        while (row * HOP_SIZE - base) + nc.AUDIO_N_SAMPLES <= len(buffer):
            start = row * HOP_SIZE - base
            frame = buffer[start : start + nc.AUDIO_N_SAMPLES].reshape(1, -1, 1).copy()
            row += 1
            yield frame
            drop = row * HOP_SIZE - base
            buffer, base = buffer[drop:], base + drop
    # The last windows, zero-padded at the end (while a window starts inside the sound).
    while row * HOP_SIZE < half + total:
        frame = np.zeros((1, nc.AUDIO_N_SAMPLES, 1), dtype=np.float32)
        start = row * HOP_SIZE - base
        tail = buffer[start : start + nc.AUDIO_N_SAMPLES]
        frame[0, : len(tail), 0] = tail
        row += 1
        yield frame


def notes_from_output(output: dict[str, np.ndarray]) -> list[Note]:
    return [Note(*event) for event in nc.model_output_to_note_events(output)]


def transcribe(audio: np.ndarray, rate: int = SAMPLE_RATE) -> tuple[list[Note], dict]:
    """Notes of a take (sorted by start) and the model's activations they came from."""
    output = model_output(resample(audio, rate))
    return sorted_notes(output), output


def transcribe_stream(
    chunks: Iterable[np.ndarray], *, samples_hint: int = 0
) -> tuple[list[Note], dict]:
    """`transcribe` for sound at 22,050 Hz that comes in chunks (from ffmpeg), about
    `samples_hint` samples long (the outputs' arrays are made for that)."""
    output, _ = model_output_stream(chunks, samples_hint=samples_hint)
    return sorted_notes(output), output


def sorted_notes(output: dict[str, np.ndarray]) -> list[Note]:
    return sorted(notes_from_output(output), key=lambda n: (n.start_s, n.pitch))
