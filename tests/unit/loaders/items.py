"""What the loader tests share: the items a reader yields, seen as the evidence they carry."""

from __future__ import annotations

from collections.abc import Iterable

from keytrail.loaders.records import InputDigest, LoaderItem


def without_digests(items: Iterable[LoaderItem]) -> list[LoaderItem]:
    """What a reader yields about the evidence, without the digest of each file read (tested in test_input_digests)."""
    return [item for item in items if not isinstance(item, InputDigest)]
