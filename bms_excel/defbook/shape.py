"""A definition as the plain data its YAML holds, and that data as YAML text.

:func:`plain` turns a validated :class:`~bms_excel.model.Definition` back into the shape the
YAML loader reads (a target as ``70``, ``"70 %"`` or ``{low, high}``; a scope as ``all``,
``county`` or ``{all, sectors, units, except}``), so that loading it again gives an equal definition (the same
:func:`~bms_excel.signing.definition_hash`). The export fills cells from it; the import writes
the YAML from it. No I/O here.
"""

from __future__ import annotations

from typing import Any

import yaml
from pydantic import BaseModel

from bms_excel import model as m


def plain(obj: BaseModel, *, defaults: bool) -> dict[str, Any]:
    """``obj`` as plain data; ``defaults=False`` leaves out fields that hold their default."""
    out: dict[str, Any] = {}
    for name, info in type(obj).model_fields.items():
        value = getattr(obj, name)
        if value is None:
            continue
        at_default = not info.is_required() and value == info.get_default(call_default_factory=True)
        if at_default and not defaults:
            continue
        out[info.alias or name] = _value(value, defaults)
    return out


def _value(value: Any, defaults: bool) -> Any:
    if isinstance(value, m.Target):
        if value.text is not None:
            return value.text
        if value.value is not None:
            return value.value
        return {"low": value.low, "high": value.high}
    if isinstance(value, m.Scope):
        if value.county_only:
            return "county"
        if value.all and not value.except_:
            return "all"
        lists = {"sectors": list(value.sectors), "units": list(value.units)}
        lists["except"] = list(value.except_)
        return ({"all": True} if value.all else {}) | {k: v for k, v in lists.items() if v}
    if isinstance(value, BaseModel):
        return plain(value, defaults=defaults)
    if isinstance(value, tuple | list):
        return [_value(v, defaults) for v in value]
    if isinstance(value, dict):
        return {k: _value(v, defaults) for k, v in value.items()}
    return value


def _tidy(value: Any) -> Any:
    """Whole floats as integers (``120000``, not ``120000.0``): they load as the same float."""
    if (
        isinstance(value, float)
        and value.is_integer()
        and abs(value) < 1e15
        and repr(value) != "-0.0"
    ):
        return int(value)
    if isinstance(value, dict):
        return {k: _tidy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_tidy(v) for v in value]
    return value


def definition_yaml(defn: m.Definition, header: str = "") -> str:
    """The YAML text of ``defn`` (fields at their default left out; ``header`` as comments)."""
    data = {"version": defn.version, **plain(defn, defaults=False)}
    text = yaml.safe_dump(
        _tidy(data), allow_unicode=True, sort_keys=False, width=100, default_flow_style=False
    )
    comments = "".join(f"# {line}\n" if line else "#\n" for line in header.splitlines())
    return comments + text
