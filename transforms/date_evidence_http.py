"""Date evidence from the HTTP response headers: the server's ``Date`` (a clock check) and ``Last-Modified``."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any, Optional

from provsieve.transforms.dates import Dropped, _check, _from_iso

_CLOCK_SKEW = timedelta(days=1)
"""HTTP Date this far from the capture: the server's clock is wrong."""
_DATE_HEADERS = frozenset({"date", "last-modified"})


def _date_headers(headers: Any) -> tuple[Optional[str], Optional[str]]:
    """The first ``Date`` and the first ``Last-Modified`` value, in one pass over the headers.

    A header map that breaks while being read gives what was found before the break (a broken map is no
    evidence); a value that cannot be read as text gives None for its name only.
    """
    found: dict[str, Optional[str]] = {}
    if headers is None:
        return None, None
    try:
        items: Iterable[Any] = headers.items() if hasattr(headers, "items") else headers
        for k, v in items:
            if isinstance(k, bytes):
                k = k.decode("latin-1")
            if isinstance(k, str):
                name = k.strip().lower()
                if name in _DATE_HEADERS and name not in found:
                    found[name] = _header_text(v)
                    if len(found) == 2:
                        break
    except Exception:  # noqa: BLE001 - a broken header map is no evidence
        pass
    return found.get("date"), found.get("last-modified")


def _header_text(value: Any) -> Optional[str]:
    try:
        return value.decode("latin-1") if isinstance(value, bytes) else str(value)
    except Exception:  # noqa: BLE001
        return None


def http_date_evidence(http_headers: Any, capture: Optional[str], *,
                       dropped: Optional[list[Dropped]] = None) -> dict[str, Optional[str]]:
    """``{"http_date", "http_last_modified"}`` from the HTTP response headers.

    Both must be after 1995 and not after the capture (+1 day). If the server's
    ``Date`` is more than a day away from the capture, its clock is wrong, and
    so is its ``Last-Modified``: both are dropped (``clock_skew``). A
    ``Last-Modified`` after the server's own ``Date`` is dropped as ``future``.
    Header names are matched case-insensitively; any mapping or list of pairs
    (fastwarc's header map included) is accepted.
    """
    raw_date, raw_lm = _date_headers(http_headers)
    http_date = _check("http_date", raw_date, capture, dropped)
    if http_date is not None and capture is not None:
        if abs(_from_iso(http_date) - _from_iso(capture)) > _CLOCK_SKEW:
            if dropped is not None:
                dropped.append(Dropped("http_date", str(raw_date), "clock_skew"))
                if raw_lm is not None:
                    dropped.append(Dropped("http_last_modified", str(raw_lm), "clock_skew"))
            return {"http_date": None, "http_last_modified": None}
    ref = capture or http_date
    last_modified = _check("http_last_modified", raw_lm, ref, dropped)
    if (last_modified is not None and http_date is not None
            and _from_iso(last_modified) > _from_iso(http_date) + timedelta(minutes=5)):
        if dropped is not None:
            dropped.append(Dropped("http_last_modified", str(raw_lm), "future"))
        last_modified = None
    return {"http_date": http_date, "http_last_modified": last_modified}
