"""Money in the warehouse: `DECIMAL(18,2)`, the currency in a column of its own.

The rule every parser and model keeps: an amount has two decimal places and is under
`MAX_MONEY`, the most `DECIMAL(18,2)` holds. The reading of money written as text is
`scrapers.values.parse_money`, which refuses an amount the type cannot hold.
"""

from __future__ import annotations

from decimal import Decimal

MONEY = "DECIMAL(18,2)"
MAX_MONEY = Decimal(10) ** 16
