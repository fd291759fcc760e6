#include "tokenizer/pretokenizer.h"

#include <algorithm>

#include "core/check.h"

namespace fathom {
namespace {

using Part = PreTokenizerScratch::Part;

// GPT-2's pattern, used by ByteLevel when use_regex is true.
constexpr std::string_view kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

Expected<SplitBehavior> parse_behavior(const nlohmann::json& j, const std::string& where) {
  if (!j.is_string()) return Status::error(where + ".behavior: expected a string");
  const std::string b = j.get<std::string>();
  if (b == "Removed") return SplitBehavior::kRemoved;
  if (b == "Isolated") return SplitBehavior::kIsolated;
  if (b == "MergedWithPrevious") return SplitBehavior::kMergedWithPrevious;
  if (b == "MergedWithNext") return SplitBehavior::kMergedWithNext;
  if (b == "Contiguous") return SplitBehavior::kContiguous;
  return Status::error(where + ".behavior: unknown split behaviour \"" + b + "\"");
}

bool json_bool(const nlohmann::json& j, const char* key, bool fallback) {
  auto it = j.find(key);
  return it != j.end() && it->is_boolean() ? it->get<bool>() : fallback;
}

// Applies a split behaviour to the matches and gaps of a piece (the `tokenizers` library's rules); `keep` is
// false for parts the Removed behaviour drops.
void apply_behavior(SplitBehavior behavior, const std::vector<Part>& parts, std::vector<Part>& out) {
  out.clear();
  bool previous_match = false;
  switch (behavior) {
    case SplitBehavior::kRemoved:
      for (const Part& p : parts) {
        if (!p.is_match) out.push_back(p);
      }
      return;
    case SplitBehavior::kIsolated:
      out = parts;
      return;
    case SplitBehavior::kMergedWithPrevious:
      for (const Part& p : parts) {
        if (p.is_match && !previous_match && !out.empty()) {
          out.back().end = p.end;
        } else {
          out.push_back(p);
        }
        previous_match = p.is_match;
      }
      return;
    case SplitBehavior::kMergedWithNext:
      for (size_t k = parts.size(); k-- > 0;) {
        const Part& p = parts[k];
        if (p.is_match && !previous_match && !out.empty()) {
          out.back().start = p.start;
        } else {
          out.push_back(p);
        }
        previous_match = p.is_match;
      }
      std::reverse(out.begin(), out.end());
      return;
    case SplitBehavior::kContiguous:
      for (const Part& p : parts) {
        if (p.is_match == previous_match && !out.empty()) {
          out.back().end = p.end;
        } else {
          out.push_back(p);
        }
        previous_match = p.is_match;
      }
      return;
  }
}

}  // namespace

Expected<PreTokenizer> PreTokenizer::from_json(const nlohmann::json& j, const std::string& where) {
  PreTokenizer pt;
  if (!j.is_null()) FATHOM_TRY(pt.add_json(j, where));
  for (size_t i = 0; i < pt.steps_.size(); ++i) {
    if (pt.steps_[i].kind == PreTokenizerStep::Kind::kByteLevel) {
      if (i + 1 != pt.steps_.size()) {
        return Status::error(where + ": a ByteLevel pre-tokenizer is supported only as the last step");
      }
      pt.byte_level_ = true;
    }
  }
  return pt;
}

Status PreTokenizer::add_json(const nlohmann::json& j, const std::string& where) {
  if (!j.is_object() || !j.contains("type") || !j["type"].is_string()) {
    return Status::error(where + ": expected an object with a \"type\"");
  }
  const std::string type = j["type"].get<std::string>();
  PreTokenizerStep step;
  if (type == "Sequence") {
    const auto& list = j.contains("pretokenizers") ? j["pretokenizers"] : nlohmann::json();
    if (!list.is_array()) return Status::error(where + ".pretokenizers: expected an array");
    for (size_t i = 0; i < list.size(); ++i) {
      FATHOM_TRY(add_json(list[i], where + ".pretokenizers[" + std::to_string(i) + "]"));
    }
    return Status::ok();
  }
  if (type == "Split") {
    const auto& pattern = j.contains("pattern") ? j["pattern"] : nlohmann::json();
    Expected<Regex> re = Status::error("");
    if (pattern.contains("Regex") && pattern["Regex"].is_string()) {
      re = Regex::compile(pattern["Regex"].get<std::string>());
    } else if (pattern.contains("String") && pattern["String"].is_string()) {
      re = Regex::literal(pattern["String"].get<std::string>());
    } else {
      return Status::error(where + ".pattern: expected {\"Regex\": ...} or {\"String\": ...}");
    }
    if (!re) return Status::error(where + ".pattern: " + re.error());
    auto behavior = parse_behavior(j.contains("behavior") ? j["behavior"] : nlohmann::json(), where);
    if (!behavior) return behavior.status();
    step.regex = std::move(*re);
    step.behavior = *behavior;
    step.invert = json_bool(j, "invert", false);
  } else if (type == "Digits") {
    auto re = Regex::compile(json_bool(j, "individual_digits", false) ? R"(\p{N})" : R"(\p{N}+)");
    FATHOM_CHECK(re.has_value());
    step.regex = std::move(*re);
  } else if (type == "Whitespace") {
    auto re = Regex::compile(R"(\w+|[^\w\s]+)");
    FATHOM_CHECK(re.has_value());
    step.regex = std::move(*re);
    step.behavior = SplitBehavior::kRemoved;
    step.invert = true;
  } else if (type == "WhitespaceSplit") {
    auto re = Regex::compile(R"(\s)");
    FATHOM_CHECK(re.has_value());
    step.regex = std::move(*re);
    step.behavior = SplitBehavior::kRemoved;
  } else if (type == "ByteLevel") {
    step.kind = PreTokenizerStep::Kind::kByteLevel;
    step.add_prefix_space = json_bool(j, "add_prefix_space", true);
    if (json_bool(j, "use_regex", true)) {
      auto re = Regex::compile(kGpt2Pattern);
      FATHOM_CHECK(re.has_value());
      step.regex = std::move(*re);
    }
  } else if (type == "Metaspace") {
    step.kind = PreTokenizerStep::Kind::kMetaspace;
    step.replacement = j.contains("replacement") && j["replacement"].is_string()
                           ? j["replacement"].get<std::string>()
                           : std::string("\xE2\x96\x81");
    if (j.contains("prepend_scheme") && j["prepend_scheme"].is_string()) {
      const std::string s = j["prepend_scheme"].get<std::string>();
      if (s == "always") {
        step.prepend_scheme = PrependScheme::kAlways;
      } else if (s == "first") {
        step.prepend_scheme = PrependScheme::kFirst;
      } else if (s == "never") {
        step.prepend_scheme = PrependScheme::kNever;
      } else {
        return Status::error(where + ".prepend_scheme: unknown value \"" + s + "\"");
      }
    } else {
      step.prepend_scheme = json_bool(j, "add_prefix_space", true) ? PrependScheme::kAlways : PrependScheme::kNever;
    }
    step.split = json_bool(j, "split", true);
    auto re = Regex::literal(step.replacement);
    if (!re) return Status::error(where + ".replacement: " + re.error());
    step.regex = std::move(*re);
    step.behavior = SplitBehavior::kMergedWithNext;
  } else {
    return Status::error(where + ".type: pre-tokenizer \"" + type + "\" is not supported");
  }
  steps_.push_back(std::move(step));
  return Status::ok();
}

void PreTokenizer::run(std::string_view text, bool at_start, PreTokenizerScratch& scratch,
                       FunctionRef<void(std::string_view)> sink) const {
  if (scratch.parts.size() < steps_.size()) {
    scratch.parts.resize(steps_.size());
    scratch.pieces.resize(steps_.size());
  }
  run_step(0, text, at_start, scratch, sink);
}

void PreTokenizer::run_step(size_t i_step, std::string_view piece, bool first, PreTokenizerScratch& scratch,
                            FunctionRef<void(std::string_view)> sink) const {
  if (piece.empty()) return;
  if (i_step == steps_.size()) {
    sink(piece);
    return;
  }
  const PreTokenizerStep& step = steps_[i_step];
  switch (step.kind) {
    case PreTokenizerStep::Kind::kSplit:
      split_step(i_step, piece, first, scratch, sink);
      return;
    case PreTokenizerStep::Kind::kByteLevel: {
      std::string prefixed;
      if (step.add_prefix_space && piece.front() != ' ') {
        prefixed.reserve(piece.size() + 1);
        prefixed.push_back(' ');
        prefixed.append(piece);
        piece = prefixed;
      }
      if (step.regex.valid()) {
        split_step(i_step, piece, first, scratch, sink);
      } else {
        run_step(i_step + 1, piece, first, scratch, sink);
      }
      return;
    }
    case PreTokenizerStep::Kind::kMetaspace: {
      std::string replaced;
      const std::string_view rep = step.replacement;
      const bool prepend = step.prepend_scheme == PrependScheme::kAlways ||
                           (step.prepend_scheme == PrependScheme::kFirst && first);
      if (prepend && piece.substr(0, rep.size()) != rep && !(piece.front() == ' ')) replaced.append(rep);
      for (char c : piece) {
        if (c == ' ') {
          replaced.append(rep);
        } else {
          replaced.push_back(c);
        }
      }
      if (step.split) {
        split_step(i_step, replaced, first, scratch, sink);
      } else {
        run_step(i_step + 1, replaced, first, scratch, sink);
      }
      return;
    }
  }
}

void PreTokenizer::split_step(size_t i_step, std::string_view piece, bool first, PreTokenizerScratch& scratch,
                              FunctionRef<void(std::string_view)> sink) const {
  const PreTokenizerStep& step = steps_[i_step];
  std::vector<Part>& parts = scratch.parts[i_step];
  parts.clear();
  size_t prev = 0;
  step.regex.for_each_match(piece, scratch.regex, [&](size_t start, size_t end) {
    if (prev != start) parts.push_back({prev, start, false});
    parts.push_back({start, end, true});
    prev = end;
  });
  if (prev != piece.size()) parts.push_back({prev, piece.size(), false});
  if (step.invert) {
    for (Part& p : parts) p.is_match = !p.is_match;
  }
  std::vector<Part>& pieces = scratch.pieces[i_step];
  apply_behavior(step.behavior, parts, pieces);
  // run_step may reuse deeper scratch only, so iterating `pieces` by index stays valid.
  for (size_t k = 0; k < pieces.size(); ++k) {
    const Part p = pieces[k];
    run_step(i_step + 1, piece.substr(p.start, p.end - p.start), first && p.start == 0, scratch, sink);
  }
}

}  // namespace fathom
