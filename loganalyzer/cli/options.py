"""Command-line options declared once, as a dataclass, and shared by several typer commands.

Typer reads a command's options from its signature, so a set of options used by several commands
would otherwise be a block of parameters copied into each. Here the set is a frozen dataclass
whose fields are ``Annotated[..., typer.Option(...)]`` with defaults (a field may itself be such
a dataclass); ``@with_options(name=Group)`` puts the fields in the command's signature where its
parameter ``name`` stands (so ``--help`` lists them there) and hands the command one ``Group``
instance as ``name``.

Below the machinery, the groups and options every analysing command shares, so each spells
them the same: `--fail-on` (a typed choice), `--job-status` and the acceptance of known
findings.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar, get_args, get_type_hints

import typer
from typer.models import OptionInfo

from diagnostics import RULES
from loganalyzer import accept
from loganalyzer.cli.outputs import other_file
from loganalyzer.findings import SEVERITIES, Diagnosis

if TYPE_CHECKING:
    from loganalyzer.cli.outputs import Target
    from loganalyzer.config.check import ConfigResult

Command = TypeVar("Command", bound=Callable[..., Any])


def _fields(group: type) -> Iterator[tuple[dataclasses.Field, Any]]:
    """Each field with its resolved ``Annotated`` type."""
    hints = get_type_hints(group, include_extras=True)
    for field in dataclasses.fields(group):
        yield field, hints[field.name]


def _default(field: dataclasses.Field) -> Any:
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    return field.default


def _parameters(group: type) -> Iterator[inspect.Parameter]:
    for field, hint in _fields(group):
        if dataclasses.is_dataclass(hint):
            yield from _parameters(hint)
        else:
            yield inspect.Parameter(field.name, inspect.Parameter.KEYWORD_ONLY,
                                    default=_default(field), annotation=hint)


def _build(group: type, values: dict[str, Any]) -> Any:
    """The group instance from the command's keyword arguments (its own are removed)."""
    kwargs = {
        field.name: _build(hint, values) if dataclasses.is_dataclass(hint)
        else values.pop(field.name)
        for field, hint in _fields(group)
    }
    return group(**kwargs)


def with_options(**groups: type) -> Callable[[Command], Command]:
    """Decorator (below ``@app.command``): each keyword names a parameter of the command that
    receives an instance of that dataclass, whose fields become the command's options."""

    def decorate(command: Command) -> Command:
        own = inspect.signature(command, eval_str=True)
        parameters: list[inspect.Parameter] = []
        for param in own.parameters.values():
            if param.name in groups:
                parameters += _parameters(groups[param.name])
            elif parameters and parameters[-1].kind is inspect.Parameter.KEYWORD_ONLY:
                parameters.append(param.replace(kind=inspect.Parameter.KEYWORD_ONLY))
            else:
                parameters.append(param)
        names = [p.name for p in parameters]
        if len(names) != len(set(names)) or not set(groups) <= set(own.parameters):
            raise TypeError(f"{command.__name__}: option groups must name a parameter of the "
                            "command and not repeat its other parameters")

        @functools.wraps(command)
        def run(*args: Any, **kwargs: Any) -> Any:
            for name, group in groups.items():
                kwargs[name] = _build(group, kwargs)
            return command(*args, **kwargs)

        run.__signature__ = own.replace(parameters=parameters)  # type: ignore[attr-defined]
        return run  # type: ignore[return-value]

    return decorate


def _flag(hint: Any, name: str) -> str:
    """The option's first flag; in ``Annotated`` typer keeps it in ``OptionInfo.default``."""
    for arg in get_args(hint):
        if isinstance(arg, OptionInfo) and isinstance(arg.default, str):
            return arg.default
    return f"--{name.replace('_', '-')}"


def options_given(instance: Any) -> list[str]:
    """The flags (``--app``, ...) of the options in ``instance`` that differ from their default,
    to name them in a message."""
    given = []
    for field, hint in _fields(type(instance)):
        value = getattr(instance, field.name)
        if dataclasses.is_dataclass(hint):
            given += options_given(value)
        elif value != _default(field):
            given.append(_flag(hint, field.name))
    return given


# ---------------------------------------------------------------------------- shared groups

SeverityChoice = StrEnum("SeverityChoice", {s: s for s in SEVERITIES})
FailOn = Annotated[
    SeverityChoice | None,
    typer.Option("--fail-on", show_default=False, case_sensitive=False,
                 help="Exit 1 when a finding (not suppressed) is at or above this severity."),
]
JobStatusOption = Annotated[
    Path | None,
    typer.Option("--job-status", help="The sync job's JSON (GET .../synchronization/jobs/{jobId}, "
                 "as `fetch-job` saves it): quarantine and last error."),
]


@dataclass(frozen=True)
class AcceptOptions:
    """`--ignore`, `--baseline`, `--write-baseline`: findings that are known and accepted."""

    ignore: Annotated[
        list[str] | None,
        typer.Option("--ignore", metavar="RULE[:IDENTITY]", show_default=False,
                     help="Accept RULE's findings, or only those about IDENTITY (a UPN, email, "
                     "object id or group name); repeatable."),
    ] = None
    baseline: Annotated[
        Path | None,
        typer.Option("--baseline", metavar="FILE", show_default=False,
                     help="Accept the findings listed in FILE (written by --write-baseline); a "
                     "finding about anyone new shows again."),
    ] = None
    write_baseline: Annotated[
        Path | None,
        typer.Option("--write-baseline", metavar="FILE", show_default=False,
                     help="Write this run's findings to FILE, to accept them in later runs."),
    ] = None

    def read(self, outputs: list[Target]) -> accept.Acceptance:
        """What to accept; ``InputError`` for a malformed --ignore or baseline, or a
        --write-baseline that ``outputs`` name too or whose folder does not exist."""
        from diagnostics.config_rules import CONFIG_RULES

        if self.write_baseline:
            other_file(self.write_baseline, "--write-baseline", outputs)

        known = {rule.id for rule in RULES} | {check.id for check in CONFIG_RULES}
        acceptance = accept.parse_ignore(self.ignore or [], known)
        return (accept.read_baseline(self.baseline, acceptance, known) if self.baseline
                else acceptance)

    def baseline_file(self, diagnosis: Diagnosis,
                      configuration: ConfigResult | None = None) -> dict[Path, bytes]:
        """The --write-baseline file (every finding of the run, suppressed and configuration
        findings too), for ``outputs.write`` to write with the outputs: whole or not at all,
        so a report that cannot be written leaves last week's baseline as it was."""
        if not self.write_baseline:
            return {}
        text = json.dumps(accept.baseline(diagnosis, configuration), indent=2,
                          ensure_ascii=False)
        return {self.write_baseline: (text + "\n").encode("utf-8")}
