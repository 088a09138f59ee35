"""The Celery app. It must be tenant-schemas-celery's CeleryApp: a task queued inside a
tenant carries the tenant's schema and runs in it (a plain Celery app runs every task in
`public`). https://github.com/maciej-gol/tenant-schemas-celery
"""

import os

from tenant_schemas_celery.app import CeleryApp

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.development")

app = CeleryApp("practika")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
