// jinja2's built-in tests (`x is defined`, `x is string`, `x is equalto y`...), with Python's type rules: bools
// are numbers, and jinja2's Undefined is iterable and a sequence.
#include "tokenizer/jinja/builtins.h"
#include "tokenizer/jinja/error.h"

namespace fathom::jinja {
namespace {

using K = Value::Kind;
using TestFn = bool (*)(const Value&, const CallArgs&, int);

const Value& arg(const CallArgs& a, const char* test, int line) {
  if (a.args.size() != 1 || !a.kwargs.empty()) fail(line, std::string("test '") + test + "' takes one argument");
  return a.args[0];
}
void no_args(const CallArgs& a, const char* test, int line) {
  if (!a.args.empty() || !a.kwargs.empty()) fail(line, std::string("test '") + test + "' takes no arguments");
}

bool t_defined(const Value& v, const CallArgs& a, int l) { no_args(a, "defined", l); return !v.is_undefined(); }
bool t_undefined(const Value& v, const CallArgs& a, int l) { no_args(a, "undefined", l); return v.is_undefined(); }
bool t_none(const Value& v, const CallArgs& a, int l) { no_args(a, "none", l); return v.is_none(); }
bool t_string(const Value& v, const CallArgs& a, int l) { no_args(a, "string", l); return v.is_string(); }
bool t_number(const Value& v, const CallArgs& a, int l) { no_args(a, "number", l); return v.is_number(); }
bool t_integer(const Value& v, const CallArgs& a, int l) { no_args(a, "integer", l); return v.kind() == K::kInt; }
bool t_float(const Value& v, const CallArgs& a, int l) { no_args(a, "float", l); return v.kind() == K::kFloat; }
bool t_boolean(const Value& v, const CallArgs& a, int l) { no_args(a, "boolean", l); return v.kind() == K::kBool; }
bool t_true(const Value& v, const CallArgs& a, int l) { no_args(a, "true", l); return v.kind() == K::kBool && v.as_bool(); }
bool t_false(const Value& v, const CallArgs& a, int l) { no_args(a, "false", l); return v.kind() == K::kBool && !v.as_bool(); }
bool t_mapping(const Value& v, const CallArgs& a, int l) { no_args(a, "mapping", l); return v.is_dict(); }
bool t_iterable(const Value& v, const CallArgs& a, int l) {
  no_args(a, "iterable", l);
  return v.is_undefined() || v.is_string() || v.is_list() || v.is_dict();
}
bool t_sequence(const Value& v, const CallArgs& a, int l) {
  no_args(a, "sequence", l);
  return v.is_undefined() || v.is_string() || v.is_list() || v.is_dict();
}
bool t_callable(const Value& v, const CallArgs& a, int l) {
  no_args(a, "callable", l);
  return v.kind() == K::kCallable || v.is_undefined();
}
bool t_escaped(const Value& v, const CallArgs& a, int l) { no_args(a, "escaped", l); return false; }
bool t_odd(const Value& v, const CallArgs& a, int l) {
  no_args(a, "odd", l);
  if (!v.is_integral()) fail(l, "test 'odd' needs an integer, got " + type_name(v));
  return v.as_int() % 2 != 0;
}
bool t_even(const Value& v, const CallArgs& a, int l) {
  no_args(a, "even", l);
  if (!v.is_integral()) fail(l, "test 'even' needs an integer, got " + type_name(v));
  return v.as_int() % 2 == 0;
}
bool t_divisibleby(const Value& v, const CallArgs& a, int l) {
  const Value& n = arg(a, "divisibleby", l);
  if (!v.is_integral() || !n.is_integral()) fail(l, "test 'divisibleby' needs integers");
  if (n.as_int() == 0) fail(l, "integer division or modulo by zero");
  if (n.as_int() == -1) return true;
  return v.as_int() % n.as_int() == 0;
}
bool t_lower(const Value& v, const CallArgs& a, int l) {
  no_args(a, "lower", l);
  if (!v.is_string()) return false;
  bool cased = false;
  for (char c : v.as_string()) {
    if (c >= 'A' && c <= 'Z') return false;
    cased = cased || (c >= 'a' && c <= 'z');
  }
  return cased;
}
bool t_upper(const Value& v, const CallArgs& a, int l) {
  no_args(a, "upper", l);
  if (!v.is_string()) return false;
  bool cased = false;
  for (char c : v.as_string()) {
    if (c >= 'a' && c <= 'z') return false;
    cased = cased || (c >= 'A' && c <= 'Z');
  }
  return cased;
}
bool t_eq(const Value& v, const CallArgs& a, int l) { return equals(v, arg(a, "eq", l)); }
bool t_ne(const Value& v, const CallArgs& a, int l) { return !equals(v, arg(a, "ne", l)); }
bool t_lt(const Value& v, const CallArgs& a, int l) { return py_compare(v, arg(a, "lt", l), "<", l) < 0; }
bool t_le(const Value& v, const CallArgs& a, int l) { return py_compare(v, arg(a, "le", l), "<=", l) <= 0; }
bool t_gt(const Value& v, const CallArgs& a, int l) { return py_compare(v, arg(a, "gt", l), ">", l) > 0; }
bool t_ge(const Value& v, const CallArgs& a, int l) { return py_compare(v, arg(a, "ge", l), ">=", l) >= 0; }
bool t_in(const Value& v, const CallArgs& a, int l) { return py_contains(arg(a, "in", l), v, l); }
bool t_sameas(const Value& v, const CallArgs& a, int l) {
  const Value& o = arg(a, "sameas", l);
  if (v.kind() != o.kind()) return false;
  switch (v.kind()) {
    case K::kNone:
    case K::kUndefined: return v.kind() == K::kNone;
    case K::kBool: return v.as_bool() == o.as_bool();
    case K::kList:
    case K::kDict:
    case K::kNamespace:
    case K::kCallable: return v.identity() == o.identity();
    default: return false;
  }
}

struct TestEntry {
  const char* name;
  TestFn fn;
};

constexpr TestEntry kTests[] = {
    {"defined", t_defined},   {"undefined", t_undefined}, {"none", t_none},       {"string", t_string},
    {"number", t_number},     {"integer", t_integer},     {"float", t_float},     {"boolean", t_boolean},
    {"true", t_true},         {"false", t_false},         {"mapping", t_mapping}, {"iterable", t_iterable},
    {"sequence", t_sequence}, {"callable", t_callable},   {"escaped", t_escaped}, {"odd", t_odd},
    {"even", t_even},         {"divisibleby", t_divisibleby}, {"lower", t_lower}, {"upper", t_upper},
    {"eq", t_eq},             {"equalto", t_eq},          {"==", t_eq},           {"ne", t_ne},
    {"!=", t_ne},             {"lt", t_lt},               {"lessthan", t_lt},     {"<", t_lt},
    {"le", t_le},             {"<=", t_le},               {"gt", t_gt},           {"greaterthan", t_gt},
    {">", t_gt},              {"ge", t_ge},               {">=", t_ge},           {"in", t_in},
    {"sameas", t_sameas},
};

}  // namespace

int find_test(const std::string& name) {
  for (size_t i = 0; i < std::size(kTests); ++i) {
    if (name == kTests[i].name) return static_cast<int>(i);
  }
  return -1;
}

bool apply_test(int id, const Value& subject, const CallArgs& args, int line) { return kTests[id].fn(subject, args, line); }

}  // namespace fathom::jinja
