#!/usr/bin/env bash
# Make sure a Docker engine answers on this machine: install docker.io if dockerd is missing, start dockerd if
# `docker info` fails, then wait for it. Idempotent: a running engine is left alone.
#
# Env: DOCKERD_LOG (default /var/log/dockerd.log), DOCKERD_WAIT_S (default 60), DOCKERD_EXTRA_ARGS (passed to dockerd).
set -euo pipefail

log_file="${DOCKERD_LOG:-/var/log/dockerd.log}"
wait_s="${DOCKERD_WAIT_S:-60}"

say() { echo "start-dockerd: $*" >&2; }

engine_answers() { docker info >/dev/null 2>&1; }

if command -v docker >/dev/null 2>&1 && engine_answers; then
    say "engine already running"
    exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
    say "no engine answers and starting one needs root (run: sudo $0)"
    exit 1
fi

if ! command -v dockerd >/dev/null 2>&1; then
    say "dockerd missing: installing Debian's docker.io"
    export DEBIAN_FRONTEND=noninteractive
    # A fresh image has no package lists; an old list can name versions the mirror no longer has.
    # Other jobs may be installing packages too: wait for the dpkg lock instead of failing at once.
    apt-get -o DPkg::Lock::Timeout=600 update -qq
    apt-get -o DPkg::Lock::Timeout=600 install -y -qq docker.io >/dev/null
fi

if ! pgrep -x dockerd >/dev/null 2>&1; then
    say "starting dockerd (log: $log_file)"
    mkdir -p "$(dirname "$log_file")"
    # setsid: dockerd outlives this script and the shell that ran it.
    # shellcheck disable=SC2086  # DOCKERD_EXTRA_ARGS is a list of flags
    setsid dockerd ${DOCKERD_EXTRA_ARGS:-} >>"$log_file" 2>&1 < /dev/null &
fi

for ((waited = 0; waited < wait_s; waited++)); do
    if engine_answers; then
        say "engine up after ${waited}s: $(docker version --format 'server {{.Server.Version}}' 2>/dev/null)"
        exit 0
    fi
    sleep 1
done

say "engine did not answer within ${wait_s}s; last lines of $log_file:"
tail -n 30 "$log_file" >&2 || true
exit 1
