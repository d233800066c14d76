#!/usr/bin/env bash
# Bootstraps .venv, then runs the whole test suite. Extra arguments go to pytest.
#
# The enhancer tests (marker "enhance") need spandrel, which imports torchvision, and PyPI has no
# torchvision for the CPU torch of .venv. They run in a second venv, .venv-enhance (a torch with a
# torchvision, the "enhance" extra), built in the background while the main suite runs, so they are
# run, never skipped. LATENTSYNC_TEST_ENHANCE=0 leaves that venv out: the enhancer tests then run in
# .venv and are skipped there with the reason.
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

reports="$(mktemp -d)"
trap 'rm -rf "$reports"' EXIT
ENHANCE_VENV="$LS_ROOT/.venv-enhance"
with_enhance="${LATENTSYNC_TEST_ENHANCE:-1}"
if [ "$with_enhance" != 0 ]; then
  echo "[test.sh] building $ENHANCE_VENV in the background (log: $reports/enhance-bootstrap.log)" >&2
  (
    export LATENTSYNC_VENV="$ENHANCE_VENV" LATENTSYNC_EXTRAS=enhance,dev
    LATENTSYNC_TORCH_SPEC="$(ls_enhance_torch_spec)"
    export LATENTSYNC_TORCH_SPEC
    source "$LS_ROOT/scripts/bootstrap.sh"
    started=$SECONDS
    ls_bootstrap
    echo "[test.sh] $ENHANCE_VENV ready after $((SECONDS - started)) s"
  ) >"$reports/enhance-bootstrap.log" 2>&1 &
  enhance_boot=$!
  split=main
else
  split=all
fi

set +e
LATENTSYNC_TEST_SPLIT="$split" "$LS_VENV/bin/python" -m pytest --junitxml="$reports/main.xml" "$@"
rc=$?
if [ "$with_enhance" != 0 ]; then
  wait "$enhance_boot"
  boot_rc=$?
  echo "[test.sh] ---- enhancer tests in $ENHANCE_VENV ----" >&2
  tail -n 1 "$reports/enhance-bootstrap.log" >&2
  if [ "$boot_rc" != 0 ]; then
    cat "$reports/enhance-bootstrap.log" >&2
    echo "[test.sh] could not build $ENHANCE_VENV: the enhancer tests did not run: failing" >&2
    enhance_rc=1
  else
    LATENTSYNC_TEST_SPLIT=enhance "$ENHANCE_VENV/bin/python" -m pytest --junitxml="$reports/enhance.xml" "$@"
    enhance_rc=$?
  fi
  # 5 is "no test collected" for one part: fine while the other part ran tests.
  if [ "$rc" = 5 ] && [ "$enhance_rc" != 5 ]; then rc=$enhance_rc
  elif [ "$rc" != 5 ] && [ "$enhance_rc" != 5 ] && [ "$enhance_rc" != 0 ] && [ "$rc" = 0 ]; then rc=$enhance_rc
  fi
fi
set -e
"$LS_VENV/bin/python" "$LS_ROOT/scripts/test_totals.py" "$reports"/*.xml || true
if [ "$rc" = 5 ]; then
  echo "[test.sh] pytest collected no tests: failing" >&2
  exit 1
fi
exit "$rc"
