"""Regenerate the ФПГ samples: list pages, project cards, the open-data page and the bulk XLSX.

    .venv/bin/python -m tests.sample_makers.make_fpg_samples

Everything is invented (organisations, identifiers, projects, addresses) in the
shape of the real site (SOURCES.md §1a, §1b), with its quirks kept on purpose;
see the ФПГ section of tests/fixtures/README.md. The output is deterministic: a fixed
seed, fixed dates inside the XLSX package, no clock.

Time line the samples describe: the bulk file was exported on 01.06.2025, while
the second 2025 contest was still at the independent expertise; the list pages
and cards were saved after its results, so two 2025 cards disagree with the bulk
file on status, and one 2023 card shows a grant reduced after the export.
"""

# The HTML templates keep the site's own long lines; wrapping them would change the pages.
# ruff: noqa: E501

from __future__ import annotations

import html
import io
import random
import re
import uuid
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import openpyxl
from openpyxl.styles import Alignment, Font

from scrapers.samples import FIXTURES_DIR, sample_path
from tests.sample_makers.identifiers import broken_inn, inn10, ogrn13

HOST = "xn--80afcdbalict6afooklqi5o.xn--p1ai"
BASE = f"https://{HOST}"
XLSX_URL = f"{BASE}/upload/opendata/projects.xlsx"
COFINANCING_XLSX_URL = f"{BASE}/upload/opendata/regional_cofinancing.xlsx"
OPEN_DATA_URL = f"{BASE}/public/open-data"
PER_PAGE = 5
NBSP = "\u00a0"
SEED = 20250601

# --- identifiers --------------------------------------------------------------------------

# --- reference lists ----------------------------------------------------------------------

# Region as the site writes it -> subject code (ИНН tax prefix and ОГРН digits 4-5).
REGIONS = {
    "г. Москва": "77",
    "Санкт-Петербург": "78",
    "Нижегородская обл.": "52",
    "Республика Татарстан": "16",
    "Свердловская обл.": "66",
    "Ханты-Мансийский автономный округ — Югра": "86",
    "Краснодарский край": "23",
    "Новосибирская обл.": "54",
    "Республика Дагестан": "05",
    "Пермский край": "59",
    "Калининградская обл.": "39",
    "Ставропольский край": "26",
    "Алтайский край": "22",
    "Республика Башкортостан": "02",
    "Московская обл.": "50",
    "Челябинская обл.": "74",
    "Самарская обл.": "63",
    "Томская обл.": "70",
    "Республика Саха (Якутия)": "14",
    "Ярославская обл.": "76",
    "Приморский край": "25",
    "Архангельская обл.": "29",
}

DIRECTIONS = [
    "Социальное обслуживание, социальная поддержка и защита граждан",
    "Охрана здоровья граждан, пропаганда здорового образа жизни",
    "Поддержка семьи, материнства, отцовства и детства",
    "Поддержка молодёжных проектов, реализация которых охватывает виды деятельности, "
    "предусмотренные статьей 31.1 Федерального закона от 12 января 1996 г. № 7-ФЗ "
    "«О некоммерческих организациях»",
    "Поддержка проектов в области науки, образования, просвещения",
    "Поддержка проектов в области культуры и искусства",
    "Сохранение исторической памяти",
    "Защита прав и свобод человека и гражданина, в том числе защита прав заключённых",
    "Охрана окружающей среды и защита животных",
    "Укрепление межнационального и межрелигиозного согласия",
    "Развитие общественной дипломатии и поддержка соотечественников",
    "Развитие институтов гражданского общества",
    "Выявление и поддержка молодых талантов в области культуры и искусства",
]
ORDINALS = {1: "Первый", 2: "Второй"}
WINNER = "победитель конкурса"
REJECTED = "проект не получил поддержку"
EXPERTISE = "на независимой экспертизе"
NOT_ADMITTED = "проект не допущен к независимой экспертизе"
# The bulk file capitalises its statuses; the cards do not.
BULK_STATUS = {
    WINNER: "Победитель конкурса",
    REJECTED: "Проект не получил поддержку",
    EXPERTISE: "На независимой экспертизе",
    NOT_ADMITTED: "Проект не допущен к независимой экспертизе",
}


def contest_name(year: int, number: int) -> str:
    return f"{ORDINALS[number]} конкурс {year}"


# --- applications -------------------------------------------------------------------------


@dataclass
class Org:
    name: str
    region: str
    inn: str
    ogrn: str
    address: str
    website: str | None


@dataclass
class App:
    number: str
    year: int
    contest_no: int
    status: str  # as the card and list page show it
    direction: int
    org: Org
    title: str
    submitted: date
    start: date
    end: date
    requested: Decimal
    cofinancing: Decimal
    awarded: Decimal | None = None  # card's Размер гранта
    transferred: Decimal | None = None
    rating: str | None = None
    decision: date | None = None
    bulk_status: str | None = None  # when the bulk file says otherwise
    bulk_awarded: Decimal | None = None  # when the bulk file says otherwise
    evaluation: str | None = None
    violations: str | None = None
    summary: str = ""
    aim: str = ""
    tasks: list[str] = field(default_factory=list)
    social: str = ""
    geography: str = ""
    targets: list[str] = field(default_factory=list)
    card_id: str = ""
    card_quirks: frozenset[str] = frozenset()
    # How the bulk row writes its cells: which identifiers/amounts/dates are text.
    bulk_text_amounts: bool = False
    bulk_text_dates: bool = False
    bulk_numeric_ids: bool = True
    bulk_amount_override: str | None = None
    bulk_end_override: date | None = None

    @property
    def contest(self) -> str:
        return contest_name(self.year, self.contest_no)

    @property
    def is_winner(self) -> bool:
        return self.status == WINNER

    @property
    def total(self) -> Decimal:
        return self.requested + self.cofinancing


def D(text: str) -> Decimal:
    return Decimal(text.replace(" ", ""))


def make_org(name: str, region: str, serial: int, reg_year: int, address: str,
             website: str | None, *, valid_inn: bool = True) -> Org:
    code = REGIONS[region]
    first9 = f"{code}{serial % 100:02d}{(serial * 7919) % 100000:05d}"
    inn = inn10(first9) if valid_inn else broken_inn(first9)
    ogrn = ogrn13(f"1{reg_year % 100:02d}{code}{serial % 100:02d}{(serial * 104729) % 100000:05d}")
    return Org(name, region, inn, ogrn, address, website)


