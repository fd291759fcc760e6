// Python methods of str, dict and list that chat templates call (`content.split('</think>')[-1]`,
// `message.get('x')`, `tools.items()`...). Methods that would mutate a list or dict are refused, as HF's
// ImmutableSandboxedEnvironment does.
#include <algorithm>

#include "tokenizer/jinja/builtins.h"
#include "tokenizer/jinja/error.h"
#include "tokenizer/jinja/utf8.h"

namespace fathom::jinja {
namespace {

Value required() { return Value::undefined("required"); }

bool one_of(const std::string& name, std::initializer_list<const char*> names) {
  return std::any_of(names.begin(), names.end(), [&](const char* n) { return name == n; });
}

const char* const kStrMethods[] = {"split", "rsplit", "strip", "lstrip", "rstrip", "startswith", "endswith", "lower",
                                   "upper", "title", "capitalize", "replace", "find", "rfind", "count", "join",
                                   "splitlines", "isdigit", "isalpha", "isalnum", "isspace", "isupper", "islower",
                                   "removeprefix", "removesuffix", "index", "rindex"};
const char* const kDictMethods[] = {"items", "keys", "values", "get", "copy"};
const char* const kListMethods[] = {"index", "count", "copy"};
const char* const kMutating[] = {"append", "extend", "insert", "pop", "remove", "reverse", "sort", "clear",
                                 "update", "setdefault", "popitem"};

template <size_t N>
bool in_table(const char* const (&table)[N], const std::string& name) {
  return std::any_of(std::begin(table), std::end(table), [&](const char* n) { return name == n; });
}

std::string str_arg(const Value& v, const char* method, int line) {
  if (!v.is_string()) fail(line, std::string(method) + "() argument must be str, not " + type_name(v));
  return v.as_string();
}

// Python str.split / rsplit.
Value split(const std::string& s, const Value& sep_v, int64_t maxsplit, bool from_right, int line) {
  List parts;
  if (sep_v.is_none()) {
    // Runs of whitespace; leading/trailing whitespace dropped.
    std::vector<std::pair<size_t, size_t>> words;  // byte ranges
    const auto off = utf8_offsets(s);
    size_t n = off.size() - 1, i = 0;
    auto space = [&](size_t k) {
      size_t p = off[k];
      return py_isspace(utf8_next(s, &p));
    };
    while (i < n) {
      while (i < n && space(i)) ++i;
      if (i >= n) break;
      size_t j = i;
      while (j < n && !space(j)) ++j;
      words.emplace_back(i, j);
      i = j;
    }
    if (maxsplit >= 0 && static_cast<int64_t>(words.size()) > maxsplit + 1) {
      if (!from_right) {
        // The last piece runs from the (maxsplit+1)-th word to the end, right-stripped.
        const size_t begin = off[words[maxsplit].first];
        words.resize(maxsplit);
        for (auto [a, b] : words) parts.push_back(Value::string(s.substr(off[a], off[b] - off[a])));
        parts.push_back(Value::string(py_strip(s.substr(begin), false, true)));
      } else {
        const size_t cut = words.size() - maxsplit;
        const size_t end = off[words[cut - 1].second];
        parts.push_back(Value::string(py_strip(s.substr(0, end), true, false)));
        for (size_t k = cut; k < words.size(); ++k) {
          parts.push_back(Value::string(s.substr(off[words[k].first], off[words[k].second] - off[words[k].first])));
        }
      }
      return Value::list(std::move(parts));
    }
    for (auto [a, b] : words) parts.push_back(Value::string(s.substr(off[a], off[b] - off[a])));
    return Value::list(std::move(parts));
  }
  const std::string sep = str_arg(sep_v, "split", line);
  if (sep.empty()) fail(line, "empty separator");
  std::vector<std::string> pieces;
  if (!from_right) {
    size_t start = 0;
    for (int64_t k = 0; maxsplit < 0 || k < maxsplit; ++k) {
      const size_t p = s.find(sep, start);
      if (p == std::string::npos) break;
      pieces.push_back(s.substr(start, p - start));
      start = p + sep.size();
    }
    pieces.push_back(s.substr(start));
  } else {
    size_t end = s.size();
    for (int64_t k = 0; maxsplit < 0 || k < maxsplit; ++k) {
      if (end < sep.size()) break;
      const size_t p = s.rfind(sep, end - sep.size());
      if (p == std::string::npos) break;
      pieces.push_back(s.substr(p + sep.size(), end - p - sep.size()));
      end = p;
    }
    pieces.push_back(s.substr(0, end));
    std::reverse(pieces.begin(), pieces.end());
  }
  for (auto& p : pieces) parts.push_back(Value::string(std::move(p)));
  return Value::list(std::move(parts));
}

// startswith/endswith with an optional [start, end) window in code points.
bool affix(const std::string& s, const Value& affix_v, const Value& start, const Value& end, bool prefix, int line) {
  std::string window = s;
  if (!start.is_none() || !end.is_none()) window = py_slice(Value::string(s), start, end, Value::none(), line).as_string();
  std::vector<std::string> options;
  if (affix_v.is_tuple()) {
    for (const Value& v : affix_v.as_list()) options.push_back(str_arg(v, prefix ? "startswith" : "endswith", line));
  } else {
    options.push_back(str_arg(affix_v, prefix ? "startswith" : "endswith", line));
  }
  for (const auto& o : options) {
    if (o.size() > window.size()) continue;
    if (prefix ? window.compare(0, o.size(), o) == 0 : window.compare(window.size() - o.size(), o.size(), o) == 0) {
      return true;
    }
  }
  return false;
}

std::string map_ascii(std::string s, bool upper) {
  for (char& c : s) {
    if (upper && c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
    if (!upper && c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  }
  return s;
}

bool ascii_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// Code-point index of a byte offset.
int64_t cp_index(const std::string& s, size_t byte) { return static_cast<int64_t>(utf8_length(std::string_view(s).substr(0, byte))); }

Value str_method(const std::string& s, const std::string& name, const CallArgs& a, int line) {
  if (name == "split" || name == "rsplit") {
    const auto p = bind_args(name, a, {"sep", "maxsplit"}, {Value::none(), Value::integer(-1)}, line);
    if (!p[1].is_integral()) fail(line, "maxsplit must be an integer");
    return split(s, p[0], p[1].as_int(), name == "rsplit", line);
  }
  if (name == "strip" || name == "lstrip" || name == "rstrip") {
    const auto p = bind_args(name, a, {"chars"}, {Value::none()}, line);
    std::string chars;
    if (!p[0].is_none()) chars = str_arg(p[0], name.c_str(), line);
    return Value::string(py_strip(s, name != "rstrip", name != "lstrip", p[0].is_none() ? nullptr : &chars));
  }
  if (name == "startswith" || name == "endswith") {
    const auto p = bind_args(name, a, {"prefix", "start", "end"}, {required(), Value::none(), Value::none()}, line);
    return Value::boolean(affix(s, p[0], p[1], p[2], name == "startswith", line));
  }
  if (name == "removeprefix" || name == "removesuffix") {
    const auto p = bind_args(name, a, {"affix"}, {required()}, line);
    const std::string x = str_arg(p[0], name.c_str(), line);
    if (name == "removeprefix") return Value::string(s.compare(0, x.size(), x) == 0 ? s.substr(x.size()) : s);
    const bool ends = x.size() <= s.size() && s.compare(s.size() - x.size(), x.size(), x) == 0;
    return Value::string(ends ? s.substr(0, s.size() - x.size()) : s);
  }
  if (one_of(name, {"lower", "upper", "title", "capitalize", "splitlines", "isdigit", "isalpha", "isalnum", "isspace",
                    "isupper", "islower"})) {
    bind_args(name, a, {}, {}, line);
    if (name == "lower" || name == "upper") return Value::string(map_ascii(s, name == "upper"));
    if (name == "capitalize") {
      std::string out = map_ascii(s, false);
      if (!out.empty()) out[0] = map_ascii(out.substr(0, 1), true)[0];
      return Value::string(out);
    }
    if (name == "title") {
      std::string out = s;
      bool prev_cased = false;
      for (char& c : out) {
        if (ascii_alpha(c)) {
          c = prev_cased ? map_ascii(std::string(1, c), false)[0] : map_ascii(std::string(1, c), true)[0];
          prev_cased = true;
        } else {
          prev_cased = false;
        }
      }
      return Value::string(out);
    }
    if (name == "splitlines") {
      List lines;
      size_t start = 0;
      while (start < s.size()) {
        size_t nl = s.find_first_of("\n\r", start);
        if (nl == std::string::npos) {
          lines.push_back(Value::string(s.substr(start)));
          break;
        }
        lines.push_back(Value::string(s.substr(start, nl - start)));
        start = nl + ((s[nl] == '\r' && nl + 1 < s.size() && s[nl + 1] == '\n') ? 2 : 1);
      }
      return Value::list(std::move(lines));
    }
    if (name == "isspace") {
      if (s.empty()) return Value::boolean(false);
      for (size_t p = 0; p < s.size();) {
        if (!py_isspace(utf8_next(s, &p))) return Value::boolean(false);
      }
      return Value::boolean(true);
    }
    if (name == "isupper" || name == "islower") {
      bool cased = false;
      for (char c : s) {
        if (!ascii_alpha(c)) continue;
        cased = true;
        if ((name == "isupper") != (c >= 'A' && c <= 'Z')) return Value::boolean(false);
      }
      return Value::boolean(cased);
    }
    if (s.empty()) return Value::boolean(false);
    for (char c : s) {
      const bool digit = c >= '0' && c <= '9';
      const bool ok = name == "isdigit" ? digit : name == "isalpha" ? ascii_alpha(c) : (digit || ascii_alpha(c));
      if (!ok) return Value::boolean(false);
    }
    return Value::boolean(true);
  }
  if (name == "replace") {
    const auto p = bind_args(name, a, {"old", "new", "count"}, {required(), required(), Value::integer(-1)}, line);
    const std::string from = str_arg(p[0], "replace", line), to = str_arg(p[1], "replace", line);
    int64_t count = p[2].is_integral() ? p[2].as_int() : -1;
    std::string out;
    if (from.empty()) {
      // Python inserts `to` before every code point and at the end (at most `count` times).
      const auto off = utf8_offsets(s);
      int64_t done = 0;
      for (size_t i = 0; i < off.size(); ++i) {
        if (count < 0 || done < count) {
          out += to;
          ++done;
        }
        if (i + 1 < off.size()) out.append(s, off[i], off[i + 1] - off[i]);
      }
      return Value::string(out);
    }
    size_t start = 0;
    for (int64_t k = 0; count < 0 || k < count; ++k) {
      const size_t p2 = s.find(from, start);
      if (p2 == std::string::npos) break;
      out.append(s, start, p2 - start);
      out += to;
      start = p2 + from.size();
    }
    out.append(s, start, std::string::npos);
    return Value::string(out);
  }
  if (one_of(name, {"find", "rfind", "index", "rindex", "count"})) {
    const auto p = bind_args(name, a, {"sub", "start", "end"}, {required(), Value::none(), Value::none()}, line);
    const std::string sub = str_arg(p[0], name.c_str(), line);
    if (!p[1].is_none() || !p[2].is_none()) fail(line, "unsupported construct: str." + name + "() with start/end");
    if (name == "count") {
      if (sub.empty()) return Value::integer(static_cast<int64_t>(utf8_length(s)) + 1);
      int64_t n = 0;
      for (size_t pos = s.find(sub); pos != std::string::npos; pos = s.find(sub, pos + sub.size())) ++n;
      return Value::integer(n);
    }
    const size_t pos = (name == "find" || name == "index") ? s.find(sub) : s.rfind(sub);
    if (pos == std::string::npos) {
      if (name == "index" || name == "rindex") fail(line, "substring not found");
      return Value::integer(-1);
    }
    return Value::integer(cp_index(s, pos));
  }
  if (name == "join") {
    const auto p = bind_args(name, a, {"iterable"}, {required()}, line);
    std::string out;
    bool first = true;
    for (const Value& item : py_iterate(p[0], line)) {
      if (!first) out += s;
      first = false;
      out += str_arg(item, "join", line);
    }
    return Value::string(out);
  }
  fail(line, "unsupported construct: str." + name + "()");
}

}  // namespace

bool has_method(const Value& self, const std::string& name) {
  if (self.is_string()) return in_table(kStrMethods, name);
  if (self.is_dict()) return in_table(kDictMethods, name) || in_table(kMutating, name);
  if (self.is_list()) return in_table(kListMethods, name) || (!self.is_tuple() && in_table(kMutating, name));
  return false;
}

Value call_method(const Value& self, const std::string& name, const CallArgs& a, int line) {
  if (in_table(kMutating, name) && !self.is_string()) {
    fail(line, "access to attribute '" + name + "' of '" + type_name(self) + "' object is unsafe (templates cannot modify lists or dicts)");
  }
  if (self.is_string()) return str_method(self.as_string(), name, a, line);
  if (self.is_dict()) {
    if (name == "get") {
      const auto p = bind_args("get", a, {"key", "default"}, {required(), Value::none()}, line);
      for (const auto& [k, v] : self.as_dict()) {
        if (equals(k, p[0])) return v;
      }
      return p[1];
    }
    bind_args(name, a, {}, {}, line);
    if (name == "copy") return self;
    List out;
    for (const auto& [k, v] : self.as_dict()) {
      if (name == "items") {
        out.push_back(Value::list({k, v}, true));
      } else {
        out.push_back(name == "keys" ? k : v);
      }
    }
    return Value::list(std::move(out));
  }
  if (self.is_list()) {
    if (name == "copy") {
      bind_args(name, a, {}, {}, line);
      return self;
    }
    const auto p = bind_args(name, a, {"value"}, {required()}, line);
    int64_t n = 0, i = 0;
    for (const Value& v : self.as_list()) {
      if (equals(v, p[0])) {
        if (name == "index") return Value::integer(i);
        ++n;
      }
      ++i;
    }
    if (name == "index") fail(line, to_repr(p[0]) + " is not in list");
    return Value::integer(n);
  }
  fail(line, "'" + type_name(self) + "' object has no method '" + name + "'");
}

}  // namespace fathom::jinja
