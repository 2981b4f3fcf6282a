"""Builds every data file of assignment p1 from the King James Bible text in Debian's `bible-kjv-text` package.

Run it (instructors only) after extracting the two Debian packages, see PROVENANCE.md:

    python assignments/p1/hidden_tests/build_data.py --bible-root /tmp/kjv/root

It writes the public handout data (Genesis; a small public messy sample from Exodus), the hidden probe inputs
(Proverbs + Ecclesiastes for training and held-out loss; messy corpora derived from the Song of Solomon and Ruth)
and the judge's expected values. The expected cleaned text is known by construction (the messy corpus is made by
dirtying clean verses), so it never depends on any implementation of the cleaning spec.
Everything after the extraction is deterministic: the same verses and seeds give byte-identical files.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

ASSIGNMENT_DIR = Path(__file__).resolve().parents[1]
PUBLIC_DATA = ASSIGNMENT_DIR / "data"
PROBE_DATA = ASSIGNMENT_DIR / "hidden_tests" / "probe" / "data"
JUDGE_DIR = ASSIGNMENT_DIR / "hidden_tests" / "judge"

PUBLIC_CORPUS_RANGES = ["Genesis1:1-50:26"]
PUBLIC_MESSY_RANGES = ["Exodus1:1-2:25"]
HIDDEN_CORPUS_RANGES = ["Proverbs1:1-31:31", "Ecclesiastes1:1-12:14"]
HIDDEN_MESSY_RANGES = ["Song1:1-8:14"]
HIDDEN_UNIQUE_RANGES = ["Ruth1:1-4:22"]
HELDOUT_EVERY = 10  # every 10th verse of the hidden corpus is held out from training
UNSEEN_TEXT = "Verse 42:\tnaïve café — “Zion” costs 3½ shekels; ☃ ok?\n"

VERSE_LINE = re.compile(r"^\s*\d+ (.*)$")
FULLWIDTH_OFFSET = 0xFEE0  # NFKC maps U+FF01..U+FF5E back to ASCII U+0021..U+007E
ODD_SPACES = ["  ", "\t", "\u00a0", "\u2002", "\u3000", " \t "]
LIGATURES = {"fi": "\ufb01", "fl": "\ufb02", "ff": "\ufb00"}
FORMAT_CHARACTERS = ["\u200b", "\u00ad", "\u2060"]


def extract_verses(bible: Path, data_dir: Path, ranges: list[str]) -> list[str]:
    """The verses of `ranges`, one string each, as printed by Debian's `bible` program (unwrapped, no numbers)."""
    printed = subprocess.run(
        [str(bible), "-p", str(data_dir), "-l10000", *ranges], check=True, capture_output=True, text=True
    ).stdout
    return [match.group(1).strip() for line in printed.splitlines() if (match := VERSE_LINE.match(line))]


def split_heldout(verses: list[str]) -> tuple[list[str], list[str]]:
    """Every HELDOUT_EVERY-th verse is held out, unless it has a character that the training part lacks."""
    train = [verse for index, verse in enumerate(verses) if index % HELDOUT_EVERY != HELDOUT_EVERY - 1]
    candidates = [verse for index, verse in enumerate(verses) if index % HELDOUT_EVERY == HELDOUT_EVERY - 1]
    seen = set("".join(train)) | {"\n"}
    heldout = [verse for verse in candidates if set(verse) <= seen]
    train += [verse for verse in candidates if not set(verse) <= seen]
    return train, heldout


def dirty(line: str, rng: random.Random) -> str:
    """One rendering of `line` that the cleaning spec turns back into exactly `line`."""
    words = line.split(" ")
    rendered = words[0]
    for word in words[1:]:
        rendered += rng.choice(ODD_SPACES) if rng.random() < 0.3 else " "
        rendered += word
    for plain, ligature in LIGATURES.items():
        if plain in rendered and rng.random() < 0.5:
            rendered = rendered.replace(plain, ligature, 1)
    rendered = "".join(
        _fullwidth(char) if char.isascii() and char.isalpha() and rng.random() < 0.08 else char for char in rendered
    )
    if rng.random() < 0.4:
        position = rng.randrange(1, len(rendered))
        if rendered[position - 1].isalpha() and rendered[position].isalpha():
            rendered = rendered[:position] + rng.choice(FORMAT_CHARACTERS) + rendered[position:]
    return rng.choice(["", " ", "\t", "\u3000"]) + rendered + rng.choice(["", " ", "  ", "\t"])


