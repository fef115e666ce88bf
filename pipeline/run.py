"""The provsieve pipeline: the order of the steps, and running it.

    read -> timestamps -> language (+ --languages) -> dedup (exact, then near) -> AI tagging -> AI decision
    -> write (+ dedup index)

Every step marks the documents it rejects (``reject_reason``); after each step
the rejected ones are split off, so later steps only see live documents. All
of them meet again in the writer: kept documents in ``human/``, the others in
``rejected/``. In ``--mode tag`` nothing readable is filtered: every document
is written to ``human/`` with its tags and the reason it *would* be rejected.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import logging
import time
from typing import Any, Callable, Optional

import apache_beam as beam
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.runners.portability.fn_api_runner import FnApiRunner

from provsieve.pipeline import manifest as manifest_lib
from provsieve.pipeline.options import RunConfig, pipeline_options, uses_embedded_runner
from provsieve.transforms import timing
from provsieve.transforms.date_tiers import normalize_cutoff
from provsieve.transforms.ai_detector import (
    DEFAULT_POLICY,
    SUPPORTED_LANGUAGES,
    TagAIText,
    ThresholdPolicy,
    supported_language,
)
from provsieve.transforms.counting import CountedStep, CountPerBundle
from provsieve.transforms.threshold_calibration import CalibrateThreshold
from provsieve.transforms.decide import ai_verdict, cascade_verdict
from provsieve.transforms.document import Document
from provsieve.pipeline.releases import ReleaseError, config_index_params, load_releases_checked, plan_releases
from provsieve.transforms.dedup import Deduplicate
from provsieve.transforms.dedup_index import WriteIndex
from provsieve.transforms.language import TagLanguage, decided_language, language_verdict
from provsieve.transforms.match_inputs import expand_inputs
from provsieve.transforms.near_dedup import REJECT_REASON as NEAR_DUPLICATE
from provsieve.transforms.near_dedup import key_shards_for
from provsieve.transforms.read import ReaderOptions, ReadDocuments
from provsieve.transforms.released import REJECT_REASON as RELEASED_REASON
from provsieve.transforms.released import released_kind
from provsieve.transforms.score_sample import needs_ai_score, samples_exempt
from provsieve.transforms.timestamps import tag_timestamps
from provsieve.transforms.timing import timed
from provsieve.transforms.write import PublishOutput, WriteShards, empty_output_check, staging_dir_for

LOG = logging.getLogger("provsieve")


def _is_live(doc: Document) -> bool:
    return doc.reject_reason is None


def _is_rejected(doc: Document) -> bool:
    return doc.reject_reason is not None


def split_rejected(docs, label: str):
    """(live, rejected) halves of a PCollection of Documents.

    A ParDo with a tagged output (:class:`CountedStep` with nothing to count), not ``beam.Partition``:
    the same split at a third of the runner's per-element cost (``bench/split_cost.py``).
    """
    live, rejected, _ = docs | label >> CountedStep(is_out=_is_rejected)
    return live, rejected


def _is_near_duplicate(doc: Document) -> bool:
    return doc.reject_reason == NEAR_DUPLICATE


def _kept_fact(doc: Document) -> tuple[tuple[str, str, str], ...]:
    return (("final", doc.source_uri, "kept"), ("language", decided_language(doc) or "none", "kept"))


def _rejected_fact(doc: Document) -> tuple[tuple[str, str, str], ...]:
    return (("final", doc.source_uri, doc.reject_reason),
            ("language", decided_language(doc) or "none", doc.reject_reason))


def _ai_language_facts(doc: Document) -> tuple[tuple[str, str, str], ...]:
    """A scored document the detector cannot judge in its language: counted by that language."""
    if doc.reject_reason or doc.ai_score is None or supported_language(doc, SUPPORTED_LANGUAGES):
        return ()
    return (("ai_unsupported_language", "", decided_language(doc)),)


def _input_facts(doc: Document) -> tuple[tuple[str, str, str], ...]:
    """Counted once per document read: its file, its evidence tier and the source of its ``created``."""
    return (("read", doc.source_uri, "input_records"),
            ("tier", "", doc.pre_cutoff_evidence or "none"),
            ("created_source", "", doc.created_source or "none"),
            ("capture_source", "", doc.capture_source or "none"))


def _released_fact(doc: Document) -> tuple[tuple[str, str, str], ...]:
    """A copy of an earlier release's document, counted by release and kind (exact or near)."""
    if doc.reject_reason != RELEASED_REASON:
        return ()
    return (("released", doc.duplicate_release, released_kind(doc.reject_detail)),)


