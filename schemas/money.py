"""Money in the warehouse, and the one reader of money as sources write it.

The rule every parser and model keeps: an amount is `DECIMAL(18,2)` (`MONEY`), exact
rubles (or another currency, named in a column of its own) with at most two decimal
places, under `MAX_MONEY`, the most that type holds.

`read_money` turns a cell — text as a source printed it, or a spreadsheet's number — into
exact `Decimal` rubles with the text kept beside it. It never rounds, truncates or guesses:
what cannot be read unambiguously raises `MoneyError` (a ValueError) with the reason, which
`scrapers.values.set_converted` turns into a quarantine reason.

Sources disagree about one thing, a comma or dot followed by exactly three digits, so that
is a parameter of the reading (`Convention`):

- `RUSSIAN`, the default: spaces (any kind, tabs too) group thousands, a comma or dot before
  one or two digits marks kopecks (`1 000.50` is 1 000,50); before three digits it could be
  either, and is refused;
- `OPERATOR_LISTS`, the operators' winners lists of 2007–2012: a comma or dot before three
  digits groups thousands (`942.916` is 942 916, `2 млн. 263,800` is 2 263 800); they grant
  whole rubles, so a fraction of a ruble (`373,5`: 373,50 ₽ or 373 500 ₽?) is refused;
- `PRINTED_FIGURES`, figures quoted from printed reports (seed 003): a comma is always the
  decimal mark and may be followed by a space (`155, 990 тыс.` is 155,990 thousand).

Scale words multiply (`85 тыс.`, `1 млн. 300 тыс.`, `2,5 млн.`), parts in decreasing
order, each smaller than the unit before it. Refused with a reason: exponent notation
(`1e309`), `NaN`, `∞` and other words without digits (`сто тысяч`), amounts of
`MAX_MONEY` and over (a 40-digit string), more than two decimal places that are not zeros,
a negative amount where the convention does not allow one.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

MONEY = "DECIMAL(18,2)"
MAX_MONEY = Decimal(10) ** 16
_MAX_DIGITS = 16  # digits before the decimal mark that MAX_MONEY allows
_CENT = Decimal("0.01")


class MoneyError(ValueError):
    """A cell that is not an amount the warehouse can hold exactly; the message says why."""


@dataclass(frozen=True)
class Convention:
    """How one source writes amounts (see the module's docstring)."""

    name: str
    # A comma or dot followed by exactly three digits: thousands, a decimal mark, or refused.
    three_digits: Literal["thousands", "decimal", "ambiguous"] = "ambiguous"
    space_after_comma: bool = False  # `155, 990`: a space after the decimal comma
    negative: bool = True
    whole_rubles: bool = False


RUSSIAN = Convention("russian")
OPERATOR_LISTS = Convention("operator lists", three_digits="thousands", negative=False,
                            whole_rubles=True)
PRINTED_FIGURES = Convention("printed figures", three_digits="decimal", space_after_comma=True,
                             negative=False)


@dataclass(frozen=True)
class Money:
    """An amount read from a cell: exact `amount` (None for an empty cell), `text` as written.

    For a number cell `text` is the number as the cell holds it (`1500000` for 1500000.0).
    """

    amount: Decimal | None
    text: str | None


# Every Unicode space, tabs and line breaks included, and the BOM.
_SPACES = re.compile(r"[\s\u00a0\u202f\u2007\u2009\ufeff]+")
# Box-drawing characters after an amount (`2 000 000,0═`) are a rendering artefact.
_JUNK = re.compile(r"[\u2500-\u257f]+$")
_CURRENCY = re.compile(r"\s*(?:₽|руб(?:лей|ля|ль)?\.?|р\.?)$", re.IGNORECASE)
_SCALES = (
    (re.compile(r"млрд|миллиард(?:а|ов)?", re.IGNORECASE), Decimal(10) ** 9),
    (re.compile(r"млн|миллион(?:а|ов)?", re.IGNORECASE), Decimal(10) ** 6),
    (re.compile(r"тыс(?:яч[аи]?)?", re.IGNORECASE), Decimal(10) ** 3),
)
_SCALE_WORD = re.compile(
    r"(млрд|миллиард(?:а|ов)?|млн|миллион(?:а|ов)?|тыс(?:яч[аи]?)?)\.?", re.IGNORECASE)
_NUMBER_CHARS = re.compile(r"^[\d .,]+$")
_EXPONENT = re.compile(r"\d\s*[eE]\s*[+-]?\d")
_SIGN = re.compile(r"^([+\-\u2212])\s*")
# The number at the start of a printed figure (`269 000 человек`, `155, 990 тыс.руб.`).
_LEADING = re.compile(r"^[+\-\u2212]?\d(?:\d|[.,](?=\d)|[.,] (?=\d)| (?=\d))*")


def read_money(value: Any, convention: Convention = RUSSIAN) -> Money:
    """The exact amount of a cell in `convention`, and the cell as written.

    None, an empty or blank text is `Money(None, None)`; anything else is an amount or a
    MoneyError naming the cell and the reason.
    """
    if value is None:
        return Money(None, None)
    if isinstance(value, str):
        if not _SPACES.sub("", value):
            return Money(None, None)
        return Money(_text_amount(value, convention), value)
    amount, text = _cell_amount(value)
    return Money(checked_money(amount, convention, value), text)


def checked_money(number: Decimal, convention: Convention = RUSSIAN,
                  written: Any = None) -> Decimal:
    """`number` as an amount of two places, or MoneyError: out of range, a fraction of a
    kopeck, a fraction of a ruble in a whole-ruble source, a negative where none is allowed.
    """
    shown = repr(number if written is None else written)
    if not number.is_finite():
        raise MoneyError(f"not a number: {shown}")
    if abs(number) >= MAX_MONEY:
        raise MoneyError(f"amount out of range (10^16 and over): {shown}")
    if number != number.quantize(_CENT):
        raise MoneyError(f"not a number: {shown} (more than two decimal places)")
    if number < 0 and not convention.negative:
        raise MoneyError(f"not a number: {shown} (a negative amount)")
    if convention.whole_rubles and number != number.to_integral_value():
        raise MoneyError(f"not a number: {shown} (a fraction of a ruble in a list of whole "
                         "rubles: the scale is not clear)")
    return number.quantize(_CENT)


def leading_number(text: str, convention: Convention) -> tuple[Decimal, str] | None:
    """The number a printed figure starts with and the words after it; None if none.

    `269 000 человек` -> (269000, ` человек`). The number must end at a word or the end:
    `1e309` or `2.5.1` is a MoneyError, never the `1` or `2.5` at its start.
    """
    stripped = _SPACES.sub(" ", text).strip()
    match = _LEADING.match(stripped)
    if not match:
        return None
    rest = stripped[match.end():]
    if _EXPONENT.search(stripped[: match.end() + 3]):
        raise MoneyError(f"not a number: {text!r} (exponent notation)")
    if rest and not (rest[0] == " " or rest[0].isalpha()):
        raise MoneyError(f"not a number: {text!r} (the number does not end at a word)")
    sign, body = _split_sign(match.group(0))
    if sign and not convention.negative:
        raise MoneyError(f"not a number: {text!r} (a negative amount)")
    number = _number(body, convention, text)
    return (-number if sign else number), rest


def _cell_amount(value: Any) -> tuple[Decimal, str]:
    """A spreadsheet's or a JSON document's number as exact Decimal, and as written."""
    if isinstance(value, bool):
        raise MoneyError(f"not a number: {value!r}")
    if isinstance(value, int):
        return Decimal(value), str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise MoneyError(f"not a finite number: {value!r}")
        return _float_amount(value), (str(int(value)) if value.is_integer() else repr(value))
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise MoneyError(f"not a finite number: {value!r}")
        return value, str(value)
    raise MoneyError(f"not a number: {value!r}")


def _float_amount(value: float) -> Decimal:
    """A float's amount: its shortest decimal form, or the 15 digits a double holds.

    `0.1 + 0.2` (0.30000000000000004) is a spreadsheet's 0,30: a double carries 15
    significant digits, and below 10^13 those include the kopecks; digits past them are
    the binary's noise. Anything else with more than two places is refused, not rounded.
    """
    exact = Decimal(repr(value))
    if abs(value) >= 1e13 or exact == exact.quantize(_CENT):
        return exact
    fifteen = Decimal(format(value, ".15g"))
    return fifteen if fifteen == fifteen.quantize(_CENT) else exact


def _text_amount(value: str, convention: Convention) -> Decimal:
    text = _SPACES.sub(" ", value).strip()
    text = _JUNK.sub("", text).strip()
    text = _CURRENCY.sub("", text).strip()
    if _EXPONENT.search(text):
        raise MoneyError(f"not a number: {value!r} (exponent notation)")
    if not any(c.isdigit() for c in text):
        raise MoneyError(f"not a number: {value!r}")
    sign, text = _split_sign(text)
    parts = _SCALE_WORD.split(text)
    # [number, scale, number, scale, …, number]: the last number has no scale word.
    total = Decimal(0)
    previous: Decimal | None = None
    fractional = False
    for index in range(0, len(parts), 2):
        token = parts[index].strip()
        scale = _scale(parts[index + 1]) if index + 1 < len(parts) else Decimal(1)
        if not token:
            if index + 1 < len(parts) or index == 0:
                raise MoneyError(f"not a number: {value!r} (a scale word without a number)")
            continue
        if not _NUMBER_CHARS.match(token):
            raise MoneyError(f"not a number: {value!r}")
        number = _number(token, convention, value)
        part = number * scale
        if previous is not None and (scale >= previous or part >= previous):
            raise MoneyError(f"not a number: {value!r} (its parts are not in decreasing units)")
        if fractional:
            raise MoneyError(f"not a number: {value!r} (a fraction before another part)")
        total += part
        previous = scale
        fractional = number != number.to_integral_value()
    return checked_money(-total if sign else total, convention, value)


def _split_sign(text: str) -> tuple[bool, str]:
    match = _SIGN.match(text)
    if not match:
        return False, text
    return match.group(1) != "+", text[match.end():]


def _scale(word: str) -> Decimal:
    for pattern, scale in _SCALES:
        if pattern.fullmatch(word):
            return scale
    raise MoneyError(f"unknown scale word {word!r}")  # pragma: no cover - the split's own words


def _number(token: str, convention: Convention, written: Any) -> Decimal:
    """Digits, single spaces, commas and dots -> the number they write in `convention`."""
    shown = repr(written)
    if convention.space_after_comma:
        token = token.replace(", ", ",")
    pieces = re.split(r"([ .,])", token)
    digits, separators = pieces[0::2], pieces[1::2]
    if any(not d.isdigit() for d in digits):
        raise MoneyError(f"not a number: {shown}")
    marks = [i for i, s in enumerate(separators) if s in ".,"]
    decimal_at = None
    if marks:
        last = marks[-1]
        after = digits[last + 1]
        is_last_group = last == len(separators) - 1
        if len(after) != 3 or not is_last_group or convention.three_digits == "decimal":
            decimal_at = last
        elif convention.three_digits == "ambiguous":
            raise MoneyError(f"not a number: {shown} (a {_mark_name(separators[last])} before "
                             "three digits could be a decimal mark or a thousands separator)")
    grouping = [s for i, s in enumerate(separators) if i != decimal_at]
    if decimal_at is not None and any(i > decimal_at for i in range(len(separators))):
        raise MoneyError(f"not a number: {shown}")
    if any(s in ".," for s in grouping) and convention.three_digits != "thousands":
        raise MoneyError(f"not a number: {shown}")
    if decimal_at is not None and separators[decimal_at] in grouping:
        raise MoneyError(f"not a number: {shown} (the same mark groups and divides)")
    whole = digits[: len(grouping) + 1]
    if grouping and (len(whole[0]) > 3 or any(len(g) != 3 for g in whole[1:])):
        raise MoneyError(f"not a number: {shown} (digits grouped irregularly)")
    integer = "".join(whole).lstrip("0") or "0"
    if len(integer) > _MAX_DIGITS:
        raise MoneyError(f"amount out of range (10^16 and over): {shown}")
    fraction = digits[-1] if decimal_at is not None else ""
    if len(fraction) > 40:
        raise MoneyError(f"not a number: {shown} (more than two decimal places)")
    try:
        return Decimal(f"{integer}.{fraction}" if fraction else integer)
    except InvalidOperation as exc:  # pragma: no cover - only digits reach here
        raise MoneyError(f"not a number: {shown}") from exc


def _mark_name(mark: str) -> str:
    return "comma" if mark == "," else "dot"
