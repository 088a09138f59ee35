"""The Celery app. It must be tenant-schemas-celery's CeleryApp: a task queued inside a
tenant carries the tenant's schema and runs in it (a plain Celery app runs every task in
`public`). https://github.com/maciej-gol/tenant-schemas-celery
"""

import os

from tenant_schemas_celery.app import CeleryApp

from config import task_context  # noqa: F401  (connects the request id's signal handlers)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.development")

app = CeleryApp("practika")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Each app's `tasks` module, and learning's per-feature ones: this is what imports every task
# module for the worker (no module imports another just to register its tasks).
app.autodiscover_tasks()
app.autodiscover_tasks(
    [
        "learning.media",
        "learning.alignment",
        "learning.replies",
        "learning.jobs",
        "learning.exports",
        "learning.lti",
        "learning.courses",
    ]
)
# The project's own: the queue-depth metric (config.queue_metrics).
app.autodiscover_tasks(["config"], related_name="queue_metrics")
