from __future__ import annotations

from functools import partial
from pathlib import Path

from grader.plagiarism import workcache
from grader.plagiarism.workcache import WorkCache, parallel_map

calls: list[str] = []


def shout(text: str, suffix: str = "!") -> str:
    calls.append(text)
    return text.upper() + suffix


def test_parallel_map_over_forked_workers_equals_the_serial_map() -> None:
    items = [f"item {index}" for index in range(workcache.PARALLEL_FROM * 3)]
    assert parallel_map(shout, items, workers=2) == [shout(item) for item in items]


def test_results_are_computed_once_and_reused_from_disk(tmp_path: Path) -> None:
    calls.clear()
    assert WorkCache(tmp_path).map(shout, ["a", "b", "a"]) == ["A!", "B!", "A!"]
    assert calls == ["a", "b"]
    assert WorkCache(tmp_path).map(shout, ["b", "c"]) == ["B!", "C!"]  # a fresh instance reads what the first stored
    assert calls == ["a", "b", "c"]


def test_arguments_and_salt_are_part_of_the_key(tmp_path: Path) -> None:
    calls.clear()
    cache = WorkCache(tmp_path)
    assert cache.map(partial(shout, suffix="?"), ["a"]) == ["A?"]
    assert cache.map(partial(shout, suffix="!"), ["a"]) == ["A!"]
    assert cache.map(shout, ["a"], salt="library 2.0") == ["A!"]
    assert calls == ["a", "a", "a"]


def test_set_arguments_key_the_same_whatever_their_order() -> None:
    assert workcache._canonical(frozenset({"numpy", "np", "torch"})) == workcache._canonical(
        frozenset({"torch", "np", "numpy"})
    )


def test_one_store_per_function_serves_every_argument_set(tmp_path: Path) -> None:
    cache = WorkCache(tmp_path)
    cache.map(partial(shout, suffix="?"), ["a"])
    cache.map(partial(shout, suffix="!"), ["a"])
    calls.clear()
    assert WorkCache(tmp_path).map(partial(shout, suffix="?"), ["a"]) == ["A?"]
    assert calls == []
    assert len(list(tmp_path.iterdir())) == 1


def test_an_unreadable_store_is_recomputed_not_fatal(tmp_path: Path) -> None:
    WorkCache(tmp_path).map(shout, ["a"])
    (store,) = tmp_path.iterdir()
    store.write_bytes(b"not a pickle")
    calls.clear()
    assert WorkCache(tmp_path).map(shout, ["a"]) == ["A!"]
    assert calls == ["a"]
