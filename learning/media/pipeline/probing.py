"""Probing: what an uploaded file really is, read from its content with PyAV (never from its
name or MIME type), and whether it is fit to process.

The probe demuxes the whole file once without decoding (fast: it only reads packet headers).
That one pass gives the real duration of browser recordings whose WebM header has none,
finds files cut short (an MP4 whose index promises more than the file holds), and decodes the
first frame of each stream to prove the codec is readable and to learn the video's rotation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import av.container
import av.error
import av.stream

from .errors import MediaLimitExceeded, MediaRejected

# Demuxers we accept (the first names of PyAV's `format.name`). Anything else, such as an
# image, a GIF, a PDF or text that some demuxer happens to recognise, is "not media".
ACCEPTED_DEMUXERS = frozenset(
    {"mov", "matroska", "wav", "w64", "mp3", "ogg", "flac", "aac", "avi", "mpegts", "caf"}
)

# A file whose packets end this much before the duration its index promises is truncated.
# Only containers whose duration comes from an index are judged: MP3 and ADTS headers give
# a bitrate estimate that VBR files miss by more than this, and they play fine.
INDEXED_DEMUXERS = frozenset({"mov", "matroska"})
TRUNCATION_TOLERANCE_S = 0.5
TRUNCATION_TOLERANCE_RATIO = 0.05

# FFmpeg's AVColorTransferCharacteristic values that mark HDR video (iPhones record HLG).
HDR_TRANSFERS = {16: "pq", 18: "hlg"}

# FFmpeg's AVFieldOrder: 0 unknown, 1 progressive, above that one of the interlaced orders.
FIELD_ORDER_PROGRESSIVE = 1

# Frame rates beyond this are time-base artefacts (a WebM's 1000 "fps"), not real rates.
MAX_PLAUSIBLE_FPS = 240.0

MESSAGE_EMPTY = "The file is empty."
MESSAGE_NOT_MEDIA = "This file is not a video or audio recording we can read."
MESSAGE_DAMAGED = (
    "This recording is incomplete or damaged (the upload may have been cut off). "
    "Please upload it again."
)
MESSAGE_NO_STREAMS = "This file has neither video nor audio in it."


@dataclass(frozen=True)
class MediaInfo:
    """What a media file holds: container, duration, and its first video and audio streams."""

    container: str  # short name: mp4, mov, m4a, webm, mkv, wav, mp3, ogg, flac, ...
    duration_s: float
    size_bytes: int
    has_video: bool
    has_audio: bool
    video_codec: str | None = None
    width: int | None = None  # coded size, before rotation
    height: int | None = None
    rotation: int = 0  # clockwise degrees a player turns the picture: 0, 90, 180 or 270
    pixel_aspect: float = 1.0  # sample aspect ratio; 1.0 for square pixels
    fps: float | None = None
    hdr: str | None = None  # "hlg" or "pq" for HDR video, which needs tone mapping; else None
    # What decides whether a browser can play the video stream as it is (see playability):
    video_profile: str | None = None  # "High", "Main", "Constrained Baseline", "High 4:4:4"...
    video_level: int | None = None  # H.264's level_idc: 31 is level 3.1; None if unknown
    pixel_format: str | None = None  # "yuv420p", "yuvj420p", "yuv420p10le", ...
    interlaced: bool = False
    audio_codec: str | None = None
    audio_profile: str | None = None  # "LC", "HE-AAC", ... for AAC
    sample_rate: int | None = None
    channels: int | None = None
    video_stream_index: int | None = None
    audio_stream_index: int | None = None

    @property
    def display_width(self) -> int | None:
        """Width as a viewer sees it: square pixels, rotation applied."""
        size = self._display_size()
        return size[0] if size else None

    @property
    def display_height(self) -> int | None:
        """Height as a viewer sees it: square pixels, rotation applied."""
        size = self._display_size()
        return size[1] if size else None

    @property
    def is_portrait(self) -> bool:
        """True when the picture is taller than wide once rotated."""
        size = self._display_size()
        return bool(size and size[1] > size[0])

    def _display_size(self) -> tuple[int, int] | None:
        if not (self.has_video and self.width and self.height):
            return None
        width = round(self.width * self.pixel_aspect)
        if self.rotation in (90, 270):
            return self.height, width
        return width, self.height


def probe(
    path: str | Path, *, max_duration_s: float | None = None, max_bytes: int | None = None
) -> MediaInfo:
    """Read what `path` holds and check it against the limits; raise MediaRejected if unfit."""
    path = Path(path)
    size = path.stat().st_size
    if size == 0:
        raise MediaRejected(MESSAGE_EMPTY, "empty")
    if max_bytes is not None and size > max_bytes:
        raise MediaLimitExceeded(
            f"This file is {format_bytes(size)}; the limit is {format_bytes(max_bytes)}.",
            "too_large",
        )
    with path.open("rb") as handle:
        head = handle.read(64)
    try:
        container = av.open(str(path), metadata_errors="replace")
    except av.error.FFmpegError as exc:
        raise _unreadable(head) from exc
    with container:
        declared_s = (container.duration or 0) / av.time_base
        if max_duration_s is not None and declared_s > 2 * max_duration_s:
            # Far too long by its own header: refuse before reading the whole file.
            raise _too_long(declared_s, max_duration_s)
        info = _inspect(container, head=head, size=size)
    if max_duration_s is not None and info.duration_s > max_duration_s:
        raise _too_long(info.duration_s, max_duration_s)
    return info


def _too_long(duration_s: float, max_duration_s: float) -> MediaLimitExceeded:
    return MediaLimitExceeded(
        f"This recording is {format_duration(duration_s)} long; "
        f"the limit is {format_duration(max_duration_s)}.",
        "too_long",
    )


def _inspect(container: av.container.InputContainer, *, head: bytes, size: int) -> MediaInfo:
    demuxer = container.format.name.split(",")[0]
    if demuxer not in ACCEPTED_DEMUXERS:
        raise MediaRejected(MESSAGE_NOT_MEDIA, "not_media")
    video = next(
        (
            stream
            for stream in container.streams.video
            # Cover art in an MP3 or M4A is a one-picture "video" stream: not a video.
            if not stream.disposition & av.stream.Disposition.attached_pic
        ),
        None,
    )
    audio = next(iter(container.streams.audio), None)
    if video is None and audio is None:
        raise MediaRejected(MESSAGE_NO_STREAMS, "no_streams")
    for stream in (video, audio):
        # PyAV leaves codec_context empty when this ffmpeg build has no decoder for it.
        if stream is not None and stream.codec_context is None:
            raise MediaRejected(
                "This recording uses a video or audio format we cannot convert.",
                "unsupported_codec",
            )
    scan = _scan(container, video=video, audio=audio)
    declared = container.duration / av.time_base if container.duration else None
    if demuxer in INDEXED_DEMUXERS and declared and scan.duration_s < declared - max(
        TRUNCATION_TOLERANCE_S, declared * TRUNCATION_TOLERANCE_RATIO
    ):
        raise MediaRejected(MESSAGE_DAMAGED, "damaged")
    duration = scan.duration_s or declared or 0.0
    if duration <= 0:
        raise MediaRejected(MESSAGE_DAMAGED, "damaged")
    return MediaInfo(
        container=_container_name(container, demuxer, head),
        duration_s=round(duration, 3),
        size_bytes=size,
        has_video=video is not None,
        has_audio=audio is not None,
        video_codec=video.codec_context.codec.canonical_name if video else None,
        width=video.codec_context.width if video else None,
        height=video.codec_context.height if video else None,
        rotation=scan.rotation,
        pixel_aspect=_pixel_aspect(video.sample_aspect_ratio) if video else 1.0,
        fps=_fps(video, scan) if video else None,
        hdr=scan.hdr,
        video_profile=video.codec_context.profile if video else None,
        video_level=_level(video.codec_context.level) if video else None,
        pixel_format=video.codec_context.pix_fmt if video else None,
        interlaced=bool(video and video.codec_context.field_order > FIELD_ORDER_PROGRESSIVE),
        audio_codec=audio.codec_context.codec.canonical_name if audio else None,
        audio_profile=audio.codec_context.profile if audio else None,
        sample_rate=audio.codec_context.sample_rate if audio else None,
        channels=audio.codec_context.channels if audio else None,
        video_stream_index=video.index if video else None,
        audio_stream_index=audio.index if audio else None,
    )


@dataclass
class _Scan:
    duration_s: float = 0.0
    rotation: int = 0
    hdr: str | None = None
    video_packets: int = 0
    video_span_s: float = 0.0


def _scan(
    container: av.container.InputContainer,
    *,
    video: av.stream.Stream | None,
    audio: av.stream.Stream | None,
) -> _Scan:
    """Demux every packet of the chosen streams; decode only until each yields a frame."""
    streams = [stream for stream in (video, audio) if stream is not None]
    pending = {stream.index for stream in streams}  # streams not yet proven decodable
    scan = _Scan()
    start = math.inf
    end = -math.inf
    video_start = math.inf
    video_end = -math.inf
    try:
        for packet in container.demux(streams):
            stream = packet.stream
            if packet.pts is not None and packet.time_base is not None:
                begin = float(packet.pts * packet.time_base)
                finish = float((packet.pts + (packet.duration or 0)) * packet.time_base)
                start, end = min(start, begin), max(end, finish)
                if stream is video:
                    scan.video_packets += 1
                    video_start, video_end = min(video_start, begin), max(video_end, finish)
            if stream.index in pending and _decodes(stream, packet, scan, video=video):
                pending.discard(stream.index)
    except av.error.FFmpegError as exc:
        raise MediaRejected(MESSAGE_DAMAGED, "damaged") from exc
    if pending:
        # A stream that never produced a frame cannot be converted: damaged or unreadable.
        raise MediaRejected(MESSAGE_DAMAGED, "damaged")
    if end > start:
        scan.duration_s = end - start
    if video_end > video_start:
        scan.video_span_s = video_end - video_start
    return scan


def _decodes(
    stream: av.stream.Stream, packet: av.Packet, scan: _Scan, *, video: av.stream.Stream | None
) -> bool:
    """Feed one packet to the stream's decoder; True once a frame comes out."""
    try:
        # A size-0 packet is the demuxer's end-of-stream flush: it drains the decoder.
        frames = packet.decode()
    except av.error.FFmpegError:
        # Recordings cut mid-GOP start with packets that need missing references; a later
        # keyframe may still decode. A stream that never does is refused after the scan.
        return False
    if not frames:
        return False
    if stream is video:
        # PyAV gives counter-clockwise degrees; phones and players speak clockwise.
        scan.rotation = round(-frames[0].rotation / 90) * 90 % 360
        scan.hdr = HDR_TRANSFERS.get(frames[0].color_trc)
    return True


