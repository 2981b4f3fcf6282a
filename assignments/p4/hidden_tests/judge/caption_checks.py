"""p4's hidden checks of the captioner: the caption grammar and exact-caption accuracy on the hidden images, with the
device the probe chose and with load_captioner()'s default."""

import re

from transcript import EXPECTED

from grader.judge import Failed, ProbeData, check

CAPTION_ACCURACY_THRESHOLD = 0.85  # the reference scores 1.00 on these images; see bench/RESULTS.md
CAPTION_GRAMMAR = re.compile(r"^(1 \w+ \w+|[23] \w+ \w+s) on the (left|right)$")


@check("caption_grammar")
def caption_grammar(probe: ProbeData) -> None:
    captions = probe.step("captioner").value("captions")
    assert type(captions) is list and len(captions) == len(EXPECTED["captions"]), "captions"
    malformed = [caption for caption in captions if not (type(caption) is str and CAPTION_GRAMMAR.match(caption))]
    if malformed:
        raise Failed(
            f"{len(malformed)} captions do not follow '<count> <colour> <shape>[s] on the <side>'"
            + (" (caption must return a str)" if any(type(caption) is not str for caption in malformed) else "")
        )


def assert_accurate(captions: list) -> None:
    assert type(captions) is list and len(captions) == len(EXPECTED["captions"]), "captions"
    correct = sum(type(got) is str and got.strip() == want for got, want in zip(captions, EXPECTED["captions"]))
    accuracy = correct / len(EXPECTED["captions"])
    assert accuracy >= CAPTION_ACCURACY_THRESHOLD, (
        f"exact-caption accuracy {accuracy:.3f} < {CAPTION_ACCURACY_THRESHOLD}"
    )


@check("caption_accuracy")
def caption_accuracy(probe: ProbeData) -> None:
    assert_accurate(probe.step("captioner").value("captions"))


@check("default_device_captions")
def default_device_captions(probe: ProbeData) -> None:
    """load_captioner() with its default device ('auto': CUDA if present, else the CPU) on whatever this run got."""
    assert_accurate(probe.step("default_device").value("captions"))
