"""A cache of stage 2's per-token arrays: one LM pass per text, every statistic at every prefix length from it.

``provsieve train-cascade`` and ``eval-detector --detector cascade`` keep, per
record id, the :class:`~provsieve.transforms.lm_features.TokenArrays` of the
text's first ``max_tokens`` tokens in a JSONL file (one row a record, appended
as the LM goes, so an interrupted extraction resumes). A row records the LM
runtime and the token count it was made with: rows of another runtime are
never read, and a row made with fewer tokens than asked for serves only when
the text had fewer tokens than that. Feature sets, token counts up to
``max_tokens`` and routing bands are then compared without the LM.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from pathlib import Path
from typing import Iterator, Mapping, NamedTuple, Optional, Sequence

import numpy as np

from provsieve.transforms.lm_features import TokenArrays
from provsieve.transforms.lm_model import RUNTIME

DEFAULT_CACHE = f".cascade-lm-tokens.{RUNTIME}.jsonl"
"""The default cache file of ``train-cascade`` and ``eval-detector --detector cascade`` (named by the runtime)."""

_FLOAT_FIELDS = ("logprob", "entropy", "variance")


def row_to_json(record_id: str, arrays: Optional[TokenArrays], runtime: str, max_tokens: int) -> str:
    """One cache line (``arrays`` None: the text has no token)."""
    row: dict = {"id": record_id, "runtime": runtime, "max_tokens": max_tokens}
    for name in _FLOAT_FIELDS:
        row[name] = [] if arrays is None else [round(float(v), 6) for v in getattr(arrays, name)]
    row["rank"] = [] if arrays is None else [int(v) for v in arrays.rank]
    return json.dumps(row, separators=(",", ":"))


def row_from_json(row: Mapping) -> TokenArrays:
    return TokenArrays(*(np.asarray(row[name], dtype=np.float64) for name in _FLOAT_FIELDS),
                       rank=np.asarray(row["rank"], dtype=np.int64))


def _rows(path: Path) -> Iterator[dict]:
    if not path.exists():
        return
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                try:
                    yield json.loads(line)
                except json.JSONDecodeError:  # a line cut by an interrupted run: its record is redone
                    continue


class _ParsedRow(NamedTuple):
    id: str
    runtime: Optional[str]
    max_tokens: int
    arrays: TokenArrays

    def covers(self, runtime: str, max_tokens: int) -> bool:
        """Whether the row holds the first ``max_tokens`` tokens' arrays of its text, made by ``runtime``."""
        return self.runtime == runtime and (self.max_tokens >= max_tokens or len(self.arrays.rank) < self.max_tokens)


_parsed: dict[str, tuple] = {}
"""The one parsed cache file kept: its path -> (size and modification time, its rows)."""


def _parsed_rows(path: Path) -> list[_ParsedRow]:
    """Every row of the cache file, in file order; parsed once per file state.

    ``train-cascade`` reads the cache for the extraction, the fit, the web
    pages and the --evaluate records, at more than one token count: a file
    unchanged since (same size and modification time) is not parsed again,
    whatever is asked of it.
    """
    stat = path.stat() if path.exists() else None
    if stat is None:
        return []
    key, state = str(path.resolve()), (stat.st_size, stat.st_mtime_ns)
    if _parsed.get(key, (None,))[0] != state:
        _parsed.clear()  # one file state kept: the cache can be large
        _parsed[key] = (state, [_ParsedRow(row["id"], row.get("runtime"), row["max_tokens"], row_from_json(row))
                                for row in _rows(path)])
    return _parsed[key][1]


def read_token_cache(path: Path, runtime: str, max_tokens: int) -> dict[str, TokenArrays]:
    """``{record id: arrays}`` of the rows that cover ``max_tokens`` tokens with ``runtime`` (the last row wins)."""
    return {row.id: row.arrays for row in _parsed_rows(Path(path)) if row.covers(runtime, max_tokens)}


def extract_token_cache(texts_by_id: Mapping[str, str], max_tokens: int, cache: Path, runtime: str,
                        model_path: Optional[str] = None, workers: int = 1, log_every: int = 100) -> int:
    """Append the arrays of every text the cache does not cover yet; returns how many were computed.

    The texts go in hash order of their ids, so an extraction stopped early
    has covered every source and label evenly.
    """
    cache = Path(cache)
    done = read_token_cache(cache, runtime, max_tokens).keys()
    todo = sorted(((i, t) for i, t in texts_by_id.items() if i not in done),
                  key=lambda it: hashlib.sha256(it[0].encode("utf-8")).hexdigest())
    if not todo:
        return 0
    cache.parent.mkdir(parents=True, exist_ok=True)
    print(f"LM token cache {cache}: {len(todo)} texts to score at {max_tokens} tokens ({len(done)} cached)",
          file=sys.stderr, flush=True)
    if workers <= 1:
        _extract_chunk(todo, max_tokens, str(cache), runtime, model_path, log_every)
        return len(todo)
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_extract_chunk,
                         args=(todo[w::workers], max_tokens, f"{cache}.{w}", runtime, model_path, log_every))
             for w in range(workers)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join()
    with cache.open("a", encoding="utf-8") as out:
        for w in range(workers):
            part = Path(f"{cache}.{w}")
            if part.exists():
                out.write(part.read_text(encoding="utf-8"))
                part.unlink()
    return len(todo)


def _extract_chunk(items: Sequence[tuple[str, str]], max_tokens: int, out_path: str, runtime: str,
                   model_path: Optional[str], log_every: int) -> None:
    from provsieve.transforms.lm_handler import SmolLMScorer

    scorer = SmolLMScorer(model_path, max_tokens=max_tokens, threads=1)
    started = time.monotonic()
    with open(out_path, "a", encoding="utf-8") as out:
        for k, (rid, text) in enumerate(items, 1):
            out.write(row_to_json(rid, scorer.token_arrays(text), runtime, max_tokens) + "\n")
            if k % log_every == 0:
                out.flush()
                print(f"  LM token cache: {k}/{len(items)} ({1000 * (time.monotonic() - started) / k:.0f} ms/doc)",
                      file=sys.stderr, flush=True)
