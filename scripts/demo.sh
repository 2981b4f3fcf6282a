#!/usr/bin/env bash
# The main job on the embedded default: set up .venv, then grade the project-1 reference solution and a partly
# broken sample and print both reports. Uses the Docker sandbox when an engine answers (building its image the first
# time), else the weaker local sandbox, and says which.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HF_HUB_OFFLINE=1
exec .venv/bin/grader demo "$@"
