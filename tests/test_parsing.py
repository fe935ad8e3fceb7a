"""A load's documents parsed by several processes give what one process gives
(`pipelines.parsing`)."""

from __future__ import annotations

import io
import json
import logging
import multiprocessing
import os
import pickle
import subprocess
import sys
import tempfile
from pathlib import Path

import polars as pl
import pytest

from pipelines import parsing
from pipelines.parsing import Document, parse_documents, parse_workers
from pipelines.registry import SOURCES
from scrapers import ebudget
from scrapers.rawstore import RawStore
from scrapers.samples import FIXTURES_DIR, sample_path

FETCHED_AT = "2026-03-01T02:00:00+00:00"


def _sample(page: int) -> bytes:
    return sample_path(ebudget.page_url(page, ebudget.SAMPLE_PAGE_SIZE), FIXTURES_DIR).read_bytes()


def _page(n: int) -> bytes:
    """A page of two agreements unlike every other page's (one of them quarantined: its
    date does not parse), so a row out of place or lost shows."""
    def item(k: int, date: str) -> dict:
        return {
            "id": f"p{n}-{k}",
            "info": {"regNum": f"R{n}-{k}", "numAgreem": str(k),
                     "dateAgreem": {"$date": date},
                     "startDate": {"$date": "2021-02-01T00:00:00.000Z"},
                     "endDate": {"$date": "2021-12-31T00:00:00.000Z"}, "sum": 100.0 + n,
                     "currencyCode": "643"},
            "grbs": {"inn": "7701001238", "fullName": "ГРБС",
                     "budgtypename": "Федеральный бюджет", "budgtypecode": "01",
                     "budgetcode": "99010001"},
            "receiver": [{"fullName": f"АНО Тест {n}", "shortName": f"АНО {n}",
                          "inn": "7104001010", "ogrn": "1197100400104", "okopf": "71400",
                          "localAddress": {"regionCode": "71",
                                           "regionName": "Тульская область"}}],
            "plansSubject": [{"kbk": "07510060150090010633", "purpose": f"Цель {n}",
                              "facts": [{"period": "20211200", "sumsubrub": 100.0 + n},
                                        {"period": f"2022{1 + n % 12:02d}00",
                                         "sumsubrub": 1.0}]}],
        }

    document = {"recordCount": 2, "data": [item(1, "2021-01-10T00:00:00.000Z"),
                                            item(2, "10 января")]}
    return json.dumps(document, ensure_ascii=False).encode("utf-8")


def _store(tmp_path, bodies: list[bytes]) -> tuple[RawStore, list[Document]]:
    store = RawStore(tmp_path / "raw")
    docs = [Document("page", f"https://{ebudget.HOST}/page/{i}", store.put("ebudget", body),
                     FETCHED_AT) for i, body in enumerate(bodies)]
    return store, docs


class _Counting(RawStore):
    """The raw store, counting the documents read from it in this process."""

    reads = 0

    def get(self, source: str, sha256: str) -> bytes:
        type(self).reads += 1
        return super().get(source, sha256)


@pytest.fixture()
def small_parts(monkeypatch):
    # Parts of two documents: a dozen documents make six parts, shared between processes.
    monkeypatch.setattr(parsing, "PART_DOCUMENTS", 2)
    monkeypatch.setattr(parsing, "PARALLEL_DOCUMENTS", 4)
    ebudget._KEPT.clear()
    yield
    ebudget._KEPT.clear()


def _both(store, docs, workers: int):
    agreements = parse_documents(store, "ebudget", docs, ebudget.parse_agreements,
                                 workers=workers, kept=ebudget.KEPT_AGREEMENTS)
    periods = parse_documents(store, "ebudget", docs, ebudget.parse_agreement_periods,
                              workers=workers, kept=ebudget.KEPT_PERIODS)
    return agreements, periods


def test_pages_parsed_by_two_processes_give_the_frames_one_process_gives(tmp_path,
                                                                          small_parts):
    bodies = [_sample(1), *(_page(n) for n in range(9)), _sample(2), _sample(3)]
    store, docs = _store(tmp_path, bodies)
    # One process, no table handed between the two parsers: each page parsed for each table.
    alone = [parse_documents(store, "ebudget", docs, parse)
             for parse in (ebudget.parse_agreements, ebudget.parse_agreement_periods)]
    ebudget._KEPT.clear()
    together = _both(store, docs, workers=2)
    for (frame, rejected), (expected, expected_rejected) in zip(together, alone, strict=True):
        assert frame.schema == expected.schema
        assert frame.equals(expected)
        assert rejected == expected_rejected == []
    agreements = together[0][0]
    # Every page's rows, in the pages' order (the pages' own agreement ids run in order).
    ids = agreements.filter(pl.col("agreement_id").str.starts_with("p"))["agreement_id"]
    assert ids.to_list() == [f"p{n}-{k}" for n in range(9) for k in (1, 2)]
    assert agreements["_raw_sha256"].unique(maintain_order=True).to_list() == \
        [d.sha256 for d in docs]
    assert any(agreements["_errors"].list.len() > 0)  # the quarantined dates came through