CARD_APPS: list[App] = [
    App(
        number="17-1-004518", year=2017, contest_no=1, status=WINNER, direction=0,
        org=make_org('АВТОНОМНАЯ НЕКОММЕРЧЕСКАЯ ОРГАНИЗАЦИЯ СОЦИАЛЬНЫХ ПРОГРАММ '
                     '"ВОЛЖСКИЙ ПЕРЕКРЕСТОК"', "Нижегородская обл.", 60, 2012,
                     "603005, Нижегородская обл., г. Нижний Новгород, ул. Садовая, д. 12, "
                     "офис 4", "http://perekrestok-nn.ru"),
        title="«Серебряный маршрут» — школа активного долголетия для жителей Нижнего Новгорода",
        submitted=date(2017, 4, 12), start=date(2017, 7, 1), end=date(2018, 6, 30),
        requested=D("1 600 000.00"), cofinancing=D("2 011 300.00"),
        awarded=D("1 515 679.40"), transferred=D("1 515 679.40"), rating="77,00",
        decision=date(2017, 7, 3), evaluation="успешный проект",
        summary="Школа активного долголетия для одиноко проживающих пожилых людей: занятия "
                "в трёх районах города, компьютерная грамотность, скандинавская ходьба и "
                "клубы по интересам. Волонтёры сопровождают маломобильных участников на "
                "занятия и обратно.",
        aim="Повышение качества жизни одиноко проживающих пожилых людей Нижнего Новгорода "
            "через вовлечение их в активную социальную жизнь.",
        tasks=["Открыть три площадки школы активного долголетия в Автозаводском, Канавинском "
               "и Сормовском районах.",
               "Обучить 240 пожилых людей основам компьютерной грамотности.",
               "Подготовить 40 волонтёров для сопровождения маломобильных участников.",
               "Провести городской фестиваль «Серебряный маршрут»."],
        social="В городе проживает более 300 тысяч человек старше трудоспособного возраста, "
               "значительная часть из них живёт одиноко. Проект отвечает на проблему "
               "социальной изоляции и даёт участникам навыки, нужные в повседневной жизни.",
        geography="Нижегородская обл.",
        targets=["Пожилые люди", "Одиноко проживающие граждане", "Волонтёры"],
    ),
    App(
        number="17-2-011372", year=2017, contest_no=2, status=REJECTED, direction=1,
        org=make_org('РЕГИОНАЛЬНАЯ ОБЩЕСТВЕННАЯ ОРГАНИЗАЦИЯ "ЛИГА ЗДОРОВОГО ДВОРА"',
                     "г. Москва", 11, 2014,
                     "115035, г. Москва, ул. Садовническая, д. 5, стр. 2", None),
        title="Дворовые тренеры: физкультура у дома для подростков района Замоскворечье",
        submitted=date(2017, 8, 21), start=date(2017, 12, 1), end=date(2018, 11, 30),
        requested=D("2 994 812.00"), cofinancing=D("450 000.00"), rating="41,50",
        summary="Еженедельные тренировки на дворовых площадках под руководством тренеров-"
                "волонтёров, турнир дворовых команд и консультации о здоровом питании.",
        aim="Вовлечение подростков района в регулярные занятия физической культурой.",
        tasks=["Подготовить 12 дворовых тренеров.",
               "Организовать занятия на 6 площадках района.",
               "Провести районный турнир дворовых команд."],
        social="Большинство подростков района не посещают спортивные секции; площадки во "
               "дворах пустуют, а платные занятия доступны не всем семьям.",
        geography="г. Москва",
        targets=["Подростки 12–17 лет", "Родители"],
    ),
    App(
        number="18-1-006823", year=2018, contest_no=1, status=WINNER, direction=2,
        org=make_org('БЛАГОТВОРИТЕЛЬНЫЙ ФОНД ПОДДЕРЖКИ СЕМЬИ "ТЕПЛЫЙ ДОМ"',
                     "Республика Татарстан", 55, 2010,
                     "420111, Республика Татарстан, г. Казань, ул. Театральная, д. 38",
                     "https://teplydom-kzn.ru"),
        title="Семейная гостиная: поддержка молодых семей, воспитывающих детей раннего возраста",
        submitted=date(2017, 10, 18), start=date(2018, 2, 1), end=date(2019, 1, 31),
        requested=D("2 198 450.00"), cofinancing=D("1 040 000.00"),
        awarded=D("2 198 450.00"), transferred=D("2 198 450.00"), rating="80,33",
        decision=date(2017, 12, 19), evaluation="превосходный проект",
        summary="Семейная гостиная объединяет консультации психолога и юриста, встречи "
                "родительского клуба и занятия для детей до трёх лет. Проект продолжает "
                "работу пилотной площадки, открытой фондом в 2016 году.",
        aim="Укрепление молодых семей с детьми раннего возраста в Казани и соседних районах.",
        tasks=["Провести 180 консультаций психолога и юриста.",
               "Организовать 36 встреч родительского клуба.",
               "Издать пособие «Первые три года» тиражом 2 000 экземпляров."],
        social="Первые годы жизни ребёнка — время, когда молодая семья наиболее уязвима; "
               "бесплатной помощи специалистов в районах республики не хватает.",
        geography="Республика Татарстан, Республика Башкортостан",
        targets=["Молодые семьи", "Дети раннего возраста", "Беременные женщины"],
    ),
    App(
        number="18-2-019044", year=2018, contest_no=2, status=WINNER, direction=11,
        org=make_org('АССОЦИАЦИЯ РЕСУРСНЫХ ЦЕНТРОВ НЕКОММЕРЧЕСКИХ ОРГАНИЗАЦИЙ "СЕТЬ РАЗВИТИЯ"',
                     "Санкт-Петербург", 42, 2011,
                     "191023, Санкт-Петербург, наб. реки Фонтанки, д. 20, лит. А, пом. 5-Н",
                     "https://set-razvitiya.org"),
        title="Школа НКО: межрегиональная программа обучения руководителей некоммерческих "
              "организаций",
        submitted=date(2018, 4, 4), start=date(2018, 7, 1), end=date(2020, 6, 30),
        requested=D("9 484 487.00"), cofinancing=D("5 200 000.00"),
        awarded=D("9 484 487.00"), transferred=D("9 484 487.00"), rating="88,67",
        decision=date(2018, 6, 22), evaluation="проект реализован удовлетворительно",
        summary="Очные модули и дистанционный курс для руководителей НКО двенадцати регионов: "
                "управление проектами, финансовая отчётность, работа с добровольцами, "
                "привлечение средств.",
        aim="Повышение устойчивости некоммерческих организаций в регионах-участниках.",
        tasks=["Провести 24 очных модуля в 12 регионах.",
               "Запустить дистанционный курс на 6 месяцев.",
               "Организовать стажировки для 60 руководителей НКО.",
               "Подготовить сборник лучших практик."],
        social="Региональные НКО нередко прекращают работу через два-три года после создания "
               "из-за нехватки управленческих навыков; программа отвечает на этот запрос.",
        geography="12 регионов: Алтайский край, г. Москва, Санкт-Петербург, Нижегородская обл., "
                  "Республика Татарстан, Свердловская обл., Новосибирская обл., "
                  "Краснодарский край, Пермский край, Республика Башкортостан, "
                  "Ханты-Мансийский автономный округ — Югра, Калининградская обл.",
        targets=["Руководители НКО", "Сотрудники ресурсных центров"],
    ),
    App(
        number="19-1-002211", year=2019, contest_no=1, status=REJECTED, direction=5,
        org=make_org('НЕКОММЕРЧЕСКОЕ ПАРТНЕРСТВО "УРАЛЬСКАЯ КУКОЛЬНАЯ МАСТЕРСКАЯ"',
                     "Свердловская обл.", 71, 2015,
                     "620014, Свердловская обл., г. Екатеринбург, ул. Заводская, д. 21/1",
                     "http://kukly-ural.ru", valid_inn=False),
        title="Театр на ладони: кукольные спектакли для детей из малых городов Урала",
        submitted=date(2018, 10, 10), start=date(2019, 3, 1), end=date(2019, 12, 31),
        requested=D("486 300.00"), cofinancing=D("120 000.00"), rating="55,00",
        summary="Выездные кукольные спектакли и мастер-классы в библиотеках и домах культуры "
                "малых городов области.",
        aim="Приобщение детей из малых городов к театральному искусству.",
        tasks=["Подготовить два выездных спектакля.",
               "Провести 20 показов в 10 малых городах.",
               "Провести мастер-классы по изготовлению кукол."],
        social="В малых городах области нет профессиональных детских театров.",
        geography="Свердловская обл.",
        targets=["Дети 5–10 лет", "Семьи с детьми"],
    ),
    App(
        number="19-2-013580", year=2019, contest_no=2, status=WINNER, direction=8,
        org=make_org('МЕСТНАЯ ОБЩЕСТВЕННАЯ ОРГАНИЗАЦИЯ "ЭКОЛОГИЧЕСКИЙ ПАТРУЛЬ СЕВЕРНОЙ РЕКИ"',
                     "Ханты-Мансийский автономный округ — Югра", 1, 2016,
                     "628011, Ханты-Мансийский автономный округ — Югра, г. Ханты-Мансийск, "
                     "ул. Мира, д. 7", "https://eco-patrul86.ru"),
        title="Чистый берег: добровольческий мониторинг и уборка прибрежных территорий",
        submitted=date(2019, 3, 14), start=date(2019, 7, 1), end=date(2020, 6, 30),
        requested=D("1 250 000.00"), cofinancing=D("380 000.00"),
        awarded=D("1 250 000.00"), transferred=D("1 250 000.00"), rating="79,50",
        decision=date(2019, 6, 10), evaluation="проект реализован неудовлетворительно",
        violations="нецелевое использование части средств гранта; 86 400,00 руб. "
                   "возвращено в Фонд",
        summary="Добровольческие экспедиции по берегам рек округа: уборка мусора, карта "
                "загрязнений, уроки для школьников.",
        aim="Снижение загрязнения прибрежных территорий рек округа.",
        tasks=["Провести 15 экологических экспедиций.",
               "Составить открытую карту загрязнений.",
               "Провести 30 экологических уроков в школах."],
        social="Берега рек вблизи населённых пунктов страдают от бытового мусора; "
               "систематического мониторинга нет.",
        geography="Ханты-Мансийский автономный округ — Югра",
        targets=["Школьники", "Добровольцы", "Жители прибрежных посёлков"],
        card_quirks=frozenset({"no_ogrn"}),
    ),
    App(
        number="20-2-008765", year=2020, contest_no=2, status=WINNER, direction=6,
        org=make_org('АВТОНОМНАЯ НЕКОММЕРЧЕСКАЯ ОРГАНИЗАЦИЯ "КУБАНСКИЙ КРАЕВЕДЧЕСКИЙ ЦЕНТР"',
                     "Краснодарский край", 10, 2013,
                     "350000, Краснодарский край, г. Краснодар, ул. Красная, д. 90",
                     "https://kraeved-kuban.ru"),
        title="Память в лицах: школьная поисковая экспедиция по сёлам Кубани",
        submitted=date(2020, 3, 16), start=date(2020, 7, 1), end=date(2021, 6, 30),
        requested=D("745 000.00"), cofinancing=D("0.00"),
        awarded=D("745 000.00"), transferred=D("745 000.00"), rating="82,00",
        decision=date(2020, 6, 15), evaluation="успешный проект",
        summary="Школьники с наставниками собирают в сёлах края воспоминания старожилов и "
                "семейные архивы, оцифровывают их и готовят передвижную выставку.",
        aim="Сохранение памяти о жителях сёл Кубани в годы Великой Отечественной войны.",
        tasks=["Провести 8 поисковых экспедиций.",
               "Оцифровать не менее 1 500 документов и фотографий.",
               "Подготовить передвижную выставку."],
        social="Свидетельства о военных годах хранятся в семьях и уходят вместе с поколением; "
               "их сбор вовлекает школьников в изучение истории своих сёл.",
        geography="Краснодарский край",
        targets=["Школьники", "Педагоги", "Жители сельских поселений"],
        card_quirks=frozenset({"no_cofinancing"}),
        bulk_text_amounts=True,
    ),
    App(
        number="21-1-001947", year=2021, contest_no=1, status=REJECTED, direction=3,
        org=make_org('МОЛОДЕЖНАЯ ОБЩЕСТВЕННАЯ ОРГАНИЗАЦИЯ "ТОЧКА РОСТА"',
                     "Новосибирская обл.", 6, 2018,
                     "630099, Новосибирская обл., г. Новосибирск, ул. Октябрьская, д. 3",
                     "https://tochka-rosta-nsk.ru"),
        title="Молодёжная медиашкола: городские новости глазами старшеклассников",
        submitted=date(2020, 10, 1), start=date(2021, 2, 1), end=date(2021, 12, 31),
        requested=D("1 930 000.00"), cofinancing=D("310 500.00"), rating="62,75",
        summary="Медиашкола для старшеклассников: журналистика, фото и видео, выпуск "
                "городского молодёжного онлайн-издания.",
        aim="Развитие медиаграмотности и гражданской активности старшеклассников.",
        tasks=["Обучить 90 старшеклассников.", "Выпустить 40 материалов онлайн-издания."],
        social="Подросткам не хватает площадок, где можно научиться работать с информацией "
               "и говорить о проблемах своего города.",
        geography="Новосибирская обл.",
        targets=["Старшеклассники"],
        bulk_text_dates=True,
    ),
    App(
        number="22-2-005612", year=2022, contest_no=2, status=WINNER, direction=4,
        org=make_org('АВТОНОМНАЯ НЕКОММЕРЧЕСКАЯ ОРГАНИЗАЦИЯ "ЦЕНТР ПРОСВЕТИТЕЛЬСКИХ ПРОГРАММ '
                     '"ЗНАНИЕ РЯДОМ"', "г. Москва", 18, 2019,
                     "125009, г. Москва, Тверская ул., д. 12, стр. 8",
                     "https://znanie-ryadom.ru"),
        title="Наука во дворе: научно-популярные лекции и опыты для детей Москвы и Подмосковья",
        submitted=date(2022, 3, 15), start=date(2022, 7, 1), end=date(2023, 6, 30),
        requested=D("3 400 000.00"), cofinancing=D("1 150 000.00"),
        awarded=D("3 400 000.00"), transferred=D("3 400 000.00"), rating="85,25",
        decision=date(2022, 6, 20), evaluation="превосходный проект",
        summary="Летние научные площадки во дворах и библиотеках: опыты, лекции молодых "
                "учёных, научные квесты.",
        aim="Популяризация науки среди детей и подростков.",
        tasks=["Провести 120 научных площадок.", "Привлечь 60 молодых учёных-лекторов.",
               "Выпустить 20 видеоуроков."],
        social="Научно-популярные мероприятия сосредоточены в центре города и мало доступны "
               "детям из спальных районов и пригородов.",
        geography="г. Москва, Московская обл.",
        targets=["Дети 7–14 лет", "Родители", "Молодые учёные"],
    ),
    App(
        number="23-1-010455", year=2023, contest_no=1, status=WINNER, direction=9,
        org=make_org('РЕГИОНАЛЬНАЯ ОБЩЕСТВЕННАЯ ОРГАНИЗАЦИЯ "ДОМ ДРУЖБЫ НАРОДОВ ГОР"',
                     "Республика Дагестан", 41, 2017,
                     "367000, Республика Дагестан, г. Махачкала, пр-т Морской, д. 18",
                     "https://domdruzhby05.ru"),
        title="Общий очаг: фестиваль национальных культур и молодёжные лагеря дружбы",
        submitted=date(2022, 10, 12), start=date(2023, 2, 1), end=date(2024, 1, 31),
        requested=D("2 500 000.00"), cofinancing=D("760 000.00"),
        awarded=D("2 480 000.00"), transferred=D("2 480 000.00"), rating="84,00",
        decision=date(2023, 1, 25), bulk_awarded=D("2 500 000.00"),
        summary="Фестиваль национальных культур, три молодёжных лагеря дружбы и цикл встреч "
                "в школах республики.",
        aim="Укрепление межнационального согласия среди молодёжи республики.",
        tasks=["Провести фестиваль национальных культур.", "Организовать три лагеря дружбы.",
               "Провести 40 встреч в школах."],
        social="Республика многонациональна; совместные дела молодёжи разных народов — "
               "лучшая профилактика конфликтов.",
        geography="Республика Дагестан",
        targets=["Молодёжь 14–25 лет", "Педагоги"],
    ),
    App(
        number="24-2-004120", year=2024, contest_no=2, status=REJECTED, direction=7,
        org=make_org('АВТОНОМНАЯ НЕКОММЕРЧЕСКАЯ ОРГАНИЗАЦИЯ "ПРАВОВАЯ ПОМОЩЬ ПРИКАМЬЯ"',
                     "Пермский край", 4, 2020,
                     "614000, Пермский край, г. Пермь, ул. Петропавловская, д. 41",
                     "https://pravo-prikamye.ru"),
        title="Право рядом: бесплатные юридические консультации для жителей отдалённых сёл",
        submitted=date(2024, 3, 11), start=date(2024, 9, 1), end=date(2025, 8, 31),
        requested=D("1 100 000.00"), cofinancing=D("275 000.00"), rating="48,00",
        summary="Выездные юридические консультации в сёлах края и горячая линия.",
        aim="Повышение доступности бесплатной юридической помощи жителям сёл.",
        tasks=["Провести 30 выездных консультаций.", "Запустить горячую линию."],
        social="В отдалённых сёлах нет юристов, а поездка в краевой центр занимает день.",
        geography="Пермский край",
        targets=["Жители сельских территорий", "Пенсионеры"],
    ),
    App(
        number="25-2-003318", year=2025, contest_no=2, status=REJECTED, direction=10,
        org=make_org('АССОЦИАЦИЯ "БАЛТИЙСКИЙ МОСТ"', "Калининградская обл.", 6, 2021,
                     "236006, Калининградская обл., г. Калининград, Московский пр-т, д. 40",
                     "https://baltmost39.ru"),
        title="Русский язык без границ: онлайн-курсы для детей соотечественников",
        submitted=date(2025, 3, 12), start=date(2025, 9, 1), end=date(2026, 8, 31),
        requested=D("2 700 000.00"), cofinancing=D("900 000.00"), rating="58,40",
        bulk_status=EXPERTISE,
        summary="Онлайн-курсы русского языка и литературы для детей соотечественников, "
                "живущих за рубежом, с живыми занятиями в малых группах.",
        aim="Сохранение русского языка в семьях соотечественников.",
        tasks=["Разработать курс из 64 занятий.", "Обучить 300 детей."],
        social="Дети соотечественников теряют русский язык уже во втором поколении.",
        geography="Калининградская обл.",
        targets=["Дети соотечественников 8–14 лет", "Родители"],
        bulk_text_amounts=True,
    ),
    App(
        number="25-2-000871", year=2025, contest_no=2, status=WINNER, direction=12,
        org=make_org('АВТОНОМНАЯ НЕКОММЕРЧЕСКАЯ ОРГАНИЗАЦИЯ "СТУДИЯ ЮНЫХ ТАЛАНТОВ "СОЗВЕЗДИЕ"',
                     "Ставропольский край", 34, 2016,
                     "355017, Ставропольский край, г. Ставрополь, ул. Мира, д. 264",
                     None),
        title="Созвездие: краевой конкурс и мастерские для юных музыкантов из сёл",
        submitted=date(2025, 2, 27), start=date(2025, 9, 1), end=date(2026, 8, 31),
        requested=D("1 870 000.00"), cofinancing=D("640 000.00"),
        awarded=D("1 870 000.00"), transferred=D("1 122 000.00"), rating="88,25",
        decision=date(2025, 6, 18), bulk_status=EXPERTISE,
        summary="Краевой конкурс юных музыкантов из сельских школ искусств и летние "
                "мастерские с преподавателями консерватории.",
        aim="Выявление и поддержка музыкально одарённых детей из сельских районов края.",
        tasks=["Провести краевой конкурс.", "Организовать две летние мастерские.",
               "Передать 15 музыкальных инструментов сельским школам искусств."],
        social="Одарённые дети из сёл реже попадают на конкурсы и к сильным педагогам.",
        geography="Ставропольский край",
        targets=["Учащиеся сельских школ искусств", "Преподаватели"],
    ),
]


