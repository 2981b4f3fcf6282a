"""Reading a Jupyter notebook as the Python code a student wrote: code cells only, in order, magics stripped."""

from __future__ import annotations

import json

# Lines IPython handles itself: %line magics, %%cell magics, !shell escapes, `?help` lookups.
_IPYTHON_PREFIXES = ("%", "!", "?")


class NotebookError(ValueError):
    """The file is not a readable .ipynb notebook."""


def _cell_source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _strip_ipython(source: str) -> str:
    lines = source.splitlines()
    if lines and lines[0].lstrip().startswith("%%"):
        return ""  # a cell magic (%%bash, %%time ...) makes the whole cell something other than plain Python
    return "\n".join(line for line in lines if not line.lstrip().startswith(_IPYTHON_PREFIXES))


def notebook_code(raw: str) -> str:
    """The notebook's code cells joined in order, each followed by a blank line, with IPython-only lines removed."""
    try:
        document = json.loads(raw)
    except json.JSONDecodeError as error:
        raise NotebookError(f"not valid notebook JSON ({error.msg} at line {error.lineno})") from error
    cells = document.get("cells") if isinstance(document, dict) else None
    if not isinstance(cells, list):
        raise NotebookError("no list of cells in the notebook")
    code_cells = (
        _strip_ipython(_cell_source(cell))
        for cell in cells
        if isinstance(cell, dict) and cell.get("cell_type") == "code"
    )
    return "".join(f"{code.strip(chr(10))}\n\n" for code in code_cells if code.strip())
