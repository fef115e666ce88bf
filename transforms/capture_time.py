"""When and where an archived page was captured: the best capture evidence a record carries.

Web archives state the capture time in several places, and exports from one
archive to another keep some of them and lose others. In the order trusted:

1. ``warc_date``: a valid ``WARC-Date`` (the writing crawler's own clock).
2. ``memento_datetime``: ``Memento-Datetime`` (RFC 7089), which Wayback
   exports merge into the WARC header while their ``WARC-Date`` is ``null``.
3. ``replay_uri``: the 14-digit timestamp of a Wayback-style replay URI,
   ``http://web.archive.org/web/20100305120000id_/http://example.com/``.
4. ``arc_date``: the archive date of an ARC record's header line.

Each value is parsed strictly (:func:`dates.capture_date`); a refused one
is reported as dropped and the next source is tried. The source used is kept in
the row (``capture_source``) and counted in the manifest (a JSONL/Parquet
record's capture field gives ``input``). A replay URI also
gives the page's original URL (``url``); the replay URI itself stays in
``capture_uri``. The origin server's headers in a replay export are the
``X-Archive-Orig-*`` ones (:func:`origin_http_headers`): the plain ``Date`` of
such a record is the replay server's.
"""

from __future__ import annotations

import re
from typing import Mapping, NamedTuple, Optional

from provsieve.transforms import dates

CAPTURE_SOURCES = ("warc_date", "memento_datetime", "replay_uri", "arc_date")

_REPLAY_URI = re.compile(
    r"^(?P<prefix>[a-z][a-z0-9+.-]*://[^/]+(?:/[^/]+)*?)/(?P<stamp>\d{14})(?P<modifier>[a-z]{2}_)?/"
    r"(?P<original>[a-z][a-z0-9+.-]*:/{1,2}[^/\s].*|[^/\s]+\.[^/\s]+.*)$",
    re.IGNORECASE)
_SCHEME_ONE_SLASH = re.compile(r"^([a-z][a-z0-9+.-]*):/(?!/)", re.IGNORECASE)
_ORIGIN_PREFIX = "x-archive-orig-"


class ReplayUri(NamedTuple):
    capture_uri: str
    """The replay URI as the archive wrote it."""
    original_url: str
    """The page's own URL (``http://`` restored when the archive collapsed it to ``http:/``)."""
    stamp: str
    """``YYYYMMDDhhmmss``."""


def parse_replay_uri(uri: Optional[str]) -> Optional[ReplayUri]:
    """The parts of a Wayback-style replay URI (``.../YYYYMMDDhhmmss[id_|im_|...]/ORIGINAL``), else None."""
    if not uri:
        return None
    match = _REPLAY_URI.match(uri.strip())
    if not match:
        return None
    original = _SCHEME_ONE_SLASH.sub(r"\1://", match["original"])
    if "://" not in original:
        original = "http://" + original
    return ReplayUri(uri.strip(), original, match["stamp"])


def iso_from_stamp(stamp: str) -> str:
    """``YYYYMMDDhhmmss`` (Wayback and ARC dates) as ``YYYY-MM-DDThh:mm:ssZ``; shorter stamps are padded."""
    s = (stamp + "00000101000000"[len(stamp):]) if len(stamp) < 14 else stamp[:14]
    return f"{s[0:4]}-{s[4:6]}-{s[6:8]}T{s[8:10]}:{s[10:12]}:{s[12:14]}Z"


def capture_evidence(*, warc_date: object = None, memento_datetime: object = None,
                     capture_uri: Optional[str] = None, arc_date: Optional[str] = None,
                     dropped: Optional[list] = None) -> dict[str, Optional[str]]:
    """``{"crawl_date", "capture_source"}``: the first valid capture time, in the module's order.

    Refused values are appended to ``dropped`` (as :class:`dates.Dropped`).
    """
    replay = parse_replay_uri(capture_uri)
    candidates = (
        ("warc_date", warc_date, "crawl_date"),
        ("memento_datetime", memento_datetime, "memento_datetime"),
        ("replay_uri", iso_from_stamp(replay.stamp) if replay else None, "replay_uri_date"),
        ("arc_date", iso_from_stamp(arc_date) if arc_date and arc_date.isdigit() else arc_date, "arc_date"),
    )
    for source, value, field in candidates:
        if value is None:
            continue
        iso = dates.capture_date(value, dropped=dropped, field=field)
        if iso is not None:
            return {"crawl_date": iso, "capture_source": source}
    return {"crawl_date": None, "capture_source": None}


def origin_http_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Lower-cased HTTP headers of the origin server.

    In a Wayback replay the archive's own ``Date`` is the replay time and the
    capture's headers are renamed ``X-Archive-Orig-<name>``: when any of these
    is present, they replace the unprefixed ``Date`` and ``Last-Modified`` (and
    give the ``Content-Type`` when the record has none of its own).
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    origin = {k[len(_ORIGIN_PREFIX):]: v for k, v in lowered.items() if k.startswith(_ORIGIN_PREFIX)}
    if not origin:
        return lowered
    for name in ("date", "last-modified"):
        lowered.pop(name, None)
        if name in origin:
            lowered[name] = origin[name]
    if "content-type" not in lowered and "content-type" in origin:
        lowered["content-type"] = origin["content-type"]
    return lowered
