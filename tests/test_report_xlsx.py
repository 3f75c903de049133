"""`report -o findings.xlsx`: an Excel workbook an admin can filter, read back as written."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pandas as pd
from conftest import SAMPLES
from eventfactory import TITLE_LEFT, Export, ignored_attribute_warning, status_only_warnings_export
from openpyxl import load_workbook
from typer.testing import CliRunner

from loganalyzer.cli import app

SHEETS = ["Summary", "Findings", "Affected", "Evidence", "Cycles", "Unexplained",
          "Unexplained skips", "Suppressed"]


def write_workbook(tmp_path: Path, *args: str) -> Path:
    target = tmp_path / "findings.xlsx"
    result = CliRunner().invoke(app, ["report", *args, "-o", str(target), "-q"])
    assert result.exit_code == 0, result.output
    return target


def test_one_sheet_per_table_with_the_reports_rows(tmp_path):
    target = write_workbook(tmp_path, str(SAMPLES / "group-404-halt.json"))
    sheets = pd.read_excel(target, sheet_name=None)
    assert list(sheets) == SHEETS
    summary = dict(zip(sheets["Summary"]["Item"], sheets["Summary"]["Value"], strict=True))
    assert summary["Verdict"] == "failing" and "fix first" in summary["Why"]
    findings = sheets["Findings"]
    # causes first: the critical group mapping, then its escrow consequence, then the noise
    assert findings["Rule"].tolist() == ["FC001", "FC016", "FC018"]
    assert findings.loc[1, "Kind"] == "consequence"
    assert findings.loc[1, "Caused by"].startswith("FC001 SCIM group provisioning")
    assert findings.loc[0, "Events"] == 15
    affected = sheets["Affected"]
    assert "Flowcase Managers" in affected[affected["Rule"] == "FC001"]["Display name"].tolist()
    evidence = sheets["Evidence"]
    assert evidence[evidence["Rule"] == "FC001"]["HTTP"].dropna().eq(404).all()
    # the ids a support case names, in full, as the raw records have them
    records = {r["id"]: r for r in json.loads((SAMPLES / "group-404-halt.json").read_text())}
    for _, row in evidence.iterrows():
        record = records[row["Activity id"]]
        assert (row["Cycle id"], row["Change id"]) == (record["cycleId"], record["changeId"])
    cycles = sheets["Cycles"]
    assert len(cycles) == 3 and cycles["Events"].sum() == 47
    assert sheets["Suppressed"].empty and list(sheets["Suppressed"].columns)[0] == "Rule"


def test_headers_are_frozen_filtered_and_columns_sized(tmp_path):
    workbook = load_workbook(write_workbook(tmp_path, str(SAMPLES / "group-404-halt.json")))
    for sheet in workbook.worksheets:
        assert sheet.freeze_panes == "A2", sheet.title
        rows = sum(1 for row in sheet.iter_rows() if any(c.value is not None for c in row))
        last = sheet[1][-1].column_letter
        assert sheet.auto_filter.ref == f"A1:{last}{rows}", sheet.title
    findings = workbook["Findings"]
    widths = {cell.value: findings.column_dimensions[cell.column_letter].width
              for cell in findings[1]}
    assert widths["Rule"] < widths["Title"] <= 80  # fitted to the content, capped
    assert widths["Message"] == 80


def test_log_values_stay_text_not_formulas(tmp_path):
    x = Export()
    for cycle in ("c1", "c2"):
        x.user("eve@contoso.no", cycle=cycle, status="failure", http=400,
               detail="=HYPERLINK(\"http://evil\",\"x\")\x07 Department 'Sales' does not exist",
               sent={"userName": "eve@contoso.no",
                     "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department":
                     "Sales"})
    export = tmp_path / "odd.json"
    export.write_text(json.dumps(x.records))
    workbook = load_workbook(write_workbook(tmp_path, str(export)))
    cells = [c for sheet in workbook.worksheets for row in sheet.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    reasons = [c.value for c in cells if isinstance(c.value, str) and "HYPERLINK" in c.value]
    assert reasons and all(r.startswith("'=") and "\x07" not in r for r in reasons)


def test_redacted_workbook_has_no_names(tmp_path):
    target = write_workbook(tmp_path, str(SAMPLES / "group-404-halt.json"), "--redact")
    text = " ".join(
        str(v) for frame in pd.read_excel(target, sheet_name=None).values()
        for v in frame.astype(str).to_numpy().ravel()
    )
    assert "@northwind." not in text and "user-" in text  # the tenant URL may stay
    summary = pd.read_excel(target, sheet_name="Summary")
    assert summary["Item"].tolist().count("Personal data") == 1


def test_with_config_the_configuration_findings_get_their_sheet(tmp_path):
    target = write_workbook(tmp_path, str(SAMPLES / "failing-initial.json"),
                            "--config", str(SAMPLES / "config" / "bad"))
    sheets = pd.read_excel(target, sheet_name=None)
    assert list(sheets) == [*SHEETS, "Configuration"]
    configuration = sheets["Configuration"]
    assert len(configuration) > 0 and configuration["Check"].str.match(r"CC\d{3}$").all()


def test_an_accepted_configuration_check_says_so_in_its_sheet(tmp_path):
    """The pages mark an accepted check "accepted: ignored: CC017; not in the verdict"; the
    sheet listed it like any open one, beside a verdict that leaves it out."""
    target = write_workbook(tmp_path, str(SAMPLES / "failing-initial.json"),
                            "--config", str(SAMPLES / "config" / "bad"), "--ignore", "CC017")
    configuration = pd.read_excel(target, sheet_name="Configuration").set_index("Check")
    assert configuration.loc["CC017", "Accepted by"] == "ignored: CC017"
    assert configuration.drop("CC017")["Accepted by"].isna().all()


def test_bidi_and_c1_characters_from_a_log_are_shown_as_escapes(tmp_path):
    """As in every other output (textsafe): U+202E would reverse what the admin reads."""
    x = Export()
    x.user("eve@contoso.no", status="failure", http=400, error_code="Err\u202eevil\u0085x",
           detail="value \u202e reversed \u009b31m")
    export = tmp_path / "hidden.json"
    export.write_text(json.dumps(x.records))
    workbook = load_workbook(write_workbook(tmp_path, str(export)))
    texts = [c.value for sheet in workbook.worksheets for row in sheet.iter_rows()
             for c in row if isinstance(c.value, str)]
    assert any("\\u202e" in t for t in texts)
    assert not [t for t in texts if any(ch in t for ch in "\u202e\u0085\u009b")]


def test_the_workbook_lists_everyone_the_pages_only_count(tmp_path):
    """HTML and Markdown list 25 people a finding and say "and N more"; the workbook is
    where an admin filters the whole list, so it holds every one (it held 25 of 30)."""
    x = Export()
    for n in range(30):
        user = f"user{n:02d}@contoso.no"
        x.user(user, status="failure", http=400,
               detail="Department 'Sales EMEA' does not exist",
               sent={"userName": user,
                     "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department":
                     "Sales EMEA"})
    export = tmp_path / "many.json"
    export.write_text(json.dumps(x.records))
    sheets = pd.read_excel(write_workbook(tmp_path, str(export)), sheet_name=None)
    findings = sheets["Findings"].set_index("Rule")
    assert findings.loc["FC008", "Affected"] == 30
    affected = sheets["Affected"]
    assert (affected["Rule"] == "FC008").sum() == 30
    markdown = tmp_path / "many.md"
    CliRunner().invoke(app, ["report", str(export), "-o", str(markdown), "-q"])
    assert "and 5 more" in markdown.read_text(encoding="utf-8")


def test_the_comparison_gets_its_sheet_and_each_finding_its_change(tmp_path):
    target = write_workbook(tmp_path, str(SAMPLES / "weekly-two-periods.json"), "--since", "7d",
                            "--compare-previous")
    sheets = pd.read_excel(target, sheet_name=None)
    assert list(sheets) == [*SHEETS, "Comparison"]
    comparison = sheets["Comparison"]
    changes = set(comparison["Change"].dropna())
    assert {"new", "ongoing"} <= changes
    assert comparison.loc[comparison["Rule"] == "Failure rate", "Finding"].item().endswith(
        "percentage points")
    findings = sheets["Findings"]
    new = set(comparison.loc[comparison["Change"] == "new", "Rule"])
    assert set(findings.loc[findings["Change"] == "new", "Rule"]) == new


def test_a_note_beginning_like_a_formula_is_text_without_a_quote(tmp_path):
    """The tool's own notes carry no formula guard ("--since 7d counts back" would show a
    stray quote), but a note may begin with a file name from an archive (=1+2.csv): the cell
    is stored as text, so Excel never evaluates it."""
    from loganalyzer.engine import diagnose
    from loganalyzer.ingest import load
    from loganalyzer.report.model import Analysis, build_report
    from loganalyzer.report.xlsx import render_xlsx

    dataset = load([SAMPLES / "healthy-incremental.json"])
    report = build_report(Analysis(dataset, diagnose(dataset.frames)))
    report.notes = ["=1+2.csv: columns not used: Bogus", "--since 7d counts back from …"]
    book = tmp_path / "r.xlsx"
    book.write_bytes(render_xlsx(report))
    summary = load_workbook(book)["Summary"]
    notes = [row[1] for row in summary.iter_rows(min_row=2) if row[0].value == "Note"]
    assert [(c.value, c.data_type) for c in notes] == [
        ("=1+2.csv: columns not used: Bogus", "s"), ("--since 7d counts back from …", "s")]


def _rows(sheet) -> dict[str, tuple]:
    """A sheet's rows by their first cell (the Summary's items, the Comparison's rules)."""
    return {row[0].value: row for row in sheet.iter_rows(min_row=2)}


