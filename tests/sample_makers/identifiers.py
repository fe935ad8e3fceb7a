"""Identifiers for invented organisations in our samples: valid check digits, or a typo."""

_INN10 = (2, 4, 10, 3, 5, 9, 4, 6, 8)


def inn10(first9: str) -> str:
    check = sum(w * int(d) for w, d in zip(_INN10, first9, strict=True)) % 11 % 10
    return first9 + str(check)


def ogrn13(first12: str) -> str:
    return first12 + str(int(first12) % 11 % 10)


def _off_by_one(good: str) -> str:
    return good[:-1] + str((int(good[-1]) + 1) % 10)


def broken_inn(first9: str) -> str:
    """An ИНН whose last digit is off by one: fails its check, as a typo would."""
    return _off_by_one(inn10(first9))


def broken_ogrn(first12: str) -> str:
    """An ОГРН whose last digit is off by one: fails its check, as a typo would."""
    return _off_by_one(ogrn13(first12))
