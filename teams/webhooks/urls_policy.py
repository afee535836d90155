"""Where a webhook may be sent: `check_url`, at registration (the team's admin form) and again
before every attempt (a name can point anywhere later).

A URL passes when its scheme is `https` (or `http` with WEBHOOK_ALLOW_HTTP on), it has a host,
and every address the host resolves to is public: not loopback, private, link-local (the cloud
metadata service at 169.254.169.254), multicast, reserved, unspecified, shared (CGNAT
100.64.0.0/10) or otherwise not globally routable, looked at through IPv4-mapped, 6to4 and NAT64
IPv6 forms too. A host listed in WEBHOOK_ALLOWED_HOSTS passes whatever it resolves to (tests, a
private deployment). The checked addresses are returned so that the request connects to one
of them, not to whatever the name resolves to a moment later (services.py).
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass

import httpx
from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # the well-known NAT64 prefix: IPv4 inside
DEFAULT_PORTS = {"https": 443, "http": 80}


class UrlRefused(Exception):
    """A URL the policy refuses. `transient`: the name did not resolve (worth another try)."""

    def __init__(self, message: str, *, code: str, transient: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.transient = transient


@dataclass(frozen=True)
class Destination:
    """A checked URL: its host (ASCII, for the Host header and TLS) and the addresses it
    resolved to when checked, in the resolver's order of preference."""

    url: httpx.URL
    host: str
    addresses: tuple[str, ...]

    def pinned(self, address: str) -> httpx.URL:
        """The URL with its host replaced by `address` (the connection goes there)."""
        return self.url.copy_with(host=address)

    @property
    def host_header(self) -> str:
        return self.url.netloc.decode("ascii")


def allowed_hosts() -> set[str]:
    """WEBHOOK_ALLOWED_HOSTS, normalised (lower case, no brackets or trailing dot)."""
    return {_normal(host) for host in settings.WEBHOOK_ALLOWED_HOSTS if host.strip()}


def _normal(host: str) -> str:
    return host.strip().strip("[]").rstrip(".").lower()


def check_url(url: str, *, resolve_allowed: bool = True) -> Destination:
    """Check `url` against the policy (module docstring) and resolve its host. Returns the
    Destination; raises UrlRefused naming the rule broken. With `resolve_allowed` off
    (registration) an allowed host is not resolved: there is nothing to check, and its name may
    resolve only where the workers run."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError):
        raise UrlRefused("Not a valid URL.", code="invalid_url") from None
    scheme = parsed.scheme
    if scheme not in DEFAULT_PORTS:
        raise UrlRefused("Use an https:// URL.", code="url_scheme")
    if scheme == "http" and not settings.WEBHOOK_ALLOW_HTTP:
        raise UrlRefused(
            "Use an https:// URL: http is allowed only with WEBHOOK_ALLOW_HTTP on.",
            code="url_scheme",
        )
    host = parsed.raw_host.decode("ascii")
    if not host:
        raise UrlRefused("The URL has no host.", code="url_host")
    port = parsed.port or DEFAULT_PORTS[scheme]
    allowed = _normal(host) in allowed_hosts()
    if allowed and not resolve_allowed:
        return Destination(url=parsed, host=host, addresses=())
    addresses = _resolve(host, port)
    if not allowed:
        for address in addresses:
            problem = address_problem(ipaddress.ip_address(address))
            if problem:
                shown = host if host == address else f"{host} resolves to {address}, which"
                raise UrlRefused(
                    f"{shown} is {problem}: webhooks are sent to public addresses only "
                    "(WEBHOOK_ALLOWED_HOSTS lists exceptions).",
                    code="url_not_public",
                )
    return Destination(url=parsed, host=host, addresses=addresses)


def _resolve(host: str, port: int) -> tuple[str, ...]:
    """Every address `host` resolves to (an IP literal: itself), without duplicates."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise UrlRefused(
            f"The host {host} could not be resolved.", code="url_unresolved", transient=True
        ) from None
    # sockaddr[0] of an IPv6 link-local address may carry a zone ("fe80::1%eth0")
    addresses = tuple(dict.fromkeys(info[4][0].split("%")[0] for info in infos))
    if not addresses:
        raise UrlRefused(
            f"The host {host} could not be resolved.", code="url_unresolved", transient=True
        )
    return addresses


def address_problem(ip: IPAddress) -> str | None:
    """Why a webhook may not be sent to `ip` ("a loopback address", …), or None if it is a
    public address. IPv6 forms that carry an IPv4 address are judged by that address first."""
    for candidate in (*_embedded_ipv4(ip), ip):
        problem = _problem(candidate)
        if problem:
            return problem
    return None


def _embedded_ipv4(ip: IPAddress) -> list[ipaddress.IPv4Address]:
    if not isinstance(ip, ipaddress.IPv6Address):
        return []
    embedded = [ip.ipv4_mapped, ip.sixtofour]
    if ip in NAT64:
        embedded.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return [address for address in embedded if address is not None]


def _problem(ip: IPAddress) -> str | None:
    if ip.is_unspecified:
        return "an unspecified address"
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_multicast:
        return "a multicast address"
    if ip.is_private:
        return "a private address"
    if ip.is_reserved:
        return "a reserved address"
    if not ip.is_global:
        return "not a public address"
    return None
