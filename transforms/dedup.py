"""De-duplication as the pipeline runs it: exact copies, then near duplicates, joined back in one pass.

:class:`~provsieve.transforms.exact_dedup.ExactDuplicates` and
:class:`~provsieve.transforms.near_dedup.NearDuplicateAssignments` both read
the documents in the stage that reads them and shuffle only ids, text hashes,
band keys and signatures. Their verdicts meet the documents once, in
:func:`mark_duplicates` with two side inputs (the exact losers, the cluster
assignments). Run one after the other, each would join its verdicts back on its
own and the runner would set every document aside twice, waiting for each join;
here it waits once. The exact copies take no part in near de-duplication (the
band step leaves them out), so the result is the same as exact de-duplication
followed by near de-duplication of what is left.
"""

from __future__ import annotations

import apache_beam as beam

from provsieve.transforms.document import Document
from provsieve.transforms.exact_dedup import ExactDuplicates, mark_duplicate
from provsieve.transforms.minhash import DEFAULT_NGRAM, DEFAULT_NUM_PERM, DEFAULT_SEED, DEFAULT_THRESHOLD
from provsieve.transforms.near_dedup import Assignment, NearDuplicateAssignments, tag_document


def mark_duplicates(doc: Document, exact_losers: dict[str, str], near: dict[str, Assignment]) -> Document:
    """The document with its de-duplication columns filled (or untouched, when already rejected)."""
    if doc.reject_reason is not None:
        return doc
    if doc.doc_id in exact_losers:
        return mark_duplicate(doc, exact_losers)
    return tag_document(doc, near.get(doc.doc_id))


class Deduplicate(beam.PTransform):
    """Documents -> the same documents, exact copies and near duplicates marked (module docstring)."""

    def __init__(self, threshold: float = DEFAULT_THRESHOLD, num_perm: int = DEFAULT_NUM_PERM,
                 ngram: int = DEFAULT_NGRAM, seed: int = DEFAULT_SEED):
        super().__init__()
        self._near = dict(threshold=threshold, num_perm=num_perm, ngram=ngram, seed=seed)

    def expand(self, docs):
        exact = docs | "Exact copies" >> ExactDuplicates()
        near = docs | "Near duplicates" >> NearDuplicateAssignments(**self._near, excluded=exact)
        return docs | "Mark duplicates" >> beam.Map(
            mark_duplicates, beam.pvalue.AsDict(exact), beam.pvalue.AsDict(near))
