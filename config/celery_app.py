"""The Celery application: tasks are thin wrappers around service functions."""

import os
from typing import Any

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("tracker")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.task_prerun.connect
def _enter_audit_context(task_id: str, task: Any, **_: Any) -> None:
    # Every history row a task writes says which task wrote it (21 CFR 11.10(e)).
    import pghistory

    manager = pghistory.context(channel=f"celery:{task.name}", task_id=task_id)
    manager.__enter__()
    _audit_contexts[task_id] = manager


@signals.task_postrun.connect
def _exit_audit_context(task_id: str, **_: Any) -> None:
    manager = _audit_contexts.pop(task_id, None)
    if manager is not None:
        manager.__exit__(None, None, None)


_audit_contexts: dict[str, Any] = {}
