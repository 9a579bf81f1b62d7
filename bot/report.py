"""`omtanke report --out portfolio.html`: the portfolio as one self-contained HTML page.

The charts are SVG drawn by matplotlib and embedded in the page, so it opens offline with no
CDN; each chart has its figures as a table beside it (for screen readers and for copying).
The figures come from rug.portfolio, like the exports' counts.
"""

from __future__ import annotations

import asyncio
import html
import io
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

import matplotlib

matplotlib.use("Agg")  # no display: draw to memory only
import matplotlib.pyplot as plt
from matplotlib.ticker import MaxNLocator

from bot.backends import DataSource
from bot.export import load_proposals
from presentation.texts import DEFAULT_LOCALE, Texts
from rug.portfolio import Portfolio, portfolio
from storage.errors import StoreError

# Colours with at least 4.5:1 contrast against white (WCAG AA), one per status.
STATUS_COLOURS = {
    "vantar_pa_forankring": "#8a5a00",
    "hos_rug": "#005a9e",
    "komplettering_begard": "#9e3b00",
    "bifallen": "#1d6b2e",
    "avslagen": "#6b1d4a",
    "utkast": "#555555",
}
BAR_COLOUR = "#005a9e"
_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto;
       max-width: 60rem; padding: 0 1rem; color: #1b1b1b; background: #ffffff; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.2rem; margin-top: 2.5rem; }
.tiles { display: flex; gap: 1rem; flex-wrap: wrap; }
.tile { border: 1px solid #c8c8c8; border-radius: 6px; padding: 0.8rem 1.2rem; min-width: 10rem; }
.tile b { display: block; font-size: 1.8rem; }
figure { margin: 0; } figure svg { max-width: 100%; height: auto; }
table { border-collapse: collapse; margin-top: 0.5rem; }
th, td { text-align: left; padding: 0.2rem 0.8rem 0.2rem 0; border-bottom: 1px solid #e0e0e0; }
td.n { text-align: right; }
.muted { color: #4a4a4a; }
"""


def _svg(figure: plt.Figure) -> str:
    """The figure as inline SVG text (fonts kept as text, so it scales and stays searchable)."""
    buffer = io.StringIO()
    with plt.rc_context({"svg.fonttype": "none"}):
        figure.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(figure)
    svg = buffer.getvalue()
    return svg[svg.index("<svg") :]


def _bar_chart(counts: Mapping[str, int], xlabel: str) -> str:
    """Horizontal bars, most frequent at the top."""
    names = list(counts)[::-1]
    height = max(1.6, 0.45 * len(names) + 0.8)
    figure, axes = plt.subplots(figsize=(7.5, height))
    axes.barh(names, [counts[n] for n in names], color=BAR_COLOUR)
    axes.set_xlabel(xlabel)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    return _svg(figure)


def _month_chart(figures: Portfolio, texts: Texts, locale: str) -> str:
    """Proposals per month submitted, stacked by their status now."""
    months = list(figures.by_month)
    figure, axes = plt.subplots(figsize=(7.5, 3.2))
    bottom = [0] * len(months)
    for status, colour in STATUS_COLOURS.items():
        values = [figures.by_month[m].get(status, 0) for m in months]
        if not any(values):
            continue
        axes.bar(
            months,
            values,
            width=0.6,
            bottom=bottom,
            color=colour,
            label=texts.get(f"status.{status}", locale),
        )
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    axes.set_xlabel(texts.get("report.axis.month", locale))
    axes.set_ylabel(texts.get("report.axis.count", locale))
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.legend(frameon=False, fontsize="small")
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    return _svg(figure)


def _table(counts: Mapping[str, int], texts: Texts, locale: str) -> str:
    head = (
        f"<tr><th>{html.escape(texts.get('report.table.name', locale))}</th>"
        f"<th>{html.escape(texts.get('report.table.count', locale))}</th></tr>"
    )
    rows = "".join(
        f"<tr><td>{html.escape(name)}</td><td class='n'>{number}</td></tr>"
        for name, number in counts.items()
    )
    return f"<table>{head}{rows}</table>"


def _section(title: str, chart: str, table: str) -> str:
    return f"<section><h2>{html.escape(title)}</h2><figure>{chart}</figure>{table}</section>"


def render_report(
    figures: Portfolio, texts: Texts, locale: str = DEFAULT_LOCALE, now: datetime | None = None
) -> str:
    """The whole page."""

    def t(key: str, **values: object) -> str:
        return html.escape(texts.get(key, locale, **values))

    when = (now or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")
    median = figures.median_days_to_decision
    tiles = [
        (t("report.tile.total"), str(figures.total)),
        *((t(f"status.{status}"), str(number)) for status, number in figures.by_status.items()),
        (
            t("report.tile.median_days"),
            f"{median:.0f}" if median is not None else "–",
        ),
    ]
    parts = [
        f"<!doctype html><html lang='{html.escape(locale)}'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>{t('report.title')}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{t('report.title')}</h1>",
        f"<p class='muted'>{t('report.generated', when=when)}</p>",
        "<div class='tiles'>",
        *(f"<div class='tile'>{label}<b>{value}</b></div>" for label, value in tiles),
        "</div>",
    ]
    if median is None:
        parts.append(f"<p>{t('report.no_decisions')}</p>")
    else:
        decided = len(figures.days_to_decision)
        parts.append(f"<p>{t('report.median_days', days=f'{median:.0f}', n=decided)}</p>")
    if figures.total == 0:
        parts.append(f"<p>{t('report.empty')}</p>")
    else:
        count = texts.get("report.axis.count", locale)
        status_table = _table(
            {texts.get(f"status.{s}", locale): n for s, n in figures.by_status.items()},
            texts,
            locale,
        )
        parts.append(
            _section(
                texts.get("report.chart.by_month", locale),
                _month_chart(figures, texts, locale),
                status_table,
            )
        )
        for key, counts in (
            ("by_organisation", figures.by_organisation),
            ("by_target_group", figures.by_target_group),
            ("by_success_factor", figures.by_success_factor),
        ):
            if counts:
                parts.append(
                    _section(
                        texts.get(f"report.chart.{key}", locale),
                        _bar_chart(counts, count),
                        _table(counts, texts, locale),
                    )
                )
    parts.append("</body></html>\n")
    return "".join(parts)


def run_report(data_dir: DataSource, out: Path, stdout: TextIO, stderr: TextIO) -> int:
    """Write the report page; 0 on success, 1 when the data cannot be read."""
    texts = Texts.load()
    try:
        proposals = asyncio.run(load_proposals(data_dir))
    except StoreError as error:
        stderr.write(texts.get("report.unreadable", error=error) + "\n")
        return 1
    out.write_text(render_report(portfolio(proposals), texts), encoding="utf-8")
    stdout.write(texts.get("report.written", path=out, n=len(proposals)) + "\n")
    return 0
