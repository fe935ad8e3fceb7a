"""Электронный бюджет: the registry of subsidy agreements (budget.gov.ru JSON API).

SOURCES.md §3a. A page of the registry is
`{"recordCount": N, "data": [agreement, ...]}`; an agreement carries `info`
(number, dates, sum, currency), `grbs` (the grantor), `receiver[]` (one or more
recipients), `plansSubject[]` (per КБК: purpose and `facts[]` per period), and
also `addagreement[]` (amendments), `plansNormalized[]`, `npa[]`, `typereport[]`.

Two parsers, both pure (bytes in, columns out: a polars DataFrame each):

- `parse_agreements`: one row per agreement × recipient. The agreement's
  amount is repeated on each of its recipients (`recipient_count` says how many
  share it), so a sum over recipients must divide or deduplicate.
- `parse_agreement_periods`: one row per agreement × КБК × period of
  `plansSubject[].facts[]` (the plan as it stands; amendments in `addagreement[]`
  are counted in `amendment_count` and not added again), each year's money once:
  a year the registry lists both as months and as a year (`20201200` and
  `20200001`) keeps its months or one row of its total, preferring the total in
  `plansNormalized[].byYear`, never both (`origin` says which).

The warehouse keeps agreements with non-profit recipients only, in the sense of
expense type 630: non-profit organisations other than state and municipal
institutions. `is_nonprofit` is derived from the recipient's ОКОПФ (see
`schemas.vocabularies.legal_forms`); recipients that are certainly not such
non-profits (`is_nonprofit` False) are left out, and an agreement whose recipients are all
left out has no periods either. A recipient whose ОКОПФ does not decide
(missing, malformed, or outside the sourced groups) is kept with
`is_nonprofit` None, so nothing is dropped on a guess. `include_all=True`
returns every recipient.

Values that do not convert are stored as None with a reason in `_errors`, so the
validator quarantines the record instead of the load guessing.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import math
import re
import struct
from array import array
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from itertools import accumulate, chain, compress, islice, repeat
from operator import attrgetter, is_, is_not, itemgetter, not_
from typing import Any
from urllib.parse import urlencode

import msgspec
import polars as pl
import pyarrow as pa
from msgspec.structs import astuple
from polars._typing import PolarsDataType

from schemas.records import cycles_not_collected
from schemas.vocabularies.legal_forms import nonprofit_by_okopf
from scrapers.values import clean_text, parse_date, parse_identifier, parse_money, set_converted

HOST = "budget.gov.ru"
DATA_URL = f"https://{HOST}/epbs/registry/grants/data"
PARSER_VERSION = "ebudget/1"
MONEY_TYPE = pl.Decimal(18, 2)

# Live pages are fetched 1 000 records at a time (the most the API is asked for in
# SOURCES.md §3a). Our offline samples are pages of SAMPLE_PAGE_SIZE records at the
# URL `page_url(n, SAMPLE_PAGE_SIZE)`: an offline run must ask for that page size,
# or it asks for URLs we have no copy of.
PAGE_SIZE = 1000
SAMPLE_PAGE_SIZE = 4
BLOCKS = "info,grbs,receiver,plansSubject"
MIN_START_DATE = "01.01.2017"

# Budget level by the grantor's budget type: the code `01` is the federal budget
# (SOURCES.md §3a); other levels are read from the name, which is what we have seen.
_FEDERAL_BUDGET_CODES = frozenset({"01"})
_BUDGET_LEVEL_WORDS = (
    ("федеральн", "federal"),
    ("внебюджетн", "extrabudgetary_fund"),
    ("субъект", "regional"),
    ("региональн", "regional"),
    ("краев", "regional"),
    ("областн", "regional"),
    ("республиканск", "regional"),
    ("окружн", "regional"),
    ("местн", "municipal"),
    ("муниципальн", "municipal"),
    ("городск", "municipal"),
    ("поселени", "municipal"),
    ("район", "municipal"),
)

_DATE_TEXT = re.compile(r"^\d{2}\.\d{2}\.\d{4}$")
_PERIOD = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
# Moscow has kept UTC+3 all year since October 2014; every agreement here is from 2017 on.
_MOSCOW = timezone(timedelta(hours=3))
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_QUOTE_CLOSERS = frozenset(",}]:")
_IN_STRING_STOP = re.compile(r'["\\]')
# A run of text whose strings all end at their first unescaped quote, each such quote
# followed by what may follow a string (`_QUOTE_CLOSERS`): nothing in it is repaired. The
# possessive repeats never backtrack.
_NOTHING_TO_REPAIR = re.compile(
    r'(?:[^"]++|"(?:[^"\\]++|\\.)*+"(?=[ \t\r\n]*+(?:[,}\]:]|\Z)))*+', re.DOTALL)
_JSON_SPACE = re.compile(r"[ \t\r\n]*")
_JSON = msgspec.json.Decoder()


# --- URLs and paging ----------------------------------------------------------------------


def page_url(page: int, page_size: int = PAGE_SIZE, min_start_date: str = MIN_START_DATE) -> str:
    """The registry page `page` (1-based) of agreements starting on or after `min_start_date`."""
    if page < 1 or page_size < 1:
        raise ValueError(f"page and page size must be positive: {page}, {page_size}")
    if not _DATE_TEXT.match(min_start_date):
        raise ValueError(f"min_start_date must be dd.mm.yyyy, got {min_start_date!r}")
    query = urlencode(
        {
            "pageNum": page,
            "pageSize": page_size,
            "blocks": BLOCKS,
            "filterminstartdate": min_start_date,
        },
        safe=",",
    )
    return f"{DATA_URL}?{query}"


def parse_page_count(body: bytes, page_size: int = PAGE_SIZE, *, url: str = "") -> int:
    """How many pages of `page_size` hold `recordCount` records, the last short page counted.

    `ceil`, not floor: 2 001 records are three pages of 1 000, the third holding one.
    An empty registry is one (empty) page, the one already fetched.
    """
    where = url or "ebudget page"
    document, _ = _load(body, where)
    count = document.get("recordCount") if isinstance(document, dict) else None
    if isinstance(count, str) and count.strip().isdigit():
        count = int(count.strip())
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise ValueError(f"{where}: recordCount missing or not a count: {count!r}")
    if page_size < 1:
        raise ValueError(f"{where}: page size must be positive, got {page_size}")
    return max(1, math.ceil(count / page_size))


# --- the two parsers ----------------------------------------------------------------------


def parse_agreements(body: bytes, *, url: str = "", include_all: bool = False) -> pl.DataFrame:
    """One row per agreement × recipient; `_row` is the agreement's position on the page.

    Built as columns: each field's values are gathered from the page as they are, then
    converted column by column, each distinct value once where values repeat
    (`_Page`, `_agreements_frame`, `_recipient_columns`).
    """
    return _page_table(body, url, include_all, _AGREEMENTS)


def parse_agreement_periods(body: bytes, *, url: str = "", include_all: bool = False
                            ) -> pl.DataFrame:
    """One row per agreement × КБК × period of its plan, each year's money once.

    The registry lists a year's money more than once: record 250939 has its 2020
    money as the month `20201200`, as the year `20200001` and in
    `plansNormalized[].byYear["2020"].total`, so adding every `facts[]` row of a
    year counts it twice. The rows given never overlap: any sum over a year
    counts its money once (see `_year_records`). `origin` says what a row is.
    """
    return _page_table(body, url, include_all, _PERIODS)


_AGREEMENTS, _PERIODS = "agreements", "periods"
# Both tables of a page come from one decode of it: the parser asked first builds both and
# keeps the other table here until its parser asks for the same page (a load reads both
# tables of the same pages, one after the other). Bounded: a page not asked for again is
# let go, oldest first, and then simply parsed again when it is asked for. Each table is
# kept with its size.
_KEPT: OrderedDict[tuple[str, bytes, bool], tuple[pl.DataFrame, int]] = OrderedDict()
_KEPT_BYTES = 128 << 20


def _page_table(body: bytes, url: str, include_all: bool, wanted: str) -> pl.DataFrame:
    digest = hashlib.sha256(body).digest()
    kept = _KEPT.pop((wanted, digest, include_all), None)
    if kept is not None:
        return kept[0]
    # A page's parse makes some hundred thousand short-lived lists and tuples, none in a
    # cycle: the collector, run again and again by their number, would cost a fifth of it.
    with cycles_not_collected():
        return _page_tables(body, url, include_all, wanted, digest)


def _page_tables(body: bytes, url: str, include_all: bool, wanted: str, digest: bytes
                 ) -> pl.DataFrame:
    page = _read_page(body, url or "ebudget page")
    agreements = _agreements_frame(page)
    kept = None
    if not include_all:
        # The rows kept: those whose `is_nonprofit` is not False (True or undecided).
        keep = list(map(is_not, agreements.get_column("is_nonprofit").to_list(),
                        repeat(False)))
        rows = agreements.get_column("_row").to_list()
        if not all(keep):
            agreements = agreements[pl.Series(list(compress(range(len(keep)), keep)),
                                              dtype=pl.UInt32)]
        # An agreement has periods when a recipient of it is kept, or it has none (its one
        # row then has no ОКОПФ, which keeps it): when it has a row among the agreements kept.
        kept = set(compress(rows, keep))
    periods = _periods_frame(page, kept)
    frame, other, other_name = ((agreements, periods, _PERIODS) if wanted == _AGREEMENTS
                                else (periods, agreements, _AGREEMENTS))
    _KEPT[(other_name, digest, include_all)] = other, other.estimated_size()
    _trim_kept()
    return frame


def _trim_kept() -> None:
    total = sum(size for _, size in _KEPT.values())
    while len(_KEPT) > 1 and total > _KEPT_BYTES:
        total -= _KEPT.popitem(last=False)[1][1]


class KeptTables:
    """The tables kept for one parser (`wanted`), handed between the processes of a load.

    A load that parses its pages in several processes (`pipelines.parsing.parse_documents`)
    takes, with each part a helper process parsed, the other table of those pages that the
    helper kept (`export`) and keeps it here (`adopt`): the other table's load then finds
    it as if the page had been parsed in this process, and `take`s here, without reading
    the page again, the tables it `holds`. Kept tables stay bounded as any others
    (`_KEPT_BYTES`).
    """

    def __init__(self, wanted: str) -> None:
        self.wanted = wanted

    def holds(self, sha256: str) -> bool:
        """Whether the table of the page with this SHA-256 (the raw store's key) is kept."""
        return (self.wanted, bytes.fromhex(sha256), False) in _KEPT

    def take(self, sha256: str) -> pl.DataFrame | None:
        """The kept table of the page with this SHA-256, let go here; None if not kept. The
        parser would give the same for the page's bytes, which need not then be read."""
        kept = _KEPT.pop((self.wanted, bytes.fromhex(sha256), False), None)
        return None if kept is None else kept[0]

    def export(self) -> list[tuple[tuple[str, bytes, bool], tuple[pl.DataFrame, int]]]:
        """Every table this process keeps, let go here."""
        items = list(_KEPT.items())
        _KEPT.clear()
        return items

    def adopt(self, items: list[tuple[tuple[str, bytes, bool], tuple[pl.DataFrame, int]]]
              ) -> None:
        """Keep tables another process exported."""
        _KEPT.update(items)
        _trim_kept()


KEPT_AGREEMENTS, KEPT_PERIODS = KeptTables(_AGREEMENTS), KeptTables(_PERIODS)


# The fields of an agreement and of a recipient that the tables take, in the order `_Page`
# gathers them.
_INFO_FIELDS = ("regNum", "numAgreem", "dateAgreem", "startDate", "endDate", "sum",
                "currencyCode")
_GRANTOR_FIELDS = ("inn", "fullName", "budgtypecode", "budgtypename", "budgetcode")
_RECIPIENT_FIELDS = ("fullName", "shortName", "inn", "kpp", "ogrn", "okopf")
_ADDRESS_FIELDS = ("regionCode", "regionName", "oktmo")
_NOTHING: dict = {}  # stands for a part that is missing or not an object; never written to


class _Page:
    """A page's values gathered in one pass over its agreements, as the page has them (None
    for a field that is missing): one tuple per field of `_INFO_FIELDS` then
    `_GRANTOR_FIELDS` (`agreement`), of `_RECIPIENT_FIELDS` then `_ADDRESS_FIELDS`
    (`recipient`, a row per agreement × recipient, an agreement without any having one of
    nothing); the plan subjects of every agreement one after the other as (purpose, КБК as
    text, facts as `_Fact`), with the position of the agreement of each (`subject_owner`)
    and the number of each agreement's (`subject_counts`); each agreement's
    `plansNormalized` as the page has it.

    Built from the decoded JSON (`of_objects`) or, faster, from the typed structs the usual
    page decodes to (`of_structs`): the two give the same page.
    """

    rows: list[int]
    repaired: set[int]
    agreement: list[tuple]
    recipient: list[tuple]
    owner: list[int]
    recipient_counts: list[int]
    amendment_counts: list[int]
    subjects: list[tuple[Any, str | None, Sequence[_Fact]]]
    subject_owner: list[int]
    subject_counts: list[int]
    normalized: list[Any]
    reg_nums: pl.Series
    ids: pl.Series

    @classmethod
    def of_objects(cls, items: list[tuple[int, dict]], repaired: set[int]) -> _Page:
        page = cls()
        agreements: list[tuple] = []
        recipients: list[tuple] = []
        ids: list[Any] = []
        page.rows = [row for row, _ in items]
        page.repaired = repaired
        page.owner, page.recipient_counts, page.amendment_counts = [], [], []
        subjects: list[list[tuple[Any, str | None, Sequence[_Fact]]]] = []
        page.normalized = []
        for index, (_, item) in enumerate(items):
            info, grantor = item.get("info"), item.get("grbs")
            info = info if isinstance(info, dict) else _NOTHING
            grantor = grantor if isinstance(grantor, dict) else _NOTHING
            agreements.append((*map(info.get, _INFO_FIELDS), *map(grantor.get, _GRANTOR_FIELDS)))
            ids.append(item.get("id"))
            found = item.get("receiver")
            found = found if isinstance(found, list) else []
            page.recipient_counts.append(len(found))
            for recipient in found or (None,):
                recipient = recipient if isinstance(recipient, dict) else _NOTHING
                address = recipient.get("localAddress")
                address = address if isinstance(address, dict) else _NOTHING
                recipients.append((*map(recipient.get, _RECIPIENT_FIELDS),
                                   *map(address.get, _ADDRESS_FIELDS)))
                page.owner.append(index)
            plans = item.get("plansSubject")
            subjects.append([
                (s.get("purpose"), _text(s.get("kbk")), _facts(s.get("facts")))
                for s in ((s if isinstance(s, dict) else _NOTHING) for s in plans)]
                if isinstance(plans, list) else [])
            amendments = item.get("addagreement")
            page.amendment_counts.append(len(amendments) if isinstance(amendments, list) else 0)
            page.normalized.append(item.get("plansNormalized"))
        page.agreement = _transposed(agreements, len(_INFO_FIELDS) + len(_GRANTOR_FIELDS))
        page.recipient = _transposed(recipients, len(_RECIPIENT_FIELDS) + len(_ADDRESS_FIELDS))
        page._plan(list(map(len, subjects)), list(chain.from_iterable(subjects)))
        page._identify(ids)
        return page

    @classmethod
    def of_structs(cls, items: list[_Agreement]) -> _Page:
        page = cls()
        page.rows = list(range(1, len(items) + 1))
        page.repaired = set()
        page.agreement = (_transposed([astuple(i.info or _NO_INFO) for i in items],
                                      len(_INFO_FIELDS))
                          + _transposed([astuple(i.grbs or _NO_GRANTOR) for i in items],
                                        len(_GRANTOR_FIELDS)))
        found = [i.receiver or _NO_RECIPIENTS for i in items]
        page.recipient_counts = [len(f) if f is not _NO_RECIPIENTS else 0 for f in found]
        if all(count == 1 for count in page.recipient_counts):
            page.owner = list(range(len(items)))
            recipients = [f[0] for f in found]
        else:
            page.owner = [index for index, f in enumerate(found) for _ in f]
            recipients = [r for f in found for r in f]
        # A recipient's fields, then its address's (astuple ends with the address).
        page.recipient = (_transposed([astuple(r) for r in recipients],
                                      len(_RECIPIENT_FIELDS) + 1)[:-1]
                          + _transposed([astuple(r.localAddress or _NO_ADDRESS)
                                         for r in recipients], len(_ADDRESS_FIELDS)))
        plans = [i.plansSubject or () for i in items]
        subjects = list(chain.from_iterable(plans))
        page._plan(list(map(len, plans)),
                   list(zip(map(_PURPOSE_OF, subjects), _texts(list(map(_KBK_OF, subjects))),
                            [s.facts or () for s in subjects], strict=True)))
        page.amendment_counts = [len(i.addagreement or ()) for i in items]
        page.normalized = [i.plansNormalized for i in items]
        page._identify([i.id for i in items])
        return page

    def _plan(self, counts: list[int], subjects: list[tuple[Any, str | None, Sequence[_Fact]]]
              ) -> None:
        self.subjects, self.subject_counts = subjects, counts
        self.subject_owner = (list(range(len(counts))) if self.one_subject_each()
                              else list(chain.from_iterable(map(repeat, range(len(counts)),
                                                                counts))))

    def one_subject_each(self) -> bool:
        """Whether every agreement has one plan subject, as on the usual page."""
        return self.subject_counts.count(1) == len(self.subject_counts)

    def subjects_of(self) -> list[list[tuple[Any, str | None, Sequence[_Fact]]]]:
        """Each agreement's plan subjects."""
        rest = iter(self.subjects)
        return [list(islice(rest, count)) for count in self.subject_counts]

    def _identify(self, ids: list[Any]) -> None:
        self.reg_nums = _text_column(self.agreement[0], _text, _CLEAN)
        # The registry's `id`; records without one are known by their registry number
        # (`_text` never gives an empty text, so a missing id is the only one passed over).
        found = _text_column(ids, _text, _CLEAN)
        self.ids = (found.zip_with(found.is_not_null(), self.reg_nums) if found.has_nulls()
                    else found)


_PURPOSE_OF, _KBK_OF = attrgetter("purpose"), attrgetter("kbk")


def _facts(facts: Any) -> list[_Fact]:
    """The facts of a plan subject as the typed page has them; one that is not an object has
    no period and no amount."""
    return [_Fact(f.get("period"), f.get("sumsubrub")) if isinstance(f, dict) else _Fact()
            for f in _list(facts)]


# The usual page as typed structs: the fields the tables take, each as the page has it (the
# values are what the untyped decode gives), the rest of an object skipped unread. A page
# that does not fit them (a part of another kind than these) is read untyped.
class _Info(msgspec.Struct, gc=False):  # fields in the order of `_INFO_FIELDS`
    regNum: Any = None
    numAgreem: Any = None
    dateAgreem: Any = None
    startDate: Any = None
    endDate: Any = None
    sum: Any = None
    currencyCode: Any = None


class _Grantor(msgspec.Struct, gc=False):  # `_GRANTOR_FIELDS`
    inn: Any = None
    fullName: Any = None
    budgtypecode: Any = None
    budgtypename: Any = None
    budgetcode: Any = None


class _Address(msgspec.Struct, gc=False):  # `_ADDRESS_FIELDS`
    regionCode: Any = None
    regionName: Any = None
    oktmo: Any = None


class _Recipient(msgspec.Struct, gc=False):  # `_RECIPIENT_FIELDS`, then the address
    fullName: Any = None
    shortName: Any = None
    inn: Any = None
    kpp: Any = None
    ogrn: Any = None
    okopf: Any = None
    localAddress: _Address | None = None


class _Fact(msgspec.Struct, gc=False):
    period: Any = None
    sumsubrub: Any = None


class _Subject(msgspec.Struct, gc=False):
    kbk: Any = None
    purpose: Any = None
    facts: list[_Fact] | None = None


class _Agreement(msgspec.Struct, gc=False):
    id: Any = None
    info: _Info | None = None
    grbs: _Grantor | None = None
    receiver: list[_Recipient] | None = None
    plansSubject: list[_Subject] | None = None
    addagreement: list[msgspec.Raw] | None = None  # only counted
    plansNormalized: Any = None


class _Registry(msgspec.Struct, gc=False):
    data: list[_Agreement] | None = None


# Structs are not tracked by the cycle collector (`gc=False`): decoded JSON holds no cycle.
_TYPED = msgspec.json.Decoder(_Registry)
_NO_INFO, _NO_GRANTOR, _NO_ADDRESS = _Info(), _Grantor(), _Address()
_NO_RECIPIENTS = [_Recipient()]  # an agreement without recipients has one row of nothing


def _read_page(body: bytes, where: str) -> _Page:
    """The page's values: from the typed structs when the page fits them, else from its
    decoded JSON (`_page_items`), which also reads what msgspec refuses and mends quotes."""
    text = memoryview(body)[3:] if body.startswith(codecs.BOM_UTF8) else body
    if _is_utf8(text):
        try:
            page = _TYPED.decode(text)
        except msgspec.DecodeError:
            pass
        else:
            if page.data is not None:
                return _Page.of_structs(page.data)
    return _Page.of_objects(*_page_items(body, where))


def _is_utf8(data: bytes | memoryview) -> bool:
    """Whether the bytes are UTF-8 text. The typed decode does not look inside what it
    skips, and a page the untyped decode refuses as not UTF-8 must be refused all the same;
    Arrow validates in place, much faster than decoding the text."""
    size = len(data)
    offsets = pa.py_buffer(struct.pack("<qq", 0, size))
    try:
        pa.LargeStringArray.from_buffers(1, offsets, pa.py_buffer(data)).validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True


def _transposed(rows: list[tuple], width: int) -> list[tuple]:
    return list(zip(*rows, strict=True)) if rows else [()] * width


def _agreements_frame(page: _Page) -> pl.DataFrame:
    """Every agreement × recipient row of the page, non-profit or not."""
    (_, numbers, signed, starts, ends, sums, currencies,
     grantor_inns, grantor_names, budget_codes, budget_names, budget_numbers) = page.agreement
    out: dict[str, pl.Series] = {
        "_row": pl.Series(page.rows, dtype=pl.Int64),
        "agreement_id": page.ids,
        "reg_num": page.reg_nums,
        "agreement_number": _text_column(numbers, _text, _CLEAN),
    }
    errors = []
    for field, values in zip(_AGREEMENT_DATES, (signed, starts, ends), strict=True):
        out[field], error = _date_column(values, field)
        errors.append(error)
    out["amount"], error = _money_column(sums, "amount")
    errors.append(error)
    out["currency"] = pl.Series(_each_distinct(currencies, _currency), dtype=pl.String)
    out["grantor_inn"] = _identifiers(grantor_inns)
    out["grantor_name"] = pl.Series(_each_distinct(grantor_names, _clean_text),
                                    dtype=pl.String)
    out["budget_level"] = pl.Series(_budget_levels(budget_codes, budget_names),
                                    dtype=pl.String)
    out["budget_code"] = _text_column(budget_numbers, _text, _CLEAN)
    out["purpose"] = pl.Series(_purposes(page), dtype=pl.String)
    out["kbk"] = _kbk_column(page)
    out["amendment_count"] = pl.Series(page.amendment_counts, dtype=pl.Int32)
    out["repaired"] = pl.Series([row in page.repaired for row in page.rows]
                                if page.repaired else [False] * len(page.rows),
                                dtype=pl.Boolean)
    out["recipient_count"] = pl.Series(page.recipient_counts, dtype=pl.Int32)
    out["_errors"] = (_text_lists(_reasons_by_row([e.to_list() for e in errors]))
                      if any(e.null_count() < e.len() for e in errors)
                      else _no_texts(len(page.rows)))
    agreements = pl.DataFrame(out)
    if page.owner != list(range(len(page.rows))):
        agreements = agreements[page.owner]
    return pl.concat([agreements, _recipient_columns(page)], how="horizontal")


def _purposes(page: _Page) -> list[str | None]:
    """Each agreement's purpose: the first of its plan subjects' that is not blank."""
    if page.one_subject_each():
        return _each_distinct(list(map(itemgetter(0), page.subjects)), _clean_text)
    seen: dict[str, str | None] = {}
    out = []
    for subjects in page.subjects_of():
        found = None
        for text, _, _ in subjects:
            if text.__class__ is str:
                found = seen.get(text, _UNHASHABLE)
                if found is _UNHASHABLE:
                    found = seen[text] = _clean_text(text)
            else:
                found = _clean_text(text)
            if found:
                break
        out.append(found)
    return out


def _kbk_column(page: _Page) -> pl.Series:
    """`_kbk_lists` as a List(String) column; on the usual page, one КБК each, laid out
    from the КБК at once."""
    if page.one_subject_each():
        kbks = list(map(itemgetter(1), page.subjects))
        if all(kbks):  # a list of one each
            return pl.Series(kbks, dtype=pl.String).reshape((-1, 1)).cast(pl.List(pl.String))
    return _text_lists(_kbk_lists(page.subjects_of()))


def _kbk_lists(subjects_of: list[list[tuple[Any, str | None, Any]]]) -> list[list[str]]:
    """Each agreement's КБК, each once, in the order of its plan."""
    out = []
    for subjects in subjects_of:
        if len(subjects) == 1:
            kbk = subjects[0][1]
            out.append([kbk] if kbk else [])
        else:
            out.append(list(dict.fromkeys(k for _, k, _ in subjects if k)))
    return out


def _recipient_columns(page: _Page) -> pl.DataFrame:
    """The recipient fields of each (agreement, recipient) row."""
    names, short_names, inns, kpps, ogrns, okopfs, regions, region_names, oktmos = \
        page.recipient
    okopf = _identifiers(okopfs, _okopf)
    return pl.DataFrame({
        "recipient_name": _text_column(names, _clean_text, _CLEAN),
        "recipient_short_name": _text_column(short_names, _clean_text, _CLEAN),
        "recipient_inn": _identifiers(inns),
        "recipient_kpp": _identifiers(kpps),
        "recipient_ogrn": _identifiers(ogrns),
        "recipient_okopf": okopf,
        "recipient_region_code": _identifiers(regions, _region_code, shortest=2),
        "recipient_region_name": pl.Series(_each_distinct(region_names, _clean_text),
                                           dtype=pl.String),
        "recipient_oktmo": _identifiers(oktmos),
        "is_nonprofit": pl.Series(_each_distinct(okopf.to_list(), is_nonprofit_okopf),
                                  dtype=pl.Boolean),
    })


def _periods_frame(page: _Page, kept: set[int] | None) -> pl.DataFrame:
    """The period rows of the agreements at the positions `kept` (None: of every one).

    The usual page is read fact by fact all at once (`_plain_facts`): each plan subject
    then gives its facts as they are, unless it holds a year row or a period twice, or its
    agreement has `plansNormalized` totals; those subjects, and every subject of a page not
    usual, are read one by one (`_odd_subject_rows`).
    """
    for cache in (_PERIOD_TEXTS, _PERIOD_KINDS):
        if len(cache) > _PERIOD_TEXTS_KEPT:
            cache.clear()
    subjects, owner = page.subjects, page.subject_owner
    if kept is not None:
        wanted = list(map(kept.__contains__, page.rows))
        if not all(wanted):
            picks = list(compress(range(len(owner)), map(wanted.__getitem__, owner)))
            subjects = list(map(subjects.__getitem__, picks))
            owner = list(map(owner.__getitem__, picks))
    counts = list(map(len, map(itemgetter(2), subjects)))
    subject_of = list(chain.from_iterable(map(repeat, range(len(subjects)), counts)))
    plain = _plain_facts(list(chain.from_iterable(map(itemgetter(2), subjects))))
    years: set[int] = set()
    if plain is None:
        odd: set[int] = set(range(len(subjects)))
        columns: list[list[Any]] = [[] for _ in range(5)]
        subject_of = []
    else:
        columns = plain
        codes, origins = plain[0], plain[4]
        # A year row (its origin None): the plan's years are weighed (`_years_once`).
        years = set(compress(subject_of, map(not_, origins)))
        odd = set()
        pairs = list(zip(subject_of, codes, strict=True))
        if len(set(pairs)) < len(pairs):  # a period given twice
            odd.update(subject for (subject, _), count in Counter(pairs).items() if count > 1)
        if any(page.normalized):
            normalized = {index for index, plans in enumerate(page.normalized)
                          if _has_totals(plans)}
            odd.update(compress(range(len(owner)), map(normalized.__contains__, owner)))
        years -= odd
    errors: list[list[str]] = [_NO_ERRORS] * len(columns[0])
    order = None
    if odd or years:
        order = _with_odd_subjects(page, subjects, owner, counts, odd, years, columns,
                                   subject_of, errors)
    at = list(map(owner.__getitem__, subject_of))
    ids = page.ids.to_list()
    kbks = list(map(itemgetter(1), subjects))
    codes, years_, months, amounts, origins = columns
    # In the order a quarantined row shows its fields.
    frame = pl.DataFrame([
        pl.Series("agreement_id", list(map(ids.__getitem__, at)), dtype=pl.String),
        pl.Series("kbk", list(map(kbks.__getitem__, subject_of)), dtype=pl.String),
        pl.Series("period_code", codes, dtype=pl.String),
        pl.Series("year", years_, dtype=pl.Int32),
        pl.Series("month", months, dtype=pl.Int32),
        # Amounts reach polars fastest as their text, which is exact.
        pl.Series("amount", amounts, dtype=pl.String).cast(MONEY_TYPE),
        pl.Series("origin", origins, dtype=pl.String),
        pl.Series("_row", list(map(page.rows.__getitem__, at)), dtype=pl.Int64),
        _text_lists(errors).alias("_errors"),
    ])
    return frame if order is None else frame[pl.Series(order, dtype=pl.UInt32)]


_NO_ERRORS: list[str] = []  # the reasons of a row without any; never written to


def _has_totals(plans: Any) -> bool:
    return isinstance(plans, list) and bool(plans)


def _with_odd_subjects(page: _Page, subjects: list[tuple[Any, str | None, Sequence[_Fact]]],
                       owner: list[int], counts: list[int], odd: set[int], years: set[int],
                       columns: list[list[Any]], subject_of: list[int],
                       errors: list[list[str]]) -> list[int] | None:
    """Appends to the columns the rows of each subject in `odd` read one by one
    (`_odd_subject_rows`), and of each in `years` weighed year by year (`_years_once`);
    returns the order of the rows to keep: the rows `_plain_facts` gave, each of those
    subjects' in place of its facts' (None: the rows as they are, none given before)."""
    order: list[int] = []
    given = len(columns[0])
    starts = list(accumulate(counts, initial=0))
    totals: dict[int, dict] = {}
    grouped: list[list[tuple[Any, str | None, Sequence[_Fact]]]] = []  # read when needed
    ids = page.ids.to_list()
    read: list[Sequence[Any]] = []  # the rows read, after the rows given
    read_errors: list[list[str]] = []
    read_subjects: list[int] = []
    codes, years_, months, amounts, origins = columns
    done = 0  # the rows given before it are in `order`
    for subject in sorted(odd | years):
        start, end = starts[subject], starts[subject + 1]
        order.extend(range(done, start))
        done = end
        if subject in years:
            rows: list[Sequence[Any]] = _years_once(list(map(list, zip(
                codes[start:end], years_[start:end], months[start:end], amounts[start:end],
                origins[start:end], strict=True))))
            read_errors.extend([_NO_ERRORS] * len(rows))
        else:
            index = owner[subject]
            _, kbk, facts = subjects[subject]
            if index not in totals:
                plans = page.normalized[index]
                if _has_totals(plans):
                    grouped = grouped or page.subjects_of()
                    totals[index] = _normalized_totals(plans, [k for _, k, _ in grouped[index]])
                else:
                    totals[index] = {}
            rows = _odd_subject_rows(facts, kbk, totals[index], page.rows[index], ids[index],
                                     read_errors)
        order.extend(range(given + len(read), given + len(read) + len(rows)))
        read.extend(rows)
        read_subjects.extend([subject] * len(rows))
    order.extend(range(done, given))
    for i, column in enumerate(columns):
        column.extend(map(itemgetter(i), read))
    errors.extend(read_errors)
    subject_of.extend(read_subjects)
    return order if given else None


def _odd_subject_rows(facts: Sequence[_Fact], kbk: str | None, totals: dict[str | None, Any],
                      row: int, agreement_id: str | None, errors: list[list[str]]
                      ) -> list[Sequence[Any]]:
    """(period code, year, month, amount as text, origin) of each row of one plan subject:
    by `_plain_plan` for the usual plan, else by `_plan_records`; each row's reasons are
    added to `errors`."""
    plain = None if kbk in totals else _plain_plan(facts, _PERIOD_TEXTS)
    if plain is not None:
        errors.extend([_NO_ERRORS] * len(plain))
        return plain
    records = _plan_records(_fact_records(facts, row, agreement_id, kbk),
                            totals.get(kbk, {}), row, agreement_id, kbk)
    errors.extend(record.get("_errors") or _NO_ERRORS for record in records)
    return [(record["period_code"], record["year"], record["month"],
             None if record["amount"] is None else str(record["amount"]), record["origin"])
            for record in records]


def _plain_facts(facts: list[_Fact]) -> list[list[Any]] | None:
    """(period codes, years, months, amounts as text, origins) of the facts, all read at
    once, each as `_plain_plan` reads it in a plan of months; None unless every fact's
    period is text that parses and its amount a plain JSON number (`_MONEY_TEXTS`). A year
    row's origin is None: its plan is not one of months."""
    texts = list(map(_PERIOD_OF, facts))
    kinds = _PERIOD_KINDS
    try:
        found = list(map(kinds.get, texts))
    except TypeError:  # a period that is an object or a list
        return None
    if None in found:  # a text not read before, or one that does not parse
        for index in list(compress(range(len(found)), map(is_, found, repeat(None)))):
            text = texts[index]
            if text.__class__ is not str or (text in kinds and kinds[text] is None):
                return None
            kind = kinds.get(text)
            if kind is None:
                parts = _plain_period(text)
                if parts is None:
                    kinds[text] = None
                    return None
                kind = kinds[text] = (*parts, ORIGIN_MONTH if parts[2] is not None
                                      else ORIGIN_LATER if parts[1] is None else None)
            found[index] = kind
    try:
        shown = list(map(repr, map(_AMOUNT_OF, facts)))
    except ValueError:  # an integer too long to show
        return None
    if shown and not _MONEY_TEXTS.fullmatch(",".join(shown)):
        return None
    codes, years, months, origins = (list(map(itemgetter(i), found)) for i in range(4))
    return [codes, years, months, shown, origins]


_PERIOD_OF, _AMOUNT_OF = attrgetter("period"), attrgetter("sumsubrub")
# The texts `_plain_plan` takes as an amount as they are, joined by commas: the shortest
# form (`repr`) of a JSON number not negative, below 10^13, of at most two places. No other
# value's `repr` has only digits and a point.
_MONEY_TEXT = re.compile(r"[0-9]{1,13}(?:\.[0-9]{1,2})?")
_MONEY_TEXTS = re.compile(rf"{_MONEY_TEXT.pattern}(?:,{_MONEY_TEXT.pattern})*")
# The period texts read so far as (code, year, month, origin), None for a text that does not
# parse, page after page (`_plain_facts`), forgotten as `_PERIOD_TEXTS` is.
_PERIOD_KINDS: dict[str, tuple[str, int | None, int | None, str | None] | None] = {}


# The period texts read so far, page after page (the pages of a load share most of them),
# forgotten all at once past a bound (`_plain_plan`).
_PERIOD_TEXTS: dict[str, tuple[str, int | None, int | None] | None] = {}
_PERIOD_TEXTS_KEPT = 1 << 16


def _fact_records(facts: Sequence[_Fact], row: int, agreement_id: str | None,
                  kbk: str | None) -> list[dict]:
    """A КБК's `facts[]` as period records, each value converted or its reason noted."""
    records = []
    for fact in facts:
        period, amount = fact.period, fact.sumsubrub
        record: dict[str, Any] = {"_row": row, "agreement_id": agreement_id, "kbk": kbk}
        record["period_code"] = _text(period)
        _set_period(record, period)
        set_converted(record, "amount", _plain_money, amount)
        records.append(record)
    return records


_LEFT_OUT = "left out"  # a row `_plain_plan` drops: its year is counted by other rows


def _plain_plan(facts: Sequence[_Fact],
                periods: dict[str, tuple[str, int | None, int | None] | None]
                ) -> list[list[Any]] | None:
    """(period code, year, month, amount as text, origin) of each row `_plan_records` gives
    for the usual plan, without a record per fact: every fact an object whose period is text
    that parses (`periods` remembers each text read) and whose amount is a plain JSON number
    (`_money_column`). None for any other plan, and the caller leaves it to
    `_plan_records`; a plan with a `plansNormalized` total for its КБК is not for this.

    With no total from elsewhere a year is its months when they add up to its year row's
    amount or it has no year row, and else its year row (`_year_records`).
    """
    out: list[list[Any]] = []
    seen: set[str] = set()
    year_rows = False
    for fact in facts:
        period, value = fact.period, fact.sumsubrub
        if period.__class__ is not str:
            return None
        parts = periods.get(period, _NOTHING)
        if parts is _NOTHING:
            parts = periods[period] = _plain_period(period)
        kind = value.__class__
        if parts is None or not (kind is float or kind is int) or not 0 <= value < _MONEY_LIMIT:
            return None
        shown = repr(value)
        if kind is float:
            dot = shown.find(".")
            if "e" in shown or shown[0] == "-" or not 0 <= dot >= len(shown) - 3:
                return None
        code, year, month = parts
        if code in seen:
            continue
        seen.add(code)
        out.append([code, year, month, shown, ORIGIN_LATER if month is None else ORIGIN_MONTH])
        year_rows = year_rows or (month is None and year is not None)
    if not year_rows:  # the usual plan: months alone, each year its months
        return out
    return _years_once(out)


def _years_once(out: list[list[Any]]) -> list[list[Any]]:
    """The rows of a plan with a year row (`_plain_plan`'s, a period once each), each year's
    money once: its months, or its year row."""
    by_year: dict[int, list[list[Any]]] = {}
    for record in out:
        if record[1] is not None:
            by_year.setdefault(record[1], []).append(record)
    for rows in by_year.values():
        months = [r for r in rows if r[2] is not None]
        year_row = next((r for r in rows if r[2] is None), None)
        take_months = bool(months) and (year_row is None or sum(Decimal(r[3]) for r in months)
                                        == Decimal(year_row[3]))
        for record in rows:
            if record[2] is not None:
                record[4] = ORIGIN_MONTH if take_months else _LEFT_OUT
            else:
                # Only the year's first year row counts: two texts can name the same year.
                record[4] = ORIGIN_YEAR if record is year_row and not take_months else _LEFT_OUT
    return [r for r in out if r[4] is not _LEFT_OUT]


def _plain_period(text: str) -> tuple[str, int | None, int | None] | None:
    """(code, year, month) of a period text, as `_fact_records` reads it; None when it does
    not parse."""
    try:
        parts = _period_parts(text)
    except ValueError:
        return None
    year, month = parts if parts is not None else (None, None)
    return _text(text), year, month


# What a period record stands for (`origin`).
ORIGIN_MONTH = "facts_month"  # a month of `facts[]`: the months add up to their year
ORIGIN_YEAR = "facts_year"  # a year of `facts[]` (`YYYY0001`) not broken down by month
ORIGIN_LATER = "facts_later_years"  # `-1`: the years after the plan's last, no year given
ORIGIN_NORMALIZED = "plans_normalized"  # a year's total from `plansNormalized[].byYear`
ORIGINS = frozenset({ORIGIN_MONTH, ORIGIN_YEAR, ORIGIN_LATER, ORIGIN_NORMALIZED})


def _origin_of(record: dict) -> str | None:
    """The kind of row a period code makes (None when the code does not parse)."""
    if record["year"] is not None:
        return ORIGIN_MONTH if record["month"] is not None else ORIGIN_YEAR
    return ORIGIN_LATER if record["period_code"] == "-1" else None


def _normalized_totals(plans: Any, kbks: list[str | None]
                       ) -> dict[str | None, dict[int, Any]]:
    """КБК -> year -> the year's total from an agreement's `plansNormalized[].byYear`.

    An entry naming its КБК belongs to it; one that names none belongs to the
    agreement's only КБК, and is passed over when there are several (its total
    could not be told apart between them). A total that does not parse is passed
    over too: the `facts[]` rows then stand on their own.
    """
    out: dict[str | None, dict[int, Any]] = {}
    for entry in _list(plans):
        entry = _dict(entry)
        kbk = _text(entry.get("kbk"))
        if kbk is None:
            if len(set(kbks)) != 1:
                continue
            kbk = kbks[0]
        for year, plan in _dict(entry.get("byYear")).items():
            text = _text(year)
            if text is None or not text.isdigit():
                continue
            try:
                total = parse_money(_dict(plan).get("total"))
            except ValueError:
                continue
            if total is not None:
                out.setdefault(kbk, {})[int(text)] = total
    return out


def _plan_records(facts: list[dict], totals: dict[int, Any], row: int,
                  agreement_id: str | None, kbk: str | None) -> list[dict]:
    """The КБК's period records with each year's money once.

    A record whose period or amount does not convert is kept as it is, for the
    validator to quarantine with the reason (it is never counted). The others go
    year by year through `_year_records`; `-1` rows (later years, no year) pass as
    they are. A period repeated within the КБК keeps its first row.
    """
    out: list[dict] = []
    years: dict[int, list[dict]] = {}
    seen: set[str | None] = set()
    for record in facts:
        if record.get("_errors"):
            record["origin"] = _origin_of(record)
            out.append(record)
            continue
        if record["period_code"] in seen:
            continue
        seen.add(record["period_code"])
        if record["year"] is None:
            record["origin"] = ORIGIN_LATER
            out.append(record)
        else:
            years.setdefault(record["year"], []).append(record)
    for year in sorted(set(years) | set(totals)):
        out.extend(_year_records(years.get(year, []), totals.get(year), year, row,
                                 agreement_id, kbk))
    order = {id(r): i for i, r in enumerate(facts)}
    return sorted(out, key=lambda r: order.get(id(r), len(order)))


def _year_records(rows: list[dict], normalized: Any, year: int, row: int,
                  agreement_id: str | None, kbk: str | None) -> list[dict]:
    """One year's records: its months when they make up the year's total, else one row.

    The year's total is `plansNormalized`'s when the record has it, else the year
    row's (`YYYY0001`). Months that add up to it (or months alone) are kept and the
    year row, which repeats them, is left out; months that do not add up to the
    total are a breakdown of something else, and the year is one row of its total.
    A year row never adds to its months. A month without an amount cannot be shown to
    add up: beside a total, the months are then no breakdown of it.
    """
    months = [r for r in rows if r["month"] is not None]
    year_row = next((r for r in rows if r["month"] is None), None)
    total = normalized if normalized is not None else (year_row or {}).get("amount")
    amounts = [r["amount"] for r in months]
    if months and (total is None or (None not in amounts and sum(amounts) == total)):
        for record in months:
            record["origin"] = ORIGIN_MONTH
        return months
    if year_row is not None and year_row["amount"] == total:
        year_row["origin"] = ORIGIN_YEAR
        return [year_row]
    return [{"_row": row, "agreement_id": agreement_id, "kbk": kbk,
             "period_code": f"{year}0001", "year": year, "month": None, "amount": total,
             "origin": ORIGIN_NORMALIZED}]


def is_nonprofit_okopf(code: Any) -> bool | None:
    """Non-profit other than a state or municipal institution, by ОКОПФ; None when undecided.

    The rule is `schemas.vocabularies.legal_forms`; here the cell becomes text first (a
    number `71400.0` reads `71400`).
    """
    return nonprofit_by_okopf(_text(code))


# --- one agreement ------------------------------------------------------------------------


_AGREEMENT_DATES = ("agreement_date", "start_date", "end_date")
_DATE_KEYS = {"agreement_date": "dateAgreem", "start_date": "startDate", "end_date": "endDate"}


# `parse_api_date`'s usual input: an instant in UTC to the millisecond, in years it can hold;
# the hour tells whether Moscow (UTC+3) is a day ahead.
_API_INSTANT = re.compile(r"(?:19|2[0-9])[0-9]{2}-[0-9]{2}-[0-9]{2}T([01][0-9]|2[0-3])"
                          r":[0-5][0-9]:[0-5][0-9]\.[0-9]{3}Z")
_MOSCOW_NEXT_DAY = 21
_MONEY_LIMIT = 10**13  # below it a double's shortest form holds an amount's every digit


def _date_column(values: list[Any], field: str) -> tuple[pl.Series, pl.Series]:
    """`_converted_column(values, parse_api_date, pl.Date, field)`, the usual instants
    (`{"$date": "2020-04-08T21:00:00.000Z"}`) read without it: each distinct one once, as
    its Moscow day; anything else (other forms, impossible days) by `parse_api_date`."""
    # Days since 1970-01-01: polars takes them much faster than date objects.
    seen = _INSTANT_DAYS
    if len(seen) > _INSTANT_DAYS_KEPT:
        seen.clear()
    try:  # every value an object, as usual
        inner = list(map(dict.get, values, repeat("$date")))
    except TypeError:
        inner = [value.get("$date") if value.__class__ is dict else value for value in values]
    # The days known already looked up all at once; only the others are gone through one by
    # one. The texts are the only keys: a value of another kind finds nothing.
    try:
        days: list[Any] = list(map(seen.get, inner))
    except TypeError:  # a value that is an object or a list has no key
        days = [seen.get(text) if text.__class__ is str else None for text in inner]
    rest: list[int] = []
    unknown = (list(compress(range(len(days)), map(is_, days, repeat(None)))) if None in days
               else [])
    for index in unknown:
        text = inner[index]
        if text.__class__ is str:
            day = seen.get(text, _UNHASHABLE)
            if day is _UNHASHABLE:  # not known before, or only since the lookup
                day = seen[text] = _instant_day(text)
            if day is not None:
                days[index] = day
                continue
        if values[index] is not None:
            rest.append(index)
    reasons = _convert_rest(values, rest, parse_api_date, field, days)
    for index in rest:
        if days[index] is not None:
            days[index] = days[index].toordinal() - _EPOCH_DAY
    return pl.Series(field, days, dtype=pl.Int32).cast(pl.Date), reasons


_EPOCH_DAY = date(1970, 1, 1).toordinal()
# The days of the instants read so far, page after page (the pages of a load share most of
# their days), forgotten all at once past a bound.
_INSTANT_DAYS: dict[str, int | None] = {}
_INSTANT_DAYS_KEPT = 1 << 16


def _instant_day(text: str) -> int | None:
    """The Moscow day of an instant in `_API_INSTANT`'s form, as days since 1970-01-01;
    None for any other text, or a day that does not exist."""
    found = _API_INSTANT.fullmatch(text)
    if found is None:
        return None
    try:
        day = date.fromisoformat(text[:10]).toordinal() - _EPOCH_DAY
    except ValueError:
        return None
    return day + 1 if int(found.group(1)) >= _MOSCOW_NEXT_DAY else day


def _money_column(values: list[Any], field: str) -> tuple[pl.Series, pl.Series]:
    """`_converted_column(values, parse_money, MONEY_TYPE, field)`: a JSON number of at most
    two places below 10^13 and not negative is its shortest form, exactly what
    `parse_money` makes of it; the rest goes through `parse_money`."""
    try:
        texts: list[Any] = list(map(repr, values))
    except ValueError:  # an integer too long to show: every value left to `parse_money`
        texts = [""] * len(values)
    rest: list[int] = []
    if not _MONEY_TEXTS.fullmatch(",".join(texts)):  # not every value a usual amount
        odd = list(compress(range(len(texts)), map(not_, map(_MONEY_TEXT.fullmatch, texts))))
        for index in odd:
            texts[index] = None
        rest = [index for index in odd if values[index] is not None]
    reasons = _convert_rest(values, rest, parse_money, field, texts)
    for index in rest:
        if texts[index] is not None:
            # Decimals reach polars fastest as their text, which is exact.
            texts[index] = str(texts[index])
    return pl.Series(field, texts, dtype=pl.String).cast(MONEY_TYPE), reasons


def _plain_money(value: Any) -> Any:
    """`parse_money(value)`, answering at once for the usual JSON number (see `_money_column`)."""
    if value.__class__ is float and 0 <= value < _MONEY_LIMIT:
        shown = repr(value)
        dot = shown.find(".")
        if "e" not in shown and shown[0] != "-" and 0 <= dot >= len(shown) - 3:
            return Decimal(shown).quantize(_CENT)
    return parse_money(value)


_CENT = Decimal("0.01")


def _convert_rest(values: list[Any], rest: list[int], convert: Callable[[Any], Any],
                  field: str, out: list[Any]) -> pl.Series:
    """`convert` the values at `rest` into `out` as `_converted_column` does; the reasons."""
    reasons: list[str | None] = [None] * len(values)
    for index in rest:
        try:
            out[index] = convert(values[index])
        except ValueError as exc:
            out[index], reasons[index] = None, f"{field}: {exc}"
    return pl.Series(reasons, dtype=pl.String)


def _identifiers(values: Sequence[Any], convert: Callable[[Any], str | None] = parse_identifier,
                 *, shortest: int = 1) -> pl.Series:
    """`convert` of each value as a String column, answering at once for the usual value:
    a text of at least `shortest` ASCII digits, which each converter gives back as it is
    (checked on the whole column at once where every value is one: `_digit_texts`)."""
    if _digit_texts(values, shortest):
        return pl.Series(values, dtype=pl.String)
    return pl.Series([value if value.__class__ is str and value.isascii() and value.isdigit()
                      and len(value) >= shortest else convert(value) for value in values],
                     dtype=pl.String)


def _texts(values: list[Any]) -> list[str | None]:
    """`_text` of each value; texts it gives back as they are (`_digit_texts`,
    `_clean_texts`), as the usual column holds, are not gone through one by one."""
    if _digit_texts(values, 1) or _clean_texts(values):
        return values
    return list(map(_text, values))


def _digit_texts(values: Sequence[Any], shortest: int) -> bool:
    """Whether every value is a text of at least `shortest` ASCII digits, checked on the texts
    joined rather than one by one."""
    try:
        joined = "".join(values)
    except TypeError:  # a value not text
        return False
    # ASCII digits: read as bytes, which `isdigit` goes through far faster than a text.
    return (joined.isascii() and joined.encode().isdigit()
            and (all(values) if shortest == 1 else min(map(len, values)) >= shortest))


def _clean_texts(values: Sequence[Any]) -> bool:
    """Whether every value is a text `_clean_text` gives back as it is, checked on the texts
    joined rather than one by one: none empty, none holding U+FEFF or a newline (the texts
    are joined by one each), and the joined text's words one space apart, so that no text
    holds white space other than one space between words. ASCII texts without a space or a
    control character (identifiers, numbers) are told apart as bytes, far faster."""
    try:
        joined = "".join(values)
    except TypeError:  # a value not text
        return False
    if joined.isascii():
        raw = joined.encode()
        if raw.isalnum() or len(raw.translate(None, _ASCII_SPACES)) == len(raw):
            return all(values)  # one word each, at most: clean unless empty
    joined = "\n".join(values)
    return (all(values) and "\ufeff" not in joined and joined.count("\n") == len(values) - 1
            and " ".join(joined.split()) == joined.replace("\n", " "))


# The ASCII control characters and the space: every ASCII character `str.split()` splits on.
_ASCII_SPACES = bytes(range(0x21)) + b"\x7f"
# What `str.split()` splits on (`str.isspace`), and U+FEFF, which `clean_text` adds.
_SPACES = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2001\u2002\u2003"
           "\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff")
