"""Where image files live: a directory on the local filesystem, or one shared by several machines.

The local backend is safe for several app processes sharing one directory (NFS or a
shared volume): files are written under a temporary name and renamed into place, so
a reader never sees half a file, and a name is never written twice (each upload's names
are its own), so a stored file never changes.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from flask import current_app


class LocalStorage:
    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def path(self, name: str) -> Path:
        if not name or name.startswith("/") or ".." in Path(name).parts:
            raise ValueError(f"unsafe storage name {name!r}")
        return self.root / name

    def save(self, name: str, data: bytes) -> bool:
        target = self.path(name)
        if target.exists():
            return False
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, 0o644)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return True

    def delete(self, name: str) -> None:
        self.path(name).unlink(missing_ok=True)

    def names(self, older_than_seconds: float = 0) -> Iterator[str]:
        if not self.root.is_dir():
            return
        cutoff = time.time() - older_than_seconds
        for path in self.root.rglob("*"):
            if path.is_file() and not path.name.startswith(".") and path.stat().st_mtime <= cutoff:
                yield path.relative_to(self.root).as_posix()


def get_storage() -> LocalStorage:
    return LocalStorage(current_app.config["MEDIA_ROOT"])
