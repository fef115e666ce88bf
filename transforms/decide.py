"""The AI-text decision: which tagged documents are rejected as machine-written.

Kept apart from the detector (which only scores) and from the timestamp step
(which only weighs evidence): the decision combines both under the run's policy.
"""

from __future__ import annotations

from provsieve.transforms.ai_detector import ThresholdPolicy
from provsieve.transforms.document import Document
from provsieve.transforms.date_tiers import is_trusted_human


def ai_verdict(doc: Document, policy: ThresholdPolicy, trust: str) -> Document:
    """Mark ``doc`` ``ai_generated`` when its score reaches the threshold ``policy`` sets for its length.

    The shipped model's policy has one threshold per length band;
    ``--ai-threshold`` and ``--calibrate-fpr`` give a one-band policy
    (:meth:`ThresholdPolicy.constant`). Documents the trust policy holds as provably human
    (e.g. captured before the cutoff) and documents too short to judge
    (``ai_confident`` false) are never rejected: their score stays in the row as evidence.
    """
    if doc.reject_reason or doc.ai_score is None or not doc.ai_confident or is_trusted_human(doc, trust):
        return doc
    threshold = policy.threshold_for_text(doc.text)  # counts the words: only for a document that can be rejected
    if doc.ai_score < threshold:
        return doc
    return doc._replace(reject_reason="ai_generated",
                        reject_detail=f"ai_score {doc.ai_score:.3f} >= threshold {threshold:.3f}")


def cascade_verdict(doc: Document, policy: ThresholdPolicy, trust: str, stage2_policy: ThresholdPolicy) -> Document:
    """``--ai-detector cascade``: a routed document is rejected when its stage-2 score reaches the combiner's threshold.

    ``stage2_policy`` is the combiner's threshold for the document's length band.

    Stage 2 only adds: a routed document below the stage-2 threshold, a routed
    document the LM could not score and every other document are decided by
    stage 1 (:func:`ai_verdict`), so the cascade keeps what stage 1 catches
    (on dev the combiner alone lost a third of the essays stage 1 flags).
    Routing already left out what cannot be rejected (too short, exempt under the trust policy).
    """
    if doc.reject_reason or not doc.ai_routed or doc.ai_stage2_score is None:
        return ai_verdict(doc, policy, trust)
    stage2_threshold = stage2_policy.threshold_for_text(doc.text)
    if doc.ai_stage2_score < stage2_threshold:
        return ai_verdict(doc, policy, trust)
    return doc._replace(reject_reason="ai_generated",
                        reject_detail=f"ai_stage2_score {doc.ai_stage2_score:.3f} >= cascade threshold "
                                      f"{stage2_threshold:.3f} (ai_score {doc.ai_score:.3f})")
