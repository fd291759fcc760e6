// The interpreter's value: Python's types as jinja2 sees them (Undefined, None, bool, int, float, str, list/tuple,
// dict, namespace, callables). Lists and dicts are immutable once built (the HF sandbox forbids mutating them), so
// they are shared; a namespace is the one mutable object (`{% set ns.x = ... %}`).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace fathom::jinja {

class Value;
using List = std::vector<Value>;
using Dict = std::vector<std::pair<Value, Value>>;  // insertion order, like a Python dict
struct Namespace {
  std::vector<std::pair<std::string, Value>> attrs;
};
struct Stmt;

// Something a template can call: a global function, a bound method of a value, or a macro.
struct Callable {
  enum class Kind : uint8_t { kGlobal, kMethod, kMacro };
  Kind kind;
  std::string name;                      // global/method/macro name
  std::shared_ptr<const Value> self;     // kMethod: the receiver
  const Stmt* macro = nullptr;           // kMacro: its definition (owned by the Program)
};

class Value {
 public:
  enum class Kind : uint8_t { kUndefined, kNone, kBool, kInt, kFloat, kString, kList, kDict, kNamespace, kCallable };

  Value() = default;  // undefined
  static Value undefined(std::string hint);  // hint: why, for the error raised when it is used ("'x' is undefined")
  static Value none();
  static Value boolean(bool b);
  static Value integer(int64_t i);
  static Value floating(double f);
  static Value string(std::string s);
  static Value list(List items, bool is_tuple = false);
  static Value dict(Dict items);
  static Value make_namespace(std::shared_ptr<Namespace> ns);
  static Value callable(Callable c);

  Kind kind() const { return kind_; }
  bool is_undefined() const { return kind_ == Kind::kUndefined; }
  bool is_none() const { return kind_ == Kind::kNone; }
  bool is_string() const { return kind_ == Kind::kString; }
  bool is_list() const { return kind_ == Kind::kList; }
  bool is_dict() const { return kind_ == Kind::kDict; }
  bool is_tuple() const { return kind_ == Kind::kList && tuple_; }
  // int or bool (Python bools are ints) / any number.
  bool is_integral() const { return kind_ == Kind::kInt || kind_ == Kind::kBool; }
  bool is_number() const { return is_integral() || kind_ == Kind::kFloat; }

  bool as_bool() const { return b_; }
  int64_t as_int() const { return kind_ == Kind::kBool ? (b_ ? 1 : 0) : i_; }
  double as_float() const { return kind_ == Kind::kFloat ? f_ : static_cast<double>(as_int()); }
  const std::string& as_string() const { return s_; }  // also the hint of an undefined
  const List& as_list() const { return *list_; }
  const Dict& as_dict() const { return *dict_; }
  Namespace& as_namespace() const { return *ns_; }
  const Callable& as_callable() const { return *fn_; }
  const void* identity() const;  // for `is sameas` and namespace equality

  // Nesting depth of lists/dicts (scalars: 0); bounded by kMaxNesting so recursive walks cannot overflow the stack.
  int depth() const { return depth_; }
  static constexpr int kMaxNesting = 512;

  // Dict lookup by string key (nullptr when absent).
  const Value* find(const std::string& key) const;

 private:
  Kind kind_ = Kind::kUndefined;
  bool b_ = false;
  bool tuple_ = false;
  int16_t depth_ = 0;
  int64_t i_ = 0;
  double f_ = 0;
  std::string s_;
  std::shared_ptr<const List> list_;
  std::shared_ptr<const Dict> dict_;
  std::shared_ptr<Namespace> ns_;
  std::shared_ptr<const Callable> fn_;
};

// Python truthiness (Undefined is false).
bool truthy(const Value& v);
// Python ==, with jinja2's Undefined (equal only to another Undefined).
bool equals(const Value& a, const Value& b);
// Python's type name as jinja2 error messages show it ("str", "int", "dict", "NoneType", "Undefined"...).
std::string type_name(const Value& v);
// Python str() and repr(). Undefined prints as "".
std::string to_str(const Value& v);
std::string to_repr(const Value& v);
// Python repr() of a float: shortest round-trip digits, "1.0", "1e-05", "1e+16", "inf", "nan".
std::string float_repr(double f);

Value from_json(const nlohmann::json& j);
Value from_json(const nlohmann::ordered_json& j);

}  // namespace fathom::jinja
