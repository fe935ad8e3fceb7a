"""Presidential grants 2013 through six operators: `raw.oprf2013__grants`.

A grant is keyed by its operator and the operator's application number
(`ИПГО:510`); a key that occurs twice quarantines every record that has it,
since nothing in the file says which one is right. An ОГРН that fails its
check digit is loaded and flagged (`ogrn_valid`), not rejected: six real rows
have one, and the rest of the row is still a published grant.
"""

from __future__ import annotations

import pandera.pandas as pa
from pandera.typing import Series

from schemas.base import Entity, money_field, typed_field
from schemas.identifiers import is_valid_ogrn


class GrantModel(pa.DataFrameModel):
    grant_key: Series[str] = pa.Field(nullable=False, unique=True)
    operator: Series[str] = pa.Field(nullable=False)
    application_number: Series[str] = pa.Field(nullable=False)
    row_number: Series[object] = typed_field("INTEGER")
    ogrn: Series[str] = pa.Field(nullable=True)
    ogrn_valid: Series[object] = typed_field("BOOLEAN")
    amount: Series[object] = money_field(nullable=False)
    organisation_name: Series[str] = pa.Field(nullable=True)
    title: Series[str] = pa.Field(nullable=True)
    region: Series[str] = pa.Field(nullable=True)
    city: Series[str] = pa.Field(nullable=True)
    federal_district: Series[str] = pa.Field(nullable=True)
    source_file: Series[str] = pa.Field(nullable=True)
    repaired: Series[object] = typed_field("BOOLEAN", nullable=False)
    repair_note: Series[str] = pa.Field(nullable=True)
    # Columns of the file beyond the eleven read, as a JSON object (header -> value).
    extra_columns: Series[object] = typed_field("JSON")

    @pa.check("amount", element_wise=True)
    def amount_positive(cls, value) -> bool:
        return value > 0

    @pa.check("repaired", element_wise=True)
    def repaired_is_bool(cls, value) -> bool:
        return isinstance(value, bool)


def ogrn_flag(record: dict) -> dict:
    """`ogrn_valid`: the check digit holds (None when the row gives no ОГРН)."""
    ogrn = record.get("ogrn")
    record["ogrn_valid"] = None if ogrn is None else is_valid_ogrn(ogrn)
    return record


GRANTS = Entity("oprf2013", "grants", GrantModel, prepare=ogrn_flag, key=("grant_key",))
