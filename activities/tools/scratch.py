"""A run's scratch space: files its steps write and read, kept in the blob store because
the steps of one run move between workers. A write adds a blob; the newest one of a path
is the file."""

from __future__ import annotations

import json
import posixpath

from activities.tools.handle import ToolError
from db.blobs import BlobStore

SCRATCH_KIND = "scratch"
MAX_FILE_BYTES = 1024 * 1024
MAX_PATH_CHARS = 200


class ScratchSpace:
    def __init__(self, blobs: BlobStore, run_id: str, step_id: str) -> None:
        self._blobs, self._run_id, self._step_id = blobs, run_id, step_id

    async def write(self, path: str, content: str) -> str:
        path = _normal(path)
        if len(content.encode()) > MAX_FILE_BYTES:
            raise ToolError(f"a scratch file holds at most {MAX_FILE_BYTES // 1024} KB")
        record = json.dumps({"path": path, "content": content})
        await self._blobs.put(
            kind=SCRATCH_KIND, run_id=self._run_id, step_id=self._step_id, content=record
        )
        return f"wrote {len(content)} characters to {path}"

    async def read(self, path: str) -> str:
        path = _normal(path)
        files = await self._files()
        if path not in files:
            raise ToolError(f"no file {path}; the files are {sorted(files)}")
        return files[path]

    async def list(self) -> str:
        files = await self._files()
        return (
            "\n".join(
                f"{path} ({len(content)} characters)" for path, content in sorted(files.items())
            )
            or "(no files)"
        )

    async def _files(self) -> dict[str, str]:
        files: dict[str, str] = {}
        for record in await self._blobs.contents_of_run(self._run_id, SCRATCH_KIND):
            data = json.loads(record)
            files[data["path"]] = data["content"]
        return files


def _normal(path: str) -> str:
    """One spelling per file, inside the space: "./a/../b.txt" is "b.txt"."""
    normal = posixpath.normpath("/" + path.strip()).lstrip("/")
    if not normal or normal == "." or len(normal) > MAX_PATH_CHARS:
        raise ToolError(f"not a file path: {path!r}")
    return normal
