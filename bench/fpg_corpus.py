"""Synthetic ФПГ corpus: applications, the bulk XLSX, project cards and list pages.

One application is a pure function of (seed, contest, index), so the bulk file, the
card and the list page that show it agree, and any process can render any of them.
The pages keep the live site's chrome (icon sprite, navigation, footer, scripts)
taken from our sample card and list pages; only `<main>` is rendered here, with the
sample maker's own helpers, so a synthetic card parses exactly like a sample one.
"""

from __future__ import annotations

import html
import re
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

import xlsxwriter

from bench import reference as ref
from pipelines.fpg import contest_slug
from scrapers.samples import FIXTURES_DIR, sample_path
from tests.sample_makers import make_fpg_samples as fs

BASE = fs.BASE
XLSX_URL = fs.XLSX_URL
OPEN_DATA_URL = fs.OPEN_DATA_URL
FULL_APPLICATIONS = 190_000
FULL_CARDS = 50_000
CARDS_PER_LIST_PAGE = 20
YEARS = range(2017, 2027)
# The last contest is still at the independent expertise when the corpus is "fetched".
OPEN_CONTEST = (2026, 2)
# Direction weights: social services, health, family and youth draw most applications.
_DIRECTION_WEIGHTS = [18, 12, 14, 11, 9, 10, 6, 4, 5, 3, 2, 4, 2]
_MONTHS = ["января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа",
           "сентября", "октября", "ноября", "декабря"]
_BULK_DEFECTS = ["text_amount", "odd_date", "shifted", "unknown_status", "end_before_start"]
_CARD_DEFECTS = ["odd_period", "text_amount", "no_number"]


@dataclass(frozen=True)
class Contest:
    year: int
    number: int
    applications: int
    cards: int

    @property
    def name(self) -> str:
        return fs.contest_name(self.year, self.number)

    @property
    def slug(self) -> str:
        return contest_slug(self.name)


def counts(scale: float) -> tuple[int, int]:
    return max(1, round(FULL_APPLICATIONS * scale)), max(1, round(FULL_CARDS * scale))


@lru_cache(maxsize=8)
def contests(scale: float) -> tuple[Contest, ...]:
    """Two contests a year, 2017–2026, each somewhat larger than the one before."""
    applications, cards = counts(scale)
    pairs = [(y, n) for y in YEARS for n in (1, 2)]
    weights = [1 + 0.1 * i for i in range(len(pairs))]
    apps = ref.split_counts(applications, weights)
    card_counts = ref.split_counts(min(cards, applications), weights)
    return tuple(Contest(y, n, a, min(c, a))
                 for (y, n), a, c in zip(pairs, apps, card_counts, strict=True))


def card_order(scale: float) -> list[tuple[int, int]]:
    """(contest index, application index) of every card, newest contest first, as the
    site lists them."""
    out = []
    for ci in reversed(range(len(contests(scale)))):
        out.extend((ci, j) for j in range(contests(scale)[ci].cards))
    return out


def application_number(contest: Contest, j: int) -> str:
    # 7919 is prime to 10^6: numbers are unique within a contest and look scattered.
    return f"{contest.year % 100:02d}-{contest.number}-{(j * 7919 + 4518) % 1_000_000:06d}"


@dataclass
class Application:
    app: fs.App  # the sample maker's application, which its HTML helpers render
    region_written: str
    bulk_defect: str | None
    bulk_bad_inn: bool
    bulk_no_total: bool


def _money(rng, median: float, sigma: float, low: float, high: float) -> Decimal:
    return Decimal(str(ref.lognormal_amount(rng, median, sigma, low, high))).quantize(
        Decimal("0.01"))


