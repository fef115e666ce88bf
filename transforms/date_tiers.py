"""The tier policy: ``created`` and the pre-cutoff tier of a document from its evidence columns, and ``--trust``."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache
from typing import Optional

from provsieve.transforms.dates import UTC, Dropped, _check, _from_iso, to_iso
from provsieve.transforms.document import Document

DEFAULT_CUTOFF = "2022-11-30"
_FRESH = timedelta(days=1)
"""A Last-Modified within this of the fetch is a dynamic page's render time."""
TIERS = ("captured", "claimed", "none")
TRUST_POLICIES = ("captured", "claimed", "none")


@lru_cache(maxsize=64)
def normalize_cutoff(cutoff: str) -> str:
    """``YYYY-MM-DD`` (or any ISO instant) to canonical UTC ISO; ValueError if bad."""
    try:
        dt = datetime.fromisoformat(cutoff.strip().replace("Z", "+00:00"))
    except (AttributeError, ValueError) as err:
        raise ValueError(f"cutoff must be YYYY-MM-DD, got {cutoff!r}") from err
    return to_iso(dt if dt.tzinfo else dt.replace(tzinfo=UTC))


def assign_created(doc: Document, cutoff: str = DEFAULT_CUTOFF, *,
                   claim_margin_days: int = 1,
                   dropped: Optional[list[Dropped]] = None) -> Document:
    """Fill ``created``, ``created_source``, ``pre_cutoff``, ``pre_cutoff_evidence``.

    Evidence columns are re-validated first (1995 <= date <= capture + 1 day;
    refused values are set to ``None`` and reported in ``dropped``).

    **captured**: ``crawl_date < cutoff``. Proof; nothing the page says matters.

    **claimed** (only if not captured). The dates that count as *claims* that
    the text was written before the cutoff, and how much each is worth:

    * ``url_date`` -- strong: written by the CMS at publication and never
      changed afterwards, hard to get wrong by extraction.
    * ``created`` from the input (``created_source == "input"``) -- strong: the
      dataset's own record of the item (post time, paper date).
    * ``published_date`` -- weak alone: htmldate may have picked a date the text
      merely *mentions* (a 2023 article about a 2018 event with no own date).
    * ``http_last_modified`` -- weak alone (may be a template's mtime), and only
      when "stale", i.e. more than a day before the fetch; a fresh one is a
      dynamic page's render time and says nothing.

    A claim needs a strong source, or ``published_date`` *and* a stale
    ``Last-Modified``, before ``cutoff - claim_margin_days`` (the margin absorbs
    time zones and day-precision dates). And it must not be contradicted: no
    ``modified_date``, ``published_date``, ``url_date`` or input ``created`` on
    or after the cutoff. Pages that carry many dates are covered by
    ``modified_date`` being the page's *latest* date: if any recent date shows
    through anywhere in the markup, the page does not get the claim. A recent
    ``Last-Modified`` is *not* a contradiction: static sites are rebuilt
    (GitHub Pages stamps every page with the build time) without the text of a
    2018 post changing.

    **none**: otherwise (``pre_cutoff`` is then ``False``).

    ``created`` is the best estimate of when the text was written: the first
    available of ``published_date`` (htmldate's original date, the most
    accurate single source), ``url_date``, input ``created``, stale
    ``http_last_modified``, ``crawl_date``, never after the capture.
    ``created_source`` names it: ``published``, ``url``, ``input``,
    ``last_modified``, ``capture`` (``None`` with ``created`` if nothing).
    """
    cut = _from_iso(normalize_cutoff(cutoff))
    claim_limit = cut - timedelta(days=claim_margin_days)

    # re-validated: inputs may come from anywhere (e.g. Parquet)
    crawl = _check("crawl_date", doc.crawl_date, None, dropped)
    http_date = _check("http_date", doc.http_date, crawl, dropped)
    ref = crawl or http_date
    published = _check("published_date", doc.published_date, ref, dropped)
    modified = _check("modified_date", doc.modified_date, ref, dropped)
    url_date = _check("url_date", doc.url_date, ref, dropped)
    last_modified = _check("http_last_modified", doc.http_last_modified, ref, dropped)
    input_created = None
    if doc.created is not None and doc.created_source in (None, "input"):
        input_created = _check("created", doc.created, ref, dropped)

    fetched = http_date or crawl
    stale_lm = None
    if last_modified is not None:
        if fetched is None or _from_iso(last_modified) < _from_iso(fetched) - _FRESH:
            stale_lm = last_modified

    def before(v: Optional[str], limit: datetime) -> bool:
        return v is not None and _from_iso(v) < limit

    def at_or_after(v: Optional[str]) -> bool:
        return v is not None and _from_iso(v) >= cut

    if crawl is not None and _from_iso(crawl) < cut:
        tier = "captured"
    else:
        contradicted = any(at_or_after(v) for v in
                           (modified, published, url_date, input_created))
        strong = before(url_date, claim_limit) or before(input_created, claim_limit)
        corroborated = before(published, claim_limit) and before(stale_lm, claim_limit)
        tier = "claimed" if (strong or corroborated) and not contradicted else "none"

    created, source = None, None
    for name, value in (("published", published), ("url", url_date), ("input", input_created),
                        ("last_modified", stale_lm), ("capture", crawl)):
        if value is not None:
            created, source = value, name
            break
    if created is not None and crawl is not None and created > crawl:
        created = crawl  # within the one-day slack: never after the capture

    return doc._replace(
        crawl_date=crawl, http_date=http_date, http_last_modified=last_modified,
        published_date=published, modified_date=modified, url_date=url_date,
        created=created, created_source=source,
        pre_cutoff=tier != "none", pre_cutoff_evidence=tier,
    )


def is_trusted_human(doc: Document, trust: str = "captured") -> bool:
    """The ``--trust`` policy: may this document skip the AI filter?

    ``captured`` (default): only proof counts. ``claimed``: the page's own
    (corroborated) dates count too. ``none``: nothing is trusted; every
    document goes through the AI filter. Unknown policy: ValueError.
    """
    if trust not in TRUST_POLICIES:
        raise ValueError(f"--trust must be one of {TRUST_POLICIES}, got {trust!r}")
    if trust == "none":
        return False
    if trust == "claimed":
        return doc.pre_cutoff_evidence in ("captured", "claimed")
    return doc.pre_cutoff_evidence == "captured"
