// The global functions of HF's chat-template environment: raise_exception, namespace, dict, range (capped as in
// jinja2's sandbox) and strftime_now.
#include <ctime>

#include "tokenizer/jinja/builtins.h"
#include "tokenizer/jinja/error.h"

namespace fathom::jinja {
namespace {

constexpr int64_t kMaxRange = 100000;  // jinja2.sandbox.MAX_RANGE

}  // namespace

bool is_global_function(const std::string& name) {
  return name == "raise_exception" || name == "namespace" || name == "dict" || name == "range" ||
         name == "strftime_now";
}

Value call_global(const std::string& name, const CallArgs& a, int line) {
  if (name == "raise_exception") {
    const auto p = bind_args(name, a, {"message"}, {Value::undefined("required")}, line);
    fail(line, "raise_exception: " + to_str(p[0]));
  }
  if (name == "namespace" || name == "dict") {
    std::vector<std::pair<std::string, Value>> attrs;
    if (a.args.size() > 1) fail(line, name + "() expected at most 1 positional argument");
    auto put = [&](const std::string& k, const Value& v) {
      if (name == "namespace" && !k.empty() && k[0] == '_') {
        fail(line, "chat templates cannot store underscore-prefixed attributes on a namespace ('" + k + "')");
      }
      for (auto& [k2, v2] : attrs) {
        if (k2 == k) {
          v2 = v;
          return;
        }
      }
      attrs.emplace_back(k, v);
    };
    if (!a.args.empty()) {
      if (!a.args[0].is_dict()) fail(line, name + "() positional argument must be a dict");
      for (const auto& [k, v] : a.args[0].as_dict()) {
        if (!k.is_string()) fail(line, name + "() keys must be strings");
        put(k.as_string(), v);
      }
    }
    for (const auto& [k, v] : a.kwargs) put(k, v);
    if (name == "dict") {
      Dict d;
      for (auto& [k, v] : attrs) d.emplace_back(Value::string(k), std::move(v));
      return Value::dict(std::move(d));
    }
    auto ns = std::make_shared<Namespace>();
    ns->attrs = std::move(attrs);
    return Value::make_namespace(std::move(ns));
  }
  if (name == "range") {
    if (!a.kwargs.empty() || a.args.empty() || a.args.size() > 3) fail(line, "range() takes 1 to 3 positional arguments");
    for (const Value& v : a.args) {
      if (!v.is_integral()) fail(line, "range(): '" + type_name(v) + "' object cannot be interpreted as an integer");
    }
    int64_t start = 0, stop, step = 1;
    if (a.args.size() == 1) {
      stop = a.args[0].as_int();
    } else {
      start = a.args[0].as_int();
      stop = a.args[1].as_int();
      if (a.args.size() == 3) step = a.args[2].as_int();
    }
    if (step == 0) fail(line, "range() arg 3 must not be zero");
    List out;
    for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
      if (static_cast<int64_t>(out.size()) >= kMaxRange) {
        fail(line, "range too big: the sandbox blocks ranges larger than " + std::to_string(kMaxRange));
      }
      out.push_back(Value::integer(i));
      if ((step > 0 && i > INT64_MAX - step) || (step < 0 && i < INT64_MIN - step)) break;
    }
    return Value::list(std::move(out));
  }
  if (name == "strftime_now") {
    const auto p = bind_args(name, a, {"format"}, {Value::undefined("required")}, line);
    const std::string fmt = to_str(p[0]);
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    localtime_r(&now, &tm);
    std::string buf(256 + fmt.size() * 8, '\0');
    const size_t n = fmt.empty() ? 0 : std::strftime(buf.data(), buf.size(), fmt.c_str(), &tm);
    buf.resize(n);
    return Value::string(buf);
  }
  fail(line, "unknown function '" + name + "'");
}

}  // namespace fathom::jinja
