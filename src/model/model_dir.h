// Resolving the MODEL argument: an HF-format directory, or (empty) the embedded default model — the `tiny`
// preset created deterministically on first use under $FATHOM_HOME (default ~/.cache/fathom).
#pragma once
#include <string>

#include "core/status.h"

namespace fathom {

// The folder holding tokenizer.json and tokenizer_config.json shipped with Fathom (assets/).
Expected<std::string> assets_dir();
// MODEL as given, or the default model's folder (created if missing). Errors name the folder.
Expected<std::string> resolve_model_dir(const std::string& arg);

}  // namespace fathom
