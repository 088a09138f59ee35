"""LTI's background work, under the one retry policy (learning.retries): a platform that is
down or answers 5xx/429 is retried with backoff; a refusal is recorded on the row."""

from __future__ import annotations

from celery import shared_task

from learning.lti import services
from learning.retries import FAILED, RETRY_POLICY, run_recording_failures

SOFT_TIME_LIMIT_S = 2 * 60
TIME_LIMIT_S = SOFT_TIME_LIMIT_S + 30
GAVE_UP = "The LMS could not be reached. The grade will be sent with the next review."
CRASHED = "Sending the grade failed. Practika's team has been told."


@shared_task(
    name="learning.lti_post_score",
    bind=True,
    soft_time_limit=SOFT_TIME_LIMIT_S,
    time_limit=TIME_LIMIT_S,
    **RETRY_POLICY,
)
def lti_post_score(self, reply_id: int) -> str:
    """Send a reviewed reply's score to the LMS line items (services.score_post)."""
    return run_recording_failures(
        self,
        lambda: services.score_post(reply_id=reply_id),
        what=f"LTI score of reply {reply_id}",
        fail=lambda reason: services.scores_failed(reply_id=reply_id, reason=reason),
        too_slow="The LMS took too long to take the grade.",
        gave_up=GAVE_UP,
        crashed=CRASHED,
    )


@shared_task(
    name="learning.lti_sync_roster",
    bind=True,
    soft_time_limit=SOFT_TIME_LIMIT_S,
    time_limit=TIME_LIMIT_S,
    **RETRY_POLICY,
)
def lti_sync_roster(self, context_id: int) -> str:
    """Bring a course's roster into its class (services.roster_sync)."""
    outcome = run_recording_failures(
        self,
        lambda: services.roster_sync(context_id=context_id),
        what=f"LTI roster of course {context_id}",
        fail=lambda reason: services.roster_failed(context_id=context_id, reason=reason),
        too_slow="The LMS took too long to send the roster.",
        gave_up="The LMS could not be reached. Try the sync again later.",
        crashed="The roster sync failed. Practika's team has been told.",
    )
    if outcome == FAILED:
        return FAILED
    return f"{outcome.members} members, {outcome.students} students"
