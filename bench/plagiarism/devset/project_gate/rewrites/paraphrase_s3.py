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


LABELLED = re.compile(r"^([^\t]*)\t(.*)$")
TERM = re.compile(r"[a-z0-9]+")


def _accumulate(target, bag, factor=1.0):
    for term, value in bag.items():
        target[term] = target.get(term, 0.0) + factor * value


def _times(bag, scale):
    out = {}
    for term, value in bag.items():
        product = value * scale
        if product != 0:
            out[term] = product
    return out


def _length(bag):
    return math.sqrt(sum(value ** 2 for value in bag.values()))


def read_input(path):
    """(examples, queries) from the file at path, in file order: examples as (label, text) pairs, queries as texts,
    all stripped of surrounding whitespace. A tab line whose label or text is empty is a ValueError that names the
    line number (counting from 1)."""
    shots, texts = [], []
    with open(path, encoding="utf-8") as stream:
        rows = [row.strip() for row in stream]
    for where, row in enumerate(rows, start=1):
        if row == "" or row.startswith("#"):
            continue
        hit = LABELLED.match(row)
        if not hit:
            texts.append(row)
            continue
        tag, body = hit.group(1).strip(), hit.group(2).strip()
        if tag == "" or body == "":
            raise ValueError(f"{path}, line {where}: a labelled line needs both a label and a text")
        shots.append((tag, body))
    return shots, texts


def tokenize(text):
    """Lowercase words (maximal runs of letters and digits), without STOPWORDS, in order."""
    kept = []
    for hit in TERM.finditer(text.lower()):
        term = hit.group(0)
        if term in STOPWORDS:
            continue
        kept.append(term)
    return kept


def bag_of_words(text):
    """The counts of tokenize(text), scaled to unit Euclidean length, as a dict; {} for a text without tokens."""
    tally = Counter(tokenize(text))
    size = _length(tally)
    return _times(tally, 1.0 / size) if size else {}


def fit_centroids(examples):
    """{label: centroid} where a centroid is the mean of the bag_of_words of the label's example texts (a dict that
    leaves out zero entries). ValueError when there are no examples."""
    if len(examples) == 0:
        raise ValueError("fit_centroids: give at least one (label, text) pair")
    per_tag = Counter(tag for tag, _ in examples)
    sums = {}
    for tag, body in examples:
        _accumulate(sums.setdefault(tag, {}), bag_of_words(body))
    return {tag: _times(sums[tag], 1.0 / per_tag[tag]) for tag in sums}


def cosine(a, b):
    """Cosine similarity of two sparse vectors (dicts word -> weight); 0.0 when either has zero length."""
    denominator = _length(a) * _length(b)
    if denominator == 0:
        return 0.0
    return sum(a[term] * b[term] for term in set(a).intersection(b)) / denominator


def classify(centroids, text, min_score=0.0):
    """(label, score) of the centroid most similar to the text; a tie goes to the label that sorts first. The label
    is UNKNOWN when the best score is not above min_score."""
    bag = bag_of_words(text)
    best = sorted(centroids, key=lambda tag: (-cosine(bag, centroids[tag]), tag))[0]
    value = cosine(bag, centroids[best])
    return (best, value) if value > min_score else (UNKNOWN, value)


def leave_one_out(examples, min_score=0.0):
    """Accuracy when each example is classified by the centroids of all the other examples (UNKNOWN counts as
    wrong). ValueError with fewer than two examples."""
    if len(examples) < 2:
        raise ValueError(f"leave_one_out: got {len(examples)} example(s), two or more are required")
    bags = [bag_of_words(body) for _, body in examples]
    per_tag = Counter(tag for tag, _ in examples)
    sums = {}
    for (tag, _), bag in zip(examples, bags):
        _accumulate(sums.setdefault(tag, {}), bag)
    hits = 0
    # instead of refitting, take the held-out bag away from its own label's sum
    for (tag, body), bag in zip(examples, bags):
        centres = {}
        for name, summed in sums.items():
            if name != tag:
                centres[name] = _times(summed, 1.0 / per_tag[name])
            elif per_tag[tag] > 1:
                rest = dict(summed)
                _accumulate(rest, bag, -1.0)
                centres[tag] = _times(rest, 1.0 / (per_tag[tag] - 1))
        hits += classify(centres, body, min_score)[0] == tag
    return hits / len(examples)


def format_report(rows, accuracy=None):
    """A Markdown report of (text, label, score) rows: the line "# Predictions", a blank line, a table with the
    header "| text | label | score |" and its "| --- | --- | --- |" rule, one row per prediction (score with three
    decimals; a text over 60 characters cut to its first 57 and "..."; "|" in a text written as "\\|"), and, when
    accuracy is given, a blank line and "Leave-one-out accuracy: 0.750". Ends with a newline."""
    def clip(body):
        body = body if len(body) <= 60 else body[:57] + "..."
        return body.replace("|", "\\|")

    body_rows = ["| {} | {} | {:.3f} |".format(clip(body), tag, value) for body, tag, value in rows]
    tail = ["", "Leave-one-out accuracy: {:.3f}".format(accuracy)] if accuracy is not None else []
    heading = ["# Predictions", "", "| text | label | score |", "| --- | --- | --- |"]
    return "\n".join(heading + body_rows + tail) + "\n"


def build_parser():
    """The command line: a positional `input` (a Path), `--output PATH` (a Path; also write the report there) and
    `--min-score FLOAT` (default 0.0)."""
    cli = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cli.add_argument("input", metavar="INPUT_FILE", type=Path)
    cli.add_argument("--output", metavar="REPORT", type=Path, default=None)
    cli.add_argument("--min-score", metavar="SCORE", type=float, default=0.0)
    return cli


def main(argv=None):
    """Read the input, fit the centroids, classify every query and print the report (leave-one-out accuracy
    included when there are two examples or more); write it to --output too. A missing input file, or one without
    examples, ends through the parser's error (exit status 2) with a message that says what to fix. Returns 0."""
    cli = build_parser()
    settings = cli.parse_args(argv)
    try:
        shots, texts = read_input(settings.input)
    except FileNotFoundError:
        cli.error(f"{settings.input} does not exist (paths are relative to the repository root)")
    if not shots:
        cli.error("no labelled 'label<TAB>text' lines in the input; give the classifier a few examples")
    centres = fit_centroids(shots)
    table = [(body, *classify(centres, body, settings.min_score)) for body in texts]
    held_out = leave_one_out(shots, settings.min_score) if len(shots) >= 2 else None
    document = format_report(table, held_out)
    print(document, end="")
    if settings.output:
        settings.output.write_text(document, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
