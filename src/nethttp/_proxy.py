"""``proxy_headers``: the client's address, scheme and host as told by trusted proxies.

Behind nginx or a load balancer every connection comes from the proxy, so
``r.remote_addr`` names the proxy. Proxies say who the client was in headers: RFC 7239
``Forwarded`` (``for=``, ``proto=``, ``host=``), or the older ``X-Forwarded-For``,
``X-Forwarded-Proto`` and ``X-Forwarded-Host``. Anyone can send those headers, so they
are believed only from peers in a trust list, and only as far as the chain of trusted
proxies goes:

    X-Forwarded-For: <spoofed by the client>, <client>, <proxy 1>     (peer: proxy 2)

Each proxy appends the address it received the connection from. Reading from the right,
past every address that is a trusted proxy, the first untrusted one is the client: what
a client wrote itself sits further left and is never reached. If every hop is trusted,
the leftmost is the client.

The wrapper sets ``r.remote_addr`` (Go's ``"host:port"`` form; port 0 when the proxy did
not say), ``r.scheme`` (``"http"`` or ``"https"``; the ASGI scope's ``scheme`` comes from
it) and ``r.host``. It does not touch ``r.url.scheme``, which in Go's model comes from
an absolute-form request target, that is from the client.
``Forwarded`` wins over the ``X-Forwarded-*`` family when both are present.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Final

from ._mux import Handler, as_handler
from ._request import Request
from ._response import ResponseWriter

__all__ = ["TrustedProxies", "proxy_headers"]

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_SCHEMES: Final = {"http": "http", "https": "https", "ws": "http", "wss": "https"}


class TrustedProxies:
    """A set of trusted peers: IPs, CIDRs, ``"*"`` (everyone) and ``"unix"``.

    ``"unix"`` trusts peers on Unix sockets (their address is ``"@"`` or a path): only
    processes the socket's permissions let in can connect there.
    """

    __slots__ = ("_addrs", "_all", "_nets", "_unix")

    def __init__(self, trusted: Iterable[str] | str) -> None:
        if isinstance(trusted, str):
            trusted = trusted.split(",")
        self._all = False
        self._unix = False
        self._addrs: set[IPAddress] = set()
        self._nets: list[IPNetwork] = []
        for raw in trusted:
            item = raw.strip()
            if not item:
                continue
            if item == "*":
                self._all = True
            elif item.lower() == "unix":
                self._unix = True
            elif "/" in item:
                try:
                    self._nets.append(ipaddress.ip_network(item, strict=False))
                except ValueError:
                    raise ValueError(f"trusted proxies: {item!r} is not a CIDR") from None
            else:
                try:
                    self._addrs.add(ipaddress.ip_address(item.strip("[]")))
                except ValueError:
                    raise ValueError(f"trusted proxies: {item!r} is not an IP") from None

    def trusts_ip(self, ip: IPAddress | None) -> bool:
        """Whether ``ip`` (None: not an IP) is a trusted proxy."""
        if self._all:
            return True
        if ip is None:
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped  # a dual-stack listener reports IPv4 peers as ::ffff:a.b.c.d
        return ip in self._addrs or any(ip in net for net in self._nets)

    def trusts_peer(self, remote_addr: str) -> bool:
        """Whether the connection's peer, ``r.remote_addr``, is a trusted proxy."""
        host, _ = split_host_port(remote_addr)
        ip = _parse_ip(host)
        if ip is None and not _is_ip_port(remote_addr):
            return self._all or self._unix  # "@" or a path: a Unix-socket peer
        return self.trusts_ip(ip)

    def __repr__(self) -> str:
        parts = ["*"] if self._all else []
        parts += [str(a) for a in sorted(self._addrs, key=str)] + [str(n) for n in self._nets]
        if self._unix:
            parts.append("unix")
        return f"TrustedProxies({','.join(parts)!r})"


def split_host_port(addr: str) -> tuple[str, str]:
    """Split ``"host:port"`` / ``"[v6]:port"`` / a bare host; the port may be ""."""
    if addr.startswith("["):
        end = addr.find("]")
        if end < 0:
            return addr, ""
        rest = addr[end + 1 :]
        return addr[1:end], rest[1:] if rest.startswith(":") else ""
    if addr.count(":") == 1:
        host, _, port = addr.partition(":")
        return host, port
    return addr, ""  # a bare IPv4/IPv6 address or a name


