"""Reliability on the real parts: a real Celery worker process, a real Redis that we stop and start.

- a task delivered twice sends once (the claim is a conditional update);
- scans racing on several worker threads raise each reminder once;
- with the broker down, API writes still succeed and the next scan catches up.
"""

import hashlib
import hmac
import os
import signal
import time
from datetime import timedelta

import pytest
from django.db.models import Count, F
from django.utils import timezone

from tests import journey
from tests.worker import PrivateRedis, WebhookReceiver, beat_process, wait_for, worker_process
from tracker.models import Notification, Reminder, ScheduledCheck, Webhook
from tracker.services.notifications import CLAIM_TIMEOUT
from tracker.tasks import monitoring_scan_task, notification_send_batch_task, notification_send_task

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.celery_worker]


@pytest.fixture
def redis():
    server = PrivateRedis()
    server.start()
    yield server
    server.remove()


@pytest.fixture
def receiver():
    receiver = WebhookReceiver()
    yield receiver
    receiver.close()


SECRET = "s3cret-" + "x" * 32


@pytest.fixture
def world(receiver):
    world = journey.build_world()
    Webhook.objects.create(name="ward board", url=receiver.url, secret=SECRET)
    return world


def test_beat_and_a_worker_turn_a_newly_due_check_into_a_reminder_without_a_manual_step(redis, world):
    # `make run` runs beat every 60 s; here every 2 s, the same schedule entry and the same processes.
    _, administration = journey.infused_patient(world, days_ago=0.5)
    check = ScheduledCheck.objects.filter(administration=administration).order_by("due_at").first()
    ScheduledCheck.objects.filter(id=check.id).update(due_at=timezone.now() + timedelta(seconds=3))

    with (
        worker_process(redis, queue="reliability-beat"),
        beat_process(redis, queue="reliability-beat", every_seconds=2),
    ):
        assert wait_for(lambda: Reminder.objects.filter(check_item=check).exists(), timeout=40)

    check.refresh_from_db()
    reminder = Reminder.objects.get(check_item=check)
    assert reminder.created_at >= check.due_at  # raised once due, not before


def test_a_notification_task_delivered_twice_sends_once(redis, receiver, world):
    order, _ = journey.infused_patient(world, days_ago=1.5)
    with worker_process(redis, queue="reliability-double", extra_env=receiver.env):
        monitoring_scan_task.delay()
        assert wait_for(
            lambda: Notification.objects.exists() and not Notification.objects.filter(status="pending").exists()
        )
        notification = Notification.objects.filter(channel="webhook").first()
        sent_before = len(receiver.deliveries)

        # the same task delivered again, twice at once (as a broker redelivery would)
        notification_send_task.delay(notification.id)
        notification_send_task.delay(notification.id)
        time.sleep(2)

    assert len(receiver.deliveries) == sent_before
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == ("sent", 1)
    delivered = [d for d in receiver.deliveries if d["headers"]["X-Tracker-Delivery"] == str(notification.id)]
    assert len(delivered) == 1
    headers, body = delivered[0]["headers"], delivered[0]["body"]
    expected = hmac.new(SECRET.encode(), headers["X-Tracker-Timestamp"].encode() + b"." + body, hashlib.sha256)
    assert headers["X-Tracker-Signature"] == f"sha256={expected.hexdigest()}"
    # the fewest identifiers: the reminder, to look up through the API; no patient, no free text
    assert delivered[0]["json"]["reminder"] == notification.reminder_id
    assert "patient" not in delivered[0]["json"] and "message" not in delivered[0]["json"]
    assert notification.reminder.patient_id == order.patient.id


def test_a_batch_of_notifications_delivered_twice_sends_each_once(redis, receiver, world):
    # The scan hands deliveries to the workers in batches (tracker.services.notifications.enqueue): a batch
    # redelivered, twice at once, still sends each of its notifications once, because each is claimed on its own.
    journey.infused_patient(world, days_ago=1.5)
    with worker_process(redis, queue="reliability-batch", concurrency=2, extra_env=receiver.env):
        monitoring_scan_task.delay()
        assert wait_for(
            lambda: Notification.objects.exists() and not Notification.objects.filter(status="pending").exists()
        )
        hooks = list(Notification.objects.filter(channel="webhook").values_list("id", flat=True))
        assert len(hooks) >= 2
        sent_before = len(receiver.deliveries)
        # Pending again, as after a worker died before sending: the batch goes out twice at once.
        Notification.objects.filter(id__in=hooks).update(status="pending", claimed_at=None, sent_at=None)
        notification_send_batch_task.delay(hooks)
        notification_send_batch_task.delay(hooks)
        assert wait_for(lambda: not Notification.objects.filter(id__in=hooks, status="pending").exists())
        time.sleep(2)  # let the second batch finish

    resent = [d["headers"]["X-Tracker-Delivery"] for d in receiver.deliveries[sent_before:]]
    assert sorted(resent) == sorted(str(i) for i in hooks)  # each once, none twice


