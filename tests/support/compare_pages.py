"""Compare pages with real processed media, for the browser tests and bench/sync.py.

`recording(kind, seconds, folder)` makes what a camera or a phone would send, with the bundled
ffmpeg: a landscape clip (640x360), a portrait phone clip (720x1280) or a sound-only file.
`CompareSet.build(...)` uploads each recording to the live server's storage, processes it with
the real pipeline (learning.media.services.media_process: probe, transcode, poster, waveform)
and makes an exercise with the demonstration and a reply with the take, optionally with a
ready alignment (a given time map) and comments. `CompareSet.delete()` removes it all again.

Everything is committed (the live server must see it), so the caller deletes it afterwards.
"""

from __future__ import annotations

import subprocess
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from django.test import override_settings
from django.utils import timezone
from django_tenants.utils import tenant_context

from learning import storage
from learning.media import services as media_services
from learning.media.pipeline.runner import ffmpeg_exe
from learning.models import ActivityEvent, Alignment, Comment, Exercise, MediaFile, Reply
from tests.support.factories import CommentFactory, ExerciseFactory, ReplyFactory

SIZES = {"landscape": "640x360", "portrait": "720x1280"}
# A ready alignment's summary, as the engine writes one (the API reads every field).
SUMMARY = {
    "tempo_ratio": 1.0,
    "timing_flagged_share": 0.0,
    "pitch_checked": False,
    "pitch_flagged_share": None,
    "median_abs_cents": None,
    "counts": {},
}


def recording(kind: str, seconds: float, folder: Path, *, tone_hz: int = 440) -> Path:
    """`seconds` of moving test pictures (or none, for "audio") with a tone."""
    folder.mkdir(parents=True, exist_ok=True)
    sound = ["-f", "lavfi", "-i", f"sine=frequency={tone_hz}:sample_rate=48000:duration={seconds}"]
    if kind == "audio":
        out = folder / f"audio-{tone_hz}-{seconds:g}.m4a"
        args = [*sound, "-c:a", "aac"]
    else:
        out = folder / f"{kind}-{tone_hz}-{seconds:g}.mp4"
        picture = ["-f", "lavfi", "-i", f"testsrc2=size={SIZES[kind]}:rate=30:duration={seconds}"]
        args = [
            *picture,
            *sound,
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-shortest",
        ]
    if not out.exists():
        command = [ffmpeg_exe(), "-v", "error", "-y", *args, str(out)]
        subprocess.run(command, check=True, timeout=180)
    return out


def processed(path: Path, *, owner, purpose: str, private_root: Path) -> MediaFile:
    """`path` stored and processed as an upload is (call inside the tenant's schema)."""
    media = MediaFile.objects.create(
        owner=owner,
        purpose=purpose,
        state=MediaFile.State.UPLOADED,
        original_name=path.name,
        size_bytes=path.stat().st_size,
        source_key="",
    )
    media.source_key = f"{storage.media_prefix(media.public_id)}source"
    media.save(update_fields=["source_key"])
    with override_settings(PRIVATE_MEDIA_ROOT=str(private_root)):
        storage.upload(path=path, key=media.source_key, content_type="application/octet-stream")
        media_services.media_process(media_id=media.pk)
    media.refresh_from_db()
    assert media.state == MediaFile.State.READY, media.error_message
    return media


