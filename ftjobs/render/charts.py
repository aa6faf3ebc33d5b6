"""Charts of per-step metrics drawn as text (uniplot, imported only to draw one: it brings
numpy): a panel per kind of metric, each with its own y axis."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ftjobs.render.metrics import Series, compare_series, short_labels

if TYPE_CHECKING:
    from ftjobs.store.records import Metrics

# Panels, each with its own y axis, in the order they are drawn; a series goes to the first
# whose word its name holds (losses and accuracies never share an axis).
PANELS = (("loss", "loss"), ("accuracy", "acc"), ("reward", "reward"))
OTHER_PANEL = "other"
# One colour per job when runs are compared (uniplot's names), and the marks that tell a job's
# series apart (by metric) in colour, or every series apart without colour.
JOB_COLORS = ("blue", "magenta", "green", "yellow", "cyan", "red")
MARKS = "+ox*~#@%&=$"
MIN_PANEL_HEIGHT = 3
MAX_PANEL_HEIGHT = 40


def panel_name(series_name: str) -> str:
    lowered = series_name.lower()
    return next((title for title, word in PANELS if word in lowered), OTHER_PANEL)


@dataclass
class Line:
    """A series to draw, with its legend label and the job (0 for a single job) it is of."""

    series: Series
    label: str
    job: int = 0


def group_panels(lines: Sequence[Line]) -> list[tuple[str, list[Line]]]:
    """(axis title, lines) per panel, in PANELS order, the "other" panel last."""
    titles = [title for title, _ in PANELS] + [OTHER_PANEL]
    grouped: dict[str, list[Line]] = {title: [] for title in titles}
    for line in lines:
        grouped[panel_name(line.series.name)].append(line)
    return [(title, grouped[title]) for title in titles if grouped[title]]


def chart(
    lines: Sequence[Line],
    *,
    columns: int,
    rows: int,
    color: bool,
    jobs: int = 1,
) -> str:
    """The panels of a chart by step (loss, accuracy, ...: each its own y axis, titled, with
    "step" under the x axis), at most `columns` wide and, where the panels can be at least
    MIN_PANEL_HEIGHT high, `rows` lines in all. One job: braille in colour, else ASCII marks
    that tell the series apart. Several: a colour per job, and a mark per metric in colour
    (every series its own mark without)."""
    panels = group_panels(lines)
    if not panels:
        return ""
    steps = [step for line in lines for step in line.series.steps]
    low, high = min(steps), max(steps)
    span = (low, high if high > low else low + 1)
    # Lines each panel takes besides its plotting rows (legend lines depend on the labels).
    overhead = [
        len(_panel(title, group, columns=columns, height=1, color=color, jobs=jobs, span=span)) - 1
        for title, group in panels
    ]
    height = (rows - sum(overhead)) // len(panels)
    height = min(max(height, MIN_PANEL_HEIGHT), MAX_PANEL_HEIGHT)
    drawn: list[str] = []
    for title, group in panels:
        drawn += _panel(title, group, columns=columns, height=height, color=color, jobs=jobs,
                        span=span)  # fmt: skip
    return "\n".join(drawn)


def _panel(
    title: str,
    lines: Sequence[Line],
    *,
    columns: int,
    height: int,
    color: bool,
    jobs: int,
    span: tuple[float, float],
) -> list[str]:
    from uniplot import plot_to_string

    width = max(columns - 10, 20)
    options: dict[str, Any] = {}
    if jobs > 1:
        metric_names = list(dict.fromkeys(line.series.name for line in lines))
        if color:
            options["color"] = [JOB_COLORS[line.job % len(JOB_COLORS)] for line in lines]
            marks = [MARKS[metric_names.index(line.series.name) % len(MARKS)] for line in lines]
        else:
            options["color"] = False
            marks = [MARKS[n % len(MARKS)] for n in range(len(lines))]
        options.update(character_set="ascii", force_ascii_characters=marks)
    else:
        options.update(color=color, character_set="braille" if color else "ascii")
        if not color:
            options["force_ascii_characters"] = [MARKS[n % len(MARKS)] for n in range(len(lines))]
    text: str = plot_to_string(
        [line.series.values for line in lines],
        [line.series.steps for line in lines],
        lines=True,
        legend_labels=[line.label for line in lines],
        width=width,
        height=height,
        x_min=span[0],
        x_max=span[1],
        line_length_hard_cap=columns,
        **options,
    )
    drawn = text.split("\n")
    # Axis titles: the y axis's above the plot, "step" at the end of the x axis's labels.
    bottom = next((n for n, row in enumerate(drawn) if row.startswith("└")), None)
    if bottom is not None and bottom + 1 < len(drawn):
        labels = drawn[bottom + 1].rstrip()
        if len(labels) + 6 <= min(columns, width + 2):
            drawn[bottom + 1] = labels.ljust(min(columns, width + 2) - 4) + "step"
        else:
            drawn.insert(bottom + 2, "step".rjust(min(columns, width + 2)))
    return [title, *drawn]


def wrapped_lines(text: str, columns: int) -> int:
    """How many lines text takes on a terminal `columns` wide (long lines wrap)."""
    return sum(max(1, -(-len(line) // max(columns, 1))) for line in text.split("\n"))


def compare_lines(runs: Sequence[tuple[str, Metrics]]) -> list[Line]:
    """Every run's series, labelled with the run's short name."""
    labels = short_labels([job_id for job_id, _ in runs])
    return [
        Line(series, f"{label} {series.name}", job)
        for job, ((_, metrics), label) in enumerate(zip(runs, labels, strict=True))
        for series in compare_series(metrics)
    ]
