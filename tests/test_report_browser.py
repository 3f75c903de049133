"""The HTML report as a person sees it: opened from disk in headless Chromium, offline.

Chromium is driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``: JSON
messages separated by NUL bytes on file descriptors 3 and 4), so the test needs no port, no
websocket library and no browser download. It asserts that the page loads with no console error,
requests nothing but the file itself, shows every section, and prints; it keeps a full-page
screenshot in ``tests/artifacts/``. Without Debian's chromium it skips on a developer machine and
fails in CI (``CI`` set), where ``.ci/system-deps`` installs it.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import SAMPLES
from report_support import hostile_export
from typer.testing import CliRunner

from loganalyzer.cli import app

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
SECTIONS = ["verdict", "figures", "findings", "charts", "cycles", "unexplained", "rules"]
TIMEOUT = 60.0


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    reason = f"{CHROMIUM} not found (Debian package 'chromium'; `bash .ci/system-deps` installs it)"
    if os.environ.get("CI"):
        pytest.fail(f"{reason}: the browser test must run in CI")
    pytest.skip(reason)


def _high_pipe() -> tuple[int, int]:
    """A pipe on descriptors >= 10, so moving ends to 3 and 4 in the child clobbers neither."""
    ends = []
    for fd in os.pipe():
        ends.append(fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10))
        os.close(fd)
    return ends[0], ends[1]


class DevTools:
    """A minimal DevTools-protocol client over Chromium's debugging pipe."""

    def __init__(self, profile: Path) -> None:
        to_browser, self._writer = _high_pipe()
        self._reader, from_browser = _high_pipe()

        def wire_pipe() -> None:  # runs in the child between fork and exec
            os.dup2(to_browser, 3)
            os.dup2(from_browser, 4)

        self.process = subprocess.Popen(
            [
                str(CHROMIUM),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-default-apps",
                "--disable-extensions",
                "--no-first-run",
                "--no-default-browser-check",
                "--hide-scrollbars",
                "--remote-debugging-pipe",
                f"--user-data-dir={profile}",
                "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            close_fds=False,
            preexec_fn=wire_pipe,  # noqa: PLW1509  (single-threaded test process)
        )
        os.close(to_browser)
        os.close(from_browser)
        self._messages: queue.Queue[dict[str, Any]] = queue.Queue()
        self.events: list[dict[str, Any]] = []
        self._next_id = 0
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        buffer = b""
        while chunk := os.read(self._reader, 1 << 16):
            buffer += chunk
            *messages, buffer = buffer.split(b"\0")
            for message in messages:
                self._messages.put(json.loads(message))

    def send(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        """Send a command and wait for its answer, keeping every event that arrives meanwhile."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self._writer, json.dumps(message).encode() + b"\0")
        while True:
            answer = self._messages.get(timeout=TIMEOUT)
            if answer.get("id") == self._next_id:
                if "error" in answer:
                    raise AssertionError(f"{method} failed: {answer['error']}")
                return answer.get("result", {})
            self.events.append(answer)

    def wait_for(self, method: str) -> dict[str, Any]:
        for event in self.events:
            if event.get("method") == method:
                return event
        while True:
            event = self._messages.get(timeout=TIMEOUT)
            self.events.append(event)
            if event.get("method") == method:
                return event

    def drain(self, seconds: float) -> None:
        """Collect what arrives in the next moments (late console messages, requests)."""
        try:
            while True:
                self.events.append(self._messages.get(timeout=seconds))
        except queue.Empty:
            pass

    def close(self) -> None:
        with contextlib.suppress(AssertionError, OSError, queue.Empty):
            self.send("Browser.close")
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._writer)
        os.close(self._reader)


def _render(path: Path, *args: str | Path) -> Path:
    result = CliRunner().invoke(app, ["report", *map(str, args), "-o", str(path), "-q"])
    assert result.exit_code == 0, result.output
    return path


@pytest.fixture(scope="module")
def browser() -> Iterator[DevTools]:
    _require_chromium()
    with tempfile.TemporaryDirectory(prefix="loganalyzer-chromium-") as profile:
        devtools = DevTools(Path(profile))
        try:
            yield devtools
        finally:
            devtools.close()


def _visit(browser: DevTools, html: Path, screenshot: str) -> dict[str, Any]:
    """Open the file in a new tab; return what the page did and showed, keep a screenshot."""
    url = html.resolve().as_uri()
    target = browser.send("Target.createTarget", url="about:blank")["targetId"]
    session = browser.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
    for domain in ("Page", "Runtime", "Log", "Network"):
        browser.send(f"{domain}.enable", session)
    browser.send(
        "Emulation.setDeviceMetricsOverride", session,
        width=1280, height=900, deviceScaleFactor=1, mobile=False,
    )
    browser.events.clear()
    browser.send("Page.navigate", session, url=url)
    browser.wait_for("Page.loadEventFired")
    browser.drain(0.5)
    shown = browser.send(
        "Runtime.evaluate", session, returnByValue=True,
        expression="""({
            title: document.title,
            sections: [...document.querySelectorAll('section[id]')].map(s => s.id),
            headings: [...document.querySelectorAll('h2')].map(h => h.textContent),
            charts: document.querySelectorAll('figure.chart svg').length,
            chartWidths: [...document.querySelectorAll('figure.chart svg')]
                .map(s => s.getBoundingClientRect().width),
            scripts: document.scripts.length,
            images: document.images.length,
            findings: document.querySelectorAll('article.finding').length,
            text: document.body.innerText,
        })""",
    )["result"]["value"]
    size = browser.send("Page.getLayoutMetrics", session)["cssContentSize"]
    png = browser.send(
        "Page.captureScreenshot", session, format="png", captureBeyondViewport=True,
        clip={"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1},
    )["data"]
    pdf = browser.send("Page.printToPDF", session, printBackground=True)["data"]
    events = [e for e in browser.events if e.get("sessionId") == session]
    browser.send("Target.closeTarget", targetId=target)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / screenshot).write_bytes(base64.b64decode(png))
    return {"url": url, "shown": shown, "events": events, "pdf": base64.b64decode(pdf),
            "screenshot": ARTIFACTS / screenshot}


@pytest.fixture(scope="module")
def page(browser: DevTools, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The weekly report of the two-week sample with a quarantined job status: every part."""
    html = _render(
        tmp_path_factory.mktemp("browser") / "weekly report.html",
        SAMPLES / "weekly-two-periods.json", "--since", "7d", "--compare-previous",
        "--job-status", SAMPLES / "job-status" / "pattern-16-quarantine-escrow.job.json",
        "--title", "Weekly provisioning health",
    )
    return _visit(browser, html, "report-weekly.png")


@pytest.fixture(scope="module")
def hostile_page(browser: DevTools, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A report of an export whose names and reasons carry script and image tags."""
    folder = tmp_path_factory.mktemp("hostile")
    html = _render(folder / "hostile.html", hostile_export(folder / "hostile.json"))
    return _visit(browser, html, "report-hostile.png")


def _requests(visit: dict[str, Any]) -> list[str]:
    return [
        e["params"]["request"]["url"]
        for e in visit["events"]
        if e.get("method") == "Network.requestWillBeSent"
    ]


def _problems(events: list[dict[str, Any]]) -> list[str]:
    problems = []
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params["type"] in ("error", "warning"):
            problems.append(f"console.{params['type']}: {params['args']}")
        elif method == "Runtime.exceptionThrown":
            problems.append(f"exception: {params['exceptionDetails']}")
        elif method == "Log.entryAdded" and params["entry"]["level"] in ("error", "warning"):
            problems.append(f"log {params['entry']['level']}: {params['entry']['text']}")
    return problems


def test_loads_without_console_errors(page: dict[str, Any]) -> None:
    assert _problems(page["events"]) == []


def test_requests_nothing_but_the_file_itself(page: dict[str, Any]) -> None:
    assert _requests(page) == [page["url"]]
    assert page["shown"]["scripts"] == 0


def test_hostile_values_stay_text_in_the_browser(hostile_page: dict[str, Any]) -> None:
    """No script runs, no image loads, no dialog opens: the tags are shown, not parsed."""
    assert _problems(hostile_page["events"]) == []
    assert _requests(hostile_page) == [hostile_page["url"]]
    assert not [e for e in hostile_page["events"]
                if e.get("method") == "Page.javascriptDialogOpening"]
    shown = hostile_page["shown"]
    assert shown["scripts"] == 0 and shown["images"] == 0
    assert "<script>alert(1)</script>" in shown["text"]
    assert "<img src=x onerror=alert(1)>" in shown["text"]
    assert shown["title"] == "Provisioning report: Flowcase <b>SCIM</b> | {{7*7}}"


def test_every_section_is_shown(page: dict[str, Any]) -> None:
    shown = page["shown"]
    assert shown["title"] == "Weekly provisioning health"
    assert set(SECTIONS + ["comparison"]) <= set(shown["sections"])
    assert "Health: failing" in shown["headings"]
    assert "Compared with the previous period" in shown["headings"]
    assert shown["findings"] >= 1
    assert "Quarantine" in shown["text"] and "in quarantine" in shown["text"]
    # the charts are drawn, and scale to the page instead of overflowing it
    assert shown["charts"] == 3
    assert all(0 < width <= 1100 for width in shown["chartWidths"])


def test_prints_and_keeps_a_screenshot(page: dict[str, Any]) -> None:
    assert page["pdf"].startswith(b"%PDF")
    assert page["screenshot"].stat().st_size > 10_000


def test_missing_chromium_skips_on_a_laptop_but_fails_in_ci(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(sys.modules[__name__], "CHROMIUM", tmp_path / "no-chromium")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no-chromium not found"):
        _require_chromium()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="must run in CI"):
        _require_chromium()
