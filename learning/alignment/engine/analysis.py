"""The analysis in one call: two recordings in, a time map and feedback out. No Django here:
the benchmark and the tests call it on generated audio, the task on decoded recordings."""

from __future__ import annotations

import ctypes
import dataclasses
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import aligner, audio, features, feedback, notes, pitch, timemap

# Stored with each result: a result from another version is recomputed.
# 2: late starts and early ends named; tempo from the map. 3: jumps (skips, pauses,
# repeats), boxes around a coarser path's flat runs, repeats named. +notes-1: wrong, missed
# and extra notes (engine/notes).
ALGORITHM = "mrdtw-3+notes-1"
MIN_SECONDS = 1.0


@dataclass(frozen=True)
class Result:
    aligned: bool
    reason: str = ""
    time_map: timemap.TimeMap | None = None
    confidence: float | None = None
    transposition: int = 0
    bands: list[dict] = field(default_factory=list)
    summary: dict = field(default_factory=dict)


def analyse(
    demo_audio: np.ndarray,
    reply_audio: np.ndarray,
    *,
    with_pitch: bool = True,
    notes_audio: tuple[np.ndarray, np.ndarray] | None = None,
) -> Result:
    """Align a reply to a demonstration (mono float32 at features.SAMPLE_RATE) and read
    timing and pitch feedback off the alignment; with `notes_audio` (the same two takes at
    notes.SAMPLE_RATE), wrong, missed and extra notes too."""
    for samples, who in ((demo_audio, "demonstration"), (reply_audio, "reply")):
        if len(samples) < MIN_SECONDS * features.SAMPLE_RATE or not np.any(samples):
            return Result(aligned=False, reason=f"The {who} has no sound to align.")
    alignment = aligner.align(demo_audio, reply_audio)
    if not alignment.trustworthy:
        return Result(
            aligned=False,
            reason=alignment.reason,
            confidence=round(alignment.confidence, 3),
            transposition=alignment.transposition,
        )
    demo_pitch = reply_pitch = None
    if with_pitch:
        demo_pitch, reply_pitch = _pitch_tracks(demo_audio, reply_audio, alignment)
    result = feedback.analyse(alignment, demo_pitch=demo_pitch, reply_pitch=reply_pitch)
    done = Result(
        aligned=True,
        time_map=timemap.from_path(alignment.path),
        confidence=round(alignment.confidence, 3),
        transposition=alignment.transposition,
        bands=result.bands,
        summary=result.summary,
    )
    return done if notes_audio is None else with_notes(done, *notes_audio)


def with_notes(result: Result, demo_audio, reply_audio) -> Result:
    """An aligned result with the wrong, missed and extra notes added (engine/notes), from
    the two takes at notes.SAMPLE_RATE (or their `notes.take_file`)."""
    note_bands, summary_notes, roll = notes.feedback(
        demo_audio,
        reply_audio,
        result.time_map,
        transposition=result.transposition,
        bands=result.bands,
    )
    bands = sorted(result.bands + note_bands, key=lambda band: (band["start_ms"], band["kind"]))
    summary = {**result.summary, "notes": summary_notes, "piano_roll": roll}
    return dataclasses.replace(result, bands=bands, summary=summary)


def _pitch_tracks(demo_audio, reply_audio, alignment):
    """Both takes' pitch tracks at once (the FFTs release the GIL: two cores), the reply's
    only kept, and only looked at, when the demonstration is monophonic."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        demo = pool.submit(pitch.track, demo_audio, silent=alignment.demo.silent)
        reply = pool.submit(pitch.track, reply_audio, silent=alignment.reply.silent)
        demo_pitch = demo.result()
        if not demo_pitch.monophonic:
            reply.cancel()
            return demo_pitch, None
        return demo_pitch, reply.result()


def analyse_files(demo_path: Path, reply_path: Path, *, timeout_s: float = 120.0) -> Result:
    # Both ffmpeg decodes at once: each is a process of its own.
    with ThreadPoolExecutor(max_workers=2) as pool:
        demo, reply = pool.map(
            lambda path: audio.decode(path, timeout_s=timeout_s), (demo_path, reply_path)
        )
    result = analyse(demo, reply)
    seconds = [len(samples) / features.SAMPLE_RATE for samples in (demo, reply)]
    del demo, reply
    _release_memory()
    if not result.aligned:
        return result
    # The notes after the alignment, its sound released first: the two peaks do not add up.
    # Each take is streamed from ffmpeg through the model, one after the other: only the
    # model's outputs are kept, not the sound at 22,050 Hz.
    try:
        demo_take = notes.take_file(demo_path, timeout_s=timeout_s, seconds_hint=seconds[0])
        reply_take = notes.take_file(reply_path, timeout_s=timeout_s, seconds_hint=seconds[1])
    finally:
        _after_notes()
    return with_notes(result, demo_take, reply_take)


def _release_memory() -> None:
    """Before the notes: give the alignment's freed heap back to the system (glibc keeps it,
    and the notes would add their peak on top of the alignment's), and have glibc map every
    buffer of 256 kB or more on its own, so that onnxruntime's window buffers go back to the
    system when a window is done, and share the existing heaps between threads instead of
    opening one per thread (each keeps what its thread freed). Measured on a 3-minute pair
    in a fresh process: the notes' share of the peak went from ~100 MB to ~60 MB
    (docs/alignment.md). glibc only; elsewhere nothing is done."""
    _mallopt(trim=True, arena_max=2, mmap_threshold=256 * 1024)


def _after_notes() -> None:
    """The notes' freed heap given back, and the next alignment's buffers up to 4 MB from the
    heap again (mapping each of its many FFT buffers costs about 0.1 s of system time per
    task); its large arrays stay mapped."""
    _mallopt(trim=True, mmap_threshold=4 * 1024 * 1024)


def _mallopt(*, trim: bool = False, arena_max: int = 0, mmap_threshold: int = 0) -> None:
    try:
        libc = ctypes.CDLL("libc.so.6")
        if trim:
            libc.malloc_trim(0)
        if arena_max:
            libc.mallopt(_M_ARENA_MAX, arena_max)
        if mmap_threshold:
            libc.mallopt(_M_MMAP_THRESHOLD, mmap_threshold)
    except (OSError, AttributeError):  # not glibc
        pass


_M_MMAP_THRESHOLD = -3  # glibc's malloc.h
_M_ARENA_MAX = -8
