"""Files written in one rename: a reader, or a run killed half-way, sees the old file or
the new one, never part of one. Every file socfund writes for others to read goes
through here (kept documents, manifests, stamps, release files, the page)."""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def replacing(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside `target`; on success it replaces `target` in one rename.

    The temporary name carries the process and thread, so two writers never share one;
    on an error the temporary file is removed and `target` is left as it was.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def write_bytes_atomic(target: Path, data: bytes) -> None:
    with replacing(target) as tmp:
        tmp.write_bytes(data)


def write_text_atomic(target: Path, text: str) -> None:
    write_bytes_atomic(target, text.encode("utf-8"))


@contextmanager
def replacing_folder(target: Path) -> Iterator[Path]:
    """Yield a new empty folder beside `target`; on success `target` names it in one rename.

    `target` is a symbolic link to a hidden sibling folder (`.<name>.<random>`), so that
    swapping a whole folder is one rename of the link: a reader sees the old folder or the
    new one, whole. On an error the new folder is removed and `target` is left as it was; a
    run killed half-way leaves its partial folder, which the next success removes together
    with the folder it replaced. A real folder at `target` (from before) is moved aside.
    """
    parent = target.parent
    parent.mkdir(parents=True, exist_ok=True)
    prefix = f".{target.name}."
    new = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    try:
        os.chmod(new, 0o755)
        yield new
        if target.is_dir() and not target.is_symlink():
            target.rename(Path(tempfile.mkdtemp(prefix=prefix, dir=parent)) / target.name)
        with replacing(target) as link:
            os.symlink(new.name, link)
    except BaseException:
        shutil.rmtree(new, ignore_errors=True)
        raise
    for old in parent.glob(f"{prefix}*"):
        if old != new and old.is_dir() and not old.is_symlink():
            shutil.rmtree(old, ignore_errors=True)
