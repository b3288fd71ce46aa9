"""Checks of a results file's values: JSON types, and measurements that are finite and >= 0.

Each check raises :class:`Invalid` naming the field, which the reader turns into a
``ResultsFileError`` with the file and the hint; ``check(kind, value, where)`` checks a
value as the kind its record field declares (``pgperf.verdict.record``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from pgperf.verdict.plans import PlanShape
from pgperf.verdict.record import ResultDigest


class Invalid(Exception):
    """A structural problem found while reading; the caller adds the file and the hint."""


def get(data: Mapping[str, Any], key: str, where: str, kind: type | tuple[type, ...]) -> Any:
    if key not in data:
        raise Invalid(f"{where} has no {key!r}")
    value = data[key]
    # bool is an int in Python; a boolean where a number belongs is still corrupt.
    if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
        raise Invalid(f"{where}.{key} is a boolean")
    if not isinstance(value, kind):
        raise Invalid(f"{where}.{key} is {type(value).__name__}, not {_kind_name(kind)}")
    return value


def opt(data: Mapping[str, Any], key: str, where: str, kind: type | tuple[type, ...]) -> Any:
    return None if data.get(key) is None else get(data, key, where, kind)


def _kind_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(k.__name__ for k in kinds)


def measure(value: float, where: str, *, upper: float = math.inf) -> float:
    """A measured quantity: finite and between 0 and ``upper``."""
    try:
        number = float(value)
    except OverflowError:
        number = math.inf  # an integer too large for any measurement
    if not math.isfinite(number) or not 0 <= number <= upper:
        bound = "" if upper == math.inf else f" and at most {upper:g}"
        raise Invalid(f"{where} is {value!r}: a measurement must be finite, >= 0{bound}")
    return number


def names(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise Invalid(f"{where} must be a list of strings")
    return tuple(value)


def _durations(value: Any, where: str) -> tuple[float, ...]:
    if not isinstance(value, list) or not all(
        isinstance(v, (int, float)) and not isinstance(v, bool) for v in value
    ):
        raise Invalid(f"{where} must be a list of numbers")
    return tuple(measure(v, f"{where}[{i}]") for i, v in enumerate(value))


def _per_query(value: Any, where: str) -> Mapping[str, float]:
    if not isinstance(value, dict):
        raise Invalid(f"{where} must be an object of statement -> ms")
    checked = {
        str(k): measure(_number(v, f"{where}.{k}"), f"{where}.{k}") for k, v in value.items()
    }
    return MappingProxyType(checked)


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise Invalid(f"{where} is {type(value).__name__}, not a number")
    try:
        return float(value)
    except OverflowError:
        raise Invalid(f"{where} is an integer too large for any measurement") from None


def count(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid(f"{where} is {type(value).__name__}, not an integer")
    return int(measure(value, where))


def flag(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise Invalid(f"{where} is {type(value).__name__}, not true or false")
    return value


def _name_map(value: Any, where: str) -> Mapping[str, tuple[str, ...]]:
    if not isinstance(value, dict):
        raise Invalid(f"{where} must be an object of name -> list of names")
    return MappingProxyType({str(k): names(v, f"{where}.{k}") for k, v in value.items()})


def _text(data: Mapping[str, Any], key: str, where: str) -> str:
    value: str = get(data, key, where, str)
    return value


def _results(value: Any, where: str) -> Mapping[str, ResultDigest]:
    if not isinstance(value, dict):
        raise Invalid(f"{where} must be an object of statement -> its result digest")
    checked = {}
    for name, raw in value.items():
        at = f"{where}.{name}"
        if not isinstance(raw, dict):
            raise Invalid(f"{at} is not an object")
        checked[str(name)] = ResultDigest(
            rows=count(get(raw, "rows", at, int), f"{at}.rows"),
            checksum=_text(raw, "checksum", at),
            unordered=_text(raw, "unordered", at),
            ordered=flag(get(raw, "ordered", at, bool), f"{at}.ordered"),
            sql=_text(raw, "sql", at),
        )
    return MappingProxyType(checked)


def _user_ids(value: Any, where: str) -> tuple[int, ...]:
    if not isinstance(value, list) or not value:
        raise Invalid(f"{where} must be a non-empty list of user ids")
    return tuple(count(v, f"{where}[{i}]") for i, v in enumerate(value))


def _shapes(value: Any, where: str) -> tuple[PlanShape, ...]:
    if not isinstance(value, list):
        raise Invalid(f"{where} must be a list of plan shapes")
    shapes = []
    for i, raw in enumerate(value):
        at = f"{where}[{i}]"
        if not isinstance(raw, dict):
            raise Invalid(f"{at} is not an object")
        lists = {
            key: names(raw.get(key) or [], f"{at}.{key}")
            for key in ("indexes", "seq_scans", "large_seq_scans", "expected")
        }
        shapes.append(
            PlanShape(
                shape=_text(raw, "shape", at),
                user_ids=_user_ids(raw.get("user_ids"), f"{at}.user_ids"),
                plan=raw.get("plan"),
                **lists,
            )
        )
    return tuple(shapes)


_CHECKS: Mapping[str, Callable[[Any, str], Any]] = {
    "text": lambda value, where: str(value),
    "count": count,
    "duration": lambda value, where: measure(_number(value, where), where),
    "share": lambda value, where: measure(_number(value, where), where, upper=1.0),
    "names": names,
    "durations": _durations,
    "flag": flag,
    "per_query": _per_query,
    "plan": lambda value, where: value,  # any JSON
    "name_map": _name_map,
    "results": _results,
    "shapes": _shapes,
}


def check(kind: str, value: Any, where: str) -> Any:
    """One extra_info value, checked as the kind its record field declares."""
    return _CHECKS[kind](value, where)
