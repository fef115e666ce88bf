"""Which copy of a duplicated text is kept: the one with the oldest evidence of existence.

Exact and near de-duplication, the release index and ``provsieve index`` all
order copies by :func:`keep_key`, so the same copy is kept whichever step
finds the duplicate.
"""

from __future__ import annotations

from typing import Optional

from provsieve.transforms.document import Document

TRUSTED_EVIDENCE = frozenset({"captured"})
"""``pre_cutoff_evidence`` values whose ``created`` date counts as proof of existence."""

Node = tuple  # keep_key(doc): (no date, date, doc_id); totally ordered, unique


def oldest_evidence(crawl_date: Optional[str], created: Optional[str], tier: Optional[str]) -> Optional[str]:
    """Oldest evidence that a text existed: its ``crawl_date``, or its ``created`` if older and its tier trusted."""
    dates = [d for d in (crawl_date, created if tier in TRUSTED_EVIDENCE else None) if d]
    return min(dates) if dates else None


def evidence_date(doc: Document) -> Optional[str]:
    """:func:`oldest_evidence` of a document."""
    return oldest_evidence(doc.crawl_date, doc.created, doc.pre_cutoff_evidence)


def keep_key(doc: Document) -> tuple[bool, str, str]:
    """Sort key of the copy to keep: oldest evidence date first (none last), then doc_id.

    ISO-8601 UTC strings sort chronologically. The key ends with the unique
    doc_id, so it is a total order and doubles as the node id in clustering.
    """
    date = evidence_date(doc)
    return (date is None, date or "", doc.doc_id)
