"""Transcoding: from whatever a phone or browser sent to what every browser plays.

Video becomes one H.264/AAC MP4 of at most 720p (`+faststart`, so playback starts before the
download ends), named "720p". When the upload already is such a stream (playability decides,
from the probed content), its video and audio are copied into the new MP4 unchanged: no
re-encoding, no generation loss. Otherwise it is re-encoded. Audio-only input stays
audio-only (AAC in an M4A). A video also gets a JPEG poster; every file gets waveform peaks.

Each of these is ONE ffmpeg pass: the source is read and decoded once, and the rendition, the
poster (a frame picked from the decoded stream) and the waveform's PCM (on stdout) all come
out of it. A copy pass still decodes every frame, with `-xerror`: the probe only decodes the
first frame, and a stream damaged further in must not be served as it is; such a file is
re-encoded instead, which conceals the damage as for any other codec.

"720p" names the short side, as phones and YouTube do: a portrait phone video becomes
720x1280, not 406x720, so both orientations get the same pixel budget. Sources are never
upscaled. ffmpeg autorotates while decoding, so a rotated phone video comes out upright,
portrait stays portrait, and the outputs carry no rotation tag for a player to misapply.

No 360p rendition: nothing chose it (the pages and the compare page play "720p"), it cost
a third more encoding time and would make a copy pass three times as costly; see
docs/architecture.md for the figures and what would serve slow links instead.
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from .errors import MediaRejected, TranscodeFailed
from .playability import (
    MAX_AUDIO_CHANNELS,
    MAX_FPS,
    MAX_SAMPLE_RATE,
    SERVED_SHORT_SIDE,
    reencode_reasons,
)
from .probing import MediaInfo, probe
from .runner import run_ffmpeg
from .staging import remove_stale_parts, staged
from .waveform import Waveform, pcm_output_args, waveform_from_pcm, write_waveform

VIDEO_NAME = "720p"
VIDEO_CRF = 23
VIDEO_AUDIO_BITRATE = "128k"
AUDIO_ONLY_NAME = "audio.m4a"
AUDIO_ONLY_BITRATE = "160k"
POSTER_NAME = "poster.jpg"
WAVEFORM_NAME = "waveform.json"

# veryfast: superfast saved ~20% CPU for twice the bytes at the same CRF (measured here).
X264_PRESET = "veryfast"
KEYFRAME_INTERVAL_S = 2  # the compare page seeks and frame-steps; short GOPs keep that snappy

REENCODE_ASKED = "re-encode asked for"
REENCODE_DAMAGED = "the copy failed: decode errors past the first frame"

# HDR (BT.2020 HLG or PQ) to SDR BT.709, so colours are not washed out on ordinary screens.
# zscale resizes in the same step, so 4K phone video is tone-mapped at the output size.
ZSCALE_TRANSFERS = {"hlg": "arib-std-b67", "pq": "smpte2084"}
TONEMAP = (
    "zscale=w={w}:h={h}:filter=bicubic:tin={transfer}:pin=2020:min=2020_ncl:t=linear:npl=100,"
    "format=gbrpf32le,zscale=p=709,tonemap=hable:desat=0,zscale=t=709:m=709:r=tv,"
    "format=yuv420p,setsar=1"
)

POSTER_POSITION = 0.1  # of the duration: past a fade-in, still the opening of the take
POSTER_MAX_OFFSET_S = 10.0
POSTER_QUALITY = "3"  # mjpeg qscale: 2 is best, 31 worst


@dataclass(frozen=True)
class Rendition:
    """One playable output file and what it holds."""

    name: str  # "720p" or "audio"
    path: Path
    has_video: bool
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True)
class TranscodeResult:
    """Everything processing made for one source: renditions, poster and waveform."""

    renditions: tuple[Rendition, ...]
    poster: Path | None
    waveform: Waveform
    waveform_path: Path
    # Why the source was re-encoded; empty when its streams were copied as they were.
    reencode_reasons: tuple[str, ...] = ()

    @property
    def copied(self) -> bool:
        """True when the rendition holds the upload's own streams, not a re-encoding."""
        return not self.reencode_reasons

    @property
    def paths(self) -> tuple[Path, ...]:
        """Every file written, for uploading to storage."""
        poster = (self.poster,) if self.poster else ()
        return (*(r.path for r in self.renditions), *poster, self.waveform_path)

    def rendition(self, name: str) -> Rendition:
        """The rendition called `name` ("720p" or "audio")."""
        return next(r for r in self.renditions if r.name == name)


