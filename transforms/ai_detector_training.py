"""Training and evaluation of the fastText AI-text detector (offline, not in the pipeline).

Records are dicts with ``text``, ``label`` (``human``/``ai``) and optional
``id``, ``source``, ``generator``, ``domain``. Dolma-style files (``text``
but no ``label``, e.g. a Common Crawl dump) load with a label override and are
split deterministically by :func:`web_split` into train / dev / holdout, so
real web pages are human examples, take part in the threshold choice, and
still leave a held-out part for an honest false-positive check.

Metrics are computed with NumPy (no scikit-learn dependency).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import random
import re
import tempfile
import threading
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, Iterable, Iterator, Optional, Sequence, Union

import numpy as np

from provsieve.transforms.ai_detector import (
    CHUNK_TOKENS,
    LABEL_AI,
    LABEL_HUMAN,
    MAX_CHUNKS,
    calibrated_threshold,
    chunk_tokens,
    preprocess,
)

Record = dict[str, Any]
LABELS = {"human": LABEL_HUMAN, "ai": LABEL_AI}

MIN_LANGUAGE_SHARE = 0.01
"""A language is among a detector's ``languages`` when at least this share of its training texts is in it."""


def trained_languages(languages: Iterable[Optional[str]],
                      min_share: float = MIN_LANGUAGE_SHARE) -> tuple[list[str], dict[str, int]]:
    """The languages a detector can judge, from the (decided) language of each training text.

    Returns the codes holding at least ``min_share`` of the texts (``und``,
    the texts whose language is not confident, never counts as one) and the
    count per language, for the model's metadata.
    """
    counts: dict[str, int] = {}
    for code in languages:
        counts[code or "und"] = counts.get(code or "und", 0) + 1
    total = sum(counts.values())
    kept = sorted(c for c, n in counts.items() if c != "und" and total and n / total >= min_share)
    return kept, dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))

# --------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------


def _open(path: str | Path):
    path = str(path)
    return gzip.open(path, "rt", encoding="utf-8") if path.endswith(".gz") else open(path, encoding="utf-8")


def load_records(path: str | Path, label: Optional[str] = None) -> list[Record]:
    """Load a JSONL(.gz) file; ``label`` overrides/sets the label of every record.

    Records without ``source`` (Dolma dumps) get ``source = "web:<file stem>"``,
    generator ``human`` when the label is human, and domain ``web``.
    """
    stem = Path(path).name.split(".")[0]
    out: list[Record] = []
    with _open(path) as fh:
        for i, line in enumerate(fh):
            if not line.strip():
                continue
            raw = json.loads(line)
            lab = label or raw.get("label")
            if lab not in LABELS:
                raise ValueError(f"{path}:{i + 1}: label must be human or ai (use --label), got {lab!r}")
            is_web = "source" not in raw or "label" not in raw
            record = {
                "id": str(raw.get("id", f"{stem}-{i}")),
                "text": raw.get("text") or "",
                "label": lab,
                "source": f"web:{stem}" if is_web else raw["source"],
                "generator": raw.get("generator") or ("human" if lab == "human" else "unknown"),
                "domain": raw.get("domain") or ("web" if is_web else "unknown"),
            }
            if "language" in raw:  # e.g. provsieve's own output: eval-detector then reports per language
                record["language"] = raw["language"] or "und"
            out.append(record)
    return out


def web_split(key: str, train_pct: int = 50, dev_pct: int = 25) -> str:
    """Deterministic split of web pages: ``train``, ``dev`` or ``holdout``.

    ``sha256(key)[:8] as int mod 100`` (as the shared data's own splits):
    below ``train_pct`` is train, the next ``dev_pct`` is dev (used to choose
    the threshold), the rest is held out for the false-positive check only.
    """
    bucket = int(hashlib.sha256(key.encode("utf-8")).hexdigest()[:8], 16) % 100
    if bucket < train_pct:
        return "train"
    return "dev" if bucket < train_pct + dev_pct else "holdout"


def select_split(records: Iterable[Record], split: str) -> list[Record]:
    return [r for r in records if web_split(r["id"]) == split]