def planned_key_shards(config: RunConfig, driver_facts: dict[str, Any]) -> int:
    """``--key-shards``, else as many as the input's size calls for (:func:`key_shards_for`; 64 without its size)."""
    if config.key_shards:
        return config.key_shards
    return key_shards_for(sum(f.get("bytes") or 0 for f in driver_facts.get("input_files", ())))


def build_pipeline(p: beam.Pipeline, config: RunConfig, staging_dir: str,
                   driver_facts: dict[str, Any] | None = None) -> dict[str, beam.PCollection]:
    """Assemble the steps of ``config`` on ``p``.

    Returns the final ``kept`` and ``rejected`` Documents and the ``manifest``
    (a singleton), for tests to assert on.
    """
    reader = ReaderOptions(text_field=config.text_field, max_doc_bytes=config.max_doc_bytes,
                           html_dates=config.html_dates)
    planned = driver_facts or {}  # what plan_releases decided on the driver (--after)
    key_shards = planned.setdefault("key_shards", planned_key_shards(config, planned))
    docs, read_tally = p | "Read" >> ReadDocuments(list(planned.get("read_inputs", config.inputs)), reader,
                                                   with_tally=True)
    # the tiers, their counts and the split of the unreadable documents, in one per-document step
    live, unreadable, input_facts = docs | "Timestamps" >> CountedStep(
        timed("timestamps", tag_timestamps), normalize_cutoff(config.cutoff), counted_after=_input_facts,
        is_out=_is_rejected)
    facts = [input_facts, read_tally]
    rejected = [unreadable]
    tag_mode = config.mode == "tag"

    live = live | "Language" >> TagLanguage()
    if config.languages is not None:
        live = live | "Language filter" >> beam.Map(language_verdict, config.languages)
        if not tag_mode:
            live, off_language = split_rejected(live, "Split other languages")
            rejected.append(off_language)

    if config.dedup:
        deduped = live | "Dedup" >> Deduplicate(threshold=config.dedup_threshold, num_perm=config.num_perm,
                                                ngram=config.ngram,
                                                released=planned.get("released_index_files", ()), index_rows=True,
                                                key_shards=key_shards)
        live, index_rows = deduped["docs"], deduped["index"]
        if not tag_mode:
            live, dups = split_rejected(live, "Split duplicates")
            rejected.append(dups)

    if config.ai:
        live = _score_ai(live, config)
        threshold, how = _ai_threshold(live, config)
        verdict, extra = ai_verdict, ()
        if config.ai_detector == "cascade":
            # where stage 1's verdict is known before the LM runs, the LM skips the documents stage 1 rejects
            known = threshold if isinstance(threshold, ThresholdPolicy) and not tag_mode else None
            live, stage2_policy = _stage2(live, config, facts, known)
            verdict, extra = cascade_verdict, (stage2_policy,)
        if isinstance(threshold, ThresholdPolicy):  # known before the run: no side input, no materialized docs
            facts.append(p | "Threshold fact" >> beam.Create([(("ai_threshold", how, ""), threshold.highest)]))
        else:  # calibrated on this run's scores: one number, a singleton side input
            facts.append(threshold | "Threshold fact" >> beam.Map(lambda t, h=how: (("ai_threshold", h, ""), t)))
            threshold = beam.pvalue.AsSingleton(threshold | "As policy" >> beam.Map(ThresholdPolicy.constant))
        # the decision, its counts (before: the languages it cannot judge; after: what is kept) and the split
        live, ai_rejects, decided_facts = live | "AI decision" >> CountedStep(
            verdict, threshold, config.trust, *extra, counted_in=_ai_language_facts, counted_out=_kept_fact,
            is_out=None if tag_mode else _is_rejected)
        facts.append(decided_facts)
        rejected.append(ai_rejects)

    rejected_all = rejected | "All rejected" >> beam.Flatten()
    human_shards = live | "Write human" >> WriteShards(staging_dir, "human", config.rows_per_shard,
                                                          with_verdict=tag_mode)
    rejected_shards = rejected_all | "Write rejected" >> WriteShards(staging_dir, "rejected", config.rows_per_shard)
    if not config.ai:  # else the AI decision counts them
        facts.append(live | "Kept facts" >> CountPerBundle(_kept_fact))
    facts.append(rejected_all | "Rejected facts" >> CountPerBundle(_rejected_fact))
    if config.after:
        facts.append(rejected_all | "Released facts" >> CountPerBundle(_released_fact))
    summed = (
        facts
        | "All facts" >> beam.Flatten()
        | "Sum facts" >> beam.CombinePerKey(sum)
    )
    all_shards = [human_shards, rejected_shards]
    if config.dedup:  # the index of what this release keeps, for the runs --after it
        indexed = {"kept": live if not tag_mode else live | "Kept only" >> beam.Filter(_is_live),
                   "near": (dups if not tag_mode else live) | "Near copies" >> beam.Filter(_is_near_duplicate),
                   "rows": index_rows}
        all_shards.append(indexed | "Write index" >> WriteIndex(staging_dir, config_index_params(config), key_shards))
    shards = all_shards | "All shards" >> beam.Flatten()
    manifest = (shards, summed) | "Publish" >> PublishOutput(
        config.output, staging_dir, functools.partial(manifest_lib.finish_output, config, driver_facts))
    return {"kept": live, "rejected": rejected_all, "manifest": manifest}


