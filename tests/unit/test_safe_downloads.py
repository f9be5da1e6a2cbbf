"""Downloads go only to public https:// addresses (or the loopback MusicAPI itself), checked at
every redirect and after DNS; bodies are capped and attached only when they are what they claim.

Only 127.0.0.1 is ever contacted: a "CDN" server stands for MusicAPI's file server (the allowed
loopback origin) and a second server for the bot's metrics port. Non-loopback addresses are
refused before any connection, which a trace on the fetcher's session shows; host names resolve
through a stub, never real DNS.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from ipaddress import ip_address
from types import SimpleNamespace

import aiohttp
import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult

from bot.delivery.media import (
    AUDIO_KINDS,
    IMAGE_KINDS,
    REFUSED_NOTE,
    TOO_LARGE_NOTE,
    WRONG_TYPE_NOTE,
    Fetched,
    fetch_bounded,
    fetch_with_retries,
)
from bot.delivery.safe_http import (
    MAX_REDIRECTS,
    MediaFetcher,
    MediaPolicy,
    PublicOnlyResolver,
    RefusedURL,
    address_refusal,
    host_matches,
)

WAV = b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(64)


# (status, headers, body): a fresh response is built per request.
Answer = tuple[int, dict[str, str], bytes]


@dataclass
class Server:
    """A loopback server that records every request and answers with `routes`."""

    routes: dict[str, Answer] = field(default_factory=dict)
    seen: list[str] = field(default_factory=list)
    base_url: str = ""
    chunked: dict[str, bytes] = field(default_factory=dict)
    handlers: dict[str, Callable[[web.Request], Awaitable[web.StreamResponse]]] = field(
        default_factory=dict
    )

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.seen.append(request.path)
        if request.path in self.handlers:
            return await self.handlers[request.path](request)
        if request.path in self.chunked:
            response = web.StreamResponse()
            response.enable_chunked_encoding()
            await response.prepare(request)
            data = self.chunked[request.path]
            for start in range(0, len(data), 16 * 1024):
                await response.write(data[start : start + 16 * 1024])
            await response.write_eof()
            return response
        status, headers, body = self.routes.get(request.path, (404, {}, b""))
        return web.Response(status=status, headers=headers, body=body)


async def _serve(server: Server) -> web.AppRunner:
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", server.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server.base_url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    return runner


def _redirect(location: str) -> Answer:
    return 302, {"Location": location}, b""


def _body(data: bytes) -> Answer:
    return 200, {}, data


@pytest.fixture
async def cdn() -> AsyncIterator[Server]:
    server = Server()
    runner = await _serve(server)
    yield server
    await runner.cleanup()


@pytest.fixture
async def metrics() -> AsyncIterator[Server]:
    """Stands for the bot's own metrics port: it must never see a request."""
    server = Server(routes={"/metrics": _body(b"musicbot_info 1\n")})
    runner = await _serve(server)
    yield server
    await runner.cleanup()


class StubResolver(AbstractResolver):
    """Host names to fixed addresses; records each lookup."""

    def __init__(self, table: dict[str, list[str]]) -> None:
        self.table = table
        self.asked: list[str] = []

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.asked.append(host)
        return [
            ResolveResult(
                hostname=host, host=address, port=port, family=socket.AF_INET, proto=0, flags=0
            )
            for address in self.table.get(host, [])
        ]

    async def close(self) -> None:
        return None


@dataclass
class Traced:
    """What the fetcher's session asked for and which connections it opened."""

    requests: list[str] = field(default_factory=list)
    connections: int = 0

    def config(self) -> aiohttp.TraceConfig:
        trace = aiohttp.TraceConfig()

        async def on_request(
            _s: aiohttp.ClientSession, _c: SimpleNamespace, params: aiohttp.TraceRequestStartParams
        ) -> None:
            self.requests.append(str(params.url))

        async def on_connected(
            _s: aiohttp.ClientSession,
            _c: SimpleNamespace,
            _p: aiohttp.TraceConnectionCreateEndParams,
        ) -> None:
            self.connections += 1

        trace.on_request_start.append(on_request)
        trace.on_connection_create_end.append(on_connected)
        return trace


async def _fetch(
    policy: MediaPolicy,
    url: str,
    *,
    resolver: AbstractResolver | None = None,
    max_bytes: int = 10_000_000,
    kinds: frozenset[str] = AUDIO_KINDS,
) -> tuple[Fetched, Traced]:
    traced = Traced()
    fetcher = MediaFetcher(policy, resolver=resolver, trace_configs=[traced.config()])
    try:
        got = await fetch_with_retries(fetcher, url, max_bytes, kinds=kinds, budget_s=5)
    finally:
        await fetcher.close()
    return got, traced


