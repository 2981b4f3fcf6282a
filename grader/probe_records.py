"""Reading a run's records within caps: JSON with the standard library, numeric arrays with ``allow_pickle=False``.

What a sandboxed run emitted is hostile data. Every cap below is far above what an honest probe emits; a record or
arrays file beyond one raises `Unreadable`, whose message says why in words the student may read.
"""

from __future__ import annotations

import io
import json
import math
import re
import zipfile
from dataclasses import dataclass
from typing import Any

import numpy as np

MB = 1024 * 1024

# What reading one run's records may cost the grader.
MAX_RECORD_BYTES = 8 * MB  # one step's JSON: the probe's longest string (1M characters) fits even fully escaped
MAX_JSON_DEPTH = 64  # the probe nests values at most 21 deep; json's recursive parser is safe far below 1000
MAX_INT_DIGITS = 4300  # int() of a long digit string is quadratic; Python's json.dumps writes no longer ones
MAX_RUN_JSON_BYTES = 32 * MB  # all records of a run, so their number cannot multiply the per-record cap
MAX_RUN_JSON_TOKENS = 1_000_000  # brackets and commas over all records: a parsed item costs up to ~100 bytes
MAX_NPZ_BYTES = 64 * MB  # one arrays file as received: above the runner's 48 MB cap on a whole run's output
MAX_NPZ_MEMBERS = 256  # zipfile parses every member up front; a step emits a handful of arrays
MAX_ARRAY_ELEMENTS = 50_000_000  # the probe's own cap on one array
MAX_RUN_ARRAY_BYTES = 128 * MB  # arrays read over a whole run: np.savez stores them, so honest runs stay under 48 MB
MAX_COMPRESSION_RATIO = 100  # for members above 1 MB: float data hardly compresses, a zip bomb expands ~1000x
ARRAY_KINDS = "biuf"  # bool, int, uint, float: what the probe emits; never objects (pickle) or structured records


class Unreadable(ValueError):
    """A record or arrays file refused by the caps; str() is a short reason safe to show the student."""


@dataclass
class ReadBudget:
    """What one run's remaining records may still cost to read."""

    json_bytes: int = MAX_RUN_JSON_BYTES
    json_tokens: int = MAX_RUN_JSON_TOKENS
    array_bytes: int = MAX_RUN_ARRAY_BYTES


# A JSON string, or an unterminated one up to the end: possessive and always matching, so the scan stays linear.
_JSON_STRING = re.compile(rb'"[^"\\]*+(?:\\.?[^"\\]*+)*+(?:"|\Z)', re.DOTALL)
_NOT_STRUCTURE = bytes(sorted(set(range(256)) - set(b"[]{},")))
_OPENING, _CLOSING = np.frombuffer(b"[{", np.uint8), np.frombuffer(b"]}", np.uint8)


def read_json(content: bytes, budget: ReadBudget | None = None) -> Any:
    """Parse one JSON record from a run within the caps above (a fresh budget when none is given), or raise
    `Unreadable`. Size, item count and nesting are measured on the bytes first, so parsing itself stays bounded."""
    budget = ReadBudget() if budget is None else budget
    if len(content) > MAX_RECORD_BYTES:
        raise Unreadable(f"the record is larger than {MAX_RECORD_BYTES // MB} MB")
    if len(content) > budget.json_bytes:
        raise Unreadable(f"the run produced more than {MAX_RUN_JSON_BYTES // MB} MB of records")
    structure = _JSON_STRING.sub(b"", content).translate(None, _NOT_STRUCTURE)
    if len(structure) > budget.json_tokens:
        raise Unreadable(f"the run's records hold more than {MAX_RUN_JSON_TOKENS} items")
    codes = np.frombuffer(structure, dtype=np.uint8)
    moves = np.isin(codes, _OPENING).astype(np.int64) - np.isin(codes, _CLOSING)
    if int(moves.cumsum().max(initial=0)) > MAX_JSON_DEPTH:
        raise Unreadable(f"the record is nested deeper than {MAX_JSON_DEPTH} levels")
    budget.json_bytes -= len(content)
    budget.json_tokens -= len(structure)
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as error:
        raise Unreadable(f"the record is not UTF-8 text (byte {error.start})") from None
    try:
        return json.loads(text, parse_int=_bounded_int)
    except json.JSONDecodeError as error:
        raise Unreadable(f"the record is not valid JSON ({error.msg} at character {error.pos})") from None


def _bounded_int(digits: str) -> int:
    if len(digits) > MAX_INT_DIGITS:
        raise Unreadable(f"a number in the record has more than {MAX_INT_DIGITS} digits")
    return int(digits)


def read_arrays(content: bytes | None, names: list[str], budget: ReadBudget) -> dict[str, np.ndarray]:
    if content is None:
        raise Unreadable("its arrays file is missing")
    if len(content) > MAX_NPZ_BYTES:
        raise Unreadable(f"its arrays file is larger than {MAX_NPZ_BYTES // MB} MB")
    # Every member zipfile will parse has a central-directory entry opening with this signature: counting them first
    # bounds what merely opening the archive costs.
    if content.count(b"PK\x01\x02") > MAX_NPZ_MEMBERS:
        raise Unreadable(f"its arrays file holds more than {MAX_NPZ_MEMBERS} arrays")
    arrays: dict[str, np.ndarray] = {}
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        for name in names:
            try:
                info = archive.getinfo(f"{name}.npy")
            except KeyError:
                continue  # declared but not written: the check that needs it fails on the missing array
            arrays[name] = _read_array(archive, info, name, budget)
    return arrays


def _read_array(archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, budget: ReadBudget) -> np.ndarray:
    """One member, checked from the central directory and the array header before any data is expanded."""
    if info.flag_bits & 0x1 or info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise Unreadable(f"array '{name}' is encrypted or compressed in an unexpected way")
    if info.file_size > budget.array_bytes:
        raise Unreadable(f"the run produced more array data than the grader reads ({MAX_RUN_ARRAY_BYTES // MB} MB)")
    if info.file_size > MB and info.file_size > MAX_COMPRESSION_RATIO * info.compress_size:
        raise Unreadable(f"array '{name}' expands more than {MAX_COMPRESSION_RATIO}x (a zip bomb)")
    with archive.open(info) as member:
        version = np.lib.format.read_magic(member)
        if version not in ((1, 0), (2, 0)):
            raise Unreadable(f"array '{name}' is in an unexpected format")
        read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, _, dtype = read_header(member)
        if dtype.kind not in ARRAY_KINDS:
            raise Unreadable(f"array '{name}' has dtype {str(dtype)[:40]}; only bool, int and float arrays are read")
        count = math.prod(shape)
        if count > MAX_ARRAY_ELEMENTS:
            raise Unreadable(f"array '{name}' is too large ({count} elements)")
        if info.file_size != member.tell() + count * dtype.itemsize:
            raise Unreadable(f"array '{name}' holds a different number of bytes than its shape needs")
    budget.array_bytes -= info.file_size
    with archive.open(info) as member:
        array = np.lib.format.read_array(member, allow_pickle=False)
    array.setflags(write=False)  # checks share the arrays: none may change what the next one (or a late one) sees
    return array
