"""Celery tasks: thin, idempotent wrappers around services (they may run twice, concurrently or late)."""

import logging

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, ignore_result=True)
def monitoring_scan_task() -> str:
    from tracker.services.scan import monitoring_scan

    result = monitoring_scan()
    logger.info("monitoring scan: %s", result)
    return str(result)


@shared_task(acks_late=True, ignore_result=True)
def notification_send_task(notification_id: int) -> str:
    from tracker.services.notifications import notification_send

    return notification_send(notification_id=notification_id)
