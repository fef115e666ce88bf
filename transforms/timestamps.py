"""Timestamp provenance: when was each document written, and can we prove it
was before the cutoff?

Text that provably existed before large language models were public cannot
have been written by one. A crawl carries that proof -- the capture time -- and
a number of weaker *claims* (the page's own dates). This module keeps each piece
of evidence in its own column and decides, per document, which tier it falls in:

``captured``
    ``crawl_date < cutoff``. The archive itself saw the bytes before the
    cutoff: proof, whatever the page claims.
``claimed``
    Not captured before the cutoff, but the page's own dates say it was written
    before, with a strong source or corroboration, and nothing on the page
    contradicts it (see :func:`assign_created` for the exact rule). A claim,
    which spam can fake; only trusted as human with ``--trust claimed``.
``none``
    Everything else.

Two halves, because the HTML is not kept in the :class:`Document`:

* **read time** (called by the readers, pure functions): parsing in :mod:`dates`, one
  module per evidence source (:mod:`date_evidence_http`, :mod:`date_evidence_url`,
  :mod:`date_evidence_json`, :mod:`date_evidence_html`, :mod:`date_evidence_htmldate`), all of
  them at once through :func:`date_evidence.gather_evidence`.
* **tag time** (in the pipeline): :func:`date_tiers.assign_created`, wrapped by the Beam
  transform :class:`TagTimestamps` (this module), and the policy :func:`date_tiers.is_trusted_human`.

Column semantics (all ISO-8601 UTC strings ``YYYY-MM-DDTHH:MM:SSZ``):

``crawl_date``
    Capture time: WARC-Date / ARC date / Memento-Datetime / C4 ``timestamp`` /
    Dolma ``metadata.warc_date`` (then ``added``, an upper bound).
``http_date``
    The server's ``Date`` header (its clock at response time). Only used as a
    clock check: if it disagrees with the capture by more than a day the
    server's clock is wrong and its ``Last-Modified`` is dropped too.
``http_last_modified``
    The ``Last-Modified`` header: an *upper bound* on when the served bytes last
    changed (for static files). Values within a day of the fetch are what
    dynamic pages send and carry no information (see ``_FRESH``).
``published_date``
    The page's original publication date, exactly as htmldate
    (``original_date=True``) finds it, URL date first, bounded by the capture.
    Day precision: the page's *local* calendar day at ``00:00:00Z`` (converting
    ``23:30-05:00`` to UTC would move it to the wrong day).
``modified_date``
    The page's *latest* date, from its markup and text only: the later of
    htmldate ``original_date=False`` run without the URL (so a date in the URL
    cannot mask an update on the page) and the latest ISO date anywhere in the
    HTML (:func:`latest_page_date`), bounded by the capture. Day precision. A
    page showing any date after the cutoff cannot be ``claimed``.
``url_date``
    A complete ``Y/M/D`` date in the URL path. Day precision.
``created``
    Before :func:`assign_created`: a date field of JSONL/Parquet input, with
    ``created_source == "input"``. After: best estimate of when the text was
    written, ``created_source`` naming which evidence it came from.

Every read-time function takes an optional ``dropped`` list and appends a
:class:`Dropped` ``(field, value, reason)`` for every value it refused (malformed,
pre-1995, after the capture, clock skew). The reader passes the list to
:func:`count_dropped` to bump the ``timestamps/bad_value`` counters.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import apache_beam as beam
from apache_beam.metrics import Metrics

from provsieve.transforms.date_tiers import DEFAULT_CUTOFF, TIERS, assign_created, normalize_cutoff
from provsieve.transforms.dates import NAMESPACE, Dropped, count_dropped
from provsieve.transforms.document import Document
from provsieve.transforms.timing import StageClock


def tag_timestamps(doc: Document, cutoff: str, claim_margin_days: int = 1) -> Document:
    """:func:`assign_created` of ``doc``, the values it refused counted (``timestamps/bad_value``).

    The pipeline runs this inside the step that also counts the tiers and
    splits the unreadable documents off (one per-document stage, not two).
    """
    dropped: list[Dropped] = []
    out = assign_created(doc, cutoff, claim_margin_days=claim_margin_days, dropped=dropped)
    if dropped:
        count_dropped(dropped)
    return out


class _AssignCreatedFn(beam.DoFn):
    def __init__(self, cutoff: str, claim_margin_days: int) -> None:
        self._cutoff = cutoff
        self._margin = claim_margin_days

    def setup(self) -> None:
        self._tiers = {t: Metrics.counter(NAMESPACE, f"tier.{t}") for t in TIERS}
        self._clock = StageClock("timestamps")
        self._sources: dict[str, Any] = {}

    def process(self, doc: Document) -> Iterable[Document]:
        with self._clock:
            out = tag_timestamps(doc, self._cutoff, self._margin)
        self._tiers[out.pre_cutoff_evidence or "none"].inc()
        source = out.created_source or "none"
        if source not in self._sources:
            self._sources[source] = Metrics.counter(NAMESPACE, f"created_source.{source}")
        self._sources[source].inc()
        yield out


class TagTimestamps(beam.PTransform):
    """PCollection[Document] -> PCollection[Document] with the tier filled.

    Counters (namespace ``timestamps``): ``tier.captured``, ``tier.claimed``,
    ``tier.none``, ``created_source.<published|url|input|last_modified|capture|none>``,
    ``bad_value`` and ``bad_value.<field>``: what the manifest reports.
    """

    def __init__(self, cutoff: str = DEFAULT_CUTOFF, *, claim_margin_days: int = 1) -> None:
        super().__init__()
        self._cutoff = normalize_cutoff(cutoff)  # fail at construction, not on a worker
        self._margin = claim_margin_days

    def expand(self, pcoll: beam.PCollection) -> beam.PCollection:
        return pcoll | "AssignCreated" >> beam.ParDo(
            _AssignCreatedFn(self._cutoff, self._margin)).with_output_types(Document)