def application(seed: int, scale: float, ci: int, j: int) -> Application:
    contest = contests(scale)[ci]
    rng = ref.rng_for(seed, "fpg", contest.slug, j)
    org = ref.organisation(seed, ref.skewed_index(rng, ref.organisation_pool(scale)))
    region_written = ref.region_spelling(org.region, rng)
    if (contest.year, contest.number) == OPEN_CONTEST:
        status = fs.EXPERTISE
    else:
        roll = rng.random()
        status = (fs.NOT_ADMITTED if roll < 0.03 else fs.WINNER if roll < 0.25
                  else fs.REJECTED)
    submitted, decision, start, end = fs.contest_dates(contest.year, contest.number, rng)
    requested = _money(rng, 1_800_000, 0.8, 100_000, 30_000_000)
    cofinancing = (Decimal("0.00") if rng.random() < 0.1
                   else _money(rng, 900_000, 1.0, 10_000, 60_000_000))
    direction = rng.choices(range(len(fs.DIRECTIONS)), weights=_DIRECTION_WEIGHTS)[0]
    app = fs.App(
        number=application_number(contest, j), year=contest.year, contest_no=contest.number,
        status=status, direction=direction,
        org=fs.Org(org.name, region_written, org.inn, org.ogrn, org.address, org.website),
        title=ref.project_title(rng), submitted=submitted, start=start, end=end,
        requested=requested, cofinancing=cofinancing,
        card_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        bulk_text_amounts=rng.random() < 0.25, bulk_text_dates=rng.random() < 0.15,
        bulk_numeric_ids=rng.random() < 0.66,
    )
    if status not in (fs.EXPERTISE, fs.NOT_ADMITTED):
        app.rating = f"{rng.uniform(25, 96):.2f}".replace(".", ",")
    if status == fs.WINNER:
        cut = Decimal(1) if rng.random() < 0.85 else Decimal(str(round(rng.uniform(.6, .99), 2)))
        app.awarded = (requested * cut).quantize(Decimal("0.01"))
        app.transferred = app.awarded
        app.decision = decision
        if end < date(2025, 6, 1):
            roll = rng.random()
            app.evaluation = (fs.NOT_STARTED if roll < 0.01
                              else "проект реализован неудовлетворительно" if roll < 0.04
                              else rng.choice(fs.EVALUATIONS))
            if roll < 0.03:
                app.violations = "грант использован не в полном объеме; остаток возвращен в Фонд"
    defect = rng.choice(_BULK_DEFECTS) if rng.random() < ref.DEFECT_RATE else None
    flag = rng.random()
    return Application(app, region_written, defect, flag < ref.FLAG_RATE,
                       ref.FLAG_RATE <= flag < 2 * ref.FLAG_RATE)


# --- the bulk XLSX --------------------------------------------------------------------------


def _odd_date(value: date, rng_value: int) -> str:
    if rng_value % 2:
        return f"{value:%Y/%m/%d}"
    return f"{value.day} {_MONTHS[value.month - 1]} {value.year} г."


def bulk_row(a: Application) -> list[object]:
    """The application as a row of the open-data file, with its defect, if any."""
    app = a.app

    def amount(value: Decimal | None) -> object:
        if value is None:
            return None
        return fs.money(value) if app.bulk_text_amounts else float(value)

    def when(value: date | None) -> object:
        if value is None:
            return None
        return f"{value:%d.%m.%Y}" if app.bulk_text_dates else value

    inn = ref.typo_inn(app.org.inn) if a.bulk_bad_inn else app.org.inn
    ids: tuple[object, object] = (int(app.org.ogrn), int(inn)) if app.bulk_numeric_ids \
        else (app.org.ogrn, inn)
    winner = app.status == fs.WINNER
    end = app.end
    status: object = fs.BULK_STATUS[app.status]
    requested: object = amount(app.requested)
    start: object = when(app.start)
    if a.bulk_defect == "text_amount":
        requested = fs.money(app.requested)[:-1] + "\u041e"  # a Cyrillic О for the last 0
    elif a.bulk_defect == "odd_date":
        start = _odd_date(app.start, int(app.number[-1]))
    elif a.bulk_defect == "unknown_status":
        status = "Заявка отозвана заявителем"
    elif a.bulk_defect == "end_before_start":
        end = app.start - timedelta(days=180)
    row = [
        app.number, f"{app.contest} г.", app.org.name, *ids, a.region_written, app.title,
        fs.DIRECTIONS[app.direction].lower(), requested,
        None if a.bulk_no_total else amount(app.total), start, when(end), status,
        when(app.decision) if winner else None, amount(app.awarded) if winner else None,
        app.evaluation, app.violations,
    ]
    if a.bulk_defect == "shifted":
        # A cell inserted after the organisation pushes the rest of the row one column right.
        row = [*row[:3], None, *row[3:-1]]
    return row