def transcode(
    source: str | Path,
    out_dir: str | Path,
    *,
    probe_result: MediaInfo,
    timeout_s: float | None = None,
    reencode: bool = False,
) -> TranscodeResult:
    """Write the rendition, poster and waveform of `source` into `out_dir`, replacing old ones.

    `reencode=True` re-encodes even a source that could be copied (benchmarks compare both).
    """
    source, out_dir = Path(source), Path(out_dir)
    info = probe_result
    out_dir.mkdir(parents=True, exist_ok=True)
    remove_stale_parts(out_dir)
    budget = timeout_s or 60 + 4 * info.duration_s
    poster: Path | None = None
    if not info.has_video:
        reasons: tuple[str, ...] = ("no video",)
        rendition, pcm = _audio_pass(source, out_dir, info=info, timeout_s=budget)
    else:
        reasons = (REENCODE_ASKED,) if reencode else reencode_reasons(info)
        try:
            rendition, poster, pcm = _video_pass(
                source, out_dir, info=info, copy=not reasons, timeout_s=budget
            )
        except TranscodeFailed:
            if reasons:
                raise
            # -xerror stopped the copy (damage past the first frame the probe decoded), or
            # the streams would not mux: re-encoding conceals damage, as for any codec.
            reasons = (REENCODE_DAMAGED,)
            rendition, poster, pcm = _video_pass(
                source, out_dir, info=info, copy=False, timeout_s=budget
            )
    waveform = waveform_from_pcm(pcm, probe_result=info)
    waveform_path = out_dir / WAVEFORM_NAME
    with staged(waveform_path) as temporary:
        write_waveform(waveform, temporary)
    return TranscodeResult(
        renditions=(rendition,),
        poster=poster,
        waveform=waveform,
        waveform_path=waveform_path,
        reencode_reasons=reasons,
    )


def scaled_size(width: int, height: int, *, short_side: int) -> tuple[int, int]:
    """Fit so the short side is at most `short_side`, never upscaling, both sides even."""
    short = min(width, height)
    target = min(short_side, short - short % 2)
    scale = target / short
    return _even(width * scale), _even(height * scale)


def _even(value: float) -> int:
    # H.264 in 4:2:0 needs even dimensions.
    return max(2, round(value / 2) * 2)


def _resize(info: MediaInfo, width: int, height: int) -> str:
    """The filter chain that brings a frame to `width` x `height`, 8-bit SDR, square pixels."""
    if info.hdr:
        return TONEMAP.format(w=width, h=height, transfer=ZSCALE_TRANSFERS[info.hdr])
    return f"scale={width}:{height}:flags=bicubic,setsar=1,format=yuv420p"


def _display_size(info: MediaInfo) -> tuple[int, int]:
    if info.display_width is None or info.display_height is None:
        raise TranscodeFailed("We could not read the picture size of this video.", "no_size")
    return info.display_width, info.display_height