def _routed_fact(doc: Document, routable: Callable[[Document], bool]) -> tuple[tuple[str, str, str], ...]:
    """Routed, or routable but not routed (stage 1 rejects it, so the LM skipped it), or neither."""
    if doc.ai_routed:
        return (("ai_stage2", "", "routed"),)
    return (("ai_stage2", "", "stage1_rejected" if routable(doc) else "not_routed"),)


def _stage2(live, config: RunConfig, facts: list, stage1_policy: Optional[ThresholdPolicy]):
    """``--ai-detector cascade``: the LM scores the routed documents (not those ``stage1_policy`` rejects, when
    given); their count goes to the manifest."""
    from provsieve.transforms.ai_cascade import CascadeCombiner, should_route
    from provsieve.transforms.ai_stage2 import ScoreStage2

    # On GPU workers one copy of the model per machine serves all its processes (Beam's large_model sharing).
    live = live | "AI stage 2" >> ScoreStage2(config.trust, device=config.ai_device,
                                              large_model=config.ai_device == "GPU", stage1_policy=stage1_policy)
    combiner = CascadeCombiner.load()
    facts.append(live | "Routed facts" >> CountPerBundle(
        functools.partial(_routed_fact, routable=functools.partial(should_route, band=combiner.band,
                                                                   trust=config.trust))))
    return live, combiner.policy


def _score_ai(live, config: RunConfig):
    """AI scores for every document whose verdict needs one and, where the run samples them, of the exempt ones."""
    if not samples_exempt(config.mode, config.exempt_score_rate, config.calibrate_fpr):
        return live | "AI tagging" >> TagAIText()
    needs_score = functools.partial(needs_ai_score, trust=config.trust, rate=config.exempt_score_rate)
    return live | "AI tagging" >> TagAIText(needs_score=needs_score)


def _ai_threshold(live, config: RunConfig):
    """The AI thresholds of this run (a :class:`ThresholdPolicy`, or a singleton PCollection of the one
    calibrated number), and how they were chosen."""
    if config.calibrate_fpr is not None:
        scores = (
            live
            | "Provably human" >> beam.Filter(lambda d: d.pre_cutoff_evidence == "captured" and bool(d.ai_confident))
            | "Their scores" >> beam.Map(lambda d: d.ai_score)
        )
        how = f"calibrated: {config.calibrate_fpr:g}-FPR quantile of captured-before-cutoff documents' scores"
        return scores | "Calibrate" >> CalibrateThreshold(config.calibrate_fpr), how
    if config.ai_threshold is not None:
        return ThresholdPolicy.constant(config.ai_threshold), "--ai-threshold"
    if len(DEFAULT_POLICY.bands) > 1:
        return DEFAULT_POLICY, f"{manifest_lib.BANDED_DEFAULT} ({DEFAULT_POLICY.describe()})"
    return DEFAULT_POLICY, "shipped model default"


