"""Country and ASN of an indicator's address, from MaxMind-format databases the user supplies (``--geoip FILE``).

Read with MaxMind's own reader (the ``maxminddb`` package, keytrail's ``geoip`` extra); nothing is downloaded. A
country or city database (GeoLite2-Country, GeoIP2-City, …) gives the country, an ASN database (GeoLite2-ASN)
the autonomous system; give either or both.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from pathlib import Path
from typing import Any


class GeoIPError(RuntimeError):
    """A database that cannot be read, or no reader installed; the message names the file and what to do."""


class GeoIP:
    """Open databases, asked address by address."""

    def __init__(self, paths: Sequence[Path]) -> None:
        try:
            import maxminddb
        except ImportError:  # pragma: no cover - the test environment installs it
            raise GeoIPError("--geoip needs MaxMind's reader: pip install 'keytrail[geoip]' (the maxminddb package)") from None
        self._readers: list[Any] = []
        for path in paths:
            try:
                self._readers.append(maxminddb.open_database(str(path)))
            except (OSError, ValueError, maxminddb.InvalidDatabaseError) as exc:
                raise GeoIPError(f"--geoip {path}: not a readable MaxMind database ({exc})") from None

    def lookup(self, address: str) -> tuple[str | None, str | None]:
        """``("NL (Netherlands)", "AS64500 Example AS")`` for an address the databases know; ``None`` for what they do not."""
        try:
            ipaddress.ip_address(address)
        except ValueError:
            return None, None
        country: str | None = None
        asn: str | None = None
        for reader in self._readers:
            found = reader.get(address)
            if not isinstance(found, dict):
                continue
            place = found.get("country") or found.get("registered_country")
            if country is None and isinstance(place, dict) and place.get("iso_code"):
                name = (place.get("names") or {}).get("en")
                country = f"{place['iso_code']} ({name})" if name else str(place["iso_code"])
            if asn is None and found.get("autonomous_system_number") is not None:
                organisation = found.get("autonomous_system_organization")
                asn = f"AS{found['autonomous_system_number']}" + (f" {organisation}" if organisation else "")
        return country, asn

    def close(self) -> None:
        for reader in self._readers:
            reader.close()
