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
    labelled, unlabelled = [], []
    content = Path(path).read_text(encoding="utf-8")
    for number, line in enumerate(content.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if "\t" in line:
            head, tail = line.split("\t", 1)
            head, tail = head.strip(), tail.strip()
            if not head or not tail:
                raise ValueError("line %d: a labelled line must read 'label<TAB>text', both non-empty" % number)
            labelled.append((head, tail))
        else:
            unlabelled.append(line)
    return labelled, unlabelled


def tokenize(text):
    """Lowercase words (maximal runs of letters and digits), without STOPWORDS, in order."""
    kept = []
    for term in re.findall(r"[a-z0-9]+", text.lower()):
        if term not in STOPWORDS:
            kept.append(term)
    return kept


def bag_of_words(text):
    """The counts of tokenize(text), scaled to unit Euclidean length, as a dict; {} for a text without tokens."""
    freq = Counter(tokenize(text))
    size = math.sqrt(sum(k ** 2 for k in freq.values()))
    if size <= 0:
        return {}
    return {term: k / size for term, k in freq.items()}


def fit_centroids(examples):
    """{label: centroid} where a centroid is the mean of the bag_of_words of the label's example texts (a dict that
    leaves out zero entries). ValueError when there are no examples."""
    if not examples:
        raise ValueError("fit_centroids: no examples were given")
    members = {}
    for head, tail in examples:
        members.setdefault(head, []).append(bag_of_words(tail))
    means = {}
    for head, bags in members.items():
        summed = Counter()
        for bag in bags:
            for term, weight in bag.items():
                summed[term] += weight
        means[head] = {term: weight / len(bags) for term, weight in summed.items() if weight != 0}
    return means


def cosine(a, b):
    """Cosine similarity of two sparse vectors (dicts word -> weight); 0.0 when either has zero length."""
    len_a = math.sqrt(sum(w * w for w in a.values()))
    len_b = math.sqrt(sum(w * w for w in b.values()))
    if 0.0 in (len_a, len_b):
        return 0.0
    shorter, longer = (b, a) if len(b) < len(a) else (a, b)
    return sum(w * longer.get(term, 0.0) for term, w in shorter.items()) / (len_a * len_b)


def classify(centroids, text, min_score=0.0):
    """(label, score) of the centroid most similar to the text; a tie goes to the label that sorts first. The label
    is UNKNOWN when the best score is not above min_score."""
    bag = bag_of_words(text)
    ranking = [(cosine(bag, centroids[head]), head) for head in sorted(centroids)]
    top_score, top_head = max(ranking, key=lambda entry: entry[0])
    if top_score > min_score:
        return top_head, top_score
    return UNKNOWN, top_score


def leave_one_out(examples, min_score=0.0):
    """Accuracy when each example is classified by the centroids of all the other examples (UNKNOWN counts as
    wrong). ValueError with fewer than two examples."""
    total = len(examples)
    if total < 2:
        raise ValueError("leave_one_out: fewer than two examples")
    correct = 0
    for k in range(total):
        others = examples[:k] + examples[k + 1:]
        guess, _ = classify(fit_centroids(others), examples[k][1], min_score=min_score)
        if guess == examples[k][0]:
            correct += 1
    return correct / total


def format_report(rows, accuracy=None):
    """A Markdown report of (text, label, score) rows: the line "# Predictions", a blank line, a table with the
    header "| text | label | score |" and its "| --- | --- | --- |" rule, one row per prediction (score with three
    decimals; a text over 60 characters cut to its first 57 and "..."; "|" in a text written as "\\|"), and, when
    accuracy is given, a blank line and "Leave-one-out accuracy: 0.750". Ends with a newline."""
    parts = ["# Predictions\n\n", "| text | label | score |\n", "| --- | --- | --- |\n"]
    for tail, head, value in rows:
        if len(tail) > 60:
            tail = tail[:57] + "..."
        parts.append("| %s | %s | %.3f |\n" % (tail.replace("|", "\\|"), head, value))
    if accuracy is not None:
        parts.append("\nLeave-one-out accuracy: %.3f\n" % accuracy)
    return "".join(parts)


def build_parser():
    """The command line: a positional `input` (a Path), `--output PATH` (a Path; also write the report there) and
    `--min-score FLOAT` (default 0.0)."""
    ap = argparse.ArgumentParser(description="Give each text the label of its closest centroid.")
    ap.add_argument("input", type=Path)
    ap.add_argument("--output", type=Path, help="save the Markdown report here too")
    ap.add_argument("--min-score", dest="min_score", type=float, default=0.0)
    return ap


def main(argv=None):
    """Read the input, fit the centroids, classify every query and print the report (leave-one-out accuracy
    included when there are two examples or more); write it to --output too. A missing input file, or one without
    examples, ends through the parser's error (exit status 2) with a message that says what to fix. Returns 0."""
    ap = build_parser()
    opts = ap.parse_args(argv)
    if not opts.input.exists():
        ap.error("%s was not found; pass the path of the input file" % opts.input)
    labelled, unlabelled = read_input(opts.input)
    if not labelled:
        ap.error("%s has no labelled lines; add some 'label<TAB>text' lines" % opts.input)
    means = fit_centroids(labelled)
    lines = []
    for item in unlabelled:
        head, value = classify(means, item, opts.min_score)
        lines.append((item, head, value))
    score = leave_one_out(labelled, opts.min_score) if len(labelled) >= 2 else None
    text = format_report(lines, score)
    sys.stdout.write(text)
    if opts.output:
        with open(opts.output, "w", encoding="utf-8") as sink:
            sink.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
