// Helpers shared by the tokenizer tests: reading gzip-compressed JSONL fixtures.
#pragma once
#include <zlib.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace fathom::testing {

inline std::string golden_dir() { return std::string(FATHOM_TEST_DATA) + "/golden/tokenizer"; }

// The lines of a (gzip-compressed) text file; empty if it cannot be read.
inline std::vector<std::string> read_gz_lines(const std::string& path) {
  std::vector<std::string> lines;
  gzFile f = gzopen(path.c_str(), "rb");
  if (f == nullptr) return lines;
  std::string data;
  char buf[1 << 16];
  int n;
  while ((n = gzread(f, buf, sizeof(buf))) > 0) data.append(buf, static_cast<size_t>(n));
  gzclose(f);
  size_t pos = 0;
  while (pos < data.size()) {
    size_t nl = data.find('\n', pos);
    if (nl == std::string::npos) nl = data.size();
    lines.push_back(data.substr(pos, nl - pos));
    pos = nl + 1;
  }
  return lines;
}

inline std::vector<nlohmann::json> read_gz_jsonl(const std::string& path) {
  std::vector<nlohmann::json> out;
  for (const auto& line : read_gz_lines(path)) out.push_back(nlohmann::json::parse(line));
  return out;
}

inline std::string from_hex(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

}  // namespace fathom::testing
