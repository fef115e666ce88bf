"""Date evidence of a JSONL/Parquet record: its capture time (Dolma, C4, Wayback exports) and its own date field."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Optional

from provsieve.transforms.date_evidence_url import url_date_evidence
from provsieve.transforms.dates import Dropped, _check

def _lookup(obj: Mapping[str, Any], dotted: str) -> Any:
    cur: Any = obj
    for part in dotted.split("."):
        if not isinstance(cur, Mapping):
            return None
        if part in cur:
            cur = cur[part]
            continue
        low = part.lower()  # header-style keys: case-insensitive
        for k, v in cur.items():
            if isinstance(k, str) and k.lower() == low:
                cur = v
                break
        else:
            return None
    return cur


_CAPTURE_KEYS = (
    "WARC-Date",               # WARC headers exported as JSON
    "warc_date",
    "Memento-Datetime",        # Wayback / Memento
    "memento_datetime",
    "metadata.WARC-Date",
    "metadata.warc_date",      # Dolma CC (the segment's start: minutes-hours early)
    "metadata.memento_datetime",
    "timestamp",               # C4 / RefinedWeb
    "metadata.timestamp",
    "crawl_date",
    "date_download",           # news-please
    "added",                   # Dolma: when added to the corpus -- an upper bound
)


def capture_date_from_json(record: Mapping[str, Any], *,
                           dropped: Optional[list[Dropped]] = None) -> Optional[str]:
    """Capture time of a JSONL/Parquet record (Dolma, C4, Wayback exports).

    Keys are tried in order (:data:`_CAPTURE_KEYS`); the first that parses
    wins, the refused ones are reported. Dolma's ``added`` comes last: it is
    when the text entered Dolma, not when it was crawled, but the text provably
    existed then, so it is a valid (late) capture time. ``created`` is *not* a
    capture time: it is the source's claim, see :func:`json_date_evidence`.
    """
    return _first_valid(record, _CAPTURE_KEYS, "crawl_date", None, dropped)


def _first_valid(record: Mapping[str, Any], keys: Iterable[str], field: str, capture: Optional[str],
                 dropped: Optional[list[Dropped]]) -> Optional[str]:
    """The first of ``keys`` whose value is a valid date (the refused ones are reported)."""
    for key in keys:
        value = _lookup(record, key)
        if value is None:
            continue
        iso = _check(field, value, capture, dropped)
        if iso is not None:
            return iso
    return None


_CREATED_KEYS = ("created", "metadata.created", "created_at", "created_utc",
                 "date_created", "date_publish", "published", "metadata.date")


def json_date_evidence(record: Mapping[str, Any], capture: Optional[str], *,
                       dropped: Optional[list[Dropped]] = None) -> dict[str, Optional[str]]:
    """The input's own date field as ``{"created", "created_source": "input"}``.

    ``created`` (Dolma), ``created_at``/``created_utc`` (forums),
    ``date_publish`` (news-please)...: the dataset's claim of when the text was
    written, bounded by 1995 and the capture. Empty dict if none. Also returns
    ``url_date`` when the record has a URL (``url``, ``metadata.url``,
    ``metadata.warc_url``).
    """
    out: dict[str, Optional[str]] = {}
    created = _first_valid(record, _CREATED_KEYS, "created", capture, dropped)
    if created is not None:
        out["created"] = created
        out["created_source"] = "input"
    for key in ("url", "metadata.warc_url", "metadata.url", "warc_url"):
        url = _lookup(record, key)
        if isinstance(url, str) and url:
            out["url_date"] = url_date_evidence(url, capture=capture, dropped=dropped)
            break
    return out
