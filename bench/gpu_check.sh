#!/usr/bin/env bash
# The GPU check of issue #20, for a Docker host with an NVIDIA GPU and the NVIDIA Container Toolkit (README, "GPU
# hosts"): build the CUDA image, then time `grader check-references` per project on cuda and on cpu, on this host.
#
#   sudo bash bench/gpu_check.sh [p1 p2 ...]        # default: every assignment
#
# Prints one markdown table (project, cases passed, seconds on cuda, seconds on cpu) to paste into bench/RESULTS.md,
# and exits non-zero when a check failed. Logs: $GPU_CHECK_LOGS (default /tmp/gpu-check).
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1
grader=.venv/bin/grader
logs="${GPU_CHECK_LOGS:-/tmp/gpu-check}"
mkdir -p "$logs"
projects=("$@")
[[ ${#projects[@]} -gt 0 ]] || projects=(p1 p2 p3 p4 p5)

docker info --format '{{json .Runtimes}}' | grep -q nvidia \
    || { echo "gpu_check: docker lists no nvidia runtime (install the NVIDIA Container Toolkit first)" >&2; exit 2; }
nvidia-smi --query-gpu=index,name,memory.total --format=csv,noheader

started=$(date +%s)
"$grader" sandbox build --gpu | tee "$logs/build.log"
echo "CUDA image: $(( $(date +%s) - started )) s (build, or lookup when it existed)"

# One run per project and device; `--device cuda` stops at once, saying why, when a run could not get the GPU.
check() {  # project device -> "passed seconds"
    local begin status=0
    begin=$(date +%s)
    "$grader" check-references -a "$1" --device "$2" --sandbox docker >"$logs/$1-$2.log" 2>&1 || status=$?
    echo "$(grep -Eo '^[0-9]+ passed, [0-9]+ failed' "$logs/$1-$2.log" || echo "exit $status") $(( $(date +%s) - begin ))"
    return "$status"
}

failed=0
rows=()
for project in "${projects[@]}"; do
    cuda=$(check "$project" cuda) || failed=1
    cpu=$(check "$project" cpu) || failed=1
    rows+=("| $project | ${cuda% *} | ${cuda##* } | ${cpu% *} | ${cpu##* } |")
done

echo
echo "check-references per project on $(hostname), commit $(git rev-parse --short HEAD), $(date -u '+%Y-%m-%d %H:%M UTC')"
echo
echo "| project | cuda: cases | cuda: s | cpu: cases | cpu: s |"
echo "| --- | --- | --- | --- | --- |"
printf '%s\n' "${rows[@]}"
exit "$failed"