def test_the_second_table_is_taken_from_what_the_first_parse_kept_not_read_again(
        tmp_path, small_parts):
    bodies = [_page(n) for n in range(12)]
    _, docs = _store(tmp_path, bodies)
    store = _Counting(tmp_path / "raw")
    parse_documents(store, "ebudget", docs, ebudget.parse_agreements, workers=2,
                    kept=ebudget.KEPT_AGREEMENTS)
    # This process read only the parts it parsed; the helper's parts it never read.
    assert 0 < _Counting.reads < len(docs)
    before = _Counting.reads
    periods, _ = parse_documents(store, "ebudget", docs, ebudget.parse_agreement_periods,
                                 workers=2, kept=ebudget.KEPT_PERIODS)
    assert _Counting.reads == before  # every page's periods came back with its agreements
    assert ebudget._KEPT == {}
    expected = pl.concat([ebudget.parse_agreement_periods(b) for b in bodies])
    assert periods.drop("_source_url", "_raw_sha256", "_fetched_at").equals(expected)


def test_a_page_that_fails_in_a_helper_names_its_url(tmp_path, small_parts):
    bodies = [_page(n) for n in range(11)] + [b'{"recordCount": 1, "data": [']
    store, docs = _store(tmp_path, bodies)
    # The helpers take the last parts first: the broken page is parsed in a helper.
    with pytest.raises(ValueError, match=f"{docs[-1].url}"):
        parse_documents(store, "ebudget", docs, ebudget.parse_agreements, workers=2,
                        kept=ebudget.KEPT_AGREEMENTS)


def test_a_page_rejected_in_a_helper_is_quarantined_as_one_process_quarantines_it(
        tmp_path, small_parts):
    bodies = [_page(n) for n in range(5)] + [b"not json"] + [_page(n) for n in range(5, 11)]
    store, docs = _store(tmp_path, bodies)
    alone = parse_documents(store, "ebudget", docs, ebudget.parse_agreements,
                            per_document_errors=True)
    ebudget._KEPT.clear()
    together = parse_documents(store, "ebudget", docs, ebudget.parse_agreements, workers=3,
                               per_document_errors=True, kept=ebudget.KEPT_AGREEMENTS)
    assert together[0].equals(alone[0])
    assert together[1] == alone[1]
    assert [q.record for q in together[1]] == [{"url": docs[5].url}]


def _dies_in_a_helper(body: bytes, *, url: str = ""):
    """`parse_agreements`, but a helper process running it dies at once, as one the kernel
    kills for its memory would."""
    if multiprocessing.parent_process() is not None:
        os._exit(1)
    return ebudget.parse_agreements(body, url=url)


def test_the_parts_of_a_helper_that_died_are_parsed_here(tmp_path, small_parts, caplog):
    bodies = [_page(n) for n in range(12)]
    store, docs = _store(tmp_path, bodies)
    alone, _ = parse_documents(store, "ebudget", docs, ebudget.parse_agreements)
    ebudget._KEPT.clear()
    with caplog.at_level(logging.WARNING, logger="pipelines.parsing"):
        together, _ = parse_documents(store, "ebudget", docs, _dies_in_a_helper, workers=2,
                                      kept=ebudget.KEPT_AGREEMENTS)
    assert together.equals(alone)
    assert "a helper process parsing documents stopped" in caplog.text


def test_a_few_documents_are_parsed_without_a_helper(tmp_path, small_parts, monkeypatch):
    store, docs = _store(tmp_path, [_page(n) for n in range(3)])

    def no_helpers(*args, **kwargs):
        raise AssertionError("a helper process was started for three documents")

    monkeypatch.setattr(parsing, "ProcessPoolExecutor", no_helpers)
    frame, _ = parse_documents(store, "ebudget", docs, ebudget.parse_agreements, workers=2,
                               kept=ebudget.KEPT_AGREEMENTS)
    assert frame.height == 6


