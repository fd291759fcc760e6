// jinja2's built-in filters that chat templates use, with jinja2's argument names and defaults; `tojson` is HF's
// override (json.dumps with ensure_ascii=False). The HTML-escaping filters act as with autoescape off.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "tokenizer/jinja/builtins.h"
#include "tokenizer/jinja/error.h"
#include "tokenizer/jinja/json_dump.h"
#include "tokenizer/jinja/utf8.h"

namespace fathom::jinja {
namespace {

Value required() { return Value::undefined("required"); }

using FilterFn = Value (*)(const Value&, const CallArgs&, int);

std::string ascii_lower(std::string s) {
  for (char& c : s) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
  return s;
}
std::string ascii_upper(std::string s) {
  for (char& c : s) c = (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c;
  return s;
}

Value f_abs(const Value& v, const CallArgs& a, int line) {
  bind_args("abs", a, {}, {}, line);
  if (v.is_integral()) {
    if (v.as_int() == INT64_MIN) fail(line, "integer overflow");
    return Value::integer(std::llabs(v.as_int()));
  }
  if (v.kind() == Value::Kind::kFloat) return Value::floating(std::fabs(v.as_float()));
  if (v.is_undefined()) undefined_error(v, line);
  fail(line, "bad operand type for abs(): '" + type_name(v) + "'");
}

Value f_attr(const Value& v, const CallArgs& a, int line) {
  const auto p = bind_args("attr", a, {"name"}, {required()}, line);
  if (v.is_undefined()) undefined_error(v, line);
  return py_getattr(v, to_str(p[0]), line);
}

Value f_capitalize(const Value& v, const CallArgs& a, int line) {
  bind_args("capitalize", a, {}, {}, line);
  std::string s = ascii_lower(to_str(v));
  if (!s.empty()) s[0] = ascii_upper(s.substr(0, 1))[0];
  return Value::string(s);
}

Value f_center(const Value& v, const CallArgs& a, int line) {
  const auto p = bind_args("center", a, {"width"}, {Value::integer(80)}, line);
  const std::string s = to_str(v);
  const int64_t len = static_cast<int64_t>(utf8_length(s));
  const int64_t width = std::min<int64_t>(p[0].as_int(), 1 << 20);
  if (width <= len) return Value::string(s);
  const int64_t pad = width - len;
  const int64_t left = pad / 2 + (pad & width & 1);  // CPython's str.center
  return Value::string(std::string(left, ' ') + s + std::string(pad - left, ' '));
}

Value f_default(const Value& v, const CallArgs& a, int line) {
  const auto p = bind_args("default", a, {"default_value", "boolean"}, {Value::string(""), Value::boolean(false)}, line);
  if (v.is_undefined() || (truthy(p[1]) && !truthy(v))) return p[0];
  return v;
}

Value f_dictsort(const Value& v, const CallArgs& a, int line) {
  const auto p = bind_args("dictsort", a, {"case_sensitive", "by", "reverse"},
                           {Value::boolean(false), Value::string("key"), Value::boolean(false)}, line);
  if (!v.is_dict()) fail(line, "dictsort: expected a dict, got " + type_name(v));
  const bool by_value = to_str(p[1]) == "value";
  if (!by_value && to_str(p[1]) != "key") fail(line, "dictsort: you can only sort by either 'key' or 'value'");
  std::vector<std::pair<Value, Value>> items = v.as_dict();
  auto norm = [&](const Value& x) {
    return (!truthy(p[0]) && x.is_string()) ? Value::string(ascii_lower(x.as_string())) : x;
  };
  std::stable_sort(items.begin(), items.end(), [&](const auto& x, const auto& y) {
    const Value& l = by_value ? x.second : x.first;
    const Value& r = by_value ? y.second : y.first;
    return py_compare(norm(l), norm(r), "<", line) < 0;
  });
  if (truthy(p[2])) std::reverse(items.begin(), items.end());
  List out;
  for (auto& [k, val] : items) out.push_back(Value::list({k, val}, true));
  return Value::list(std::move(out));
}

Value f_escape(const Value& v, const CallArgs& a, int line) {
  bind_args("escape", a, {}, {}, line);
  std::string out;
  for (char c : to_str(v)) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&#34;"; break;
      case '\'': out += "&#39;"; break;
      default: out.push_back(c);
    }
  }
  return Value::string(out);
}

Value f_first(const Value& v, const CallArgs& a, int line) {
  bind_args("first", a, {}, {}, line);
  const List items = py_iterate(v, line);
  if (items.empty()) return Value::undefined("No first item, sequence was empty.");
  return items.front();
}

Value f_last(const Value& v, const CallArgs& a, int line) {
  bind_args("last", a, {}, {}, line);
  const List items = py_iterate(v, line);
  if (items.empty()) return Value::undefined("No last item, sequence was empty.");
  return items.back();
}

Value f_float(const Value& v, const CallArgs& a, int line) {
  const auto p = bind_args("float", a, {"default"}, {Value::floating(0.0)}, line);
  if (v.is_number()) return Value::floating(v.as_float());
  if (v.is_string()) {
    const std::string s = py_strip(v.as_string(), true, true);
    char* end = nullptr;
    const double d = std::strtod(s.c_str(), &end);
    if (!s.empty() && end == s.c_str() + s.size()) return Value::floating(d);
  }
  return p[0];
}

Value f_int(const Value& v, const CallArgs& a, int line) {
  const auto p = bind_args("int", a, {"default", "base"}, {Value::integer(0), Value::integer(10)}, line);
  if (v.is_integral()) return Value::integer(v.as_int());
  if (v.kind() == Value::Kind::kFloat) {
    const double d = v.as_float();
    if (!std::isfinite(d) || std::fabs(d) >= 9.2e18) return p[0];
    return Value::integer(static_cast<int64_t>(d));
  }
  if (v.is_string()) {
    std::string s = py_strip(v.as_string(), true, true);
    s.erase(std::remove(s.begin(), s.end(), '_'), s.end());
    const int base = static_cast<int>(p[1].as_int());
    if (!s.empty() && base >= 2 && base <= 36) {
      char* end = nullptr;
      errno = 0;
      const long long i = std::strtoll(s.c_str(), &end, base);
      if (end == s.c_str() + s.size() && errno == 0) return Value::integer(i);
      const double d = std::strtod(s.c_str(), &end);  // jinja2 retries as float
      if (end == s.c_str() + s.size() && std::isfinite(d) && std::fabs(d) < 9.2e18) return Value::integer(static_cast<int64_t>(d));
    }
  }
  return p[0];
}

Value f_indent(const Value& v, const CallArgs& a, int line) {
  const auto p = bind_args("indent", a, {"width", "first", "blank"},
                           {Value::integer(4), Value::boolean(false), Value::boolean(false)}, line);
  const std::string pad = p[0].is_string() ? p[0].as_string() : std::string(std::clamp<int64_t>(p[0].as_int(), 0, 1024), ' ');
  // jinja2: `s += "\n"` then splitlines(), so a trailing newline yields no extra empty line.
  const std::string s = to_str(v) + "\n";
  std::vector<std::string> lines;
  for (size_t start = 0; start < s.size();) {
    const size_t nl = s.find('\n', start);
    lines.push_back(s.substr(start, nl - start));
    start = nl + 1;
  }
  std::string out = lines[0];
  for (size_t i = 1; i < lines.size(); ++i) {
    out += "\n";
    if (truthy(p[2]) || !lines[i].empty()) out += pad;
    out += lines[i];
  }
  if (truthy(p[1])) out = pad + out;
  return Value::string(out);
}

Value f_items(const Value& v, const CallArgs& a, int line) {
  bind_args("items", a, {}, {}, line);
  if (v.is_undefined()) return Value::list({});
  if (!v.is_dict()) fail(line, "items: can only get item pairs from a mapping, not " + type_name(v));
  List out;
  for (const auto& [k, val] : v.as_dict()) out.push_back(Value::list({k, val}, true));
  return Value::list(std::move(out));
}

Value f_join(const Value& v, const CallArgs& a, int line) {
  const auto p = bind_args("join", a, {"d", "attribute"}, {Value::string(""), Value::none()}, line);
  std::string out;
  bool first = true;
  for (const Value& item : py_iterate(v, line)) {
    if (!first) out += to_str(p[0]);
    first = false;
    out += to_str(p[1].is_none() ? item : py_getattr(item, to_str(p[1]), line));
  }
  return Value::string(out);
}

Value f_length(const Value& v, const CallArgs& a, int line) {
  bind_args("length", a, {}, {}, line);
  return Value::integer(py_len(v, line));
}

Value f_list(const Value& v, const CallArgs& a, int line) {
  bind_args("list", a, {}, {}, line);
  return Value::list(py_iterate(v, line));
}

Value f_lower(const Value& v, const CallArgs& a, int line) {
  bind_args("lower", a, {}, {}, line);
  return Value::string(ascii_lower(to_str(v)));
}

Value f_upper(const Value& v, const CallArgs& a, int line) {
  bind_args("upper", a, {}, {}, line);
  return Value::string(ascii_upper(to_str(v)));
}

Value f_replace(const Value& v, const CallArgs& a, int line) {
  const auto p = bind_args("replace", a, {"old", "new", "count"}, {required(), required(), Value::none()}, line);
  CallArgs m;
  m.args = {Value::string(to_str(p[0])), Value::string(to_str(p[1]))};
  if (!p[2].is_none()) m.args.push_back(p[2]);
  return call_method(Value::string(to_str(v)), "replace", m, line);
}

Value f_reverse(const Value& v, const CallArgs& a, int line) {
  bind_args("reverse", a, {}, {}, line);
  if (v.is_string()) return py_slice(v, Value::none(), Value::none(), Value::integer(-1), line);
  List items = py_iterate(v, line);
  std::reverse(items.begin(), items.end());
  return Value::list(std::move(items));
}

Value f_round(const Value& v, const CallArgs& a, int line) {
  const auto p = bind_args("round", a, {"precision", "method"}, {Value::integer(0), Value::string("common")}, line);
  if (!v.is_number()) fail(line, "round: expected a number, got " + type_name(v));
  const int64_t precision = std::clamp<int64_t>(p[0].as_int(), -308, 308);
  const std::string method = to_str(p[1]);
  const double x = v.as_float();
  if (method == "common") {
    // Python's round(): the exact binary value rounded to `precision` decimals, exact ties to even.
    if (precision >= 0) {
      char buf[512];
      std::snprintf(buf, sizeof(buf), "%.*f", static_cast<int>(std::min<int64_t>(precision, 300)), x);
      return Value::floating(std::strtod(buf, nullptr));
    }
    const double scale = std::pow(10.0, static_cast<double>(-precision));
    return Value::floating(std::nearbyint(x / scale) * scale);
  }
  if (method != "ceil" && method != "floor") fail(line, "round: method must be common, ceil or floor");
  const double scale = std::pow(10.0, static_cast<double>(precision));
  const double r = method == "ceil" ? std::ceil(x * scale) : std::floor(x * scale);
  return Value::floating(r / scale);
}

Value f_safe(const Value& v, const CallArgs& a, int line) {
  bind_args("safe", a, {}, {}, line);
  return Value::string(to_str(v));
}

Value f_string(const Value& v, const CallArgs& a, int line) {
  bind_args("string", a, {}, {}, line);
  return Value::string(to_str(v));
}

Value f_sum(const Value& v, const CallArgs& a, int line) {
  const auto p = bind_args("sum", a, {"attribute", "start"}, {Value::none(), Value::integer(0)}, line);
  Value total = p[1];
  for (const Value& item : py_iterate(v, line)) {
    total = py_binary("+", total, p[0].is_none() ? item : py_getattr(item, to_str(p[0]), line), line);
  }
  return total;
}

Value f_title(const Value& v, const CallArgs& a, int line) {
  bind_args("title", a, {}, {}, line);
  return call_method(Value::string(to_str(v)), "title", {}, line);
}

Value f_tojson(const Value& v, const CallArgs& a, int line) {
  const auto p = bind_args("tojson", a, {"ensure_ascii", "indent", "separators", "sort_keys"},
                           {Value::boolean(false), Value::none(), Value::none(), Value::boolean(false)}, line);
  JsonDumpOptions o;
  o.ensure_ascii = truthy(p[0]);
  if (!p[1].is_none()) {
    o.has_indent = true;
    o.item_separator = ",";
    if (p[1].is_string()) {
      o.indent = p[1].as_string();
    } else if (p[1].is_integral()) {
      o.indent = std::string(std::clamp<int64_t>(p[1].as_int(), 0, 1024), ' ');
    } else {
      fail(line, "tojson: indent must be an int or a string");
    }
  }
  if (!p[2].is_none()) {
    if (!p[2].is_list() || p[2].as_list().size() != 2 || !p[2].as_list()[0].is_string() || !p[2].as_list()[1].is_string()) {
      fail(line, "tojson: separators must be a pair of strings");
    }
    o.item_separator = p[2].as_list()[0].as_string();
    o.key_separator = p[2].as_list()[1].as_string();
  }
  o.sort_keys = truthy(p[3]);
  return Value::string(json_dumps(v, o, line));
}

Value f_trim(const Value& v, const CallArgs& a, int line) {
  const auto p = bind_args("trim", a, {"chars"}, {Value::none()}, line);
  const std::string chars = p[0].is_none() ? "" : to_str(p[0]);
  return Value::string(py_strip(to_str(v), true, true, p[0].is_none() ? nullptr : &chars));
}

Value f_unique(const Value& v, const CallArgs& a, int line) {
  const auto p = bind_args("unique", a, {"case_sensitive", "attribute"}, {Value::boolean(false), Value::none()}, line);
  List out, seen;
  for (const Value& item : py_iterate(v, line)) {
    Value key = p[1].is_none() ? item : py_getattr(item, to_str(p[1]), line);
    if (!truthy(p[0]) && key.is_string()) key = Value::string(ascii_lower(key.as_string()));
    if (std::none_of(seen.begin(), seen.end(), [&](const Value& s) { return equals(s, key); })) {
      seen.push_back(key);
      out.push_back(item);
    }
  }
  return Value::list(std::move(out));
}

Value f_wordcount(const Value& v, const CallArgs& a, int line) {
  bind_args("wordcount", a, {}, {}, line);
  int64_t n = 0;
  bool in_word = false;
  for (char c : to_str(v)) {
    const bool w = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                   static_cast<unsigned char>(c) >= 0x80;
    if (w && !in_word) ++n;
    in_word = w;
  }
  return Value::integer(n);
}

// sort/min/max share a key function: the item or one attribute of it, lower-cased unless case_sensitive.
Value sort_key(const Value& item, const Value& attribute, bool case_sensitive, int line) {
  Value key = attribute.is_none() ? item : py_getattr(item, to_str(attribute), line);
  if (!case_sensitive && key.is_string()) key = Value::string(ascii_lower(key.as_string()));
  return key;
}

Value f_sort(const Value& v, const CallArgs& a, int line) {
  const auto p = bind_args("sort", a, {"reverse", "case_sensitive", "attribute"},
                           {Value::boolean(false), Value::boolean(false), Value::none()}, line);
  List items = py_iterate(v, line);
  std::stable_sort(items.begin(), items.end(), [&](const Value& x, const Value& y) {
    const int c = py_compare(sort_key(x, p[2], truthy(p[1]), line), sort_key(y, p[2], truthy(p[1]), line), "<", line);
    return truthy(p[0]) ? c > 0 : c < 0;
  });
  return Value::list(std::move(items));
}

Value min_max(const Value& v, const CallArgs& a, int line, bool is_max) {
  const auto p = bind_args(is_max ? "max" : "min", a, {"case_sensitive", "attribute"}, {Value::boolean(false), Value::none()}, line);
  const List items = py_iterate(v, line);
  if (items.empty()) return Value::undefined(std::string("No aggregated item, sequence was empty."));
  const Value* best = &items[0];
  for (const Value& item : items) {
    const int c = py_compare(sort_key(item, p[1], truthy(p[0]), line), sort_key(*best, p[1], truthy(p[0]), line), "<", line);
    if (is_max ? c > 0 : c < 0) best = &item;
  }
  return *best;
}
Value f_min(const Value& v, const CallArgs& a, int line) { return min_max(v, a, line, false); }
Value f_max(const Value& v, const CallArgs& a, int line) { return min_max(v, a, line, true); }

Value f_map(const Value& v, const CallArgs& a, int line) {
  List out;
  for (const auto& [k, val] : a.kwargs) {
    if (k != "attribute" && k != "default") fail(line, "map: unexpected keyword argument '" + k + "'");
  }
  const Value* attribute = nullptr;
  const Value* dflt = nullptr;
  for (const auto& [k, val] : a.kwargs) (k == "attribute" ? attribute : dflt) = &val;
  if (attribute != nullptr) {
    if (!a.args.empty()) fail(line, "map: positional arguments are not allowed with attribute=");
    for (const Value& item : py_iterate(v, line)) {
      Value x = py_getattr(item, to_str(*attribute), line);
      out.push_back(x.is_undefined() && dflt != nullptr ? *dflt : x);
    }
    return Value::list(std::move(out));
  }
  if (a.args.empty()) fail(line, "map: a filter name is required");
  const int id = find_filter(to_str(a.args[0]));
  if (id < 0) fail(line, "map: unknown filter '" + to_str(a.args[0]) + "'");
  CallArgs rest;
  rest.args.assign(a.args.begin() + 1, a.args.end());
  for (const Value& item : py_iterate(v, line)) out.push_back(apply_filter(id, item, rest, line));
  return Value::list(std::move(out));
}

// select/reject/selectattr/rejectattr.
Value select_impl(const Value& v, const CallArgs& a, int line, bool by_attr, bool keep) {
  if (!a.kwargs.empty()) fail(line, "select filters take no keyword arguments");
  size_t i = 0;
  std::string attr;
  if (by_attr) {
    if (a.args.empty()) fail(line, "selectattr/rejectattr: an attribute name is required");
    attr = to_str(a.args[i++]);
  }
  int test = -1;
  CallArgs rest;
  if (i < a.args.size()) {
    test = find_test(to_str(a.args[i]));
    if (test < 0) fail(line, "unknown test '" + to_str(a.args[i]) + "'");
    rest.args.assign(a.args.begin() + i + 1, a.args.end());
  }
  List out;
  for (const Value& item : py_iterate(v, line)) {
    const Value x = by_attr ? py_getattr(item, attr, line) : item;
    const bool ok = test < 0 ? truthy(x) : apply_test(test, x, rest, line);
    if (ok == keep) out.push_back(item);
  }
  return Value::list(std::move(out));
}
Value f_select(const Value& v, const CallArgs& a, int line) { return select_impl(v, a, line, false, true); }
Value f_reject(const Value& v, const CallArgs& a, int line) { return select_impl(v, a, line, false, false); }
Value f_selectattr(const Value& v, const CallArgs& a, int line) { return select_impl(v, a, line, true, true); }
Value f_rejectattr(const Value& v, const CallArgs& a, int line) { return select_impl(v, a, line, true, false); }

struct FilterEntry {
  const char* name;
  FilterFn fn;
};

constexpr FilterEntry kFilters[] = {
    {"abs", f_abs},         {"attr", f_attr},     {"capitalize", f_capitalize}, {"center", f_center},
    {"count", f_length},    {"d", f_default},     {"default", f_default},       {"dictsort", f_dictsort},
    {"e", f_escape},        {"escape", f_escape}, {"first", f_first},           {"float", f_float},
    {"indent", f_indent},   {"int", f_int},       {"items", f_items},           {"join", f_join},
    {"last", f_last},       {"length", f_length}, {"list", f_list},             {"lower", f_lower},
    {"map", f_map},         {"max", f_max},       {"min", f_min},               {"reject", f_reject},
    {"rejectattr", f_rejectattr}, {"replace", f_replace}, {"reverse", f_reverse}, {"round", f_round},
    {"safe", f_safe},       {"select", f_select}, {"selectattr", f_selectattr}, {"sort", f_sort},
    {"string", f_string},   {"sum", f_sum},       {"title", f_title},           {"tojson", f_tojson},
    {"trim", f_trim},       {"unique", f_unique}, {"upper", f_upper},           {"wordcount", f_wordcount},
};

}  // namespace

int find_filter(const std::string& name) {
  for (size_t i = 0; i < std::size(kFilters); ++i) {
    if (name == kFilters[i].name) return static_cast<int>(i);
  }
  return -1;
}

Value apply_filter(int id, const Value& subject, const CallArgs& args, int line) {
  return kFilters[id].fn(subject, args, line);
}

}  // namespace fathom::jinja
