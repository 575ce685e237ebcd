"""Where a webhook may be sent: an https URL whose host is a public unicast address. Pure: no network.

A webhook URL is typed by a coordinator; the server then POSTs to it. Without these rules anyone who may add
a webhook could make the server reach what only it can reach (server-side request forgery): its own
services on loopback, the hospital network, a cloud metadata endpoint (169.254.169.254).
"""

import ipaddress
from typing import NamedTuple
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# RFC 6052: the well-known NAT64 prefix embeds an IPv4 address in its last 32 bits; a NAT64 gateway would
# forward to that IPv4 address, so it is judged as that address.
NAT64_WELL_KNOWN = ipaddress.IPv6Network("64:ff9b::/96")


class Target(NamedTuple):
    """The parts of a webhook URL the sender needs: the host to verify TLS for, its port, the request path."""

    host: str
    port: int
    path: str


def parse_webhook_url(url: str) -> Target:
    """The URL's target, or ValueError saying why a webhook may not have this URL."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise ValueError("This is not a valid URL.") from exc
    if parts.scheme.lower() != "https":
        raise ValueError("A webhook URL must use https:// (deliveries carry signed reminders).")
    if parts.username is not None or parts.password is not None:
        raise ValueError("A webhook URL may not carry a user name or password (the secret signs each delivery).")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise ValueError("A webhook URL needs a host name.")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(host=host, port=port or 443, path=path)


def embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (IPv4-mapped, 6to4, Teredo client, NAT64), if any."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in NAT64_WELL_KNOWN:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def address_refusal(address: IPAddress, *, allow_loopback: bool = False) -> str | None:
    """Why no webhook may go to this address (e.g. "a private address"), or None for a public unicast one.

    `allow_loopback` exists for the tests' local TLS receiver only (settings.WEBHOOK_TEST_ALLOW_LOOPBACK).
    """
    inner = embedded_ipv4(address)
    if inner is not None:
        return address_refusal(inner, allow_loopback=allow_loopback)
    if address.is_loopback:
        return None if allow_loopback else "a loopback address"
    if address.is_unspecified:
        return "an unspecified address (0.0.0.0 or ::)"
    if address.is_link_local:
        return "a link-local address (such as the cloud metadata service 169.254.169.254)"
    if address.is_multicast:
        return "a multicast address"
    if address.is_private:
        return "a private address"
    if address.is_reserved:
        return "a reserved address"
    if not address.is_global:
        return "an address that is not public (e.g. carrier-grade NAT 100.64.0.0/10)"
    return None
