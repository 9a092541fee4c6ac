"""Where a webhook may go (ADR 0031): an https URL whose host resolves to public addresses
only. Checked twice: by the router when the request comes, and by the sender just before
each connection, which then goes to the address it checked (a host that resolved to a
public address at submit and to 169.254.169.254 at send, DNS rebinding, is refused then).

`TLFIF_WEBHOOK_ALLOW_LOOPBACK` (the local stack's setting) lets loopback through; private,
link-local (the metadata address among them), multicast, reserved and unspecified
addresses never are. `TLFIF_WEBHOOK_NAMESERVER` resolves hosts at a named DNS server
instead of the system's resolver.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from tlfif.contracts import MAX_WEBHOOK_URL_CHARS
from tlfif.errors import InvalidInput

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# host, port -> every address the host resolves to (empty: it resolves to none)
Resolver = Callable[[str, int], list[IpAddress]]
FIELD = "webhook"
# NAT64's well-known prefix carries an IPv4 address in its last 32 bits: judged by that one.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
# IANA's special-purpose IPv4 blocks (RFC 6890 and after): none is a public host.
_REFUSED_V4 = tuple(
    ipaddress.IPv4Network(block)
    for block in (
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
        "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16",
        "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
    )
)  # fmt: skip
# IPv6 hosts are public only in 2000::/3, less the blocks there that are not (Teredo and
# the IETF's assignments, documentation, 6to4, which may wrap a private IPv4 address) and
# outside it nothing is: unique-local fc00::/7 (EC2's metadata fd00:ec2::254), link-local,
# the old site-local, multicast, local-use NAT64 64:ff9b:1::/48.
_GLOBAL_UNICAST_V6 = ipaddress.IPv6Network("2000::/3")
_REFUSED_V6 = tuple(
    ipaddress.IPv6Network(block) for block in ("2001::/23", "2001:db8::/32", "2002::/16")
)
_DNS_TIMEOUT_SECONDS = 3.0


class WebhookRefused(InvalidInput):
    """A webhook that may not be called: a 400 naming `webhook` at submit; at send, the
    reason the sender logs for not calling it."""


@dataclass(frozen=True)
class Target:
    """A checked webhook: its URL's parts, and the public address to connect to for it."""

    host: str  # ASCII (IDNA), lower case
    port: int | None
    path: str  # path and query, as given
    address: IpAddress

    @property
    def url(self) -> str:
        return f"https://{_in_url(self.host)}{self._port_part()}{self.path}"

    def connect_url(self) -> str:
        """The URL with the checked address in place of the host name: the connection goes
        there, and TLS is still verified for the name (the sender's sni_hostname)."""
        return f"https://{_in_url(str(self.address))}{self._port_part()}{self.path}"

    def host_header(self) -> str:
        return f"{_in_url(self.host)}{self._port_part()}"

    def _port_part(self) -> str:
        return "" if self.port is None else f":{self.port}"


