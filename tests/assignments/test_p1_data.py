"""p1's data: hidden inputs stay out of the handout, expected values stay out of the sandbox, the build is
deterministic and its expected output agrees with the reference's cleaning."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
ASSIGNMENT = ROOT / "assignments" / "p1"
PUBLIC_DATA = ASSIGNMENT / "data"
PROBE_DATA = ASSIGNMENT / "hidden_tests" / "probe" / "data"
EXPECTED = json.loads((ASSIGNMENT / "hidden_tests" / "judge" / "expected.json").read_text(encoding="utf-8"))


def read_exactly(path: Path) -> str:
    """The text with its CRLF endings kept (they are part of the messy inputs)."""
    return path.read_bytes().decode("utf-8")


def load_module(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def build_data() -> ModuleType:
    return load_module("p1_build_data", ASSIGNMENT / "hidden_tests" / "build_data.py")


@pytest.fixture(scope="module")
def reference_cleaning() -> ModuleType:
    return load_module("p1_reference_cleaning", ROOT / "reference_solutions" / "p1" / "tinygpt" / "cleaning.py")


def hidden_verses() -> set[str]:
    lines = set()
    for name in ("corpus.txt", "heldout.txt"):
        lines |= set(read_exactly(PROBE_DATA / name).splitlines())
    lines |= set(EXPECTED["cleaned_messy"].splitlines()) | set(EXPECTED["cleaned_unique"].splitlines())
    return {line.casefold() for line in lines if line}


def test_handout_data_contains_no_hidden_verse():
    public = {line.casefold() for path in PUBLIC_DATA.iterdir() for line in read_exactly(path).splitlines()}
    assert not public & hidden_verses()


def test_sandbox_inputs_do_not_contain_the_expected_cleaned_texts():
    probe_texts = [read_exactly(path) for path in PROBE_DATA.iterdir()]
    probe_lines = {line for text in probe_texts for line in text.splitlines()}
    for key in ("cleaned_messy", "cleaned_unique"):
        assert not any(EXPECTED[key] in text for text in probe_texts)
        expected_lines = EXPECTED[key].splitlines()
        # A dirtied line may come out unchanged by chance, but nearly all of them must differ from the answer.
        assert sum(line in probe_lines for line in expected_lines) < 0.1 * len(expected_lines)


def test_heldout_text_uses_only_characters_of_the_training_corpus():
    vocabulary = set(EXPECTED["vocabulary"])
    assert vocabulary == set(read_exactly(PROBE_DATA / "corpus.txt"))
    assert set(read_exactly(PROBE_DATA / "heldout.txt")) <= vocabulary
    assert not set(read_exactly(PROBE_DATA / "unseen.txt")) <= vocabulary


@pytest.mark.parametrize(
    "raw, cleaned, seed, duplicates",
    [
        (PROBE_DATA / "messy_unique.txt", "cleaned_unique", 37, False),
        (PUBLIC_DATA / "messy_sample.txt", PUBLIC_DATA / "messy_sample_cleaned.txt", 11, True),
    ],
)
def test_messy_corpus_is_rebuilt_byte_for_byte_from_its_verses(build_data, raw, cleaned, seed, duplicates):
    verses = (EXPECTED[cleaned] if isinstance(cleaned, str) else read_exactly(cleaned)).splitlines()
    rebuilt = build_data.make_messy(verses, seed=seed, duplicates=duplicates)
    assert rebuilt.raw == read_exactly(raw)
    assert build_data.make_messy(verses, seed=seed, duplicates=duplicates) == rebuilt


def test_dirtied_corpus_really_is_messy(build_data):
    verses = EXPECTED["cleaned_unique"].splitlines()
    raw = build_data.make_messy(verses, seed=37, duplicates=False).raw
    assert raw != "".join(verse + "\n" for verse in verses)
    for marker in ("\ufeff", "\r\n", "\u00a0", "\u3000", "\t"):
        assert marker in raw
    assert any(0xFF21 <= ord(char) <= 0xFF5A for char in raw)  # full-width letters


def test_messy_corpus_with_duplicates_repeats_verses(build_data):
    verses = EXPECTED["cleaned_unique"].splitlines()
    messy = build_data.make_messy(verses, seed=5, duplicates=True)
    assert len(messy.raw.splitlines()) > len(verses) + 5
    assert messy.cleaned == "".join(verse + "\n" for verse in verses)


@pytest.mark.parametrize(
    "raw, expected",
    [
        (PROBE_DATA / "messy.txt", EXPECTED["cleaned_messy"]),
        (PROBE_DATA / "messy_unique.txt", EXPECTED["cleaned_unique"]),
        (PUBLIC_DATA / "messy_sample.txt", read_exactly(PUBLIC_DATA / "messy_sample_cleaned.txt")),
    ],
)
def test_reference_cleaning_gives_the_expected_text(reference_cleaning, raw, expected):
    assert reference_cleaning.clean_corpus(read_exactly(raw)) == expected
