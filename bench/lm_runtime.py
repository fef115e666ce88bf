"""The cascade's LM runtime, side by side on the same texts and tokens, one core: ms per document and statistics.

    python bench/lm_runtime.py [--docs 12] [--tokens 128 64] [--data ../shared/data/ai-text/detectrl-dev.jsonl]
    python bench/lm_runtime.py --features-from-cache LM-TOKENS.jsonl --docs 200 --tokens 96   # features only

Runtimes (each: the document's forward pass over its first tokens, all
logits, then :func:`lm_statistics`; tokenisation by the pipeline's tokenizer,
so every runtime scores the same token ids):

* ``numpy-f32``: :func:`provsieve.transforms.lm_reference.forward`, a plain
  NumPy float32 forward pass of the wheel's dequantised weights with one BLAS
  thread: the issue's baseline, and the reference the others are compared to;
* ``ctranslate2-f32`` (the pipeline's runtime since session 11) and
  ``ctranslate2-int8`` (its runtime before: faster, but its products depend on the CPU);
* ``llama.cpp-bf16`` / ``llama.cpp-q8_0`` (the previous runtime, with and
  without flash attention) when ``llama-cpp-python`` is installed (it is no
  longer in the ``cascade`` extra);
* after the per-document rows, ``ctranslate2-f32, passes`` (since session 13): what the pipeline's handler does,
  the documents in the passes ``score_documents`` runs (``equal_length_passes``, ``SmolLMScorer.logits_batch``),
  tokens and statistics included, the time of each pass shared by its documents; against the same documents'
  ``numpy-f32`` median.

Runtimes are interleaved per document in one process, so the ratios are
comparable on a shared machine even when the absolute times are not. After
the timings: per runtime, the mean |difference| of each statistic and of the
per-token log-probability from ``numpy-f32``, and the correlation of each
statistic with it over the documents.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Callable

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from provsieve.transforms.lm_features import FEATURE_NAMES, lm_statistics  # noqa: E402

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "ai-text" / "detectrl-dev.jsonl"
Forward = Callable[[list[int]], np.ndarray]
"""The model's input sequence (start token + tokens[:-1]) -> logits (len, vocab)."""


def _token_logp(logits: np.ndarray, targets: list[int]) -> np.ndarray:
    from scipy.special import log_softmax

    return log_softmax(logits.astype(np.float64), axis=1)[np.arange(len(targets)), targets]


def llama_cpp_runtimes(source: Path, folder: Path, tokens: int) -> dict[str, Forward]:
    try:
        import ctypes

        import llama_cpp
    except ImportError:
        return {}
    from llama_cpp._utils import suppress_stdout_stderr

    out: dict[str, Forward] = {}
    for ftype in ("bf16", "q8_0"):
        target = folder / f"smollm2-{ftype}.gguf"
        if not target.exists():
            params = llama_cpp.llama_model_quantize_default_params()
            params.ftype = getattr(llama_cpp, f"LLAMA_FTYPE_MOSTLY_{ftype.upper()}")
            params.allow_requantize = True
            with suppress_stdout_stderr(disable=False):
                llama_cpp.llama_model_quantize(str(source).encode(), str(target).encode(), ctypes.byref(params))
        for flash in (False, True):
            llm = llama_cpp.Llama(model_path=str(target), n_ctx=tokens + 1, n_batch=tokens + 1, n_ubatch=tokens + 1,
                                  logits_all=True, n_threads=1, n_threads_batch=1, flash_attn=flash, verbose=False)

            def forward(sequence: list[int], llm=llm) -> np.ndarray:
                llm.reset()
                llm.eval(sequence)
                return np.array(llm.scores[: len(sequence)])

            out[f"llama.cpp-{ftype}{'-flash' if flash else ''}"] = forward
    return out


def feature_timings(cache: Path, docs: int, token_counts: list[int]) -> int:
    """Microseconds per document of the feature computation the stage-2 step adds to each forward pass."""
    import timeit

    from provsieve.transforms.ai_cascade import CascadeCombiner
    from provsieve.transforms.lm_features import half_change_features, surprise_features, token_features
    from provsieve.transforms.lm_model import RUNTIME
    from provsieve.transforms.lm_token_cache import read_token_cache
    from provsieve.transforms.lm_unigram import load_table, per_token_unigram, unigram_features

    combiner = CascadeCombiner.load()
    table = load_table()
    ids = (np.arange(max(token_counts)) * 7919) % table.size  # the cache holds no ids; the cost does not depend on them
    for n in token_counts:
        arrays = [a for a in read_token_cache(cache, RUNTIME, n).values() if len(a) == n][:docs]
        steps = {"token_features (every LM feature)": lambda a: token_features(a),
                 "  of which surprise_features": lambda a: surprise_features(a),
                 "  of which half_change_features": lambda a: half_change_features(a),
                 "unigram_features (table lookup + uni_*)": lambda a: unigram_features(
                     a.logprob, per_token_unigram(table, ids[:len(a)])),
                 "shipped combiner.score (features + P(ai))": lambda a: combiner.score(0.7, a, 200)}
        print(f"\n{n} tokens, {len(arrays)} cached documents, one thread: median us per document")
        for name, step in steps.items():
            per_doc = [min(timeit.repeat(lambda a=a: step(a), number=20, repeat=3)) / 20 for a in arrays]
            print(f"{name:<44} {statistics.median(per_doc) * 1e6:8.1f}")
    return 0


