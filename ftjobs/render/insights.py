"""Output of `info`, `stats` (and `search`'s notes): a Rich view for people at a terminal,
`key<TAB>value` lines when piped, one JSON object with --json."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from typing import IO, TYPE_CHECKING, Any

from ftjobs.api.times import iso_time
from ftjobs.render.output import console
from ftjobs.render.tables import STATUS_STYLES

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

    from ftjobs.store.check import CheckResult
    from ftjobs.store.insights import Stats, StoreInfo

# On a terminal, at most (fewer when its height says so); --json and piped output have all.
MONTHS_SHOWN = 24
MODELS_SHOWN = 10


def write_json_object(data: dict[str, Any], out: IO[str]) -> None:
    out.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def _tsv(rows: Iterable[tuple[Any, ...]], out: IO[str]) -> None:
    for row in rows:
        out.write("\t".join("" if cell is None else str(cell) for cell in row) + "\n")


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:,.0f} {unit}" if unit == "B" else f"{value:,.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def human_duration(seconds: int | None) -> str:
    """1h 05m, 3d 4h, 45s: two units at most."""
    if seconds is None:
        return "-"
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


# -- info -------------------------------------------------------------------------------------


def _info_rows(info: StoreInfo) -> list[tuple[str, str]]:
    statuses = ", ".join(f"{status} {count:,}" for status, count in info.jobs_by_status.items())
    return [
        ("database", info.path),
        ("size", human_size(info.size_bytes)),
        ("schema version", str(info.schema_version)),
        ("jobs", f"{info.jobs:,}" + (f" ({statuses})" if statuses else "")),
        ("events", f"{info.events:,}"),
        ("checkpoints", f"{info.checkpoints:,}"),
        (
            "result files",
            f"{info.result_files:,} listed, {info.result_file_contents:,} with content stored",
        ),
        ("last sync", iso_time(info.last_sync_at) or "never"),
        *(("source", _source_text(source)) for source in info.sources),
        *((f"table {name}", f"{rows:,} rows") for name, rows in (info.tables or {}).items()),
    ]


def _source_text(source: dict[str, Any]) -> str:
    """One synced source: what it is, its jobs, when it was last synced whole."""
    jobs = source["jobs"]
    last = iso_time(source["last_synced_at"])
    state = f"last synced {last}" if last else "never synced to the end"
    if source["walk_unfinished"]:
        state += "; its first walk is unfinished (the next sync goes on)"
    return f"{source['label']}: {jobs:,} job{'' if jobs == 1 else 's'}, {state}"


def write_check_report(results: list[CheckResult], out: IO[str]) -> None:
    """`ok    name: what it checks`, or `FAIL  name: N problems`, the first ones named under
    it and the fix; a last line sums up. Plain text: the same on a terminal and in a pipe."""
    for result in results:
        if result.ok:
            out.write(f"ok    {result.name}: {result.about}\n")
            continue
        noun = "problem" if result.problems == 1 else "problems"
        out.write(f"FAIL  {result.name}: {result.problems:,} {noun} ({result.about})\n")
        for example in result.examples:
            out.write(f"      {example}\n")
        if result.problems > len(result.examples) and result.name != "search index":
            out.write(f"      ... and {result.problems - len(result.examples):,} more\n")
        if result.fix:
            out.write(f"      fix: {result.fix}\n")
    failed = [result.name for result in results if not result.ok]
    out.write(f"Problems in: {', '.join(failed)}.\n" if failed else "The archive is sound.\n")


def print_info(info: StoreInfo) -> None:
    from rich.table import Table
    from rich.text import Text

    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    for label, text in _info_rows(info):
        grid.add_row(label, Text(text))
    console().print(grid)


def write_info_plain(info: StoreInfo, out: IO[str]) -> None:
    """key<TAB>value, one a line; jobs by status as status.NAME."""
    rows: list[tuple[Any, ...]] = [
        ("path", info.path),
        ("size_bytes", info.size_bytes),
        ("schema_version", info.schema_version),
        ("jobs", info.jobs),
        *((f"status.{status}", count) for status, count in info.jobs_by_status.items()),
        ("events", info.events),
        ("checkpoints", info.checkpoints),
        ("result_files", info.result_files),
        ("result_file_contents", info.result_file_contents),
        ("last_sync_at", iso_time(info.last_sync_at)),
        *(
            (f"source.{n}.{key}", iso_time(value) if key.endswith("_at") else value)
            for n, source in enumerate(info.sources, 1)
            for key, value in source.items()
        ),
        *((f"table.{name}", count) for name, count in (info.tables or {}).items()),
    ]
    _tsv(rows, out)


# -- stats ------------------------------------------------------------------------------------


def write_stats_plain(stats: Stats, out: IO[str]) -> None:
    """Tab-separated lines a script can grep: `total N`, `status NAME N`, `model NAME N`,
    `month YYYY-MM N`, `tokens MODEL N`, then the single figures."""
    rows: list[tuple[Any, ...]] = [("total", stats.total)]
    rows += [("status", name, count) for name, count in stats.by_status.items()]
    rows += [("model", name, count) for name, count in stats.by_model.items()]
    rows += [("month", name, count) for name, count in stats.by_month.items()]
    rows += [("tokens", name, count) for name, count in stats.trained_tokens_by_model.items()]
    rows += [
        ("trained_tokens", stats.trained_tokens),
        ("finished", stats.finished),
        ("success_rate", "" if stats.success_rate is None else f"{stats.success_rate:.4f}"),
        ("duration_median_seconds", stats.duration_median),
        ("duration_p90_seconds", stats.duration_p90),
    ]
    _tsv(rows, out)


_EIGHTHS = " ▏▎▍▌▋▊▉"


def bar(value: int, largest: int, width: int, *, unicode: bool = True) -> str:
    """value as a bar of block characters, largest filling width (eighths of a cell)."""
    if largest <= 0 or width <= 0 or value <= 0:
        return ""
    if not unicode:
        return "#" * max(1, round(value * width / largest))
    eighths = max(1, round(value * width * 8 / largest))
    full, part = divmod(eighths, 8)
    return "█" * full + (_EIGHTHS[part] if part else "")


def _bars(
    out: Console,
    title: str,
    rows: Sequence[tuple[str, int | None, str]],
    *,
    styles: dict[str, str] | None = None,
    gap_after: bool = True,
) -> None:
    """A titled chart: label, count, bar, note (a share or tokens), fitted to the width. A row
    without a count (months folded) is its label and note alone."""
    from rich.padding import Padding
    from rich.table import Table
    from rich.text import Text

    if not rows:
        return
    unicode = out.encoding.lower().startswith("utf")
    counts = [count for _, count, _ in rows if count is not None]
    label_width = min(max(len(label) for label, _, _ in rows), max(28, out.width // 4))
    count_width = max((len(f"{count:,}") for count in counts), default=0)
    note_width = max(len(note) for _, _, note in rows)
    # two spaces of indent, and two between the four columns
    bar_width = max(4, min(40, out.width - 2 - label_width - count_width - note_width - 6))
    largest = max(counts, default=0)
    grid = Table.grid(padding=(0, 2), pad_edge=False)
    grid.add_column(width=label_width, no_wrap=True, overflow="ellipsis")
    grid.add_column(justify="right", no_wrap=True)
    grid.add_column(width=bar_width, no_wrap=True)
    grid.add_column(justify="right", no_wrap=True)
    for label, count, note in rows:
        style = (styles or {}).get(label, "")
        if count is None:
            grid.add_row(Text(label, style="dim"), "", Text(note, style="dim"), "")
            continue
        grid.add_row(
            Text(label, style=style),
            f"{count:,}",
            Text(bar(count, largest, bar_width, unicode=unicode), style=style or "cyan"),
            note,
        )
    out.print(Text(title, style="bold"))
    out.print(Padding(grid, (0, 0, 0, 2), expand=False))
    if gap_after:
        out.print()


def _share(count: int, total: int) -> str:
    return f"{100 * count / total:.1f}%" if total else ""


def _every_month(by_month: dict[str, int]) -> list[tuple[str, int]]:
    """Months oldest first, the ones without jobs included (a gap should look like one)."""
    if not by_month:
        return []
    first, last = min(by_month), max(by_month)
    year, month = int(first[:4]), int(first[5:])
    months: list[tuple[str, int]] = []
    while True:
        name = f"{year:04d}-{month:02d}"
        months.append((name, by_month.get(name, 0)))
        if name >= last:
            return months
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def fold_months(by_month: dict[str, int]) -> list[tuple[str, int | None, str]]:
    """Months oldest first as chart rows; a run of months without jobs is one row
    ("2024-03 … 2024-07", no jobs), so a gap shows as one without taking the screen."""
    rows: list[tuple[str, int | None, str]] = []
    months = _every_month(by_month)
    i = 0
    while i < len(months):
        name, count = months[i]
        if count:
            rows.append((name, count, ""))
            i += 1
            continue
        j = i
        while j + 1 < len(months) and not months[j + 1][1]:
            j += 1
        label = name if j == i else f"{name} … {months[j][0]}"
        rows.append((label, None, "no jobs"))
        i = j + 1
    return rows


# A dated snapshot's suffix, as --model matches them (store.queries._SNAPSHOT_SUFFIXES):
# gpt-4o-mini-2024-07-18 and gpt-3.5-turbo-0125 are gpt-4o-mini and gpt-3.5-turbo.
_SNAPSHOT = re.compile(r"-(?:[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{4})\Z")


def model_family(model: str) -> str:
    """The name `--model` finds a model by: a dated snapshot's base name, else the model."""
    family = _SNAPSHOT.sub("", model)
    return family or model


