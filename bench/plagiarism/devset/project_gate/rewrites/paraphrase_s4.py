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


def _classify_line(where, raw):
    """None for a skipped line, else (True, (label, text)) for an example or (False, text) for a query."""
    raw = raw.strip()
    if raw == "" or raw[0] == "#":
        return None
    if "\t" not in raw:
        return False, raw
    tag, _, body = raw.partition("\t")
    tag, body = tag.strip(), body.strip()
    if tag == "" or body == "":
        raise ValueError(f"line {where}: this example lacks its label or its text (expected 'label<TAB>text')")
    return True, (tag, body)


def _inner(left, right):
    return sum(value * right.get(term, 0.0) for term, value in left.items())


def read_input(path):
    """(examples, queries) from the file at path, in file order: examples as (label, text) pairs, queries as texts,
    all stripped of surrounding whitespace. A tab line whose label or text is empty is a ValueError that names the
    line number (counting from 1)."""
    shots, texts = [], []
    with open(path, encoding="utf-8") as stream:
        for where, raw in enumerate(stream, start=1):
            outcome = _classify_line(where, raw)
            if outcome is None:
                continue
            is_example, value = outcome
            (shots if is_example else texts).append(value)
    return shots, texts


def tokenize(text):
    """Lowercase words (maximal runs of letters and digits), without STOPWORDS, in order."""
    # the pieces between separators; the ends of the split can be empty
    return [piece for piece in re.split(r"[^a-z0-9]+", text.lower()) if piece != "" and piece not in STOPWORDS]


def bag_of_words(text):
    """The counts of tokenize(text), scaled to unit Euclidean length, as a dict; {} for a text without tokens."""
    tally = Counter(tokenize(text))
    if len(tally) == 0:
        return {}
    norm = math.hypot(*tally.values())
    return dict((term, n / norm) for term, n in tally.items())


def fit_centroids(examples):
    """{label: centroid} where a centroid is the mean of the bag_of_words of the label's example texts (a dict that
    leaves out zero entries). ValueError when there are no examples."""
    if not examples:
        raise ValueError("fit_centroids: an empty example list has no centroids")
    bags_by_tag = {}
    for tag, body in examples:
        bags_by_tag.setdefault(tag, []).append(bag_of_words(body))
    centres = {}
    for tag, bags in bags_by_tag.items():
        vocabulary = set()
        for bag in bags:
            vocabulary.update(bag)
        averaged = {term: sum(bag.get(term, 0.0) for bag in bags) / len(bags) for term in vocabulary}
        centres[tag] = {term: value for term, value in averaged.items() if value}
    return centres


def cosine(a, b):
    """Cosine similarity of two sparse vectors (dicts word -> weight); 0.0 when either has zero length."""
    scale = math.sqrt(_inner(a, a)) * math.sqrt(_inner(b, b))
    if scale:
        return _inner(a, b) / scale
    return 0.0


def classify(centroids, text, min_score=0.0):
    """(label, score) of the centroid most similar to the text; a tie goes to the label that sorts first. The label
    is UNKNOWN when the best score is not above min_score."""
    bag = bag_of_words(text)
    candidates = ((tag, cosine(bag, centre)) for tag, centre in centroids.items())
    tag, value = min(candidates, key=lambda item: (-item[1], item[0]))
    if value > min_score:
        return tag, value
    return UNKNOWN, value


def leave_one_out(examples, min_score=0.0):
    """Accuracy when each example is classified by the centroids of all the other examples (UNKNOWN counts as
    wrong). ValueError with fewer than two examples."""
    if len(examples) < 2:
        raise ValueError("leave_one_out: hold-one-out needs two examples or more")
    verdicts = []
    for left_out in range(len(examples)):
        tag, body = examples[left_out]
        centres = fit_centroids(examples[:left_out] + examples[left_out + 1:])
        verdicts.append(classify(centres, body, min_score)[0] == tag)
    return sum(verdicts) / len(verdicts)


def format_report(rows, accuracy=None):
    """A Markdown report of (text, label, score) rows: the line "# Predictions", a blank line, a table with the
    header "| text | label | score |" and its "| --- | --- | --- |" rule, one row per prediction (score with three
    decimals; a text over 60 characters cut to its first 57 and "..."; "|" in a text written as "\\|"), and, when
    accuracy is given, a blank line and "Leave-one-out accuracy: 0.750". Ends with a newline."""
    def clipped(body):
        return body if len(body) <= 60 else body[:57] + "..."

    out = ["# Predictions", "", "| text | label | score |", "| --- | --- | --- |"]
    out += ["| %s | %s | %.3f |" % (clipped(body).replace("|", "\\|"), tag, value) for body, tag, value in rows]
    if accuracy is not None:
        out += ["", "Leave-one-out accuracy: %.3f" % accuracy]
    return "\n".join(out) + "\n"


def build_parser():
    """The command line: a positional `input` (a Path), `--output PATH` (a Path; also write the report there) and
    `--min-score FLOAT` (default 0.0)."""
    cli = argparse.ArgumentParser(prog="fewshot", description="Classify each line of a text file by its closest centroid.")
    cli.add_argument("input", type=Path, help="one labelled example ('label<TAB>text') or one text per line")
    cli.add_argument("--output", type=Path, help="Markdown file that gets the report too")
    cli.add_argument("--min-score", type=float, default=0.0, help="minimum similarity for a label (0.0 by default)")
    return cli


def main(argv=None):
    """Read the input, fit the centroids, classify every query and print the report (leave-one-out accuracy
    included when there are two examples or more); write it to --output too. A missing input file, or one without
    examples, ends through the parser's error (exit status 2) with a message that says what to fix. Returns 0."""
    cli = build_parser()
    opts = cli.parse_args(argv)
    if not opts.input.is_file():
        cli.error(f"{opts.input} is not a file; give the input file, for instance examples/input.txt")
    shots, texts = read_input(opts.input)
    if not shots:
        cli.error(f"no labelled examples in {opts.input}; add some 'label<TAB>text' lines")
    centres = fit_centroids(shots)
    table = [(body,) + tuple(classify(centres, body, opts.min_score)) for body in texts]
    held_out = None if len(shots) < 2 else leave_one_out(shots, opts.min_score)
    document = format_report(table, held_out)
    sys.stdout.write(document)
    if opts.output is not None:
        opts.output.write_text(document, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
