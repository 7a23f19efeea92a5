"""The client's address behind reverse proxies.

`X-Forwarded-For` is anyone's to write, so it counts only when the connection
comes from a configured trusted proxy (EASYFLOW_API_TRUSTED_PROXIES); then the
right-most address that is not itself a trusted proxy is the client (proxies
append, so entries further left were written by the client and prove nothing)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from starlette.requests import Request

type IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(raw: str) -> tuple[IPNetwork, ...]:
    """Comma-separated addresses or CIDR ranges; ValueError names a bad one."""
    networks = []
    for item in raw.split(","):
        item = item.strip()
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError(f"{item!r} is not an IP address or CIDR range") from None
    return tuple(networks)


def _trusted(address: str, proxies: Iterable[IPNetwork]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in proxies)


def client_ip(request: Request, proxies: tuple[IPNetwork, ...]) -> str:
    peer = request.client.host if request.client else "unknown"
    if not proxies or not _trusted(peer, proxies):
        return peer
    hops = [
        hop.strip()
        for header in request.headers.getlist("x-forwarded-for")
        for hop in header.split(",")
        if hop.strip()
    ]
    for hop in reversed(hops):
        if not _trusted(hop, proxies):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer  # the proxy wrote no address we can read
    return hops[0] if hops else peer
