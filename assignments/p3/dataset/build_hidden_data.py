"""Builds project 3's hidden data from questions.yaml and the Debian package python3.11-doc.

    apt-get download python3.11-doc
    python assignments/p3/dataset/build_hidden_data.py --deb python3.11-doc_*.deb   # re-extract the documents
    python assignments/p3/dataset/build_hidden_data.py                              # documents already committed

Writes, under assignments/p3/hidden_tests/ (or --out):
  probe/data/documents.json   the hidden corpus, grouped into the ingestion batches the probe uses (inputs)
  probe/data/questions.json   question ids and texts only, unsupported questions mixed in (inputs)
  judge/documents.json        the same corpus, the judge's own copy (checks chunk offsets and coverage against it)
  judge/gold.json             question id -> gold spans [source, start, end]; [] for a question with no support
Deterministic: the same inputs always give byte-identical files.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import re
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
HIDDEN_TESTS = HERE.parent / "hidden_tests"
DEB_SOURCES = "./usr/share/doc/python3.11/html/_sources/"
SHUFFLE_SEED = 3


@dataclass(frozen=True)
class Question:
    question_id: str
    text: str
    gold: list[tuple[str, int, int]]


def documents_from_deb(deb: Path, batches: dict[str, list[str]]) -> dict[str, dict[str, str]]:
    wanted = {name for names in batches.values() for name in names}
    filesystem = subprocess.run(["dpkg-deb", "--fsys-tarfile", str(deb)], check=True, capture_output=True).stdout
    texts: dict[str, str] = {}
    with tarfile.open(fileobj=io.BytesIO(filesystem)) as archive:
        for member in archive.getmembers():
            name = member.name.removeprefix(DEB_SOURCES)
            if member.name.startswith(DEB_SOURCES) and name in wanted:
                texts[name] = archive.extractfile(member).read().decode("utf-8")
    missing = wanted - texts.keys()
    if missing:
        raise SystemExit(f"not in {deb}: {sorted(missing)}")
    return {batch: {name: texts[name] for name in names} for batch, names in batches.items()}


def gold_spans(document: str, quote: str) -> list[tuple[int, int]]:
    """Every occurrence of the quote, any run of whitespace in it matching any run of whitespace in the document."""
    pattern = r"\s+".join(re.escape(word) for word in quote.split())
    return [(match.start(), match.end()) for match in re.finditer(pattern, document)]


def build_questions(spec: list[dict], documents: dict[str, str]) -> list[Question]:
    order = list(range(len(spec)))
    random.Random(SHUFFLE_SEED).shuffle(order)  # unsupported questions must not sit together at the end
    questions = []
    for number, index in enumerate(order, start=1):
        entry = spec[index]
        gold: list[tuple[str, int, int]] = []
        if entry["quote"] is not None:
            spans = gold_spans(documents[entry["source"]], entry["quote"])
            if not spans:
                raise SystemExit(f"quote not found in {entry['source']}: {entry['quote']!r}")
            gold = [(entry["source"], start, end) for start, end in spans]
        questions.append(Question(f"q{number:02d}", entry["question"], gold))
    return questions


def write_json(path: Path, value: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value, indent=1, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")


def build(out: Path, deb: Path | None) -> None:
    spec = yaml.safe_load((HERE / "questions.yaml").read_text(encoding="utf-8"))
    if deb is not None:
        batches = documents_from_deb(deb, spec["documents"])
    else:
        batches = json.loads((HIDDEN_TESTS / "judge" / "documents.json").read_text(encoding="utf-8"))
    all_documents = {name: text for batch in batches.values() for name, text in batch.items()}
    questions = build_questions(spec["questions"], all_documents)
    write_json(out / "probe" / "data" / "documents.json", batches)
    write_json(out / "judge" / "documents.json", batches)
    write_json(out / "probe" / "data" / "questions.json",
               [{"id": question.question_id, "question": question.text} for question in questions])
    write_json(out / "judge" / "gold.json",
               {question.question_id: [list(span) for span in question.gold] for question in questions})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deb", type=Path, help="python3.11-doc .deb to extract the documents from")
    parser.add_argument("--out", type=Path, default=HIDDEN_TESTS, help="folder holding probe/ and judge/")
    arguments = parser.parse_args()
    build(arguments.out, arguments.deb)


if __name__ == "__main__":
    main()
