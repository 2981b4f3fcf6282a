#!/usr/bin/env bash
# Build the grading sandbox image without any container registry: a Debian 12 root filesystem from Debian's mirror
# (debootstrap), a venv filled offline from a host-side wheelhouse, then `docker import`.
#
#   sudo sandbox/build.sh --tag grader-sandbox:<hash> --cache-dir ~/.cache/grader-sandbox [--python /path/to/python3]
#
# grader.sandbox.image.ensure_image calls this with the tag derived from this folder's contents.
# --python: the interpreter whose pip fills the wheelhouse (its pip config decides where wheels come from).
# Env: DEBIAN_MIRROR (default http://deb.debian.org/debian).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
tag=""
cache_dir=""
python="python3"

usage() { echo "usage: $0 --tag NAME:TAG --cache-dir DIR [--python PYTHON]" >&2; exit 2; }
step() { echo "==> $*"; }
die() { echo "build.sh: $*" >&2; exit 1; }

while [[ $# -gt 0 ]]; do
    case "$1" in
        --tag) tag="${2:?}"; shift 2 ;;
        --cache-dir) cache_dir="${2:?}"; shift 2 ;;
        --python) python="${2:?}"; shift 2 ;;
        *) usage ;;
    esac
done
[[ -n "$tag" && -n "$cache_dir" ]] || usage
[[ $(id -u) -eq 0 ]] || die "debootstrap and chroot need root (run: sudo $0 ...)"
docker info >/dev/null 2>&1 || die "no Docker engine answers (start one: sandbox/start-dockerd.sh)"

mkdir -p "$cache_dir"
cache_dir="$(cd "$cache_dir" && pwd)"
wheelhouse="$cache_dir/wheelhouse"
rootfs="$(mktemp -d "$cache_dir/rootfs.XXXXXX")"
trap 'rm -rf --one-file-system "$rootfs"' EXIT

if ! command -v debootstrap >/dev/null 2>&1; then
    step "installing debootstrap"
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o DPkg::Lock::Timeout=600 update -qq
    apt-get -o DPkg::Lock::Timeout=600 install -y -qq debootstrap >/dev/null
fi

step "wheelhouse: pip download into $wheelhouse"
# pip picks wheels for the interpreter that runs it, so that one must match the image's: CPython 3.11 on x86_64.
"$python" -c 'import platform, sys; sys.exit(sys.version_info[:2] != (3, 11) or platform.machine() != "x86_64")' \
    || die "--python $python is not CPython 3.11 on x86_64 (the image's interpreter)"
# -qq: errors only; this host's pip config names index folders that lack most projects and pip warns for each.
"$python" -m pip download -qq --disable-pip-version-check --only-binary=:all: \
    -r "$here/requirements.txt" -d "$wheelhouse"

step "rootfs: debootstrap bookworm (minbase + python3, python3-venv) from $mirror"
mkdir -p "$cache_dir/debs"
debootstrap --variant=minbase --include=python3,python3-venv --cache-dir="$cache_dir/debs" \
    bookworm "$rootfs" "$mirror" >"$cache_dir/debootstrap.log" 2>&1 \
    || { tail -n 30 "$cache_dir/debootstrap.log" >&2; die "debootstrap failed (full log: $cache_dir/debootstrap.log)"; }

step "venv: /opt/venv, packages installed offline from the wheelhouse"
chroot "$rootfs" python3 -m venv /opt/venv
mkdir -p "$rootfs/tmp/wheelhouse"
cp "$wheelhouse"/*.whl "$rootfs/tmp/wheelhouse/"
cp "$here/requirements.txt" "$rootfs/tmp/requirements.txt"
chroot "$rootfs" /opt/venv/bin/pip install --quiet --no-cache-dir --disable-pip-version-check \
    --no-index --find-links /tmp/wheelhouse -r /tmp/requirements.txt

step "sandbox user and file modes"
# Debian's base-passwd ships nobody:nogroup as 65534:65534; the sandbox runs as that uid.
[[ "$(chroot "$rootfs" getent passwd 65534 | cut -d: -f1)" == "nobody" ]] || die "uid 65534 (nobody) missing in rootfs"
mkdir -p "$rootfs/work"
# The container runs with a read-only root filesystem as uid 65534: everything readable, nothing writable by it.
chmod -R a+rX,go-w "$rootfs/opt/venv" "$rootfs/work"

step "trimming: wheelhouse, apt caches and lists, docs"
rm -rf "$rootfs/tmp/wheelhouse" "$rootfs/tmp/requirements.txt" \
    "$rootfs"/var/cache/apt/* "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/log/* \
    "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* \
    "$rootfs"/root/.cache
chmod 1777 "$rootfs/tmp"

step "docker import as $tag"
# HOME=/tmp: uid 65534's home (/nonexistent) does not exist; matplotlib and jupyter keep their state under HOME,
# and /tmp is the run's writable tmpfs.
tar -C "$rootfs" --numeric-owner -c . | docker import \
    --change 'ENV PATH=/opt/venv/bin:/usr/local/bin:/usr/bin:/bin' \
    --change 'ENV HF_HUB_OFFLINE=1' \
    --change 'ENV TRANSFORMERS_OFFLINE=1' \
    --change 'ENV PYTHONDONTWRITEBYTECODE=1' \
    --change 'ENV HOME=/tmp' \
    --change 'USER 65534:65534' \
    --change 'WORKDIR /work' \
    - "$tag" >/dev/null

step "done: $tag ($(docker image inspect --format '{{.Size}}' "$tag" | awk '{printf "%.0f MB", $1 / 1e6}'))"
