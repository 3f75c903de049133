"""Every sample export becomes a complete report, in HTML and in Markdown.

Each sample is loaded, diagnosed and built once (module cache). The checks are the reader's:
every section is there, every finding of the diagnosis is shown with its guide step, the event
count matches the sample's manifest, and the HTML and Markdown are well formed. The format
variants under ``formats/`` hold the events of ``failing-initial.json``; their reports must say
the same thing as that one's.
"""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import UTC, datetime
from functools import cache
from html.parser import HTMLParser

import pytest
from conftest import SAMPLES
from report_support import md_section, md_tables

from diagnostics.guide_steps import STEPS
from loganalyzer.engine import diagnose
from loganalyzer.findings import Suppressed
from loganalyzer.ingest import load
from loganalyzer.report.model import Analysis, Report, build_report
from loganalyzer.report.render import render_html, render_markdown

MANIFEST = json.loads((SAMPLES / "manifest.json").read_text())
EXPORTS = sorted(p.name for p in SAMPLES.glob("*.json") if p.name != "manifest.json")
VARIANTS = [
    "formats/csv",
    "formats/csv/ProvisioningLogs.zip",
    "formats/csv-variant",
    "formats/graph-v1",
    "formats/graph-beta-page.json",
    "formats/log-analytics/AADProvisioningLogs.csv",
    "formats/log-analytics/AADProvisioningLogs.json",
    "formats/portal-pretty.json",
    "formats/storage",
]
GENERATED = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)
HTML_SECTIONS = ["verdict", "figures", "findings", "charts", "cycles", "unexplained", "rules"]
MD_HEADINGS = ["Key figures", "Findings", "Charts", "Cycles", "Unexplained failures",
               "Rules that ran"]
# everything the template and the charts may emit; a log value must never add a tag
ALLOWED_TAGS = {
    "html", "head", "meta", "title", "style", "body", "header", "nav", "main", "footer",
    "section", "article", "figure", "figcaption", "div", "p", "h1", "h2", "h3", "h4", "dl", "dt",
    "dd", "ul", "li", "strong", "span", "a", "table", "thead", "tbody", "tr", "th", "td",
    "svg", "g", "defs", "path", "use", "clippath", "rect", "text",
}


@cache
def built(name: str) -> tuple[Report, object]:
    dataset = load([SAMPLES / name])
    diagnosis = diagnose(dataset.frames)
    return build_report(Analysis(dataset, diagnosis), generated_at=GENERATED), diagnosis


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.links += [v or "" for k, v in attrs if k in ("href", "src", "xlink:href")]


def _check_html(html: str, report: Report) -> None:
    parser = _Tags()
    parser.feed(html)
    assert parser.tags <= ALLOWED_TAGS, parser.tags - ALLOWED_TAGS
    assert all(link.startswith("#") for link in parser.links), parser.links
    for section in HTML_SECTIONS:
        assert f'<section id="{section}"' in html
    assert f"Health: {report.verdict}" in html


def _check_markdown(markdown: str) -> None:
    assert not re.search(r"(?<!\\)<", markdown), "raw HTML in Markdown"
    for heading in MD_HEADINGS:
        assert re.search(rf"^## {re.escape(heading)}$", markdown, re.MULTILINE), heading
    for table in md_tables(markdown):
        widths = {len(row) for row in table}
        assert len(widths) == 1, table


@pytest.mark.parametrize("name", EXPORTS)
def test_every_sample_renders_in_both_formats(name: str) -> None:
    report, diagnosis = built(name)
    html, markdown = render_html(report), render_markdown(report)
    _check_html(html, report)
    _check_markdown(markdown)

    figures = {f.label: f.value for f in report.figures}
    assert figures["Events"] == f"{MANIFEST['files'][name]['events']:,}"
    shown = md_section(markdown, "Findings")
    for finding in diagnosis.findings:
        assert finding.rule_id in shown and finding.rule_id in html
        step = finding.guide_steps[0] if finding.guide_steps else None
        if step:
            assert f"{step} {STEPS[step]}".replace("&", "\\&") in shown
            assert f"{step} {STEPS[step]}".replace("&", "&amp;") in html
    assert len(report.findings) + len(report.notices) == len(diagnosis.findings)
    # the verdict follows the documented rule: high or worse fails; medium, unexplained
    # failures or a crashed rule degrade; anything else is healthy
    severities = {f.severity for f in diagnosis.findings}
    if severities & {"critical", "high"}:
        assert report.verdict == "failing"
    elif "medium" in severities or diagnosis.unexplained or diagnosis.rule_errors:
        assert report.verdict == "degraded"
    else:
        assert report.verdict == "healthy"
    assert len(report.charts) == (3 if diagnosis.summary["failures"] else 1)
    assert html.count("<svg") == len(report.charts)


