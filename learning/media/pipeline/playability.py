"""Playability: what Practika serves to browsers, and whether an upload already is that.

Every video is served as one H.264/AAC MP4 of at most 720p ("720p" names the short side,
so a portrait phone clip may be 720x1280). An upload whose streams already fit, judged from
the probed content and never from its name, is stream-copied into a fresh MP4 with the index
in front (`+faststart`): no generation loss and a fraction of the time. Anything else is
re-encoded. The rules are those of the least capable browser we support (Safari on an older
iPhone), and each one names what would go wrong if it were waived.
"""

from __future__ import annotations

from .probing import MediaInfo

SERVED_SHORT_SIDE = 720
MAX_FPS = 60
MAX_AUDIO_CHANNELS = 2
MAX_SAMPLE_RATE = 48000

# Containers whose H.264 and AAC copy losslessly into MP4 (MP4/MOV from phones and cameras,
# MKV from OBS, a common recorder on teachers' desktops).
COPYABLE_CONTAINERS = frozenset({"mp4", "mov", "mkv"})
# 8-bit 4:2:0 profiles every browser decodes (High 10, 4:2:2 and 4:4:4 play almost nowhere).
PLAYABLE_H264_PROFILES = frozenset({"Constrained Baseline", "Baseline", "Main", "High"})
PLAYABLE_H264_MAX_LEVEL = 42  # level 4.2: hardware decoders on phones stop around here
PLAYABLE_AAC_PROFILES = frozenset({"LC"})  # HE-AAC plays in most browsers, not all
# A 720p stream far above what we would encode stalls on ordinary connections: re-encode it
# (our own 720p encodes of phone footage run at 2-4 Mbit/s).
MAX_COPY_BITS_PER_SECOND = 8_000_000


def reencode_reasons(info: MediaInfo) -> tuple[str, ...]:
    """Why `info`'s video cannot be served by copying its streams; empty when it can."""
    if not info.has_video:
        return ("no video",)
    reasons = []
    if info.container not in COPYABLE_CONTAINERS:
        reasons.append(f"container {info.container}")
    if info.video_codec != "h264":
        reasons.append(f"video codec {info.video_codec}")
    elif info.video_profile not in PLAYABLE_H264_PROFILES:
        reasons.append(f"H.264 profile {info.video_profile}")
    elif info.video_level is None or info.video_level > PLAYABLE_H264_MAX_LEVEL:
        reasons.append(f"H.264 level {info.video_level}")
    if info.pixel_format != "yuv420p":
        reasons.append(f"pixel format {info.pixel_format}")  # yuvj420p's full range included
    if info.hdr:
        reasons.append(f"HDR {info.hdr}")
    if info.interlaced:
        reasons.append("interlaced")
    if info.rotation:
        # Browsers honour the tag, but the pages draw and compare upright pixels.
        reasons.append(f"rotated {info.rotation}")
    if info.pixel_aspect != 1.0:
        reasons.append("non-square pixels")
    width, height = info.width or 0, info.height or 0
    if min(width, height) > SERVED_SHORT_SIDE:  # the short side: portrait 720x1280 is 720p
        reasons.append(f"larger than 720p ({width}x{height})")
    if width % 2 or height % 2:
        reasons.append(f"odd size ({width}x{height})")
    if not info.fps or info.fps > MAX_FPS:
        reasons.append(f"frame rate {info.fps}")
    if info.duration_s and info.size_bytes * 8 / info.duration_s > MAX_COPY_BITS_PER_SECOND:
        reasons.append(f"bitrate {info.size_bytes * 8 / info.duration_s / 1e6:.1f} Mbit/s")
    if info.has_audio:
        if info.audio_codec != "aac":
            reasons.append(f"audio codec {info.audio_codec}")
        elif info.audio_profile not in PLAYABLE_AAC_PROFILES:
            reasons.append(f"AAC profile {info.audio_profile}")
        if (info.channels or 0) > MAX_AUDIO_CHANNELS:
            reasons.append(f"{info.channels} audio channels")
        if (info.sample_rate or 0) > MAX_SAMPLE_RATE:
            reasons.append(f"sample rate {info.sample_rate}")
    return tuple(reasons)