def write_bulk_xlsx(path: Path, seed: int, scale: float) -> int:
    """Write the open-data projects file (titles, header row 5, one row per application),
    streaming rows; returns the number of application rows."""
    workbook = xlsxwriter.Workbook(str(path), {
        "constant_memory": True, "strings_to_numbers": False, "strings_to_formulas": False,
        "strings_to_urls": False,
    })
    workbook.set_properties({"author": "Фонд президентских грантов",
                             "created": ref.CORPUS_TIME.replace(tzinfo=None)})
    sheet = workbook.add_worksheet("Проекты")
    bold = workbook.add_format({"bold": True, "text_wrap": True})
    day = workbook.add_format({"num_format": "DD.MM.YYYY"})
    rubles = workbook.add_format({"num_format": "#,##0.00"})
    whole = workbook.add_format({"num_format": "0"})
    sheet.write_string(0, 0, "Фонд президентских грантов", bold)
    sheet.write_string(1, 0, "Сведения о проектах, представленных на конкурсы Фонда "
                             "президентских грантов")
    sheet.write_string(2, 0, "Данные по состоянию на 01.03.2026")
    header = fs.HEADER_ROW - 1
    for col, text in enumerate(fs.HEADERS):
        sheet.write_string(header, col, text, bold)
    r = header
    for ci, contest in enumerate(contests(scale)):
        for j in range(contest.applications):
            r += 1
            for c, value in enumerate(bulk_row(application(seed, scale, ci, j))):
                if value is None:
                    continue
                if isinstance(value, str):
                    sheet.write_string(r, c, value)
                elif isinstance(value, date):
                    sheet.write_datetime(r, c, value, day)
                elif isinstance(value, int):
                    sheet.write_number(r, c, value, whole)
                else:
                    sheet.write_number(r, c, value, rubles)
    workbook.close()
    return r - header


# --- cards ----------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _chrome(kind: str) -> tuple[str, str]:
    """The live site's page around `<main>`, from a sample page: (before, after)."""
    folder = sample_path(f"{BASE}/public/application/cards?page=1", FIXTURES_DIR).parent
    pattern = "item@id=*" if kind == "card" else "cards@page=1"
    text = sorted(folder.glob(pattern))[0].read_text(encoding="utf-8")
    opening = '    <main class="main">\n'
    before, rest = text.split(opening, 1)
    after = rest[rest.index("    </main>"):]
    return before + opening, after


def _page(kind: str, title: str, url: str, main: str) -> bytes:
    before, after = _chrome(kind)
    title = html.escape(title, quote=True)
    before = re.sub(r"<title>.*?</title>", lambda _: f"<title>{title}</title>", before, count=1)
    before = re.sub(r'(property="og:title" content=")[^"]*', lambda m: m.group(1) + title,
                    before, count=1)
    before = re.sub(r'(property="og:url" content=")[^"]*', lambda m: m.group(1) + url,
                    before, count=1)
    return (before + main + "\n" + after).encode("utf-8")


def card_url(card_id: str) -> str:
    return f"{BASE}/public/application/item?id={card_id}"


def _card_texts(seed: int, a: Application) -> str | None:
    """Fill the card's texts; return its defect, if any."""
    app = a.app
    rng = ref.rng_for(seed, "fpg-card", app.number)
    app.summary = ref.paragraph(rng, "summary", 2, 6)
    app.aim = rng.choice(ref.text_bank()["aim"])
    app.tasks = ref.items(rng, "task", 3, 7)
    app.social = ref.paragraph(rng, "social", 5, 16)
    roll = rng.random()
    if roll < 0.7:
        places = [ref.region_spelling(ref.pick_region(rng), rng) if rng.random() < 0.1
                  else a.region_written]
    else:
        places = list(dict.fromkeys(ref.region_spelling(ref.pick_region(rng), rng)
                                    for _ in range(rng.randrange(2, 14))))
    app.geography = ", ".join(places)
    if len(places) > 9:
        app.geography = f"{len(places)} регионов: {app.geography}"
    app.targets = ref.items(rng, "target", 1, 5)
    quirks = set()
    if rng.random() < 0.05:
        quirks.add("no_ogrn")
    if rng.random() < 0.05:
        quirks.add("no_cofinancing")
    if rng.random() < ref.FLAG_RATE:
        app.org = fs.Org(app.org.name, app.org.region, ref.typo_inn(app.org.inn), app.org.ogrn,
                         app.org.address, app.org.website)
    app.card_quirks = frozenset(quirks)
    return rng.choice(_CARD_DEFECTS) if rng.random() < ref.DEFECT_RATE else None


