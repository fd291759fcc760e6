#!/usr/bin/env bash
# All tests on a fresh machine: install dependencies, build, run unit/golden tests (ctest) and integration tests (pytest).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/scripts/install_deps.sh"
"$here/scripts/build.sh"
(cd "$here/build" && ctest --output-on-failure -j2 --timeout 900)
if compgen -G "$here/tests/integration/test_*.py" >/dev/null; then
  FATHOM_BIN="$here/build/fathom" python3 -m pytest -q "$here/tests/integration"
fi
