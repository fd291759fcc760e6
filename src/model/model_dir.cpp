#include "model/model_dir.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <vector>

namespace fathom {

namespace fs = std::filesystem;

Expected<std::string> assets_dir() {
  std::vector<fs::path> candidates;
  if (const char* e = std::getenv("FATHOM_ASSETS")) candidates.emplace_back(e);
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    candidates.push_back(exe.parent_path() / "assets");
    candidates.push_back(exe.parent_path().parent_path() / "assets");
    candidates.push_back(exe.parent_path().parent_path() / "share" / "fathom" / "assets");
  }
  candidates.emplace_back(std::string(FATHOM_SOURCE_DIR) + "/assets");
  for (const auto& c : candidates)
    if (fs::exists(c / "tokenizer.json", ec)) return c.string();
  return Status::error("cannot find Fathom's assets/ folder (tokenizer.json); set FATHOM_ASSETS");
}

}  // namespace fathom
