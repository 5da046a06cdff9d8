"""The report's chart: conversations per day as bars, the resolution rate as a line (PNG)."""

from __future__ import annotations

import io
from collections.abc import Sequence

from bot.report.figures import Day

WIDTH_PX, HEIGHT_PX, DPI = 600, 260, 100
_BARS, _LINE = "#9cb8d9", "#1f7a3a"


def draw_chart(days: Sequence[Day]) -> bytes:
    """A 600x260 PNG; matplotlib is imported here only, with the Agg canvas (no display)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    # Figure and its canvas directly, not pyplot: no global state, safe off the main thread.
    figure = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI)
    FigureCanvasAgg(figure)
    bars = figure.add_subplot()
    labels = [f"{d.day:%a %d}" for d in days]
    bars.bar(labels, [d.conversations for d in days], color=_BARS, label="conversations")
    bars.set_ylabel("conversations")
    # Counts start at 0; a quiet week still gets a 0-1 axis rather than one around zero.
    bars.set_ylim(0, max([d.conversations for d in days] + [1]) * 1.1)
    bars.tick_params(axis="x", labelsize=8)
    rates = figure_rates(days)
    line = bars.twinx()
    line.plot(labels, rates, color=_LINE, marker="o", label="answered by the bot alone (%)")
    line.set_ylim(0, 100)
    line.set_ylabel("answered by the bot alone (%)")
    bars.yaxis.set_major_locator(MaxNLocator(integer=True))
    # Above the plot, in a band of its own: inside, it would cover the first days' bars.
    figure.legend(loc="upper center", ncols=2, fontsize=8, frameon=False)
    figure.tight_layout(rect=(0, 0, 1, 0.9))
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()


def figure_rates(days: Sequence[Day]) -> list[float]:
    """Resolution rate per day in percent; NaN leaves a gap on days without conversations."""
    return [float("nan") if d.resolution_rate is None else 100 * d.resolution_rate for d in days]
