"""The alignment API (issue 6): `/api/v1/replies/<uuid>/alignment/`.

GET (anyone who can see the reply): status, the time map for auto-sync, and the timing and
pitch feedback with the attempts' trend; a student does not get the feedback when the
teacher hid it (the time map stays: auto-sync is not feedback). GET only reads: the analysis
is queued when the reply is sent and when its recordings are processed. PATCH (teachers):
show or hide the feedback from the student. POST (teachers): compute again.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from learning import roles
from learning.alignment import selectors as alignment_selectors
from learning.alignment import services as alignment_services
from learning.models import Alignment
from learning.peer_review import selectors as peer_selectors
from learning.replies import selectors
from tenants.permissions import api_membership

BAND_KINDS = (
    "rushed",
    "dragged",
    "missing",
    "extra",
    "repeat",
    "late_start",
    "early_end",
    "flat",
    "sharp",
    "wrong_note",
    "missed_note",
    "extra_note",
)


class TimeMapOut(serializers.Serializer):
    demo_ms = serializers.ListField(child=serializers.IntegerField())
    reply_ms = serializers.ListField(child=serializers.IntegerField())


class BandOut(serializers.Serializer):
    # A plain string in the schema: "kind" is an enum elsewhere in the API already.
    kind = serializers.CharField(help_text="One of: " + ", ".join(BAND_KINDS) + ".")
    start_ms = serializers.IntegerField(help_text="Demonstration time.")
    end_ms = serializers.IntegerField(help_text="Demonstration time.")
    reply_start_ms = serializers.IntegerField()
    reply_end_ms = serializers.IntegerField()
    message = serializers.CharField()
    note = serializers.CharField(required=False, help_text="Note bands: the demonstration's.")
    played_note = serializers.CharField(required=False, help_text="Note bands: the reply's.")


class NotesSummaryOut(serializers.Serializer):
    checked = serializers.BooleanField()
    demo_notes = serializers.IntegerField()
    reply_notes = serializers.IntegerField()
    wrong = serializers.IntegerField()
    missed = serializers.IntegerField()
    extra = serializers.IntegerField()
    examples = serializers.ListField(child=serializers.DictField(), required=False)


class PianoRollOut(serializers.Serializer):
    demo = serializers.ListField(
        child=serializers.ListField(child=serializers.IntegerField()),
        help_text="[start_ms, end_ms, midi] in demonstration time.",
    )
    reply = serializers.ListField(
        child=serializers.ListField(child=serializers.IntegerField()),
        help_text="Mapped to demonstration time, in its key.",
    )
    transposition = serializers.IntegerField()
    errors = serializers.ListField(child=serializers.DictField())


class SummaryOut(serializers.Serializer):
    # Every field may be null: an alignment stored before a field existed lacks it.
    tempo_ratio = serializers.FloatField(allow_null=True, help_text="Reply tempo / demo tempo.")
    timing_flagged_share = serializers.FloatField(allow_null=True)
    pitch_checked = serializers.BooleanField(allow_null=True)
    pitch_flagged_share = serializers.FloatField(allow_null=True)
    median_abs_cents = serializers.FloatField(allow_null=True)
    counts = serializers.DictField(child=serializers.IntegerField(), allow_null=True)
    notes = NotesSummaryOut(required=False)  # absent from analyses stored before notes


class AttemptOut(serializers.Serializer):
    reply = serializers.UUIDField(source="reply.public_id")
    attempt = serializers.IntegerField(source="reply.attempt")
    summary = SummaryOut(allow_null=True)


class AlignmentOut(serializers.Serializer):
    status = serializers.ChoiceField(choices=Alignment.Status.choices)
    reason = serializers.CharField()
    confidence = serializers.FloatField(allow_null=True)
    transposition_semitones = serializers.IntegerField()
    time_map = TimeMapOut(allow_null=True)
    visible_to_student = serializers.BooleanField()
    feedback_hidden = serializers.BooleanField(help_text="True when hidden from this viewer.")
    bands = BandOut(many=True)
    summary = SummaryOut(allow_null=True)
    piano_roll = PianoRollOut(allow_null=True)
    attempts = AttemptOut(many=True)
    computed_at = serializers.DateTimeField(allow_null=True)


def _payload(alignment: Alignment, *, is_teacher: bool, reviewing: bool = False) -> dict:
    # A classmate reviewing the reply (peer review) gets the time map only: the analysis is
    # feedback for the reply's student.
    hidden = reviewing or (not is_teacher and not alignment.visible_to_student)
    ready = alignment.status == Alignment.Status.READY
    attempts = []
    if ready and not hidden:
        attempts = [
            {"reply": a.reply, "summary": a.summary or None}  # an empty summary is none
            for a in alignment_selectors.attempt_alignments(reply=alignment.reply)
            if is_teacher or a.visible_to_student
        ]
    return {
        "status": alignment.status,
        "reason": alignment.reason,
        "confidence": alignment.confidence,
        "transposition_semitones": alignment.transposition_semitones,
        "time_map": alignment.time_map if ready else None,
        "visible_to_student": alignment.visible_to_student,
        "feedback_hidden": hidden,
        "bands": [] if hidden or not ready else alignment.bands,
        "summary": None if hidden or not ready else (alignment.summary or None),
        "piano_roll": None if hidden or not ready else (alignment.summary or {}).get("piano_roll"),
        "attempts": attempts,
        "computed_at": alignment.computed_at,
    }


class AlignmentVisibilityIn(serializers.Serializer):
    visible_to_student = serializers.BooleanField()


class ReplyAlignmentApi(APIView):
    @extend_schema(responses=AlignmentOut)
    def get(self, request, public_id):
        member = api_membership(request)
        reply = selectors.reply_get(member=member, public_id=public_id)
        alignment = alignment_selectors.alignment_status(reply=reply)
        payload = _payload(
            alignment,
            is_teacher=roles.is_teacher(member),
            reviewing=peer_selectors.is_reviewing(member=member, reply=reply),
        )
        return Response(AlignmentOut(payload).data)

    @extend_schema(request=AlignmentVisibilityIn, responses=AlignmentOut)
    def patch(self, request, public_id):
        member = api_membership(request)
        roles.require_teacher(member)
        reply = selectors.reply_get(member=member, public_id=public_id)
        data = AlignmentVisibilityIn(data=request.data)
        data.is_valid(raise_exception=True)
        alignment = alignment_services.alignment_set_visibility(
            member=member,
            alignment=alignment_services.alignment_request(reply=reply),
            visible=data.validated_data["visible_to_student"],
        )
        return Response(AlignmentOut(_payload(alignment, is_teacher=True)).data)

    @extend_schema(request=None, responses={202: AlignmentOut})
    def post(self, request, public_id):
        member = api_membership(request)
        roles.require_teacher(member)
        reply = selectors.reply_get(member=member, public_id=public_id)
        alignment = alignment_services.alignment_recompute(reply=reply)
        return Response(
            AlignmentOut(_payload(alignment, is_teacher=True)).data,
            status=status.HTTP_202_ACCEPTED,
        )
