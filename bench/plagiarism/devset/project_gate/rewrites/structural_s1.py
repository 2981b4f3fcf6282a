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


def tokenize(text):
    """Lowercase words (maximal runs of letters and digits), without STOPWORDS, in order."""
    tokens = []
    for word in re.findall(r"[a-z0-9]+", text.lower()):
        if word not in STOPWORDS:
            tokens.append(word)
    return tokens


def _norm(vector):
    return math.sqrt(sum(v * v for v in vector.values()))


def bag_of_words(text):
    """The counts of tokenize(text), scaled to unit Euclidean length, as a dict; {} for a text without tokens."""
    counts = Counter(tokenize(text))
    norm = _norm(counts)
    return {word: c / norm for word, c in counts.items()} if norm else {}


def cosine(a, b):
    """Cosine similarity of two sparse vectors (dicts word -> weight); 0.0 when either has zero length."""
    norm_a, norm_b = _norm(a), _norm(b)
    if norm_a == 0 or norm_b == 0:
        return 0.0
    dot = 0.0
    for word, weight in a.items():
        if word in b:
            dot += weight * b[word]
    return dot / (norm_a * norm_b)


def _mean_vector(vectors):
    vector = {}
    for bag in vectors:
        for word, weight in bag.items():
            vector[word] = vector.get(word, 0.0) + weight
    return {w: v / len(vectors) for w, v in vector.items() if v != 0}


def fit_centroids(examples):
    """{label: centroid} where a centroid is the mean of the bag_of_words of the label's example texts (a dict that
    leaves out zero entries). ValueError when there are no examples."""
    if not examples:
        raise ValueError("no labelled examples to fit centroids on")
    grouped = {}
    for label, text in examples:
        grouped.setdefault(label, []).append(bag_of_words(text))
    return {label: _mean_vector(vectors) for label, vectors in grouped.items()}


def classify(centroids, text, min_score=0.0):
    """(label, score) of the centroid most similar to the text; a tie goes to the label that sorts first. The label
    is UNKNOWN when the best score is not above min_score."""
    vector = bag_of_words(text)
    best_label, best_score = None, -math.inf
    for label, score in ((label, cosine(vector, centroids[label])) for label in sorted(centroids)):
        if score > best_score:
            best_label, best_score = label, score
    if best_label is not None and best_score > min_score:
        return best_label, best_score
    return UNKNOWN, max(best_score, 0.0)


def leave_one_out(examples, min_score=0.0):
    """Accuracy when each example is classified by the centroids of all the other examples (UNKNOWN counts as
    wrong). ValueError with fewer than two examples."""
    if len(examples) < 2:
        raise ValueError("leave-one-out needs at least two examples")
    correct = sum(
        classify(fit_centroids(examples[:i] + examples[i + 1:]), text, min_score)[0] == label
        for i, (label, text) in enumerate(examples)
    )
    return correct / len(examples)


def _parse_example(number, line):
    label, text = (part.strip() for part in line.split("\t", 1))
    if not label or not text:
        raise ValueError(f"line {number}: an example needs a label and a text separated by a tab")
    return label, text


def read_input(path):
    """(examples, queries) from the file at path, in file order: examples as (label, text) pairs, queries as texts,
    all stripped of surrounding whitespace. A tab line whose label or text is empty is a ValueError that names the
    line number (counting from 1)."""
    examples, queries = [], []
    with open(path, encoding="utf-8") as handle:
        lines = [line.strip() for line in handle]
    for number, line in enumerate(lines, start=1):
        if line and not line.startswith("#"):
            if "\t" in line:
                examples.append(_parse_example(number, line))
            else:
                queries.append(line)
    return examples, queries


def format_report(rows, accuracy=None):
    """A Markdown report of (text, label, score) rows: the line "# Predictions", a blank line, a table with the
    header "| text | label | score |" and its "| --- | --- | --- |" rule, one row per prediction (score with three
    decimals; a text over 60 characters cut to its first 57 and "..."; "|" in a text written as "\\|"), and, when
    accuracy is given, a blank line and "Leave-one-out accuracy: 0.750". Ends with a newline."""
    lines = ["# Predictions", "", "| text | label | score |", "| --- | --- | --- |"]
    lines += [f"| {(text if len(text) <= 60 else text[:57] + '...').replace('|', chr(92) + '|')} | {label} | {score:.3f} |"
              for text, label, score in rows]
    if accuracy is not None:
        lines.append("")
        lines.append(f"Leave-one-out accuracy: {accuracy:.3f}")
    lines.append("")
    return "\n".join(lines)


def _predict_rows(centroids, queries, min_score):
    return [(text, *classify(centroids, text, min_score)) for text in queries]


def build_parser():
    """The command line: a positional `input` (a Path), `--output PATH` (a Path; also write the report there) and
    `--min-score FLOAT` (default 0.0)."""
    parser = argparse.ArgumentParser(prog="solution", description="Few-shot nearest-centroid text classifier.")
    parser.add_argument("input", type=Path, help="text file with labelled examples and texts to classify")
    parser.add_argument("--output", type=Path, default=None, help="also write the report to this file")
    parser.add_argument("--min-score", type=float, default=0.0, help="below this similarity the label is unknown")
    return parser


def main(argv=None):
    """Read the input, fit the centroids, classify every query and print the report (leave-one-out accuracy
    included when there are two examples or more); write it to --output too. A missing input file, or one without
    examples, ends through the parser's error (exit status 2) with a message that says what to fix. Returns 0."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.input.is_file():
        parser.error(f"input file {args.input} not found: pass the path of a text file")
    examples, queries = read_input(args.input)
    if not examples:
        parser.error(f"{args.input} has no labelled examples: add lines of the form 'label<TAB>text'")
    accuracy = None
    if len(examples) >= 2:
        accuracy = leave_one_out(examples, args.min_score)
    report = format_report(_predict_rows(fit_centroids(examples), queries, args.min_score), accuracy)
    print(report, end="")
    if args.output is not None:
        args.output.write_text(report, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
