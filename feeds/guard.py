"""Which network addresses a fetch may reach. Pure, standard library only.

Sources are URLs from config.yaml, and every redirect is a URL chosen by a
stranger. By default a fetch may only connect to public addresses: loopback,
private, link-local, shared, reserved, multicast and unspecified ones are
refused, whatever spelling led there (`localhost`, `[::1]`,
`[::ffff:127.0.0.1]`, `2130706433`, `0x7f.1`, a DNS name that resolves to
one). The check is made on the address actually connected to, for the first
request and for every redirect, so DNS tricks do not get past it.

Intranet sources are allowed by `fetch.allow_private`: hosts
(`intranet.example`), addresses (`10.1.2.3`) or networks (`10.0.0.0/8`),
each optionally with a port (`127.0.0.1:8080`, `[::1]:8080`). Allowing one
never opens another: the rule is matched against each connection.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, replace

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class AllowRule:
    """One `fetch.allow_private` entry: a host name or a network, and
    optionally the only port it covers."""

    text: str
    host: str = ""
    network: Network | None = None
    port: int | None = None

    def matches(self, address: Address, host: str, port: int) -> bool:
        if self.port is not None and self.port != port:
            return False
        if self.network is not None:
            return address in self.network
        return self.host == host.lower().rstrip(".")


def parse_allow_rule(text: str) -> AllowRule:
    """`host`, `host:port`, `10.0.0.0/8`, `10.0.0.0/8:8443`, `[::1]:8080`.
    Raises ValueError with a message fit for the config error."""
    value = text.strip()
    if not value:
        raise ValueError("an empty entry")
    port: int | None = None
    if value.startswith("["):
        inside, _, rest = value[1:].partition("]")
        if rest:
            if not rest.startswith(":"):
                raise ValueError(f"{text!r} is not host[:port] or network[:port]")
            port = _port(rest[1:], text)
        value = inside
    elif value.count(":") == 1:
        value, _, port_text = value.partition(":")
        port = _port(port_text, text)
    try:
        network = ipaddress.ip_network(value, strict=False)
    except ValueError:
        network = None
    if network is not None:
        return AllowRule(text=text, network=network, port=port)
    host = value.lower().rstrip(".")
    if not host or any(c in host for c in "/@ "):
        raise ValueError(f"{text!r} is not a host name, an address or a network")
    return AllowRule(text=text, host=host, port=port)


def refusal(address_text: str, host: str, port: int, rules: tuple[AllowRule, ...]) -> str:
    """Why connecting to `address_text` (reached as `host:port`) is refused,
    or '' when it is allowed."""
    try:
        address: Address = ipaddress.ip_address(address_text.split("%", 1)[0])
    except ValueError:
        return f"{host} connected to an address that cannot be checked ({address_text!r})"
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_global and not address.is_multicast:
        return ""
    if any(rule.matches(address, host, port) for rule in rules):
        return ""
    # Listed, but for another port: said so, or the hint to list it read
    # as if it were not listed at all.
    other = [
        r.text
        for r in rules
        if r.port is not None and replace(r, port=None).matches(address, host, port)
    ]
    hint = (
        f"fetch.allow_private allows it on another port only: {', '.join(other)}"
        if other
        else "list it in fetch.allow_private to allow it"
    )
    return f"{host} is at {address}, a {_kind(address)} address: refused ({hint})"


def _kind(address: Address) -> str:
    for name, flag in (
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("private", address.is_private),
        ("multicast", address.is_multicast),
        ("unspecified", address.is_unspecified),
        ("reserved", address.is_reserved),
    ):
        if flag:
            return name
    return "non-public"


def _port(text: str, whole: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ValueError(f"{whole!r} has no valid port after ':'")
    return int(text)
