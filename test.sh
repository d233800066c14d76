#!/usr/bin/env bash
# Bootstraps .venv, then runs the whole test suite. Extra arguments go to pytest.
set -euo pipefail
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/scripts/bootstrap.sh"
ls_bootstrap
cd "$LS_ROOT"
# The browser tests drive Debian's Chromium; install it when we may.
if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "[test.sh] installing chromium for the browser tests" >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
    || echo "[test.sh] could not install chromium" >&2
fi
set +e
"$LS_VENV/bin/python" -m pytest "$@"
rc=$?
set -e
if [ "$rc" = 5 ]; then
  echo "[test.sh] pytest collected no tests: failing" >&2
  exit 1
fi
exit "$rc"