def test_figures_are_numbers_excel_can_sort_and_chart(tmp_path):
    """The key figures were text ("25.5% (12 events)"): an admin could not sort, sum or chart
    them. A count is an integer, a rate a fraction with a percent format and its count in the
    Note column; what is words (the verdict, the median duration) stays text."""
    from loganalyzer.engine import diagnose
    from loganalyzer.ingest import load
    from loganalyzer.report.model import Analysis, build_report

    sample = SAMPLES / "group-404-halt.json"
    dataset = load([sample])
    pages = {f.label: f for f in build_report(Analysis(dataset, diagnose(dataset.frames))).figures}
    workbook = load_workbook(write_workbook(tmp_path, str(sample)))
    summary = workbook["Summary"]
    assert [c.value for c in summary[1]] == ["Item", "Value", "Note"]
    figures = {item: row[1:] for item, row in _rows(summary).items()}
    for label in ("Events", "Users affected", "Cycles run", "Halted cycles"):
        value, _ = figures[label]
        assert value.data_type == "n" and value.value == int(pages[label].value.replace(",", ""))
        assert type(value.value) is int, label
    assert figures["Events"][0].value == 47 and figures["Cycles run"][0].value == 3
    for label in ("Success rate", "Failure rate", "Skip rate"):
        value, note = figures[label]
        assert (value.data_type, value.number_format) == ("n", "0.0%"), label
        assert f"{value.value:.1%}" == pages[label].value  # as the pages round it
        assert note.value == pages[label].note  # "12 events", in a cell of its own
    assert figures["Failure rate"][0].value == 12 / 47
    assert [c.value for c in figures["Cycle duration"]] == ["median 3.5 min", "longest 10.1 min"]
    assert [c.value for c in figures["Verdict"]] == ["failing", None]

    durations = [row[1] for row in workbook["Cycles"].iter_rows(min_row=2)]
    assert [c.number_format for c in durations] == ["[h]:mm:ss"] * 3
    findings = workbook["Findings"]
    header = [c.value for c in findings[1]]
    for row in findings.iter_rows(min_row=2):
        counts = [row[header.index(name)].value for name in ("Events", "Affected", "Cycles")]
        assert all(type(n) is int for n in counts), counts


