"""Who is asking: the client address of a request, trusting forwarding headers only from proxies.

A reverse proxy says whom it forwards for in ``X-Forwarded-For`` (or the
standard ``Forwarded: for=...``). Anyone can write those headers, so they are
read only when the connection comes from an address in the ``trusted_proxies``
setting; the client is then the nearest address in the chain that is not a
trusted proxy. Rate limits count by this address.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from typing import Any

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
#: Addresses in ``for=`` we cannot use (``unknown``, obfuscated ``_hidden`` names).
_UNUSABLE = "unknown"


def parse_networks(entries: Iterable[str]) -> tuple[Network, ...]:
    """``10.0.0.1``, ``10.0.0.0/8`` or ``::1`` as networks; ValueError names a bad entry."""
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            raise ValueError(f"'{entry}' is not an IP address or network (10.0.0.0/8)") from None
    return tuple(networks)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def is_trusted(address: str, proxies: Sequence[Network]) -> bool:
    found = _address(address)
    return found is not None and any(found in network for network in proxies)


def _header(scope: dict[str, Any], name: bytes) -> str:
    values = [v.decode("latin-1") for k, v in scope.get("headers", []) if k == name]
    return ",".join(values)


def _strip_port(text: str) -> str:
    text = text.strip().strip('"')
    if text.startswith("["):  # [2001:db8::1]:4711
        return text[1 : text.find("]")] if "]" in text else text
    if text.count(":") == 1:  # 192.0.2.60:8080
        return text.split(":", 1)[0]
    return text


def _forwarded_for(value: str) -> list[str]:
    """The ``for=`` addresses of a ``Forwarded`` header (RFC 7239), nearest client first."""
    found = []
    for element in value.split(","):
        for pair in element.split(";"):
            name, _, content = pair.partition("=")
            if name.strip().lower() == "for":
                found.append(_strip_port(content))
    return found


def forwarding_chain(scope: dict[str, Any]) -> list[str]:
    """The addresses a request passed through, the original client first (may be empty)."""
    forwarded = _header(scope, b"forwarded")
    if forwarded:
        return _forwarded_for(forwarded)
    chain = _header(scope, b"x-forwarded-for")
    return [_strip_port(part) for part in chain.split(",") if part.strip()]


def client_address(scope: dict[str, Any], proxies: Sequence[Network]) -> str:
    """The address to count a request against (see the module docstring)."""
    client = scope.get("client")
    peer = client[0] if client else "unknown"
    if not proxies or not is_trusted(peer, proxies):
        return str(peer)
    for hop in reversed(forwarding_chain(scope)):
        if hop and hop != _UNUSABLE and not is_trusted(hop, proxies):
            return hop
    return str(peer)