_TRAINING_ARTEFACTS = re.compile(r"\s*Explain like I'm five\.?", re.IGNORECASE)


def clean_training_text(text: str) -> str:
    """Remove data-set artefacts that only one class carries (training only).

    HC3's human ELI5 questions end in the literal "Explain like I'm five."
    (677 human vs 0 AI texts): a label leak, not style.
    """
    return _TRAINING_ARTEFACTS.sub("", text)


# --------------------------------------------------------------------------
# fastText training files
# --------------------------------------------------------------------------


def record_lines(record: Record, repeat: int = 1, max_chunks: int = MAX_CHUNKS) -> list[str]:
    """fastText lines (``__label__x tokens``) for one record, one per chunk.

    The chunks are those the scorer uses (:func:`chunk_tokens` of
    :func:`preprocess`), so training and scoring see the same inputs.
    """
    tokens = preprocess(clean_training_text(record["text"])).split()
    label = LABELS[record["label"]]
    return [f"{label} {' '.join(c)}" for c in chunk_tokens(tokens, CHUNK_TOKENS, max_chunks)] * repeat


def write_training_file(
    records: Sequence[Record],
    path: str | Path,
    seed: int,
    web_repeat: int = 1,
    balance: bool = True,
) -> dict[str, int]:
    """Write shuffled fastText lines; returns line counts per label.

    Web pages (domain ``web``) are repeated ``web_repeat`` times: they are few
    but are what the pipeline sees. With ``balance`` the minority label's
    lines are oversampled (deterministically) to match the majority.
    """
    rng = random.Random(seed)
    by_label: dict[str, list[str]] = {LABEL_HUMAN: [], LABEL_AI: []}
    for r in records:
        rep = web_repeat if r.get("domain") == "web" else 1
        by_label[LABELS[r["label"]]].extend(record_lines(r, rep))
    if balance and all(by_label.values()):
        big = max(len(v) for v in by_label.values())
        for lab, lines in by_label.items():
            extra = big - len(lines)
            by_label[lab] = lines + [lines[rng.randrange(len(lines))] for _ in range(extra)]
    all_lines = [l for v in by_label.values() for l in v]
    rng.shuffle(all_lines)
    Path(path).write_text("\n".join(all_lines) + "\n", encoding="utf-8")
    return {lab: len(v) for lab, v in by_label.items()}


@dataclass(frozen=True)
class TrainParams:
    """fastText supervised hyper-parameters (defaults = the shipped model's)."""

    dim: int = 32
    epoch: int = 5
    lr: float = 0.2
    wordNgrams: int = 3
    minn: int = 0
    maxn: int = 0
    minCount: int = 2
    bucket: int = 150_000
    """Small hash table for bigrams: the whole matrix then fits in 10 MB once
    quantised without pruning (pruning with ``cutoff``, or product-quantising
    a 2M-row table, both cost ~0.01-0.02 dev AUROC)."""
    loss: str = "softmax"
    seed: int = 13
    thread: int = 1
    # quantisation
    cutoff: int = 0
    dsub: int = 2
    qnorm: bool = True
    retrain: bool = False
    """Retraining after the cutoff re-runs all epochs and over-fits (lower dev AUROC)."""
    web_repeat: int = 3
    balance: bool = True

    @classmethod
    def from_metadata(cls, params: dict[str, Any]) -> "TrainParams":
        """The parameters recorded in a model's metadata (``params`` of MODEL.json); an unknown one is an error."""
        unknown = sorted(set(params) - {f.name for f in fields(cls)})
        if unknown:
            raise ValueError(f"unknown fastText training parameters {unknown}")
        return cls(**params)

    def fasttext_kwargs(self) -> dict[str, Any]:
        keys = ("dim", "epoch", "lr", "wordNgrams", "minn", "maxn", "minCount", "bucket", "loss", "seed", "thread")
        return {k: getattr(self, k) for k in keys}


_M_PERTURB = -6  # glibc's mallopt parameter number (malloc.h)


