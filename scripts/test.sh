#!/usr/bin/env bash
# THE test command (README, .ci/run): bash scripts/test.sh [extra pytest args]
#   1. .venv (created if missing; `pip install -e '.[dev]'` only when pyproject.toml, setup.py or a C kernel changed)
#   2. system deps (Debian packages, Kafka jars) - no-op when present
#   3. real MariaDB + Kafka via scripts/services.sh up; stopped again on exit if this run started them
#   4. ruff (lint and format), mypy, lint-imports, then pytest -q -rs "$@"
# Every step runs; the exit code is the first failing step's. HRVIZ_FAIL_FAST=1 stops at the first failure.
# HRVIZ_KEEP_SERVICES=1 leaves the servers running afterwards. Works with CI=true and no stdin.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
exec </dev/null

step() { printf '\n=== %s\n' "$*" >&2; }
die() { printf 'test.sh: %s\n' "$*" >&2; exit 1; }
T0=$(date +%s)

# --- 1. venv --------------------------------------------------------------------------------------
PY=$ROOT/.venv/bin/python
if [ ! -x "$PY" ]; then
  step "creating .venv"
  python3 -m venv .venv || die "python3 -m venv failed"
fi
# pyproject.toml, setup.py and the C kernels (hrviz/**/_c*.c and their shared _c*.h): a change to any of them reinstalls (and rebuilds)
stamp=.venv/.hrviz-dev-$(cat pyproject.toml setup.py $(find hrviz -name '_c*.[ch]' | sort) | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ] || ! "$PY" -c 'import hrviz' 2>/dev/null; then
  step "pip install -e '.[dev]'"
  "$PY" -m pip install -q --disable-pip-version-check -e '.[dev]' || die "pip install failed"
  rm -f .venv/.hrviz-dev-*; touch "$stamp"
fi
export PATH=$ROOT/.venv/bin:$PATH

# --- 2./3. system deps and servers -----------------------------------------------------------------
bash scripts/install-system-deps.sh || die "install-system-deps failed"
SERVICES=$ROOT/scripts/services.sh
already_up=0
bash "$SERVICES" status >/dev/null 2>&1 && already_up=1
if [ "$already_up" = 0 ] && [ "${HRVIZ_KEEP_SERVICES:-0}" != 1 ]; then
  trap 'bash "$SERVICES" down' EXIT
fi
bash "$SERVICES" up >/dev/null || die "services did not start (logs under .services/)"
[ "$already_up" = 1 ] && echo "test.sh: servers were already running; leaving them running" >&2

MYSQL_PORT=${HRVIZ_MYSQL_PORT:-3306}
KAFKA_PORT=${HRVIZ_KAFKA_PORT:-9092}
export HRVIZ_TEST_MYSQL_URL=mysql://hrviz:hrviz-pw@127.0.0.1:$MYSQL_PORT/hrviz_test
export HRVIZ_TEST_KAFKA_BOOTSTRAP=127.0.0.1:$KAFKA_PORT
export HRVIZ_SERVICES=$SERVICES
export HRVIZ_REQUIRE_SERVICES=1
echo "test.sh: setup took $(( $(date +%s) - T0 )) s" >&2

# --- 4. checks ------------------------------------------------------------------------------------
first_rc=0
run() {
  local name=$1 rc; shift
  if [ "$first_rc" != 0 ] && [ "${HRVIZ_FAIL_FAST:-0}" = 1 ]; then return; fi
  step "$name"
  "$@"; rc=$?
  if [ $rc != 0 ]; then
    echo "test.sh: $name FAILED (exit $rc)" >&2
    [ "$first_rc" = 0 ] && first_rc=$rc
  fi
}
run "ruff check hrviz tests" ruff check hrviz tests
run "ruff format --check" ruff format --check hrviz tests bench setup.py
run "mypy" mypy
run "lint-imports" lint-imports
run "pytest -q -rs $*" pytest -q -rs "$@"

echo "test.sh: total $(( $(date +%s) - T0 )) s, exit $first_rc" >&2
exit "$first_rc"
