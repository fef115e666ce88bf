"""Beam step of the cascade's second stage: route, score the routed documents with RunInference, merge.

PCollection[Document] (stage-1 tagged) -> the same documents, each with
``ai_routed`` set and, on the routed ones, ``ai_stage2_score``. Routing
(:func:`provsieve.transforms.ai_cascade.should_route`) uses the band shipped
with the combiner and, where the run rejects at thresholds known before it starts, leaves out what stage 1
already rejects; the LM runs in :class:`~provsieve.transforms.lm_handler.CascadeModelHandler`.
"""

from __future__ import annotations

from typing import Optional

import apache_beam as beam
from apache_beam.ml.inference.base import RunInference

from provsieve.transforms.ai_cascade import CascadeCombiner, should_route
from provsieve.transforms.ai_detector import ThresholdPolicy
from provsieve.transforms.document import Document


def _not_routed(doc: Document) -> Document:
    return doc._replace(ai_routed=False)


class ScoreStage2(beam.PTransform):
    """Route by the combiner's band and the trust policy; score the routed documents with the LM.

    ``stage1_policy``: the run's stage-1 thresholds, when it rejects and knows them before it starts (not
    ``--mode tag``, which scores every routable document, nor ``--calibrate-fpr``): documents stage 1 rejects
    at them are not routed (:func:`~provsieve.transforms.ai_cascade.should_route`).
    """

    def __init__(self, trust: str, device: str = "CPU", combiner_path: Optional[str] = None,
                 model_path: Optional[str] = None, min_batch_size: int = 8, max_batch_size: int = 64,
                 large_model: bool = False, stage1_policy: Optional[ThresholdPolicy] = None) -> None:
        super().__init__()
        self._stage1_policy = stage1_policy
        from provsieve.transforms.lm_handler import CascadeModelHandler

        self._trust = trust
        self._band = CascadeCombiner.load(combiner_path).band
        self._handler = CascadeModelHandler(combiner_path, model_path, device=device,
                                            min_batch_size=min_batch_size, max_batch_size=max_batch_size,
                                            large_model=large_model)

    def expand(self, docs):
        band, trust, stage1_policy = self._band, self._trust, self._stage1_policy
        routed, other = docs | "Route" >> beam.Partition(
            lambda d, _: 0 if should_route(d, band, trust, stage1_policy) else 1, 2)
        scored = (routed
                  | "LM stage 2" >> RunInference(self._handler)
                  | "As documents" >> beam.Map(lambda d: d).with_output_types(Document))
        unrouted = other | "Not routed" >> beam.Map(_not_routed).with_output_types(Document)
        return (scored, unrouted) | "Merge stage 2" >> beam.Flatten()
