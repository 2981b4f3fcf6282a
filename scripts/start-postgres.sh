#!/usr/bin/env bash
# Start Debian's PostgreSQL (as root) and create the test database the tests read from GRADER_TEST_POSTGRES_URL:
# postgresql+psycopg://grader:grader@127.0.0.1:5432/grader_test
set -euo pipefail
if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    apt-get -o DPkg::Lock::Timeout=600 install -y -qq postgresql >/dev/null
fi
version=$(ls /etc/postgresql | sort -V | tail -n 1)
pg_ctlcluster "$version" main start 2>/dev/null || true
for _ in $(seq 30); do pg_isready -h 127.0.0.1 -p 5432 >/dev/null 2>&1 && break; sleep 1; done
su postgres -c "psql -tAc \"SELECT 1 FROM pg_roles WHERE rolname='grader'\"" | grep -q 1 || \
    su postgres -c "psql -c \"CREATE ROLE grader LOGIN PASSWORD 'grader' CREATEDB\""
su postgres -c "psql -tAc \"SELECT 1 FROM pg_database WHERE datname='grader_test'\"" | grep -q 1 || \
    su postgres -c "psql -c \"CREATE DATABASE grader_test OWNER grader\""
pg_isready -h 127.0.0.1 -p 5432
