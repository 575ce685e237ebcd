"""Sending a webhook: to the hook found by id, over verified TLS, to an address checked at sending time (DNS may
have changed), never following a redirect, carrying the fewest identifiers.

The receiver is a real HTTPS server on 127.0.0.1 with a certificate of a throw-away CA (tests/worker.py). Only
two things differ from production, both for this process only: loopback is allowed
(settings.WEBHOOK_TEST_ALLOW_LOOPBACK) and the CA is trusted (SSL_CERT_FILE). Certificate and host name
verification are Python's defaults, as in production.
"""

import hashlib
import hmac
import json

import pytest

from tests import journey
from tests.worker import WebhookReceiver
from tracker.models import Notification, Webhook
from tracker.services.notifications import notification_send
from tracker.services.scan import monitoring_scan
from tracker.services.webhooks import webhook_create

pytestmark = pytest.mark.django_db

SECRET = "k" * 20 + "-delivery-secret-" + "q" * 12


@pytest.fixture
def world():
    return journey.build_world()


@pytest.fixture
def receiver():
    receiver = WebhookReceiver()
    yield receiver
    receiver.close()


@pytest.fixture
def trusted(receiver, settings, monkeypatch):
    """This process may deliver to the test receiver (loopback, the test CA)."""
    settings.WEBHOOK_TEST_ALLOW_LOOPBACK = True
    monkeypatch.setenv("SSL_CERT_FILE", str(receiver.ca_file))
    return receiver


def raise_reminders(world) -> list[Notification]:
    journey.infused_patient(world, days_ago=1.5)
    monitoring_scan()
    notifications = list(Notification.objects.filter(channel="webhook").order_by("id"))
    assert notifications
    return notifications


def hook_for(world, url: str) -> Webhook:
    return Webhook.objects.create(name="ward board", url=url, secret=SECRET, facility=world.hospital)


def test_a_delivery_is_signed_and_carries_no_patient(world, trusted):
    hook = hook_for(world, trusted.url)
    notification = raise_reminders(world)[0]

    assert notification_send(notification_id=notification.id) == "sent"

    notification.refresh_from_db()
    assert (notification.status, notification.response_status, notification.webhook_id) == ("sent", 200, hook.id)
    [delivery] = trusted.deliveries
    headers, body = delivery["headers"], delivery["body"]
    expected = hmac.new(SECRET.encode(), headers["X-Tracker-Timestamp"].encode() + b"." + body, hashlib.sha256)
    assert headers["X-Tracker-Signature"] == f"sha256={expected.hexdigest()}"
    assert headers["X-Tracker-Delivery"] == str(notification.id)
    reminder = notification.reminder
    assert json.loads(body) == {
        "reminder": reminder.id,
        "kind": reminder.kind,
        "severity": reminder.severity,
        "status": reminder.status,
        "reason": notification.reason,
        "due_at": reminder.due_at.isoformat(),
        "facility": world.hospital.code,
        "escalated": reminder.escalated_at is not None,
        "api": f"/api/v1/reminders/{reminder.id}/",
    }
    patient = reminder.patient
    for secret_of_the_patient in (patient.mrn, patient.family_name, patient.given_name, reminder.message):
        assert secret_of_the_patient not in body.decode()


def test_the_hook_is_found_by_id_so_a_changed_url_is_used_and_twins_each_get_theirs(world, trusted, dns):
    dns["old-board.example.org"] = ["93.184.215.14"]
    hook = hook_for(world, "https://old-board.example.org/hook")
    twin = hook_for(world, "https://old-board.example.org/hook")  # same URL, another hook: its own deliveries
    notifications = raise_reminders(world)
    mine = [n for n in notifications if n.webhook_id == hook.id]
    assert len(mine) == len([n for n in notifications if n.webhook_id == twin.id]) == len(notifications) // 2

    Webhook.objects.filter(id=hook.id).update(url=trusted.url)  # the board moved
    assert notification_send(notification_id=mine[0].id) == "sent"
    assert len(trusted.deliveries) == 1


def test_a_deactivated_hook_fails_at_once_and_sends_nothing(world, trusted):
    hook = hook_for(world, trusted.url)
    notification = raise_reminders(world)[0]
    Webhook.objects.filter(id=hook.id).update(is_active=False)

    assert notification_send(notification_id=notification.id) == "failed"

    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == ("failed", 1)
    assert "deactivated" in notification.last_error
    assert trusted.deliveries == []


def test_the_address_is_checked_again_when_sending(world, trusted, dns):
    # Saved while the name pointed at a public address; it now points inside the network (DNS rebinding).
    dns["board.example.org"] = ["93.184.215.14"]
    hook = webhook_create(
        actor=world.coordinator,
        name="board",
        url=f"https://board.example.org:{trusted.port}/hook",
        secret=SECRET,
        facility=world.hospital,
    )
    notification = raise_reminders(world)[0]
    dns["board.example.org"] = ["10.0.0.5"]

    assert notification_send(notification_id=notification.id) == "retry"

    notification.refresh_from_db()
    assert notification.status == "pending" and "private address" in notification.last_error
    assert notification.webhook_id == hook.id
    assert trusted.deliveries == []


def test_the_connection_goes_to_the_checked_address_and_tls_checks_the_host_name(world, trusted, dns):
    # The name resolves (once, when sending) to the receiver's address; TLS verifies the certificate for the
    # name, not for the address it connected to.
    dns["localhost"] = ["127.0.0.1"]
    hook_for(world, f"https://localhost:{trusted.port}/hook?source=tracker")
    notification = raise_reminders(world)[0]

    assert notification_send(notification_id=notification.id) == "sent"
    assert trusted.deliveries[0]["path"] == "/hook?source=tracker"
    assert trusted.deliveries[0]["headers"]["Host"] == f"localhost:{trusted.port}"


def test_a_certificate_that_is_not_trusted_is_refused(world, receiver, settings, dns):
    settings.WEBHOOK_TEST_ALLOW_LOOPBACK = True  # but the test CA is not trusted here
    hook_for(world, receiver.url)
    notification = raise_reminders(world)[0]

    assert notification_send(notification_id=notification.id) == "retry"

    notification.refresh_from_db()
    assert "SSL" in notification.last_error and "CERTIFICATE_VERIFY_FAILED" in notification.last_error
    assert receiver.deliveries == []


def test_a_redirect_is_not_followed(world, trusted):
    elsewhere = WebhookReceiver()
    try:
        trusted.redirect_to = elsewhere.url
        hook_for(world, trusted.url)
        notification = raise_reminders(world)[0]

        assert notification_send(notification_id=notification.id) == "retry"

        notification.refresh_from_db()
        assert "HTTP 302: redirects are not followed" in notification.last_error
        assert len(trusted.deliveries) == 1 and elsewhere.deliveries == []
    finally:
        elsewhere.close()


def test_without_the_tests_allowance_loopback_is_refused_when_sending(world, receiver, settings, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", str(receiver.ca_file))
    settings.WEBHOOK_TEST_ALLOW_LOOPBACK = False  # production
    hook_for(world, receiver.url)  # written around the checks, as a database owner could
    notification = raise_reminders(world)[0]

    assert notification_send(notification_id=notification.id) == "retry"

    notification.refresh_from_db()
    assert "loopback" in notification.last_error
    assert receiver.deliveries == []