# -- the address check -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.1", "loopback"),
        ("10.0.0.8", "private"),
        ("172.16.4.2", "private"),
        ("192.168.1.10", "private"),
        ("169.254.169.254", "link-local"),
        ("100.64.0.1", "shared (CGNAT)"),
        ("224.0.0.251", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("240.0.0.1", "private"),  # reserved (240/4) counts as private to Python too
        ("::1", "loopback"),
        ("::", "unspecified"),
        ("fe80::1", "link-local"),
        ("fc00::5", "private"),
        ("fec0::1", "site-local"),
        ("ff02::1", "multicast"),
        ("::ffff:169.254.169.254", "link-local"),  # IPv4-mapped
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:10.1.2.3", "private"),
        ("2002:a9fe:a9fe::1", "link-local"),  # 6to4 of 169.254.169.254
        ("64:ff9b::a00:1", "private"),  # NAT64 of 10.0.0.1
        ("2001:db8::1", "private"),  # documentation range
    ],
)
def test_non_public_addresses_are_refused_with_their_kind(address: str, why: str) -> None:
    assert address_refusal(ip_address(address)) == why


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "151.101.1.1", "2606:4700::1111"])
def test_public_addresses_pass(address: str) -> None:
    assert address_refusal(ip_address(address)) is None


def test_host_patterns_match_names_not_suffixes() -> None:
    hosts = frozenset({"cdn.good.test", "*.files.good.test"})
    assert host_matches("cdn.good.test", hosts)
    assert host_matches("a.b.files.good.test", hosts)
    assert not host_matches("files.good.test.evil.test", hosts)
    assert not host_matches("evilfiles.good.test", hosts)
    assert not host_matches("x.cdn.good.test", hosts)


def test_only_a_loopback_musicapi_is_an_allowed_origin() -> None:
    assert MediaPolicy.for_musicapi("http://127.0.0.1:8123").loopback_origin == ("127.0.0.1", 8123)
    assert MediaPolicy.for_musicapi("http://localhost:80").loopback_origin == ("localhost", 80)
    assert MediaPolicy.for_musicapi("https://api.musicapi.ai").loopback_origin is None
    assert MediaPolicy.for_musicapi("http://10.0.0.5:8123").loopback_origin is None


# -- redirects -----------------------------------------------------------------------------------


async def test_the_loopback_musicapi_serves_its_files_and_redirects_within_itself(
    cdn: Server,
) -> None:
    cdn.routes["/a.wav"] = _redirect("/b.wav")
    cdn.routes["/b.wav"] = _body(WAV)
    got, _ = await _fetch(MediaPolicy.for_musicapi(cdn.base_url), f"{cdn.base_url}/a.wav")
    assert got.data == WAV and got.ext == "wav"
    assert cdn.seen == ["/a.wav", "/b.wav"]


@pytest.mark.parametrize(
    "target",
    [
        "http://127.0.0.1:{port}/metrics",
        "https://127.0.0.1:{port}/metrics",
        "http://localhost:{port}/metrics",
        "https://localhost:{port}/metrics",  # a name: refused after DNS, in the resolver
        "http://[::ffff:127.0.0.1]:{port}/metrics",
    ],
)
async def test_a_redirect_to_another_loopback_port_is_never_followed(
    cdn: Server, metrics: Server, target: str
) -> None:
    port = metrics.base_url.rsplit(":", 1)[1]
    cdn.routes["/song.wav"] = _redirect(target.format(port=port))
    got, _ = await _fetch(MediaPolicy.for_musicapi(cdn.base_url), f"{cdn.base_url}/song.wav")
    assert got.data is None and got.link_note == REFUSED_NOTE
    assert cdn.seen == ["/song.wav"]
    assert metrics.seen == []


@pytest.mark.parametrize(
    "target",
    [
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "https://169.254.169.254/latest/meta-data/",
        "https://[fd00:ec2::254]/latest/meta-data/",
        "https://10.0.0.8/internal",
        "https://192.168.1.10/admin",
        "https://[::ffff:a9fe:a9fe]/latest/meta-data/",
        "https://2130706433/",  # 127.0.0.1 as one number
        "ftp://files.example.test/song.wav",
    ],
)
async def test_a_redirect_to_a_private_or_link_local_address_is_refused_before_connecting(
    cdn: Server, target: str
) -> None:
    cdn.routes["/song.wav"] = _redirect(target)
    resolver = StubResolver({})
    got, traced = await _fetch(
        MediaPolicy.for_musicapi(cdn.base_url), f"{cdn.base_url}/song.wav", resolver=resolver
    )
    assert got.data is None and got.link_note == REFUSED_NOTE
    # The first hop only: the refused address was never asked for, nor connected to.
    assert traced.requests == [f"{cdn.base_url}/song.wav"]
    assert traced.connections == 1
    assert resolver.asked == []


async def test_too_many_redirects_are_refused(cdn: Server) -> None:
    cdn.routes["/loop.wav"] = _redirect("/loop.wav")
    got, _ = await _fetch(MediaPolicy.for_musicapi(cdn.base_url), f"{cdn.base_url}/loop.wav")
    assert got.data is None and got.link_note == REFUSED_NOTE
    assert len(cdn.seen) == MAX_REDIRECTS + 1


# -- host names, schemes and MEDIA_HOSTS ------------------------------------------------------