def _card_ids(apps: list[App], rng: random.Random) -> None:
    for app in apps:
        app.card_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))


# --- the other rows of the bulk file ------------------------------------------------------

ORG_FORMS = ["АВТОНОМНАЯ НЕКОММЕРЧЕСКАЯ ОРГАНИЗАЦИЯ", "РЕГИОНАЛЬНАЯ ОБЩЕСТВЕННАЯ ОРГАНИЗАЦИЯ",
             "БЛАГОТВОРИТЕЛЬНЫЙ ФОНД", "МЕСТНАЯ ОБЩЕСТВЕННАЯ ОРГАНИЗАЦИЯ", "АССОЦИАЦИЯ",
             "НЕКОММЕРЧЕСКОЕ ПАРТНЕРСТВО"]
ORG_NAMES = ["ДОБРЫЕ СОСЕДИ", "ВМЕСТЕ МЫ СИЛА", "СВЕТЛЫЙ ПУТЬ", "НОВЫЕ ГОРИЗОНТЫ",
             "РОДНИК", "СЕВЕРНОЕ СИЯНИЕ", "ОТКРЫТЫЕ ДВЕРИ", "ЗЕЛЕНЫЙ ГОРОД", "ПАРУС",
             "ДЕТСКИЙ ОСТРОВ", "ЖИВАЯ ИСТОРИЯ", "ТВОРЧЕСКАЯ ГАВАНЬ", "РУКА ПОМОЩИ",
             "ЗОЛОТАЯ ОСЕНЬ", "ИСТОКИ", "МАЯК НАДЕЖДЫ", "ДРУЖНАЯ СЕМЬЯ", "ТРОПА ЗДОРОВЬЯ",
             "ЛЕСНАЯ СТРАЖА", "МАСТЕРСКАЯ ДОБРА", "ГОЛОС ПОКОЛЕНИЙ"]
