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


def read_input(path):
    """(examples, queries) from the file at path, in file order: examples as (label, text) pairs, queries as texts,
    all stripped of surrounding whitespace. A tab line whose label or text is empty is a ValueError that names the
    line number (counting from 1)."""
    shots, pending = [], []
    with open(path, encoding="utf-8") as stream:
        for position, row in enumerate(stream, 1):
            row = row.strip()
            if row == "" or row[0] == "#":
                continue
            if "\t" not in row:
                pending.append(row)
                continue
            tag, body = [piece.strip() for piece in row.split("\t", 1)]
            if tag == "" or body == "":
                raise ValueError(f"line {position}: write a labelled example as label, a tab, then the text")
            shots.append((tag, body))
    return shots, pending


def tokenize(text):
    """Lowercase words (maximal runs of letters and digits), without STOPWORDS, in order."""
    lowered = text.lower()
    return [term for term in re.findall(r"[a-z0-9]+", lowered) if term not in STOPWORDS]


def bag_of_words(text):
    """The counts of tokenize(text), scaled to unit Euclidean length, as a dict; {} for a text without tokens."""
    tally = Counter(tokenize(text))
    magnitude = math.sqrt(sum(n * n for n in tally.values()))
    if not magnitude:
        return {}
    return {term: n / magnitude for term, n in tally.items()}


def fit_centroids(examples):
    """{label: centroid} where a centroid is the mean of the bag_of_words of the label's example texts (a dict that
    leaves out zero entries). ValueError when there are no examples."""
    if len(examples) == 0:
        raise ValueError("there are no labelled examples to build centroids from")
    accumulated = {}
    seen = Counter()
    for tag, body in examples:
        into = accumulated.setdefault(tag, {})
        for term, value in bag_of_words(body).items():
            into[term] = into.get(term, 0.0) + value
        seen[tag] += 1
    result = {}
    for tag, into in accumulated.items():
        result[tag] = {term: value / seen[tag] for term, value in into.items() if value != 0}
    return result


def cosine(a, b):
    """Cosine similarity of two sparse vectors (dicts word -> weight); 0.0 when either has zero length."""
    product = sum(value * b[term] for term, value in a.items() if term in b)
    length_a = math.sqrt(sum(value * value for value in a.values()))
    length_b = math.sqrt(sum(value * value for value in b.values()))
    if length_a == 0 or length_b == 0:
        return 0.0
    return product / (length_a * length_b)


def classify(centroids, text, min_score=0.0):
    """(label, score) of the centroid most similar to the text; a tie goes to the label that sorts first. The label
    is UNKNOWN when the best score is not above min_score."""
    query = bag_of_words(text)
    winner, top = None, float("-inf")
    for tag in sorted(centroids):
        similarity = cosine(query, centroids[tag])
        if similarity > top:
            winner, top = tag, similarity
    if winner is not None and top > min_score:
        return winner, top
    return UNKNOWN, max(top, 0.0)


def leave_one_out(examples, min_score=0.0):
    """Accuracy when each example is classified by the centroids of all the other examples (UNKNOWN counts as
    wrong). ValueError with fewer than two examples."""
    if len(examples) < 2:
        raise ValueError("at least two examples are needed to hold one out")
    good = 0
    for held, (tag, body) in enumerate(examples):
        remaining = examples[:held] + examples[held + 1:]
        guess = classify(fit_centroids(remaining), body, min_score)[0]
        good += 1 if guess == tag else 0
    return good / len(examples)


def format_report(rows, accuracy=None):
    """A Markdown report of (text, label, score) rows: the line "# Predictions", a blank line, a table with the
    header "| text | label | score |" and its "| --- | --- | --- |" rule, one row per prediction (score with three
    decimals; a text over 60 characters cut to its first 57 and "..."; "|" in a text written as "\\|"), and, when
    accuracy is given, a blank line and "Leave-one-out accuracy: 0.750". Ends with a newline."""
    out = ["# Predictions", "", "| text | label | score |", "| --- | --- | --- |"]
    for body, tag, similarity in rows:
        shown = body[:57] + "..." if len(body) > 60 else body
        out.append("| " + shown.replace("|", "\\|") + f" | {tag} | {similarity:.3f} |")
    if accuracy is not None:
        out.append("")
        out.append(f"Leave-one-out accuracy: {accuracy:.3f}")
    out.append("")
    return "\n".join(out)


def build_parser():
    """The command line: a positional `input` (a Path), `--output PATH` (a Path; also write the report there) and
    `--min-score FLOAT` (default 0.0)."""
    cli = argparse.ArgumentParser(prog="solution", description="Label texts with the nearest few-shot centroid.")
    cli.add_argument("input", type=Path, help="the file of labelled examples and texts")
    cli.add_argument("--output", type=Path, default=None, help="a file that receives a copy of the report")
    cli.add_argument("--min-score", type=float, default=0.0, help="a label needs a similarity above this")
    return cli


def main(argv=None):
    """Read the input, fit the centroids, classify every query and print the report (leave-one-out accuracy
    included when there are two examples or more); write it to --output too. A missing input file, or one without
    examples, ends through the parser's error (exit status 2) with a message that says what to fix. Returns 0."""
    cli = build_parser()
    options = cli.parse_args(argv)
    if not options.input.is_file():
        cli.error(f"{options.input} does not exist; give the path of the input text file")
    shots, pending = read_input(options.input)
    if not shots:
        cli.error(f"{options.input} holds no 'label<TAB>text' lines; add a few labelled examples")
    centres = fit_centroids(shots)
    table = [(body, *classify(centres, body, options.min_score)) for body in pending]
    held_out = None
    if len(shots) > 1:
        held_out = leave_one_out(shots, options.min_score)
    document = format_report(table, held_out)
    print(document, end="")
    if options.output is not None:
        options.output.write_text(document, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