_NOT_SPACE = "[^ " + "".join(f"\\x{{{ord(c):X}}}" for c in _SPACES) + "]"
# A text `_clean_text` gives back as it is (a pattern for polars, of the whole text): words
# without white space, one space between them.
_CLEAN = f"^{_NOT_SPACE}+(?: {_NOT_SPACE}+)*$"


def _text_column(values: Sequence[Any], convert: Callable[[Any], str | None],
                 usual: str | None = None) -> pl.Series:
    """`convert(value)` of each value as a String column: a text matching `usual` is its own
    result, the other texts are converted each distinct one once. A column holding anything
    but texts (and None, which each converter keeps None) goes through `_each_distinct`.

    For a column of mostly distinct texts (names, numbers): a column of clean texts only, the
    usual one, is taken as it is (`_clean_texts`); otherwise polars tells the usual ones
    apart faster than Python converts them; where a few values repeat, `_each_distinct` is
    the faster."""
    if usual == _CLEAN and _clean_texts(values):
        return pl.Series(values, dtype=pl.String)
    try:
        texts = pl.Series(values, dtype=pl.String, strict=True)
    except (TypeError, ValueError):  # a value not text, or text polars cannot hold
        return pl.Series(_each_distinct(values, convert), dtype=pl.String)
    if usual is None:
        odd = texts.is_not_null()
    else:
        found = texts.str.contains(usual)
        if found.all():  # every text usual (None is left out): nothing to convert
            return texts
        odd = ~found.fill_null(True)
    index = odd.arg_true()
    if index.len():
        old = texts.gather(index)
        distinct = old.unique().to_list()
        new = old.replace_strict(distinct, [convert(v) for v in distinct],
                                 return_dtype=pl.String)
        texts = texts.scatter(index, new)
    return texts


