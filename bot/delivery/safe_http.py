"""Downloads that go only where they may: public `https://` addresses, checked at every hop.

MusicAPI's answers name the files the bot fetches, and a hostile or broken answer (or a CDN's
redirect) could name the bot's own metrics port, a cloud metadata address or a private network.
So every download goes through `MediaFetcher`:

- every URL, the first and each redirect, must be `https://` and its host in `MEDIA_HOSTS` when
  that is set. The one exception is MUSICAPI_BASE_URL's own host and port when that is on
  loopback (the simulator, tests), which may also be `http://`;
- a host written as an address is checked as written; a host name is checked after DNS, inside
  the connector's resolver, so the connection goes to the very addresses that were checked (a
  second lookup answering differently, DNS rebinding, never reaches a socket);
- redirects are followed here, at most `MAX_REDIRECTS`, never by aiohttp on its own.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver
from yarl import URL

MAX_REDIRECTS = 5
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_LOOPBACK_NAMES = frozenset({"localhost"})


class RefusedURL(Exception):
    """A download the bot will not make; the text says why (host names only, never a URL, which
    may carry a signed token)."""


def address_refusal(address: IPv4Address | IPv6Address) -> str | None:
    """Why the bot never connects to `address`, or None when it is a public one."""
    if isinstance(address, IPv6Address):
        # IPv4 inside IPv6 (::ffff:a.b.c.d, 6to4, Teredo, NAT64) reaches that IPv4 address.
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address.teredo is not None:
            embedded = address.teredo[1]
        if embedded is None and address in _NAT64:
            embedded = IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            inner = address_refusal(embedded)
            if inner is not None:
                return inner
        if address.is_site_local:
            return "site-local"
    checks = (
        (address.is_unspecified, "unspecified"),
        (address.is_loopback, "loopback"),
        (address.is_link_local, "link-local"),
        (address.is_multicast, "multicast"),
        (address in _CGNAT, "shared (CGNAT)"),
        (address.is_private, "private"),
        (address.is_reserved, "reserved"),
        (not address.is_global, "non-public"),
    )
    for hit, why in checks:
        if hit:
            return why
    return None


def _literal(host: str) -> IPv4Address | IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def host_matches(host: str, patterns: Iterable[str]) -> bool:
    """`cdn.example.com` matches itself; `*.example.com` matches any name under example.com."""
    for pattern in patterns:
        if pattern.startswith("*."):
            if host.endswith(pattern[1:]):
                return True
        elif host == pattern:
            return True
    return False


@dataclass(frozen=True, slots=True)
class MediaPolicy:
    """Where downloads may go."""

    # MEDIA_HOSTS, lower-case; None: any public host.
    hosts: frozenset[str] | None = None
    # MUSICAPI_BASE_URL's (host, port) when it is on loopback; None otherwise.
    loopback_origin: tuple[str, int] | None = None

    @classmethod
    def for_musicapi(cls, base_url: str, hosts: frozenset[str] | None = None) -> MediaPolicy:
        url = URL(base_url)
        host = (url.host or "").lower()
        literal = _literal(host)
        on_loopback = host in _LOOPBACK_NAMES or (literal is not None and literal.is_loopback)
        origin = (host, url.port) if on_loopback and url.port is not None else None
        return cls(hosts=hosts, loopback_origin=origin)

    def is_loopback_origin(self, host: str, port: int | None) -> bool:
        return self.loopback_origin is not None and self.loopback_origin == (host.lower(), port)

    def check_url(self, url: URL) -> None:
        """Raise RefusedURL unless `url` may be fetched (its addresses are checked at connect)."""
        scheme = url.scheme.lower()
        host = (url.host or "").lower().rstrip(".")
        if scheme not in ("http", "https") or not host:
            raise RefusedURL(f"not an http(s) address (scheme {scheme or 'none'!r})")
        if self.is_loopback_origin(host, url.port):
            return
        if scheme != "https":
            raise RefusedURL(f"{host}: only https:// is downloaded")
        if self.hosts is not None and not host_matches(host, self.hosts):
            raise RefusedURL(f"{host} is not in MEDIA_HOSTS")
        literal = _literal(host)
        if literal is not None:
            why = address_refusal(literal)
            if why is not None:
                raise RefusedURL(f"{host} is a {why} address")
        elif all(ch in "0123456789." for ch in host) or host.startswith("0x"):
            # 2130706433 or 0x7f.1: numbers a resolver would turn into an address.
            raise RefusedURL(f"{host} is not a canonical address")


class PublicOnlyResolver(AbstractResolver):
    """Resolves as usual, then refuses a host any of whose addresses is not public: aiohttp
    connects only to what this returns, so what was checked is what is reached."""

    def __init__(self, policy: MediaPolicy, inner: AbstractResolver | None = None) -> None:
        self._policy = policy
        self._inner = inner if inner is not None else DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        origin = self._policy.is_loopback_origin(host, port)
        for result in results:
            literal = _literal(result["host"])
            if literal is None:
                raise RefusedURL(f"{host} resolved to something that is not an address")
            if origin and literal.is_loopback:
                continue
            why = address_refusal(literal)
            if why is not None:
                raise RefusedURL(f"{host} resolves to a {why} address")
        if not results:
            raise RefusedURL(f"{host} has no address")
        return results

    async def close(self) -> None:
        await self._inner.close()


class MediaFetcher:
    """The one HTTP client for files MusicAPI points at (songs, covers, stems, MIDI, WAV)."""

    def __init__(
        self,
        policy: MediaPolicy,
        *,
        resolver: AbstractResolver | None = None,
        trace_configs: list[aiohttp.TraceConfig] | None = None,
    ) -> None:
        self.policy = policy
        connector = aiohttp.TCPConnector(resolver=PublicOnlyResolver(policy, resolver))
        # trust_env=False: no proxy from the environment, which would connect elsewhere.
        self._session = aiohttp.ClientSession(
            connector=connector, trust_env=False, trace_configs=trace_configs
        )

    async def close(self) -> None:
        await self._session.close()

    @asynccontextmanager
    async def get(
        self, url: str, *, limits: aiohttp.ClientTimeout
    ) -> AsyncIterator[aiohttp.ClientResponse]:
        """The response at `url` after its redirects, each hop checked before it is asked.

        Raises RefusedURL for an address the policy refuses (at any hop, or after DNS), and
        aiohttp's errors for the rest. The whole chain shares `limits.total`."""
        try:
            current = URL(url)
        except (TypeError, ValueError):
            raise RefusedURL("not a URL") from None
        async with asyncio.timeout(limits.total):
            for _hop in range(MAX_REDIRECTS + 1):
                self.policy.check_url(current)
                async with self._session.get(
                    current, allow_redirects=False, timeout=limits
                ) as response:
                    if response.status not in _REDIRECT_STATUSES:
                        yield response
                        return
                    location = response.headers.get("Location", "")
                    try:
                        current = response.url.join(URL(location))
                    except (TypeError, ValueError):
                        raise RefusedURL("a redirect to something that is not a URL") from None
                    if not location:
                        raise RefusedURL("a redirect without a Location")
            raise RefusedURL(f"more than {MAX_REDIRECTS} redirects")