@contextmanager
def zero_filled_allocations() -> Iterator[bool]:
    """While open, every ``malloc`` returns zero-filled memory (glibc); yields False where that is not available.

    fastText 0.9.3 allocates its input matrix with ``posix_memalign`` and no
    zeroing, and ``uniform()`` on one thread initialises only the first tenth
    of it (``blockSize = m * n / 10``, block 0). The other nine tenths (most
    word n-gram buckets) start as whatever that memory held: zeros in a fresh
    process (new pages from the kernel), but old bytes once the process has
    freed buffers of a few MB (glibc then raises its mmap threshold and serves
    the matrix from the heap). Old bytes that read as a float NaN stop training
    with "Encountered NaN"; others silently change the model. glibc's
    ``M_PERTURB`` with byte 0xff makes ``malloc`` memset each block to
    ``0xff ^ 0xff = 0``: the fresh-process zeros, in any process. Turned off on
    exit (it costs a memset per allocation).
    """
    import ctypes
    import ctypes.util

    global _perturb_users
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        libc = None
    with _perturb_lock:  # counted: concurrent fold trainings (threads) keep it on until the last one ends
        on = bool(libc is not None and hasattr(libc, "mallopt") and libc.mallopt(_M_PERTURB, 0xFF))
        _perturb_users += on
    try:
        yield on
    finally:
        with _perturb_lock:
            _perturb_users -= on
            if on and not _perturb_users:
                libc.mallopt(_M_PERTURB, 0)


_perturb_lock = threading.Lock()
_perturb_users = 0


def train_model(train_file: str | Path, params: TrainParams, quantize: bool = True):
    """Train (and quantise) a fastText classifier; ``train_file`` is also needed to retrain after a cutoff.

    Reproducible for a fixed seed only with ``thread=1`` (Hogwild SGD), and
    in any process only in :func:`zero_filled_allocations`.
    """
    import fasttext

    with zero_filled_allocations():
        model = fasttext.train_supervised(input=str(train_file), verbose=0, **params.fasttext_kwargs())
        if quantize:
            model.quantize(
                input=str(train_file), retrain=params.retrain and params.cutoff > 0, cutoff=params.cutoff,
                dsub=params.dsub, qnorm=params.qnorm, thread=params.thread, verbose=0,
            )
    return model


def train_detector_model(records: Sequence[Record], params: TrainParams, quantize: bool = True):
    """The one way a detector is trained: ``records`` -> fastText lines -> model, every field of ``params`` applied.

    ``provsieve train-detector``, cross-fitting and the generalisation
    benchmark all train through here. Returns the model and the training
    lines per label.
    """
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "train.txt"
        counts = write_training_file(records, path, params.seed, params.web_repeat, params.balance)
        model = train_model(path, params, quantize=quantize)
    return model, counts


# --------------------------------------------------------------------------
# Metrics (NumPy)
# --------------------------------------------------------------------------


def auroc(labels: Sequence[int], scores: Sequence[float]) -> float:
    """Area under the ROC curve (1 = ai positive), ties counted half (Mann-Whitney U)."""
    y = np.asarray(labels, dtype=bool)
    s = np.asarray(scores, dtype=np.float64)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(len(s), dtype=np.float64)
    sorted_s = s[order]
    # average ranks over ties
    _, first, counts = np.unique(sorted_s, return_index=True, return_counts=True)
    avg = first + (counts - 1) / 2.0 + 1.0
    ranks[order] = np.repeat(avg, counts)
    u = ranks[y].sum() - n_pos * (n_pos + 1) / 2.0
    return float(u / (n_pos * n_neg))


def tpr_at_fpr(labels: Sequence[int], scores: Sequence[float], fpr: float) -> float:
    """TPR at the lowest threshold whose FPR on the negatives is <= ``fpr``."""
    y = np.asarray(labels, dtype=bool)
    s = np.asarray(scores, dtype=np.float64)
    if y.sum() == 0 or (~y).sum() == 0:
        return float("nan")
    t = calibrated_threshold(s[~y].tolist(), fpr)
    return float((s[y] >= t).mean())


