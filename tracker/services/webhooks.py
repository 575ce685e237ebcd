"""Webhooks: who may add them, which URLs are allowed (when saved and again when sending), and the delivery.

A URL is checked twice. When saved, so that a coordinator learns at once that it is refused (400 on `url`).
And when sending, because DNS can change in between (DNS rebinding): the host is resolved again, every
address it resolves to must be public, and the connection goes to one of exactly those addresses (pinned),
while TLS still verifies the certificate for the URL's host name. Deliveries never follow redirects.
"""

import http.client
import ipaddress
import socket
import ssl

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction

from products.access import user_facility_ids
from products.choices import Role
from products.errors import PermissionDeniedError
from products.models import Facility
from products.services.common import UNSET, Unset, given, model_update, refuse_unknown_fields
from products.services.guards import require_role
from tracker.models import Webhook
from tracker.rules.webhooks import IPAddress, Target, address_refusal, parse_webhook_url

SECRET_MIN_LENGTH = 32  # characters; HMAC-SHA256 keys shorter than the hash (32 bytes) weaken it (RFC 2104, 3)
SECRET_MAX_LENGTH = 256
WEBHOOK_ROLES = (Role.COORDINATOR,)
WEBHOOK_FIELDS = frozenset({"name", "url", "secret", "facility", "is_active"})


class UnsafeDestination(Exception):
    """The URL is not (or no longer) one a webhook may be sent to."""


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address the host resolves to (an IP literal resolves to itself)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    seen: dict[str, IPAddress] = {}
    for _family, _type, _proto, _name, sockaddr in infos:
        address = str(sockaddr[0])  # a str for both IP families (typeshed also allows an int, for other families)
        seen.setdefault(address, ipaddress.ip_address(address.split("%", 1)[0]))
    return list(seen.values())


def webhook_destination(url: str) -> tuple[Target, list[IPAddress]]:
    """The URL's target and the addresses it may be sent to now; UnsafeDestination if it may not be sent at all.

    Every address the name resolves to must be public: a name answering both a public and a private address
    is refused, whichever the connection would have used.
    """
    try:
        target = parse_webhook_url(url)
    except ValueError as exc:
        raise UnsafeDestination(str(exc)) from exc
    try:
        addresses = resolve(target.host, target.port)
    except (OSError, UnicodeError, ValueError) as exc:
        raise UnsafeDestination(f"The host {target.host} does not resolve.") from exc
    if not addresses:
        raise UnsafeDestination(f"The host {target.host} does not resolve.")
    allow_loopback = bool(getattr(settings, "WEBHOOK_TEST_ALLOW_LOOPBACK", False))
    for address in addresses:
        reason = address_refusal(address, allow_loopback=allow_loopback)
        if reason is not None:
            where = target.host if target.host == str(address) else f"{target.host} resolves to {address}, which"
            raise UnsafeDestination(f"{where} is {reason}: webhooks are sent only to public addresses.")
    return target, addresses


def validate_webhook_url(url: str) -> None:
    """A 400 on `url` (API and admin alike) for a URL no webhook may have."""
    try:
        webhook_destination(url)
    except UnsafeDestination as exc:
        raise ValidationError({"url": [str(exc)]}) from exc


def validate_webhook_secret(secret: str) -> None:
    if len(secret) < SECRET_MIN_LENGTH:
        raise ValidationError({"secret": [f"At least {SECRET_MIN_LENGTH} characters (a random string)."]})
    if len(secret) > SECRET_MAX_LENGTH:
        raise ValidationError({"secret": [f"At most {SECRET_MAX_LENGTH} characters."]})


def validate_webhook_facility(actor: User, facility: Facility | None) -> None:
    """A coordinator's webhook receives one facility of their own; one for every facility is for superusers."""
    if getattr(actor, "is_superuser", False):
        return
    if facility is None:
        # Reminders of every facility name other hospitals' patients (by id): not for a facility's staff.
        raise ValidationError({"facility": ["Choose the facility whose reminders this endpoint receives."]})
    if facility.id not in user_facility_ids(actor):
        raise ValidationError({"facility": [f"You are not a member of {facility.code}."]})


