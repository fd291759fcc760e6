// Start-up agreement across ranks: every rank must load the same model configuration.
#pragma once
#include <string>

#include "core/status.h"
#include "dist/comm.h"

namespace fathom {

// Collective. Hashes the file's bytes on each rank and compares; the error names the first rank that differs
// from rank 0 (or that could not read the file).
Status check_same_config(Comm& comm, const std::string& config_path);

}  // namespace fathom
