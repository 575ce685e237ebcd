"""Hash chains for tamper evidence: a canonical JSON form and the SHA-256 link of one row to the one before.

The canonical form (version 1), so anyone can re-derive a hash from the rows with any language:
- JSON, UTF-8, object keys sorted, no whitespace (`separators=(",", ":")`), non-ASCII kept as is;
- datetimes in UTC as ISO 8601 with microseconds (`2026-01-31T09:15:00.000000+00:00`), dates `YYYY-MM-DD`;
- decimals as plain strings without exponent or trailing zeros (`-150.0` -> `"-150"`, `0.50` -> `"0.5"`);
- integers, booleans, null and strings as JSON has them.

A row's hash is `sha256(canonical({"chain": <name>, "prev_hash": <hex>, "row": {<field>: <value>}}))` in
lower-case hex; the first row of a chain links to GENESIS. Pure functions: no database here.
"""

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Context, Decimal
from typing import Any

VERSION = 1
# The prev_hash of the first row of every chain.
GENESIS = "0" * 64
_EXACT = Context(prec=1000)


def canonical_value(value: Any) -> Any:
    """A value as it enters the canonical JSON; raises TypeError for a type with no canonical form."""
    if isinstance(value, str):
        return str.__str__(value)  # an enum member's plain value
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise TypeError("naive datetime: the canonical form needs an aware one")
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise TypeError(f"{value} has no canonical form")
        if value.is_zero():
            return "0"  # and never "-0"
        # normalize drops trailing zeros, so 1.50 and 1.5 hash alike; the wide context never rounds.
        return format(value.normalize(_EXACT), "f")
    if isinstance(value, float):
        raise TypeError("floats are not canonical: pass a Decimal")
    if isinstance(value, Mapping):
        return {str(k): canonical_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [canonical_value(v) for v in value]
    raise TypeError(f"{type(value).__name__} has no canonical form")


def canonical_json(value: Any) -> bytes:
    return json.dumps(
        canonical_value(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode()


def digest(value: Any) -> str:
    """SHA-256 (hex) of a value's canonical JSON."""
    return hashlib.sha256(canonical_json(value)).hexdigest()


def link_hash(*, chain: str, prev_hash: str, row: Mapping[str, Any]) -> str:
    """The hash of one row of a chain: its fields and the hash of the row before it."""
    return digest({"chain": chain, "prev_hash": prev_hash, "row": dict(row)})
