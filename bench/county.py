"""A synthetic county of N units: the bundled example definition, scaled up."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bms_excel.model import Definition

#: The example whose focus areas, indicators, sectors and periods are copied.
BASE_EXAMPLE = "stfk"


def unit_code(index: int) -> str:
    """``U00001`` for index 0."""
    return f"U{index + 1:05d}"


def load_base(name: str = BASE_EXAMPLE) -> Definition:
    """The bundled example definition (imported lazily: the harness runs without it)."""
    from bms_excel.examples import load_example_definition

    return load_example_definition(name)


def scale_definition(base: Definition, n: int, *, seed: int = 8) -> Definition:
    """``base`` with its units replaced by ``n`` synthetic units ``U00001``… .

    Unit ``i`` is a clone of base unit ``i mod len(base.units)``: same sector, attributes
    scaled by a random factor, its own contact. Everything in the indicators that names a base
    unit is remapped so the per-unit indicator mix stays that of the example:

    * a scope listing units lists all clones of those units;
    * a unit override applies to the first clone only (unit overrides are rare; cloning them
      would make the override list grow with N);
    * KOSTRA ``unit_regions`` map every clone to its base unit's region.
    """
    if n < 1:
        raise ValueError("n must be at least 1")
    rng = random.Random(seed)
    data = base.model_dump(mode="python", by_alias=True, exclude_none=True)
    base_units = data["units"]
    clones: dict[str, list[str]] = {u["code"]: [] for u in base_units}
    units: list[dict[str, Any]] = []
    for i in range(n):
        proto = base_units[i % len(base_units)]
        code = unit_code(i)
        clones[proto["code"]].append(code)
        factor = rng.uniform(0.5, 1.5)
        unit: dict[str, Any] = {
            "code": code,
            "name": f"{proto['name']} {i // len(base_units) + 1}",
            "sector": proto["sector"],
            "contact": {"name": f"Kontakt {code}", "email": f"{code.lower()}@example.no"},
            "attributes": {k: round(v * factor) for k, v in proto.get("attributes", {}).items()},
        }
        units.append(unit)
    data["units"] = units
    for area in data["focus_areas"]:
        for goal in area.get("goals", ()):
            for factor_ in goal.get("factors", ()):
                for ind in factor_.get("indicators", ()):
                    _remap_indicator(ind, clones)
    return type(base).model_validate(data)


def _remap_indicator(ind: dict[str, Any], clones: dict[str, list[str]]) -> None:
    scope = ind.get("scope")
    if scope and scope.get("units"):
        scope["units"] = tuple(c for u in scope["units"] for c in clones.get(u, ()))
        if not scope["units"] and not scope.get("sectors"):
            # The base units have no clone (n smaller than the example): keep it reportable.
            scope["units"] = tuple(first for first in (_first(clones),) if first)
    overrides = []
    for o in ind.get("overrides", ()):
        if o.get("unit"):
            first = clones.get(o["unit"], [])
            if not first:
                continue
            o = {**o, "unit": first[0]}
        overrides.append(o)
    if "overrides" in ind:
        ind["overrides"] = tuple(overrides)
    kostra = ind.get("kostra")
    if kostra and kostra.get("unit_regions"):
        kostra["unit_regions"] = {
            c: region for u, region in kostra["unit_regions"].items() for c in clones.get(u, ())
        }


def _first(clones: dict[str, list[str]]) -> str | None:
    return next((codes[0] for codes in clones.values() if codes), None)


def default_period(definition: Definition) -> str:
    """The first tertial of the latest year that has one (else the last period)."""
    tertials = [p for p in definition.periods if p.kind == "tertial"]
    if not tertials:
        return definition.periods[-1].code
    latest = max(p.year for p in tertials)
    return min(p.code for p in tertials if p.year == latest)