def _amount_li(label: str, text: str, modifier: str) -> str:
    return (f'                            <li class="circle-bar__info-item '
            f'circle-bar__info-item--{modifier}">\n'
            f'                                <span class="circle-bar__info-item-title">{label}'
            f'</span>\n'
            f'                                <span class="circle-bar__info-item-number">{text}'
            f'</span>\n                            </li>')


def card_page(seed: int, a: Application) -> bytes:
    """The card page of one application, as the site renders it (see the sample maker)."""
    defect = _card_texts(seed, a)
    app = a.app
    info_a = [fs.info_item("Конкурс", fs.esc(app.contest)),
              fs.info_item("Грантовое&nbsp;направление", fs.esc(fs.DIRECTIONS[app.direction]))]
    if app.rating:
        info_a.append(fs.info_item("Рейтинг&nbsp;заявки", app.rating))
    if defect != "no_number":
        info_a.append(fs.info_item("Номер&nbsp;заявки", app.number))
    info_a.append(fs.info_item("Дата&nbsp;подачи", f"{app.submitted:%d.%m.%Y}"))
    period = (f"с {app.start:%d.%m.%Y} по {app.end:%d.%m.%Y}" if defect == "odd_period"
              else f"{app.start:%d.%m.%Y}{fs.NBSP}- {app.end:%d.%m.%Y}")
    info_b = [fs.info_item("Сроки&nbsp;реализации", period),
              fs.info_item("Организация", fs.esc(app.org.name)),
              fs.info_item("ИНН", app.org.inn)]
    if "no_ogrn" not in app.card_quirks:
        info_b.append(fs.info_item("ОГРН", app.org.ogrn))
    sign = f'{fs.NBSP}<span class="rubl">₽</span>' if int(app.number[-1]) % 2 == 0 \
        else f"{fs.NBSP}₽"
    if app.is_winner:
        figures = [("Размер&nbsp;гранта", app.awarded, "grant"),
                   ("Cофинансирование", app.cofinancing, "cofinancing"),
                   ("Перечислено Фондом на&nbsp;реализацию проекта", app.transferred,
                    "transfer")]
        base = app.awarded + app.cofinancing
        percent = round(100 * app.awarded / base) if base else 0
    else:
        figures = [("Запрашиваемая&nbsp;сумма", app.requested, "grant"),
                   ("Cофинансирование", app.cofinancing, "cofinancing"),
                   ("Общая сумма расходов на&nbsp;реализацию проекта", app.total, "total")]
        percent = round(100 * app.requested / app.total) if app.total else 0
    if "no_cofinancing" in app.card_quirks:
        figures.pop(1)
    amounts = []
    for i, (label, value, modifier) in enumerate(figures):
        text = fs.money(value)
        if defect == "text_amount" and i == 0:
            text = text[:-1] + "O"  # a Latin O typed for the last zero
        amounts.append(_amount_li(label, text + sign, modifier))
    if app.org.website:
        site = (f'                        <a class="winner__details-contacts-item '
                f'winner__details-contacts-item--link" href="{app.org.website}" '
                f'target="_blank" rel="nofollow noopener">{app.org.website}</a>')
    else:
        site = ('                        <a class="winner__details-contacts-item '
                'winner__details-contacts-item--link">Веб-сайт: нет</a>')
    boxes = "\n".join([
        fs.details_box("winner-summary", "Краткое описание",
                       f"                    {fs.typograph(app.summary)}"),
        fs.details_box("winner-aims", "Цель", fs.ol([app.aim])),
        fs.details_box("winner-tasks", "Задачи", fs.ol(app.tasks)),
        fs.details_box("winner-social", "Обоснование социальной значимости",
                       f"                    {fs.typograph(app.social)}"),
        fs.details_box("winner-geography", "География проекта",
                       f"                    {fs.esc(app.geography)}"),
        fs.details_box("winner-target", "Целевые группы", fs.ol(app.targets)),
        fs.details_box("winner-contacts", "Контакты",
                       '                    <div class="winner__details-contacts">\n'
                       f'                        <span class="winner__details-contacts-item">'
                       f'{fs.esc(app.org.address)}</span>\n{site}\n'
                       "                    </div>"),
    ])
    anchors = "\n".join(
        f'                    <a class="buttons-list__item js-ancor-link" href="#{i}">{t}</a>'
        for i, t in [("winner-summary", "Краткое описание"), ("winner-aims", "Цель"),
                     ("winner-tasks", "Задачи"),
                     ("winner-social", "Обоснование социальной значимости"),
                     ("winner-geography", "География проекта"),
                     ("winner-target", "Целевые группы"), ("winner-contacts", "Контакты")])
    nl = "\n"
    main = f"""        <div class="container">
            <ul class="breadcrumbs">
                <li class="breadcrumbs__item"><a href="/">Главная</a></li>
                <li class="breadcrumbs__item"><a href="/public/application/cards">Проекты</a></li>
                <li class="breadcrumbs__item">Заявка №{fs.NBSP}{app.number}</li>
            </ul>
            <section class="winner-info">
                <div class="winner-info__head">
                    <a class="winner-info__back" href="/public/application/cards"><svg class="icon"><use xlink:href="#icon-arrow-left"></use></svg>Все проекты</a>
                    <h2 class="winner-info__title">{fs.typograph(app.title)}</h2>
                    <p class="winner-info__status">Статус проекта: <span>{fs.esc(app.status)}</span></p>
                </div>
                <div class="winner-info__row">
                    <div class="winner-info__col">
                        <ul class="winner-info__list winner-info__item">
{nl.join(info_a)}
                        </ul>
                        <ul class="winner-info__list winner-info__item">
{nl.join(info_b)}
                        </ul>
                    </div>
                    <div class="circle-bar winner-info__item js-circle-bar" data-percent="{percent}">
                        <ul class="circle-bar__info">
{nl.join(amounts)}
                        </ul>
                    </div>
                </div>
            </section>
            <section class="winner">
                <div class="buttons-list buttons-list-ancors">
{anchors}
                </div>
                <div class="winner__details">
{boxes}
                </div>
            </section>
        </div>"""  # noqa: E501 - the site's own long lines
    return _page("card", f"{app.title} | Фонд президентских грантов", card_url(app.card_id),
                 main)


