"""Where a webhook may go (tracker.rules.webhooks): https, and a public unicast address, whatever its spelling."""

import ipaddress

import pytest

from tracker.rules.webhooks import address_refusal, embedded_ipv4, parse_webhook_url

REFUSED = [
    ("127.0.0.1", "loopback"),
    ("127.8.9.10", "loopback"),
    ("::1", "loopback"),
    ("0.0.0.0", "unspecified"),  # noqa: S104 - an address judged, not bound
    ("::", "unspecified"),
    ("169.254.169.254", "link-local"),  # cloud metadata service
    ("fe80::1", "link-local"),
    ("10.1.2.3", "private"),
    ("172.16.0.1", "private"),
    ("192.168.1.1", "private"),
    ("fc00::1", "private"),
    ("fd12:3456::1", "private"),
    ("100.64.0.1", "not public"),  # carrier-grade NAT
    ("192.0.2.10", "private"),  # TEST-NET-1 (documentation)
    ("198.18.0.1", "private"),  # benchmarking
    ("224.0.0.1", "multicast"),
    ("ff02::1", "multicast"),
    ("240.0.0.1", "private"),  # reserved (class E)
    ("255.255.255.255", "private"),  # broadcast
    ("2001:db8::1", "private"),  # documentation
    # IPv6 spellings of IPv4 addresses are judged as the IPv4 address they stand for
    ("::ffff:127.0.0.1", "loopback"),
    ("::ffff:10.0.0.1", "private"),
    ("::ffff:169.254.169.254", "link-local"),
    ("2002:7f00:1::", "loopback"),  # 6to4 of 127.0.0.1
    ("2001:0:4136:e378:8000:63bf:f5ff:fffe", "private"),  # Teredo, client 10.0.0.1
    ("64:ff9b::a9fe:a9fe", "link-local"),  # NAT64 of 169.254.169.254
]
PUBLIC = ["93.184.215.14", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"]


@pytest.mark.parametrize(("address", "kind"), REFUSED)
def test_non_public_addresses_are_refused(address, kind):
    reason = address_refusal(ipaddress.ip_address(address))
    assert reason is not None and kind in reason


@pytest.mark.parametrize("address", PUBLIC)
def test_public_unicast_addresses_are_allowed(address):
    assert address_refusal(ipaddress.ip_address(address)) is None


def test_the_tests_allowance_lets_loopback_through_and_nothing_else():
    assert address_refusal(ipaddress.ip_address("127.0.0.1"), allow_loopback=True) is None
    assert address_refusal(ipaddress.ip_address("::ffff:127.0.0.1"), allow_loopback=True) is None
    for other in ("10.0.0.1", "169.254.169.254", "0.0.0.0", "fe80::1"):  # noqa: S104
        assert address_refusal(ipaddress.ip_address(other), allow_loopback=True) is not None


def test_embedded_ipv4_reads_every_ipv6_spelling():
    assert str(embedded_ipv4(ipaddress.ip_address("::ffff:1.2.3.4"))) == "1.2.3.4"
    assert str(embedded_ipv4(ipaddress.ip_address("2002:102:304::"))) == "1.2.3.4"
    assert str(embedded_ipv4(ipaddress.ip_address("64:ff9b::102:304"))) == "1.2.3.4"
    assert embedded_ipv4(ipaddress.ip_address("2606:4700::1")) is None
    assert embedded_ipv4(ipaddress.ip_address("1.2.3.4")) is None


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://hooks.example.org/", "https"),
        ("ftp://hooks.example.org/", "https"),
        ("hooks.example.org/x", "https"),
        ("https://user:pw@hooks.example.org/", "user name or password"),
        ("https:///path-only", "host"),
        ("https://hooks.example.org:99999/", "not a valid URL"),
    ],
)
def test_webhook_urls_that_are_refused_by_their_form(url, message):
    with pytest.raises(ValueError, match=message):
        parse_webhook_url(url)


def test_a_webhook_urls_target():
    assert parse_webhook_url("https://Hooks.Example.org/in?x=1") == ("hooks.example.org", 443, "/in?x=1")
    assert parse_webhook_url("https://[::1]:8443") == ("::1", 8443, "/")
    assert parse_webhook_url("HTTPS://hooks.example.org./") == ("hooks.example.org", 443, "/")
