"""Transcoding: from whatever a phone or browser sent to what every browser plays.

Video becomes two H.264/AAC MP4 renditions (720p and 360p, `+faststart` so playback starts
before the download ends) made in ONE ffmpeg pass: the source is decoded once, scaled to 720p,
and split to a second scaler for 360p. Audio-only input stays audio-only (AAC in an M4A).
A video also gets a JPEG poster; every file gets waveform peaks for the timeline.

"720p" names the short side, as phones and YouTube do: a portrait phone video becomes
720x1280, not 406x720, so both orientations get the same pixel budget. Sources are never
upscaled. ffmpeg autorotates while decoding, so a rotated phone video comes out upright,
portrait stays portrait, and the outputs carry no rotation tag for a player to misapply.
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from .errors import MediaRejected, TranscodeFailed
from .probing import MediaInfo, probe
from .runner import run_ffmpeg
from .staging import remove_stale_parts, staged
from .waveform import Waveform, waveform_peaks, write_waveform

# Short side of each video rendition, with the x264 quality and AAC bitrate it gets.
VIDEO_RENDITIONS = (
    ("720p", 720, 23, "128k"),
    ("360p", 360, 27, "96k"),
)
AUDIO_ONLY_NAME = "audio.m4a"
AUDIO_ONLY_BITRATE = "160k"
POSTER_NAME = "poster.jpg"
WAVEFORM_NAME = "waveform.json"

X264_PRESET = "veryfast"  # measured 4.9x real time for 720p + 360p on 2 cores
KEYFRAME_INTERVAL_S = 2  # the compare page seeks and frame-steps; short GOPs keep that snappy
MAX_FPS = 60
MAX_AUDIO_CHANNELS = 2
MAX_SAMPLE_RATE = 48000

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

    name: str  # "720p", "360p" or "audio"
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

    @property
    def paths(self) -> tuple[Path, ...]:
        """Every file written, for uploading to storage."""
        poster = (self.poster,) if self.poster else ()
        return (*(r.path for r in self.renditions), *poster, self.waveform_path)

    def rendition(self, name: str) -> Rendition:
        """The rendition called `name` ("720p", "360p" or "audio")."""
        return next(r for r in self.renditions if r.name == name)


def transcode(
    source: str | Path,
    out_dir: str | Path,
    *,
    probe_result: MediaInfo,
    timeout_s: float | None = None,
) -> TranscodeResult:
    """Write renditions, poster and waveform for `source` into `out_dir`, replacing old ones."""
    source, out_dir = Path(source), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    remove_stale_parts(out_dir)
    budget = timeout_s or 60 + 4 * probe_result.duration_s
    if probe_result.has_video:
        renditions = _video_renditions(source, out_dir, info=probe_result, timeout_s=budget)
        poster: Path | None = _poster(source, out_dir, info=probe_result, timeout_s=budget)
    else:
        renditions = (_audio_rendition(source, out_dir, info=probe_result, timeout_s=budget),)
        poster = None
    waveform = waveform_peaks(source, probe_result=probe_result, timeout_s=budget)
    waveform_path = out_dir / WAVEFORM_NAME
    with staged(waveform_path) as temporary:
        write_waveform(waveform, temporary)
    return TranscodeResult(
        renditions=renditions, poster=poster, waveform=waveform, waveform_path=waveform_path
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


def _video_renditions(
    source: Path, out_dir: Path, *, info: MediaInfo, timeout_s: float
) -> tuple[Rendition, ...]:
    width, height = _display_size(info)
    sizes = [scaled_size(width, height, short_side=short) for _, short, _, _ in VIDEO_RENDITIONS]
    # Scale once to the largest size, then split: the 360p scaler reads 720p frames, not 4K.
    fps = f"fps={MAX_FPS}," if info.fps and info.fps > MAX_FPS else ""
    (w1, h1), (w2, h2) = sizes
    graph = (
        f"[0:{info.video_stream_index}]{fps}{_resize(info, w1, h1)},split=2[v0][s];"
        f"[s]scale={w2}:{h2}:flags=bicubic,setsar=1[v1]"
    )
    args = ["-i", str(source), "-filter_complex", graph]
    renditions = []
    with ExitStack() as stack:
        temporaries = []
        for index, ((name, _, crf, audio_bitrate), (w, h)) in enumerate(
            zip(VIDEO_RENDITIONS, sizes, strict=True)
        ):
            final = out_dir / f"{name}.mp4"
            temporary = stack.enter_context(staged(final))
            temporaries.append(temporary)
            args += ["-map", f"[v{index}]"]
            args += _x264_args(crf)
            if info.has_audio:
                args += ["-map", f"0:{info.audio_stream_index}", *_aac_args(info, audio_bitrate)]
            args += _mp4_args(temporary)
            renditions.append(Rendition(name=name, path=final, has_video=True, width=w, height=h))
        run_ffmpeg(
            args, timeout_s=timeout_s, failure_message="We could not convert this video."
        )
        for temporary in temporaries:
            _check_output(temporary, has_video=True, has_audio=info.has_audio)
    return tuple(renditions)


def _audio_rendition(
    source: Path, out_dir: Path, *, info: MediaInfo, timeout_s: float
) -> Rendition:
    final = out_dir / AUDIO_ONLY_NAME
    with staged(final) as temporary:
        run_ffmpeg(
            [
                "-i", str(source),
                "-map", f"0:{info.audio_stream_index}",
                *_aac_args(info, AUDIO_ONLY_BITRATE),
                *_mp4_args(temporary),
            ],
            timeout_s=timeout_s,
            failure_message="We could not convert this recording.",
        )
        _check_output(temporary, has_video=False, has_audio=True)
    return Rendition(name="audio", path=final, has_video=False)


def _poster(source: Path, out_dir: Path, *, info: MediaInfo, timeout_s: float) -> Path:
    width, height = scaled_size(*_display_size(info), short_side=VIDEO_RENDITIONS[0][1])
    final = out_dir / POSTER_NAME
    offset = min(info.duration_s * POSTER_POSITION, POSTER_MAX_OFFSET_S)
    with staged(final) as temporary:
        # Seeking past the last frame of a short or odd file yields nothing: then take frame 0.
        for position in (offset, 0.0):
            run_ffmpeg(
                [
                    "-ss", f"{position:.3f}",
                    "-i", str(source),
                    "-map", f"0:{info.video_stream_index}",
                    "-frames:v", "1",
                    "-vf", _resize(info, width, height),
                    "-c:v", "mjpeg", "-q:v", POSTER_QUALITY,
                    "-f", "image2", "-update", "1", "-y", str(temporary),
                ],
                timeout_s=timeout_s,
                failure_message="We could not take a picture from this video.",
            )
            if temporary.exists() and temporary.stat().st_size > 0:
                break
        else:
            raise TranscodeFailed("We could not take a picture from this video.", "no_poster")
    return final


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