def _video_pass(
    source: Path, out_dir: Path, *, info: MediaInfo, copy: bool, timeout_s: float
) -> tuple[Rendition, Path, bytes]:
    """One ffmpeg run: the MP4 (streams copied or re-encoded), the poster and the PCM."""
    width, height = scaled_size(*_display_size(info), short_side=SERVED_SHORT_SIDE)
    offset = min(info.duration_s * POSTER_POSITION, POSTER_MAX_OFFSET_S)
    # Frame 0, then the first frame at the offset overwrites it (`-update 1`): a video track
    # that ends before the offset (a title card over a long take) still gets a poster, and an
    # output that received no frame at all would fail the whole pass.
    pick = f"select='eq(n,0)+gte(t,{offset:.3f})'"
    stream = f"0:{info.video_stream_index}"
    if copy:
        # The poster branch decodes; the null output makes every frame decode, so -xerror
        # sees damage anywhere in the stream.
        graph = f"[{stream}]{pick},{_resize(info, width, height)}[poster]"
        video = ["-map", stream, "-c:v", "copy"]
        audio = ["-c:a", "copy"]
        checks = ["-map", stream, "-f", "null", "-"]
    else:
        fps = f"fps={MAX_FPS}," if info.fps and info.fps > MAX_FPS else ""
        graph = (
            f"[{stream}]{fps}{_resize(info, width, height)},split=2[video][frames];"
            f"[frames]{pick},scale[poster]"  # its own scaler: the JPEG wants full range
        )
        video = ["-map", "[video]", *_x264_args(VIDEO_CRF)]
        audio = _aac_args(info, VIDEO_AUDIO_BITRATE)
        checks = []
    final = out_dir / f"{VIDEO_NAME}.mp4"
    poster_final = out_dir / POSTER_NAME
    with ExitStack() as stack:
        temporary = stack.enter_context(staged(final))
        poster = stack.enter_context(staged(poster_final))
        args = [*(["-xerror"] if copy else []), "-i", str(source), "-filter_complex", graph]
        args += video
        if info.has_audio:
            args += ["-map", f"0:{info.audio_stream_index}", *audio]
        args += _mp4_args(temporary)
        args += ["-map", "[poster]", *_poster_args(poster), *checks]
        if info.has_audio:
            args += pcm_output_args(info)
        pcm = run_ffmpeg(
            args, timeout_s=timeout_s, failure_message="We could not convert this video."
        )
        _check_output(temporary, has_video=True, has_audio=info.has_audio)
        if not (poster.exists() and poster.stat().st_size > 0):
            raise TranscodeFailed("We could not take a picture from this video.", "no_poster")
    rendition = Rendition(name=VIDEO_NAME, path=final, has_video=True, width=width, height=height)
    return rendition, poster_final, pcm


def _audio_pass(
    source: Path, out_dir: Path, *, info: MediaInfo, timeout_s: float
) -> tuple[Rendition, bytes]:
    final = out_dir / AUDIO_ONLY_NAME
    with staged(final) as temporary:
        pcm = run_ffmpeg(
            [
                "-i", str(source),
                "-map", f"0:{info.audio_stream_index}",
                *_aac_args(info, AUDIO_ONLY_BITRATE),
                *_mp4_args(temporary),
                *pcm_output_args(info),
            ],
            timeout_s=timeout_s,
            failure_message="We could not convert this recording.",
        )
        _check_output(temporary, has_video=False, has_audio=True)
    return Rendition(name="audio", path=final, has_video=False), pcm


def _poster_args(temporary: Path) -> list[str]:
    return [
        "-frames:v", "2", "-c:v", "mjpeg", "-q:v", POSTER_QUALITY,
        "-f", "image2", "-update", "1", "-y", str(temporary),
    ]


def _x264_args(crf: int) -> list[str]:
    return [
        "-c:v", "libx264", "-preset", X264_PRESET, "-crf", str(crf),
        "-profile:v", "high", "-pix_fmt", "yuv420p",
        "-force_key_frames", f"expr:gte(t,n_forced*{KEYFRAME_INTERVAL_S})",
        # Keep the source's timestamps: browser WebM reports a 1000 fps time base, and a
        # constant-rate output would duplicate frames to fill it.
        "-fps_mode", "vfr",
    ]


def _aac_args(info: MediaInfo, bitrate: str) -> list[str]:
    args = ["-c:a", "aac", "-b:a", bitrate]
    if info.channels and info.channels > MAX_AUDIO_CHANNELS:
        args += ["-ac", str(MAX_AUDIO_CHANNELS)]
    if info.sample_rate and info.sample_rate > MAX_SAMPLE_RATE:
        args += ["-ar", str(MAX_SAMPLE_RATE)]
    return args


def _mp4_args(temporary: Path) -> list[str]:
    # The temporary name does not end in .mp4, so the muxer is named; the source's metadata
    # and chapters are dropped (they may hold a phone's GPS position).
    return [
        "-map_metadata", "-1", "-map_chapters", "-1",
        "-movflags", "+faststart", "-f", "mp4", "-y", str(temporary),
    ]


def _check_output(path: Path, *, has_video: bool, has_audio: bool) -> None:
    """Refuse to publish an output that does not probe as the streams we asked for."""
    try:
        result = probe(path)
    except MediaRejected as exc:
        # Our own output failing to probe is our failure, not a verdict on the upload.
        raise TranscodeFailed("We could not convert this recording.", "bad_output") from exc
    if result.has_video != has_video or result.has_audio != has_audio:
        raise TranscodeFailed("We could not convert this recording.", "bad_output")
