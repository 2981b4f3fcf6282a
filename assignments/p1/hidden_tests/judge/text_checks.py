"""p1's hidden checks of the text pipeline: clean_corpus (R1-R7) and CharTokenizer (R8, R9)."""

from pathlib import Path

from expected import EXPECTED, PROBE_DATA, VOCABULARY

from grader.judge import Failed, ProbeData, check

# The hand-made edge corpus (messy_edges.txt): line breaks other than "\n", case-folding duplicates, format-only lines.
CLEANED_EDGES = (Path(__file__).parent / "cleaned_edges.txt").read_bytes().decode("utf-8")
UNKNOWN_ID = 0
UNKNOWN_CHAR = "\ufffd"
TOKENIZER_TEXT_CHARS = 3000


def expected_ids(text: str) -> list[int]:
    return [VOCABULARY.index(char) + 1 if char in VOCABULARY else UNKNOWN_ID for char in text]


def expected_decoded(text: str) -> str:
    return "".join(char if char in VOCABULARY else UNKNOWN_CHAR for char in text)


@check("cleaning_normalised")
def cleaning_normalised(probe: ProbeData) -> None:
    if probe.step("cleaning_unique").value("cleaned") != EXPECTED["cleaned_unique"]:
        raise Failed(
            "on a corpus without duplicates the output differs from the spec: check NFKC, removal of "
            "format characters, whitespace collapsing, empty lines and the final newline"
        )


@check("cleaning_deduplicated")
def cleaning_deduplicated(probe: ProbeData) -> None:
    cleaned = probe.step("cleaning_duplicates").value("cleaned")
    if cleaned != EXPECTED["cleaned_messy"]:
        kept = cleaned.splitlines() if type(cleaned) is str else []
        if len({line.casefold() for line in kept}) != len(kept):
            raise Failed("the output still has lines that are equal ignoring case")
        raise Failed(
            "on a corpus with duplicates the output differs from the spec: normalise before comparing "
            "lines, compare with casefold(), keep the first occurrence as it is, keep the order"
        )


@check("cleaning_edge_cases")
def cleaning_edge_cases(probe: ProbeData) -> None:
    if probe.step("cleaning_edges").value("cleaned") != CLEANED_EDGES:
        raise Failed(
            "on a corpus with line breaks other than \\n (\\r, U+2028, vertical tab, ...), lines that are "
            "equal only under casefold() and lines of format characters alone, the output differs from the "
            "spec: split with str.splitlines() and compare with casefold()"
        )


@check("tokenizer_roundtrip")
def tokenizer_roundtrip(probe: ProbeData) -> None:
    step = probe.step("tokenizer")
    text = (PROBE_DATA / "heldout.txt").read_text(encoding="utf-8")[:TOKENIZER_TEXT_CHARS]
    if step.value("vocab_size") != len(VOCABULARY) + 1:
        raise Failed("vocab_size must be the number of distinct characters of the training text plus one (id 0)")
    if step.value("ids") != expected_ids(text):
        raise Failed("ids must follow the spec: 0 for unknown, then the characters in code point order from 1")
    if step.value("decoded") != text:
        raise Failed("decode(encode(text)) does not give back a text made of known characters")


@check("tokenizer_unknown_characters")
def tokenizer_unknown_characters(probe: ProbeData) -> None:
    step = probe.step("tokenizer_unseen")
    text = (PROBE_DATA / "unseen.txt").read_text(encoding="utf-8")
    if step.value("ids") != expected_ids(text):
        raise Failed("characters missing from the training text must encode to id 0, one id per character")
    if step.value("decoded") != expected_decoded(text):
        raise Failed("id 0 must decode to U+FFFD, every other id to its character")