def _each_distinct(values: Sequence[Any], convert: Callable[[Any], Any]) -> list[Any]:
    """`convert(value)` for each value, converting each distinct one once (`_hashable`)."""
    if set(map(type, values)) <= _TEXT_OR_NONE:  # the values are their own keys
        if len(_CONVERTED) > _CONVERTERS_KEPT:
            _CONVERTED.clear()
        found = _CONVERTED.setdefault(convert, {})
        if len(found) > _CONVERTED_KEPT:
            found.clear()
        for value in set(values).difference(found):
            found[value] = convert(value)
        return list(map(found.__getitem__, values))
    seen: dict[Any, Any] = {}
    out = []
    for value in values:
        key = value if value.__class__ is str else _hashable(value)
        if key is _UNHASHABLE:
            out.append(convert(value))
            continue
        found = seen.get(key, _UNHASHABLE)
        if found is _UNHASHABLE:
            found = seen[key] = convert(value)
        out.append(found)
    return out


def _budget_levels(codes: Sequence[Any], names: Sequence[Any]) -> list[str | None]:
    """The budget level of each (code, name): by the name (`_level_by_name`), each distinct
    one once, and by the code where the name names no level (`_level_by_code`)."""
    levels = _each_distinct(names, _level_by_name)
    if None in levels:
        for index in list(compress(range(len(levels)), map(is_, levels, repeat(None)))):
            levels[index] = _level_by_code(codes[index])
    return levels


