"""The four charts, drawn one way everywhere (Telegram, the digest, the PDF, the dashboard).

matplotlib with the Agg backend (no display, no fonts fetched), imported only when a chart is
drawn so the bot starts without it. Each function takes plain numbers and returns PNG bytes.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from contextlib import contextmanager
from datetime import date
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterator

    from bot.services.insights import Deadline

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
COLOURS = ("#1b6a8f", "#e08a2c", "#4f9a5a", "#b8405e", "#7a5ea8", "#8c6d46", "#3fa7b8", "#9a9a9a")
STYLE: dict[str, Any] = {"figure.dpi": 100, "font.size": 9, "axes.titlesize": 11, "axes.titleweight": "bold",
         "axes.spines.top": False, "axes.spines.right": False, "axes.grid": True,
         "grid.alpha": 0.3, "legend.frameon": False, "font.family": "DejaVu Sans"}


@contextmanager
def _figure(title: str, *, width: float = 7.0, height: float = 3.2) -> Iterator[tuple[Any, Any]]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with plt.rc_context(STYLE):  # type: ignore[arg-type]
        fig, ax = plt.subplots(figsize=(width, height))
        ax.set_title(title, loc="left")
        try:
            yield fig, ax
        finally:
            plt.close(fig)


def _png(fig: Any) -> bytes:
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def _week_labels(ax: Any, weeks: Sequence[date]) -> None:
    step = max(1, len(weeks) // 8)
    ax.set_xticks(range(0, len(weeks), step))
    ax.set_xticklabels([f"{w:%d %b}" for w in weeks][::step])


def incidents_per_week(*, weeks: Sequence[date], series: Mapping[str, Sequence[int]],
                       title: str = "Incidents per week, by child") -> bytes:
    """One line per child (or group): incidents in each week starting on `weeks`."""
    with _figure(title) as (fig, ax):
        for index, (name, counts) in enumerate(series.items()):
            ax.plot(range(len(weeks)), counts, marker="o", markersize=3, label=name,
                    color=COLOURS[index % len(COLOURS)])
        _week_labels(ax, weeks)
        ax.set_ylabel("incidents")
        ax.yaxis.get_major_locator().set_params(integer=True)
        if series:
            ax.legend(loc="upper left", fontsize=7, ncol=2)
        return _png(fig)


def heat_map(*, heat: Mapping[tuple[int, int], int],
             title: str = "When incidents happen (weekday and hour)") -> bytes:
    """A weekday x hour grid of incident counts, darker for more."""
    grid = [[heat.get((day, hour), 0) for hour in range(24)] for day in range(7)]
    with _figure(title, height=2.8) as (fig, ax):
        ax.grid(False)
        busiest = max(max(row) for row in grid)
        image = ax.imshow(grid, aspect="auto", cmap="Oranges", vmin=0, vmax=max(1, busiest))
        ax.set_yticks(range(7))
        ax.set_yticklabels(WEEKDAYS)
        ax.set_xticks(range(0, 24, 2))
        ax.set_xticklabels([f"{h:02d}" for h in range(0, 24, 2)])
        ax.set_xlabel("hour of the day (local time)")
        fig.colorbar(image, ax=ax, label="incidents")
        return _png(fig)


def holds_over_time(*, weeks: Sequence[date], series: Mapping[str, Sequence[int]],
                    title: str = "Holds and restrictions by type, per week") -> bytes:
    """Stacked bars: how many times each hold or restriction was used in each week."""
    with _figure(title) as (fig, ax):
        bottom = [0] * len(weeks)
        for index, (name, counts) in enumerate(series.items()):
            ax.bar(range(len(weeks)), counts, bottom=bottom, label=name,
                   color=COLOURS[index % len(COLOURS)])
            bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
        _week_labels(ax, weeks)
        ax.set_ylabel("times used")
        if series:
            ax.legend(loc="upper left", fontsize=7, ncol=2)
        return _png(fig)


def deadlines_met(*, deadlines: Sequence[Deadline],
                  title: str = "Regulation 35 deadlines") -> bytes:
    """For each deadline, how many incidents met it, missed it, or are not yet due."""
    names = [d.name for d in deadlines][::-1]
    parts = (("met", "#4f9a5a"), ("missed", "#b8405e"), ("pending", "#bbbbbb"))
    with _figure(title, height=2.4) as (fig, ax):
        left = [0] * len(names)
        for part, colour in parts:
            values = [getattr(d, part) for d in deadlines][::-1]
            ax.barh(names, values, left=left, color=colour, label=part)
            for y, (start, value) in enumerate(zip(left, values, strict=True)):
                if value:
                    ax.text(start + value / 2, y, str(value), ha="center", va="center",
                            color="white" if part != "pending" else "black", fontsize=8)
            left = [a + b for a, b in zip(left, values, strict=True)]
        ax.set_xlabel("incidents")
        ax.legend(loc="lower right", fontsize=7, ncol=3)
        return _png(fig)
