#!/usr/bin/env bash
# The main job on a fresh machine: install, build, create the embedded default model (tiny preset, random
# weights, the real DeepSeek-V3 tokenizer) on first use, and generate from it.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/scripts/install_deps.sh"
"$here/scripts/build.sh"
"$here/build/fathom" model inspect
"$here/build/fathom" generate --prompt "The capital of France is" --max-tokens 32 --seed 0
