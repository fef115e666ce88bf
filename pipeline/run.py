"""The provsieve pipeline: the order of the steps, and running it.

    read -> timestamps -> language (+ --languages) -> dedup (exact, then near) -> AI tagging -> AI decision -> write

Every step marks the documents it rejects (``reject_reason``); after each step
the rejected ones are split off, so later steps only see live documents. All
of them meet again in the writer: kept documents in ``human/``, the others in
``rejected/``. In ``--mode tag`` nothing readable is filtered: every document
is written to ``human/`` with its tags and the reason it *would* be rejected.
"""

from __future__ import annotations

import functools
import logging
import time
from typing import Any

import apache_beam as beam
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.runners.portability.fn_api_runner import FnApiRunner

from provsieve.pipeline import manifest as manifest_lib
from provsieve.pipeline.options import RunConfig, pipeline_options, uses_embedded_runner
from provsieve.transforms import timing
from provsieve.transforms.ai_detector import (
    DEFAULT_THRESHOLD,
    SUPPORTED_LANGUAGES,
    CalibrateThreshold,
    TagAIText,
    supported_language,
)
from provsieve.transforms.counting import CountPerBundle
from provsieve.transforms.decide import ai_verdict
from provsieve.transforms.document import Document
from provsieve.transforms.dedup import Deduplicate
from provsieve.transforms.language import TagLanguage, decided_language, language_verdict
from provsieve.transforms.match_inputs import expand_inputs
from provsieve.transforms.read import ReaderOptions, ReadDocuments
from provsieve.transforms.score_sample import needs_ai_score
from provsieve.transforms.timestamps import TagTimestamps
from provsieve.transforms.write import PublishOutput, WriteShards, empty_output_check, staging_dir_for

LOG = logging.getLogger("provsieve")


def _is_live(doc: Document) -> bool:
    return doc.reject_reason is None


def split_rejected(docs, label: str):
    """(live, rejected) halves of a PCollection of Documents."""
    live, rejected = docs | label >> beam.Partition(lambda d, _: 0 if _is_live(d) else 1, 2)
    return live, rejected


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


def build_pipeline(p: beam.Pipeline, config: RunConfig, staging_dir: str,
                   driver_facts: dict[str, Any] | None = None) -> dict[str, beam.PCollection]:
    """Assemble the steps of ``config`` on ``p``.

    Returns the final ``kept`` and ``rejected`` Documents and the ``manifest``
    (a singleton), for tests to assert on.
    """
    reader = ReaderOptions(text_field=config.text_field, max_doc_bytes=config.max_doc_bytes,
                           html_dates=config.html_dates)
    docs, read_tally = p | "Read" >> ReadDocuments(list(config.inputs), reader, with_tally=True)
    docs = docs | "Timestamps" >> TagTimestamps(config.cutoff)  # one document out for each in
    facts = [docs | "Input facts" >> CountPerBundle(_input_facts), read_tally]
    live, unreadable = split_rejected(docs, "Split unreadable")
    rejected = [unreadable]
    tag_mode = config.mode == "tag"

    live = live | "Language" >> TagLanguage()
    if config.languages is not None:
        live = live | "Language filter" >> beam.Map(language_verdict, config.languages)
        if not tag_mode:
            live, off_language = split_rejected(live, "Split other languages")
            rejected.append(off_language)

    if config.dedup:
        live = live | "Dedup" >> Deduplicate(threshold=config.dedup_threshold, num_perm=config.num_perm,
                                             ngram=config.ngram)
        if not tag_mode:
            live, dups = split_rejected(live, "Split duplicates")
            rejected.append(dups)

    if config.ai:
        live = _score_ai(live, config, tag_mode)
        facts.append(live | "AI language facts" >> CountPerBundle(_ai_language_facts))
        threshold, how = _ai_threshold(live, config)
        if isinstance(threshold, float):  # known before the run: no side input, no materialized documents
            facts.append(p | "Threshold fact" >> beam.Create([(("ai_threshold", how, ""), threshold)]))
            live = live | "AI decision" >> beam.Map(ai_verdict, threshold, config.trust)
        else:
            facts.append(threshold | "Threshold fact" >> beam.Map(lambda t, h=how: (("ai_threshold", h, ""), t)))
            live = live | "AI decision" >> beam.Map(ai_verdict, beam.pvalue.AsSingleton(threshold), config.trust)
        if not tag_mode:
            live, ai_rejects = split_rejected(live, "Split AI text")
            rejected.append(ai_rejects)

    rejected_all = rejected | "All rejected" >> beam.Flatten()
    human_shards = live | "Write human" >> WriteShards(staging_dir, "human", config.rows_per_shard,
                                                          with_verdict=tag_mode)
    rejected_shards = rejected_all | "Write rejected" >> WriteShards(staging_dir, "rejected", config.rows_per_shard)
    facts += [
        live | "Kept facts" >> CountPerBundle(_kept_fact),
        rejected_all | "Rejected facts" >> CountPerBundle(_rejected_fact),
    ]
    summed = (
        facts
        | "All facts" >> beam.Flatten()
        | "Sum facts" >> beam.CombinePerKey(sum)
    )
    shards = (human_shards, rejected_shards) | "All shards" >> beam.Flatten()
    manifest = (shards, summed) | "Publish" >> PublishOutput(
        config.output, staging_dir, functools.partial(manifest_lib.finish_output, config, driver_facts))
    return {"kept": live, "rejected": rejected_all, "manifest": manifest}


