"""Answer a question from retrieved chunks: an extractive answerer that quotes the best-matching sentence.

Any callable (question, retrieved) -> Answer can replace it, e.g. a generative model (see the assignment README).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from rag import Retrieved

NOT_FOUND_ANSWER = "I could not find the answer in the provided documents."
MIN_SCORE = 0.35  # below this cosine similarity a chunk does not support an answer
CANDIDATE_CHUNKS = 3
STOPWORDS = frozenset("""a an and are as at be by can do does for from has have how i if in is it its my of on or
should that the their them then there this to was what when where which who why will with you your""".split())
SENTENCE_END = re.compile(r"(?<=[.!?:])\s+|\n\s*\n")
WORD = re.compile(r"[a-z0-9_]+")


@dataclass(frozen=True)
class Answer:
    text: str
    citations: list[str] = field(default_factory=list)


Answerer = Callable[[str, list["Retrieved"]], Answer]


@dataclass(frozen=True)
class ExtractiveAnswerer:
    min_score: float = MIN_SCORE

    def __call__(self, question: str, retrieved: list[Retrieved]) -> Answer:
        supported = [result for result in retrieved if result.score >= self.min_score][:CANDIDATE_CHUNKS]
        if not supported:
            return Answer(NOT_FOUND_ANSWER, [])
        question_words = content_words(question)
        best_overlap, best_sentence, best_chunk = -1, "", supported[0].chunk
        for result in supported:  # ranked best first: on equal overlap the better-ranked chunk wins
            for sentence in sentences(result.chunk.text):
                overlap = len(question_words & content_words(sentence))
                if overlap > best_overlap:
                    best_overlap, best_sentence, best_chunk = overlap, sentence, result.chunk
        return Answer(best_sentence, [best_chunk.chunk_id])


def content_words(text: str) -> set[str]:
    return {word for word in WORD.findall(text.lower()) if word not in STOPWORDS and len(word) > 1}


def sentences(text: str) -> list[str]:
    return [" ".join(part.split()) for part in SENTENCE_END.split(text) if part.strip()]
