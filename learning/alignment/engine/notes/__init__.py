"""Wrong, missed and extra notes (issue 14): both takes transcribed with Spotify's Basic Pitch
model (onnxruntime, CPU) and compared through the alignment's time map.

* `transcribe`     the model's framing at 22,050 Hz and its notes (onnxruntime loads lazily)
* `note_creation`  Basic Pitch's note decoding, ported to numpy/scipy
* `compare`        the two takes' notes through the time map: wrong, missed, extra

`analysis.analyse` calls `feedback(...)` once the alignment is trusted; it returns the bands
(kinds `wrong_note`, `missed_note`, `extra_note`), the summary's `notes` counts and the
piano roll (`summary["piano_roll"]`). Importing this package loads no model.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from .. import timemap
from . import compare as _compare
from . import transcribe as _transcribe

SAMPLE_RATE = _transcribe.SAMPLE_RATE
KINDS = _compare.KINDS
EXAMPLES = 4
# Bands whose passage is not judged note by note: the demonstration's side, the reply's side.
_DEMO_SKIP = ("missing", "early_end")
_REPLY_SKIP = ("extra", "late_start")


def _ffmpeg_args(path: str | Path) -> list[str]:
    return [
        *("-i", str(path), "-vn", "-map", "0:a:0?", "-ac", "1"),
        *("-ar", str(SAMPLE_RATE), "-f", "f32le", "-c:a", "pcm_f32le", "pipe:1"),
    ]


_UNREADABLE = "We could not read the sound of this recording."


def decode(path: str | Path, *, timeout_s: float = 120.0) -> np.ndarray:
    """Mono float32 at the model's 22,050 Hz, from the bundled ffmpeg."""
    from learning.media.pipeline.runner import run_ffmpeg

    pcm = run_ffmpeg(_ffmpeg_args(path), timeout_s=timeout_s, failure_message=_UNREADABLE)
    return np.frombuffer(pcm, dtype="<f4")  # read-only, on ffmpeg's buffer: no copy


def decode_chunks(path: str | Path, *, timeout_s: float = 120.0) -> Iterator[np.ndarray]:
    """The same samples as `decode`, in chunks as ffmpeg writes them (none of them kept)."""
    from learning.media.pipeline.runner import stream_ffmpeg

    rest = b""
    for data in stream_ffmpeg(_ffmpeg_args(path), timeout_s=timeout_s, failure_message=_UNREADABLE):
        data = rest + data if rest else data
        whole = len(data) - len(data) % 4  # a pipe read may end inside a sample
        rest = data[whole:]
        if whole:
            yield np.frombuffer(data, dtype="<f4", count=whole // 4)


_recent: dict[bytes, _compare.Take] = {}
RECENT = 2  # a worker aligns the replies of one demonstration in turn: its notes are kept


def _remember(key: bytes, found: _compare.Take) -> _compare.Take:
    _recent[key] = found
    while len(_recent) > RECENT:
        _recent.pop(next(iter(_recent)))
    return found


def take(audio: np.ndarray, rate: int = SAMPLE_RATE) -> _compare.Take:
    """A take's notes and activations; the last RECENT takes' are kept by content."""
    audio = np.ascontiguousarray(audio, dtype=np.float32)
    key = hashlib.blake2b(audio.tobytes(), digest_size=16).digest() + rate.to_bytes(4, "little")
    if key in _recent:
        return _recent[key]
    notes, output = _transcribe.transcribe(audio, rate)
    return _remember(key, _compare.Take.of(notes, output))


def take_file(
    path: str | Path, *, timeout_s: float = 120.0, seconds_hint: float = 0.0
) -> _compare.Take:
    """A recording's notes and activations, its sound streamed from ffmpeg through the model
    window by window (only the model's outputs are kept, in arrays made for `seconds_hint`
    of sound); the last RECENT takes' are kept by the file's content."""
    digest = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as source:
        while block := source.read(1 << 20):
            digest.update(block)
    key = digest.digest() + b"file"
    if key in _recent:
        return _recent[key]
    notes, output = _transcribe.transcribe_stream(
        decode_chunks(path, timeout_s=timeout_s), samples_hint=int(seconds_hint * SAMPLE_RATE)
    )
    output.pop("onset")  # the notes are decoded: only the note activation is compared
    return _remember(key, _compare.Take.of(notes, output))


def feedback(
    demo_audio: np.ndarray | _compare.Take,
    reply_audio: np.ndarray | _compare.Take,
    time_map: timemap.TimeMap,
    *,
    transposition: int = 0,
    bands: list[dict] = (),
    rate: int = SAMPLE_RATE,
) -> tuple[list[dict], dict, dict]:
    """(note bands, summary["notes"], piano roll) for two takes (their sound at `rate`, or
    their `take_file`) and their time map."""
    skip_demo = [
        (b["start_ms"] / 1000, b["end_ms"] / 1000) for b in bands if b["kind"] in _DEMO_SKIP
    ]
    skip_reply = [
        (b["reply_start_ms"] / 1000, b["reply_end_ms"] / 1000)
        for b in bands
        if b["kind"] in _REPLY_SKIP
    ]
    result = _compare.compare(
        demo_audio if isinstance(demo_audio, _compare.Take) else take(demo_audio, rate),
        reply_audio if isinstance(reply_audio, _compare.Take) else take(reply_audio, rate),
        time_map,
        transposition=transposition,
        skip_demo=skip_demo,
        skip_reply=skip_reply,
    )
    note_bands = [
        {
            "kind": error["kind"],
            "start_ms": error["at_ms"],
            "end_ms": max(error["end_ms"], error["at_ms"] + 150),
            "reply_start_ms": error["reply_ms"],
            "reply_end_ms": max(error["reply_end_ms"], error["reply_ms"] + 150),
            "message": _compare.message(error),
            **{key: error[key] for key in ("note", "played_note") if key in error},
        }
        for error in result.errors
    ]
    counts = {kind: sum(e["kind"] == kind for e in result.errors) for kind in KINDS}
    summary = {
        "checked": True,
        "demo_notes": result.demo_notes,
        "reply_notes": result.reply_notes,
        "wrong": counts["wrong_note"],
        "missed": counts["missed_note"],
        "extra": counts["extra_note"],
        # The first few, for the teacher's summary in words.
        "examples": [
            {"kind": band["kind"], "at_ms": band["start_ms"], "message": band["message"]}
            for band in note_bands[:EXAMPLES]
        ],
    }
    roll = {**result.roll, "errors": result.errors}
    return note_bands, summary, roll
