"""Command-line options declared once, as a dataclass, and shared by several typer commands.

Typer reads a command's options from its signature, so a set of options used by several commands
would otherwise be a block of parameters copied into each. Here the set is a frozen dataclass
whose fields are ``Annotated[..., typer.Option(...)]`` with defaults (a field may itself be such
a dataclass); ``@with_options(name=Group)`` puts the fields in the command's signature where its
parameter ``name`` stands (so ``--help`` lists them there) and hands the command one ``Group``
instance as ``name``.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
from collections.abc import Callable, Iterator
from typing import Any, TypeVar, get_args, get_type_hints

from typer.models import OptionInfo

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
