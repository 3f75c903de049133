"""A scheduled run killed by its timeout (SIGTERM) cleans up as an interrupted one does."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX signals and FIFOs")


def _wait_for(condition, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the ingest never started writing"
        time.sleep(0.02)


def test_a_terminated_ingest_leaves_no_half_written_store(tmp_path: Path) -> None:
    # a FIFO nobody writes to holds the ingest inside its read, after it made its hidden folder
    export = tmp_path / "export.json"
    os.mkfifo(export)
    run = subprocess.Popen(
        [sys.executable, "-m", "loganalyzer", "ingest", str(export), "-o", str(tmp_path / "store")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    _wait_for(lambda: any(p.name.startswith(".store.partial-") for p in tmp_path.iterdir()))
    run.send_signal(signal.SIGTERM)
    _, stderr = run.communicate(timeout=60)
    assert run.returncode == 128 + signal.SIGTERM
    assert stderr.strip().splitlines()[-1] == "terminated"
    assert [p.name for p in tmp_path.iterdir()] == ["export.json"]


def test_a_run_in_process_leaves_the_caller_s_sigterm_handler_as_it_was() -> None:
    """The handler is the command's while it runs: a process that runs it in process (a test
    suite under CliRunner) must still stop on SIGTERM afterwards, not fail one test and go on."""
    from typer.testing import CliRunner

    from loganalyzer.cli import app

    before = signal.getsignal(signal.SIGTERM)
    assert CliRunner().invoke(app, ["--version"]).exit_code == 0
    assert signal.getsignal(signal.SIGTERM) is before


def test_a_command_run_in_another_thread_does_not_touch_signals() -> None:
    """Only the main thread may set a signal handler: a command run from a worker thread
    (an application embedding the CLI) runs as before instead of failing on the handler."""
    from typer.testing import CliRunner

    from loganalyzer.cli import app

    codes: list[int] = []
    worker = threading.Thread(target=lambda: codes.append(
        CliRunner().invoke(app, ["--version"]).exit_code))
    worker.start()
    worker.join(60)
    assert codes == [0]