def _reasons_by_row(columns: list[list[str | None]]) -> list[list[str]]:
    """Each row's reasons, in the order of the columns that give them (None: no reason)."""
    none = (None,) * len(columns)
    return [[] if reasons == none else [r for r in reasons if r is not None]
            for reasons in zip(*columns, strict=True)]


def _text_lists(lists: list[list[str]]) -> pl.Series:
    """A List(String) column from Python lists, laid out at once rather than list by list."""
    if not any(lists):  # the usual column of reasons: no list holds any
        return _no_texts(len(lists))
    # Lists, not iterators: pyarrow reads a list much faster.
    return _list_column(list(accumulate(map(len, lists), initial=0)),
                        list(chain.from_iterable(lists)))


def _list_column(offsets: list[int], texts: list[str]) -> pl.Series:
    """A List(String) column of the texts, list `i` being `texts[offsets[i]:offsets[i + 1]]`.

    Laid out without `pa.array`, whose first call imports pandas (≈ 0.3 s of a helper
    process that parses pages and imports nothing else of it)."""
    starts = pa.Array.from_buffers(pa.int32(), len(offsets),
                                   [None, pa.py_buffer(array("i", offsets))])
    return pl.Series(pa.ListArray.from_arrays(starts, pl.Series(texts, dtype=pl.String)
                                              .to_arrow()))


