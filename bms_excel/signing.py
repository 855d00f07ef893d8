"""Signing the ``_meta`` of a unit workbook, so it cannot be passed off as another unit's.

The signature is HMAC-SHA256 with the project's secret over a canonical serialisation of the
signed fields (:data:`bms_excel.layout.SIGNED_FIELDS`): JSON with sorted keys, no whitespace,
UTF-8. A reader verifies with :func:`verify_meta` (constant-time comparison).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping

from bms_excel.layout import SIGNED_FIELDS
from bms_excel.model import Definition


def canonical_meta(fields: Mapping[str, str]) -> bytes:
    """The bytes that are signed: the signed fields as compact, key-sorted UTF-8 JSON.

    Raises ``KeyError`` when a signed field is absent; other keys are ignored.
    """
    data = {key: str(fields[key]) for key in SIGNED_FIELDS}
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode(
        "utf-8"
    )


def sign_meta(fields: Mapping[str, str], secret: bytes) -> str:
    """The hex HMAC-SHA256 signature of ``fields`` with ``secret``."""
    if not secret:
        raise ValueError("an empty secret cannot sign a workbook")
    return hmac.new(secret, canonical_meta(fields), hashlib.sha256).hexdigest()


def verify_meta(fields: Mapping[str, str], signature: str, secret: bytes) -> bool:
    """True when ``signature`` is the signature of ``fields`` (False if a field is missing)."""
    try:
        expected = sign_meta(fields, secret)
    except (KeyError, ValueError):
        return False
    return hmac.compare_digest(expected, str(signature or ""))


def definition_hash(definition: Definition) -> str:
    """sha256 (hex) of the canonical definition JSON (``definition.model_dump_json()``)."""
    return hashlib.sha256(definition.model_dump_json().encode("utf-8")).hexdigest()


def protection_password(secret: bytes) -> str:
    """The sheet/workbook protection password derived from the project secret.

    Excel's legacy protection hash is a deterrent, not security; the signature is what counts.
    """
    return hmac.new(secret, b"bms-sheet-protection", hashlib.sha256).hexdigest()[:16]