def _score_ai(live, config: RunConfig, tag_mode: bool):
    """AI scores for every document whose verdict needs one and a sample of the exempt ones (all in tag mode)."""
    if tag_mode or config.exempt_score_rate >= 1.0:
        return live | "AI tagging" >> TagAIText()
    to_score, exempt = live | "Needs AI score" >> beam.Partition(
        lambda d, _, trust=config.trust, rate=config.exempt_score_rate: 0 if needs_ai_score(d, trust, rate) else 1, 2)
    return (to_score | "AI tagging" >> TagAIText(), exempt) | "Scored and exempt" >> beam.Flatten()


def _ai_threshold(live, config: RunConfig):
    """The AI threshold of this run (a float, or a singleton PCollection when calibrated), and how it was chosen."""
    if config.calibrate_fpr is not None:
        scores = (
            live
            | "Provably human" >> beam.Filter(lambda d: d.pre_cutoff_evidence == "captured" and bool(d.ai_confident))
            | "Their scores" >> beam.Map(lambda d: d.ai_score)
        )
        how = f"calibrated: {config.calibrate_fpr:g}-FPR quantile of captured-before-cutoff documents' scores"
        return scores | "Calibrate" >> CalibrateThreshold(config.calibrate_fpr), how
    if config.ai_threshold is not None:
        return float(config.ai_threshold), "--ai-threshold"
    return float(DEFAULT_THRESHOLD), "shipped model default"


def run(config: RunConfig, beam_args: list[str] | None = None) -> dict[str, Any]:
    """Run the pipeline to completion and return the manifest it wrote."""
    beam_args = list(beam_args or [])
    expand_inputs(list(config.inputs))
    problem = empty_output_check(config.output, config.overwrite)
    if problem:
        raise FileExistsError(problem)
    options: PipelineOptions = pipeline_options(beam_args, config.workers)
    runner = FnApiRunner() if uses_embedded_runner(beam_args) else None
    started = time.monotonic()
    driver_facts = manifest_lib.driver_facts(config)
    p = beam.Pipeline(runner=runner, options=options)
    build_pipeline(p, config, staging_dir_for(config.output), driver_facts)
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
    order = ["read", "timestamps", "language", "dedup", "ai", "write"]
    return {stage: round(raw[stage], 3) for stage in order + sorted(set(raw) - set(order)) if stage in raw}