def run(config: RunConfig, beam_args: list[str] | None = None) -> dict[str, Any]:
    """Run the pipeline to completion and return the manifest it wrote."""
    beam_args = list(beam_args or [])
    expand_inputs(list(config.inputs))
    if config.after:
        if not config.dedup:
            raise ReleaseError("--after needs de-duplication (it rejects copies of earlier releases): drop --no-dedup")
        load_releases_checked(config)  # before the output is cleared or any input hashed: a wrong release fails fast
    problem = empty_output_check(config.output, config.overwrite)
    if problem:
        raise FileExistsError(problem)
    options: PipelineOptions = pipeline_options(beam_args, config.workers)
    runner = FnApiRunner() if uses_embedded_runner(beam_args) else None
    started = time.monotonic()
    driver_facts = manifest_lib.driver_facts(config)
    if config.after:
        plan_releases(config, driver_facts)
    p = beam.Pipeline(runner=runner, options=options)
    build_pipeline(p, config, staging_dir_for(config.output), driver_facts)
    with fewer_gc_passes() if runner is not None else contextlib.nullcontext():
        result = p.run()
        result.wait_until_finish()
    manifest = manifest_lib.read_manifest(config.output)
    manifest["wall_seconds"] = round(time.monotonic() - started, 3)
    manifest["stage_seconds"] = stage_seconds(result)
    manifest_lib.write_manifest(config.output, manifest)  # the driver adds what only it knows: time
    if config.report:
        from provsieve.pipeline.report import write_report

        try:
            write_report(config.output)
        except Exception as err:  # noqa: BLE001 - the output is complete and verified by its manifest
            LOG.warning("could not write report.html (run `provsieve report %s`): %s: %s",
                        config.output, type(err).__name__, err)
    return manifest


GC_THRESHOLDS = (50_000, 20, 20)
"""Allocations between the collector's young passes during a run (CPython's default: 700, 10, 10)."""


@contextlib.contextmanager
def fewer_gc_passes():
    """The embedded runner's process, collected less often while the pipeline runs.

    Documents and the runner's buffers are tuples and strings without
    reference cycles, yet each young pass walks the survivors, and every
    full pass all the documents the runner holds: 2.9 s of CPU at 100k
    documents with the defaults (2,742 young and 12 full passes), 1.4 s at
    20k. Cycles are still collected, just later; the thresholds are restored after the run.
    """
    before = gc.get_threshold()
    gc.freeze()  # what exists before the run (modules, models) is never scanned again
    gc.set_threshold(*GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()


def stage_seconds(result) -> dict[str, float]:
    """Busy time per stage, summed over workers, from the run's ``provsieve.stage_us`` counters.

    The reader's time includes the HTML date evidence; it is reported apart,
    under ``timestamps`` with the tier assignment.
    """
    try:
        counters = result.metrics().query(MetricsFilter().with_namespace(timing.NAMESPACE))["counters"]
    except Exception:  # noqa: BLE001 - some runners report no metrics; the run itself succeeded
        return {}
    raw: dict[str, float] = {}
    for counter in counters:
        raw[counter.key.metric.name] = raw.get(counter.key.metric.name, 0) + (counter.committed or 0) / 1e6
    evidence = raw.pop("date_evidence", 0.0)
    if "read" in raw:
        raw["read"] -= evidence
    raw["timestamps"] = raw.get("timestamps", 0.0) + evidence
    order = ["read", "timestamps", "language", "dedup", "ai", "ai_stage2", "write"]
    return {stage: round(raw[stage], 3) for stage in order + sorted(set(raw) - set(order)) if stage in raw}