def _no_texts(length: int) -> pl.Series:
    """A List(String) column of `length` empty lists."""
    return _EMPTY_LIST.new_from_index(0, length)


_EMPTY_LIST = pl.Series([[]], dtype=pl.List(pl.String))


def _converted_column(values: list[Any], convert: Callable[[Any], Any], dtype: PolarsDataType,
                      field: str) -> tuple[pl.Series, pl.Series]:
    """(`convert(value)` of each value, the reason where it failed: `field: message`),
    as `set_converted` stores them; a value seen before is not converted again."""
    seen: dict[Any, tuple[Any, str | None]] = {}
    converted, reasons = [], []
    for value in values:
        key = _hashable(value)
        found = seen.get(key) if key is not _UNHASHABLE else None
        if found is None:
            try:
                found = (convert(value), None)
            except ValueError as exc:
                found = (None, f"{field}: {exc}")
            if key is not _UNHASHABLE:
                seen[key] = found
        converted.append(found[0])
        reasons.append(found[1])
    if dtype == MONEY_TYPE:
        # Decimals reach polars fastest as their text, which is exact.
        text = pl.Series(field, [None if v is None else str(v) for v in converted],
                         dtype=pl.String)
        return text.cast(dtype), pl.Series(reasons, dtype=pl.String)
    return pl.Series(field, converted, dtype=dtype), pl.Series(reasons, dtype=pl.String)


