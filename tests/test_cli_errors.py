"""Every `socfund` failure: a few lines naming the cause and the remedy, no traceback, and
the exit code README's «Command line» gives it."""

from __future__ import annotations

import dataclasses
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

from pipelines import cli

REPO = Path(__file__).resolve().parent.parent


def _socfund(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipelines.cli", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=timeout, check=False)


def _no_traceback(stderr: str) -> None:
    assert "Traceback" not in stderr, stderr
    assert "Exception ignored" not in stderr, stderr


def test_serve_on_a_missing_folder_names_it_and_exits_2(tmp_path):
    missing = tmp_path / "no-such-warehouse"
    done = _socfund("serve", "--warehouse", str(missing), "--port", "0")
    _no_traceback(done.stderr)
    assert done.returncode == 2
    assert str(missing) in done.stderr and "socfund build" in done.stderr
    assert len(done.stderr.strip().splitlines()) <= 3


def test_serve_on_a_busy_port_says_so_and_exits_2(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = _socfund("serve", "--warehouse", str(tmp_path), "--port", str(port))
    _no_traceback(done.stderr)
    assert done.returncode == 2
    assert f"127.0.0.1:{port}" in done.stderr and "in use" in done.stderr
    assert "--port" in done.stderr
    assert len(done.stderr.strip().splitlines()) <= 3


def test_build_from_an_empty_raw_store_says_there_is_no_manifest(tmp_path):
    warehouse = tmp_path / "warehouse"
    started = time.monotonic()
    done = _socfund("build", "--from-raw", "--warehouse", str(warehouse))
    _no_traceback(done.stderr)
    assert done.returncode == 2
    assert "manifest" in done.stderr and "socfund build" in done.stderr
    assert "max_retries" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert time.monotonic() - started < 60


def test_parse_on_junk_exits_2_as_unreadable(tmp_path):
    junk = tmp_path / "junk.bin"
    junk.write_bytes(bytes(range(256)) * 400)
    done = _socfund("parse", "fpg.card", str(junk))
    _no_traceback(done.stderr)
    assert done.returncode == 2, done.stderr[-2000:]
    assert done.stdout == ""
    assert "junk.bin" in done.stderr


def test_parse_exits_2_when_the_parser_rejects_the_whole_document(tmp_path, monkeypatch,
                                                                  capsys):
    from pipelines import registry

    kinds = registry.parse_kinds()

    def rejecting(body: bytes, url: str = "") -> list[dict]:
        raise ValueError("not a ФПГ project card: no application number")

    monkeypatch.setattr(registry, "parse_kinds", lambda: {
        **kinds, "fpg.card": dataclasses.replace(kinds["fpg.card"], parse=rejecting)})
    page = tmp_path / "page.html"
    page.write_text("<html><p>Другой документ</p></html>", encoding="utf-8")
    assert cli.main(["parse", "fpg.card", str(page)]) == 2
    out = capsys.readouterr()
    assert out.out == ""
    assert out.err.strip() == (f"socfund parse: fpg.card: {page}: not a ФПГ project card: "
                               "no application number")


def test_parse_into_a_closed_pipe_stops_quietly():
    # `socfund parse ... | head -1` with the reader gone before the first line: every write
    # meets a closed pipe.
    sample = REPO / "samples" / "grants.oprf.ru" / "grants2013" / "oprf_grants_2013.csv"
    proc = subprocess.Popen([sys.executable, "-m", "pipelines.cli", "parse", "oprf2013.csv",
                             str(sample)], cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    proc.stdout.close()
    _, err = proc.communicate(timeout=120)
    stderr = err.decode(errors="replace")
    _no_traceback(stderr)
    assert "BrokenPipe" not in stderr
    assert proc.returncode == 141


def test_serve_says_nothing_of_a_client_that_hangs_up_mid_download(tmp_path):
    warehouse = tmp_path / "warehouse"
    (warehouse / "exports" / "2025-01-01").mkdir(parents=True)
    (warehouse / "exports" / "2025-01-01" / "big.csv").write_bytes(b"x" * (32 << 20))
    proc = subprocess.Popen([sys.executable, "-m", "pipelines.cli", "serve", "--warehouse",
                             str(warehouse), "--port", "0"], cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stderr), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 60
        port = None
        while port is None:
            assert proc.poll() is None and time.monotonic() < deadline, lines
            found = [m for line in list(lines)
                     if (m := re.search(r"http://127\.0\.0\.1:(\d+)/", line))]
            port = int(found[0].group(1)) if found and found[0].group(1) != "0" else None
            time.sleep(0.1)
        for _ in range(3):
            client = socket.create_connection(("127.0.0.1", port), timeout=10)
            client.sendall(b"GET /exports/2025-01-01/big.csv HTTP/1.0\r\n\r\n")
            client.recv(4096)
            # Hang up with a reset: the server's next write fails.
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            client.close()
        time.sleep(2)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(timeout=30)
        reader.join(10)
    stderr = "".join(lines)
    _no_traceback(stderr)
    assert "GET /exports/2025-01-01/big.csv" in stderr
    assert proc.returncode == 0