def by_family(by_model: dict[str, int], tokens: dict[str, int]) -> list[tuple[str, int, int, int]]:
    """Models grouped as --model groups them: (family, jobs, trained tokens, models in it),
    most jobs first."""
    groups: dict[str, list[int]] = {}
    for model, count in by_model.items():
        group = groups.setdefault(model_family(model), [0, 0, 0])
        group[0] += count
        group[1] += tokens.get(model, 0)
        group[2] += 1
    ordered = sorted(groups.items(), key=lambda item: (-item[1][0], item[0]))
    return [(family, jobs, tok, models) for family, (jobs, tok, models) in ordered]


def _headline(stats: Stats) -> Text:
    from rich.text import Text

    head = Text()
    head.append(f"{stats.total:,}", style="bold")
    head.append(" job" if stats.total == 1 else " jobs")
    if stats.success_rate is not None:
        head.append("   ")
        head.append(f"{100 * stats.success_rate:.1f}%", style="bold green")
        head.append(f" of {stats.finished:,} finished succeeded")
    if stats.duration_median is not None:
        head.append("\ntime to finish: median ")
        head.append(human_duration(stats.duration_median), style="bold")
        head.append(", 90% within ")
        head.append(human_duration(stats.duration_p90), style="bold")
    head.append("\ntrained tokens: ")
    head.append(f"{stats.trained_tokens:,}", style="bold")
    return head


