// Python operator semantics for template values: item/attribute access as jinja2's environment does it (a
// missing key or index gives Undefined, not an error), slicing, iteration, len, comparison, `in`, arithmetic.
#include <cmath>
#include <limits>

#include "tokenizer/jinja/builtins.h"
#include "tokenizer/jinja/error.h"
#include "tokenizer/jinja/utf8.h"

namespace fathom::jinja {
namespace {

constexpr size_t kMaxBuiltBytes = size_t{256} << 20;  // bound on `'x' * n` and `[..] * n`

std::string obj_desc(const Value& v) { return "'" + type_name(v) + " object'"; }

Value missing_attr(const Value& obj, const std::string& name) {
  return Value::undefined(obj_desc(obj) + " has no attribute '" + name + "'");
}

Value method(const Value& obj, const std::string& name) {
  return Value::callable(Callable{Callable::Kind::kMethod, name, std::make_shared<const Value>(obj), nullptr});
}

// Python index normalisation; returns false when out of range.
bool norm_index(int64_t i, int64_t n, int64_t* out) {
  if (i < 0) i += n;
  if (i < 0 || i >= n) return false;
  *out = i;
  return true;
}

}  // namespace

void undefined_error(const Value& v, int line) {
  fail(line, v.as_string().empty() ? "value is undefined" : v.as_string());
}

Value py_getattr(const Value& obj, const std::string& name, int line) {
  switch (obj.kind()) {
    case Value::Kind::kNamespace:
      for (const auto& [k, v] : obj.as_namespace().attrs) {
        if (k == name) return v;
      }
      return missing_attr(obj, name);
    case Value::Kind::kDict:
    case Value::Kind::kString:
    case Value::Kind::kList:
      if (has_method(obj, name)) return method(obj, name);
      if (obj.is_dict()) {
        if (const Value* v = obj.find(name)) return *v;
      }
      return missing_attr(obj, name);
    default: return missing_attr(obj, name);
  }
}

Value py_getitem(const Value& obj, const Value& key, int line) {
  switch (obj.kind()) {
    case Value::Kind::kDict:
      for (const auto& [k, v] : obj.as_dict()) {
        if (equals(k, key)) return v;
      }
      break;
    case Value::Kind::kList:
      if (key.is_integral()) {
        int64_t i;
        if (norm_index(key.as_int(), static_cast<int64_t>(obj.as_list().size()), &i)) return obj.as_list()[i];
        return Value::undefined(obj_desc(obj) + " has no element " + std::to_string(key.as_int()));
      }
      break;
    case Value::Kind::kString:
      if (key.is_integral()) {
        const auto off = utf8_offsets(obj.as_string());
        int64_t i;
        if (norm_index(key.as_int(), static_cast<int64_t>(off.size()) - 1, &i)) {
          return Value::string(obj.as_string().substr(off[i], off[i + 1] - off[i]));
        }
        return Value::undefined(obj_desc(obj) + " has no element " + std::to_string(key.as_int()));
      }
      break;
    default: break;
  }
  // jinja2 falls back to an attribute lookup for string keys (e.g. `ns['x']`, `d['items']`).
  if (key.is_string()) {
    if (obj.is_dict() && !has_method(obj, key.as_string())) return missing_attr(obj, key.as_string());
    return py_getattr(obj, key.as_string(), line);
  }
  return Value::undefined(obj_desc(obj) + " has no element " + to_repr(key));
}

Value py_slice(const Value& obj, const Value& start_v, const Value& stop_v, const Value& step_v, int line) {
  if (!obj.is_list() && !obj.is_string()) return Value::undefined(obj_desc(obj) + " cannot be sliced");
  for (const Value* b : {&start_v, &stop_v, &step_v}) {
    if (!b->is_none() && !b->is_integral()) {
      return Value::undefined("slice indices must be integers or None, not " + type_name(*b));
    }
  }
  const int64_t step = step_v.is_none() ? 1 : step_v.as_int();
  if (step == 0) fail(line, "slice step cannot be zero");
  std::vector<size_t> off;
  int64_t n;
  if (obj.is_string()) {
    off = utf8_offsets(obj.as_string());
    n = static_cast<int64_t>(off.size()) - 1;
  } else {
    n = static_cast<int64_t>(obj.as_list().size());
  }
  auto adjust = [&](const Value& v, int64_t dflt) {
    if (v.is_none()) return dflt;
    int64_t i = v.as_int();
    if (i < 0) {
      i = (i < -n) ? (step < 0 ? -1 : 0) : i + n;
    } else if (i >= n) {
      i = step < 0 ? n - 1 : n;
    }
    return i;
  };
  const int64_t start = adjust(start_v, step < 0 ? n - 1 : 0);
  const int64_t stop = adjust(stop_v, step < 0 ? -1 : n);
  std::vector<int64_t> idx;
  for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
    idx.push_back(i);
    if ((step > 0 && i > INT64_MAX - step) || (step < 0 && i < INT64_MIN - step)) break;
  }
  if (obj.is_string()) {
    std::string out;
    for (int64_t i : idx) out.append(obj.as_string(), off[i], off[i + 1] - off[i]);
    return Value::string(std::move(out));
  }
  List out;
  out.reserve(idx.size());
  for (int64_t i : idx) out.push_back(obj.as_list()[i]);
  return Value::list(std::move(out), obj.is_tuple());
}

