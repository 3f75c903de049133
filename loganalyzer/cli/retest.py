"""`retest`: Provision on demand for users after their cause was fixed, and diagnose the result.

It writes to Flowcase, so it shows what it will do and asks first (``--yes`` skips the
question; without a terminal ``--yes`` is required). The work is in ``graph.retest``.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from typing import Annotated

import typer

from loganalyzer.cli.check import GraphOnly
from loganalyzer.cli.common import Quiet, app, err, fail_input
from loganalyzer.cli.fetch import AppChoice, SignIn
from loganalyzer.cli.options import with_options
from loganalyzer.cli.outputs import Format, output_options, targets, write
from loganalyzer.problems import InputError
from loganalyzer.wording import plural

RetestOutput = output_options("retest", (Format.terminal, Format.json), Format.terminal)


def _interactive() -> bool:
    """Someone at a terminal who can answer the question."""
    return sys.stdin.isatty()


def _render(results) -> str:
    lines = []
    for r in results:
        error = f" — {r.error_code}: {r.error_message}" if r.error_code or r.error_message else ""
        lines.append(f"{r.subject}: {r.result.upper()}{error}")
        for name, status, description in r.steps:
            lines.append(f"  {status:8} {name}: {description}"[:200])
        for f in r.findings:
            lines.append(f"  [{f.severity.upper()}] {f.rule_id} {f.title} — guide step "
                         f"{', '.join(f.guide_steps) or '-'}")
            lines.append(f"    Fix: {f.remediation}")
        if r.failed and not r.findings:
            lines.append("  No rule explains this failure; read the steps above.")
        lines.append("")
    return "\n".join(lines).rstrip()


@app.command("retest")
@with_options(choice=AppChoice, sign_in=SignIn, out=RetestOutput)
def retest_command(
    users: Annotated[list[str], typer.Argument(
        metavar="USER...", help="UPNs or object ids of the users to provision again.",
        show_default=False)],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask: provision now.")] = False,
    _graph: GraphOnly = True,
    *,
    out: RetestOutput,
    choice: AppChoice,
    sign_in: SignIn,
    quiet: Quiet = False,
) -> None:
    """Re-test users after a fix with Provision on demand (guide step 8a); WRITES TO FLOWCASE.

    One Graph call per user, paced to Graph's limit (5 per 10 s). Needs
    Synchronization.ReadWrite.All, and User.Read.All to find the users. Exit codes: 0 every user
    provisioned or skipped, 1 a user failed, 2 bad options, refused access or not confirmed,
    3 Graph unavailable.
    """
    from loganalyzer.graph.client import GraphError
    from loganalyzer.graph.retest import plan_retest, run_retest

    connection = sign_in.connection()
    try:
        found = targets(out)
        plan = plan_retest(connection, choice.target(), users)
        names = ", ".join(s.display for s in plan.subjects)
        err(f"Provision on demand for {plural(len(plan.subjects), 'user')} of job {plan.job_id}: "
            f"{names}. This creates or updates them in Flowcase now.")
        if not yes:
            if not _interactive():
                raise InputError("retest", "writes to Flowcase; pass --yes to confirm when not "
                                 "at a terminal")
            if not typer.confirm("Continue?", default=False):
                err("nothing provisioned")
                raise typer.Exit(2)
        results = run_retest(connection, plan)
    except InputError as exc:
        raise fail_input(exc) from None
    except GraphError as exc:
        err(f"error: {exc}")
        raise typer.Exit(exc.exit_code) from None
    try:
        write(found, {
            Format.json: lambda: json.dumps([asdict(r) | {"failed": r.failed} for r in results],
                                            indent=2, default=str),
            Format.terminal: lambda: _render(results),
        }, quiet)
    except InputError as exc:
        raise fail_input(exc) from None
    if any(r.failed for r in results):
        raise typer.Exit(1)
