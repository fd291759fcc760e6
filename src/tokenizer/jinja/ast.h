// The parsed template: expression and statement nodes. Filters and tests are resolved to table entries at parse
// time, so an unknown name fails when the template is loaded, as in jinja2.
#pragma once
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tokenizer/jinja/value.h"

namespace fathom::jinja {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;
struct Stmt;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

enum class ExprKind : uint8_t {
  kConst,     // value
  kName,      // name
  kList,      // args = items (is_tuple for tuples)
  kDict,      // args = key0, value0, key1, value1...
  kGetAttr,   // args[0] . name
  kGetItem,   // args[0] [ args[1] ]
  kSlice,     // args[0] [ args[1] : args[2] : args[3] ] (null for an omitted bound)
  kCall,      // args[0] ( args[1..], kwargs )
  kFilter,    // args[0] | name ( args[1..], kwargs )
  kTest,      // args[0] is [not] name ( args[1..], kwargs )
  kUnary,     // op args[0]: "-", "+", "not"
  kBinary,    // args[0] op args[1]: + - * / // % ** ~ and or
  kCompare,   // args[0] ops[0] args[1] ops[1] args[2]... (Python chaining)
  kCondExpr,  // args[0] if args[1] else args[2] (args[2] null: undefined)
};

struct Expr {
  ExprKind kind;
  int line;
  Value value;                                         // kConst
  std::string name;                                    // name / attribute / filter / test / operator
  std::vector<ExprPtr> args;
  std::vector<std::pair<std::string, ExprPtr>> kwargs;
  std::vector<std::string> ops;                        // kCompare
  bool is_tuple = false;                               // kList
  bool negated = false;                                // kTest: `is not`
  int builtin = -1;                                    // kFilter/kTest: index into its table
};

enum class StmtKind : uint8_t {
  kText,      // text
  kOutput,    // {{ expr }} / {% print expr %}
  kIf,        // expr, body, else_body (elif = a nested kIf in else_body)
  kFor,       // targets, expr (iterable), cond (loop filter), body, else_body
  kSet,       // targets (names) or ns_attr, expr
  kSetBlock,  // targets[0], body (filter: `{% set x | f %}` is unsupported)
  kMacro,     // name, params, defaults, body
  kBreak,
  kContinue,
  kBlock,     // body rendered in place ({% generation %})
};

struct Stmt {
  StmtKind kind;
  int line;
  std::string text;                   // kText; kMacro name
  ExprPtr expr;
  ExprPtr cond;                       // kFor filter
  std::vector<std::string> targets;   // kFor/kSet names (several: tuple unpacking); kMacro parameters
  std::string attr;                   // kSet `ns.attr = ...`: targets[0] is the namespace, attr the attribute
  std::vector<ExprPtr> defaults;      // kMacro: default for each parameter (null: required)
  Body body;
  Body else_body;
};

struct Program {
  Body body;
};

}  // namespace fathom::jinja