def print_stats(stats: Stats) -> None:
    """The headline, then jobs by status, model family and month, fitted to the terminal's
    height: the models and months that do not fit are summed up in one row each."""
    out = console()
    if not stats.total:
        console(stderr=True).print("No jobs.")
        return
    head = _headline(stats)
    out.print(head)
    out.print()
    statuses = [
        (name, count, _share(count, stats.total)) for name, count in stats.by_status.items()
    ]
    # The screen: the headline and a blank, each chart's title and a blank after it (the
    # last's the shell prompt's line).
    room = out.height - (head.plain.count("\n") + 2) - (len(statuses) + 2) - 4
    families = by_family(stats.by_model, stats.trained_tokens_by_model)
    months = fold_months(stats.by_month)
    # A third for the models, the rest for the months, and what either leaves to the other.
    model_rows = min(len(families), MODELS_SHOWN, max(3, room // 3))
    month_rows = min(len(months), MONTHS_SHOWN, max(3, room - model_rows))
    model_rows = min(len(families), MODELS_SHOWN, max(model_rows, room - month_rows))
    _bars(out, "By status", statuses, styles=STATUS_STYLES)
    _bars(out, "By model (jobs, trained tokens)", _family_rows(families, model_rows))
    title = "By month created (UTC)"
    if len(months) > month_rows:
        title += f": the last {month_rows} of {len(months):,} rows (--json has all)"
        months = months[-month_rows:]
    _bars(out, title, months, gap_after=False)


def _family_rows(
    families: list[tuple[str, int, int, int]], rows: int
) -> list[tuple[str, int | None, str]]:
    """Up to rows chart rows, the last "(N more)" when they do not all fit."""
    shown = families if len(families) <= rows else families[: max(1, rows - 1)]
    chart: list[tuple[str, int | None, str]] = [
        (family + (f" ({models} models)" if models > 1 else ""), jobs, f"{tokens:,} tok")
        for family, jobs, tokens, models in shown
    ]
    rest = families[len(shown) :]
    if rest:
        chart.append(
            (
                f"({len(rest):,} more)",
                sum(jobs for _, jobs, _, _ in rest),
                f"{sum(tokens for _, _, tokens, _ in rest):,} tok",
            )
        )
    return chart
