#!/usr/bin/env bash
# Create .venv and install grader with its test tools. Idempotent: skipped when pyproject.toml has not changed.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
if [[ ! -x .venv/bin/python ]]; then
    echo "setup: creating .venv"
    "$python" -m venv .venv
fi
stamp=.venv/.grader-installed
want=$(sha256sum pyproject.toml | cut -c1-16)
if [[ -f $stamp && $(cat "$stamp") == "$want" ]]; then
    exit 0
fi
echo "setup: installing grader and its dependencies into .venv (first run: a few minutes)"
.venv/bin/python -m pip install -q --upgrade pip
# The CPU build of torch first: an unpinned torch would pull a CUDA build of several GB.
.venv/bin/python -m pip install -q "torch==2.13.0"
.venv/bin/python -m pip install -q -e ".[all]"
echo "$want" > "$stamp"