List py_iterate(const Value& v, int line) {
  switch (v.kind()) {
    case Value::Kind::kUndefined: return {};
    case Value::Kind::kList: return v.as_list();
    case Value::Kind::kDict: {
      List keys;
      keys.reserve(v.as_dict().size());
      for (const auto& kv : v.as_dict()) keys.push_back(kv.first);
      return keys;
    }
    case Value::Kind::kString: {
      List chars;
      const std::string& s = v.as_string();
      for (size_t pos = 0; pos < s.size();) {
        const size_t begin = pos;
        utf8_next(s, &pos);
        chars.push_back(Value::string(s.substr(begin, pos - begin)));
      }
      return chars;
    }
    default: fail(line, "'" + type_name(v) + "' object is not iterable");
  }
}

int64_t py_len(const Value& v, int line) {
  switch (v.kind()) {
    case Value::Kind::kUndefined: return 0;
    case Value::Kind::kString: return static_cast<int64_t>(utf8_length(v.as_string()));
    case Value::Kind::kList: return static_cast<int64_t>(v.as_list().size());
    case Value::Kind::kDict: return static_cast<int64_t>(v.as_dict().size());
    default: fail(line, "object of type '" + type_name(v) + "' has no len()");
  }
}

int py_compare(const Value& a, const Value& b, const std::string& op, int line) {
  if (a.is_undefined()) undefined_error(a, line);
  if (b.is_undefined()) undefined_error(b, line);
  if (a.is_number() && b.is_number()) {
    if (a.is_integral() && b.is_integral()) return a.as_int() < b.as_int() ? -1 : a.as_int() > b.as_int();
    const double x = a.as_float(), y = b.as_float();
    if (std::isnan(x) || std::isnan(y)) return op == "<" || op == "<=" ? 1 : -1;  // every ordering is false
    return x < y ? -1 : x > y;
  }
  if (a.is_string() && b.is_string()) {
    const int c = a.as_string().compare(b.as_string());  // UTF-8 byte order is code point order
    return c < 0 ? -1 : c > 0;
  }
  if (a.is_list() && b.is_list() && a.is_tuple() == b.is_tuple()) {
    const List &x = a.as_list(), &y = b.as_list();
    for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
      if (!equals(x[i], y[i])) return py_compare(x[i], y[i], op, line);
    }
    return x.size() < y.size() ? -1 : x.size() > y.size();
  }
  fail(line, "'" + op + "' not supported between instances of '" + type_name(a) + "' and '" + type_name(b) + "'");
}

