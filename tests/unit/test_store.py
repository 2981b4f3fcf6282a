"""The submission store: an upload is stored whole or not at all, once per content, and a failure is never taken
for success."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader import store
from grader.intake import Accepted


def accepted(content: bytes, sha256: str) -> Accepted:
    return Accepted(sha256=sha256, kind="py", original_name="solution.py", size_bytes=len(content), entry_kind="file")


def put_upload(store_dir: Path, content: bytes, sha256: str) -> store.StoredSubmission:
    with store.staging(store_dir) as staging:
        source = store.original_folder(staging) / "solution.py"
        source.write_bytes(content)
        (staging / "tree").mkdir()
        (staging / "tree" / "solution.py").write_bytes(content)
        return store.put(store_dir, staging, source, accepted(content, sha256))


def test_the_first_upload_into_an_empty_store_creates_its_folders(tmp_path):
    stored = put_upload(tmp_path / "store", b"x = 1\n", "ab" + "0" * 62)
    assert (stored.original / "solution.py").read_bytes() == b"x = 1\n"
    assert store.get(tmp_path / "store", stored.sha256).original_name == "solution.py"
    assert not any((tmp_path / "store" / "tmp").iterdir())


def test_the_same_content_again_keeps_the_first_copy_and_leaves_no_staging_behind(tmp_path):
    first = put_upload(tmp_path / "store", b"x = 1\n", "ab" + "0" * 62)
    again = put_upload(tmp_path / "store", b"x = 1\n", "ab" + "0" * 62)
    assert again.path == first.path
    assert (first.tree / "solution.py").read_bytes() == b"x = 1\n"
    assert not any((tmp_path / "store" / "tmp").iterdir())


def test_a_store_that_cannot_take_the_upload_raises_instead_of_claiming_it_stored(tmp_path):
    store_dir = tmp_path / "store"
    store_dir.mkdir()
    (store_dir / "cd").write_text("not a folder")  # where the upload's prefix folder must go
    with pytest.raises(OSError):
        put_upload(store_dir, b"y = 2\n", "cd" + "0" * 62)
    assert not any((store_dir / "tmp").iterdir())
