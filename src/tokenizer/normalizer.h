// Normalizers of tokenizer.json applied to text between added tokens: Sequence, Replace (String or Regex), Prepend,
// Strip, Lowercase, NFC, NFKC, NFD, NFKD. Unicode data for the last five comes from unicode_tables.cpp.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "tokenizer/regex.h"

namespace fathom {

class Normalizer {
 public:
  // `j` is tokenizer.json's "normalizer" (null allowed); errors name the field under `where`.
  static Expected<Normalizer> from_json(const nlohmann::json& j, const std::string& where);

  bool empty() const { return steps_.empty(); }
  // out = normalize(in). *starts_at_origin (optional) tells whether out's first character still comes from in's
  // first one (false once Strip or an empty Replace removed leading text): Metaspace's prepend_scheme "first"
  // checks that, as `tokenizers` checks the original offset 0.
  void apply(std::string_view in, std::string& out, RegexScratch& scratch, bool* starts_at_origin = nullptr) const;

 private:
  struct Step {
    enum class Kind { kReplace, kPrepend, kStrip, kLowercase, kNfc, kNfkc, kNfd, kNfkd } kind;
    Regex regex;          // kReplace
    std::string content;  // kReplace: replacement; kPrepend: prefix
    bool left = false, right = false;  // kStrip
  };
  Status add_json(const nlohmann::json& j, const std::string& where);
  std::vector<Step> steps_;
};

}  // namespace fathom
