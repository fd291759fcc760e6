// The built-in callables a template can reach: filters (`x | trim`), tests (`x is defined`), Python methods of
// str/dict/list (`s.split('/')`), and the global functions HF's environment defines (raise_exception, namespace,
// range, dict, strftime_now). Each lives in its own .cpp; errors are thrown as TemplateError naming the line.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "tokenizer/jinja/value.h"

namespace fathom::jinja {

struct CallArgs {
  std::vector<Value> args;
  std::vector<std::pair<std::string, Value>> kwargs;
};

// Binds positional and keyword arguments to named parameters, Python style. `defaults` gives each parameter's
// default (an undefined Value marks a required one). Throws on unknown, duplicate or missing arguments.
std::vector<Value> bind_args(const std::string& fn, const CallArgs& call, const std::vector<std::string>& params,
                             const std::vector<Value>& defaults, int line);

// Filters (filters.cpp). find_filter returns -1 for an unknown name.
int find_filter(const std::string& name);
Value apply_filter(int id, const Value& subject, const CallArgs& args, int line);

// Tests (tests.cpp). find_test returns -1 for an unknown name.
int find_test(const std::string& name);
bool apply_test(int id, const Value& subject, const CallArgs& args, int line);

// Methods of str, dict and list (methods.cpp); the mutating ones are refused as in HF's immutable sandbox.
bool has_method(const Value& self, const std::string& name);
Value call_method(const Value& self, const std::string& name, const CallArgs& args, int line);

// Global functions (globals.cpp): names a template may call without defining them.
bool is_global_function(const std::string& name);
Value call_global(const std::string& name, const CallArgs& args, int line);

// Python semantics shared by filters and the evaluator (ops.cpp).
Value py_getitem(const Value& obj, const Value& key, int line);   // obj[key], jinja2's environment.getitem
Value py_getattr(const Value& obj, const std::string& name, int line);  // obj.name, jinja2's environment.getattr
Value py_slice(const Value& obj, const Value& start, const Value& stop, const Value& step, int line);
List py_iterate(const Value& v, int line);       // for-loop items: list, dict keys, string chars; undefined: none
int64_t py_len(const Value& v, int line);
int py_compare(const Value& a, const Value& b, const std::string& op, int line);  // <0, 0, >0 for < / == / >
bool py_contains(const Value& container, const Value& item, int line);
Value py_binary(const std::string& op, const Value& a, const Value& b, int line);  // + - * / // % **
// Raises jinja2's UndefinedError for an operation on an undefined value.
[[noreturn]] void undefined_error(const Value& v, int line);

}  // namespace fathom::jinja
