"""The demo's sample exercise for `make dev` (management command `seed_demo_content`): a
demonstration video and a student's reply, generated with the bundled ffmpeg (a short melody
with picture), then processed, aligned and commented through the same services as real
uploads, so that a newcomer has something to compare on the first start.

`demo_recordings` writes the two files once; `demo_content_ensure` runs inside one tenant's
schema and does nothing where the sample exercise exists already (idempotent).
"""

from __future__ import annotations

import logging
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from learning import storage
from learning.alignment import services as alignment_services
from learning.alignment.engine import synthesis
from learning.exercises import services as exercise_services
from learning.feedback_library import services as feedback_library
from learning.media import services as media_services
from learning.media.pipeline.runner import run_ffmpeg
from learning.models import Alignment, Comment, Exercise, MediaFile, Reply, Rubric, SavedComment
from learning.replies import services as reply_services
from learning.rubrics import services as rubric_services
from tenants.models import Membership

logger = logging.getLogger(__name__)

TITLE = "Sample: a short melody"
TAG = "demo"
INSTRUCTIONS = (
    "A sample to show how Practika works: the demonstration is a short piano melody, and "
    "a student has replied on strings and rushed the middle passage.\n\n"
    "Open the reply from the **Inbox** to see both side by side, with the timing analysis "
    "under the timeline and a comment at its moment."
)
MELODY_SECONDS = 12.0
COMMENT = "Nice tone. From here you rush: keep the tempo of the demonstration."
COMMENT_AT_MS = 5_500  # reply time where the rushed passage begins
# Marks on the reply's frame at that moment (learning.drawings.shapes): hands and wrist.
DRAWING = [
    {"kind": "circle", "color": "#fcc419", "points": [[0.38, 0.42], [0.62, 0.56]]},
    {"kind": "arrow", "color": "#e03131", "points": [[0.18, 0.2], [0.4, 0.41]]},
]
# The feedback library's first entries, shared with the school's teachers.
SAVED_COMMENTS = (
    "Keep the tempo of the demonstration: count the beats aloud once.",
    "Relax the wrist; let the weight of the arm make the sound.",
    "Lovely tone here. Now the same at the written dynamics.",
)
# The library's sample rubric, a copy of which the sample exercise uses (unscored: the teacher
# tries the compare page's rubric panel).
RUBRIC_TITLE = "Sample: melody basics"
RUBRIC = (
    ("Timing", (("Rushed or dragged", 0), ("Mostly steady", 2), ("Steady throughout", 4))),
    ("Tone", (("Harsh", 0), ("Even", 2), ("Singing", 3))),
    ("Notes", (("Several wrong", 0), ("One or two slips", 2), ("All right", 3))),
)
FFMPEG_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class DemoRecordings:
    demonstration: Path
    reply: Path


def _write_wav(samples: np.ndarray, path: Path) -> Path:
    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(synthesis.SAMPLE_RATE)
        out.writeframes(pcm.tobytes())
    return path


def _video(sound: Path, out: Path, *, size: str, hue: int) -> Path:
    """An H.264/AAC MP4 of `sound` with a moving test picture of `size` (W x H)."""
    run_ffmpeg(
        [
            "-f",
            "lavfi",
            "-i",
            f"testsrc2=size={size}:rate=30",
            "-i",
            str(sound),
            "-vf",
            f"hue=h={hue}",
            "-shortest",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-b:a",
            "128k",
            "-movflags",
            "+faststart",
            "-y",
            str(out),
        ],
        timeout_s=FFMPEG_TIMEOUT_S,
        failure_message="The demo recordings could not be made.",
    )
    return out


def demo_recordings(folder: Path) -> DemoRecordings:
    """A landscape demonstration (piano) and a portrait reply (strings, 1 s later, rushing a
    passage), written to `folder`."""
    notes = synthesis.melody(duration_s=MELODY_SECONDS, seed=7)
    demo_warp = synthesis.steady(duration_s=MELODY_SECONDS, lead_in_s=0.5)
    # Rushed by 30 % from 4 s to 7.5 s of the score: the analysis has a band to show.
    reply_warp = synthesis.varying(
        duration_s=MELODY_SECONDS,
        delay_s=1.5,
        depth=0.04,
        period_s=9.0,
        faster=(4.0, 7.5, 1.3),
    )
    demo_sound = synthesis.render(notes, warp=demo_warp, timbre=synthesis.PIANO)
    reply_sound = synthesis.render(
        notes, warp=reply_warp, timbre=synthesis.STRINGS, snr_db=35.0, seed=1
    )
    return DemoRecordings(
        demonstration=_video(
            _write_wav(demo_sound, folder / "demonstration.wav"),
            folder / "demonstration.mp4",
            size="640x360",
            hue=0,
        ),
        reply=_video(
            _write_wav(reply_sound, folder / "reply.wav"),
            folder / "reply.mp4",
            size="360x640",
            hue=140,
        ),
    )


