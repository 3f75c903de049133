"""The Entra admin center CSV download: three files joined on change ID into Graph records.

The portal writes ProvisioningLogs (one row per event), ProvisioningLogs_ProvisioningSteps (one
row per step) and ProvisioningLogs_ModifiedProperties (one row per attribute); only the change
ID ties them together. Steps and properties are read first and grouped by change ID, then each
event row picks up its own. Rows that find no event are reported, never dropped silently, and
a missing steps or properties file is said out loud because it hides skip reasons, failed
steps and the attributes sent to Flowcase.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from loganalyzer.problems import InputError, Problem
from loganalyzer.readers.csv_headers import CsvKind, HeaderMap
from loganalyzer.readers.csv_table import CsvRow, CsvTable
from loganalyzer.readers.records import raw_record

_NO_VALUE = {"none", "null"}  # how an empty error code/reason may be written
_ERROR_PATHS = {"provisioningStatusInfo.errorInformation.errorCode",
                "provisioningStatusInfo.errorInformation.reason"}


@dataclass(frozen=True)
class PortalFile:
    """One of the three portal files, with where its known columns are."""

    table: CsvTable
    kind: CsvKind
    columns: HeaderMap

    @property
    def name(self) -> str:
        return self.table.source.name

    def cell(self, row: CsvRow, field: str) -> str | None:
        index = self.columns.positions.get(field)
        if index is None:
            return None
        value = row.cells[index].strip()
        return value or None


@dataclass
class _Child:
    """A step or property row waiting for its event."""

    file: str
    line: int
    change_id: str
    event_id: str | None
    order: int | None
    value: dict[str, Any]
    used: bool = False


@dataclass
class _Children:
    """Step (or property) rows grouped by change ID."""

    by_change: dict[str, list[_Child]] = field(default_factory=dict)

    def add(self, child: _Child) -> None:
        self.by_change.setdefault(child.change_id, []).append(child)

    def take(self, change_id: str | None, event_id: str) -> list[dict[str, Any]]:
        """The rows of one event, in step order; rows naming another event id stay put.

        When two files hold rows for the same change (the .zip and its extracted files, or
        overlapping downloads) they are copies: the first file's rows are used.
        """
        rows = self.by_change.get(change_id or "", [])
        rows = [r for r in rows if r.event_id in (None, event_id)]
        for row in rows:
            row.used = True
        rows = [r for r in rows if r.file == rows[0].file]
        if rows and all(r.order is not None for r in rows):
            rows = sorted(rows, key=lambda r: r.order or 0)
        return [r.value for r in rows]

    def orphans(self) -> dict[str, list[_Child]]:
        unused: dict[str, list[_Child]] = {}
        for rows in self.by_change.values():
            for row in rows:
                if not row.used:
                    unused.setdefault(row.file, []).append(row)
        return unused


def _order(text: str | None) -> int | None:
    try:
        return int(float(text)) if text else None
    except ValueError:
        return None


_PAIR_SEPARATOR = re.compile(r"\s*(?:=|:\s)\s*")


def parse_details(text: str | None) -> dict[str, str] | list[Any] | None:
    """A step's ``Details`` cell: JSON (object or key/value list) or ``key=value`` text.

    Pairs are split on new lines, else on ``;``, else on ``,``; a piece without ``=`` (or
    ``: ``) continues the previous value, so ``Doe, John`` survives. None when unreadable.
    """
    if not text or not text.strip():
        return {}
    text = text.strip()
    if text[0] in "{[":
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError:
            parsed = None
        if isinstance(parsed, dict | list):
            return parsed
    separator = next((s for s in ("\n", ";", ",") if s in text), None)
    pieces = text.splitlines() if separator == "\n" else text.split(separator or "\n")
    pairs: dict[str, str] = {}
    last: str | None = None
    for piece in pieces:
        parts = _PAIR_SEPARATOR.split(piece.strip(), maxsplit=1)
        if len(parts) == 2 and parts[0]:
            last = parts[0]
            pairs[last] = parts[1]
        elif last is not None:
            pairs[last] += (separator or "") + piece
        elif piece.strip():
            return None
    return pairs or None


def _set_path(target: dict[str, Any], path: str, value: str) -> None:
    *parents, leaf = path.split(".")
    for part in parents:
        target = target.setdefault(part, {})
    target[leaf] = value


def _event(file: PortalFile, row: CsvRow) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for path, index in file.columns.positions.items():
        value = row.cells[index].strip()
        if value and not (path in _ERROR_PATHS and value.casefold() in _NO_VALUE):
            _set_path(obj, path, value)
    return obj


class PortalReader:
    """Join the portal files of one call; ``notes`` is filled while ``read`` runs."""

    def __init__(self, files: list[PortalFile], notes: list[str]):
        self.mains = [f for f in files if f.kind is CsvKind.MAIN]
        self.steps = [f for f in files if f.kind is CsvKind.STEPS]
        self.props = [f for f in files if f.kind is CsvKind.PROPERTIES]
        self.notes = notes
        if not self.mains:
            other = (self.steps + self.props)[0]
            raise InputError(
                other.name,
                f"is the {other.kind.value.removeprefix('portal CSV ')} file of a portal CSV "
                "download, but its main ProvisioningLogs file was not given (expected all "
                "three files of the download, or its .zip)",
            )
        for main in self.mains:
            _require_main_columns(main)

    def read(self) -> Iterator[dict | Problem]:
        step_rows, prop_rows = _Children(), _Children()
        for file in self.steps:
            yield from self._collect(file, step_rows, _step)
        for file in self.props:
            yield from self._collect(file, prop_rows, _property)
        for main in self.mains:
            self._note_missing_files(main)
            yield from self._events(main, step_rows, prop_rows)
        self._note_orphans(step_rows, "step")
        self._note_orphans(prop_rows, "modified-property")

    def _collect(self, file: PortalFile, into: _Children, build) -> Iterator[Problem]:
        self._note_columns(file)
        unreadable: list[int] = []
        for row in file.table.rows():
            if isinstance(row, Problem):
                yield row
                continue
            change_id = file.cell(row, "changeId")
            if change_id is None:
                yield Problem(file.name, f"line {row.line}",
                              "no Change ID, so it belongs to no event; the row is skipped")
                continue
            value = build(file, row)
            if isinstance(value, Problem):
                yield value
                continue
            if value.get("details", {}) is None:
                unreadable.append(row.line)
            into.add(_Child(file.name, row.line, change_id, file.cell(row, "eventId"),
                            _order(file.cell(row, "order")), value))
        if unreadable:
            self.notes.append(
                f"{file.name}: {len(unreadable)} step(s) have Details that are neither JSON nor "
                f"key=value text (first at line {unreadable[0]}); they are kept without details"
            )

    def _events(self, main: PortalFile, steps: _Children,
                props: _Children) -> Iterator[dict | Problem]:
        self._note_columns(main)
        if "id" not in main.columns.positions:
            self.notes.append(
                f"{main.name}: no 'ID' column: the change ID stands in for the event id, so the "
                "same events loaded from another export are not recognised as duplicates"
            )
        for row in main.table.rows():
            if isinstance(row, Problem):
                yield row
                continue
            obj = _event(main, row)
            obj.setdefault("id", obj.get("changeId"))
            if not obj.get("id") or not obj.get("activityDateTime"):
                yield Problem(main.name, f"line {row.line}",
                              "no ID/Change ID or no date (expected both); the row is skipped")
                continue
            obj["provisioningSteps"] = steps.take(obj.get("changeId"), obj["id"])
            obj["modifiedProperties"] = props.take(obj.get("changeId"), obj["id"])
            yield raw_record(obj, main.name, row.number)

    def _note_missing_files(self, main: PortalFile) -> None:
        if not self.steps:
            self.notes.append(
                f"{main.name}: no steps file given: provisioning steps are missing, so skip "
                "reasons, failed steps and exported attributes are unknown"
            )
        if not self.props:
            self.notes.append(
                f"{main.name}: no modified-properties file given: the attribute values sent "
                "to Flowcase are known only from the export steps"
            )

    def _note_columns(self, file: PortalFile) -> None:
        if file.columns.unknown:
            self.notes.append(f"{file.name}: columns not used: {', '.join(file.columns.unknown)}")
        if file.columns.duplicates:
            self.notes.append(
                f"{file.name}: repeated columns, the first of each is used: "
                f"{', '.join(file.columns.duplicates)}"
            )

    def _note_orphans(self, children: _Children, what: str) -> None:
        for file, rows in children.orphans().items():
            changes = sorted({r.change_id for r in rows})
            lines = ", ".join(str(r.line) for r in rows[:5]) + (", ..." if len(rows) > 5 else "")
            self.notes.append(
                f"{file}: {len(rows)} {what} row(s) (lines {lines}) name {len(changes)} change "
                f"ID(s) that match no event in the main file(s), e.g. {changes[0]}; "
                "they are not used"
            )


def _require_main_columns(main: PortalFile) -> None:
    has = main.columns.positions
    missing = []
    if "activityDateTime" not in has:
        missing.append("a date ('Date (UTC)' or 'activityDateTime')")
    if "id" not in has and "changeId" not in has:
        missing.append("an event id ('ID' or 'Change ID')")
    if missing:
        raise InputError(
            main.name,
            f"looks like a portal provisioning log but has no {' and no '.join(missing)}; "
            f"columns found: {', '.join(h.strip() for h in main.table.header)}",
        )


def _step(file: PortalFile, row: CsvRow) -> dict[str, Any]:
    """Details that cannot be read leave ``details`` None; the caller reports it."""
    return {
        "name": file.cell(row, "name"),
        "provisioningStepType": file.cell(row, "provisioningStepType"),
        "status": file.cell(row, "status"),
        "description": file.cell(row, "description"),
        "details": parse_details(file.cell(row, "details")),
    }


def _property(file: PortalFile, row: CsvRow) -> dict[str, Any] | Problem:
    name = file.cell(row, "displayName")
    if name is None:
        return Problem(file.name, f"line {row.line}",
                       "no property name (expected 'Property' or 'Display Name'); the row is "
                       "skipped")
    return {
        "displayName": name,
        "oldValue": file.cell(row, "oldValue"),
        "newValue": file.cell(row, "newValue"),
    }
