"""The report: one self-contained HTML page per run.

It explains the gate's decision and shows the evaluation, the learning curves, the task's
pictures, data statistics and anomalies.

Pipeline-free: `render(Inputs(...))` takes artifact URIs, so the Report component (at the end
of every pipeline) and `kfx report` (which finds the URIs in MLMD) write the same page. Each
section reads its own artifact and fails alone: a section that cannot be read says why, and
the rest of the page is still written.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Callable

from components.reporting import page, plots, sources

PASS, FAIL, NONE = "pass", "fail", "none"


@dataclasses.dataclass(frozen=True)
class Inputs:
    """The artifacts of one run a report reads (None: the run or its pipeline has none)."""

    task: str
    run_id: str = ""
    started: float | None = None
    """Run start, seconds since the epoch."""
    statistics: tuple[str, str] | None = None
    """StatisticsGen's (uri, split_names)."""
    anomalies: tuple[str, str] | None = None
    """ExampleValidator's (uri, split_names)."""
    evaluation: str | None = None
    """The Evaluator's TFMA output, or the PolicyEvaluator's returns."""
    model_run: str | None = None
    """The trainer's ModelRun (TensorBoard logs)."""
    blessing: str | None = None
    """The gate's ModelBlessing (`gate.json`)."""
    pushed: dict | None = None
    """{'pushed': bool, 'version': str, 'destination': str} of the Pusher's output."""
    trajectories: str | None = None
    """TrajectoryGen's Examples (offline RL)."""


def _gate(inputs: Inputs) -> str:
    from components import gate

    decision = gate.read(inputs.blessing) if inputs.blessing else None
    if decision is None:
        return page.note("No gate decision: the run stopped before the gate (see the data).")
    word, kind = ("BLESSED", PASS) if decision.passed else ("NOT BLESSED", FAIL)
    verdict = page.badge(word, kind, "verdict")
    parts = [f"<p>{verdict} <span id='reason'>{page.esc(decision.reason)}</span></p>"]
    rows = []
    for check in decision.checks:
        rows.append(
            [
                check.key,
                page.number(check.value),
                _bar(check, check.threshold),
                _naive(check),
                page.number(check.baseline) if check.baseline is not None else "none yet",
                "gated" if check.gated else "reported",
            ]
        )
    headers = ["metric", "value", "threshold", "naive + margin", "baseline", "role"]
    parts.append(page.table(headers, rows, numeric=(1,)))
    parts.append("<ul class='parts'>" + "".join(_explained(c) for c in decision.checks) + "</ul>")
    parts.append(_pushed(inputs.pushed))
    return "".join(parts)


def _bar(check, bar) -> str:
    if bar is None:
        return "-"
    return f"{'>=' if check.higher_is_better else '<='} {page.number(bar)}"


def _naive(check) -> str:
    if check.naive is None:
        return "-"
    sign = "+" if check.higher_is_better else "-"
    return f"{page.number(check.naive)} {sign} {page.number(check.margin)}"


def _explained(check) -> str:
    """The three parts of one gated check, each with its outcome."""
    if not check.gated:
        return f"<li>{page.esc(check.key)}: reported only, it cannot refuse the model.</li>"
    failed = " ".join(check.failures())
    word = "at least" if check.higher_is_better else "at most"
    items = [f"(a) threshold: {check.key} must be {word} {page.number(check.threshold)}"]
    if check.naive is not None:
        bar = check.naive + (check.margin if check.higher_is_better else -check.margin)
        items.append(
            f"(b) naive predictor of the same run scored {page.number(check.naive)}; "
            f"the model must reach {page.number(bar)}"
        )
    else:
        items.append("(b) no naive predictor was computed")
    if check.baseline is None:
        items.append("(c) no blessed model yet: nothing to be worse than")
    else:
        noise = f" (noise allowance {check.slack:.3g})" if check.slack > 1e-9 else ""
        items.append(
            f"(c) the blessed baseline scored {page.number(check.baseline)} on the same data; "
            f"the model may not be worse{noise}"
        )
    outcome = page.badge("fails: " + failed, FAIL) if failed else page.badge("passes", PASS)
    body = "; ".join(page.esc(i) for i in items)
    return f"<li><b>{page.esc(check.key)}</b> {page.number(check.value)}: {body}. {outcome}</li>"


def _pushed(pushed: dict | None) -> str:
    if not pushed:
        return page.note("No Pusher output recorded.")
    if pushed.get("pushed"):
        where = f"version {pushed.get('version')} → {pushed.get('destination')}"
        return f"<p>{page.badge('PUSHED', PASS, 'pushed')} {page.esc(where)}</p>"
    return f"<p>{page.badge('NOT PUSHED', NONE, 'pushed')} the serving model is unchanged</p>"


