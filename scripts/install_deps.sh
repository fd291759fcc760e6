#!/usr/bin/env bash
# Installs what Fathom needs to build and test: Debian packages and the Python test packages.
# Idempotent and non-interactive; skips apt when everything is already there.
set -euo pipefail
pkgs=(build-essential cmake pkg-config libboost-dev libboost-system-dev nlohmann-json3-dev libpcre2-dev
      libcli11-dev libspdlog-dev libfmt-dev libgtest-dev libgmock-dev libbenchmark-dev libopenmpi-dev openmpi-bin
      python3 python3-pip chromium curl
      libopenblas-dev libdnnl-dev)  # the last two only for bench/blas_compare_bench (docs/gemm_libraries.md)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
here=$(cd "$(dirname "$0")/.." && pwd)
python3 -m pip install -q -r "$here/tools/requirements-test.txt" 2>/dev/null ||
  python3 -m pip install -q --break-system-packages -r "$here/tools/requirements-test.txt"
