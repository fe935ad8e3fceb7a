"""Check digits of Russian identifiers (SOURCES.md §6).

ИНН-10: Σ(w·d) mod 11 mod 10 with weights 2,4,10,3,5,9,4,6,8.
ИНН-12: two check digits with weights 7,2,4,10,3,5,9,4,6,8 and 3,7,2,4,10,3,5,9,4,6,8.
ОГРН-13: d13 = int(d1..d12) mod 11 mod 10.
ОГРНИП-15: d15 = int(d1..d14) mod 13 mod 10 (the final mod 10 matters:
remainders 10-12 give a check digit of 0-2).
"""

from __future__ import annotations

from functools import lru_cache

# A large file names the same organisation in many rows: each identifier is checked once.
_CACHE = 1 << 18

_INN10 = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12_A = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12_B = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)


def _check(digits: str, weights: tuple[int, ...]) -> int:
    return sum(w * int(d) for w, d in zip(weights, digits, strict=False)) % 11 % 10


@lru_cache(maxsize=_CACHE)
def is_valid_inn(value: str | None) -> bool:
    """True for a 10-digit (organisation) or 12-digit (person) ИНН with correct check digits."""
    if not value or not value.isascii() or not value.isdigit():
        return False
    if len(value) == 10:
        return _check(value, _INN10) == int(value[9])
    if len(value) == 12:
        return _check(value, _INN12_A) == int(value[10]) and _check(
            value, _INN12_B
        ) == int(value[11])
    return False


@lru_cache(maxsize=_CACHE)
def is_valid_ogrn(value: str | None) -> bool:
    """True for a 13-digit ОГРН or a 15-digit ОГРНИП with a correct check digit."""
    if not value or not value.isascii() or not value.isdigit():
        return False
    if len(value) == 13:
        return int(value[:12]) % 11 % 10 == int(value[12])
    if len(value) == 15:
        return int(value[:14]) % 13 % 10 == int(value[14])
    return False


def ogrn_subject_code(value: str | None) -> str | None:
    """Digits 4-5 of an ОГРН/ОГРНИП: the federal subject where it was registered.

    Taken from any 13- or 15-digit number, valid or not: a mistyped check digit
    does not make the region prefix less likely to be right.
    """
    if value and value.isascii() and value.isdigit() and len(value) in (13, 15):
        return value[3:5]
    return None


def inn_subject_code(value: str | None) -> str | None:
    """Digits 1-2 of an ИНН: the tax-office subject code."""
    if value and value.isascii() and value.isdigit() and len(value) in (10, 12):
        return value[:2]
    return None