def _pickled_by_a_helper(result, folder) -> bytes:
    """`result` pickled as a helper pickles it (`parsing._TablesToFiles`)."""
    folder.mkdir(exist_ok=True)
    out = io.BytesIO()
    parsing._TablesToFiles(out, folder).dump(result)
    return out.getvalue()


def _through_files(result, folder):
    """`result` handed back as a helper hands it back."""
    return parsing._handed_back(_pickled_by_a_helper(result, folder))


def test_a_helpers_tables_come_back_through_files_removed_once_read(tmp_path):
    ebudget._KEPT.clear()
    body = _page(3)
    agreements = ebudget.parse_agreements(body)
    result = (([], [agreements], []), ebudget.KEPT_PERIODS.export())
    folder = tmp_path / "handed"
    pickled = _pickled_by_a_helper(result, folder)
    # Only the files' names go through the pipe: the two tables are in two files.
    assert len(list(folder.iterdir())) == 2
    name = "АНО Тест 3".encode()
    assert name not in pickled and name in pickle.dumps(result)
    assert any(name in f.read_bytes() for f in folder.iterdir())
    (records, frames, rejected), exported = parsing._handed_back(pickled)
    assert list(folder.iterdir()) == []
    assert records == [] and rejected == []
    assert frames[0].schema == agreements.schema and frames[0].equals(agreements)
    [(key, (periods, _))] = exported
    assert key[0] == "periods" and periods.equals(ebudget.parse_agreement_periods(body))


def test_a_parse_in_parts_leaves_no_files_behind(tmp_path, small_parts, monkeypatch):
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    store, docs = _store(tmp_path, [_page(n) for n in range(12)])
    agreements, periods = _both(store, docs, workers=2)
    assert agreements[0].height == 24 and periods[0].height == 48
    assert list(scratch.iterdir()) == []


def test_kept_tables_are_handed_over_and_taken_once(tmp_path):
    ebudget._KEPT.clear()
    body = _page(1)
    sha256 = RawStore(tmp_path).put("ebudget", body)
    ebudget.parse_agreements(body)
    exported = ebudget.KEPT_PERIODS.export()
    assert not ebudget.KEPT_PERIODS.holds(sha256)
    ebudget.KEPT_PERIODS.adopt(_through_files(exported, tmp_path / "handed"))  # as a helper's
    assert ebudget.KEPT_PERIODS.holds(sha256)
    assert not ebudget.KEPT_AGREEMENTS.holds(sha256)
    assert ebudget.KEPT_PERIODS.take(sha256).equals(ebudget.parse_agreement_periods(body))
    assert ebudget.KEPT_PERIODS.take(sha256) is None


@pytest.mark.parametrize("value", ["0", "-1", "two", "1.5"])
def test_a_parse_workers_setting_that_is_not_a_positive_number_is_refused(monkeypatch, value):
    monkeypatch.setenv(parsing.PARSE_WORKERS_ENV, value)
    with pytest.raises(ValueError, match=parsing.PARSE_WORKERS_ENV):
        parse_workers()


def test_parse_workers_default_to_the_cores_at_most_two(monkeypatch):
    monkeypatch.delenv(parsing.PARSE_WORKERS_ENV, raising=False)
    assert 1 <= parse_workers() <= 2
    monkeypatch.setenv(parsing.PARSE_WORKERS_ENV, "3")
    assert parse_workers() == 3


def test_entities_parsed_in_parallel_have_parsers_a_helper_can_import():
    parallel = [e for s in SOURCES for e in s.entities if e.parallel]
    assert {e.cli_name for e in parallel} == {"ebudget.agreements", "ebudget.periods"}
    for decl in parallel:
        assert pickle.loads(pickle.dumps(decl.parse)) is decl.parse
        assert decl.kept is not None
        assert pickle.loads(pickle.dumps(decl.kept)).wanted == decl.kept.wanted


def test_a_helper_parsing_pages_does_not_import_pandas(tmp_path):
    # A helper imports only the parser and what it needs; pandas (pulled in by pyarrow's
    # `pa.array` on its first call) would add ≈ 0.3 s to every helper's start.
    page = tmp_path / "page.json"
    page.write_bytes(_page(1))
    code = ("import sys; from scrapers import ebudget; "
            f"frame = ebudget.parse_agreements(open({str(page)!r}, 'rb').read()); "
            "assert frame['kbk'].list.len().sum() > 0; "
            "print('pandas' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, cwd=Path(__file__).parents[1])
    assert done.stdout.strip() == "False"
