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


# One delivery per message: what enqueue sent before it sent batches; kept so that messages already queued by an
# earlier release are still delivered after an upgrade.
@shared_task(acks_late=True, ignore_result=True)
def notification_send_task(notification_id: int) -> str:
    from tracker.services.notifications import notification_send

    return notification_send(notification_id=notification_id)


@shared_task(acks_late=True, ignore_result=True)
def notification_send_batch_task(notification_ids: list[int]) -> str:
    """Several deliveries in one message: each is claimed on its own, so a batch delivered twice, or redelivered
    after its worker died halfway, sends each notification once."""
    from collections import Counter

    from tracker.services.notifications import notification_send

    outcomes = Counter(notification_send(notification_id=notification_id) for notification_id in notification_ids)
    return ", ".join(f"{outcome}: {n}" for outcome, n in sorted(outcomes.items()))
