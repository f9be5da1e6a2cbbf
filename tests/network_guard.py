"""A guard that keeps the test suite on this machine: any socket the tests open may connect
only to loopback (127.0.0.0/8, ::1) or a Unix socket. A test whose code under test regresses
(a fetcher that forgets its address check, say) then fails with a clear error instead of
sending traffic to another network."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

_connect = socket.socket.connect
_connect_ex = socket.socket.connect_ex
_sendto = socket.socket.sendto


class NonLoopbackConnection(ConnectionRefusedError):
    """Raised instead of connecting a test's socket to an address off this machine."""


def _check(address: Any) -> None:
    if isinstance(address, (str, bytes)):  # a Unix socket path
        return
    host = address[0] if isinstance(address, tuple) and address else address
    try:
        ip = ipaddress.ip_address(str(host).split("%", 1)[0])
    except ValueError:
        raise NonLoopbackConnection(f"tests connect to addresses only, not to {host!r}") from None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if not ip.is_loopback:
        raise NonLoopbackConnection(f"tests stay on loopback: refused a connection to {ip}")


def _guarded_connect(self: socket.socket, address: Any) -> None:
    _check(address)
    _connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> int:
    _check(address)
    return _connect_ex(self, address)


def _guarded_sendto(self: socket.socket, data: Any, *args: Any) -> int:
    _check(args[-1])
    return _sendto(self, data, *args)


def install() -> None:
    """Replace connect, connect_ex and sendto on every Python-level socket of this process."""
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]
    socket.socket.sendto = _guarded_sendto  # type: ignore[method-assign]