def passes_row(scorer, texts: list[str], n: int, numpy_times: list[float]) -> None:
    """The handler's way, ms per document: the texts' first ``n`` tokens in the passes ``score_documents`` would
    run (:func:`equal_length_passes`), each pass's time (tokens and statistics included) shared by its documents;
    against ``numpy-f32`` on the same documents."""
    from provsieve.transforms.lm_handler import equal_length_passes

    passes = equal_length_passes([len(scorer.tokens(t)[:n]) for t in texts])
    per_doc: list[float] = []
    for members in passes:
        t = time.perf_counter()
        token_lists = [scorer.tokens(texts[k])[:n] for k in members]
        for tokens, logits in zip(token_lists, scorer.logits_batch(token_lists)):
            lm_statistics(logits, np.asarray(tokens))
        per_doc += [(time.perf_counter() - t) / len(members)] * len(members)
    if not per_doc:
        return
    med = statistics.median(per_doc)
    base = statistics.median([numpy_times[k] for members in passes for k in members])
    print(f"{'ctranslate2-f32, passes':<24} {1000 * med:>7.0f} {base / med:>7.2f}x   "
          f"({len(per_doc)} documents in {len(passes)} passes of one token count; numpy-f32 on them: "
          f"{1000 * base:.0f} ms)", flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=12)
    ap.add_argument("--tokens", type=int, nargs="+", default=[128, 64])
    ap.add_argument("--data", default=str(DEFAULT_DATA))
    ap.add_argument("--no-llama-cpp", action="store_true", help="leave llama.cpp out even when it is installed")
    ap.add_argument("--features-from-cache", metavar="LM-TOKENS.jsonl", default=None,
                    help="time only the per-document features (no LM): the cached per-token arrays of --docs texts "
                         "at each --tokens, through token_features and the shipped combiner")
    args = ap.parse_args()
    if args.features_from_cache:
        return feature_timings(Path(args.features_from_cache), args.docs, args.tokens)

    from provsieve.transforms import lm_model
    from provsieve.transforms.lm_handler import SmolLMScorer
    from provsieve.transforms.lm_reference import forward as numpy_forward

    texts = [json.loads(line)["text"] for line in open(args.data, encoding="utf-8")][: args.docs + 1]
    source = lm_model.shipped_gguf_path()
    reader = lm_model._reader(source)
    config, weights = lm_model.gguf_config(reader), lm_model.gguf_weights(reader)
    f32 = SmolLMScorer(max_tokens=max(args.tokens), threads=1)
    int8 = SmolLMScorer(str(lm_model.converted_model(quantization="int8")), max_tokens=max(args.tokens),
                        threads=1, compute_type="int8")
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.tokens:
            runtimes: dict[str, Forward] = {
                "numpy-f32": lambda seq: numpy_forward(weights, config, seq),
                "ctranslate2-int8": lambda seq: np.asarray(int8.generator.forward_batch([seq]))[0],
                "ctranslate2-f32": lambda seq: np.asarray(f32.generator.forward_batch([seq]))[0],
            }
            if not args.no_llama_cpp:
                runtimes.update(llama_cpp_runtimes(source, Path(tmp), n))
            times: dict[str, list[float]] = {name: [] for name in runtimes}
            stats: dict[str, list[list[float]]] = {name: [] for name in runtimes}
            token_diff: dict[str, list[float]] = {name: [] for name in runtimes}
            for k, text in enumerate(texts):
                ref_logp = None
                for name, run in runtimes.items():
                    t = time.perf_counter()
                    targets = f32.tokens(text)[:n]
                    logits = run([f32._start, *targets[:-1]])
                    s = lm_statistics(logits, np.asarray(targets))
                    elapsed = time.perf_counter() - t
                    if k == 0:
                        continue  # warm-up
                    times[name].append(elapsed)
                    stats[name].append(s.features())
                    logp = _token_logp(logits, targets)
                    ref_logp = logp if ref_logp is None else ref_logp
                    token_diff[name].append(float(np.abs(logp - ref_logp).mean()))
            base = statistics.median(times["numpy-f32"])
            ref = np.array(stats["numpy-f32"])
            print(f"\n{n} tokens, {len(texts) - 1} documents, one thread")
            print(f"{'runtime':<24} {'ms/doc':>7} {'vs numpy':>8} {'|d logp|':>8}  "
                  + "  ".join(f"{name[:14]:>14}" for name in FEATURE_NAMES) + "   (mean |d| / r vs numpy-f32)")
            for name in runtimes:
                med = statistics.median(times[name])
                got = np.array(stats[name])
                cells = []
                for j in range(len(FEATURE_NAMES)):
                    d = np.abs(got[:, j] - ref[:, j]).mean()
                    r = np.corrcoef(got[:, j], ref[:, j])[0, 1] if got[:, j].std() > 0 else float("nan")
                    cells.append(f"{d:6.3f}/{r:6.4f}")
                print(f"{name:<24} {1000 * med:>7.0f} {base / med:>7.2f}x {np.mean(token_diff[name]):>8.3f}  "
                      + "  ".join(f"{c:>14}" for c in cells), flush=True)
            passes_row(f32, texts[1:], n, times["numpy-f32"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