def _share(flags: np.ndarray) -> float:
    return float(flags.mean()) if flags.size else float("nan")


@dataclass(frozen=True)
class MetricsRow:
    group: str
    n_human: int
    n_ai: int
    auroc: float
    tpr_1: float
    tpr_5: float
    fpr_at_t: float
    tpr_at_t: float


def metrics_rows(records: Sequence[Record], scores: Sequence[Optional[float]],
                 threshold: Union[float, Sequence[float]]) -> list[MetricsRow]:
    """Overall and per source / generator / domain metrics, and per language when the records have one.

    ``threshold`` is one number or one per record (a length-aware policy's).
    A group with no human texts (e.g. one generator) is ranked against all
    human texts of the evaluation set; a group with no AI texts only has a
    false-positive rate. Records whose score is None (empty text) are skipped.
    """
    per_record = np.broadcast_to(np.asarray(threshold, dtype=np.float64), (len(records),))
    keep = [(r, s, t) for r, s, t in zip(records, scores, per_record) if s is not None]
    y_all = np.array([r["label"] == "ai" for r, _, _ in keep], dtype=bool)
    s_all = np.array([s for _, s, _ in keep], dtype=np.float64)
    t_all = np.array([t for _, _, t in keep], dtype=np.float64)
    flagged = s_all >= t_all
    groups: list[tuple[str, np.ndarray]] = [("overall", np.ones(len(keep), dtype=bool))]
    with_language = any("language" in r for r, _, _ in keep)
    for field in ("source", "generator", "domain") + (("language",) if with_language else ()):
        values = sorted({str(r.get(field)) for r, _, _ in keep})
        if len(values) < 2 and field not in ("source", "language"):
            continue
        for v in values:
            groups.append((f"{field}={v}", np.array([str(r.get(field)) == v for r, _, _ in keep], dtype=bool)))
    rows = []
    for name, mask in groups:
        pos = mask & y_all
        neg = (mask & ~y_all) if (mask & ~y_all).any() else ~y_all
        sel = pos | neg
        y, s = y_all[sel], s_all[sel]
        has_pos = bool(pos.any())
        rows.append(
            MetricsRow(
                group=name,
                n_human=int((mask & ~y_all).sum()),
                n_ai=int(pos.sum()),
                auroc=auroc(y, s) if has_pos else float("nan"),
                tpr_1=tpr_at_fpr(y, s, 0.01) if has_pos else float("nan"),
                tpr_5=tpr_at_fpr(y, s, 0.05) if has_pos else float("nan"),
                fpr_at_t=_share(flagged[mask & ~y_all]),
                tpr_at_t=_share(flagged[pos]),
            )
        )
    return rows


def format_table(rows: Sequence[MetricsRow], threshold: Optional[float] = None, title: str = "") -> str:
    """A fixed-width text table of :func:`metrics_rows` (``threshold`` None: columns headed ``thr``)."""
    def f(x: float) -> str:
        return "     -" if x != x else f"{x:6.4f}"

    width = max([len(r.group) for r in rows] + [5])
    t = f"{threshold:.4f}" if threshold is not None else "thr"
    head = f"{'group':<{width}}  {'human':>6} {'ai':>6}  {'AUROC':>6} {'TPR@1%':>6} {'TPR@5%':>6}  {'FPR@' + t:>10} {'TPR@' + t:>10}"
    lines = ([title] if title else []) + [head, "-" * len(head)]
    for r in rows:
        lines.append(
            f"{r.group:<{width}}  {r.n_human:>6} {r.n_ai:>6}  {f(r.auroc)} {f(r.tpr_1)} {f(r.tpr_5)}  "
            f"{f(r.fpr_at_t):>10} {f(r.tpr_at_t):>10}"
        )
    return "\n".join(lines)


def rows_to_json(rows: Sequence[MetricsRow]) -> dict[str, dict[str, Any]]:
    def clean(x: Any) -> Any:
        return None if isinstance(x, float) and x != x else (round(x, 4) if isinstance(x, float) else x)

    return {r.group: {k: clean(v) for k, v in asdict(r).items() if k != "group"} for r in rows}
