#!/usr/bin/env bash
# `npm test`: installs what the tests need beyond npm (Debian's chromium for the browser tests, yamllint,
# Python grpcio and the acceptance harness's Go tools; PostgreSQL comes from the embedded-postgres npm
# package), type-checks, then runs every test against real servers.
set -euo pipefail
cd "$(dirname "$0")/.."

[ -d vendor/flyteidl2 ] && [ -d vendor/flyteidl ] && [ -d src/gen ] || npm run generate
[ -f dist/cli/main.js ] || npm run build
bash web-client/scripts/ensure-chromium.sh
# Debian packages, quietly, as root only; the package index is refreshed once, on first need.
apt_updated=
apt_install() {
  [ "$(id -u)" -eq 0 ] || return 1
  if [ -z "$apt_updated" ]; then apt-get update -qq >/dev/null 2>&1 || return 1; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null 2>&1
}
# yamllint checks deploy/ beside our own linter (test/ops/deploy.test.ts).
if ! command -v yamllint >/dev/null 2>&1; then
  apt_install yamllint || echo "yamllint could not be installed; its check will be skipped" >&2
fi
# The executor-kind clients of test/interop/: Debian's Python grpcio (always /usr/bin/python3, never a pyenv
# python3 on PATH), and the acceptance harness's grpc-go executor-sim and loadgen, which its build.sh builds
# once per machine from Debian's Go packages when the harness sits beside the repo (../shared/harness in a
# Flyte checkout, or $FLYTE_HARNESS_DIR). What cannot be installed makes those tests skip and say why.
if ! /usr/bin/python3 -c 'import grpc, google.protobuf' >/dev/null 2>&1; then
  apt_install python3-grpcio python3-protobuf ||
    echo "python3-grpcio could not be installed; the Python grpcio interop tests will be skipped" >&2
fi
harness=${FLYTE_HARNESS_DIR:-../shared/harness}
if [ -d "$harness" ]; then
  harness_built=
  for bin in ${HARNESS_BIN:-} "$harness/bin" "${XDG_CACHE_HOME:-$HOME/.cache}/flyte-harness/bin"; do
    if [ -x "$bin/executor-sim" ] && [ -x "$bin/loadgen" ]; then harness_built=1; break; fi
  done
  if [ -z "$harness_built" ]; then
    mkdir -p .tmp
    bash "$harness/build.sh" >.tmp/harness-build.log 2>&1 ||
      echo "the acceptance harness did not build (see .tmp/harness-build.log); the executor-sim interop tests will be skipped" >&2
  fi
fi

# Python grpcio is a client in test/storage/echo-large.test.ts (Debian's python3-grpcio, run as /usr/bin/python3).
if ! /usr/bin/python3 -c "import grpc" >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ]; then
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-grpcio >/dev/null; } ||
    echo "python3-grpcio could not be installed; the Python client test will fail" >&2
fi

npm run typecheck
npm run lint

mkdir -p .tmp
status=0
npx jest --ci --json --outputFile=.tmp/jest-results.json "$@" || status=$?
# One plain closing line that any CI reader understands.
node -e '
  const r = require("./.tmp/jest-results.json");
  console.log(`jest: ${r.numPassedTests} passed, ${r.numFailedTests} failed` + (r.numPendingTests ? `, ${r.numPendingTests} skipped` : ""));
' || true
exit "$status"
