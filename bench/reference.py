"""What every synthetic source draws from: regions, organisations, amounts, texts, defects.

Everything is a pure function of a seed and an index, so any worker process can
generate any record and the corpus is the same whatever the number of workers.
Region names come from the warehouse's own seeds, so every region the corpus names
resolves (a name the seeds do not know fails the build, by design).
"""

from __future__ import annotations

import csv
import hashlib
import math
import random
from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from itertools import accumulate

from pipelines.paths import DBT_PROJECT_DIR
from tests.sample_makers import make_fpg_samples as fpg_samples
from tests.sample_makers.identifiers import broken_inn, broken_ogrn, inn10, ogrn13

# Share of records carrying a defect the validator must quarantine (text in a number
# cell, a date in an odd format, a row shifted by a cell, a missing required value),
# and the share carrying one it only flags (an ИНН that fails its check digit).
DEFECT_RATE = 0.05
FLAG_RATE = 0.01
# When the corpus was "fetched": inside files and manifests, so bytes never depend on the clock.
CORPUS_TIME = datetime(2026, 3, 1, 2, 0, 0, tzinfo=UTC)

# The most populous subjects first (Rosstat, 2023, rounded order); the rest follow in
# code order with a long tail, so a few regions hold most applications, as on the site.
_POPULOUS = ["77", "50", "23", "78", "66", "61", "02", "16", "05", "52", "74", "54", "24",
             "59", "63", "26", "42", "38", "55", "64", "72", "36", "34", "56", "03", "22"]


@dataclass(frozen=True)
class Region:
    code: str
    name: str  # the official name
    spellings: tuple[str, ...]  # every spelling the seeds resolve


