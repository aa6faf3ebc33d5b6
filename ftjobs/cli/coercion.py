"""Option values converted without pydantic, for a quick start.

typer 0.29 converts every value a command is given (a default like `--limit 20` included)
through a pydantic TypeAdapter, built on first use. Importing pydantic and building those
adapters costs about 180 ms, more than everything else `ftjobs list --json` does on a small
store (bench/startup.py). ftjobs' options are plain types (text, numbers, paths, choices and
values with a parser), which this module converts as typer does, with typer's own helpers for
choices and paths and click's wording for numbers. Any other type is left to typer.

It hooks typer's (private) per-parameter converter, so it is guarded: where typer has no such
converter (typer 0.28 converts with click's types, without pydantic) or changes it, nothing is
installed and typer converts as it always does. tests/guarantees/test_cli_layout.py checks that the
commands a person runs most import no pydantic where the hook applies.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args, get_origin

import typer

try:  # typer >= 0.29
    from typer._coercion import RuntimeParam
    from typer._param_types import coerce_cli_choice, coerce_cli_path
except ImportError:  # pragma: no cover - typer 0.28 (CI's floors venv): nothing to replace
    RuntimeParam = None  # type: ignore[assignment,misc]

Convert = Callable[[Any, Any, Any], Any]  # (value, param, ctx) -> the converted value


def install(param: Any) -> None:
    """Give a parameter a plain converter, where its type has one."""
    if RuntimeParam is None:
        return
    descriptor = getattr(param, "type_descriptor", None)
    if descriptor is None or getattr(param, "_runtime_param", False) is not None:
        return  # not a typer parameter, or its converter is already built
    converter = _converter_for(descriptor)
    if converter is not None:
        param._runtime_param = converter


def hooked() -> bool:
    """Whether this typer converts with pydantic, which install() replaces."""
    return RuntimeParam is not None


def _converter_for(descriptor: Any) -> Any:
    annotation = descriptor.annotation
    if get_origin(annotation) is list:
        (item_type,) = get_args(annotation)
        convert = _leaf(descriptor, item_type)
        many = True
    else:
        convert = _leaf(descriptor, annotation)
        many = False
    if convert is None:
        return None
    return _PlainRuntimeParam(
        parameter_info=descriptor.parameter_info,
        annotation=annotation,
        convert=convert,
        many=many,
    )


def _leaf(descriptor: Any, annotation: Any) -> Convert | None:
    info = descriptor.parameter_info
    if info.parser is not None:
        return _parsed(info.parser)
    if descriptor.is_choice:
        choices = descriptor.choices
        case_sensitive = descriptor.case_sensitive

        def choice(value: Any, param: Any, ctx: Any) -> Any:
            return coerce_cli_choice(value, choices=choices, case_sensitive=case_sensitive, ctx=ctx)

        return choice
    if annotation is str:
        return _text
    if annotation is bool:
        return _flag
    if annotation in (int, float):
        if getattr(info, "clamp", False):
            return None  # not used by ftjobs: typer's own
        return _number(annotation, info.min, info.max)
    if descriptor.is_path:
        path_type = info.path_type
        if path_type is None and isinstance(annotation, type):
            path_type = annotation

        def path(value: Any, param: Any, ctx: Any) -> Any:
            is_path_class = isinstance(path_type, type) and issubclass(path_type, Path)
            if is_path_class and isinstance(value, (str, os.PathLike)):
                value = path_type(value)  # (typer would ask pydantic to)
            return coerce_cli_path(value, info, path_type=path_type, param=param, ctx=ctx)

        return path
    return None


def _text(value: Any, param: Any, ctx: Any) -> str:
    if isinstance(value, bytes):  # as click and typer decode argv
        return value.decode(sys.getfilesystemencoding(), "replace")
    return str(value)


_TRUE = frozenset({"1", "true", "t", "yes", "y", "on"})
_FALSE = frozenset({"", "0", "false", "f", "no", "n", "off"})


def _flag(value: Any, param: Any, ctx: Any) -> bool:
    """A flag's value (typer asks for a converter even when the value is None or a bool)."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE or text in _FALSE:
        return text in _TRUE
    raise typer.BadParameter(f"{value!r} is not a valid boolean.", ctx=ctx, param=param)


def _parsed(parser: Callable[[str], Any]) -> Convert:
    def parse(value: Any, param: Any, ctx: Any) -> Any:
        return parser(value)

    return parse


def _number(kind: type[float], low: float | None, high: float | None) -> Convert:
    noun = "integer" if kind is int else "number"

    def number(value: Any, param: Any, ctx: Any) -> Any:
        if isinstance(value, kind) and not isinstance(value, bool):
            result = value
        else:
            try:
                result = kind(str(value).strip())
            except ValueError:
                raise typer.BadParameter(
                    f"{value!r} is not a valid {noun}.", ctx=ctx, param=param
                ) from None
        # NaN compares false with every bound, so it would pass one: a bounded number is not NaN.
        outside = result != result if low is not None or high is not None else False
        outside = outside or (low is not None and result < low)
        outside = outside or (high is not None and result > high)
        if outside:
            if high is None:
                bounds = f"x>={low}"
            else:
                bounds = f"x<={high}" if low is None else f"{low}<=x<={high}"
            raise typer.BadParameter(
                f"{str(value).strip()} is not in the range {bounds}.",
                ctx=ctx,
                param=param,
            )
        return result

    return number


if RuntimeParam is not None:

    @dataclass(frozen=True)
    class _PlainRuntimeParam(RuntimeParam):
        """typer's per-parameter converter, doing the conversion above."""

        convert: Convert
        many: bool

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            # A ValueError (a parser's, a choice not offered) is a bad value, as typer says.
            try:
                if not self.many:
                    return self.convert(value, param, ctx)
                items = value if isinstance(value, (list, tuple)) else [value]
                return [self.convert(item, param, ctx) for item in items]
            except ValueError as error:
                raise typer.BadParameter(str(error), ctx=ctx, param=param) from None
