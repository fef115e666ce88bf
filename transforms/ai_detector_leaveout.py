"""Leave-out splits for the stage-1 generalisation benchmark (``bench/ai_detector_generalisation.py``).

The shared dev files are in-distribution (the same generators and domains as
train), so they cannot tell which settings carry over to generators and
domains the project never saw. These splits can: a model trains without one
source (or one generator of a source) and is judged on the dev records of
what it left out, with the length-band thresholds chosen on the dev humans it
may use (:func:`~provsieve.transforms.ai_detector.band_thresholds`, as
``train-detector`` does), so "flagged" is what an unseen source would get.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from provsieve.transforms.ai_detector_training import Record

LOGO_SOURCES = ("fastdetectgpt", "detectrl", "outfox")
"""Sources with several generators: leave-one-generator-out runs inside each."""


@dataclass(frozen=True)
class LeaveOut:
    """One benchmark split: train on ``train``, evaluate on ``evaluate``, thresholds from ``threshold_humans``."""

    kind: str  # "source" or "generator"
    name: str  # the left-out source, or "<source>/<generator>"
    train: list[Record]
    evaluate: list[Record]
    threshold_humans: list[Record]


def base_generator(generator: str) -> str:
    """DetectRL's attacked variants (``ChatGPT+paraphrase_dipper``) belong to their generator (``ChatGPT``)."""
    return generator.split("+", 1)[0]


def leave_one_source_out(train: Sequence[Record], dev: Sequence[Record], web_train: Sequence[Record] = (),
                         sources: Sequence[str] | None = None) -> list[LeaveOut]:
    """Per source: train on the other sources' train records and the web train pages, evaluate on its dev records.

    The thresholds may use the other sources' dev humans only (not the left-out
    source's), so a source without humans (dolma-gpt35-topics) still gets a
    flagged share at thresholds set elsewhere.
    """
    names = sorted({r["source"] for r in dev}) if sources is None else list(sources)
    return [LeaveOut("source", s,
                     [r for r in train if r["source"] != s] + list(web_train),
                     [r for r in dev if r["source"] == s],
                     [r for r in dev if r["source"] != s and r["label"] == "human"])
            for s in names]


def leave_one_generator_out(train: Sequence[Record], dev: Sequence[Record], web_train: Sequence[Record] = (),
                            sources: Sequence[str] = LOGO_SOURCES) -> list[LeaveOut]:
    """Per generator of each source: train without that generator's machine texts of the source.

    Evaluated on the source's dev humans and the generator's dev machine texts
    (all its attacked variants); thresholds from every dev human (the source's
    humans stay in training: only the generator is new).
    """
    out = []
    humans = [r for r in dev if r["label"] == "human"]
    for s in sources:
        gens = sorted({base_generator(r["generator"]) for r in dev if r["source"] == s and r["label"] == "ai"})
        for g in gens:
            def left_out(r: Record) -> bool:
                return r["source"] == s and r["label"] == "ai" and base_generator(r["generator"]) == g
            out.append(LeaveOut("generator", f"{s}/{g}",
                                [r for r in train if not left_out(r)] + list(web_train),
                                [r for r in dev if r["source"] == s and (r["label"] == "human" or left_out(r))],
                                humans))
    return out


def in_distribution(train: Sequence[Record], dev: Sequence[Record], web_train: Sequence[Record] = ()) -> LeaveOut:
    """The shipped model's own split, for comparison: every train record and web train page, all of dev."""
    return LeaveOut("dev", "dev", list(train) + list(web_train), list(dev),
                    [r for r in dev if r["label"] == "human"])