def rng_for(*parts: object) -> random.Random:
    """A generator seeded by a path of parts (`seed`, source, index): independent streams."""
    key = "/".join(map(str, parts)).encode()
    return random.Random(int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big"))


@lru_cache(maxsize=1)
def regions() -> tuple[Region, ...]:
    """The federal subjects that have a subject code, in skewed-weight order.

    The four subjects the seeds list without a code (added in 2022) are left out: the
    warehouse cannot place a record there, and a corpus must build.
    """
    seeds = DBT_PROJECT_DIR / "seeds"
    with (seeds / "regions.csv").open(encoding="utf-8") as fh:
        subjects = [r for r in csv.DictReader(fh) if r["kind"] == "subject" and r["region_code"]]
    spellings: dict[str, list[str]] = {}
    with (seeds / "region_names.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["region_code"]:
                spellings.setdefault(row["region_code"], []).append(row["name"])
    # A spelling with a comma would be split by the card's geography list.
    by_code = {
        r["region_code"]: Region(r["region_code"], r["name"], tuple(
            s for s in dict.fromkeys([r["name"], *spellings.get(r["region_code"], [])])
            if "," not in s))
        for r in subjects
    }
    ordered = [c for c in _POPULOUS if c in by_code]
    ordered += sorted(c for c in by_code if c not in ordered)
    return tuple(by_code[c] for c in ordered)


@lru_cache(maxsize=1)
def _region_cumulative() -> tuple[float, ...]:
    # Zipf-like: the n-th region weighs 1 / n^0.9 (Moscow about 6 % of the total).
    return tuple(accumulate(1 / (n + 1) ** 0.9 for n in range(len(regions()))))


def pick_region(rng: random.Random) -> Region:
    cumulative = _region_cumulative()
    index = bisect_right(cumulative, rng.random() * cumulative[-1])
    return regions()[min(index, len(cumulative) - 1)]


def region_spelling(region: Region, rng: random.Random) -> str:
    """The official name most of the time, another resolvable spelling otherwise."""
    if len(region.spellings) > 1 and rng.random() < 0.3:
        return rng.choice(region.spellings[1:])
    return region.name


def lognormal_amount(rng: random.Random, median: float, sigma: float, low: float,
                     high: float) -> float:
    """A ruble amount, log-normal around `median`, clipped, rounded as people round."""
    value = min(max(rng.lognormvariate(math.log(median), sigma), low), high)
    roll = rng.random()
    if roll < 0.6:
        return float(round(value, -3))
    if roll < 0.9:
        return float(round(value))
    return round(value, 2)


# --- organisations --------------------------------------------------------------------------

ORG_FORMS = ["АВТОНОМНАЯ НЕКОММЕРЧЕСКАЯ ОРГАНИЗАЦИЯ", "РЕГИОНАЛЬНАЯ ОБЩЕСТВЕННАЯ ОРГАНИЗАЦИЯ",
             "БЛАГОТВОРИТЕЛЬНЫЙ ФОНД", "МЕСТНАЯ ОБЩЕСТВЕННАЯ ОРГАНИЗАЦИЯ", "АССОЦИАЦИЯ",
             "НЕКОММЕРЧЕСКОЕ ПАРТНЕРСТВО", "ОБЩЕСТВЕННАЯ ОРГАНИЗАЦИЯ", "ФОНД",
             "МЕЖРЕГИОНАЛЬНАЯ ОБЩЕСТВЕННАЯ ОРГАНИЗАЦИЯ", "РЕЛИГИОЗНАЯ ОРГАНИЗАЦИЯ"]
# The Ministry's registry names the same forms in its own words, with ОКОПФ codes.
LEGAL_FORMS = [("Автономная некоммерческая организация", "71400"),
               ("Общественная организация", "20200"), ("Фонд", "70400"),
               ("Ассоциация (союз)", "20600"), ("Религиозная организация", "71500"),
               ("Общественное движение", "20100"), ("Некоммерческое партнерство", "20614")]
_NAME_WORDS = ["ДОБРЫЕ СОСЕДИ", "ВМЕСТЕ", "СВЕТЛЫЙ ПУТЬ", "НОВЫЕ ГОРИЗОНТЫ", "РОДНИК",
               "СЕВЕРНОЕ СИЯНИЕ", "ОТКРЫТЫЕ ДВЕРИ", "ЗЕЛЕНЫЙ ГОРОД", "ПАРУС", "ДЕТСКИЙ ОСТРОВ",
               "ЖИВАЯ ИСТОРИЯ", "ТВОРЧЕСКАЯ ГАВАНЬ", "РУКА ПОМОЩИ", "ЗОЛОТАЯ ОСЕНЬ", "ИСТОКИ",
               "МАЯК НАДЕЖДЫ", "ДРУЖНАЯ СЕМЬЯ", "ТРОПА ЗДОРОВЬЯ", "ЛЕСНАЯ СТРАЖА",
               "МАСТЕРСКАЯ ДОБРА", "ГОЛОС ПОКОЛЕНИЙ", "ЛУЧ", "СОДРУЖЕСТВО", "НАДЕЖДА",
               "ВОЛОНТЕРЫ ПОБЕДЫ", "ОТЧИЙ ДОМ", "ДОРОГА ЖИЗНИ", "ЗАБОТА", "ПОКОЛЕНИЕ",
               "ЭКОЛОГИЯ КРАЯ", "НАСЛЕДИЕ", "ПЕРСПЕКТИВА", "СЕРЕБРЯНЫЙ ВОЗРАСТ", "ИСКРА"]
_PLACE_WORDS = ["ПРИКАМЬЯ", "СИБИРИ", "ПОВОЛЖЬЯ", "КУБАНИ", "УРАЛА", "СЕВЕРА", "ДОНА",
                "ЗАБАЙКАЛЬЯ", "ПРИМОРЬЯ", "КАВКАЗА", "ЮГРЫ", "КАРЕЛИИ", "ОТЧИЗНЫ", "ГОРОДА",
                "СЕЛА", "РАЙОНА", "ОКРУГА", "КРАЯ", "ВОЛГИ", "ОКИ", "НЕВЫ", "АЛТАЯ", "ЯМАЛА",
                "ТАЙМЫРА", "ЧУВАШИИ", "МОРДОВИИ", "ТАТАРСТАНА", "БАШКИРИИ", "КУЗБАССА",
                "СТАВРОПОЛЬЯ", "СМОЛЕНЩИНЫ", "БРЯНЩИНЫ", "ТВЕРИ", "ВЯТКИ", "ПОМОРЬЯ",
                "ЗАПОЛЯРЬЯ", "ЛЕНИНГРАДЩИНЫ", "ПОДМОСКОВЬЯ", "ВОРОНЕЖА", "КАМЧАТКИ"]
_STREETS = ["ул. Ленина", "ул. Садовая", "пр-кт Мира", "ул. Советская", "ул. Гагарина",
            "ул. Речная", "пер. Школьный", "ул. Молодежная", "ул. Центральная", "наб. Набережная"]
_CITIES = ["г. Центральный", "г. Северный", "г. Заречный", "пос. Лесной", "г. Приморск",
           "с. Покровское", "г. Новоград"]


FULL_ORGANISATIONS = 63_000


@dataclass(frozen=True)
class Organisation:
    name: str
    region: Region
    inn: str
    ogrn: str
    address: str
    website: str | None
    legal_form: str
    okopf: str


@lru_cache(maxsize=1 << 17)
def organisation(seed: int, index: int) -> Organisation:
    """Organisation number `index` of the corpus: the same whichever source names it."""
    rng = rng_for(seed, "org", index)
    region = pick_region(rng)
    form = rng.choice(ORG_FORMS)
    # Every organisation has a name of its own, as in the real registries (a name repeats
    # only across legal forms); the number goes on once the word pairs run out.
    words = _NAME_WORDS[index % len(_NAME_WORDS)]
    place = _PLACE_WORDS[index // len(_NAME_WORDS) % len(_PLACE_WORDS)]
    serial = index // (len(_NAME_WORDS) * len(_PLACE_WORDS))
    name = f'{form} "{words} {place}{f" {serial}" if serial else ""}"'
    serial = f"{index % 100_000:05d}"
    inn = inn10(f"{region.code}{rng.randrange(1, 100):02d}{serial}")
    year = rng.randrange(1995, 2024) % 100
    ogrn = ogrn13(f"1{year:02d}{region.code}{rng.randrange(10, 100)}{serial}"[:12].ljust(12, "0"))
    address = (f"{rng.randrange(100000, 700000)}, {region.name}, {rng.choice(_CITIES)}, "
               f"{rng.choice(_STREETS)}, д. {rng.randrange(1, 120)}")
    website = f"https://nko-{index}.ru" if rng.random() < 0.45 else None
    legal_form, okopf = rng.choice(LEGAL_FORMS)
    return Organisation(name, region, inn, ogrn, address, website, legal_form, okopf)


def organisation_pool(scale: float) -> int:
    """How many organisations the corpus draws from (about one per three ФПГ applications)."""
    return max(1, round(FULL_ORGANISATIONS * scale))


def skewed_index(rng: random.Random, pool: int) -> int:
    """An index in `range(pool)` where low indices are far more likely (some organisations
    apply every contest, most once or twice)."""
    return min(int(pool * rng.random() ** 2.2), pool - 1)


def typo_inn(inn: str) -> str:
    """The ИНН with its check digit off by one, as a typo would leave it."""
    return broken_inn(inn[:9]) if len(inn) == 10 else inn


def typo_ogrn(ogrn: str) -> str:
    return broken_ogrn(ogrn[:12]) if len(ogrn) == 13 else ogrn


# --- texts ----------------------------------------------------------------------------------


def _sentences(text: str) -> list[str]:
    return [s.strip() + "." for s in text.replace("!", ".").split(". ") if len(s.strip()) > 20]


@lru_cache(maxsize=1)
def text_bank() -> dict[str, tuple[str, ...]]:
    """Sentences and list items taken from the sample cards, recombined for every card."""
    apps = fpg_samples.CARD_APPS
    summary = [s for a in apps for s in _sentences(a.summary)]
    social = [s for a in apps for s in _sentences(a.social)]
    return {
        "summary": tuple(summary),
        "social": tuple(social + summary),
        "aim": tuple(a.aim for a in apps if a.aim),
        "task": tuple(t for a in apps for t in a.tasks),
        "target": tuple(dict.fromkeys(t for a in apps for t in a.targets)),
        "title_start": tuple(fpg_samples.TITLE_STARTS),
        "title_subject": tuple(fpg_samples.TITLE_SUBJECTS),
    }


def paragraph(rng: random.Random, kind: str, low: int, high: int) -> str:
    bank = text_bank()[kind]
    return " ".join(rng.choice(bank) for _ in range(rng.randrange(low, high + 1)))


def items(rng: random.Random, kind: str, low: int, high: int) -> list[str]:
    bank = text_bank()[kind]
    count = min(rng.randrange(low, high + 1), len(bank))
    return rng.sample(bank, count)


def project_title(rng: random.Random) -> str:
    bank = text_bank()
    words = rng.choice(_NAME_WORDS).capitalize()
    return (f"{rng.choice(bank['title_start'])} {rng.choice(bank['title_subject'])} "
            f"«{words}»")


def split_counts(total: int, weights: list[float]) -> list[int]:
    """`total` split in proportion to `weights`, the rounding remainder to the largest parts."""
    scale = sum(weights)
    raw = [total * w / scale for w in weights]
    counts = [int(x) for x in raw]
    order = sorted(range(len(raw)), key=lambda i: raw[i] - counts[i], reverse=True)
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts
