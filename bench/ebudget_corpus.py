"""Synthetic Электронный бюджет registry of subsidy agreements (SOURCES.md §3a), paged JSON.

Records have the shape of our sample pages: `info`, `grbs`, `receiver[]` with ОКОПФ,
`plansSubject[].facts[]` adding up to the agreement's sum, sometimes
`plansNormalized`, `npa`, `addagreement`. Recipients are a mix, as the registry
holds every subsidy: non-profits (which the loader keeps), companies and state
institutions (which it leaves out).
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, timedelta

from bench import reference as ref
from scrapers import ebudget

FULL_AGREEMENTS = 200_000
PAGE_SIZE = ebudget.PAGE_SIZE
# Pages whose text a third-party dump would have left with unescaped quotes in a name.
BROKEN_QUOTES_EVERY = 40
_NONPROFIT_OKOPF = ["71400", "70401", "20200", "71500", "20600", "70400"]
_COMPANY_OKOPF = ["12267", "12300", "12247"]
_INSTITUTION_OKOPF = ["75203", "75403", "75103"]
_GRANTORS = [
    ("01", "Федеральный бюджет", "ФЕДЕРАЛЬНОЕ АГЕНТСТВО ПО ДЕЛАМ МОЛОДЕЖИ", "075"),
    ("01", "Федеральный бюджет", "МИНИСТЕРСТВО КУЛЬТУРЫ РОССИЙСКОЙ ФЕДЕРАЦИИ", "054"),
    ("01", "Федеральный бюджет", "МИНИСТЕРСТВО ТРУДА И СОЦИАЛЬНОЙ ЗАЩИТЫ РОССИЙСКОЙ ФЕДЕРАЦИИ",
     "149"),
    ("01", "Федеральный бюджет", "ФЕДЕРАЛЬНОЕ АГЕНТСТВО ПО ДЕЛАМ НАЦИОНАЛЬНОСТЕЙ", "380"),
    ("02", "Бюджет субъекта Российской Федерации", "МИНИСТЕРСТВО СОЦИАЛЬНОГО РАЗВИТИЯ", "811"),
    ("02", "Бюджет субъекта Российской Федерации", "КОМИТЕТ ПО МОЛОДЕЖНОЙ ПОЛИТИКЕ", "812"),
    ("03", "Местный бюджет", "АДМИНИСТРАЦИЯ ГОРОДСКОГО ОКРУГА", "901"),
]
_PURPOSES = ["Поддержка проектов семейного досуга", "Субсидия на реализацию социальных программ",
             "Поддержка добровольческих инициатив", "Субсидия на оказание общественно полезных "
             "услуг", "Поддержка проектов в области культуры", "Развитие институтов "
             "гражданского общества"]
_DEFECTS = ["no_sum", "text_sum", "odd_date", "end_before_start"]


def agreements(scale: float) -> int:
    return max(1, round(FULL_AGREEMENTS * scale))


def pages(scale: float) -> int:
    return -(-agreements(scale) // PAGE_SIZE)


def page_url(page: int) -> str:
    return ebudget.page_url(page, PAGE_SIZE)


def _api_date(value: date) -> dict:
    return {"$date": f"{value:%Y-%m-%d}T00:00:00.000Z"}


def _receiver(seed: int, rng, pool: int) -> tuple[dict, bool]:
    """A recipient and whether it is a non-profit."""
    roll = rng.random()
    if roll < 0.6:
        org = ref.organisation(seed, ref.skewed_index(rng, pool))
        okopf = rng.choice(_NONPROFIT_OKOPF)
        name = org.name
        inn, ogrn, region = org.inn, org.ogrn, org.region
        if rng.random() < ref.FLAG_RATE:
            inn = ref.typo_inn(inn)
        nonprofit = True
    else:
        region = ref.pick_region(rng)
        serial = f"{rng.randrange(100_000):05d}"
        inn = ref.inn10(f"{region.code}{rng.randrange(10, 100)}{serial}")
        ogrn = ref.ogrn13(f"10{rng.randrange(2, 9)}{region.code}{rng.randrange(10, 100)}"
                          f"{serial}"[:12])
        if roll < 0.85:
            okopf, name = rng.choice(_COMPANY_OKOPF), f'ООО "КОМПАНИЯ {serial}"'
        else:
            okopf = rng.choice(_INSTITUTION_OKOPF)
            name = f'ГОСУДАРСТВЕННОЕ БЮДЖЕТНОЕ УЧРЕЖДЕНИЕ "ЦЕНТР {serial}"'
        nonprofit = False
    short = name.replace("АВТОНОМНАЯ НЕКОММЕРЧЕСКАЯ ОРГАНИЗАЦИЯ", "АНО")
    receiver = {
        "fullName": name, "shortName": short, "inn": inn,
        "kpp": f"{inn[:4]}01001", "ogrn": ogrn, "okopf": okopf,
        "localAddress": {"regionCode": region.code, "regionName": region.name,
                         "oktmo": f"{rng.randrange(10_000_000, 99_999_999)}"},
    }
    return receiver, nonprofit


def _facts(rng, total: float, start: date) -> list[dict]:
    """Planned payments adding up to the sum: a few months of the start year, or the start
    year and later years (`-1`)."""
    if rng.random() < 0.15:
        first = round(total * rng.uniform(0.4, 0.8), 2)
        return [{"period": f"{start.year}0001", "sumsubrub": first},
                {"period": "-1", "sumsubrub": round(total - first, 2)}]
    months = sorted(rng.sample(range(start.month, 13), min(rng.randrange(1, 5), 13 - start.month)))
    cuts = sorted(rng.random() for _ in months[1:])
    amounts = [round(total * (b - a), 2) for a, b in zip([0.0, *cuts], [*cuts, 1.0], strict=True)]
    amounts[-1] = round(total - sum(amounts[:-1]), 2)
    return [{"period": f"{start.year}{m:02d}00", "sumsubrub": a}
            for m, a in zip(months, amounts, strict=True)]


def agreement(seed: int, scale: float, i: int) -> dict:
    rng = ref.rng_for(seed, "ebudget", i)
    code, budget, grantor, chapter = _GRANTORS[rng.choices(range(len(_GRANTORS)),
                                                           weights=[8, 5, 6, 3, 10, 6, 4])[0]]
    grantor_region = ref.pick_region(rng)
    signed = date(2017, 1, 10) + timedelta(days=rng.randrange(0, 9 * 365 + 30))
    start = signed + timedelta(days=rng.randrange(0, 20))
    end = date(start.year, 12, 31) if rng.random() < 0.8 else start + timedelta(days=730)
    total = ref.lognormal_amount(rng, 1_500_000, 1.2, 20_000, 900_000_000)
    pool = ref.organisation_pool(scale)
    receiver, _ = _receiver(seed, rng, pool)
    kbk = f"{chapter}{rng.randrange(10**16, 10**17)}"
    record: dict = {
        "id": hashlib.blake2b(f"{seed}/agreement/{i}".encode(), digest_size=12).hexdigest(),
        "info": {
            "regNum": f"{chapter}{rng.randrange(10**10, 10**11)}{signed.year}{i % 10**5:05d}",
            "numAgreem": f"{chapter}-{signed.year % 100:02d}-{signed.year}-{i % 1000:03d}",
            "dateAgreem": _api_date(signed), "startDate": _api_date(start),
            "endDate": _api_date(end), "sum": total, "currencyCode": "643", "mfCode": "0",
            "mfName": "",
        },
        "grbs": {
            "inn": ref.inn10(f"77{rng.randrange(10, 100)}{int(chapter):03d}{i % 100:02d}"),
            "fullName": grantor if code == "01" else f"{grantor} ({grantor_region.name})",
            "budgtypename": budget, "budgtypecode": code,
            "budgetcode": f"{rng.randrange(10**7, 10**8)}",
            "regionCode": grantor_region.code if code != "01" else "77",
        },
        "receiver": [receiver],
        "plansSubject": [{"kbk": kbk, "purpose": rng.choice(_PURPOSES),
                          "facts": _facts(rng, total, start)}],
    }
    if rng.random() < 0.3:
        record["npa"] = [{"name": "Постановление о порядке предоставления субсидий",
                          "num": str(rng.randrange(1, 2000))}]
    if rng.random() < 0.1:
        record["addagreement"] = [{"num": "1", "date": _api_date(start + timedelta(days=60))}]
    if rng.random() < ref.DEFECT_RATE:
        defect = rng.choice(_DEFECTS)
        info = record["info"]
        if defect == "no_sum":
            info["sum"] = None
        elif defect == "text_sum":
            info["sum"] = "сумма уточняется"
        elif defect == "odd_date":
            info["startDate"] = f"{start:%d.%m.%Y} 0:00:00"
        else:
            info["endDate"] = _api_date(start - timedelta(days=90))
    return record


def page(seed: int, scale: float, number: int) -> bytes:
    """Registry page `number` (1-based), 1 000 agreements, as the API sends it."""
    first = (number - 1) * PAGE_SIZE
    last = min(first + PAGE_SIZE, agreements(scale))
    data = [agreement(seed, scale, i) for i in range(first, last)]
    text = json.dumps({"recordCount": agreements(scale), "data": data}, ensure_ascii=False)
    if number % BROKEN_QUOTES_EVERY == 0 and data:
        # One name with its inner quotes unescaped, as third-party dumps of the registry have.
        name = data[0]["receiver"][0]["shortName"]
        escaped = json.dumps(name, ensure_ascii=False)[1:-1]
        text = text.replace(f'"shortName": "{escaped}"', f'"shortName": "{name}"', 1)
    return text.encode("utf-8")