_UNHASHABLE = object()
# Each converter's result for the texts `_each_distinct` gave it so far, page after page (the
# pages of a load share most of their names), forgotten all at once past a bound.
_CONVERTED: dict[Callable[[Any], Any], dict[str | None, Any]] = {}
_CONVERTED_KEPT = 1 << 16
_CONVERTERS_KEPT = 16
_TEXT_OR_NONE = frozenset({str, type(None)})  # values that are their own keys (`_hashable`)


def _hashable(value: Any) -> Any:
    """A key telling apart every value a page can hold that converts differently: the type
    goes with it (True, 1 and 1.0 are equal keys to Python), a number with a fraction is
    its shortest text (-0.0 and 0.0 are equal too, and read differently), an API date
    object is its inner value, a list or other object has no key."""
    if isinstance(value, dict):
        if len(value) == 1 and "$date" in value:
            inner = value["$date"]
            return ("$date", inner.__class__, inner) if isinstance(inner, str | int) \
                else _UNHASHABLE
        return _UNHASHABLE
    if isinstance(value, list):
        return _UNHASHABLE
    if value.__class__ is float:
        return (float, repr(value))
    return (value.__class__, value)


def _currency(code: Any) -> str | None:
    text = _text(code)
    if text is None:
        return None
    # ОКВ 643 is the Russian rouble; any other code is kept as given.
    return "RUB" if text.lstrip("0") == "643" else text


