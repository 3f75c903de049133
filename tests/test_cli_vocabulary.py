"""Every command speaks the same command line: the same option names and choices, a one-line
usage error with exit 2, `-o` whose suffix picks the format, and colour and progress only on a
terminal. The test walks the commands typer registers, so a new command is checked too."""

from __future__ import annotations

import errno
import json
import os
import pty
import re
import subprocess
import sys
from enum import EnumType
from pathlib import Path

import pytest
from conftest import ROOT, SAMPLES
from typer.main import get_command
from typer.testing import CliRunner

from loganalyzer import __version__
from loganalyzer.cli import app

SAMPLE = str(SAMPLES / "group-404-halt.json")
ANSI = re.compile(r"\x1b\[")


def _walk(command, path=()):
    subcommands = getattr(command, "commands", None)
    if subcommands is None:
        yield " ".join(path), command
        return
    for name, sub in subcommands.items():
        yield from _walk(sub, (*path, name))


COMMANDS = dict(_walk(get_command(app)))
# commands that print a result, with the formats each writes and an argument list to run it
RESULTS = {
    "summary": ({"terminal", "json"}, [SAMPLE]),
    "diagnose": ({"terminal", "md", "json"}, [SAMPLE]),
    "report": ({"html", "md", "json", "xlsx"}, [SAMPLE]),
    "why": ({"terminal", "md", "json"}, ["anna.berg@northwind.no", SAMPLE]),
    "rules list": ({"terminal", "json"}, []),
}
SUFFIX = {"terminal": "txt", "md": "md", "json": "json", "html": "html", "xlsx": "xlsx"}


def run(*args: str):
    return CliRunner().invoke(app, list(args))


def options(name: str) -> dict[str, object]:
    """Each option's first long flag -> its click parameter."""
    found = {}
    for param in COMMANDS[name].params:
        longs = [o for o in param.opts if o.startswith("--")]
        if longs:
            found[longs[0]] = param
    return found


def choices(param) -> set[str]:
    """The values of an option typed as an Enum (typer lists them in --help and checks them)."""
    kind = param.type_descriptor.annotation
    return {member.value for member in kind} if isinstance(kind, type) else set()


def test_the_walk_finds_every_command():
    assert set(RESULTS) <= set(COMMANDS)
    assert {"ingest", "fetch", "fetch-job", "rules show"} <= set(COMMANDS)


@pytest.mark.parametrize("name", sorted(RESULTS))
def test_result_commands_share_format_and_output(name):
    formats, _ = RESULTS[name]
    found = options(name)
    assert {"--format", "--output", "--quiet"} <= set(found)
    assert choices(found["--format"]) == formats
    assert "-o" in found["--output"].opts and found["--output"].multiple
    shown = " ".join(run(*name.split(), "--help").stdout.split())
    listed = re.search(r"--format <([a-z|]+)>", shown)
    assert listed and set(listed.group(1).split("|")) == formats


def test_shared_options_have_one_meaning_everywhere():
    def described(flag: str) -> dict[str, str]:
        return {
            name: options(name)[flag].help for name in COMMANDS if flag in options(name)
        }

    for flag in ("--since", "--from", "--to", "--fail-on", "--ignore", "--baseline",
                 "--write-baseline", "--quiet", "--job-status", "--config"):
        helps = described(flag)
        assert helps, flag
        if flag in ("--since", "--to"):  # summary reads files only: no Graph, no "now"
            files_only = helps.pop("summary")
            assert "Graph" not in files_only and "now" not in files_only
            # fetch reads no events: it counts back from now, never from the newest event
            graph_only = helps.pop("fetch")
            assert "now" in graph_only and "newest event" not in graph_only
        assert len(set(helps.values())) == 1, f"{flag} is described differently: {helps}"
    assert set(described("--since")) >= {"diagnose", "report", "why", "fetch"}
    assert "Graph keeps 30 days" in described("--since")["fetch"]
    assert set(described("--fail-on")) >= {"diagnose", "report", "check"}
    # --graph reads logs or configuration from Graph instead of files: a flag everywhere
    assert all(options(name)["--graph"].is_flag for name in COMMANDS if "--graph" in options(name))
    assert set(described("--ignore")) == {"diagnose", "report"}
    severities = {name: frozenset(choices(options(name)["--fail-on"]))
                  for name in described("--fail-on")}
    assert len(set(severities.values())) == 1 and severities["diagnose"]


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_help_names_arguments_as_the_docs_do_not_by_their_python_types(name):
    shown = run(*name.split(), "--help").stdout
    assert not re.search(r"[{}]|<list\[|<str>|<path>", shown.split("Options:")[0]), shown
    for flag in ("--since", "--from", "--to"):
        assert not re.search(flag + r" <", shown), shown
    usage = {"why": "why [OPTIONS] USER INPUT...", "summary": "summary [OPTIONS] INPUT...",
             "rules show": "show [OPTIONS] RULE"}
    assert usage.get(name, "") in " ".join(shown.split())


@pytest.mark.parametrize("name", sorted(set(COMMANDS) - {"version", "rules show"}))
def test_every_command_takes_quiet(name):
    assert "--quiet" in options(name)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_a_usage_error_is_one_line_on_stderr_with_exit_2(name):
    result = run(*name.split(), "--no-such-option")
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: No such option: --no-such-option")
    assert "╭" not in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("name", ["summary", "diagnose", "report"])
def test_a_bad_format_is_refused_the_same_way_everywhere(name):
    result = run(*name.split(), SAMPLE, "--format", "xyz", "-q")
    assert result.exit_code == 2
    assert re.fullmatch(
        r"error: Invalid value for '--format': 'xyz' is not one of .* \(see loganalyzer "
        + name + r" --help\)\n",
        result.stderr,
    )


def test_choices_ignore_case_everywhere():
    typed = {(name, flag): param.type_descriptor.parameter_info.case_sensitive
             for name in COMMANDS for flag, param in options(name).items()
             if isinstance(param.type_descriptor.annotation, EnumType)}
    assert {("diagnose", "--format"), ("report", "--fail-on"), ("fetch", "--status")} <= set(typed)
    assert [option for option, sensitive in typed.items() if sensitive] == []
    result = run("diagnose", SAMPLE, "--fail-on", "HIGH", "--format", "MD", "-q")
    assert result.exit_code == 1 and result.stdout.startswith("# Provisioning diagnosis")


@pytest.mark.parametrize("name", sorted(RESULTS))
def test_the_suffix_picks_the_format_and_several_outputs_come_from_one_run(name, tmp_path):
    formats, args = RESULTS[name]
    paths = [tmp_path / f"out.{SUFFIX[f]}" for f in sorted(formats)]
    result = run(*name.split(), *args, *(a for p in paths for a in ("-o", str(p))))
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert result.stderr.splitlines()[-len(paths):] == [f"wrote {p}" for p in paths]
    for path in paths:
        data = path.read_bytes()
        if path.suffix == ".json":
            json.loads(data)
        elif path.suffix == ".html":
            assert data.startswith(b"<!DOCTYPE html>")
        elif path.suffix == ".xlsx":
            assert data.startswith(b"PK")  # a zip, read back in test_report_xlsx
        elif path.suffix == ".md":
            assert data.startswith(b"#")
        else:
            assert not ANSI.search(data.decode())


