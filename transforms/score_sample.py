"""Which documents the AI detector scores: all that its verdict can reject, and a sample of the exempt ones.

A document the ``--trust`` policy holds as human (captured before the cutoff, by default) is kept whatever its
score, so scoring it changes no verdict. Its score still serves two things: the report's per-tier histogram
(how a run measures its own detector's false-positive rate on provably human text) and ``--calibrate-fpr``
(the quantile of those scores). A deterministic sample of them, chosen by ``doc_id`` hash at
``--exempt-score-rate``, serves both; the rate is in the manifest's ``config``. ``--mode tag`` scores every
document.
"""

from __future__ import annotations

import hashlib

from provsieve.transforms.date_tiers import is_trusted_human
from provsieve.transforms.document import Document

DEFAULT_EXEMPT_SCORE_RATE = 0.1
_SCALE = float(1 << 64)


def in_score_sample(doc_id: str, rate: float) -> bool:
    """True for a fixed share ``rate`` of doc ids: the first 8 bytes of the id's BLAKE2b, as a fraction of 2**64."""
    if rate >= 1.0:
        return True
    if rate <= 0.0:
        return False
    digest = hashlib.blake2b(doc_id.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") / _SCALE < rate


def needs_ai_score(doc: Document, trust: str, rate: float) -> bool:
    """Score ``doc``: its verdict depends on the score, or it is in the sample of exempt documents."""
    return not is_trusted_human(doc, trust) or in_score_sample(doc.doc_id, rate)


def samples_exempt(mode: str, rate: float, calibrate_fpr: float | None) -> bool:
    """Whether a run scores only a sample of the exempt documents.

    Not in ``--mode tag`` (every document is scored) nor with ``--calibrate-fpr``, whose threshold is a
    quantile of the exempt (captured) documents' scores: a sample would make it rest on a fraction of them.
    """
    return rate < 1.0 and mode != "tag" and calibrate_fpr is None