# --- list pages -----------------------------------------------------------------------------


def list_page_url(page: int) -> str:
    return f"{BASE}/public/application/cards?page={page}"


def _pagination(current: int, pages: int) -> str:
    """The site's pager: first, last and two either side of the current page."""
    shown = sorted({1, pages, *range(max(1, current - 2), min(pages, current + 2) + 1)})
    items = []
    for n in shown:
        if n == current:
            items.append(f'                    <li class="pagination__item '
                         f'pagination__item--active"><span>{n}</span></li>')
        else:
            items.append(f'                    <li class="pagination__item"><a class='
                         f'"pagination__link" href="/public/application/cards?page={n}">{n}'
                         f"</a></li>")
    return ('            <div class="pagination-wrap">\n                <ul class="pagination">\n'
            + "\n".join(items) + "\n                </ul>\n            </div>")


def list_page(apps: list[fs.App], current: int, pages: int, total: int) -> bytes:
    rows = "\n".join(fs.list_row(a) for a in apps)
    main = f"""        <div class="container">
            <ul class="breadcrumbs">
                <li class="breadcrumbs__item"><a href="/">Главная</a></li>
                <li class="breadcrumbs__item">Проекты</li>
            </ul>
            <section class="project-present">
                <h1 class="title project-present__title">Проекты</h1>
                <p class="project-present__count">Найдено заявок: {total}</p>
{fs.filters()}
                <div class="table table--p-present table--projects">
                    <div class="table__row table__row--head">
                        <div class="table__cell">Проект</div>
                        <div class="table__cell">Сумма</div>
                        <div class="table__cell">Регион, статус, заявка</div>
                    </div>
{rows}
                </div>
            </section>
{_pagination(current, pages)}
        </div>"""
    return _page("list", "Проекты | Фонд президентских грантов", list_page_url(current), main)


def list_pages(scale: float) -> int:
    return -(-len(card_order(scale)) // CARDS_PER_LIST_PAGE)


def open_data_page() -> bytes:
    """The catalogue page, as in our samples (it links the projects XLSX)."""
    return sample_path(OPEN_DATA_URL, FIXTURES_DIR).read_bytes()