def test_a_cycles_duration_is_a_time_span(tmp_path):
    """Stored as days (Excel's unit), shown as hours, minutes and seconds: 606 s is 0:10:06,
    the longest cycle of the sample ("longest 10.1 min" on the pages)."""
    from zipfile import ZipFile

    target = write_workbook(tmp_path, str(SAMPLES / "group-404-halt.json"))
    durations = [row[1].value for row in load_workbook(target)["Cycles"].iter_rows(min_row=2)]
    assert max(durations) == timedelta(seconds=606)  # openpyxl reads the format back as one
    sheet = ZipFile(target).read("xl/worksheets/sheet5.xml").decode()
    assert f'<v>{606 / 86400}</v>' in sheet  # a number in the file, not text


def test_the_comparisons_events_and_rates_are_numbers(tmp_path):
    target = write_workbook(tmp_path, str(SAMPLES / "weekly-two-periods.json"), "--since", "7d",
                            "--compare-previous")
    comparison = load_workbook(target)["Comparison"]
    assert [c.value for c in comparison[1]] == ["Change", "Rule", "Finding", "Before", "Now"]
    rows = {row[1].value: row for row in comparison.iter_rows(min_row=2) if not row[0].value}
    events = [c.value for c in rows["Events"][3:]]
    assert events == [207, 168]
    rate = rows["Failure rate"]
    assert [(c.data_type, c.number_format) for c in rate[3:]] == [("n", "0.0%")] * 2
    assert [c.value for c in rate[3:]] == [0.14, 0.179]  # 14.0% before, 17.9% now
    assert rate[2].value == "up 3.9 percentage points"  # of the rates shown, not 3.8
    assert "events" not in rows["Previous period"][2].value  # the count is in its own cell


def test_unexplained_warnings_get_their_sheet_when_there_are_some(tmp_path):
    x = Export()
    x.user("kari.nilsen@contoso.no")
    ignored_attribute_warning(x, "silje.bakken@contoso.no")
    export = tmp_path / "export.json"
    export.write_text(json.dumps(x.records))
    sheets = pd.read_excel(write_workbook(tmp_path, str(export)), sheet_name=None)
    at = SHEETS.index("Unexplained skips") + 1
    assert list(sheets) == [*SHEETS[:at], "Unexplained warnings", *SHEETS[at:]]
    [row] = sheets["Unexplained warnings"].to_dict("records")
    assert (row["Error code"], row["HTTP"], row["Warnings"], row["Objects"]) == (
        "SystemForCrossDomainIdentityManagementServiceIncompatible", 400, 1, 1)
    assert row["Sample reason"].endswith("is not supported and was ignored")


def test_a_warning_without_error_information_has_its_step_text_in_the_sheet(tmp_path):
    export = status_only_warnings_export(tmp_path / "export.json")
    sheets = pd.read_excel(write_workbook(tmp_path, str(export)), sheet_name=None)
    [row] = sheets["Unexplained warnings"].to_dict("records")
    assert (row["Error code"], row["Warnings"], row["Objects"]) == ("no error code", 2, 2)
    assert pd.isna(row["HTTP"])
    assert row["Sample reason"] == TITLE_LEFT