TITLE_STARTS = ["Школа", "Клуб", "Мастерская", "Лаборатория", "Центр", "Фестиваль", "Академия"]
TITLE_SUBJECTS = ["активного долголетия", "юных экологов", "семейного чтения",
                  "добровольческих инициатив", "инклюзивного творчества",
                  "народных ремёсел", "правового просвещения", "молодых исследователей",
                  "здорового образа жизни", "родительских компетенций"]
EVALUATIONS = ["успешный проект", "превосходный проект", "проект реализован удовлетворительно"]
NOT_STARTED = ("проект, к реализации которого победитель конкурса не приступал "
               "(грант не использовался)")


def contest_dates(year: int, number: int, rng: random.Random) -> tuple[date, date, date, date]:
    """Submission, decision, start, end for a contest (first contests of a year are held
    the autumn before it, except in 2017)."""
    if year == 2017:
        submitted = date(2017, 4, 1) if number == 1 else date(2017, 8, 1)
        decision = date(2017, 7, 3) if number == 1 else date(2017, 11, 20)
        start = date(2017, 7, 1) if number == 1 else date(2017, 12, 1)
    elif number == 1:
        submitted = date(year - 1, 10, 1)
        decision = date(year - 1, 12, 20)
        start = date(year, 2, 1)
    else:
        submitted = date(year, 3, 1)
        decision = date(year, 6, 20)
        start = date(year, 7 if year < 2024 else 9, 1)
    submitted += timedelta(days=rng.randrange(0, 28))
    end = date(start.year + 1, start.month, 1) - timedelta(days=1)
    return submitted, decision, start, end


def other_apps(rng: random.Random, count: int) -> list[App]:
    contests = [(y, n) for y in range(2017, 2026) for n in (1, 2)]
    used = {a.number for a in CARD_APPS}
    regions = list(REGIONS)
    apps: list[App] = []
    for i in range(count):
        year, number = contests[i % len(contests)]
        while True:
            app_number = f"{year % 100:02d}-{number}-{rng.randrange(100, 20000):06d}"
            if app_number not in used:
                used.add(app_number)
                break
        submitted, decision, start, end = contest_dates(year, number, rng)
        region = regions[(i * 5 + 3) % len(regions)]
        org = make_org(f'{ORG_FORMS[i % len(ORG_FORMS)]} "{ORG_NAMES[i % len(ORG_NAMES)]}"',
                       region, 20 + i, 2005 + i % 14, "", None)
        requested = Decimal(rng.randrange(300, 6000) * 1000 + rng.choice([0, 0, 500, 250]))
        cofinancing = Decimal(rng.randrange(0, 3000) * 1000)
        if (year, number) == (2025, 2):
            status = EXPERTISE
        elif i in (7, 29):
            status = NOT_ADMITTED
        else:
            status = WINNER if rng.random() < 0.4 else REJECTED
        app = App(
            number=app_number, year=year, contest_no=number, status=status,
            direction=rng.randrange(len(DIRECTIONS)), org=org,
            title=f"{rng.choice(TITLE_STARTS)} {rng.choice(TITLE_SUBJECTS)} «"
                  f"{ORG_NAMES[(i * 3) % len(ORG_NAMES)].capitalize()}»",
            submitted=submitted, start=start, end=end, requested=requested,
            cofinancing=cofinancing,
            bulk_text_amounts=i % 4 == 1, bulk_text_dates=i % 6 == 2,
            bulk_numeric_ids=i % 3 != 0,
        )
        if status == WINNER:
            app.awarded = requested
            app.decision = decision
            if end < date(2024, 1, 1):
                app.evaluation = EVALUATIONS[i % len(EVALUATIONS)]
        apps.append(app)
    # The defects the loader must quarantine or flag, each on one row.
    apps[3].bulk_amount_override = "2 350 000,0\u041e"  # a Cyrillic О for the last zero
    apps[4].bulk_end_override = apps[4].start - timedelta(days=186)  # ends before it starts
    # Outcomes go to rows that load, so the warehouse has them to show.
    winners = [a for a in apps[5:] if a.status == WINNER and a.end < date(2024, 1, 1)]
    winners[0].evaluation = NOT_STARTED
    winners[1].evaluation = "проект реализован неудовлетворительно"
    winners[1].violations = "грант использован не в полном объеме; остаток 214 500,00 руб. " \
                            "возвращен в Фонд"
    return apps