def _parse_ip(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _is_ip_port(addr: str) -> bool:
    host, port = split_host_port(addr)
    return _parse_ip(host) is not None and port.isdigit()


def _join_host_port(host: str, port: str) -> str:
    port = port if port.isdigit() else "0"
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


# -- parsing the headers ------------------------------------------------------------------


class _Hop:
    """One proxy hop's report: the address it received from, and its scheme and host."""

    __slots__ = ("host", "node", "proto")

    def __init__(self, node: str, proto: str = "", host: str = "") -> None:
        self.node = node
        self.proto = proto
        self.host = host


def _split_quoted(value: str, sep: str) -> list[str]:
    """Split on ``sep`` outside double quotes (RFC 7230 quoted-string)."""
    parts: list[str] = []
    start = 0
    quoted = escaped = False
    for i, ch in enumerate(value):
        if escaped:
            escaped = False
        elif ch == "\\" and quoted:
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif ch == sep and not quoted:
            parts.append(value[start:i])
            start = i + 1
    parts.append(value[start:])
    return parts


def _unquote(v: str) -> str:
    v = v.strip()
    if len(v) >= 2 and v[0] == '"' and v[-1] == '"':
        out = []
        escaped = False
        for ch in v[1:-1]:
            if escaped or ch != "\\":
                out.append(ch)
                escaped = False
            else:
                escaped = True
        return "".join(out)
    return v


def parse_forwarded(values: list[str]) -> list[_Hop]:
    """Parse RFC 7239 ``Forwarded`` field values into hops, leftmost first."""
    hops: list[_Hop] = []
    for value in values:
        for element in _split_quoted(value, ","):
            if not element.strip():
                continue
            params: dict[str, str] = {}
            for pair in _split_quoted(element, ";"):
                name, eq, val = pair.partition("=")
                if eq:
                    params.setdefault(name.strip().lower(), _unquote(val))
            hop = _Hop(params.get("for", ""), params.get("proto", ""), params.get("host", ""))
            hops.append(hop)
    return hops


def _list_values(values: list[str]) -> list[str]:
    return [v.strip() for value in values for v in value.split(",")]


def parse_x_forwarded(fors: list[str], protos: list[str], hosts: list[str]) -> list[_Hop]:
    """Turn ``X-Forwarded-For/-Proto/-Host`` into hops, leftmost first.

    A proxy that appends to ``X-Forwarded-Proto`` / ``-Host`` adds one entry per hop, so
    entries line up with ``X-Forwarded-For``'s; a proxy that overwrites them (nginx's
    ``$scheme``) leaves one entry, which then speaks for the whole chain.
    """
    nodes = _list_values(fors)
    proto_list = _list_values(protos)
    host_list = _list_values(hosts)
    hops = []
    for i, node in enumerate(nodes):
        proto = _aligned(proto_list, i, len(nodes))
        host = _aligned(host_list, i, len(nodes))
        hops.append(_Hop(node, proto, host))
    return hops


def _aligned(values: list[str], i: int, n: int) -> str:
    if not values:
        return ""
    return values[i] if len(values) == n else values[-1]


def _node_addr(node: str) -> tuple[IPAddress | None, str, str]:
    """RFC 7239 §6 node -> (ip or None, host text, port text)."""
    host, port = split_host_port(node)
    return _parse_ip(host), host, port


def choose_client(hops: list[_Hop], trusted: TrustedProxies) -> _Hop | None:
    """The rightmost hop whose address is not a trusted proxy (else the leftmost)."""
    for hop in reversed(hops):
        ip, _, _ = _node_addr(hop.node)
        if ip is None or not trusted.trusts_ip(ip):
            # Not an address we trust (or an obfuscated identifier such as "_hidden",
            # "unknown"): the chain of trust ends here, so this is the client.
            return hop
    return hops[0] if hops else None


def apply_forwarded(r: Request, trusted: TrustedProxies) -> None:
    """Rewrite ``r.remote_addr``, the scheme and ``r.host`` from trusted proxy headers."""
    if not trusted.trusts_peer(r.remote_addr):
        return
    h = r.header
    forwarded = h.values("Forwarded")
    if forwarded:
        hops = parse_forwarded(forwarded)
    else:
        fors = h.values("X-Forwarded-For")
        protos = h.values("X-Forwarded-Proto")
        hosts = h.values("X-Forwarded-Host")
        if not (fors or protos or hosts):
            return
        # Without X-Forwarded-For, proto and host alone speak for the trusted peer's client.
        hops = parse_x_forwarded(fors or [""], protos, hosts)
    client = choose_client(hops, trusted)
    if client is None:
        return
    if client.node:
        ip, host, port = _node_addr(client.node)
        r.remote_addr = _join_host_port(str(ip) if ip is not None else host, port)
    scheme = _SCHEMES.get(client.proto.lower())
    if scheme is not None:
        r.scheme = scheme
    if client.host and _valid_host(client.host):
        r.host = client.host


def _valid_host(host: str) -> bool:
    # The same characters a Host field may hold (RFC 3986 reg-name, IP literal, port).
    return all(c.isalnum() or c in "-._~!$&'()*+,;=:[]%" for c in host) and host.isascii()


class _ProxyHeaders:
    __slots__ = ("handler", "trusted")

    def __init__(self, handler: Handler, trusted: TrustedProxies) -> None:
        self.handler = handler
        self.trusted = trusted

    async def serve_http(self, w: ResponseWriter, r: Request) -> None:
        apply_forwarded(r, self.trusted)
        await self.handler.serve_http(w, r)

    def __repr__(self) -> str:
        return f"proxy_headers({self.handler!r}, {self.trusted!r})"


def proxy_headers(
    handler: object, trusted: Iterable[str] | str = ("127.0.0.1", "::1", "unix")
) -> Handler:
    """Wrap ``handler`` so that ``Forwarded`` / ``X-Forwarded-*`` from trusted peers count.

    ``trusted`` lists IPs, CIDRs (``"10.0.0.0/8"``), ``"*"`` (every peer) and ``"unix"``
    (peers on Unix sockets), as a sequence or a comma-separated string. From a trusted
    peer the wrapper sets ``r.remote_addr`` to the client's ``"host:port"``,
    ``r.scheme`` and ``r.host``; from any other peer it changes nothing.
    """
    return _ProxyHeaders(as_handler(handler), TrustedProxies(trusted))
