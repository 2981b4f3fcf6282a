"""Removes hidden material (probe inputs, judge data) from anything a student will read.

The student's code may print hidden inputs it was given, or an exception message may quote them; any line of a hidden
file long enough to be meaningful, and any long word in one (identifiers, tokens), is replaced before logs and feedback
leave the grader.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

MIN_SECRET_LENGTH = 16
REPLACEMENT = "[hidden]"
_SURROGATE = re.compile("[\ud800-\udfff]")


def replace_surrogates(text: str) -> str:
    """Lone surrogates (JSON's "\\ud800" decodes to one) cannot be encoded as UTF-8: printing or saving them fails."""
    return _SURROGATE.sub("\ufffd", text)


@dataclass(frozen=True)
class Redactor:
    secrets: tuple[str, ...]

    @classmethod
    def from_folders(cls, *folders: Path) -> "Redactor":
        found: set[str] = set()
        for folder in folders:
            for file in folder.rglob("*") if folder.is_dir() else []:
                if not file.is_file() or file.stat().st_size > 20_000_000:
                    continue
                try:
                    text = file.read_text(encoding="utf-8")
                except (UnicodeDecodeError, OSError):
                    continue
                found.update(line.strip() for line in text.splitlines() if len(line.strip()) >= MIN_SECRET_LENGTH)
                found.update(word for word in text.split() if len(word) >= MIN_SECRET_LENGTH)
        return cls(tuple(sorted(found, key=len, reverse=True)))  # longest first: a line inside another goes later

    def redact(self, text: str) -> str:
        """`text` without hidden material, ready for any UTF-8 output."""
        text = replace_surrogates(text)
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, REPLACEMENT)
        return text

    def redact_all(self, texts: Iterable[str]) -> list[str]:
        return [self.redact(text) for text in texts]
