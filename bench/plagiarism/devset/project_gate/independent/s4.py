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


def _parse_line(number, line):
    """('example', (label, text)), ('query', text) or None for a line to skip."""
    line = line.strip()
    if not line or line.startswith("#"):
        return None
    if "\t" not in line:
        return "query", line
    label, _, text = line.partition("\t")
    if not (label.strip() and text.strip()):
        raise ValueError(f"line {number} is an example without a label or a text; write it as 'label<TAB>text'")
    return "example", (label.strip(), text.strip())


def _dot(a, b):
    return sum(weight * b.get(word, 0.0) for word, weight in a.items())


def read_input(path):
    """(examples, queries) from the file at path, in file order: examples as (label, text) pairs, queries as texts,
    all stripped of surrounding whitespace. A tab line whose label or text is empty is a ValueError that names the
    line number (counting from 1)."""
    parsed = {"example": [], "query": []}
    with open(path, encoding="utf-8") as handle:
        for kind_and_value in (_parse_line(number, line) for number, line in enumerate(handle, 1)):
            if kind_and_value is not None:
                kind, value = kind_and_value
                parsed[kind].append(value)
    return parsed["example"], parsed["query"]


def tokenize(text):
    """Lowercase words (maximal runs of letters and digits), without STOPWORDS, in order."""
    # splitting on the separators leaves empty strings at the ends
    return [word for word in re.split(r"[^a-z0-9]+", text.lower()) if word and word not in STOPWORDS]


def bag_of_words(text):
    """The counts of tokenize(text), scaled to unit Euclidean length, as a dict; {} for a text without tokens."""
    counts = Counter(tokenize(text))
    if not counts:
        return {}
    length = math.hypot(*counts.values())
    return {word: count / length for word, count in counts.items()}


def fit_centroids(examples):
    """{label: centroid} where a centroid is the mean of the bag_of_words of the label's example texts (a dict that
    leaves out zero entries). ValueError when there are no examples."""
    if not examples:
        raise ValueError("cannot fit centroids: the list of examples is empty")
    grouped = {}
    for label, text in examples:
        grouped.setdefault(label, []).append(bag_of_words(text))
    centroids = {}
    for label, vectors in grouped.items():
        words = {word for vector in vectors for word in vector}
        mean = {word: sum(vector.get(word, 0.0) for vector in vectors) / len(vectors) for word in words}
        centroids[label] = {word: value for word, value in mean.items() if value}
    return centroids


def cosine(a, b):
    """Cosine similarity of two sparse vectors (dicts word -> weight); 0.0 when either has zero length."""
    lengths = math.sqrt(_dot(a, a)) * math.sqrt(_dot(b, b))
    return _dot(a, b) / lengths if lengths else 0.0


def classify(centroids, text, min_score=0.0):
    """(label, score) of the centroid most similar to the text; a tie goes to the label that sorts first. The label
    is UNKNOWN when the best score is not above min_score."""
    vector = bag_of_words(text)
    label, score = min(((label, cosine(vector, centroid)) for label, centroid in centroids.items()),
                       key=lambda pair: (-pair[1], pair[0]))
    return (label, score) if score > min_score else (UNKNOWN, score)


def leave_one_out(examples, min_score=0.0):
    """Accuracy when each example is classified by the centroids of all the other examples (UNKNOWN counts as
    wrong). ValueError with fewer than two examples."""
    if len(examples) < 2:
        raise ValueError("leave-one-out accuracy is undefined for fewer than two examples")
    outcomes = [
        classify(fit_centroids(examples[:held] + examples[held + 1:]), text, min_score)[0] == label
        for held, (label, text) in enumerate(examples)
    ]
    return sum(outcomes) / len(outcomes)


def format_report(rows, accuracy=None):
    """A Markdown report of (text, label, score) rows: the line "# Predictions", a blank line, a table with the
    header "| text | label | score |" and its "| --- | --- | --- |" rule, one row per prediction (score with three
    decimals; a text over 60 characters cut to its first 57 and "..."; "|" in a text written as "\\|"), and, when
    accuracy is given, a blank line and "Leave-one-out accuracy: 0.750". Ends with a newline."""
    def shorten(text):
        return (text[:57] + "...") if len(text) > 60 else text

    lines = ["# Predictions", "", "| text | label | score |", "| --- | --- | --- |"]
    lines.extend("| {} | {} | {:.3f} |".format(shorten(text).replace("|", "\\|"), label, score) for text, label, score in rows)
    if accuracy is not None:
        lines.extend(["", "Leave-one-out accuracy: {:.3f}".format(accuracy)])
    lines.append("")
    return "\n".join(lines)


def build_parser():
    """The command line: a positional `input` (a Path), `--output PATH` (a Path; also write the report there) and
    `--min-score FLOAT` (default 0.0)."""
    parser = argparse.ArgumentParser(prog="fewshot", description="Nearest-centroid few-shot classification of a text file.")
    parser.add_argument("input", type=Path, help="examples ('label<TAB>text') and texts to classify, one per line")
    parser.add_argument("--output", type=Path, help="path of a Markdown file for the report")
    parser.add_argument("--min-score", type=float, default=0.0, help="similarity a label needs (default: 0.0)")
    return parser


def main(argv=None):
    """Read the input, fit the centroids, classify every query and print the report (leave-one-out accuracy
    included when there are two examples or more); write it to --output too. A missing input file, or one without
    examples, ends through the parser's error (exit status 2) with a message that says what to fix. Returns 0."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.input.is_file():
        parser.error(f"{args.input} is not a file; pass the input file, e.g. examples/input.txt")
    examples, queries = read_input(args.input)
    if not examples:
        parser.error(f"{args.input} has no labelled examples; add a few 'label<TAB>text' lines")
    centroids = fit_centroids(examples)
    predictions = [(query, *classify(centroids, query, args.min_score)) for query in queries]
    report = format_report(predictions, leave_one_out(examples, args.min_score) if len(examples) >= 2 else None)
    sys.stdout.write(report)
    if args.output is not None:
        args.output.write_text(report, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