def _fullwidth(char: str) -> str:
    return chr(ord(char) + FULLWIDTH_OFFSET)


@dataclass(frozen=True)
class MessyCorpus:
    raw: str  # what clean_corpus receives
    cleaned: str  # what the spec says clean_corpus returns


def make_messy(verses: list[str], seed: int, duplicates: bool) -> MessyCorpus:
    """Dirty renderings of `verses`, in order, with blank lines, CRLF endings, a BOM and (optionally) duplicates.

    An added duplicate always comes after the first rendering of its verse and differs from it by whitespace,
    Unicode form or letter case only, so the expected output is the source verses in order, minus the verses
    the source itself repeats (the Song of Solomon has refrains).
    """
    rng = random.Random(seed)
    pending: list[str] = []
    lines: list[str] = []
    for verse in verses:
        lines.append(dirty(verse, rng))
        if duplicates and rng.random() < 0.35:
            pending.append(verse)
        if pending and rng.random() < 0.3:
            repeated = pending.pop(rng.randrange(len(pending)))
            lines.append(_duplicate_of(repeated, rng))
        if rng.random() < 0.1:
            lines.append(rng.choice(["", "   ", "\t", "\u00a0", "\u200b"]))
    lines.extend(_duplicate_of(verse, rng) for verse in pending)
    endings = [rng.choice(["\n", "\n", "\r\n"]) for _ in lines]
    raw = "\ufeff" + "".join(line + ending for line, ending in zip(lines, endings))
    return MessyCorpus(raw=raw, cleaned=as_corpus(_first_occurrences(verses)))


def _duplicate_of(verse: str, rng: random.Random) -> str:
    variant = rng.choice([verse, verse.upper(), verse.lower(), verse.swapcase()])
    return dirty(variant, rng) if rng.random() < 0.7 else variant


def _first_occurrences(verses: list[str]) -> list[str]:
    first_by_folded: dict[str, str] = {}
    for verse in verses:
        first_by_folded.setdefault(verse.casefold(), verse)
    return list(first_by_folded.values())


def as_corpus(verses: list[str]) -> str:
    return "".join(verse + "\n" for verse in verses)


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8", newline="")


def build(bible: Path, data_dir: Path) -> None:
    def verses(ranges: list[str]) -> list[str]:
        return extract_verses(bible, data_dir, ranges)

    write(PUBLIC_DATA / "public_corpus.txt", as_corpus(verses(PUBLIC_CORPUS_RANGES)))
    public_messy = make_messy(verses(PUBLIC_MESSY_RANGES), seed=11, duplicates=True)
    write(PUBLIC_DATA / "messy_sample.txt", public_messy.raw)
    write(PUBLIC_DATA / "messy_sample_cleaned.txt", public_messy.cleaned)

    train, heldout = split_heldout(verses(HIDDEN_CORPUS_RANGES))
    write(PROBE_DATA / "corpus.txt", as_corpus(train))
    write(PROBE_DATA / "heldout.txt", as_corpus(heldout))
    messy = make_messy(verses(HIDDEN_MESSY_RANGES), seed=23, duplicates=True)
    unique = make_messy(verses(HIDDEN_UNIQUE_RANGES), seed=37, duplicates=False)
    write(PROBE_DATA / "messy.txt", messy.raw)
    write(PROBE_DATA / "messy_unique.txt", unique.raw)
    write(PROBE_DATA / "unseen.txt", UNSEEN_TEXT)

    expected = {
        "cleaned_messy": messy.cleaned,
        "cleaned_unique": unique.cleaned,
        "vocabulary": "".join(sorted(set(as_corpus(train)))),
    }
    write(JUDGE_DIR / "expected.json", json.dumps(expected, indent=1, ensure_ascii=False) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--bible-root",
        type=Path,
        required=True,
        help="folder where bible-kjv and bible-kjv-text were extracted with dpkg-deb -x",
    )
    arguments = parser.parse_args()
    build(arguments.bible_root / "usr/bin/bible", arguments.bible_root / "usr/lib")


if __name__ == "__main__":
    main()