@dataclass
class CompareSet:
    """Replies made for one test module, by name, and how to reach them."""

    school: object
    replies: dict[str, Reply] = field(default_factory=dict)
    comments: dict[str, Comment] = field(default_factory=dict)
    exercises: list[int] = field(default_factory=list)
    media: list[int] = field(default_factory=list)
    # The live server records what the pages do (compare_viewed, ...): removed with the rest.
    since: datetime = field(default_factory=timezone.now)

    def url(self, stack, name: str, query: str = "") -> str:
        path = f"/replies/{self.replies[name].public_id}/{query}"
        return stack.url(self.school.tenant.slug, path)

    def add(
        self,
        name: str,
        *,
        demo: MediaFile,
        take: MediaFile,
        time_map: dict | None = None,
        comments: tuple[tuple[str, str, int], ...] = (),
        offset_ms: int = 0,
    ) -> Reply:
        """An exercise with `demo` and a reply with `take` (media already processed); with
        `time_map`, a ready alignment; `comments`: (key, side, at_ms) by the teacher;
        `offset_ms`: the manual sync offset."""
        school = self.school
        with tenant_context(school.tenant):
            exercise = ExerciseFactory(
                created_by=school.teacher, demo=demo, title=f"Compare {name} {uuid.uuid4().hex[:6]}"
            )
            reply = ReplyFactory(
                student=school.student,
                exercise=exercise,
                media=take,
                attempt=1,
                sync_offset_ms=offset_ms,
            )
            if time_map is not None:
                Alignment.objects.create(
                    reply=reply,
                    status=Alignment.Status.READY,
                    confidence=0.9,
                    time_map=time_map,
                    bands=[],
                    summary=SUMMARY,
                    computed_at=timezone.now(),
                    demo_media_public_id=demo.public_id,
                    reply_media_public_id=take.public_id,
                )
            else:
                Alignment.objects.create(
                    reply=reply,
                    status=Alignment.Status.NOT_ALIGNED,
                    computed_at=timezone.now(),
                    reason="Not aligned in this test: the manual sync is used.",
                )
            for key, side, at_ms in comments:
                self.comments[key] = CommentFactory(
                    reply=reply,
                    author=school.teacher,
                    side=side,
                    at_ms=at_ms,
                    body=f"Listen here ({key})",
                )
        self.exercises.append(exercise.pk)
        self.replies[name] = reply
        return reply

    def media_file(self, path: Path, *, purpose: str, private_root: Path) -> MediaFile:
        owner = (
            self.school.teacher
            if purpose == MediaFile.Purpose.DEMONSTRATION
            else (self.school.student)
        )
        with tenant_context(self.school.tenant):
            media = processed(path, owner=owner, purpose=purpose, private_root=private_root)
        self.media.append(media.pk)
        return media

    def delete(self) -> None:
        """The exercises, replies and media made here, and the activity the live server
        recorded since (events, notifications, milestones; the rollups rebuilt from the events
        that remain), which other tests count."""
        from analytics import rollups
        from analytics.models import Milestone, Notification

        with tenant_context(self.school.tenant):
            Exercise.objects.filter(pk__in=self.exercises).delete()
            MediaFile.objects.filter(pk__in=self.media).delete()
            ActivityEvent.objects.filter(occurred_at__gte=self.since).delete()
            Notification.objects.filter(created_at__gte=self.since).delete()
            Milestone.objects.filter(created_at__gte=self.since).delete()
            rollups.rebuild()


# --- Measuring sync in the browser ----------------------------------------------------------

# Played in the page: from `t0`, in manual or auto-sync mode, for `seconds` at 1x. Every
# animation frame after the first second it compares the follower (the reply) with where it
# should be: the demonstration's position minus the offset (manual) or the time map's
# replyAt(demonstration position) (auto-sync). Seeks are the transport's corrective moves of
# the follower, after the first second.
_MEASURE = """
async ({seconds, mode, warmup}) => {
  const compare = window.PractikaCompare;
  const left = document.querySelector('[data-media=left]');
  const right = document.querySelector('[data-media=right]');
  compare.setAutoSync(mode === 'auto');
  compare.seek(0);
  await new Promise((r) => setTimeout(r, 500));
  const errors = [];
  const first = [];
  compare.play();
  const started = performance.now();
  await new Promise((resolve) => {
    const frame = () => {
      const elapsed = (performance.now() - started) / 1000;
      if (elapsed >= seconds + warmup) { resolve(); return; }
      if (!left.paused && !right.paused && !left.seeking && !right.seeking) {
        const position = compare.positions();
        const expected = mode === 'auto'
          ? compare.replyAt(left.currentTime) : left.currentTime - position.offset;
        const error = Math.abs(right.currentTime - expected) * 1000;
        (elapsed >= warmup ? errors : first).push(error);
      }
      requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
  });
  compare.pause();
  const seekTimes = compare.stats().right.seekTimes.filter((t) => t > started + warmup * 1000);
  return {errors, first, seeks: seekTimes.length, played: left.currentTime};
}
"""


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def measure_sync(page, *, mode: str, seconds: float, warmup: float = 1.0) -> dict:
    """Play the open compare page and return the follower's error (ms) and its seeks."""
    page.wait_for_function(
        "[...document.querySelectorAll('[data-media]')].every(m => m.readyState >= 3)",
        timeout=60_000,
    )
    result = page.evaluate(_MEASURE, {"seconds": seconds, "mode": mode, "warmup": warmup})
    errors = result["errors"]
    assert len(errors) > seconds * 5, f"too few samples while both played: {len(errors)}"
    return {
        "p50_ms": percentile(errors, 0.5),
        "p95_ms": percentile(errors, 0.95),
        "max_ms": max(errors),
        "first_second_max_ms": max(result["first"], default=0.0),
        "seeks_after_warmup": result["seeks"],
        "samples": len(errors),
        "played_s": result["played"],
    }