def _in_url(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def parse_url(given: str, field: str = FIELD) -> Target:
    """The URL's parts (with no address yet: 0.0.0.0), refused (WebhookRefused) unless it is
    an absolute https URL with a host and no user name or password."""
    if len(given) > MAX_WEBHOOK_URL_CHARS:
        raise WebhookRefused(f"{field}: at most {MAX_WEBHOOK_URL_CHARS} characters", field=field)
    try:
        parts = urlsplit(given.strip())
        port = parts.port
    except ValueError:
        raise WebhookRefused(f"{field}: not a URL", field=field) from None
    if parts.scheme.lower() != "https":
        raise WebhookRefused(f"{field}: must be an https:// URL", field=field)
    if not parts.hostname:
        raise WebhookRefused(f"{field}: the URL names no host", field=field)
    if parts.username is not None or parts.password is not None:
        raise WebhookRefused(
            f"{field}: the URL must not carry a user name or password", field=field
        )
    try:
        host = parts.hostname.encode("idna").decode("ascii")
    except UnicodeError:
        raise WebhookRefused(f"{field}: the host is not a valid name", field=field) from None
    if port == 0:
        raise WebhookRefused(f"{field}: port 0 is no port", field=field)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(host, None if port == 443 else port, path, ipaddress.IPv4Address(0))


def check(given: str, resolve: Resolver, *, allow_loopback: bool, field: str = FIELD) -> Target:
    """The webhook's target, or WebhookRefused saying why not (never naming the addresses:
    they may be internal ones)."""
    parsed = parse_url(given, field)
    literal = _literal_address(parsed.host)
    if literal is not None:
        addresses = [literal]
    else:
        try:
            addresses = resolve(parsed.host, parsed.port or 443)
        except OSError:
            addresses = []
        if not addresses:
            raise WebhookRefused(f"{field}: the host {parsed.host} does not resolve", field=field)
    for address in addresses:
        if not is_allowed(address, allow_loopback=allow_loopback):
            raise WebhookRefused(
                f"{field}: the host {parsed.host} resolves to a private, loopback, link-local "
                "or metadata address; webhooks go to public hosts only",
                field=field,
            )
    return replace(parsed, address=addresses[0])


def is_allowed(address: IpAddress, *, allow_loopback: bool) -> bool:
    """Whether a webhook may connect to `address`: a public unicast one (or loopback, where
    allowed). Judged by the lists below, not by `ipaddress.is_global`, whose answers change
    between Python versions (3.11 here, 3.12 on Lambda)."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return is_allowed(address.ipv4_mapped, allow_loopback=allow_loopback)
        if address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
            return is_allowed(embedded, allow_loopback=allow_loopback)
    if address.is_loopback:
        return allow_loopback
    if isinstance(address, ipaddress.IPv4Address):
        return not any(address in network for network in _REFUSED_V4)
    return address in _GLOBAL_UNICAST_V6 and not any(address in net for net in _REFUSED_V6)


def _literal_address(host: str) -> IpAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def system_resolver(host: str, port: int) -> list[IpAddress]:
    """The system's resolver (getaddrinfo), every address it gives, in its order."""
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses: list[IpAddress] = []
    for _family, _type, _proto, _name, sockaddr in found:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%")[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


def nameserver_resolver(nameserver: str) -> Resolver:
    """A resolver asking one DNS server (host[:port], UDP) for A and AAAA records."""
    import dns.exception
    import dns.resolver

    server, port = _server_and_port(nameserver)
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = [server]
    resolver.port = port
    resolver.lifetime = _DNS_TIMEOUT_SECONDS

    def resolve(host: str, port: int) -> list[IpAddress]:
        addresses: list[IpAddress] = []
        for record_type in ("A", "AAAA"):
            try:
                answer = resolver.resolve(host, record_type)
            except (dns.resolver.NoAnswer, dns.resolver.NXDOMAIN):
                continue
            except dns.exception.DNSException as exc:
                raise OSError(f"DNS {record_type} {host} at {nameserver}: {exc}") from exc
            addresses += [ipaddress.ip_address(record.to_text()) for record in answer]
        return addresses

    return resolve


def _server_and_port(nameserver: str) -> tuple[str, int]:
    """ "10.0.0.2", "10.0.0.2:5353", "[fd00::2]:5353" or "fd00::2" -> (address, port)."""
    if nameserver.startswith("["):
        server, _, rest = nameserver[1:].partition("]")
        return server, int(rest.removeprefix(":") or 53)
    if nameserver.count(":") == 1:
        server, _, port = nameserver.partition(":")
        return server, int(port)
    return nameserver, 53


def resolver_for(nameserver: str) -> Resolver:
    return nameserver_resolver(nameserver) if nameserver else system_resolver


@dataclass(frozen=True)
class WebhookChecker:
    """`check` with a deployment's resolver and loopback setting."""

    resolve: Resolver
    allow_loopback: bool

    def target(self, given: str, field: str = FIELD) -> Target:
        return check(given, self.resolve, allow_loopback=self.allow_loopback, field=field)
