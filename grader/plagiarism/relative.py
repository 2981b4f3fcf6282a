"""Cohort-relative features: how far a pair stands out from what each side usually shares with its closest partners."""

from __future__ import annotations

from collections import defaultdict

import numpy as np


def relative_channels(
    pairs: list[tuple[int, int]],
    channels: list[dict[str, float]],
    partners: int,
    floor: float,
    not_partners: frozenset[int] = frozenset(),
) -> list[dict[str, float]]:
    """Per pair and channel: how far the pair lies above what each side shares with its other closest partners.

    Independent solutions that follow the same textbook recipe score high on every channel, but so does each of them
    with the others that follow it; a copy stands out from the copier's and the source's usual neighbours. Only the
    closest `partners` count, so an exhaustive cohort and a FAISS-candidate one (which scores about that many pairs
    per submission) are measured alike. The cost is linear in the scored pairs. A pair where a side has fewer than two
    other partners gets no relative features (too few to say what is usual; the calibration's fallback scores it).
    Neither does a pair with a side in not_partners: such a submission is nobody's partner.
    """
    counted = [first not in not_partners and second not in not_partners for first, second in pairs]
    by_submission: dict[int, list[int]] = defaultdict(list)
    for position, (first, second) in enumerate(pairs):
        if counted[position]:
            by_submission[first].append(position)
            by_submission[second].append(position)
    known = [
        counted[position] and min(len(by_submission[first]), len(by_submission[second])) > 2
        for position, (first, second) in enumerate(pairs)
    ]
    result: list[dict[str, float]] = [{} for _ in pairs]
    for name in channels[0] if channels else ():
        value = [entry[name] for entry in channels]
        # Each side's partners as one row; rows of one length are standardised together (numpy's per-row mean and std
        # are those of the row alone, so batching changes no bit, and a call per side was most of the scoring time).
        rows: dict[int, tuple[list[int], list[list[float]]]] = defaultdict(lambda: ([], []))
        for positions in by_submission.values():
            closest = sorted(positions, key=value.__getitem__, reverse=True)[: partners + 1]
            for position in positions:
                if known[position]:
                    others = [value[other] for other in closest if other != position][:partners]
                    rows[len(others)][0].append(position)
                    rows[len(others)][1].append(others)
        total = np.zeros(len(pairs))
        for owners, partner_values in rows.values():
            matrix = np.array(partner_values)
            standardised = (np.array(value)[owners] - matrix.mean(axis=1)) / np.maximum(matrix.std(axis=1), floor)
            np.add.at(total, owners, standardised)  # each known pair gets exactly two sides
        for position in np.flatnonzero(known):
            result[position][name] = float(total[position] / 2)
    return result