@pytest.mark.parametrize("name", VARIANTS)
def test_every_export_format_gives_the_same_report(name: str) -> None:
    assert MANIFEST["files"].get(name, {"same_events_as": "failing-initial.json"})[
        "same_events_as"
    ] == "failing-initial.json"
    report, _ = built(name)
    reference, _ = built("failing-initial.json")
    _check_markdown(render_markdown(report))
    assert report.verdict == reference.verdict
    assert [f.value for f in report.figures] == [f.value for f in reference.figures]
    assert [(f.rule_id, f.events) for f in report.findings + report.notices] == [
        (f.rule_id, f.events) for f in reference.findings + reference.notices
    ]


def test_findings_are_ordered_by_guide_step_then_severity() -> None:
    """By guide step, except that a rule goes just before the findings it causes (FC006's
    upper-case identifiers, step 7a, before FC007's 409s, step 4)."""
    report, _ = built("failing-initial.json")
    order = list(STEPS)
    ids = [f.rule_id for f in report.findings]
    assert ids.index("FC006") == ids.index("FC007") - 1
    keys = [(order.index(f.steps[0].id), f.severity) for f in report.findings
            if f.rule_id != "FC006"]
    assert [k[0] for k in keys] == sorted(k[0] for k in keys)
    assert len(keys) >= 3  # several problems, several steps: the order is tested


def test_healthy_sample_reads_healthy_and_failing_one_failing() -> None:
    healthy, _ = built("healthy-incremental.json")
    assert healthy.verdict == "healthy"
    assert healthy.findings == []
    failing, _ = built("failing-initial.json")
    assert failing.verdict == "failing"
    loud = [f for f in failing.findings if f.severity in ("critical", "high")]
    assert loud and any(f.title in failing.verdict_reason for f in loud)


def test_group_halt_shows_halted_cycles() -> None:
    report, diagnosis = built("group-404-halt.json")
    halted = {c for f in diagnosis.findings for c in f.details.get("halted_cycles", [])}
    assert halted, "the sample halts a cycle"
    figures = {f.label: f.value for f in report.figures}
    assert figures["Halted cycles"] == str(len(halted))
    assert {row.cycle_id for row in report.cycles if row.halted} == halted


def test_an_accepted_group_halt_still_halted_its_cycles_and_explains_its_failures() -> None:
    """Accepting FC001 (a baseline) takes it out of the findings, not out of what happened:
    the cycles it halted are still counted and marked, and its failures are charted under
    it, not as unexplained."""
    dataset = load([SAMPLES / "group-404-halt.json"])
    diagnosis = diagnose(dataset.frames)
    [halt] = [f for f in diagnosis.findings if f.details.get("halted_cycles")]
    accepted = dataclasses.replace(
        diagnosis, findings=[f for f in diagnosis.findings if f is not halt],
        suppressed=[Suppressed(halt, "baseline: accepted.json")])
    report = build_report(Analysis(dataset, accepted), generated_at=GENERATED)
    halted = set(halt.details["halted_cycles"])
    assert {f.label: f.value for f in report.figures}["Halted cycles"] == str(len(halted))
    assert {row.cycle_id for row in report.cycles if row.halted} == halted
    chart = next(c for c in report.charts if c.id == "chart-findings")
    names = [series.name for series in chart.series]
    assert f"{halt.rule_id} {halt.title} (accepted)" in names


def test_evidence_and_affected_are_capped_with_a_count_of_the_rest() -> None:
    report, diagnosis = built("weekly-two-periods.json")
    for view in report.findings + report.notices:
        finding = next(
            f for f in diagnosis.findings
            if (f.rule_id, f.message) == (view.rule_id, view.message)
        )
        assert len(view.evidence) + view.evidence_more == finding.events
        assert len(view.affected) + view.affected_more == len(finding.affected)
    assert any(v.evidence_more for v in report.findings), "the sample has more than the cap"
    markdown = render_markdown(report)
    more = [v for v in report.findings if v.evidence_more][0]
    assert f"and {more.evidence_more:,} more" in markdown


def test_same_input_gives_byte_identical_reports() -> None:
    """Charts carry no date or random id, so a re-run changes nothing (diffable reports)."""
    report, _ = built("group-404-halt.json")
    dataset = load([SAMPLES / "group-404-halt.json"])
    again = build_report(Analysis(dataset, diagnose(dataset.frames)), generated_at=GENERATED)
    assert again == report
    html = render_html(report)
    assert render_html(again) == html
    for svg in re.findall(r"<svg.*?</svg>", html, re.DOTALL):
        assert "<metadata" not in svg and "<?xml" not in svg and "<!--" not in svg
        assert not re.search(r"\d{4}-\d\d-\d\dT\d\d", svg)  # no creation date
