"""Project 5: a few-shot text classifier, the kind of small package the gate runs (here as one file).

Entry command: `python solution.py examples/input.txt`. In the input file, a line "label<TAB>text" is a labelled
example (the few shots); blank lines and lines starting with "#" are skipped; any other line is a text to classify.
A text becomes a bag-of-words vector; a label's centroid is the mean of its examples' vectors; a text gets the
label of the most cosine-similar centroid. Use only the standard library.
"""
import argparse
import math
import re
import sys
from collections import Counter
from pathlib import Path

STOPWORDS = frozenset("a an and are as at be but by for from has have i in is it its of on or so that the this to was "
                      "were with you".split())
UNKNOWN = "unknown"


EXAMPLE_LINE = re.compile(r"^([^\t]*)\t(.*)$")
WORD = re.compile(r"[a-z0-9]+")


def _add_into(total, vector, sign=1.0):
    for word, weight in vector.items():
        total[word] = total.get(word, 0.0) + sign * weight


def _scaled(vector, factor):
    return {word: weight * factor for word, weight in vector.items() if weight * factor != 0}


def _norm(vector):
    return math.sqrt(sum(weight * weight for weight in vector.values()))


def read_input(path):
    """(examples, queries) from the file at path, in file order: examples as (label, text) pairs, queries as texts,
    all stripped of surrounding whitespace. A tab line whose label or text is empty is a ValueError that names the
    line number (counting from 1)."""
    examples = []
    queries = []
    with open(path, encoding="utf-8") as source:
        numbered = [(index + 1, line.strip()) for index, line in enumerate(source)]
    for line_number, content in numbered:
        if not content or content.startswith("#"):
            continue
        found = EXAMPLE_LINE.match(content)
        if found is None:
            queries.append(content)
        elif found.group(1).strip() and found.group(2).strip():
            examples.append((found.group(1).strip(), found.group(2).strip()))
        else:
            raise ValueError(f"{path}, line {line_number}: both the label and the text must be present")
    return examples, queries


def tokenize(text):
    """Lowercase words (maximal runs of letters and digits), without STOPWORDS, in order."""
    tokens = []
    for match in WORD.finditer(text.lower()):
        if match.group(0) not in STOPWORDS:
            tokens.append(match.group(0))
    return tokens


def bag_of_words(text):
    """The counts of tokenize(text), scaled to unit Euclidean length, as a dict; {} for a text without tokens."""
    counts = Counter(tokenize(text))
    size = _norm(counts)
    return _scaled(counts, 1.0 / size) if size else {}


def fit_centroids(examples):
    """{label: centroid} where a centroid is the mean of the bag_of_words of the label's example texts (a dict that
    leaves out zero entries). ValueError when there are no examples."""
    if not examples:
        raise ValueError("fit_centroids needs at least one (label, text) example")
    totals = {}
    counts = Counter(label for label, _ in examples)
    for label, text in examples:
        _add_into(totals.setdefault(label, {}), bag_of_words(text))
    return {label: _scaled(totals[label], 1.0 / counts[label]) for label in totals}


def cosine(a, b):
    """Cosine similarity of two sparse vectors (dicts word -> weight); 0.0 when either has zero length."""
    size = _norm(a) * _norm(b)
    if size == 0:
        return 0.0
    shared = set(a) & set(b)
    return sum(a[word] * b[word] for word in shared) / size


def classify(centroids, text, min_score=0.0):
    """(label, score) of the centroid most similar to the text; a tie goes to the label that sorts first. The label
    is UNKNOWN when the best score is not above min_score."""
    vector = bag_of_words(text)
    ranked = sorted(centroids, key=lambda label: (-cosine(vector, centroids[label]), label))
    top = ranked[0]
    score = cosine(vector, centroids[top])
    return (top if score > min_score else UNKNOWN), score


def leave_one_out(examples, min_score=0.0):
    """Accuracy when each example is classified by the centroids of all the other examples (UNKNOWN counts as
    wrong). ValueError with fewer than two examples."""
    if len(examples) < 2:
        raise ValueError(f"leave_one_out: {len(examples)} example(s), at least two are needed")
    vectors = [bag_of_words(text) for _, text in examples]
    totals = {}
    counts = Counter(label for label, _ in examples)
    for (label, _), vector in zip(examples, vectors):
        _add_into(totals.setdefault(label, {}), vector)
    right = 0
    # leaving one out = subtracting its vector from its label's total, not refitting everything
    for (label, text), vector in zip(examples, vectors):
        centroids = {}
        for other, total in totals.items():
            if other != label:
                centroids[other] = _scaled(total, 1.0 / counts[other])
            elif counts[label] > 1:
                remaining = dict(total)
                _add_into(remaining, vector, -1.0)
                centroids[label] = _scaled(remaining, 1.0 / (counts[label] - 1))
        if classify(centroids, text, min_score)[0] == label:
            right += 1
    return right / len(examples)


def format_report(rows, accuracy=None):
    """A Markdown report of (text, label, score) rows: the line "# Predictions", a blank line, a table with the
    header "| text | label | score |" and its "| --- | --- | --- |" rule, one row per prediction (score with three
    decimals; a text over 60 characters cut to its first 57 and "..."; "|" in a text written as "\\|"), and, when
    accuracy is given, a blank line and "Leave-one-out accuracy: 0.750". Ends with a newline."""
    def cell(text):
        short = text if len(text) <= 60 else f"{text[:57]}..."
        return short.replace("|", r"\|")

    table = [f"| {cell(text)} | {label} | {score:.3f} |" for text, label, score in rows]
    footer = [] if accuracy is None else ["", f"Leave-one-out accuracy: {accuracy:.3f}"]
    return "\n".join(["# Predictions", "", "| text | label | score |", "| --- | --- | --- |", *table, *footer]) + "\n"


def build_parser():
    """The command line: a positional `input` (a Path), `--output PATH` (a Path; also write the report there) and
    `--min-score FLOAT` (default 0.0)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input", type=Path, metavar="INPUT_FILE")
    parser.add_argument("--output", type=Path, metavar="REPORT", default=None)
    parser.add_argument("--min-score", type=float, metavar="SCORE", default=0.0)
    return parser


def main(argv=None):
    """Read the input, fit the centroids, classify every query and print the report (leave-one-out accuracy
    included when there are two examples or more); write it to --output too. A missing input file, or one without
    examples, ends through the parser's error (exit status 2) with a message that says what to fix. Returns 0."""
    parser = build_parser()
    options = parser.parse_args(argv)
    try:
        examples, queries = read_input(options.input)
    except FileNotFoundError:
        parser.error(f"no such file: {options.input} (run from the repository root, e.g. examples/input.txt)")
    if not examples:
        parser.error("the input has no 'label<TAB>text' lines; the classifier needs a few labelled examples")
    centroids = fit_centroids(examples)
    rows = [(query, *classify(centroids, query, options.min_score)) for query in queries]
    accuracy = leave_one_out(examples, options.min_score) if len(examples) > 1 else None
    report = format_report(rows, accuracy)
    print(report, end="")
    if options.output:
        options.output.write_text(report, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
