"""Signing of ``_meta``: HMAC over the canonical fields, constant-time verification."""

from __future__ import annotations

from test_generate import small_definition

from bms_excel.layout import SIGNED_FIELDS
from bms_excel.signing import canonical_meta, definition_hash, sign_meta, verify_meta

SECRET = b"s" * 32
FIELDS = {key: f"v-{key}" for key in SIGNED_FIELDS}


def test_sign_and_verify() -> None:
    sig = sign_meta(FIELDS, SECRET)
    assert len(sig) == 64 and verify_meta(FIELDS, sig, SECRET)
    assert verify_meta({**FIELDS, "rows": "{}", "extra": "x"}, sig, SECRET)  # unsigned keys ignored
    for key in SIGNED_FIELDS:
        assert not verify_meta({**FIELDS, key: "changed"}, sig, SECRET), key
    assert not verify_meta(FIELDS, sig, b"t" * 32)
    assert not verify_meta({k: v for k, v in FIELDS.items() if k != "unit"}, sig, SECRET)
    assert not verify_meta(FIELDS, "", SECRET)


def test_canonical_form_is_order_independent_and_unambiguous() -> None:
    reordered = dict(reversed(list(FIELDS.items())))
    assert canonical_meta(reordered) == canonical_meta(FIELDS)
    a = {**FIELDS, "unit": "A", "period": "B|C"}
    b = {**FIELDS, "unit": "A|B", "period": "C"}
    assert canonical_meta(a) != canonical_meta(b)


def test_definition_hash_changes_with_the_definition() -> None:
    d = small_definition()
    h = definition_hash(d)
    assert h == definition_hash(small_definition()) and len(h) == 64
    renamed = d.model_copy(update={"county": d.county.model_copy(update={"name": "Annet"})})
    assert definition_hash(renamed) != h
