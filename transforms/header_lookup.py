"""A WARC or HTTP header of a fastwarc record, read once and looked up like ``HeaderMap.get``.

fastwarc's ``HeaderMap.get`` scans and decodes the whole header on every call (about 3.6 us on the bench
corpus's 8-line WARC headers) and the reader asks a record's two headers for nine names, so a record spent
~30 us on look-ups. :class:`HeaderLookup` decodes the items once and answers the same: names compared
without case, the first of repeated names (``tests/test_header_lookup.py`` checks it against ``HeaderMap.get``
on generated and real records).
"""

from __future__ import annotations

from typing import Any, Optional


class HeaderLookup:
    """``items`` (``HeaderMap.items()``, in order) and ``get(name)`` as ``HeaderMap.get`` answers it."""

    __slots__ = ("items", "_first", "_map")

    def __init__(self, header_map: Any) -> None:
        self.items: list[tuple[str, str]] = list(header_map.items())
        first: dict[str, str] = {}
        for name, value in self.items:
            # HeaderMap compares the raw bytes, ASCII letters without case: an ASCII name asked for equals
            # only an ASCII name (a decoded name is ASCII exactly when its bytes are), and for ASCII
            # str.lower() is that folding
            if name.isascii():
                first.setdefault(name.lower(), value)
        self._first = first
        self._map = header_map

    def get(self, name: str) -> Optional[str]:
        if name.isascii():
            return self._first.get(name.lower())
        return self._map.get(name)  # never asked by the reader; the bytes comparison is HeaderMap's
