#include "model/model_dir.h"

#include "model/presets.h"

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

namespace fathom {

Expected<std::string> resolve_model_dir(const std::string& arg) {
  std::error_code ec;
  if (!arg.empty()) {
    if (!fs::is_directory(arg, ec)) return Status::error(arg + ": not a model folder");
    if (!fs::exists(fs::path(arg) / "config.json", ec)) return Status::error(arg + ": no config.json in the model folder");
    return arg;
  }
  std::string home;
  if (const char* e = std::getenv("FATHOM_HOME")) home = e;
  else if (const char* h = std::getenv("HOME")) home = std::string(h) + "/.cache/fathom";
  else home = "/tmp/fathom";
  const fs::path dir = fs::path(home) / "default-tiny";
  if (fs::exists(dir / "config.json", ec)) return dir.string();
  // Create under a private name, then rename: concurrent first uses never see a half-written model.
  fs::create_directories(home, ec);
  if (ec) return Status::error(home + ": cannot create FATHOM_HOME: " + ec.message());
  const fs::path tmp = fs::path(home) / ("default-tiny.tmp." + std::to_string(getpid()));
  fs::remove_all(tmp, ec);
  CreateOptions opt;
  opt.preset = "tiny";
  opt.out_dir = tmp.string();
  Status st = create_model(opt);
  if (!st) {
    fs::remove_all(tmp, ec);
    return st;
  }
  fs::rename(tmp, dir, ec);
  if (ec) fs::remove_all(tmp, ec);  // another process won the race; its copy is identical
  if (!fs::exists(dir / "config.json", ec)) return Status::error(dir.string() + ": cannot create the default model");
  return dir.string();
}

}  // namespace fathom