def _level_by_name(name: Any) -> str | None:
    text = (clean_text(name) or "").lower()
    for word, level in _BUDGET_LEVEL_WORDS:
        if word in text:
            return level
    return None


def _level_by_code(code: Any) -> str | None:
    return "federal" if _text(code) in _FEDERAL_BUDGET_CODES else None


def _okopf(value: Any) -> str | None:
    # A code kept as a number loses nothing (codes do not start with 0); `7 14 00`
    # as printed in the classifier is written without its spaces.
    if isinstance(value, dict):
        value = value.get("code")
    text = parse_identifier(value)
    return text.replace(" ", "") if text else None


def _region_code(value: Any) -> str | None:
    text = parse_identifier(value)
    # Subject codes are two digits (`07`); a code stored as a number loses its zero.
    if text and text.isdigit() and len(text) == 1:
        return text.zfill(2)
    return text


# --- values -------------------------------------------------------------------------------


def parse_api_date(value: Any) -> date | None:
    """A date as the API writes it: `{"$date": "2020-04-09T00:00:00.000Z"}`.

    The instant is read in Moscow time before the date is taken: a day stored as
    Moscow midnight in UTC (`2020-04-08T21:00:00.000Z`) is 9 April, and a day
    stored as UTC midnight stays the same day. Also accepted: `$date` as epoch
    milliseconds (plain or `{"$numberLong": …}`), and plain `dd.mm.yyyy` or ISO text.
    """
    if value is None:
        return None
    if isinstance(value, dict):
        if "$date" not in value:
            raise ValueError(f"not a date object: {value!r}")
        inner = value["$date"]
        if isinstance(inner, dict) and "$numberLong" in inner:
            inner = inner["$numberLong"]
        if isinstance(inner, int | str) and str(inner).lstrip("-").isdigit():
            instant = _EPOCH + timedelta(milliseconds=int(inner))
            return instant.astimezone(_MOSCOW).date()
        if not isinstance(inner, str):
            raise ValueError(f"not a date: {value!r}")
        value = inner
    if isinstance(value, str) and "T" in value:
        try:
            instant = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError as exc:
            raise ValueError(f"not a date: {value!r}") from exc
        if instant.tzinfo is None:
            return instant.date()
        return instant.astimezone(_MOSCOW).date()
    return parse_date(value)


def _period_parts(value: Any) -> tuple[int, int | None] | None:
    """(year, month or None) of `YYYYMM00` / `YYYY0001`; None for `-1` (later years)."""
    text = _text(value)
    if text is None:
        raise ValueError("no period")
    if text == "-1":
        return None
    match = _PERIOD.match(text)
    if not match:
        raise ValueError(f"not a period code: {value!r}")
    year, middle, last = (int(g) for g in match.groups())
    if middle == 0 and last == 1:
        return year, None
    if last == 0 and 1 <= middle <= 12:
        return year, middle
    raise ValueError(f"not a period code: {value!r}")


def _set_period(record: dict, value: Any) -> None:
    try:
        parts = _period_parts(value)
    except ValueError as exc:
        record["year"] = record["month"] = None
        record.setdefault("_errors", []).append(f"period_code: {exc}")
        return
    record["year"], record["month"] = parts if parts is not None else (None, None)


def _clean_text(value: Any) -> str | None:
    """`clean_text`, without its calls for the usual value, a text."""
    if value.__class__ is str:
        return " ".join(value.replace("\ufeff", " ").split()) or None
    return clean_text(value)


def _text(value: Any) -> str | None:
    if value.__class__ is str:
        return _clean_text(value)
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return clean_text(value)


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


# --- reading a page, repairing quotes -----------------------------------------------------


def _page_items(body: bytes, where: str) -> tuple[list[tuple[int, dict]], set[int]]:
    """The page's agreements with their 1-based positions, and the positions repaired."""
    document, repaired_rows = _load(body, where)
    if not isinstance(document, dict) or not isinstance(document.get("data"), list):
        raise ValueError(f"{where}: not a registry page: no `data` list")
    items = []
    for row, item in enumerate(document["data"], start=1):
        if not isinstance(item, dict):
            raise ValueError(f"{where}: data[{row - 1}] is not an object: {item!r:.80}")
        items.append((row, item))
    return items, repaired_rows


def _load(body: bytes, where: str) -> tuple[Any, set[int]]:
    """The page as JSON, repairing unescaped quotes inside strings if it does not parse.

    Returns the document and the 1-based positions in `data` of the records whose
    text was repaired.
    """
    try:
        # msgspec reads just the texts `json.loads` reads, each to the same value (an
        # integer of any size included), only faster; what it refuses (NaN, a lone
        # surrogate escape, broken quotes, not UTF-8) is `json.loads`'s to read or explain.
        return _JSON.decode(memoryview(body)[3:] if body.startswith(codecs.BOM_UTF8)
                            else body), set()
    except msgspec.DecodeError:
        pass
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{where}: not UTF-8 text: {exc}") from exc
    try:
        return json.loads(text), set()
    except json.JSONDecodeError as first:
        repaired, inserted = repair_quotes(text)
        try:
            document = _decode_text(repaired)
        except json.JSONDecodeError as second:
            raise ValueError(
                f"{where}: not valid JSON at line {first.lineno} column {first.colno} "
                f"(char {first.pos}): {first.msg}; repairing quotes inside strings did "
                f"not help (line {second.lineno} column {second.colno}: {second.msg})"
            ) from first
        return document, _repaired_rows(repaired, inserted)


def _decode_text(text: str) -> Any:
    """`json.loads(text)`, by msgspec where it can (see `_load`)."""
    try:
        return _JSON.decode(text)
    except msgspec.DecodeError:
        return json.loads(text)


def repair_quotes(text: str) -> tuple[str, list[int]]:
    """Escape quotes that are content of a string, not its end: `"АО "КБП""` → `"АО \\"КБП\\""`.

    Third-party dumps of the registry write names with their inner quotes
    unescaped. Inside a string, a quote is taken as the string's end only when
    the next character other than a space is `,`, `}`, `]`, `:` or the end of
    the text; any other quote is content and gets a backslash. This never
    changes valid JSON (there every in-string quote is already escaped, and every
    closing quote is followed by one of those) and fails rather than guesses on a
    name like `"Фонд "Мир", филиал"`, where the quote before the comma looks
    like an end. Returns the text and the positions, in the returned text, of the
    backslashes inserted.
    """
    out: list[str] = []
    inserted: list[int] = []
    done = 0  # text before it is in `out`
    i = _NOTHING_TO_REPAIR.match(text).end()
    while i < len(text):  # `i` opens a string with a quote to escape, or never closed
        end = -1
        while end < 0:
            stop = _IN_STRING_STOP.search(text, i + 1)
            if stop is None:
                break
            i = stop.start()
            if text[i] == "\\":
                i += 1  # the escaped character is content, whatever it is
                continue
            after = _JSON_SPACE.match(text, i + 1).end()
            if after == len(text) or text[after] in _QUOTE_CLOSERS:
                end = i
            else:
                out.append(text[done:i])
                inserted.append(i + len(inserted))
                out.append("\\")
                done = i
        if end < 0:
            break
        i = _NOTHING_TO_REPAIR.match(text, end + 1).end()
    out.append(text[done:])
    return "".join(out), inserted


def _repaired_rows(text: str, inserted: list[int]) -> set[int]:
    """1-based positions in `data` of the records whose span holds an inserted backslash."""
    rows: set[int] = set()
    if not inserted:
        return rows
    last = max(inserted)
    # The records are read one by one only as far as the last backslash.
    for row, (start, end) in enumerate(_data_spans(text), start=1):
        rows.update(row for position in inserted if start <= position < end)
        if end > last:
            break
    return rows


def _data_spans(text: str) -> Iterator[tuple[int, int]]:
    """Where each element of the top-level `data` array lies in (valid) JSON text, one
    after the other."""
    decoder = json.JSONDecoder()
    i = _skip_space(text, 0)
    if i >= len(text) or text[i] != "{":
        return
    i = _skip_space(text, i + 1)
    while i < len(text) and text[i] != "}":
        key, i = decoder.raw_decode(text, i)
        i = _skip_space(text, i)
        i = _skip_space(text, i + 1)  # the colon
        if key == "data" and text[i] == "[":
            yield from _array_spans(text, i, decoder)
            return
        _, i = decoder.raw_decode(text, i)
        i = _skip_space(text, i)
        if i < len(text) and text[i] == ",":
            i = _skip_space(text, i + 1)


def _array_spans(text: str, i: int, decoder: json.JSONDecoder) -> Iterator[tuple[int, int]]:
    i = _skip_space(text, i + 1)
    while i < len(text) and text[i] != "]":
        _, end = decoder.raw_decode(text, i)
        yield i, end
        i = _skip_space(text, end)
        if i < len(text) and text[i] == ",":
            i = _skip_space(text, i + 1)


def _skip_space(text: str, i: int) -> int:
    while i < len(text) and text[i] in " \t\r\n":
        i += 1
    return i
