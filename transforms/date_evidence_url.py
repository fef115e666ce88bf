"""Date evidence from the URL: a complete year-month-day in its path."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Optional

from provsieve.transforms.dates import Dropped, _check

_URL_DATE = re.compile(
    r"(?<![0-9])((?:19|20)\d{2})[/_-](0?[1-9]|1[0-2])[/_-](0?[1-9]|[12]\d|3[01])(?![0-9])")
_URL_HOST = re.compile(r"^[a-z][a-z0-9+.-]*://[^/]*", re.I)


def url_date_evidence(url: Optional[str], *, capture: Optional[str] = None,
                      dropped: Optional[list[Dropped]] = None) -> Optional[str]:
    """A complete date in the URL *path* (``/2019/07/16/``, ``/2019-07-16-slug``).

    Same shape as htmldate's ``COMPLETE_URL`` (year-month-day joined by ``/``,
    ``-`` or ``_``) but only in the path: query strings carry API versions and
    calendar parameters (``?api-version=2019-07-01``), not publication dates.
    Day precision, bounded by 1995 and the capture.
    """
    if not url or not isinstance(url, str):
        return None
    value = _url_day(url)
    return None if value is None else _check("url_date", value, capture, dropped)


@lru_cache(maxsize=64)  # a JSON record's URL may be asked by gather_evidence and json_date_evidence
def _url_day(url: str) -> Optional[str]:
    path = _URL_HOST.sub("", url.strip().strip("<>").strip())
    path = path.split("?", 1)[0].split("#", 1)[0]
    m = _URL_DATE.search(path)
    return None if m is None else f"{m[1]}-{int(m[2]):02d}-{int(m[3]):02d}"