def _processed(path: Path, *, owner, purpose: str) -> MediaFile:
    """Store `path` as an upload and process it now, as the worker would."""
    media = MediaFile(
        owner=owner,
        purpose=purpose,
        original_name=path.name,
        declared_bytes=path.stat().st_size,
        size_bytes=path.stat().st_size,
        state=MediaFile.State.UPLOADED,
    )
    media.source_key = f"{storage.media_prefix(media.public_id)}source"
    storage.upload(path=path, key=media.source_key, content_type="video/mp4")
    media.save()
    media_services.media_process(media_id=media.pk)
    media.refresh_from_db()
    if not media.is_ready:
        raise RuntimeError(f"demo {purpose} did not process: {media.error_message}")
    return media


def _demo_exercise() -> Exercise | None:
    return Exercise.objects.filter(tags__contains=[TAG]).select_related("demo").first()


def demo_complete() -> bool:
    """Whether the current tenant has its sample: the exercise, a reply aligned, a comment."""
    exercise = _demo_exercise()
    if exercise is None:
        return False
    reply = exercise.replies.first()
    return (
        reply is not None
        and Alignment.objects.filter(reply=reply, status=Alignment.Status.READY).exists()
        and Comment.objects.filter(reply=reply).exclude(author_id=reply.student_id).exists()
    )


def demo_content_ensure(
    *, teacher: Membership, student: Membership, recordings: DemoRecordings
) -> Reply | None:
    """The sample exercise, its reply (processed and aligned) and a teacher's comment, in the
    current tenant; None when it is all there already. Each step is skipped when done, so a
    start that was interrupted half-way is finished by the next."""
    if demo_complete():
        return None
    exercise = _demo_exercise()
    if exercise is None:
        demo = _processed(
            recordings.demonstration,
            owner=teacher.user,
            purpose=MediaFile.Purpose.DEMONSTRATION,
        )
        exercise = exercise_services.exercise_save(
            member=teacher,
            title=TITLE,
            instructions=INSTRUCTIONS,
            instrument="Piano",
            tags=[TAG],
            demo=demo,
        )
    exercise_services.exercise_publish(member=teacher, exercise=exercise)
    reply = exercise.replies.select_related("media").first()
    if reply is None:
        take = _processed(recordings.reply, owner=student.user, purpose=MediaFile.Purpose.REPLY)
        reply = reply_services.reply_create(
            member=student,
            exercise=exercise,
            media=take,
            note="My first try: I came in late, sorry!",
        )
    alignment_services.alignment_compute(reply_id=reply.pk)
    if not Comment.objects.filter(reply=reply, author=teacher.user).exists():
        reply_services.comment_create(
            member=teacher,
            reply=reply,
            body=COMMENT,
            at_ms=COMMENT_AT_MS,
            drawing=DRAWING,
        )
    if not SavedComment.objects.exists():
        for body in SAVED_COMMENTS:
            feedback_library.saved_comment_create(member=teacher, body=body, shared=True)
    if not Rubric.objects.filter(exercise=exercise).exists():
        _demo_rubric(teacher=teacher, exercise=exercise)
    logger.info("demo content added: exercise %s, reply %s", exercise.public_id, reply.public_id)
    return reply


def _demo_rubric(*, teacher: Membership, exercise: Exercise) -> None:
    template = Rubric.objects.filter(is_template=True, title=RUBRIC_TITLE).first()
    if template is None:
        template = rubric_services.rubric_create(
            member=teacher,
            title=RUBRIC_TITLE,
            criteria=[
                rubric_services.CriterionData(
                    title=name,
                    levels=[
                        rubric_services.LevelData(title=level, points=points)
                        for level, points in levels
                    ],
                )
                for name, levels in RUBRIC
            ],
        )
    rubric_services.rubric_copy(member=teacher, rubric=template, exercise=exercise)
