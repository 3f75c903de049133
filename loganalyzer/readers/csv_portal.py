"""The Entra admin center CSV download: three files joined on change ID into Graph records.

The portal writes ProvisioningLogs (one row per event), ProvisioningLogs_ProvisioningSteps (one
row per step) and ProvisioningLogs_ModifiedProperties (one row per attribute); only the change
ID ties them together. Steps and properties are read first and grouped by change ID, then each
event row picks up its own. Rows that find no event are reported, never dropped silently, and
a missing steps or properties file is said out loud because it hides skip reasons, failed
steps and the attributes sent to Flowcase.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from loganalyzer.problems import KeptEventsNote, Problem
from loganalyzer.readers.csv_details import parse_details
from loganalyzer.readers.csv_headers import CsvKind, HeaderMap
from loganalyzer.readers.csv_table import CsvTable
from loganalyzer.readers.locale_numbers import ungrouped
from loganalyzer.readers.records import Item, raw_record
from loganalyzer.wording import plural, verb

_NO_VALUE = {"none", "null"}  # how an empty error code/reason may be written
_ERROR_PATHS = {"provisioningStatusInfo.errorInformation.errorCode",
                "provisioningStatusInfo.errorInformation.reason"}
_STEP_FIELDS = ("name", "provisioningStepType", "status", "description", "details")
_PROPERTY_FIELDS = ("displayName", "oldValue", "newValue")
_KEY_FIELDS = ("changeId", "eventId", "order")

Cells = list[str]

# What the column-wise reader's Polars ``strip_chars()`` trims from a cell (Unicode White_Space).
# Python's ``str.strip()`` also trims U+001C-U+001F, so a cell of one such character was empty
# in one reader and a value in the other.
WHITESPACE = "".join(ch for ch in map(chr, range(0x3001))
                     if ch.isspace() and ch not in "\x1c\x1d\x1e\x1f")


@dataclass(frozen=True)
class PortalFile:
    """One of the three portal files, with where its known columns are."""

    table: CsvTable
    kind: CsvKind
    columns: HeaderMap

    @property
    def name(self) -> str:
        return self.table.source.name

    def picker(self, fields: tuple[str, ...]) -> Callable[[Cells], list[str | None]]:
        """cells -> the stripped value of each field (None when empty or not a column)."""
        indexes = [self.columns.positions.get(f) for f in fields]
        return lambda cells: [None if i is None else cells[i].strip(WHITESPACE) or None
                              for i in indexes]


@dataclass(slots=True)
class _Child:
    """A step or property row waiting for its event: where it is and its picked values."""

    file: str
    line: int
    event_id: str | None
    order: int | None
    values: list[str | None]
    used: bool = False


@dataclass
class _Children:
    """Step (or property) rows grouped by change ID."""

    by_change: dict[str, list[_Child]] = field(default_factory=dict)

    def add(self, change_id: str, child: _Child) -> None:
        self.by_change.setdefault(change_id.lower(), []).append(child)

    def take(self, change_id: str | None, event_id: str) -> list[_Child]:
        """The rows of one event, in step order; rows naming another event id stay put.

        When two files hold rows for the same change (the .zip and its extracted files, or
        overlapping downloads) they are copies: the first file's rows are used.
        """
        rows = [r for r in self.by_change.get((change_id or "").lower(), ())  # GUIDs, any case
                if r.event_id is None or r.event_id == event_id]
        for row in rows:
            row.used = True
        rows = [r for r in rows if r.file == rows[0].file]
        if all(r.order is not None for r in rows):
            rows.sort(key=lambda r: r.order or 0)
        return rows

    def orphans(self) -> dict[str, list[tuple[int, str]]]:
        """file -> (line, change ID) of every row no event took."""
        unused: dict[str, list[tuple[int, str]]] = {}
        for change_id, rows in self.by_change.items():
            for row in rows:
                if not row.used:
                    unused.setdefault(row.file, []).append((row.line, change_id))
        return unused


def _order(text: str | None) -> int | None:
    try:
        return int(float(text)) if text else None
    except (ValueError, OverflowError):  # "abc", "nan"; "inf", "1e400"
        return None


def _event_builder(main: PortalFile) -> Callable[[Cells], dict[str, Any]]:
    """cells -> a nested Graph object, one dotted path per known column."""
    columns = [(path.split("."), index, path in _ERROR_PATHS)
               for path, index in main.columns.positions.items()]

    def build(cells: Cells) -> dict[str, Any]:
        obj: dict[str, Any] = {}
        for parts, index, is_error in columns:
            value = cells[index].strip(WHITESPACE)
            if not value or (is_error and value.casefold() in _NO_VALUE):
                continue
            if parts == ["durationInMilliseconds"]:  # 1,458 from a re-saved sheet
                value = ungrouped(value)
            target = obj
            for part in parts[:-1]:
                target = target.setdefault(part, {})
            target[parts[-1]] = value
        return obj

    return build


class PortalReader:
    """Join the portal files of one call; ``notes`` is filled while ``read`` runs."""

    def __init__(self, files: list[PortalFile], notes: list[str]):
        self.mains = [f for f in files if f.kind is CsvKind.MAIN]
        self.steps = [f for f in files if f.kind is CsvKind.STEPS]
        self.props = [f for f in files if f.kind is CsvKind.PROPERTIES]
        self.notes = notes
        self.unreadable_details: dict[str, list[int]] = {}

    def read(self) -> Iterator[Item]:
        step_rows, prop_rows = _Children(), _Children()
        for file in self.steps:
            yield from self._collect(file, step_rows, _STEP_FIELDS)
        for file in self.props:
            yield from self._collect(file, prop_rows, _PROPERTY_FIELDS)
        for main in self.mains:
            self._note_missing_files(main)
            yield from self._events(main, step_rows, prop_rows)
        self._note_orphans(step_rows, "step")
        self._note_orphans(prop_rows, "modified-property")
        for file, lines in self.unreadable_details.items():
            self.notes.append(
                f"{file}: {plural(len(lines), 'step')} {verb(len(lines), 'has', 'have')} "
                "Details that are neither JSON nor key=value text (first at line "
                f"{lines[0]}); they are kept without details"
            )

    def _collect(self, file: PortalFile, into: _Children,
                 fields: tuple[str, ...]) -> Iterator[Problem]:
        self._note_columns(file)
        pick = file.picker(_KEY_FIELDS + fields)
        for row in file.table.rows():
            if isinstance(row, Problem):
                yield row
                continue
            change_id, event_id, order, *values = pick(row.cells)
            if change_id is None:
                yield Problem(file.name, f"line {row.line}",
                              "no Change ID, so it belongs to no event; the row is skipped")
            elif fields is _PROPERTY_FIELDS and values[0] is None:
                yield Problem(file.name, f"line {row.line}", "no property name (expected "
                              "'Attribute' or 'Display Name'); the row is skipped")
            else:
                into.add(change_id, _Child(file.name, row.line, event_id, _order(order), values))

    def _step(self, child: _Child) -> dict[str, Any]:
        name, step_type, status, description, details_text = child.values
        details = parse_details(details_text)
        if details is None:
            self.unreadable_details.setdefault(child.file, []).append(child.line)
        return {"name": name, "provisioningStepType": step_type, "status": status,
                "description": description, "details": details}

    def _events(self, main: PortalFile, steps: _Children,
                props: _Children) -> Iterator[Item]:
        self._note_columns(main)
        if "id" not in main.columns.positions:
            self.notes.append(
                f"{main.name}: no 'ID' column: the change ID stands in for the event id, so the "
                "same events loaded from another export are not recognised as duplicates"
            )
        build = _event_builder(main)
        for row in main.table.rows():
            if isinstance(row, Problem):
                yield row
                continue
            obj = build(row.cells)
            obj.setdefault("id", obj.get("changeId"))
            if not obj.get("id") or not obj.get("activityDateTime"):
                yield Problem(main.name, f"line {row.line}",
                              "no ID/Change ID or no date (expected both); the row is skipped")
                continue
            change_id = obj.get("changeId")
            obj["provisioningSteps"] = [self._step(c) for c in steps.take(change_id, obj["id"])]
            obj["modifiedProperties"] = [
                dict(zip(_PROPERTY_FIELDS, c.values, strict=True))
                for c in props.take(change_id, obj["id"])
            ]
            try:
                event, ignored = raw_record(obj, main.name, row.number, f"line {row.line}")
            except RecursionError:
                yield Problem(main.name, f"line {row.line}", "a value is nested deeper than "
                              "about 1,000 levels; the row is skipped")
                continue
            yield event
            yield from ignored

    def _note_missing_files(self, main: PortalFile) -> None:
        if not self.steps:
            self.notes.append(KeptEventsNote(
                main.name,
                f"{main.name}: no steps file given: provisioning steps are missing, so skip "
                "reasons, failed steps and exported attributes are unknown",
            ))
        if not self.props:
            self.notes.append(KeptEventsNote(main.name, _no_properties(main.name, self.steps)))

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
            changes = sorted({change_id for _, change_id in rows})
            lines = ", ".join(str(line) for line, _ in rows[:5])
            lines += ", ..." if len(rows) > 5 else ""
            self.notes.append(
                f"{file}: {plural(len(rows), what + ' row')} "
                f"({'line' if len(rows) == 1 else 'lines'} {lines}) "
                f"{verb(len(rows), 'names', 'name')} {plural(len(changes), 'change ID')} that "
                f"{verb(len(changes), 'matches', 'match')} no event in the main files, e.g. "
                f"{changes[0]}; "
                "they are not used"
            )


def _no_properties(name: str, steps: object) -> str:
    """What a missing modified-properties file costs: the values sent are still in the export
    steps, unless the steps file is missing too (then "known from the export steps" would
    point at steps that are not there)."""
    if steps:
        return (f"{name}: no modified-properties file given: the attribute values sent to "
                "Flowcase are known only from the export steps")
    return (f"{name}: no modified-properties file given: the attribute values sent to Flowcase "
            "are unknown (the export steps also log them, and the steps file was not given "
            "either)")
