"""The suite's own guard refuses any connection off loopback, before a packet leaves."""

from __future__ import annotations

import asyncio
import socket

import pytest

from tests.network_guard import NonLoopbackConnection


@pytest.mark.parametrize("address", ["169.254.169.254", "10.0.0.8", "192.168.1.10", "8.8.8.8"])
def test_a_socket_to_another_network_is_refused(address: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        with pytest.raises(NonLoopbackConnection):
            sock.connect((address, 80))
        with pytest.raises(NonLoopbackConnection):
            sock.connect_ex((address, 80))


def test_udp_to_another_network_is_refused() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        with pytest.raises(NonLoopbackConnection):
            sock.sendto(b"x", ("10.1.2.3", 53))


async def test_asyncio_connections_off_loopback_are_refused() -> None:
    with pytest.raises(NonLoopbackConnection):
        await asyncio.open_connection("169.254.169.254", 80)


async def test_loopback_still_connects() -> None:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"ok")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    assert await reader.read() == b"ok"
    writer.close()
    server.close()
    await server.wait_closed()