@pytest.mark.parametrize(
    "addresses",
    [["10.1.2.3"], ["169.254.169.254"], ["127.0.0.1"], ["93.184.215.14", "192.168.0.7"]],
)
async def test_a_host_name_resolving_to_a_non_public_address_is_refused(
    addresses: list[str],
) -> None:
    resolver = StubResolver({"cdn.example.test": addresses})
    got, traced = await _fetch(
        MediaPolicy(), "https://cdn.example.test/song.wav", resolver=resolver
    )
    assert got.data is None and got.link_note == REFUSED_NOTE
    assert resolver.asked == ["cdn.example.test"]
    assert traced.connections == 0


async def test_the_resolver_refuses_a_name_whatever_it_is_asked_for() -> None:
    # Straight at the resolver the connector uses: every address it hands on was checked.
    inner = StubResolver({"rebind.example.test": ["127.0.0.1"], "ok.example.test": ["8.8.8.8"]})
    resolver = PublicOnlyResolver(MediaPolicy(), inner)
    with pytest.raises(RefusedURL, match="loopback"):
        await resolver.resolve("rebind.example.test", 443)
    assert [r["host"] for r in await resolver.resolve("ok.example.test", 443)] == ["8.8.8.8"]


async def test_a_host_not_in_media_hosts_is_refused_before_dns() -> None:
    resolver = StubResolver({"cdn.other.test": ["8.8.8.8"]})
    policy = MediaPolicy(hosts=frozenset({"cdn.good.test"}))
    got, traced = await _fetch(policy, "https://cdn.other.test/song.wav", resolver=resolver)
    assert got.data is None and got.link_note == REFUSED_NOTE
    assert resolver.asked == [] and traced.requests == []


async def test_a_redirect_out_of_media_hosts_is_refused(cdn: Server) -> None:
    # The loopback origin stands for an allowed host; its redirect leaves the list.
    cdn.routes["/song.wav"] = _redirect("https://cdn.other.test/song.wav")
    resolver = StubResolver({"cdn.other.test": ["8.8.8.8"]})
    policy = MediaPolicy.for_musicapi(cdn.base_url, frozenset({"cdn.good.test"}))
    got, traced = await _fetch(policy, f"{cdn.base_url}/song.wav", resolver=resolver)
    assert got.link_note == REFUSED_NOTE
    assert resolver.asked == [] and len(traced.requests) == 1


async def test_plain_http_to_a_public_host_is_refused() -> None:
    resolver = StubResolver({"cdn.example.test": ["8.8.8.8"]})
    got, traced = await _fetch(MediaPolicy(), "http://cdn.example.test/song.wav", resolver=resolver)
    assert got.data is None and got.link_note == REFUSED_NOTE
    assert resolver.asked == [] and traced.requests == []


async def test_a_loopback_file_is_refused_when_musicapi_is_not_on_loopback(cdn: Server) -> None:
    cdn.routes["/song.wav"] = _body(WAV)
    policy = MediaPolicy.for_musicapi("https://api.musicapi.ai")
    got, _ = await _fetch(policy, f"{cdn.base_url}/song.wav")
    assert got.link_note == REFUSED_NOTE
    assert cdn.seen == []


# -- bodies -------------------------------------------------------------------------------------


async def test_a_body_past_the_cap_is_cut_off_even_without_a_length(cdn: Server) -> None:
    cdn.chunked["/big.wav"] = WAV + bytes(512 * 1024)
    got, _ = await _fetch(
        MediaPolicy.for_musicapi(cdn.base_url), f"{cdn.base_url}/big.wav", max_bytes=64 * 1024
    )
    assert got.data is None and got.link_note == TOO_LARGE_NOTE


@pytest.mark.parametrize(
    ("body", "kinds"),
    [
        (b"<html><body>Access denied</body></html>", AUDIO_KINDS),
        (b"", AUDIO_KINDS),
        (b"\x89PNG\r\n\x1a\n" + bytes(32), AUDIO_KINDS),  # an image is not a song
        (WAV, IMAGE_KINDS),  # nor a song a cover
    ],
)
async def test_bytes_of_another_kind_are_not_attached(
    cdn: Server, body: bytes, kinds: frozenset[str]
) -> None:
    cdn.routes["/file"] = _body(body)
    got, _ = await _fetch(
        MediaPolicy.for_musicapi(cdn.base_url), f"{cdn.base_url}/file", kinds=kinds
    )
    assert got.data is None and got.link_note == WRONG_TYPE_NOTE


async def test_a_body_that_stalls_is_cut_off_by_the_time_limit(cdn: Server) -> None:
    stalled, release = asyncio.Event(), asyncio.Event()

    async def stall(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        await response.write(WAV)
        stalled.set()
        await release.wait()  # not before the client's limit has decided
        return response

    fetcher = MediaFetcher(MediaPolicy.for_musicapi(cdn.base_url))
    cdn.handlers["/slow.wav"] = stall
    try:
        with pytest.raises(TimeoutError):
            await fetch_bounded(
                fetcher,
                f"{cdn.base_url}/slow.wav",
                10_000_000,
                limits=aiohttp.ClientTimeout(total=0.5),
            )
    finally:
        release.set()
        await fetcher.close()
    assert stalled.is_set()
