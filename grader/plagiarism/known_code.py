"""Code two submissions may share without it being evidence of copying, removed from every channel the same way.

The starter is the handout every student begins from; its top-level names are the assignment's interface, kept
verbatim in canonical forms. Known sources are what the course taught from (the lecture's code, a textbook's recipe,
as MOSS's base files and copydetect's boilerplate files): two solutions that both follow the lecture share its code
because of the lecture, so what they share with it says nothing about copying. Their names are no interface.
"""

from __future__ import annotations

from dataclasses import dataclass

from grader.plagiarism.submissions import SourceFile
from grader.plagiarism.units import api_names_of


@dataclass(frozen=True)
class KnownCode:
    starter: tuple[SourceFile, ...] = ()
    sources: tuple[SourceFile, ...] = ()

    @property
    def files(self) -> tuple[SourceFile, ...]:
        """Every known file: what the channels remove."""
        return self.starter + self.sources

    @property
    def codes(self) -> list[str]:
        return [source.code for source in self.files]

    @property
    def api_names(self) -> frozenset[str]:
        return api_names_of([source.code for source in self.starter])