bool py_contains(const Value& container, const Value& item, int line) {
  switch (container.kind()) {
    case Value::Kind::kUndefined: return false;
    case Value::Kind::kString:
      if (!item.is_string()) {
        if (item.is_undefined()) undefined_error(item, line);
        fail(line, "'in <string>' requires string as left operand, not " + type_name(item));
      }
      return container.as_string().find(item.as_string()) != std::string::npos;
    case Value::Kind::kList:
      for (const Value& v : container.as_list()) {
        if (equals(v, item)) return true;
      }
      return false;
    case Value::Kind::kDict:
      for (const auto& kv : container.as_dict()) {
        if (equals(kv.first, item)) return true;
      }
      return false;
    default: fail(line, "argument of type '" + type_name(container) + "' is not iterable");
  }
}

namespace {

[[noreturn]] void bad_operands(const std::string& op, const Value& a, const Value& b, int line) {
  fail(line, "unsupported operand type(s) for " + op + ": '" + type_name(a) + "' and '" + type_name(b) + "'");
}

Value repeat(const Value& seq, int64_t n, int line) {
  if (n <= 0) return seq.is_string() ? Value::string("") : Value::list({}, seq.is_tuple());
  if (seq.is_string()) {
    const size_t size = seq.as_string().size();
    if (size != 0 && static_cast<uint64_t>(n) > kMaxBuiltBytes / size) fail(line, "string repetition result is too large");
    std::string out;
    out.reserve(size * n);
    for (int64_t i = 0; i < n; ++i) out += seq.as_string();
    return Value::string(std::move(out));
  }
  const size_t size = seq.as_list().size();
  if (size != 0 && static_cast<uint64_t>(n) > kMaxBuiltBytes / 16 / size) fail(line, "list repetition result is too large");
  List out;
  for (int64_t i = 0; i < n; ++i) out.insert(out.end(), seq.as_list().begin(), seq.as_list().end());
  return Value::list(std::move(out), seq.is_tuple());
}

[[noreturn]] void int_overflow(int line) { fail(line, "integer overflow (Fathom's template ints are 64-bit)"); }

}  // namespace