# --- HTML: the site's chrome --------------------------------------------------------------


def esc(text: str) -> str:
    return html.escape(text, quote=True)


def money(value: Decimal) -> str:
    """`1 515 679,40`: groups split by a no-break space, decimal comma (ru-RU)."""
    whole, frac = f"{value:.2f}".split(".")
    groups = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    return NBSP.join(groups) + "," + frac


def svg_sprite(rng: random.Random) -> str:
    names = ["logo", "search", "menu", "close", "arrow-left", "arrow-right", "arrow-down",
             "vk", "ok", "telegram", "rutube", "dzen", "eye", "doc", "download", "map-pin",
             "calendar", "user", "grant", "chart", "mail", "share", "print", "up"]
    symbols = []
    for name in names:
        points = []
        x, y = rng.uniform(2, 22), rng.uniform(2, 22)
        points.append(f"M{x:.3f} {y:.3f}")
        for _ in range(rng.randrange(24, 60)):
            cmd = rng.choice("CcLlQq")
            coords = " ".join(f"{rng.uniform(-12, 24):.3f}" for _ in range(
                {"C": 6, "c": 6, "L": 2, "l": 2, "Q": 4, "q": 4}[cmd]))
            points.append(f"{cmd}{coords}")
        points.append("z")
        symbols.append(
            f'        <symbol id="icon-{name}" viewBox="0 0 24 24">'
            f'<path fill="currentColor" d="{"".join(points)}"/></symbol>'
        )
    return (
        '    <svg xmlns="http://www.w3.org/2000/svg" style="display:none" aria-hidden="true">\n'
        + "\n".join(symbols)
        + "\n    </svg>"
    )


NAV = [
    ("О Фонде", "/public/about", [("О Фонде", "/public/about"),
                                  ("Попечительский совет", "/public/about/board"),
                                  ("Экспертный совет", "/public/about/experts"),
                                  ("Документы", "/public/documents"),
                                  ("Отчёты Фонда", "/public/about/reports")]),
    ("Конкурсы", "/public/contest", [("Текущий конкурс", "/public/contest/current"),
                                      ("Итоги конкурсов", "/public/contest/results"),
                                      ("Положение о конкурсе", "/public/contest/regulations"),
                                      ("Методические материалы", "/public/contest/methods")]),
    ("Проекты", "/public/application/cards", [("Все проекты", "/public/application/cards"),
                                              ("Карта проектов", "/public/map"),
                                              ("Лучшие практики", "/public/best-practices")]),
    ("Новости", "/public/news", []),
    ("Открытые данные", "/public/open-data", []),
    ("Контакты", "/public/contacts", []),
]


def header() -> str:
    items = []
    for title, href, children in NAV:
        sub = ""
        if children:
            sub = (
                '\n                            <ul class="header__submenu">\n'
                + "\n".join(
                    f'                                <li class="header__submenu-item">'
                    f'<a class="header__submenu-link" href="{h}">{esc(t)}</a></li>'
                    for t, h in children
                )
                + "\n                            </ul>"
            )
        items.append(
            f'                        <li class="header__menu-item">\n'
            f'                            <a class="header__menu-link" href="{href}">'
            f'{esc(title)}</a>{sub}\n                        </li>'
        )
    return f"""    <header class="header js-header">
        <div class="header__top">
            <div class="container header__top-inner">
                <a class="header__eye-link" href="#" data-toggle="special-version">
                    <svg class="icon icon-eye"><use xlink:href="#icon-eye"></use></svg>
                    <span>Версия для слабовидящих</span>
                </a>
                <ul class="header__social">
                    <li><a href="#" class="header__social-link" aria-label="ВКонтакте"><svg class="icon"><use xlink:href="#icon-vk"></use></svg></a></li>
                    <li><a href="#" class="header__social-link" aria-label="Одноклассники"><svg class="icon"><use xlink:href="#icon-ok"></use></svg></a></li>
                    <li><a href="#" class="header__social-link" aria-label="Telegram"><svg class="icon"><use xlink:href="#icon-telegram"></use></svg></a></li>
                    <li><a href="#" class="header__social-link" aria-label="RUTUBE"><svg class="icon"><use xlink:href="#icon-rutube"></use></svg></a></li>
                    <li><a href="#" class="header__social-link" aria-label="Дзен"><svg class="icon"><use xlink:href="#icon-dzen"></use></svg></a></li>
                </ul>
                <a class="header__login" href="/account/login" rel="nofollow">Личный кабинет</a>
            </div>
        </div>
        <div class="container header__inner">
            <a class="header__logo" href="/">
                <svg class="header__logo-img"><use xlink:href="#icon-logo"></use></svg>
                <span class="header__logo-text">Фонд<br />президентских<br />грантов</span>
            </a>
            <nav class="header__nav">
                <button class="header__burger js-burger" type="button" aria-label="Меню"><svg class="icon"><use xlink:href="#icon-menu"></use></svg></button>
                <div class="header__menu-wrap">
                    <ul class="header__menu">
{chr(10).join(items)}
                    </ul>
                </div>
            </nav>
            <form class="header__search" action="/public/search" method="get">
                <input class="header__search-input" type="text" name="q" placeholder="Поиск по сайту" autocomplete="off" />
                <button class="header__search-btn" type="submit" aria-label="Найти"><svg class="icon"><use xlink:href="#icon-search"></use></svg></button>
            </form>
        </div>
    </header>"""


def footer() -> str:
    columns = []
    for title, href, children in NAV:
        links = children or [(title, href)]
        columns.append(
            '                <div class="footer__col">\n'
            f'                    <div class="footer__col-title">{esc(title)}</div>\n'
            '                    <ul class="footer__list">\n'
            + "\n".join(
                f'                        <li class="footer__list-item"><a class="footer__link" '
                f'href="{h}">{esc(t)}</a></li>'
                for t, h in links
            )
            + "\n                    </ul>\n                </div>"
        )
    return f"""    <footer class="footer">
        <div class="container footer__inner">
            <div class="footer__cols">
{chr(10).join(columns)}
            </div>
            <div class="footer__bottom">
                <p class="footer__copy">© 2017–2025 Фонд президентских грантов</p>
                <p class="footer__note">При использовании материалов сайта ссылка на&nbsp;источник обязательна.</p>
                <a class="footer__link footer__link--policy" href="/public/documents/privacy">Политика обработки персональных данных</a>
                <button class="footer__up js-up" type="button" aria-label="Наверх"><svg class="icon"><use xlink:href="#icon-up"></use></svg></button>
            </div>
        </div>
    </footer>
    <div class="cookie js-cookie" hidden>
        <div class="cookie__text">Сайт использует файлы cookie. Продолжая работу с&nbsp;сайтом, вы соглашаетесь с&nbsp;<a href="/public/documents/privacy">политикой обработки персональных данных</a>.</div>
        <button class="cookie__btn button js-cookie-accept" type="button">Согласен</button>
    </div>
    <div class="modal" id="modal-feedback" hidden>
        <div class="modal__dialog">
            <button class="modal__close js-modal-close" type="button" aria-label="Закрыть"><svg class="icon"><use xlink:href="#icon-close"></use></svg></button>
            <div class="modal__title">Обратная связь</div>
            <form class="form js-feedback-form" action="/public/feedback" method="post">
                <input name="__RequestVerificationToken" type="hidden" value="CfDJ8Nq0sampleTokenNotSecret00000000000000000000000000000000000000000" />
                <label class="form__label">Тема обращения
                    <select class="form__select" name="Topic">
                        <option value="contest">Вопрос о конкурсе</option>
                        <option value="project">Вопрос о проекте</option>
                        <option value="site">Работа сайта</option>
                    </select>
                </label>
                <label class="form__label">Текст обращения<textarea class="form__textarea" name="Text" rows="5"></textarea></label>
                <button class="button form__submit" type="submit">Отправить</button>
            </form>
        </div>
    </div>"""


