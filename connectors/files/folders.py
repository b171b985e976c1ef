"""The connector's file moves and writes: a file is only ever moved (``os.replace``) or written
whole through a hidden temporary file and a rename, never deleted or rewritten in place."""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Sequence
from pathlib import Path

#: names of files another program is still writing (or hidden files): never touched
PARTIAL_SUFFIXES = (".tmp", ".part")


def complete(name: str) -> bool:
    """False for hidden files and files still being written (``.tmp``/``.part``)."""
    return not name.startswith(".") and not name.lower().endswith(PARTIAL_SUFFIXES)


def move(path: Path, folder: Path) -> Path:
    """Move a file into ``folder`` under a name no other file there has; return where it went."""
    folder.mkdir(parents=True, exist_ok=True)
    target = free_name(folder / path.name)
    os.replace(path, target)
    return target


def free_name(target: Path) -> Path:
    """``target``, or ``<stem>-2<suffix>``, ``-3``... so that nothing is overwritten."""
    candidate, number = target, 1
    while candidate.exists() or candidate.with_name(candidate.name + ".reason.txt").exists():
        number += 1
        candidate = target.with_name(f"{target.stem}-{number}{target.suffix}")
    return candidate


def write_atomically(target: Path, data: bytes) -> Path:
    """Write to a hidden temporary file, then rename: readers never see a half-written file."""
    temporary = target.with_name(f".{target.name}.tmp")
    try:
        with temporary.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except OSError:
        temporary.unlink(missing_ok=True)
        raise
    return target


def writable_or_creatable(folder: Path) -> bool:
    probe = folder
    while not probe.exists():
        if probe.parent == probe:
            return False
        probe = probe.parent
    return probe.is_dir() and os.access(probe, os.W_OK | os.X_OK)


def show(path: Path) -> str:
    """A path as the user would type it: relative to the working directory when inside it."""
    try:
        relative = path.relative_to(Path.cwd())
    except ValueError:
        return str(path)
    return f"./{relative}" if str(relative) != "." else "."


def read_index(path: Path) -> list[dict[str, str]]:
    """The rows of a CSV index the connector keeps (invoices, tracking); none when absent."""
    if not path.exists():
        return []
    with path.open(encoding="utf-8", newline="") as handle:
        return [dict(row) for row in csv.DictReader(handle)]


def index_text(rows: list[dict[str, str]], columns: Sequence[str]) -> bytes:
    """A CSV index with a header of ``columns``, each row's other keys left out."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: row.get(k, "") for k in columns} for row in rows)
    return buffer.getvalue().encode("utf-8")