def _fps(video: av.stream.Stream, scan: _Scan) -> float | None:
    for rate in (video.average_rate, video.guessed_rate):
        if rate and 0 < float(rate) <= MAX_PLAUSIBLE_FPS:
            return round(float(rate), 3)
    if scan.video_packets > 1 and scan.video_span_s > 0:
        return round(scan.video_packets / scan.video_span_s, 3)
    return None


def _level(level: int) -> int | None:
    return level if level > 0 else None  # FFmpeg says -99 when the stream names no level


def _pixel_aspect(ratio: Fraction | None) -> float:
    if not ratio or ratio <= 0:
        return 1.0
    return float(ratio)


def _container_name(container: av.container.InputContainer, demuxer: str, head: bytes) -> str:
    if demuxer == "mov":
        brand = container.metadata.get("major_brand", "").strip().lower()
        return {"qt": "mov", "m4a": "m4a"}.get(brand, "mp4")
    if demuxer == "matroska":
        # The EBML DocType says "webm" for WebM; PyAV does not expose it, the header does.
        return "webm" if b"webm" in head else "mkv"
    return demuxer


def _unreadable(head: bytes) -> MediaRejected:
    """The error for a file no demuxer could open: damaged if it starts like media."""
    if _looks_like_media(head):
        return MediaRejected(MESSAGE_DAMAGED, "damaged")
    return MediaRejected(MESSAGE_NOT_MEDIA, "not_media")


def _looks_like_media(head: bytes) -> bool:
    """Whether the first bytes carry a media container's signature (used for wording only)."""
    if head[4:8] in (b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip"):
        return True  # ISO base media: MP4, MOV, M4A
    signatures = (b"\x1a\x45\xdf\xa3", b"RIFF", b"ID3", b"OggS", b"fLaC", b"caff")
    if head.startswith(signatures):
        return True
    return len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0  # MPEG audio frame


def format_bytes(size: float) -> str:
    """A size the way people say it: 1.5 GB, 300 MB, 12 KB."""
    if size < 1000:
        return f"{int(size)} bytes"
    for unit in ("KB", "MB", "GB"):
        size /= 1000
        if size < 1000 or unit == "GB":
            break
    return f"{size:.1f}".removesuffix(".0") + f" {unit}"


def format_duration(seconds: float) -> str:
    """A duration the way people say it: 12 min 5 s, 45 s, 1 h 2 min."""
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours} h"] if hours else []
    if minutes:
        parts.append(f"{minutes} min")
    if secs or not parts:
        parts.append(f"{secs} s")
    return " ".join(parts[:2])
