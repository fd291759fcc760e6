#include "tokenizer/jinja/json_dump.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "tokenizer/jinja/error.h"
#include "tokenizer/jinja/utf8.h"

namespace fathom::jinja {
namespace {

void dump_string(const std::string& s, bool ensure_ascii, std::string* out) {
  out->push_back('"');
  char buf[16];
  for (size_t pos = 0; pos < s.size();) {
    const char32_t cp = utf8_next(s, &pos);
    switch (cp) {
      case '"': *out += "\\\""; break;
      case '\\': *out += "\\\\"; break;
      case '\n': *out += "\\n"; break;
      case '\r': *out += "\\r"; break;
      case '\t': *out += "\\t"; break;
      case '\b': *out += "\\b"; break;
      case '\f': *out += "\\f"; break;
      default:
        if (cp < 0x20 || (ensure_ascii && cp > 0x7E)) {
          if (cp >= 0x10000) {
            const char32_t v = cp - 0x10000;
            std::snprintf(buf, sizeof(buf), "\\u%04x\\u%04x", static_cast<unsigned>(0xD800 | (v >> 10)),
                          static_cast<unsigned>(0xDC00 | (v & 0x3FF)));
          } else {
            std::snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned>(cp));
          }
          *out += buf;
        } else {
          utf8_append(out, cp);
        }
    }
  }
  out->push_back('"');
}

std::string float_json(double f) {
  if (std::isnan(f)) return "NaN";
  if (std::isinf(f)) return f > 0 ? "Infinity" : "-Infinity";
  return float_repr(f);
}

std::string key_string(const Value& k, int line) {
  switch (k.kind()) {
    case Value::Kind::kString: return k.as_string();
    case Value::Kind::kBool: return k.as_bool() ? "true" : "false";
    case Value::Kind::kInt: return std::to_string(k.as_int());
    case Value::Kind::kFloat: return float_json(k.as_float());
    case Value::Kind::kNone: return "null";
    default: fail(line, "tojson: keys must be str, int, float, bool or None, not " + type_name(k));
  }
}

void dump(const Value& v, const JsonDumpOptions& o, int level, int line, std::string* out) {
  auto newline = [&](int lvl) {
    out->push_back('\n');
    for (int i = 0; i < lvl; ++i) *out += o.indent;
  };
  switch (v.kind()) {
    case Value::Kind::kNone: *out += "null"; return;
    case Value::Kind::kBool: *out += v.as_bool() ? "true" : "false"; return;
    case Value::Kind::kInt: *out += std::to_string(v.as_int()); return;
    case Value::Kind::kFloat: *out += float_json(v.as_float()); return;
    case Value::Kind::kString: dump_string(v.as_string(), o.ensure_ascii, out); return;
    case Value::Kind::kList: {
      const List& items = v.as_list();
      if (items.empty()) {
        *out += "[]";
        return;
      }
      out->push_back('[');
      for (size_t i = 0; i < items.size(); ++i) {
        if (i) *out += o.item_separator;
        if (o.has_indent) newline(level + 1);
        dump(items[i], o, level + 1, line, out);
      }
      if (o.has_indent) newline(level);
      out->push_back(']');
      return;
    }
    case Value::Kind::kDict: {
      const Dict& items = v.as_dict();
      if (items.empty()) {
        *out += "{}";
        return;
      }
      std::vector<std::pair<std::string, const Value*>> entries;
      for (const auto& [k, val] : items) entries.emplace_back(key_string(k, line), &val);
      if (o.sort_keys) {
        for (const auto& [k, val] : items) {
          if (!k.is_string()) fail(line, "tojson: sort_keys needs string keys");
        }
        std::stable_sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
      }
      out->push_back('{');
      for (size_t i = 0; i < entries.size(); ++i) {
        if (i) *out += o.item_separator;
        if (o.has_indent) newline(level + 1);
        dump_string(entries[i].first, o.ensure_ascii, out);
        *out += o.key_separator;
        dump(*entries[i].second, o, level + 1, line, out);
      }
      if (o.has_indent) newline(level);
      out->push_back('}');
      return;
    }
    default: fail(line, "tojson: Object of type " + type_name(v) + " is not JSON serializable");
  }
}

}  // namespace

std::string json_dumps(const Value& v, const JsonDumpOptions& options, int line) {
  std::string out;
  dump(v, options, 0, line, &out);
  return out;
}

}  // namespace fathom::jinja