def test_scans_racing_on_several_workers_raise_each_reminder_once(redis, receiver, world):
    product = journey.make_product(world)
    for n in range(3):
        journey.infused_patient(world, days_ago=2 + n, product=product)
    due = ScheduledCheck.objects.filter(due_at__lte=timezone.now()).count()

    with worker_process(redis, queue="reliability-race", concurrency=4, extra_env=receiver.env):
        for _ in range(6):
            monitoring_scan_task.delay()
        assert wait_for(
            lambda: ScheduledCheck.objects.filter(due_at__lte=timezone.now(), reminded_at=None).count() == 0
        )
        time.sleep(2)  # let the other scans finish

    assert Reminder.objects.filter(check_item__isnull=False).count() == due
    assert not Reminder.objects.values("check_item").annotate(n=Count("id")).filter(n__gt=1, check_item__isnull=False)
    # the registry documents fallen due (tracker.services.registry) are claimed once too: one reminder each
    assert not Reminder.objects.filter(kind="registry_due").values("dedupe_key").annotate(n=Count("id")).filter(n__gt=1)
    assert (
        not Notification.objects.values("reminder", "channel", "recipient", "reason")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .exists()
    )


def test_with_the_broker_down_api_writes_succeed_and_the_next_scan_catches_up(
    redis, receiver, world, api_client_for, settings
):
    settings.BROKER_TIMEOUT_SECONDS = 1
    order, _ = journey.infused_patient(world, days_ago=1)
    with worker_process(redis, queue="reliability-outage", extra_env=receiver.env):
        redis.stop()

        # when: a grade-2 CRS assessment arrives through the API while Redis is down
        started = time.monotonic()
        response = api_client_for(world.clinician).post(
            "/api/v1/assessments/",
            {
                "patient": order.patient.id,
                "assessed_at": (timezone.now() - timedelta(minutes=1)).isoformat(),
                "temperature_c": "39.2",
                "hypotension": "fluids",
                "hypoxia": "none",
            },
            format="json",
        )
        elapsed = time.monotonic() - started

        # then: the write succeeded quickly and the urgent reminder is on record, its delivery pending
        assert response.status_code == 201, response.content
        assert response.json()["crs_grade"] == 2
        assert elapsed < 15
        urgent = Reminder.objects.get(kind="toxicity_grade")
        assert urgent.severity == "urgent"
        assert Notification.objects.filter(reminder=urgent, status="pending").exists()
        assert receiver.deliveries == []

        # when: Redis comes back and beat's next scan runs
        redis.start()
        monitoring_scan_task.delay()

        # then: the pending delivery goes out
        assert wait_for(lambda: Notification.objects.filter(reminder=urgent, status="sent").exists(), timeout=45)
    assert any(d["json"]["reminder"] == urgent.id for d in receiver.deliveries)


def test_a_delivery_whose_worker_died_mid_send_is_sent_again_by_the_next_scan(redis, world):
    # The receiver holds the first delivery; meanwhile its worker is killed (SIGKILL: no clean-up, no ack).
    slow = WebhookReceiver(hold_first_seconds=4)
    try:
        Webhook.objects.update(url=slow.url)
        journey.infused_patient(world, days_ago=1.5)
        with worker_process(redis, queue="reliability-dead-claim", concurrency=1, extra_env=slow.env) as worker:
            monitoring_scan_task.delay()
            assert wait_for(lambda: len(slow.deliveries) >= 1)
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=10)
        stuck = Notification.objects.get(id=int(slow.deliveries[0]["headers"]["X-Tracker-Delivery"]))
        assert (stuck.status, stuck.attempts) == ("pending", 1) and stuck.claimed_at is not None

        # Later than the claim timeout: the claim belongs to a worker that died.
        Notification.objects.filter(id=stuck.id).update(claimed_at=F("claimed_at") - CLAIM_TIMEOUT)
        with worker_process(redis, queue="reliability-dead-claim", extra_env=slow.env):
            monitoring_scan_task.delay()
            assert wait_for(lambda: Notification.objects.get(id=stuck.id).status == "sent", timeout=45)
            assert wait_for(lambda: not Notification.objects.filter(channel="webhook", status="pending").exists())
    finally:
        slow.close()

    stuck.refresh_from_db()
    assert stuck.attempts == 2
    # at least once: the receiver saw the interrupted attempt and the one that succeeded, with the same id
    assert [d["headers"]["X-Tracker-Delivery"] for d in slow.deliveries].count(str(stuck.id)) == 2
