"""The report's language panel: documents kept and rejected per language, and who the AI detector did not judge.

Everything comes from ``manifest.json`` (``documents_by_language``,
``ai_unsupported_language``, the models' metadata), except
:func:`judged_by_detector`, which the AI-score panel uses on the shard
columns to leave unjudged documents out of its histograms.
"""

from __future__ import annotations

import html
from typing import Any, Optional, Sequence

TOP_LANGUAGES = 25
KEPT, REJECTED = "#2f9e44", "#e03131"


def judged_by_detector(languages: Sequence[Optional[str]], confident: Sequence[Optional[bool]],
                       ai_languages: Optional[Sequence[str]]) -> list[bool]:
    """Per row: whether the AI detector judged it for its language (the rule of ``supported_language``)."""
    if ai_languages is None:
        return [True] * len(languages)
    return [lang is None or (bool(conf) and lang in ai_languages) for lang, conf in zip(languages, confident)]


def _split_bar(kept: int, rejected: int, peak: int) -> str:
    """A bar as long as ``kept + rejected`` relative to ``peak``, green for kept, red for rejected."""
    def part(n: int, color: str) -> str:
        return f'<div style="display:inline-block;height:14px;width:{100.0 * n / peak:.2f}%;background:{color}"></div>' \
            if n and peak else ""
    return f'<td class="barcell"><div style="white-space:nowrap">{part(kept, KEPT)}{part(rejected, REJECTED)}</div></td>'


def _listing(counts: dict[str, int], n: int = 10) -> str:
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    text = ", ".join(f"{k} {v:,}" for k, v in ranked[:n])
    return text + (f", +{len(ranked) - n} more" if len(ranked) > n else "")


def unjudged_note(manifest: dict[str, Any]) -> str:
    """The AI panel's sentence on documents not judged for their language (empty when there are none)."""
    unjudged = manifest.get("ai_unsupported_language") or {}
    if not unjudged:
        return ""
    langs = (manifest.get("ai_model") or {}).get("languages")
    return (f'<p class="caption"><b>{sum(unjudged.values()):,} scored documents were not judged for their '
            f'language</b> ({html.escape(_listing(unjudged))}): the detector was trained on '
            f'{html.escape(", ".join(langs or []))} only, so they are <code>ai_confident = false</code>, never '
            f'rejected as AI text, and left out of the histograms above (<code>und</code>: language not '
            f'confident).</p>')


def language_section(manifest: dict[str, Any]) -> str:
    head = '<h2 id="languages">Languages</h2>'
    by_lang = manifest.get("documents_by_language") or {}
    if not by_lang:
        return head + '<p class="muted">No language breakdown in this manifest.</p>'
    unjudged = manifest.get("ai_unsupported_language") or {}
    ranked = list(by_lang.items())
    shown, rest = ranked[:TOP_LANGUAGES], ranked[TOP_LANGUAGES:]
    if rest:
        other = {"documents": 0, "kept": 0, "rejected": {}}
        for _, entry in rest:
            other["documents"] += entry["documents"]
            other["kept"] += entry["kept"]
            for reason, n in entry["rejected"].items():
                other["rejected"][reason] = other["rejected"].get(reason, 0) + n
        shown.append((f"{len(rest)} other languages", other))
    peak = max(e["documents"] for _, e in shown)
    rows = []
    for lang, entry in shown:
        rejected = sum(entry["rejected"].values())
        reasons = ", ".join(f"{r} {n:,}" for r, n in entry["rejected"].items())
        not_judged = unjudged.get(lang, 0) if lang in by_lang else sum(unjudged.get(code, 0) for code, _ in rest)
        rows.append(f'<tr><td class="dom">{html.escape(lang)}</td><td class="num">{entry["documents"]:,}</td>'
                    f'<td class="num">{entry["kept"]:,}</td><td class="num">{rejected:,}</td>'
                    f'{_split_bar(entry["kept"], rejected, peak)}'
                    f'<td class="muted">{html.escape(reasons)}</td><td class="num">{not_judged:,}</td></tr>')
    model = manifest.get("language_model") or {}
    policy = manifest.get("policy") or {}
    wanted = policy.get("languages")
    ai_langs = (manifest.get("ai_model") or {}).get("languages")
    caption = (f"Language of each document by {html.escape(str(model.get('version', 'the language model')))} "
               f"({html.escape(str(model.get('licence') or ''))}). <code>und</code>: not confident (fewer than "
               f"{model.get('min_letters', '?')} letters or a top probability below {model.get('min_score', '?')}); "
               f"<code>none</code>: rejected while reading, before the language step. "
               + (f"Kept languages (<code>--languages</code>): {html.escape(', '.join(wanted))}; the others are "
                  f"rejected as <code>language_filtered</code>. " if wanted else "Every language is kept. ")
               + (f"The AI detector judges {html.escape(', '.join(ai_langs))} only: the last column counts the "
                  f"scored documents it did not judge." if ai_langs else ""))
    table = ('<table class="small" style="width:100%"><tr><th>language</th><th class="num">documents</th>'
             '<th class="num">kept</th><th class="num">rejected</th><th></th><th>reasons</th>'
             '<th class="num">AI not judged</th></tr>' + "".join(rows) + "</table>")
    return head + table + f'<p class="caption">{caption}</p>'