SCRIPTS = """    <script src="/Scripts/vendor.min.js?v=3.14.2"></script>
    <script src="/Scripts/main.min.js?v=3.14.2"></script>
    <script>
        (function () {
            'use strict';
            var header = document.querySelector('.js-header');
            var burger = document.querySelector('.js-burger');
            if (burger && header) {
                burger.addEventListener('click', function () {
                    header.classList.toggle('header--open');
                    document.body.classList.toggle('no-scroll');
                });
            }
            var up = document.querySelector('.js-up');
            if (up) {
                up.addEventListener('click', function () { window.scrollTo({ top: 0, behavior: 'smooth' }); });
            }
            var cookie = document.querySelector('.js-cookie');
            if (cookie && !window.localStorage.getItem('cookie-accepted')) {
                cookie.hidden = false;
                cookie.querySelector('.js-cookie-accept').addEventListener('click', function () {
                    window.localStorage.setItem('cookie-accepted', '1');
                    cookie.hidden = true;
                });
            }
            Array.prototype.forEach.call(document.querySelectorAll('.js-ancor-link'), function (link) {
                link.addEventListener('click', function (event) {
                    var target = document.querySelector(link.getAttribute('href'));
                    if (!target) { return; }
                    event.preventDefault();
                    window.scrollTo({ top: target.getBoundingClientRect().top + window.pageYOffset - 90, behavior: 'smooth' });
                });
            });
            Array.prototype.forEach.call(document.querySelectorAll('.js-circle-bar'), function (bar) {
                var percent = parseFloat(bar.getAttribute('data-percent')) || 0;
                var circle = bar.querySelector('.circle-bar__progress');
                if (!circle) { return; }
                var length = 2 * Math.PI * parseFloat(circle.getAttribute('r'));
                circle.style.strokeDasharray = length;
                circle.style.strokeDashoffset = length * (1 - percent / 100);
            });
            Array.prototype.forEach.call(document.querySelectorAll('.js-select'), function (select) {
                select.addEventListener('change', function () { select.form && select.form.submit(); });
            });
        })();
    </script>
    <script>
        window.siteConfig = {
            culture: 'ru-RU',
            apiBase: '/api/v1/',
            mapTiles: '/map/tiles/{z}/{x}/{y}.png',
            specialVersionCookie: 'special-version',
            messages: { loading: 'Загрузка…', error: 'Не удалось загрузить данные. Попробуйте позже.' }
        };
    </script>"""


def page(title: str, canonical: str, body: str, rng: random.Random,
         body_class: str = "page page--inner") -> str:
    return f"""<!DOCTYPE html>
<html lang="ru">
<head>
    <meta charset="utf-8" />
    <meta http-equiv="X-UA-Compatible" content="IE=edge" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>{esc(title)}</title>
    <meta name="description" content="Фонд президентских грантов — оператор грантов Президента Российской Федерации на развитие гражданского общества." />
    <meta property="og:type" content="website" />
    <meta property="og:site_name" content="Фонд президентских грантов" />
    <meta property="og:title" content="{esc(title)}" />
    <meta property="og:url" content="{esc(canonical)}" />
    <meta property="og:image" content="{BASE}/Content/images/og-image.png" />
    <link rel="icon" type="image/x-icon" href="/favicon.ico" />
    <link rel="apple-touch-icon" sizes="180x180" href="/Content/images/apple-touch-icon.png" />
    <link rel="stylesheet" href="/Content/css/vendor.min.css?v=3.14.2" />
    <link rel="stylesheet" href="/Content/css/main.min.css?v=3.14.2" />
    <link rel="stylesheet" href="/Content/css/special-version.min.css?v=3.14.2" media="print" onload="this.media='all'" />
</head>
<body class="{body_class}">
{svg_sprite(rng)}
{header()}
    <main class="main">
{body}
    </main>
{footer()}
{SCRIPTS}
</body>
</html>
"""


# --- list pages ---------------------------------------------------------------------------


def list_row(app: App) -> str:
    href = f"/public/application/item?id={app.card_id}"
    fond = ""
    if app.is_winner:
        fond = (f'\n                                <div class="projects__price projects__price--fond">'
                f'{money(app.awarded)}{NBSP}₽</div>')
    return f"""                    <a href="{href}" class="table__row-link">
                        <div class="table__row cards-item-row">
                            <div class="table__cell table__cell--title">
                                <div class="projects__title">{esc(app.title)}</div>
                                <div class="contest">{esc(app.contest)}</div>
                                <div class="direction">{esc(DIRECTIONS[app.direction])}</div>
                            </div>
                            <div class="table__cell table__cell--price">
                                <div class="projects__price">{money(app.requested)}{NBSP}₽</div>{fond}
                            </div>
                            <div class="table__cell table__cell--descr">
                                <div class="projects__descr">
                                    <div>{esc(app.org.region)}</div>
                                    <div class="projects__type"><span>{esc(app.status)}</span></div>
                                    <div class="projects__number">Заявка <span class="projects__str-no-wrap">№{NBSP}{app.number}</span> от&nbsp;{app.submitted:%d.%m.%Y}</div>
                                </div>
                            </div>
                        </div>
                    </a>"""


def filters() -> str:
    statuses = [WINNER, REJECTED, EXPERTISE]
    status_inputs = "\n".join(
        f'                        <label class="filter__check"><input type="checkbox" '
        f'name="Statuses[{i}].Selected" value="true" /><input type="hidden" '
        f'name="Statuses[{i}].Name" value="{esc(s)}" />{esc(s)}</label>'
        for i, s in enumerate(statuses)
    )
    regions = "\n".join(
        f'                            <option value="{i + 1}">{esc(r)}</option>'
        for i, r in enumerate(sorted(REGIONS))
    )
    contests = "\n".join(
        f'                            <option value="{100 + i}">{contest_name(y, n)}</option>'
        for i, (y, n) in enumerate((y, n) for y in range(2025, 2016, -1) for n in (2, 1))
    )
    return f"""                <form class="filter" action="/public/application/cards" method="get">
                    <div class="filter__row">
                        <input class="filter__input" type="text" name="SearchString" value="" placeholder="Название проекта, организация, ИНН или номер заявки" />
                        <button class="button filter__submit" type="submit">Найти</button>
                    </div>
                    <div class="filter__row">
{status_inputs}
                    </div>
                    <div class="filter__row">
                        <select class="filter__select js-select" name="RegionId">
                            <option value="">Все регионы</option>
{regions}
                        </select>
                        <select class="filter__select js-select" name="CompetitionId">
                            <option value="">Все конкурсы</option>
{contests}
                        </select>
                        <input class="filter__date" type="text" name="DateFrom" placeholder="Дата подачи с" />
                        <input class="filter__date" type="text" name="DateTo" placeholder="по" />
                    </div>
                </form>"""