Value py_binary(const std::string& op, const Value& a, const Value& b, int line) {
  if (a.is_undefined()) undefined_error(a, line);
  if (b.is_undefined()) undefined_error(b, line);
  const bool ints = a.is_integral() && b.is_integral();
  const bool nums = a.is_number() && b.is_number();
  int64_t r = 0;
  if (op == "+") {
    if (ints) {
      if (__builtin_add_overflow(a.as_int(), b.as_int(), &r)) int_overflow(line);
      return Value::integer(r);
    }
    if (nums) return Value::floating(a.as_float() + b.as_float());
    if (a.is_string() && b.is_string()) return Value::string(a.as_string() + b.as_string());
    if (a.is_list() && b.is_list() && a.is_tuple() == b.is_tuple()) {
      List out = a.as_list();
      out.insert(out.end(), b.as_list().begin(), b.as_list().end());
      return Value::list(std::move(out), a.is_tuple());
    }
    if (a.is_string()) fail(line, "can only concatenate str (not \"" + type_name(b) + "\") to str");
    bad_operands(op, a, b, line);
  }
  if (op == "-") {
    if (ints) {
      if (__builtin_sub_overflow(a.as_int(), b.as_int(), &r)) int_overflow(line);
      return Value::integer(r);
    }
    if (nums) return Value::floating(a.as_float() - b.as_float());
    bad_operands(op, a, b, line);
  }
  if (op == "*") {
    if (ints) {
      if (__builtin_mul_overflow(a.as_int(), b.as_int(), &r)) int_overflow(line);
      return Value::integer(r);
    }
    if (nums) return Value::floating(a.as_float() * b.as_float());
    if ((a.is_string() || a.is_list()) && b.is_integral()) return repeat(a, b.as_int(), line);
    if ((b.is_string() || b.is_list()) && a.is_integral()) return repeat(b, a.as_int(), line);
    bad_operands(op, a, b, line);
  }
  if (op == "/") {
    if (!nums) bad_operands(op, a, b, line);
    if (b.as_float() == 0.0) fail(line, "division by zero");
    return Value::floating(a.as_float() / b.as_float());
  }
  if (op == "//" || op == "%") {
    if (a.is_string() && op == "%") fail(line, "unsupported construct: printf-style string formatting with '%'");
    if (!nums) bad_operands(op, a, b, line);
    if (ints) {
      const int64_t x = a.as_int(), y = b.as_int();
      if (y == 0) fail(line, op == "//" ? "integer division or modulo by zero" : "integer modulo by zero");
      if (x == INT64_MIN && y == -1) return op == "%" ? Value::integer(0) : (fail(line, "integer overflow"), Value());
      int64_t q = x / y, m = x % y;
      if (m != 0 && ((m < 0) != (y < 0))) {
        --q;
        m += y;
      }
      return Value::integer(op == "//" ? q : m);
    }
    const double x = a.as_float(), y = b.as_float();
    if (y == 0.0) fail(line, "float division by zero");
    // CPython's float_divmod.
    double mod = std::fmod(x, y);
    double div = (x - mod) / y;
    if (mod != 0.0) {
      if ((y < 0) != (mod < 0)) {
        mod += y;
        div -= 1.0;
      }
    } else {
      mod = std::copysign(0.0, y);
    }
    if (op == "%") return Value::floating(mod);
    double floordiv;
    if (div != 0.0) {
      floordiv = std::floor(div);
      if (div - floordiv > 0.5) floordiv += 1.0;
    } else {
      floordiv = std::copysign(0.0, x / y);
    }
    return Value::floating(floordiv);
  }
  if (op == "**") {
    if (!nums) bad_operands(op, a, b, line);
    if (ints && b.as_int() >= 0) {
      int64_t base = a.as_int(), e = b.as_int(), acc = 1;
      while (e > 0) {
        if ((e & 1) && __builtin_mul_overflow(acc, base, &acc)) int_overflow(line);
        e >>= 1;
        if (e > 0 && __builtin_mul_overflow(base, base, &base)) int_overflow(line);
      }
      return Value::integer(acc);
    }
    if (a.as_float() == 0.0 && b.as_float() < 0) fail(line, "0.0 cannot be raised to a negative power");
    return Value::floating(std::pow(a.as_float(), b.as_float()));
  }
  fail(line, "unknown operator '" + op + "'");
}

std::vector<Value> bind_args(const std::string& fn, const CallArgs& call, const std::vector<std::string>& params,
                             const std::vector<Value>& defaults, int line) {
  if (call.args.size() > params.size()) {
    fail(line, fn + "() takes at most " + std::to_string(params.size()) + " argument(s) (" +
                   std::to_string(call.args.size()) + " given)");
  }
  std::vector<Value> out(params.size());
  std::vector<bool> set(params.size(), false);
  for (size_t i = 0; i < call.args.size(); ++i) {
    out[i] = call.args[i];
    set[i] = true;
  }
  for (const auto& [k, v] : call.kwargs) {
    size_t i = 0;
    while (i < params.size() && params[i] != k) ++i;
    if (i == params.size()) fail(line, fn + "() got an unexpected keyword argument '" + k + "'");
    if (set[i]) fail(line, fn + "() got multiple values for argument '" + k + "'");
    out[i] = v;
    set[i] = true;
  }
  for (size_t i = 0; i < params.size(); ++i) {
    if (set[i]) continue;
    const bool required = i >= defaults.size() || (defaults[i].is_undefined() && defaults[i].as_string() == "required");
    if (required) fail(line, fn + "() missing required argument '" + params[i] + "'");
    out[i] = defaults[i];
  }
  return out;
}

}  // namespace fathom::jinja
