"""The indicators of a blast radius: the addresses, user agents, keys and principals to search for elsewhere.

Built from the blast radius's own events, so every indicator is something one of its credentials did or made.
An address is marked from what is known here, never from a lookup: private, loopback, link-local or
otherwise reserved ranges (:mod:`ipaddress`); a service name or ``AWS Internal`` where CloudTrail writes the
AWS service that called on the principal's behalf; and, given AWS's published ``ip-ranges.json`` (a file the
user downloads; keytrail downloads nothing), the AWS service and region whose range holds it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from keytrail.report.geoip import GeoIP
from keytrail.report.model import Credential, Indicator, PrincipalCreated

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_DOCUMENTATION = tuple(ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32"))
_PRIVATE = tuple(ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"))
_SHARED = ipaddress.ip_network("100.64.0.0/10")


def inside_a_network(value: str) -> bool:
    """Whether ``value`` is an address of a private network (RFC 1918, RFC 4193, carrier-grade NAT), loopback or
    link-local: a call through a VPC endpoint, or from the machine itself. Not for text that is no address."""
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return False
    return address.is_loopback or address.is_link_local or address in _SHARED or any(address in network for network in _PRIVATE)


class RangesError(ValueError):
    """An ``ip-ranges.json`` that cannot be read; the message names the file and what is wrong."""


@dataclass(frozen=True, slots=True)
class AwsRanges:
    """AWS's published address ranges (https://ip-ranges.amazonaws.com/ip-ranges.json), most specific first."""

    created: str | None
    prefixes: tuple[tuple[IPNetwork, str, str], ...]

    def owner(self, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
        """``"AWS EC2 us-east-1"`` for the most specific range that holds the address, else ``None``.

        The file lists a range once per service (every range under ``AMAZON`` too): the most specific range
        wins, and among equal ones a service other than ``AMAZON`` names it better.
        """
        best: tuple[int, bool, str] | None = None
        for network, service, region in self.prefixes:
            if address.version == network.version and address in network:
                rank = (network.prefixlen, service != "AMAZON", f"AWS {service} {region}")
                if best is None or rank[:2] > best[:2]:
                    best = rank
        return best[2] if best else None


def load_aws_ranges(path: Path) -> AwsRanges:
    """Read an ``ip-ranges.json`` in AWS's documented format (``prefixes``/``ip_prefix``, ``ipv6_prefixes``/``ipv6_prefix``).

    Raises:
        RangesError: the file cannot be read, is not JSON, or is not in that format.
    """
    try:
        data: Any = orjson.loads(path.read_bytes())
    except OSError as exc:
        raise RangesError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except orjson.JSONDecodeError as exc:
        raise RangesError(f"{path}: not JSON ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("prefixes"), list):
        raise RangesError(f"{path}: not AWS's ip-ranges.json (no 'prefixes' list)")
    prefixes: list[tuple[IPNetwork, str, str]] = []
    for field, key in (("prefixes", "ip_prefix"), ("ipv6_prefixes", "ipv6_prefix")):
        for index, entry in enumerate(data.get(field) or []):
            try:
                network = ipaddress.ip_network(entry[key])
                prefixes.append((network, str(entry.get("service", "?")), str(entry.get("region", "?"))))
            except (KeyError, TypeError, ValueError) as exc:
                raise RangesError(f"{path}: {field}[{index}] is not a range ({exc})") from None
    return AwsRanges(data.get("createDate"), tuple(prefixes))


def address_note(value: str, ranges: AwsRanges | None) -> str | None:
    """What is known of a ``sourceIPAddress`` without a lookup (see the module)."""
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        if value == "AWS Internal" or value.endswith(".amazonaws.com"):
            return "AWS service calling on the principal's behalf"
        # Stratus Red Team's logs write octets with leading zeros (225.178.039.250), which no IP parser accepts.
        return "not a valid IP address as written"
    for test, words in (
        (address.is_loopback, "loopback"),
        (address.is_link_local, "link-local"),
        (any(address in network for network in _DOCUMENTATION), "documentation range (RFC 5737, RFC 3849): not routable"),
        (any(address in network for network in _PRIVATE), "private range (RFC 1918, RFC 4193)"),
        (address in _SHARED, "carrier-grade NAT range (RFC 6598)"),
        (address.is_multicast, "multicast"),
        (address.is_private or address.is_reserved or address.is_unspecified, "reserved range: not routable"),
    ):
        if test:
            return words
    return ranges.owner(address) if ranges else None


def build_indicators(
    rows: Iterable[dict[str, Any]],
    credentials: Sequence[Credential],
    created: Sequence[PrincipalCreated],
    ranges: AwsRanges | None,
    geoip: GeoIP | None = None,
) -> list[Indicator]:
    """Addresses and user agents from the blast radius's events, then its keys, then the principals it created.

    Args:
        rows: The timeline's event rows (``sourceIPAddress``, ``userAgent``, ``eventTime``, ``credential``).
        credentials: The blast radius's credentials.
        created: The principals it created.
        ranges: AWS's ranges, to name the AWS owner of an address; ``None``: not looked at.
        geoip: MaxMind databases for each address's country and ASN; ``None``: not looked at.
    """
    seen: dict[tuple[str, str], list[Any]] = {}
    for row in rows:
        for kind, field in (("address", "sourceIPAddress"), ("user-agent", "userAgent")):
            value = row.get(field)
            if not value:
                continue
            entry = seen.setdefault((kind, str(value)), [0, row["eventTime"], row["eventTime"], {}])
            entry[0] += 1
            entry[1] = min(entry[1], row["eventTime"])
            entry[2] = max(entry[2], row["eventTime"])
            if row.get("credential"):
                entry[3][row["credential"]] = None
    found = [
        Indicator(kind, value, count, first, last, list(keys), address_note(value, ranges) if kind == "address" else None)
        for (kind, value), (count, first, last, keys) in seen.items()
    ]
    if geoip is not None:
        for indicator in found:
            if indicator.kind == "address":
                indicator.country, indicator.asn = geoip.lookup(indicator.value)
    # Most used first: the attacker's address and tool come before a one-off.
    found.sort(key=lambda i: (i.kind != "address", -i.events, i.value))
    found += [
        Indicator("access-key", c.id, c.events, c.first_use, c.last_use, [c.id], f"{c.kind}, {c.status}") for c in credentials if c.kind != "console-password"
    ]
    found += [Indicator("principal", p.arn, p.uses, p.at, None, [p.by], f"{p.type or 'principal'} created{', deleted' if p.deleted else ''}") for p in created]
    return found