def pagination(current: int, pages: int) -> str:
    items = []
    for n in range(1, pages + 1):
        if n == current:
            items.append(f'                    <li class="pagination__item pagination__item--active">'
                         f'<span>{n}</span></li>')
        else:
            items.append(f'                    <li class="pagination__item"><a class="pagination__link" '
                         f'href="/public/application/cards?page={n}">{n}</a></li>')
    prev = ""
    if current > 1:
        prev = (f'                <a class="pagination__arrow pagination__arrow--prev" '
                f'href="/public/application/cards?page={current - 1}" aria-label="Назад">'
                f'<svg class="icon"><use xlink:href="#icon-arrow-left"></use></svg></a>\n')
    nxt = ""
    if current < pages:
        nxt = (f'\n                <a class="pagination__arrow pagination__arrow--next" '
               f'href="/public/application/cards?page={current + 1}" aria-label="Вперёд">'
               f'<svg class="icon"><use xlink:href="#icon-arrow-right"></use></svg></a>')
    return (f'            <div class="pagination-wrap">\n{prev}'
            f'                <ul class="pagination">\n' + "\n".join(items)
            + f"\n                </ul>{nxt}\n            </div>")


def list_page(apps: list[App], current: int, pages: int, total: int, rng: random.Random) -> str:
    rows = "\n".join(list_row(a) for a in apps)
    url = f"{BASE}/public/application/cards?page={current}"
    body = f"""        <div class="container">
            <ul class="breadcrumbs">
                <li class="breadcrumbs__item"><a href="/">Главная</a></li>
                <li class="breadcrumbs__item">Проекты</li>
            </ul>
            <section class="project-present">
                <h1 class="title project-present__title">Проекты</h1>
                <p class="project-present__count">Найдено заявок: {total}</p>
{filters()}
                <div class="table table--p-present table--projects">
                    <div class="table__row table__row--head">
                        <div class="table__cell">Проект</div>
                        <div class="table__cell">Сумма</div>
                        <div class="table__cell">Регион, статус, заявка</div>
                    </div>
{rows}
                </div>
            </section>
{pagination(current, pages)}
        </div>"""
    return page("Проекты | Фонд президентских грантов", url, body, rng)


# --- cards --------------------------------------------------------------------------------


def info_item(label: str, value: str) -> str:
    return f"""                            <li class="winner-info__list-item">
                                <span class="winner-info__list-item-title">{label}</span>
                                <span class="winner-info__list-item-text">{value}</span>
                            </li>"""


def amount_item(label: str, value: Decimal, modifier: str, rubl_span: bool) -> str:
    sign = '<span class="rubl">₽</span>' if rubl_span else "₽"
    return f"""                            <li class="circle-bar__info-item circle-bar__info-item--{modifier}">
                                <span class="circle-bar__info-item-title">{label}</span>
                                <span class="circle-bar__info-item-number">{money(value)}{NBSP}{sign}</span>
                            </li>"""


def details_box(box_id: str, title: str, inner: str) -> str:
    return f"""                <div class="winner__details-box js-ancor-box" id="{box_id}">
                    <h2 class="winner__details-title">{title}</h2>
{inner}
                </div>"""


def ol(items: list[str]) -> str:
    lis = "\n".join(f"                        <li>{esc(i)}</li>" for i in items)
    return f'                    <ol class="winner__details-list">\n{lis}\n                    </ol>'


def typograph(text: str) -> str:
    """The site's typographer binds short prepositions to the next word with &nbsp;."""
    return re.sub(r"(?<=\s)(в|и|с|к|о|на|по|для|из|от|до) ", r"\1&nbsp;", esc(text))


def card_page(app: App, rng: random.Random) -> str:
    url = f"{BASE}/public/application/item?id={app.card_id}"
    info_a = [info_item("Конкурс", esc(app.contest)),
              info_item("Грантовое&nbsp;направление", esc(DIRECTIONS[app.direction]))]
    if app.rating:
        info_a.append(info_item("Рейтинг&nbsp;заявки", app.rating))
    info_a += [info_item("Номер&nbsp;заявки", app.number),
               info_item("Дата&nbsp;подачи", f"{app.submitted:%d.%m.%Y}")]
    info_b = [info_item("Сроки&nbsp;реализации",
                        f"{app.start:%d.%m.%Y}{NBSP}- {app.end:%d.%m.%Y}"),
              info_item("Организация", esc(app.org.name)),
              info_item("ИНН", app.org.inn)]
    if "no_ogrn" not in app.card_quirks:
        info_b.append(info_item("ОГРН", app.org.ogrn))
    rubl_span = int(app.number[-1]) % 2 == 0
    # The site spells the co-financing label with a Latin C.
    cof_label = "Cофинансирование"
    if app.is_winner:
        first = amount_item("Размер&nbsp;гранта", app.awarded, "grant", rubl_span)
        third = amount_item("Перечислено Фондом на&nbsp;реализацию проекта", app.transferred,
                            "transfer", rubl_span)
        base = app.awarded + app.cofinancing
        percent = round(100 * app.awarded / base) if base else 0
    else:
        first = amount_item("Запрашиваемая&nbsp;сумма", app.requested, "grant", rubl_span)
        third = amount_item("Общая сумма расходов на&nbsp;реализацию проекта", app.total,
                            "total", rubl_span)
        percent = round(100 * app.requested / app.total) if app.total else 0
    amounts = [first]
    if "no_cofinancing" not in app.card_quirks:
        amounts.append(amount_item(cof_label, app.cofinancing, "cofinancing", rubl_span))
    amounts.append(third)
    if app.org.website:
        site = (f'                        <a class="winner__details-contacts-item '
                f'winner__details-contacts-item--link" href="{app.org.website}" target="_blank" '
                f'rel="nofollow noopener">{app.org.website}</a>')
    else:
        site = ('                        <a class="winner__details-contacts-item '
                'winner__details-contacts-item--link">Веб-сайт: нет</a>')
    anchors = [("winner-summary", "Краткое описание"), ("winner-aims", "Цель"),
               ("winner-tasks", "Задачи"), ("winner-social", "Обоснование социальной значимости"),
               ("winner-geography", "География проекта"), ("winner-target", "Целевые группы"),
               ("winner-contacts", "Контакты")]
    anchor_links = "\n".join(
        f'                    <a class="buttons-list__item js-ancor-link" href="#{i}">{t}</a>'
        for i, t in anchors
    )
    boxes = "\n".join([
        details_box("winner-summary", "Краткое описание",
                    f"                    {typograph(app.summary)}"),
        details_box("winner-aims", "Цель", ol([app.aim])),
        details_box("winner-tasks", "Задачи", ol(app.tasks)),
        details_box("winner-social", "Обоснование социальной значимости",
                    f"                    {typograph(app.social)}"),
        details_box("winner-geography", "География проекта",
                    f"                    {esc(app.geography)}"),
        details_box("winner-target", "Целевые группы", ol(app.targets)),
        details_box("winner-contacts", "Контакты", f"""                    <div class="winner__details-contacts">
                        <span class="winner__details-contacts-item">{esc(app.org.address)}</span>
{site}
                    </div>"""),
    ])
    body = f"""        <div class="container">
            <ul class="breadcrumbs">
                <li class="breadcrumbs__item"><a href="/">Главная</a></li>
                <li class="breadcrumbs__item"><a href="/public/application/cards">Проекты</a></li>
                <li class="breadcrumbs__item">Заявка №{NBSP}{app.number}</li>
            </ul>
            <section class="winner-info">
                <div class="winner-info__head">
                    <a class="winner-info__back" href="/public/application/cards"><svg class="icon"><use xlink:href="#icon-arrow-left"></use></svg>Все проекты</a>
                    <h2 class="winner-info__title">{typograph(app.title)}</h2>
                    <p class="winner-info__status">Статус проекта: <span>{esc(app.status)}</span></p>
                </div>
                <div class="winner-info__row">
                    <div class="winner-info__col">
                        <ul class="winner-info__list winner-info__item">
{chr(10).join(info_a)}
                        </ul>
                        <ul class="winner-info__list winner-info__item">
{chr(10).join(info_b)}
                        </ul>
                    </div>
                    <div class="circle-bar winner-info__item js-circle-bar" data-percent="{percent}">
                        <svg class="circle-bar__chart" viewBox="0 0 120 120" width="120" height="120">
                            <circle class="circle-bar__track" cx="60" cy="60" r="54" fill="none" stroke-width="12"></circle>
                            <circle class="circle-bar__progress" cx="60" cy="60" r="54" fill="none" stroke-width="12"></circle>
                        </svg>
                        <ul class="circle-bar__info">
{chr(10).join(amounts)}
                        </ul>
                    </div>
                </div>
            </section>
            <section class="winner">
                <div class="buttons-list buttons-list-ancors">
{anchor_links}
                </div>
                <div class="winner__details">
{boxes}
                </div>
            </section>
        </div>"""
    return page(f"{app.title} | Фонд президентских грантов", url, body, rng)