def _evaluation(inputs: Inputs) -> str:
    if inputs.evaluation is None:
        return page.note("No evaluation in this run.")
    record = sources.returns(inputs.evaluation)
    if record is not None:  # a policy: episode returns
        rows = [["episodes", record.get("episodes")], ["seed", record.get("seed")]]
        rows.append(["mean return", page.number(record.get("mean_return"))])
        rows.append(["std return", page.number(record.get("std_return"))])
        chart = plots.returns_histogram(record)
        body = page.table(["", "value"], rows, numeric=(1,))
        seeds = page.note("Greedy episodes on seeds no training evaluation played.")
        return body + (page.image(chart, "episode returns") if chart else "") + seeds
    found = sources.metrics(inputs.evaluation)
    if not found:
        return page.note(f"{inputs.evaluation}: no metrics")
    cells: dict[tuple, dict] = {}
    for m in found:
        cells.setdefault((m.slice, m.output, m.name), {})[m.model] = m.value
    rows = [
        [s, o or "-", n, page.number(v.get("candidate")), page.number(v.get("baseline"))]
        for (s, o, n), v in sorted(cells.items(), key=lambda kv: (kv[0][0] != "overall", kv[0]))
    ]
    headers = ["slice", "output", "metric", "candidate", "baseline"]
    return page.table(headers, rows, numeric=(3, 4)) + page.note("TFMA on the test split.")


def _curves(inputs: Inputs, events) -> str:
    if events is None:
        return page.note("No training logs in this run.")
    chart = plots.learning_curves(events.scalars)
    if chart is None:
        tags = ", ".join(sorted(events.scalars)) or "none"
        return page.note(f"Logged scalars: {tags} (plots need matplotlib).")
    listed = ", ".join(plots.curve_tags(events.scalars))
    graph = "a model graph is logged" if events.graph else "no model graph logged"
    return page.image(chart, "learning curves") + page.note(f"{listed}; {graph}.")


def _pictures(inputs: Inputs, events) -> str:
    if events is None or not events.images:
        return page.note("No pictures logged for this task.")
    return "".join(
        f"<h3>{page.esc(tag)} ({page.esc(run)})</h3>" + page.image(png, tag)
        for run, tag, png in events.images
    )


def _data(inputs: Inputs) -> str:
    parts = []
    if inputs.trajectories:
        record = sources.trajectories(inputs.trajectories) or {}
        keys = ("episodes", "steps", "mean_return", "min_return", "max_return")
        parts.append(page.table(["", "value"], [[k, page.number(record.get(k))] for k in keys]))
    if inputs.statistics:
        for split in sources.statistics(*inputs.statistics):
            parts.append(f"<h3>{page.esc(split.split)}: {split.examples} examples</h3>")
            rows = [[f.name, f.kind, f"{f.missing:.1%}", f.summary] for f in split.features]
            parts.append(page.table(["feature", "kind", "missing", "summary"], rows))
    if inputs.anomalies:
        found = sources.anomalies(*inputs.anomalies)
        parts.append("<h3 id='anomalies'>Anomalies</h3>")
        if found:
            rows = [[a.split, a.column, a.short, a.description] for a in found]
            parts.append(page.table(["split", "column", "anomaly", "description"], rows))
        else:
            parts.append(page.badge("no anomalies", PASS) + page.note("every split matches."))
    return "".join(parts) or page.note("This pipeline reads no data files (a simulator).")


def _safe(build: Callable[[], str]) -> str:
    """A section's body, or why it could not be built (the rest of the page still renders)."""
    try:
        return build()
    except Exception as err:  # noqa: BLE001 (one unreadable artifact must not lose the page)
        return page.note(f"could not be read: {type(err).__name__}: {err}")


def render(inputs: Inputs) -> str:
    """The report of one run as a self-contained HTML page."""
    events = None
    if inputs.model_run:
        try:
            events = sources.events(inputs.model_run)
        except Exception:  # noqa: BLE001 (the curves and pictures sections say so)
            events = None
    when = datetime.datetime.fromtimestamp(inputs.started) if inputs.started else None
    subtitle = " · ".join(
        x
        for x in (
            f"run {inputs.run_id}" if inputs.run_id else "",
            f"started {when:%Y-%m-%d %H:%M:%S}" if when else "",
            f"report written {datetime.datetime.now():%Y-%m-%d %H:%M:%S}",
        )
        if x
    )
    sections = [
        page.section("gate", "Gate decision", _safe(lambda: _gate(inputs))),
        page.section("evaluation", "Evaluation", _safe(lambda: _evaluation(inputs))),
        page.section("curves", "Learning curves", _safe(lambda: _curves(inputs, events))),
        page.section("pictures", "Pictures", _safe(lambda: _pictures(inputs, events))),
        page.section("data", "Data: statistics and anomalies", _safe(lambda: _data(inputs))),
        page.section("sources", "Artifacts", _sources(inputs)),
    ]
    return page.document(f"kfx report: {inputs.task}", subtitle, sections)


def _sources(inputs: Inputs) -> str:
    rows = []
    for field in ("statistics", "anomalies", "evaluation", "model_run", "blessing", "trajectories"):
        value = getattr(inputs, field)
        if value:
            rows.append([field, value[0] if isinstance(value, tuple) else value])
    return page.table(["artifact", "uri"], rows) if rows else page.note("none")


def error_page(task: str, err: BaseException) -> str:
    """What the Report component writes when rendering itself failed."""
    body = page.note(f"The report could not be written: {type(err).__name__}: {err}")
    sections = [page.section("error", "Error", body)]
    return page.document(f"kfx report: {task}", "report failed", sections)
