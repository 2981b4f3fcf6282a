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
    examples = []
    queries = []
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    for lineno, raw in enumerate(lines, 1):
        s = raw.strip()
        if s == "" or s[0] == "#":
            continue
        if "\t" not in s:
            queries.append(s)
            continue
        parts = s.split("\t", 1)
        label = parts[0].strip()
        text = parts[1].strip()
        if label == "" or text == "":
            raise ValueError("line %d: expected 'label<TAB>text' with both parts non-empty" % lineno)
        examples.append((label, text))
    return examples, queries


def tokenize(text):
    """Lowercase words (maximal runs of letters and digits), without STOPWORDS, in order."""
    words = re.findall(r"[a-z0-9]+", text.lower())
    return [w for w in words if w not in STOPWORDS]


def bag_of_words(text):
    """The counts of tokenize(text), scaled to unit Euclidean length, as a dict; {} for a text without tokens."""
    tf = Counter(tokenize(text))
    length = math.sqrt(sum(n ** 2 for n in tf.values()))
    return {w: n / length for w, n in tf.items()} if length > 0 else {}


def fit_centroids(examples):
    """{label: centroid} where a centroid is the mean of the bag_of_words of the label's example texts (a dict that
    leaves out zero entries). ValueError when there are no examples."""
    if len(examples) == 0:
        raise ValueError("fit_centroids: empty list of examples")
    by_label = {}
    for label, text in examples:
        by_label.setdefault(label, []).append(bag_of_words(text))
    centroids = {}
    for label, vectors in by_label.items():
        total = Counter()
        for v in vectors:
            for w, x in v.items():
                total[w] += x
        centroids[label] = {w: x / len(vectors) for w, x in total.items() if x != 0}
    return centroids


def cosine(a, b):
    """Cosine similarity of two sparse vectors (dicts word -> weight); 0.0 when either has zero length."""
    na = math.sqrt(sum(x * x for x in a.values()))
    nb = math.sqrt(sum(x * x for x in b.values()))
    if na == 0.0 or nb == 0.0:
        return 0.0
    if len(b) < len(a):
        a, b = b, a
    return sum(x * b.get(w, 0.0) for w, x in a.items()) / (na * nb)


def classify(centroids, text, min_score=0.0):
    """(label, score) of the centroid most similar to the text; a tie goes to the label that sorts first. The label
    is UNKNOWN when the best score is not above min_score."""
    vec = bag_of_words(text)
    scores = [(cosine(vec, centroids[label]), label) for label in sorted(centroids)]
    best_score, best_label = max(scores, key=lambda pair: pair[0])
    if best_score <= min_score:
        return UNKNOWN, best_score
    return best_label, best_score


def leave_one_out(examples, min_score=0.0):
    """Accuracy when each example is classified by the centroids of all the other examples (UNKNOWN counts as
    wrong). ValueError with fewer than two examples."""
    n = len(examples)
    if n < 2:
        raise ValueError("leave_one_out: need two or more examples")
    hits = 0
    for i in range(n):
        rest = [examples[j] for j in range(n) if j != i]
        label, _ = classify(fit_centroids(rest), examples[i][1], min_score=min_score)
        hits += label == examples[i][0]
    return hits / n


def format_report(rows, accuracy=None):
    """A Markdown report of (text, label, score) rows: the line "# Predictions", a blank line, a table with the
    header "| text | label | score |" and its "| --- | --- | --- |" rule, one row per prediction (score with three
    decimals; a text over 60 characters cut to its first 57 and "..."; "|" in a text written as "\\|"), and, when
    accuracy is given, a blank line and "Leave-one-out accuracy: 0.750". Ends with a newline."""
    out = "# Predictions\n\n| text | label | score |\n| --- | --- | --- |\n"
    for text, label, score in rows:
        shown = text if len(text) <= 60 else text[:57] + "..."
        out += "| %s | %s | %.3f |\n" % (shown.replace("|", "\\|"), label, score)
    if accuracy is not None:
        out += "\nLeave-one-out accuracy: %.3f\n" % accuracy
    return out


def build_parser():
    """The command line: a positional `input` (a Path), `--output PATH` (a Path; also write the report there) and
    `--min-score FLOAT` (default 0.0)."""
    p = argparse.ArgumentParser(description="Classify texts by their nearest labelled centroid.")
    p.add_argument("input", type=Path)
    p.add_argument("--output", type=Path, help="write the Markdown report to this file as well")
    p.add_argument("--min-score", type=float, default=0.0, dest="min_score")
    return p


def main(argv=None):
    """Read the input, fit the centroids, classify every query and print the report (leave-one-out accuracy
    included when there are two examples or more); write it to --output too. A missing input file, or one without
    examples, ends through the parser's error (exit status 2) with a message that says what to fix. Returns 0."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.input.exists():
        parser.error("cannot find %s; give the path of your input file" % args.input)
    examples, queries = read_input(args.input)
    if len(examples) == 0:
        parser.error("no examples in %s; add at least one line 'label<TAB>text'" % args.input)
    centroids = fit_centroids(examples)
    results = [(q,) + classify(centroids, q, args.min_score) for q in queries]
    acc = None
    if len(examples) > 1:
        acc = leave_one_out(examples, args.min_score)
    report = format_report(results, acc)
    sys.stdout.write(report)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