# --- open-data page -----------------------------------------------------------------------


def open_data_page(rng: random.Random) -> str:
    def dataset(title: str, descr: str, href: str, size: str, updated: str) -> str:
        return f"""                <div class="open-data__item">
                    <div class="open-data__item-title">{title}</div>
                    <p class="open-data__item-descr">{descr}</p>
                    <div class="open-data__item-meta">Обновлено: {updated}</div>
                    <a class="open-data__item-link button button--outline" href="{href}" download>
                        <svg class="icon"><use xlink:href="#icon-download"></use></svg>Скачать (XLSX, {size})
                    </a>
                </div>"""

    body = f"""        <div class="container">
            <ul class="breadcrumbs">
                <li class="breadcrumbs__item"><a href="/">Главная</a></li>
                <li class="breadcrumbs__item">Открытые данные</li>
            </ul>
            <section class="open-data">
                <h1 class="title">Открытые данные</h1>
                <p class="open-data__intro">Фонд публикует сведения о&nbsp;конкурсах и&nbsp;проектах в&nbsp;машиночитаемом виде. Данные можно свободно использовать с&nbsp;указанием источника.</p>
{dataset("Сведения о&nbsp;проектах, представленных на&nbsp;конкурсы Фонда президентских грантов",
         "Все заявки с&nbsp;2017 года: организация, регион, конкурс, направление, суммы, сроки, "
         "статус, оценка результатов и&nbsp;информация о&nbsp;нарушениях.",
         "/upload/opendata/projects.xlsx", "27,9&nbsp;МБ", "01.06.2025")}
{dataset("Софинансирование региональных программ поддержки НКО",
         "Объёмы софинансирования Фондом региональных конкурсов для&nbsp;некоммерческих "
         "организаций с&nbsp;2021 года.",
         "/upload/opendata/regional_cofinancing.xlsx", "96&nbsp;КБ", "15.03.2025")}
                <p class="open-data__license">Лицензия: <a href="https://creativecommons.org/licenses/by/4.0/deed.ru" rel="nofollow">CC BY 4.0</a></p>
            </section>
        </div>"""
    return page("Открытые данные | Фонд президентских грантов", OPEN_DATA_URL, body, rng)


# --- the bulk XLSX ------------------------------------------------------------------------

HEADERS = [
    "Номер\nзаявки", "Конкурс", "Организация", "ОГРН", "ИНН", "Регион", "Название\nпроекта",
    f"Грантовое{NBSP}направление", "Запрошенная сумма,\nруб.", "Общая сумма\nрасходов, руб.",
    "Начало\nреализации", "Окончание\nреализации", "Статус  проекта", "Дата решения\nо гранте",
    "Размер гранта,\nруб.", "Оценка\nрезультатов", "Информация о нару-\nшениях",
]
HEADER_ROW = 5


def bulk_row(app: App) -> list[object]:
    def amount(value: Decimal | None) -> object:
        if value is None:
            return None
        return money(value) if app.bulk_text_amounts else float(value)

    def when(value: date | None) -> object:
        if value is None:
            return None
        return f"{value:%d.%m.%Y}" if app.bulk_text_dates else value

    status = app.bulk_status or app.status
    awarded = app.bulk_awarded if app.bulk_awarded is not None else app.awarded
    decision = app.decision
    if status != WINNER:
        awarded, decision = None, None
    inn: object = app.org.inn
    ogrn: object = app.org.ogrn
    if app.bulk_numeric_ids:
        inn, ogrn = int(app.org.inn), int(app.org.ogrn)
    requested: object = amount(app.requested)
    if app.bulk_amount_override is not None:
        requested = app.bulk_amount_override
    return [
        app.number, f"{app.contest} г.", app.org.name, ogrn, inn, app.org.region, app.title,
        DIRECTIONS[app.direction].lower(), requested, amount(app.total), when(app.start),
        when(app.bulk_end_override or app.end), BULK_STATUS[status], when(decision),
        amount(awarded), app.evaluation, app.violations,
    ]


def bulk_xlsx(apps: list[App]) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Проекты"
    ws["A1"] = "Фонд президентских грантов"
    ws["A1"].font = Font(bold=True, size=14)
    ws.merge_cells("A1:Q1")
    ws["A2"] = "Сведения о проектах, представленных на конкурсы Фонда президентских грантов"
    ws.merge_cells("A2:Q2")
    ws["A3"] = "Данные по состоянию на 01.06.2025"
    for col, text in enumerate(HEADERS, start=1):
        cell = ws.cell(row=HEADER_ROW, column=col, value=text)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    for offset, app in enumerate(apps, start=1):
        for col, value in enumerate(bulk_row(app), start=1):
            cell = ws.cell(row=HEADER_ROW + offset, column=col, value=value)
            if isinstance(value, date):
                cell.number_format = "DD.MM.YYYY"
            elif isinstance(value, float):
                cell.number_format = "#,##0.00"
            elif isinstance(value, int):
                cell.number_format = "0"
    widths = [14, 26, 48, 16, 14, 28, 60, 40, 16, 16, 12, 12, 24, 12, 16, 40, 40]
    for col, width in enumerate(widths, start=1):
        ws.column_dimensions[openpyxl.utils.get_column_letter(col)].width = width
    ws.freeze_panes = ws.cell(row=HEADER_ROW + 1, column=1)
    wb.properties.creator = "Фонд президентских грантов"
    buf = io.BytesIO()
    wb.save(buf)
    return _deterministic_zip(buf.getvalue())


_FIXED = datetime(2025, 6, 1, 9, 0, 0)


def _deterministic_zip(data: bytes) -> bytes:
    """Rewrite the package with fixed timestamps so a regenerated file is byte-identical."""
    stamp = _FIXED.strftime("%Y-%m-%dT%H:%M:%SZ")
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*",
                                 rb"\g<1>" + stamp.encode(), content)
            entry = zipfile.ZipInfo(info.filename, date_time=_FIXED.timetuple()[:6])
            entry.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(entry, content)
    return out.getvalue()


# --- main ---------------------------------------------------------------------------------


def build(root: Path = FIXTURES_DIR) -> list[Path]:
    rng = random.Random(SEED)
    _card_ids(CARD_APPS, rng)
    others = other_apps(rng, 42)
    written: list[Path] = []

    def write(url: str, data: bytes) -> None:
        path = sample_path(url, root)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written.append(path)

    pages = [CARD_APPS[i:i + PER_PAGE] for i in range(0, len(CARD_APPS), PER_PAGE)]
    for number, apps in enumerate(pages, start=1):
        html_text = list_page(apps, number, len(pages), len(CARD_APPS), random.Random(number))
        write(f"{BASE}/public/application/cards?page={number}", html_text.encode("utf-8"))
    for app in CARD_APPS:
        card = card_page(app, random.Random(app.number))
        write(f"{BASE}/public/application/item?id={app.card_id}", card.encode("utf-8"))
    write(OPEN_DATA_URL, open_data_page(random.Random(0)).encode("utf-8"))
    # Bulk rows interleave the card applications with the others, as a real export would.
    rows = sorted(CARD_APPS + others, key=lambda a: a.number)
    write(XLSX_URL, bulk_xlsx(rows))
    return written


if __name__ == "__main__":
    for path in build():
        print(path.relative_to(FIXTURES_DIR), path.stat().st_size)
