"""Documents of earlier releases as they take part in this run's de-duplication.

A document kept by an earlier release (a row of its index,
:mod:`~provsieve.transforms.dedup_index`) enters the exact-copy and band
shuffles next to this run's documents, so it is found by the same keys. Two
encodings keep it apart from them:

* its **node** (the clustering key, :func:`~provsieve.transforms.keep_rule.keep_key`
  for this run's documents) is ``(False, "!" + evidence, doc_id, release)``:
  ``"!"`` sorts before every ISO date, so a released document is the minimum
  of any cluster it is in, and the earlier release wins (it is published
  already); among released documents the oldest evidence wins, as inside a run;
* its **member key** in the band and signature parts is ``doc_id@release``,
  never a bare doc_id (doc ids are hex), so a file read again with
  ``--reprocess`` (same doc ids) cannot be mistaken for its released copy.

Only this run's documents are ever marked; released ones only name the copy
that was kept.
"""

from __future__ import annotations

from typing import Optional

REJECT_REASON = "released_duplicate"
_MARK = "!"
_UNDATED = "~"
"""Sorts after every ISO date: released documents without evidence come after the dated ones."""
_MEMBER_SEP = "@"


def released_node(evidence: Optional[str], doc_id: str, release: str) -> tuple[bool, str, str, str]:
    """The clustering node of a document kept by ``release`` (module docstring)."""
    return (False, _MARK + (evidence or _UNDATED), doc_id, release)


def is_released_node(node: tuple) -> bool:
    return len(node) == 4


def node_release(node: tuple) -> Optional[str]:
    """The release a node comes from (None for a document of this run)."""
    return node[3] if len(node) == 4 else None


def released_member(doc_id: str, release: str) -> str:
    return f"{doc_id}{_MEMBER_SEP}{release}"


def is_released_member(member: str) -> bool:
    return _MEMBER_SEP in member


def split_member(member: str) -> tuple[str, Optional[str]]:
    """``(doc_id, release)`` of a member key (release None for a document of this run)."""
    doc_id, sep, release = member.partition(_MEMBER_SEP)
    return doc_id, (release if sep else None)


def released_detail(kind: str, release: str) -> str:
    """``reject_detail`` of a released duplicate; ``kind`` is ``exact`` or ``near``."""
    return f"{kind} copy of a document kept by release {release}"


def released_kind(detail: Optional[str]) -> str:
    """``exact`` or ``near``, from a :func:`released_detail`."""
    return (detail or "near").split(" ", 1)[0]
