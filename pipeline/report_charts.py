"""Inline SVG bar charts for the audit report (no JavaScript, no network)."""

from __future__ import annotations

import html
import math
from typing import Optional, Sequence


def _nice_max(value: float) -> tuple[float, float]:
    """A round axis maximum >= value and its tick step."""
    if value <= 0:
        return 1.0, 1.0
    if value <= 5:
        top = float(math.ceil(value))
        return top, 1.0
    exp = 10 ** math.floor(math.log10(value))
    for m in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if m * exp >= value:
            top = m * exp
            break
    steps = {1: 5, 1.2: 6, 1.5: 3, 2: 4, 2.5: 5, 3: 3, 4: 4, 5: 5, 6: 3, 8: 4, 10: 5}
    n = steps.get(round(top / exp, 1), 4)
    return top, top / n


def wants_log(totals: Sequence[float]) -> bool:
    """A log axis when the largest bar is over 20 times the median non-empty one."""
    nonzero = sorted(t for t in totals if t > 0)
    return len(nonzero) >= 3 and nonzero[-1] > 20 * nonzero[len(nonzero) // 2]


def _fmt_tick(v: float) -> str:
    return f"{v:,.0f}" if abs(v - round(v)) < 1e-9 else f"{v:,.2f}"


def svg_bars(labels: Sequence[str], series: Sequence[tuple[str, Sequence[float], str]], *,
             title: str, x_title: str = "", y_title: str = "documents",
             marker: Optional[tuple[float, str]] = None, width: int = 1100, height: int = 300,
             label_every: int = 1, log: Optional[bool] = None, edges: Optional[Sequence[str]] = None) -> str:
    """A stacked bar chart as inline SVG.

    ``series``: (name, one value per label, colour). ``marker``: (position in
    bar units, where 0 is the left edge of the first bar, and its caption), drawn
    as a dashed vertical line. ``edges``: n + 1 labels for the bin boundaries,
    drawn instead of ``labels`` under the bars (histograms). ``log``: a log10(1 + n) y axis, each bar split
    between its series in proportion (None: when one bar dwarfs the others).
    """
    left, right, top, bottom = 64, 16, 52, 64
    plot_w, plot_h = width - left - right, height - top - bottom
    n = max(1, len(labels))
    totals = [sum(s[1][i] for s in series) for i in range(len(labels))]
    if log is None:
        log = wants_log(totals)
    if log:
        ymax = 10.0 ** max(1, math.ceil(math.log10(max(max(totals, default=1), 1))))
        ticks = [0.0] + [10.0 ** k for k in range(int(math.log10(ymax)) + 1)]

        def scale(v: float) -> float:
            return plot_h * math.log10(1 + v) / math.log10(1 + ymax)
    else:
        ymax, step = _nice_max(max(totals, default=0))
        ticks = [step * k for k in range(int(round(ymax / step)) + 1)]

        def scale(v: float) -> float:
            return plot_h * v / ymax
    if log:
        title += " (log scale)"
    bw = plot_w / n
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
           f'role="img" aria-label="{html.escape(title)}" class="chart" style="max-width:{width}px">',
           f'<text x="{left}" y="18" class="ct">{html.escape(title)}</text>']
    # grid and y axis
    for v in ticks:
        y = top + plot_h - scale(v)
        out.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>')
        if not (log and v == 0):
            out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" class="tick">{_fmt_tick(v)}</text>')
    # bars
    for i, label in enumerate(labels):
        x = left + i * bw
        bar_h = scale(totals[i])
        y0 = top + plot_h
        for name, values, color in series:
            value = values[i]
            if value <= 0:
                continue
            h = bar_h * value / totals[i]
            out.append(f'<rect x="{x + bw * 0.08:.1f}" y="{y0 - h:.1f}" width="{bw * 0.84:.1f}" height="{h:.1f}" '
                       f'fill="{color}"><title>{html.escape(label)} - {html.escape(name)}: {value:,.0f}</title></rect>')
            y0 -= h
        if totals[i] > 0 and bw >= 22:
            ytxt = top + plot_h - bar_h - 3
            out.append(f'<text x="{x + bw / 2:.1f}" y="{ytxt:.1f}" text-anchor="middle" class="val">'
                       f'{totals[i]:,.0f}</text>')
        if i % label_every == 0 and edges is None:
            lx, ly = x + bw / 2, top + plot_h + 14
            if max((len(lbl) for lbl in labels), default=0) * 6.5 > bw * label_every:
                out.append(f'<text x="{lx:.1f}" y="{ly:.1f}" text-anchor="end" class="tick" '
                           f'transform="rotate(-40 {lx:.1f} {ly:.1f})">{html.escape(label)}</text>')
            else:
                out.append(f'<text x="{lx:.1f}" y="{ly:.1f}" text-anchor="middle" class="tick">'
                           f'{html.escape(label)}</text>')
    for k, edge in enumerate(edges or []):
        if k % label_every == 0:
            ex = left + k * bw
            out.append(f'<line x1="{ex:.1f}" x2="{ex:.1f}" y1="{top + plot_h}" y2="{top + plot_h + 4}" class="axis"/>'
                       f'<text x="{ex:.1f}" y="{top + plot_h + 16}" text-anchor="middle" class="tick">'
                       f'{html.escape(edge)}</text>')
    out.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{top + plot_h}" y2="{top + plot_h}" class="axis"/>')
    out.append(f'<line x1="{left}" x2="{left}" y1="{top}" y2="{top + plot_h}" class="axis"/>')
    if marker is not None:
        pos, caption = marker
        mx = left + max(0.0, min(float(n), pos)) * bw
        out.append(f'<line x1="{mx:.1f}" x2="{mx:.1f}" y1="{top - 26}" y2="{top + plot_h}" class="marker"/>')
        anchor = "end" if mx > left + plot_w * 0.75 else "start"
        dx = -4 if anchor == "end" else 4
        out.append(f'<text x="{mx + dx:.1f}" y="{top - 16}" text-anchor="{anchor}" class="mk">'
                   f'{html.escape(caption)}</text>')
    if x_title:
        out.append(f'<text x="{left + plot_w / 2}" y="{height - 6}" text-anchor="middle" class="at">'
                   f'{html.escape(x_title)}</text>')
    if y_title:
        out.append(f'<text x="14" y="{top + plot_h / 2}" text-anchor="middle" class="at" '
                   f'transform="rotate(-90 14 {top + plot_h / 2})">{html.escape(y_title)}</text>')
    # legend
    lx = width - right
    for name, _, color in reversed(series if len(series) > 1 else []):
        lx -= 12 + 7 * len(name) + 18
        out.append(f'<rect x="{lx}" y="9" width="12" height="12" fill="{color}"/>'
                   f'<text x="{lx + 16}" y="19" class="tick">{html.escape(name)}</text>')
    out.append("</svg>")
    return "\n".join(out)


# --- sections ---------------------------------------------------------------------
