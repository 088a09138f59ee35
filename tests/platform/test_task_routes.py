"""Tasks are found through the Celery app, carry explicit names and are routed by them: moving
a task's module must change neither its name nor its queue."""

from __future__ import annotations

from config.celery_app import app
from learning.retries import MAX_RETRIES, TRANSIENT_ERRORS


def _tasks() -> dict:
    app.loader.import_default_modules()  # what a worker does at start-up
    return {name: task for name, task in app.tasks.items() if not name.startswith("celery.")}


def test_every_learning_and_analytics_task_is_registered_under_its_own_name():
    tasks = _tasks()
    ours = {name: task for name, task in tasks.items() if name.split(".")[0] in (
        "learning", "analytics"
    )}

    assert {"learning.process_media", "learning.align_reply", "learning.sweep_tenant_media",
            "learning.lti_post_score", "learning.lti_sync_roster",
            "analytics.rollups_rebuild"} <= set(ours)
    # Explicit names, not module paths (which change when a module moves).
    assert not [name for name in ours if ".tasks." in name]
    for task in ours.values():
        assert task.acks_late is True
        assert task.max_retries == MAX_RETRIES
        assert tuple(task.autoretry_for) == TRANSIENT_ERRORS


def test_video_work_goes_to_the_video_queue_by_name():
    _tasks()

    def queue(name: str) -> str:
        return app.amqp.router.route({}, name)["queue"].name

    assert queue("learning.process_media") == "video"
    assert queue("learning.align_reply") == "video"
    assert queue("learning.sweep_tenant_media") == "default"
    assert queue("analytics.rollups_rebuild") == "default"
    assert queue("learning.lti_post_score") == "default"