@transaction.atomic
def webhook_create(
    *, actor: User, name: str, url: str, secret: str, facility: Facility | None, is_active: bool = True
) -> Webhook:
    """A new endpoint for a facility's reminders; its secret is stored encrypted and never shown again."""
    require_role(actor, *WEBHOOK_ROLES, action="manage webhooks")
    validate_webhook_facility(actor, facility)
    validate_webhook_url(url)
    validate_webhook_secret(secret)
    return Webhook.objects.create(name=name, url=url.strip(), secret=secret, facility=facility, is_active=is_active)


@refuse_unknown_fields
@transaction.atomic
def webhook_update(
    *,
    actor: User,
    webhook_id: int,
    name: str | Unset = UNSET,
    url: str | Unset = UNSET,
    secret: str | Unset = UNSET,
    facility: Facility | Unset | None = UNSET,
    is_active: bool | Unset = UNSET,
) -> Webhook:
    """Change a webhook (the fields given of WEBHOOK_FIELDS); deactivating stops its deliveries.

    A new URL is checked as when created; an unchanged one is not, so that switching a webhook off never
    depends on what its host resolves to today.
    """
    require_role(actor, *WEBHOOK_ROLES, action="manage webhooks")
    if not isinstance(url, Unset):
        validate_webhook_url(url)  # before the row lock: resolving a name may take a while
        url = url.strip()
    if not isinstance(secret, Unset):
        validate_webhook_secret(secret)
    hook = Webhook.objects.select_for_update().get(id=webhook_id)
    if not getattr(actor, "is_superuser", False) and hook.facility_id not in user_facility_ids(actor):
        raise PermissionDeniedError("This webhook belongs to a facility you are not a member of.")
    validate_webhook_facility(actor, hook.facility if isinstance(facility, Unset) else facility)
    model_update(
        instance=hook,
        fields=WEBHOOK_FIELDS,
        data=given(name=name, url=url, secret=secret, facility=facility, is_active=is_active),
    )
    hook.save()
    return hook


# --- delivery -----------------------------------------------------------------------------------------------


class WebhookRefused(Exception):
    """The receiver did not accept the delivery (a non-2xx answer, redirects included)."""


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """Connects to an address checked beforehand; TLS still verifies the certificate for the URL's host name."""

    def __init__(self, target: Target, address: IPAddress, timeout: float) -> None:
        self._tls = ssl.create_default_context()  # kept here too: HTTPSConnection keeps it in a private attribute
        super().__init__(target.host, target.port, timeout=timeout, context=self._tls)
        self._address = str(address)

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        try:
            self.sock = self._tls.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise


def webhook_post(*, url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
    """POST to a webhook URL checked now, pinned to its checked addresses; the answer's status if 2xx.

    UnsafeDestination if the URL may not be sent to (any more); WebhookRefused for any other answer
    (a redirect is not followed); OSError / ssl.SSLError when no connection could be made.
    """
    target, addresses = webhook_destination(url)
    last_error: OSError | None = None
    for address in addresses:
        connection = _PinnedHTTPSConnection(target, address, timeout)
        try:
            connection.request("POST", target.path, body=body, headers=headers)
            response = connection.getresponse()
            response.read(64 * 1024)
        except ssl.SSLError:
            raise  # a certificate that does not match is not retried on another address
        except OSError as exc:
            last_error = exc
            continue
        finally:
            connection.close()
        if 200 <= response.status < 300:
            return response.status
        if 300 <= response.status < 400:
            raise WebhookRefused(f"HTTP {response.status}: redirects are not followed")
        raise WebhookRefused(f"HTTP {response.status}")
    raise last_error or OSError(f"no address of {target.host} could be reached")
