#!/usr/bin/env sh
# `make bench`: generate (or reuse) the 100k-customer SQLite and PostgreSQL benchmark databases and load-test both.
# Extra arguments go to `python -m bench` (e.g. --customers 20000 --only sqlite --duration 10 --regenerate).
set -eu
cd "$(dirname "$0")/.."
exec "${PYTHON:-.venv/bin/python}" -m bench "$@"
