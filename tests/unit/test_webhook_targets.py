"""tlfif/webhook_targets.py: which webhook URLs and addresses may be called (ADR 0031)."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tlfif.contracts import MAX_WEBHOOK_URL_CHARS
from tlfif.webhook_contracts import WEBHOOK_HEADER_FIELD
from tlfif.webhook_targets import (
    FIELD,
    IpAddress,
    Resolver,
    Target,
    WebhookChecker,
    WebhookRefused,
    _server_and_port,
    check,
    is_allowed,
    parse_url,
    system_resolver,
)

PUBLIC_V4 = "93.184.215.14"
PUBLIC_V6 = "2606:4700:4700::1111"


def resolver(answers: dict[str, list[str]]) -> Resolver:
    """A resolver answering from a table; an unknown name resolves to nothing."""

    def resolve(host: str, port: int) -> list[IpAddress]:
        return [ipaddress.ip_address(one) for one in answers.get(host, [])]

    return resolve


def refused(given_url: str, field: str = FIELD) -> WebhookRefused:
    with pytest.raises(WebhookRefused) as caught:
        parse_url(given_url, field)
    return caught.value


# --- parse_url -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given_url", "why"),
    [
        ("http://receiver.example/hook", "must be an https:// URL"),
        ("ftp://receiver.example/hook", "must be an https:// URL"),
        ("receiver.example/hook", "must be an https:// URL"),
        ("https:///hook", "names no host"),
        ("https://:443/hook", "names no host"),
        ("https://user:pass@receiver.example/hook", "user name or password"),
        ("https://user@receiver.example/hook", "user name or password"),
        ("https://:pass@receiver.example/hook", "user name or password"),
        ("https://receiver.example:99999/hook", "not a URL"),
        ("https://receiver.example:https/hook", "not a URL"),
        ("https://[::1/hook", "not a URL"),
        ("https://a..example/hook", "not a valid name"),
        (f"https://{'a' * 64}.example/hook", "not a valid name"),
    ],
)
def test_parse_url_refuses_what_is_not_a_plain_https_url(given_url: str, why: str) -> None:
    error = refused(given_url)
    assert why in error.message
    assert error.message.startswith("webhook: ")
    assert error.field == "webhook" and error.status == 400


def test_a_url_longer_than_the_limit_is_refused_before_it_is_parsed() -> None:
    at_limit = "https://receiver.example/" + "a" * (MAX_WEBHOOK_URL_CHARS - 25)
    assert len(at_limit) == MAX_WEBHOOK_URL_CHARS
    assert parse_url(at_limit).host == "receiver.example"
    error = refused(at_limit + "a")
    assert f"at most {MAX_WEBHOOK_URL_CHARS} characters" in error.message


def test_the_refusal_names_the_field_the_url_came_in() -> None:
    """POST /infer's body field, or the /v1 request's header."""
    error = refused("http://receiver.example/", WEBHOOK_HEADER_FIELD)
    assert error.field == "X-Tlfif-Webhook"
    assert error.message.startswith("X-Tlfif-Webhook: ")
    assert "webhook:" not in error.message


def test_an_international_name_is_taken_in_its_ascii_form() -> None:
    target = parse_url("https://Bücher.Example/hook?order=7")
    assert target.host == "xn--bcher-kva.example"
    assert target.path == "/hook?order=7"
    assert target.url == "https://xn--bcher-kva.example/hook?order=7"


@pytest.mark.parametrize(
    ("given_url", "host", "port", "path"),
    [
        ("https://receiver.example", "receiver.example", None, "/"),
        ("https://receiver.example:443/a", "receiver.example", None, "/a"),
        ("https://RECEIVER.example:8443/a/b?c=d#frag", "receiver.example", 8443, "/a/b?c=d"),
        ("  https://receiver.example/x  ", "receiver.example", None, "/x"),
        ("https://[2606:4700::1]:8443/h", "2606:4700::1", 8443, "/h"),
    ],
)
def test_parse_url_parts(given_url: str, host: str, port: int | None, path: str) -> None:
    target = parse_url(given_url)
    assert (target.host, target.port, target.path) == (host, port, path)


# --- is_allowed ------------------------------------------------------------------------

REFUSED = [
    "10.0.0.1",  # 10/8
    "10.255.255.255",
    "172.16.0.1",  # 172.16/12
    "172.31.255.254",
    "192.168.1.1",  # 192.168/16
    "100.64.0.1",  # 100.64/10, carrier-grade NAT's shared space
    "100.127.255.254",
    "169.254.169.254",  # EC2's instance metadata (and ECS's 169.254.170.2 below)
    "169.254.170.2",
    "fe80::1",  # IPv6 link-local
    "fd00:ec2::254",  # EC2's IPv6 instance metadata (a unique local address)
    "fc00::1",
    "::ffff:10.0.0.1",  # IPv4-mapped: judged by the IPv4 address
    "::ffff:169.254.169.254",
    "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
    "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
    "224.0.0.1",  # multicast
    "239.255.255.250",
    "ff02::1",
    "ff0e::1",
    "0.0.0.0",  # unspecified
    "::",
    "240.0.0.1",  # reserved
    "255.255.255.255",
    "::a9fe:a9fe",  # IPv4-compatible (deprecated, in reserved ::/8)
    "4000::1",  # IETF-reserved IPv6
    "fec0::1",  # the old site-local
    "192.0.2.1",  # documentation
    "2001:db8::1",
    "198.18.0.1",  # benchmarking
]
LOOPBACK = ["127.0.0.1", "127.255.255.254", "::1", "::ffff:127.0.0.1", "64:ff9b::7f00:1"]
ALLOWED = [PUBLIC_V4, "8.8.8.8", PUBLIC_V6, "2a05:d014::1", "::ffff:8.8.8.8", "64:ff9b::808:808"]


@pytest.mark.parametrize("address", REFUSED)
@pytest.mark.parametrize("allow_loopback", [False, True])
def test_non_public_addresses_are_refused(address: str, allow_loopback: bool) -> None:
    assert not is_allowed(ipaddress.ip_address(address), allow_loopback=allow_loopback)


@pytest.mark.parametrize("address", LOOPBACK)
def test_loopback_only_with_its_setting(address: str) -> None:
    assert not is_allowed(ipaddress.ip_address(address), allow_loopback=False)
    assert is_allowed(ipaddress.ip_address(address), allow_loopback=True)


@pytest.mark.parametrize("address", ALLOWED)
@pytest.mark.parametrize("allow_loopback", [False, True])
def test_public_addresses_are_allowed(address: str, allow_loopback: bool) -> None:
    assert is_allowed(ipaddress.ip_address(address), allow_loopback=allow_loopback)


# Every network the ADR names, and others ipaddress calls private on each Python we run
# (3.11 here, 3.12 on Lambda; 3.12.4 moved some of 192.0.0.0/24 and 2002::/16).
NEVER = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "169.254.0.0/16",
         "0.0.0.0/8", "224.0.0.0/4", "240.0.0.0/4", "192.0.0.0/29", "198.18.0.0/15",
         "fc00::/7", "fe80::/10", "ff00::/8", "::ffff:10.0.0.0/104", "64:ff9b::a9fe:0/112",
         "2001:db8::/32"]  # fmt: skip


@given(st.sampled_from(NEVER).flatmap(lambda net: st.ip_addresses(network=net)))
def test_no_address_in_a_non_public_network_is_allowed(address: IpAddress) -> None:
    assert not is_allowed(address, allow_loopback=True)


@given(st.ip_addresses())
def test_what_is_allowed_is_global_by_ipaddress_too(address: IpAddress) -> None:
    if is_allowed(address, allow_loopback=False):
        assert address.is_global and not address.is_private and not address.is_multicast


@given(st.ip_addresses(v=4))
def test_an_ipv4_address_is_judged_the_same_in_its_ipv6_forms(
    address: ipaddress.IPv4Address,
) -> None:
    mapped = ipaddress.IPv6Address(f"::ffff:{address}")
    nat64 = ipaddress.IPv6Address(int(ipaddress.IPv6Address("64:ff9b::")) | int(address))
    for allow_loopback in (False, True):
        verdict = is_allowed(address, allow_loopback=allow_loopback)
        assert is_allowed(mapped, allow_loopback=allow_loopback) == verdict
        assert is_allowed(nat64, allow_loopback=allow_loopback) == verdict


# --- check ------------------------------------------------------------------------------


def test_a_host_that_resolves_to_public_addresses_is_checked_to_the_first() -> None:
    resolve = resolver({"receiver.example": [PUBLIC_V4, PUBLIC_V6]})
    target = check("https://receiver.example/hook", resolve, allow_loopback=False)
    assert target.address == ipaddress.ip_address(PUBLIC_V4)
    assert target.host == "receiver.example"


@pytest.mark.parametrize("bad", ["10.0.0.7", "169.254.169.254", "fd00:ec2::254", "::1"])
def test_a_host_is_refused_if_any_of_its_addresses_is_not_public(bad: str) -> None:
    resolve = resolver({"receiver.example": [PUBLIC_V4, bad, PUBLIC_V6]})
    with pytest.raises(WebhookRefused) as caught:
        check("https://receiver.example/hook", resolve, allow_loopback=False)
    assert "resolves to a private, loopback, link-local or metadata address" in (
        caught.value.message
    )
    # The address itself is not told: it may be an internal one.
    assert bad not in caught.value.message
    assert caught.value.field == "webhook"


def test_loopback_passes_with_its_setting_and_nothing_else_does() -> None:
    resolve = resolver({"receiver.test": ["127.0.0.1"], "mixed.test": ["127.0.0.1", "10.0.0.1"]})
    target = check("https://receiver.test:8443/hook", resolve, allow_loopback=True)
    assert target.address == ipaddress.ip_address("127.0.0.1")
    with pytest.raises(WebhookRefused):
        check("https://receiver.test:8443/hook", resolve, allow_loopback=False)
    with pytest.raises(WebhookRefused):
        check("https://mixed.test/hook", resolve, allow_loopback=True)


def test_a_literal_address_is_checked_without_resolving() -> None:
    def no_dns(host: str, port: int) -> list[IpAddress]:
        raise AssertionError(f"resolved {host}")

    target = check(f"https://{PUBLIC_V4}/hook", no_dns, allow_loopback=False)
    assert target.address == ipaddress.ip_address(PUBLIC_V4)
    target = check(f"https://[{PUBLIC_V6}]:8443/hook", no_dns, allow_loopback=False)
    assert target.address == ipaddress.ip_address(PUBLIC_V6)
    for literal in ("169.254.169.254", "[fd00:ec2::254]", "[::ffff:10.0.0.1]", "127.0.0.1"):
        with pytest.raises(WebhookRefused):
            check(f"https://{literal}/hook", no_dns, allow_loopback=False)


def test_a_resolver_failure_or_no_address_means_it_does_not_resolve() -> None:
    def failing(host: str, port: int) -> list[IpAddress]:
        raise OSError("DNS timed out at 10.0.0.2")

    for resolve in (failing, resolver({})):
        with pytest.raises(WebhookRefused) as caught:
            check("https://gone.example/hook", resolve, allow_loopback=False)
        assert caught.value.message == "webhook: the host gone.example does not resolve"


@pytest.mark.parametrize("host", ["localhost", "2130706433", "0x7f000001", "0177.0.0.1", "127.1"])
def test_loopback_spelled_as_a_name_or_a_number_is_refused_by_what_it_resolves_to(
    host: str,
) -> None:
    """Not literal addresses to ipaddress, but the system's resolver (inet_aton) reads
    them as 127.0.0.1: judged by that, and connected to that."""
    with pytest.raises(WebhookRefused):
        check(f"https://{host}/hook", system_resolver, allow_loopback=False)
    target = check(f"https://{host}/hook", system_resolver, allow_loopback=True)
    assert target.address.is_loopback


def test_the_resolver_is_asked_for_the_url_port() -> None:
    asked: list[tuple[str, int]] = []

    def resolve(host: str, port: int) -> list[IpAddress]:
        asked.append((host, port))
        return [ipaddress.ip_address(PUBLIC_V4)]

    check("https://receiver.example/hook", resolve, allow_loopback=False)
    check("https://receiver.example:8443/hook", resolve, allow_loopback=False)
    assert asked == [("receiver.example", 443), ("receiver.example", 8443)]


def test_the_checker_uses_its_setting_and_the_field_it_is_given() -> None:
    checker = WebhookChecker(resolver({"receiver.test": ["127.0.0.1"]}), allow_loopback=True)
    assert checker.target("https://receiver.test/").address == ipaddress.ip_address("127.0.0.1")
    with pytest.raises(WebhookRefused) as caught:
        checker.target("https://nowhere.test/", WEBHOOK_HEADER_FIELD)
    assert caught.value.field == "X-Tlfif-Webhook"


# --- Target ----------------------------------------------------------------------------


def test_an_ipv6_address_and_a_port_in_the_url_to_connect_to() -> None:
    target = Target("receiver.example", 8443, "/hook?a=1", ipaddress.ip_address(PUBLIC_V6))
    assert target.connect_url() == f"https://[{PUBLIC_V6}]:8443/hook?a=1"
    assert target.host_header() == "receiver.example:8443"
    assert target.url == "https://receiver.example:8443/hook?a=1"


def test_the_default_port_is_left_out() -> None:
    target = Target("receiver.example", None, "/hook", ipaddress.ip_address(PUBLIC_V4))
    assert target.connect_url() == f"https://{PUBLIC_V4}/hook"
    assert target.host_header() == "receiver.example"


def test_a_literal_ipv6_host_is_bracketed_in_the_host_header() -> None:
    target = check(f"https://[{PUBLIC_V6}]:8443/h", resolver({}), allow_loopback=False)
    assert target.host_header() == f"[{PUBLIC_V6}]:8443"
    assert target.connect_url() == f"https://[{PUBLIC_V6}]:8443/h"


# --- the nameserver setting ------------------------------------------------------------


@pytest.mark.parametrize(
    ("nameserver", "server", "port"),
    [
        ("10.0.0.2", "10.0.0.2", 53),
        ("10.0.0.2:5353", "10.0.0.2", 5353),
        ("[fd00::2]:5353", "fd00::2", 5353),
        ("[fd00::2]", "fd00::2", 53),
        ("fd00::2", "fd00::2", 53),
        ("127.0.0.1:10053", "127.0.0.1", 10053),
    ],
)
def test_nameserver_setting_parsing(nameserver: str, server: str, port: int) -> None:
    assert _server_and_port(nameserver) == (server, port)
