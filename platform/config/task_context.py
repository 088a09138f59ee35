"""The request id, carried into background work: every task a request queues carries the
request's id in its message headers, and the worker puts it back into the context variable
that the JSON log formatter reads (config.structured_logging), so the task's log lines carry
it. A task that queues another passes it on the same way (the variable is set while it runs).

Connected once, when the Celery app is imported (config.celery_app): in the web process,
which publishes, and in the worker, which runs the tasks.
https://docs.celeryq.dev/en/stable/userguide/signals.html#before-task-publish
"""

from __future__ import annotations

import contextvars

from celery.signals import before_task_publish, task_postrun, task_prerun

from config.structured_logging import REQUEST_ID_PATTERN, request_id_var

HEADER = "practika_request_id"

# The token of each running task's variable, to put the previous value back after it.
_tokens: dict[str, contextvars.Token] = {}


@before_task_publish.connect(dispatch_uid="practika-request-id-publish")
def _request_id_into_headers(headers: dict | None = None, **kwargs) -> None:
    request_id = request_id_var.get()
    if request_id and headers is not None:
        headers.setdefault(HEADER, request_id)


@task_prerun.connect(dispatch_uid="practika-request-id-prerun")
def _request_id_from_headers(task_id: str | None = None, task=None, **kwargs) -> None:
    request_id = getattr(getattr(task, "request", None), HEADER, None)
    # A header is data from the broker: only an id-shaped one reaches the logs. A task without
    # one (beat's, or run in-process) keeps the id of the context it runs in.
    if task_id and isinstance(request_id, str) and REQUEST_ID_PATTERN.match(request_id):
        _tokens[task_id] = request_id_var.set(request_id)


@task_postrun.connect(dispatch_uid="practika-request-id-postrun")
def _request_id_reset(task_id: str | None = None, **kwargs) -> None:
    token = _tokens.pop(task_id, None) if task_id else None
    if token is not None:
        request_id_var.reset(token)
