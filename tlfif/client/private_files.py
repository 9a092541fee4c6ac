"""Files only their user may read: the profiles (they may hold the demo password) and the
tokens. 0600 files in a 0700 folder; a folder that exists wider is tightened."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any


def private_folder(folder: Path) -> None:
    """Make `folder` (and missing parents) 0700; tighten it if it is wider."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    if stat.S_IMODE(folder.stat().st_mode) & 0o077:
        folder.chmod(0o700)


def write_private_json(path: Path, document: Any, *, indent: int | None = None) -> None:
    """Write `document` to `path` atomically, created 0600 by open(2) itself: O_EXCL, so a
    stale temporary file's wider mode is not reused, and no chmod afterwards that would
    leave a window in which other users could read it."""
    private_folder(path.parent)
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(document, handle, indent=indent)
    os.replace(tmp, path)
