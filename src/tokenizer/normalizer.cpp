#include "tokenizer/normalizer.h"

#include "tokenizer/unicode_tables.h"
#include "tokenizer/utf8.h"

namespace fathom {

Expected<Normalizer> Normalizer::from_json(const nlohmann::json& j, const std::string& where) {
  Normalizer n;
  if (!j.is_null()) FATHOM_TRY(n.add_json(j, where));
  return n;
}

Status Normalizer::add_json(const nlohmann::json& j, const std::string& where) {
  if (!j.is_object() || !j.contains("type") || !j["type"].is_string()) {
    return Status::error(where + ": expected an object with a \"type\"");
  }
  const std::string type = j["type"].get<std::string>();
  Step step;
  if (type == "Sequence") {
    const auto& list = j.contains("normalizers") ? j["normalizers"] : nlohmann::json();
    if (!list.is_array()) return Status::error(where + ".normalizers: expected an array");
    for (size_t i = 0; i < list.size(); ++i) {
      FATHOM_TRY(add_json(list[i], where + ".normalizers[" + std::to_string(i) + "]"));
    }
    return Status::ok();
  }
  if (type == "Replace") {
    const auto& pattern = j.contains("pattern") ? j["pattern"] : nlohmann::json();
    Expected<Regex> re = Status::error(where + ".pattern: expected {\"Regex\": ...} or {\"String\": ...}");
    if (pattern.contains("Regex") && pattern["Regex"].is_string()) {
      re = Regex::compile(pattern["Regex"].get<std::string>());
    } else if (pattern.contains("String") && pattern["String"].is_string()) {
      re = Regex::literal(pattern["String"].get<std::string>());
    }
    if (!re) return Status::error(where + ".pattern: " + re.error());
    if (!j.contains("content") || !j["content"].is_string()) {
      return Status::error(where + ".content: expected a string");
    }
    step.kind = Step::Kind::kReplace;
    step.regex = std::move(*re);
    step.content = j["content"].get<std::string>();
  } else if (type == "Prepend") {
    if (!j.contains("prepend") || !j["prepend"].is_string()) {
      return Status::error(where + ".prepend: expected a string");
    }
    step.kind = Step::Kind::kPrepend;
    step.content = j["prepend"].get<std::string>();
  } else if (type == "Strip") {
    step.kind = Step::Kind::kStrip;
    step.left = j.value("strip_left", false);
    step.right = j.value("strip_right", false);
  } else if (type == "Lowercase") {
    step.kind = Step::Kind::kLowercase;
  } else if (type == "NFC") {
    step.kind = Step::Kind::kNfc;
  } else if (type == "NFKC") {
    step.kind = Step::Kind::kNfkc;
  } else if (type == "NFD") {
    step.kind = Step::Kind::kNfd;
  } else if (type == "NFKD") {
    step.kind = Step::Kind::kNfkd;
  } else {
    return Status::error(where + ".type: normalizer \"" + type + "\" is not supported");
  }
  steps_.push_back(std::move(step));
  return Status::ok();
}

void Normalizer::apply(std::string_view in, std::string& out, RegexScratch& scratch, bool* starts_at_origin) const {
  std::string cur(in), next;
  bool at_origin = true;
  for (const Step& step : steps_) {
    next.clear();
    switch (step.kind) {
      case Step::Kind::kReplace: {
        size_t prev = 0;
        step.regex.for_each_match(cur, scratch, [&](size_t s, size_t e) {
          if (e == s) return;
          if (s == 0 && step.content.empty()) at_origin = false;
          next.append(cur, prev, s - prev);
          next.append(step.content);
          prev = e;
        });
        next.append(cur, prev, std::string::npos);
        break;
      }
      case Step::Kind::kPrepend:
        if (!cur.empty()) next = step.content;
        next += cur;
        break;
      case Step::Kind::kStrip: {
        size_t b = 0, e = cur.size();
        size_t len;
        char32_t cp;
        while (step.left && b < e && utf8::next(cur, b, &len, &cp) == utf8::Step::kValid &&
               utf8::is_white_space(cp)) {
          b += len;
        }
        while (step.right && e > b) {
          const size_t c = utf8::previous_char_start(cur, e);
          if (utf8::next(cur, c, &len, &cp) != utf8::Step::kValid || !utf8::is_white_space(cp)) break;
          e = c;
        }
        if (b > 0) at_origin = false;
        next.assign(cur, b, e - b);
        break;
      }
      case Step::Kind::kLowercase:
        unicode::lowercase(cur, next);
        break;
      case Step::Kind::kNfc:
        unicode::normalize(cur, /*compat=*/false, /*compose=*/true, next);
        break;
      case Step::Kind::kNfkc:
        unicode::normalize(cur, /*compat=*/true, /*compose=*/true, next);
        break;
      case Step::Kind::kNfd:
        unicode::normalize(cur, /*compat=*/false, /*compose=*/false, next);
        break;
      case Step::Kind::kNfkd:
        unicode::normalize(cur, /*compat=*/true, /*compose=*/false, next);
        break;
    }
    cur.swap(next);
  }
  out = std::move(cur);
  if (starts_at_origin != nullptr) *starts_at_origin = at_origin;
}

}  // namespace fathom