@pytest.mark.parametrize("name", sorted(RESULTS))
def test_suffix_errors_are_one_line(name, tmp_path):
    formats, args = RESULTS[name]
    other = next(f for f in SUFFIX if f not in formats)
    unknown = run(*name.split(), *args, "-o", str(tmp_path / "out.pdf"), "-q")
    assert unknown.exit_code == 2 and "cannot tell the format from the suffix" in unknown.stderr
    refused = run(*name.split(), *args, "-o", str(tmp_path / f"out.{SUFFIX[other]}"), "-q")
    assert refused.exit_code == 2 and f"not {other}" in refused.stderr
    first = sorted(formats)[0]
    second = sorted(formats)[1]
    clash = run(*name.split(), *args, "--format", first, "-o",
                str(tmp_path / f"out.{SUFFIX[second]}"), "-q")
    assert clash.exit_code == 2
    assert f"the suffix says {second} but --format is {first}" in clash.stderr
    for result in (unknown, refused, clash):
        assert len(result.stderr.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", sorted(RESULTS))
def test_an_output_folder_that_does_not_exist_stops_the_run_before_any_file_is_written(
        name, tmp_path):
    formats, args = RESULTS[name]
    first, second = sorted(formats)[:2]
    written = tmp_path / f"out.{SUFFIX[first]}"
    missing = tmp_path / "no-such-folder" / f"out.{SUFFIX[second]}"
    result = run(*name.split(), *args, "-o", str(written), "-o", str(missing))
    assert result.exit_code == 2
    assert result.stderr.strip() == (f"error: -o {missing}: cannot write: the folder "
                                     f"{missing.parent} does not exist")
    assert list(tmp_path.iterdir()) == []  # not the first file either: exit 2 wrote nothing


def test_a_report_that_cannot_be_written_leaves_last_weeks_in_place(tmp_path, monkeypatch):
    """The disk fills while the second output is written, after the first was staged: both
    files stay as they were, and no temporary file is left."""
    from loganalyzer import atomic_write

    last_week = tmp_path / "health.html"
    last_week.write_text("<!DOCTYPE html>last week's report", encoding="utf-8")
    staged = atomic_write._staged
    calls = []

    def disk_full_on_the_second(path, content):
        calls.append(path)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        return staged(path, content)

    monkeypatch.setattr(atomic_write, "_staged", disk_full_on_the_second)
    result = run("report", SAMPLE, "-o", str(last_week), "-o", str(tmp_path / "ticket.md"))
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines()[-1] == (
        f"error: {tmp_path / 'ticket.md'}: cannot write (No space left on device)")
    assert last_week.read_text(encoding="utf-8") == "<!DOCTYPE html>last week's report"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["health.html"]


def test_a_report_terminated_while_written_leaves_no_temporary_file(tmp_path, monkeypatch):
    """The scheduler's timeout (SIGTERM, exit 143) arrives while the workbook is staged
    beside last week's: last week's files stay, and no hidden ``.weekly.xlsx.….tmp`` is left
    in the reports folder, as after the disk filled. The temporary file being written was
    left behind, one more each week the job ran into its timeout."""
    import shutil
    import signal

    from loganalyzer import atomic_write
    from loganalyzer.cli.common import _terminated

    html, xlsx = tmp_path / "weekly.html", tmp_path / "weekly.xlsx"
    for path in (html, xlsx):
        path.write_text("last week", encoding="utf-8")
    copymode = shutil.copymode

    def timeout_during_the_workbook(source, target):  # last week's mode onto the new file
        if Path(source).name == xlsx.name:
            _terminated(signal.SIGTERM, None)
        copymode(source, target)

    monkeypatch.setattr(atomic_write.shutil, "copymode", timeout_during_the_workbook)
    result = run("report", SAMPLE, "-o", str(html), "-o", str(xlsx))
    assert result.exit_code == 128 + signal.SIGTERM
    assert [html.read_text(encoding="utf-8"), xlsx.read_text(encoding="utf-8")] == [
        "last week", "last week"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["weekly.html", "weekly.xlsx"]


def test_a_file_open_in_another_program_says_which_outputs_are_new(tmp_path, monkeypatch):
    """On Windows a workbook open in Excel cannot be replaced: its rename fails after the
    HTML's, and the JSON after it is not written. The folder then holds this week's HTML
    beside last week's workbook and JSON: the error says which is which."""
    html, xlsx, findings = (tmp_path / n for n in ("weekly.html", "weekly.xlsx", "f.json"))
    for path in (html, xlsx, findings):
        path.write_text("last week", encoding="utf-8")
    replace = os.replace

    def open_in_excel(source, target):
        if Path(target).name == xlsx.name:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(target))
        replace(source, target)

    monkeypatch.setattr(os, "replace", open_in_excel)
    result = run("report", SAMPLE, "-o", str(html), "-o", str(xlsx), "-o", str(findings))
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines()[-1] == (
        f"error: {xlsx}: cannot write (Permission denied); already written: {html}; "
        f"not written: {findings}")
    assert html.read_text(encoding="utf-8") != "last week"
    assert findings.read_text(encoding="utf-8") == "last week"


def test_a_report_written_through_a_link_replaces_the_linked_file(tmp_path):
    reports = tmp_path / "published"
    reports.mkdir()
    (reports / "week.md").write_text("old", encoding="utf-8")
    link = tmp_path / "latest.md"
    link.symlink_to(reports / "week.md")
    assert run("diagnose", SAMPLE, "-q", "-o", str(link)).exit_code == 0
    assert link.is_symlink()
    assert (reports / "week.md").read_text(encoding="utf-8").startswith("#")
    assert sorted(p.name for p in reports.iterdir()) == ["week.md"]


def test_a_replaced_report_keeps_its_permissions_and_a_new_one_gets_the_usual(tmp_path):
    kept = tmp_path / "kept.md"
    kept.write_text("old", encoding="utf-8")
    kept.chmod(0o640)
    new = tmp_path / "new.md"
    umask = os.umask(0o022)
    try:
        result = run("diagnose", SAMPLE, "-q", "-o", str(kept), "-o", str(new))
    finally:
        os.umask(umask)
    assert result.exit_code == 0, result.output
    assert kept.read_text(encoding="utf-8").startswith("#")
    assert kept.stat().st_mode & 0o777 == 0o640
    assert new.stat().st_mode & 0o777 == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept.md", "new.md"]


def test_quiet_silences_wrote_and_progress(tmp_path):
    result = run("diagnose", SAMPLE, "-o", str(tmp_path / "d.json"), "-q")
    assert result.exit_code == 0 and result.stderr == "" and result.stdout == ""


def test_version():
    assert run("--version").stdout.strip() == __version__


def _in_terminal(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    """Run the CLI with stdout and stderr on a pseudo-terminal; what the terminal showed."""
    main, child = pty.openpty()
    environment = {**os.environ, "COLUMNS": "120", "TERM": "xterm-256color", **(env or {})}
    environment.pop("NO_COLOR", None)
    environment.update(env or {})
    process = subprocess.Popen(
        [sys.executable, "-m", "loganalyzer", *args], stdout=child, stderr=child,
        stdin=subprocess.DEVNULL, env=environment, cwd=ROOT,
    )
    os.close(child)
    chunks = []
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(main)
    return process.wait(timeout=60), b"".join(chunks).decode("utf-8", "replace")


def test_a_terminal_gets_colour_by_severity_and_the_width_of_the_terminal():
    code, shown = _in_terminal("diagnose", SAMPLE, "-q")
    assert code == 0
    assert ANSI.search(shown)
    assert "\x1b[1;37;41m[CRITICAL]" in shown  # the severity tag in its colour
    widths = {len(ANSI.sub("", re.sub(r"\x1b\[[0-9;]*m", "", line))) for line in
              shown.splitlines()}
    assert 100 < max(widths) <= 120  # wrapped at the terminal's 120 columns, not 100


def test_no_color_and_pipes_get_plain_text():
    code, shown = _in_terminal("diagnose", SAMPLE, "-q", env={"NO_COLOR": "1"})
    assert code == 0 and not re.search(r"\x1b\[[0-9;]*m", shown)
    piped = run("diagnose", SAMPLE)
    assert not ANSI.search(piped.stdout) and not ANSI.search(piped.stderr)
    assert "\r" not in piped.stderr  # no progress line redrawn on a pipe
    assert max(len(line) for line in piped.stdout.splitlines()) <= 100


def test_html_never_goes_to_a_terminal(tmp_path):
    code, shown = _in_terminal("report", SAMPLE, "-q")
    assert code == 2
    assert "html is not shown in a terminal: write it with -o FILE" in shown
    assert "<html" not in shown
    piped = run("report", SAMPLE, "-q")  # to a pipe or a file it is fine
    assert piped.exit_code == 0 and piped.stdout.startswith("<!DOCTYPE html>")


def test_a_progress_bar_on_a_terminal_is_gone_at_the_end(tmp_path):
    code, shown = _in_terminal("ingest", SAMPLE, "-o", str(tmp_path / "store"))
    assert code == 0
    assert f"wrote {tmp_path / 'store'}" in shown
    assert not re.search(r"read \d+ events.*wrote", shown.split("\n")[-2] if shown else "")


def test_shell_completion_is_offered():
    shown = run("--help").stdout
    assert "--install-completion" in shown and "--show-completion" in shown


def test_the_entry_point_is_the_same_app():
    assert Path(ROOT / "loganalyzer" / "__main__.py").read_text().count("app()") == 1


def test_why_on_a_terminal_colours_its_verdict_and_severities():
    code, shown = _in_terminal("why", "ragnhild.sunde@northwind.no",
                               str(SAMPLES / "pattern-04-bad-token.json"), "-q")
    assert code == 0
    assert "Verdict: \x1b[1;31mFAILING\x1b[0m" in shown
    assert "\x1b[1;37;41m[critical]\x1b[0m FC004" in shown


@pytest.mark.parametrize("name", ["summary", "diagnose", "report"])
def test_since_selects_the_same_period_of_a_file_everywhere(name, tmp_path):
    weekly = str(SAMPLES / "weekly-two-periods.json")
    out = tmp_path / "out.json"
    result = run(name, weekly, "--since", "7d", "-o", str(out), "-q")
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    summary = doc.get("summary", doc)
    assert summary["events"] == 168  # the last 7 days before the newest event, of 375


@pytest.mark.parametrize("name", sorted(n for n in COMMANDS if "--format" in options(n)))
def test_any_command_with_a_format_uses_the_output_group(name):
    found = options(name)
    assert choices(found["--format"]), f"{name}: --format is not a typed choice"
    assert "--output" in found and found["--output"].multiple, f"{name}: no repeatable -o"


def test_the_library_behind_the_commands_does_not_load_the_cli():
    """The analysis modules are used without typer (a notebook, a scheduled script): only
    ``loganalyzer.cli`` declares options."""
    library = ("loganalyzer.why.query", "loganalyzer.job_status_file", "loganalyzer.engine",
               "loganalyzer.report.model", "loganalyzer.config.with_logs")
    loaded = subprocess.run(
        [sys.executable, "-c", f"import sys; import {', '.join(library)}; "
         "print(sorted(m for m in sys.modules if m.split('.')[0] == 'typer' "
         "or m.startswith('loganalyzer.cli')))"],
        capture_output=True, text=True, cwd=ROOT, check=True,
    )
    assert loaded.stdout.strip() == "[]"


def test_start_up_does_not_load_what_only_some_outputs_need():
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, loganalyzer.cli; "
         "print(sorted(m for m in ('pandas', 'openpyxl', 'matplotlib', 'msgraph') "
         "if m in sys.modules))"],
        capture_output=True, text=True, cwd=ROOT, check=True,
    )
    assert loaded.stdout.strip() == "[]"
