#include "tokenizer/decoder.h"

#include "tokenizer/byte_level.h"
#include "tokenizer/utf8.h"

namespace fathom {
namespace {

// Splits s into its UTF-8 characters.
std::vector<std::string_view> chars_of(std::string_view s) {
  std::vector<std::string_view> out;
  size_t pos = 0, len;
  char32_t cp;
  while (pos < s.size()) {
    utf8::next(s, pos, &len, &cp);
    out.push_back(s.substr(pos, len));
    pos += len;
  }
  return out;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

}  // namespace

Expected<Decoder> Decoder::from_json(const nlohmann::json& j, const std::string& where) {
  Decoder d;
  if (j.is_null()) {
    d.join_with_space_ = true;
    return d;
  }
  FATHOM_TRY(d.add_json(j, where));
  d.byte_level_ = d.steps_.size() == 1 && d.steps_[0].kind == Step::Kind::kByteLevel;
  return d;
}

Status Decoder::add_json(const nlohmann::json& j, const std::string& where) {
  if (!j.is_object() || !j.contains("type") || !j["type"].is_string()) {
    return Status::error(where + ": expected an object with a \"type\"");
  }
  const std::string type = j["type"].get<std::string>();
  Step step;
  if (type == "Sequence") {
    const auto& list = j.contains("decoders") ? j["decoders"] : nlohmann::json();
    if (!list.is_array()) return Status::error(where + ".decoders: expected an array");
    for (size_t i = 0; i < list.size(); ++i) {
      FATHOM_TRY(add_json(list[i], where + ".decoders[" + std::to_string(i) + "]"));
    }
    return Status::ok();
  }
  if (type == "ByteLevel") {
    step.kind = Step::Kind::kByteLevel;
  } else if (type == "Replace") {
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
  } else if (type == "ByteFallback") {
    step.kind = Step::Kind::kByteFallback;
  } else if (type == "Fuse") {
    step.kind = Step::Kind::kFuse;
  } else if (type == "Strip") {
    step.kind = Step::Kind::kStrip;
    step.content = j.value("content", std::string(" "));
    step.start = j.value("start", size_t{0});
    step.stop = j.value("stop", size_t{0});
  } else if (type == "Metaspace") {
    step.kind = Step::Kind::kMetaspace;
    step.content = j.value("replacement", std::string("\xE2\x96\x81"));
    if (j.contains("prepend_scheme") && j["prepend_scheme"].is_string()) {
      step.prepend = j["prepend_scheme"].get<std::string>() != "never";
    } else {
      step.prepend = j.value("add_prefix_space", true);
    }
  } else {
    return Status::error(where + ".type: decoder \"" + type + "\" is not supported");
  }
  steps_.push_back(std::move(step));
  return Status::ok();
}

void Decoder::piece_bytes(std::string_view piece, std::string& out) {
  if (!byte_level::decode_piece(piece, out)) out.append(piece);
}

std::string Decoder::decode(const std::vector<std::string_view>& pieces) const {
  std::string out;
  if (byte_level_) {
    std::string bytes;
    for (std::string_view p : pieces) piece_bytes(p, bytes);
    utf8::append_lossy(out, bytes);
    return out;
  }
  std::vector<std::string> tokens(pieces.begin(), pieces.end());
  for (const Step& step : steps_) run_step(step, tokens);
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (join_with_space_ && i > 0) out.push_back(' ');
    out += tokens[i];
  }
  return out;
}

void Decoder::run_step(const Step& step, std::vector<std::string>& tokens) const {
  std::vector<std::string> next;
  switch (step.kind) {
    case Step::Kind::kByteLevel: {
      std::string bytes;
      for (const auto& t : tokens) piece_bytes(t, bytes);
      next.push_back(utf8::lossy(bytes));
      break;
    }
    case Step::Kind::kReplace: {
      RegexScratch scratch;
      for (const auto& t : tokens) {
        std::string r;
        size_t prev = 0;
        step.regex.for_each_match(t, scratch, [&](size_t s, size_t e) {
          if (e == s) return;
          r.append(t, prev, s - prev);
          r += step.content;
          prev = e;
        });
        r.append(t, prev, std::string::npos);
        next.push_back(std::move(r));
      }
      break;
    }
    case Step::Kind::kByteFallback: {
      // Runs of "<0xAB>" tokens become their bytes if those form valid UTF-8, else one U+FFFD per byte.
      std::string run;
      size_t n_run = 0;
      auto flush = [&] {
        if (n_run == 0) return;
        if (utf8::is_valid(run)) {
          next.push_back(run);
        } else {
          for (size_t k = 0; k < n_run; ++k) next.emplace_back(utf8::kReplacement);
        }
        run.clear();
        n_run = 0;
      };
      for (const auto& t : tokens) {
        if (t.size() == 6 && t.compare(0, 3, "<0x") == 0 && t[5] == '>' && hex_digit(t[3]) >= 0 &&
            hex_digit(t[4]) >= 0) {
          run.push_back(static_cast<char>(hex_digit(t[3]) * 16 + hex_digit(t[4])));
          ++n_run;
        } else {
          flush();
          next.push_back(t);
        }
      }
      flush();
      break;
    }
    case Step::Kind::kFuse: {
      std::string all;
      for (const auto& t : tokens) all += t;
      next.push_back(std::move(all));
      break;
    }
    case Step::Kind::kStrip:
      for (const auto& t : tokens) {
        const auto chars = chars_of(t);
        size_t b = 0, e = chars.size();
        while (b < step.start && b < e && chars[b] == step.content) ++b;
        for (size_t k = 0; k < step.stop && e > b && chars[e - 1] == step.content; ++k) --e;
        std::string r;
        for (size_t k = b; k < e; ++k) r += chars[k];
        next.push_back(std::move(r));
      }
      break;
    case Step::Kind::kMetaspace:
      for (size_t i = 0; i < tokens.size(); ++i) {
        const auto chars = chars_of(tokens[i]);
        std::string r;
        for (size_t k = 0; k < chars.size(); ++k) {
          if (chars[k] != step.content) {
            r += chars[k];
          } else if (!(i == 0 && k == 0 && step.prepend)) {
            r.push_back(' ');
          }
        }
        next.push_back(std::move(r));
      }
      break;
  }
  tokens.swap(next);
}

}  // namespace fathom
