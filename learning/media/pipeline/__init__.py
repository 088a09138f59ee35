"""The media pipeline: pure functions from an uploaded file on disk to playable outputs.

No Django, no storage, no database here (an import-linter contract): paths go in, frozen
dataclasses come out, and every failure is a `MediaError` with a `code` and a message for
the person who uploaded the file. learning.media.services (run by the Celery task in
learning.media.tasks) fetches the upload to a scratch directory, calls these
stages in order, pushes the outputs to storage and moves the media file through its states:

    awaiting upload  the browser has a presigned request; nothing to process yet
    uploaded         the object is in storage; the task is queued
    processing       the task runs the stages below
        1. probe(path, max_duration_s=..., max_bytes=...) -> MediaInfo
           Reads the content with PyAV, never the name or MIME type. Empty, not media,
           truncated or damaged, no audio and no video, too large or too long: each raises
           MediaRejected (permanent) within seconds, before any transcoding starts.
        2. transcode(path, out_dir, probe_result=info) -> TranscodeResult
           One ffmpeg pass makes a <= 720p H.264/AAC MP4 with faststart (audio-only input:
           one AAC .m4a), a JPEG poster (video only) and the waveform's PCM. An upload that
           already suits browsers (playability.reencode_reasons is empty) has its streams
           copied, not re-encoded; that pass still decodes every frame to prove them sound.
           Outputs are staged under temporary names and renamed into place, so a killed
           worker never leaves a finished-looking half file, and a rerun overwrites the
           same set of names (idempotent).
    ready            every output is stored; the pages can play and draw the timeline
    failed           a MediaError was raised: its message is shown, the uploader may retry.
                     Only errors with `transient = True` (timeouts) are worth a task retry.
"""

from .errors import (
    MediaError,
    MediaLimitExceeded,
    MediaRejected,
    ProcessingTimeout,
    TranscodeFailed,
)
from .playability import reencode_reasons
from .probing import MediaInfo, format_bytes, format_duration, probe
from .transcoding import Rendition, TranscodeResult, scaled_size, transcode
from .waveform import Waveform, waveform_peaks

__all__ = [
    "MediaError",
    "MediaInfo",
    "MediaLimitExceeded",
    "MediaRejected",
    "ProcessingTimeout",
    "Rendition",
    "TranscodeFailed",
    "TranscodeResult",
    "Waveform",
    "format_bytes",
    "format_duration",
    "probe",
    "reencode_reasons",
    "scaled_size",
    "transcode",
    "waveform_peaks",
]
