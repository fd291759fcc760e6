// Expression parsing: jinja2's grammar and precedence (condexpr < or < and < not < compare < +,- < ~ < *,/,//,%
// < ** < unary, with filters, tests and calls binding at the unary level).
#include <algorithm>

#include "tokenizer/jinja/builtins.h"
#include "tokenizer/jinja/parser_impl.h"

namespace fathom::jinja {

bool Parser::is_tuple_end(const std::vector<std::string>& extra_end) const {
  const Token& t = cur();
  if (t.kind == TokKind::kVarEnd || t.kind == TokKind::kBlockEnd || t.kind == TokKind::kEof) return true;
  if (t.kind == TokKind::kOp && t.text == ")") return true;
  return t.kind == TokKind::kName && contains(extra_end, t.text);
}

ExprPtr Parser::parse_tuple(bool with_condexpr, const std::vector<std::string>& extra_end, bool explicit_parens) {
  const int line = cur().line;
  std::vector<ExprPtr> items;
  bool is_tuple = false;
  while (true) {
    if (!items.empty()) expect_op(",");
    if (is_tuple_end(extra_end)) break;
    items.push_back(parse_expression(with_condexpr));
    if (is_op(",")) {
      is_tuple = true;
    } else {
      break;
    }
  }
  if (!is_tuple) {
    if (!items.empty()) return std::move(items[0]);
    if (!explicit_parens) fail(line, "expected an expression, got " + describe(cur()));
  }
  auto e = make_expr(ExprKind::kList, line);
  e->args = std::move(items);
  e->is_tuple = true;
  return e;
}

ExprPtr Parser::parse_expression(bool with_condexpr) {
  DepthGuard guard(this);
  return with_condexpr ? parse_condexpr() : parse_or();
}

ExprPtr Parser::parse_condexpr() {
  ExprPtr expr1 = parse_or();
  while (is_name("if")) {
    const int line = cur().line;
    next();
    ExprPtr cond = parse_or();
    ExprPtr other = skip_name("else") ? parse_condexpr() : nullptr;
    auto e = make_expr(ExprKind::kCondExpr, line);
    e->args.push_back(std::move(expr1));
    e->args.push_back(std::move(cond));
    e->args.push_back(std::move(other));
    expr1 = std::move(e);
  }
  return expr1;
}

ExprPtr Parser::binary(const std::string& op, ExprPtr a, ExprPtr b, int line) {
  auto e = make_expr(ExprKind::kBinary, line);
  e->name = op;
  e->args.push_back(std::move(a));
  e->args.push_back(std::move(b));
  return e;
}

ExprPtr Parser::parse_or() {
  ExprPtr left = parse_and();
  while (is_name("or")) {
    const int line = cur().line;
    next();
    left = binary("or", std::move(left), parse_and(), line);
  }
  return left;
}

ExprPtr Parser::parse_and() {
  ExprPtr left = parse_not();
  while (is_name("and")) {
    const int line = cur().line;
    next();
    left = binary("and", std::move(left), parse_not(), line);
  }
  return left;
}

ExprPtr Parser::parse_not() {
  if (is_name("not")) {
    DepthGuard guard(this);
    auto e = make_expr(ExprKind::kUnary, cur().line);
    next();
    e->name = "not";
    e->args.push_back(parse_not());
    return e;
  }
  return parse_compare();
}

ExprPtr Parser::parse_compare() {
  const int line = cur().line;
  ExprPtr first = parse_math1();
  auto e = make_expr(ExprKind::kCompare, line);
  while (true) {
    static const std::vector<std::string> kCmp = {"==", "!=", "<", "<=", ">", ">="};
    if (cur().kind == TokKind::kOp && contains(kCmp, cur().text)) {
      e->ops.push_back(cur().text);
      next();
    } else if (is_name("in")) {
      e->ops.push_back("in");
      next();
    } else if (is_name("not") && peek().kind == TokKind::kName && peek().text == "in") {
      e->ops.push_back("not in");
      next();
      next();
    } else {
      break;
    }
    e->args.push_back(parse_math1());
  }
  if (e->ops.empty()) return first;
  e->args.insert(e->args.begin(), std::move(first));
  return e;
}

ExprPtr Parser::parse_concat() {
  ExprPtr left = parse_math2();
  while (is_op("~")) {
    const int line = cur().line;
    next();
    left = binary("~", std::move(left), parse_math2(), line);
  }
  return left;
}

ExprPtr Parser::parse_pow() {
  ExprPtr left = parse_unary(true);
  while (is_op("**")) {
    const int line = cur().line;
    next();
    left = binary("**", std::move(left), parse_unary(true), line);
  }
  return left;
}

ExprPtr Parser::parse_unary(bool with_filter) {
  DepthGuard guard(this);
  ExprPtr node;
  if (is_op("-") || is_op("+")) {
    node = make_expr(ExprKind::kUnary, cur().line);
    node->name = cur().text;
    next();
    node->args.push_back(parse_unary(false));
  } else {
    node = parse_primary();
  }
  node = parse_postfix(std::move(node));
  if (with_filter) node = parse_filter_expr(std::move(node));
  return node;
}

ExprPtr Parser::parse_primary() {
  const Token& t = cur();
  if (t.kind == TokKind::kName) {
    auto e = make_expr(ExprKind::kConst, t.line);
    if (t.text == "true" || t.text == "True") {
      e->value = Value::boolean(true);
    } else if (t.text == "false" || t.text == "False") {
      e->value = Value::boolean(false);
    } else if (t.text == "none" || t.text == "None") {
      e->value = Value::none();
    } else {
      e->kind = ExprKind::kName;
      e->name = t.text;
    }
    next();
    return e;
  }
  if (t.kind == TokKind::kString) {
    auto e = make_expr(ExprKind::kConst, t.line);
    std::string s;
    while (cur().kind == TokKind::kString) {
      s += cur().text;
      next();
    }
    e->value = Value::string(std::move(s));
    return e;
  }
  if (t.kind == TokKind::kInt || t.kind == TokKind::kFloat) {
    auto e = make_expr(ExprKind::kConst, t.line);
    e->value = t.kind == TokKind::kInt ? Value::integer(t.int_value) : Value::floating(t.float_value);
    next();
    return e;
  }
  if (is_op("(")) {
    next();
    ExprPtr e = parse_tuple(true, {}, true);
    expect_op(")");
    return e;
  }
  if (is_op("[")) {
    auto e = make_expr(ExprKind::kList, t.line);
    next();
    while (!is_op("]")) {
      if (!e->args.empty()) expect_op(",");
      if (is_op("]")) break;
      e->args.push_back(parse_expression(true));
    }
    expect_op("]");
    return e;
  }
  if (is_op("{")) {
    auto e = make_expr(ExprKind::kDict, t.line);
    next();
    while (!is_op("}")) {
      if (!e->args.empty()) expect_op(",");
      if (is_op("}")) break;
      e->args.push_back(parse_expression(true));
      expect_op(":");
      e->args.push_back(parse_expression(true));
    }
    expect_op("}");
    return e;
  }
  fail(t.line, "unexpected " + describe(t));
}

ExprPtr Parser::parse_postfix(ExprPtr node) {
  while (true) {
    if (is_op(".") || is_op("[")) {
      node = parse_subscript(std::move(node));
    } else if (is_op("(")) {
      node = parse_call(std::move(node));
    } else {
      return node;
    }
  }
}

ExprPtr Parser::parse_filter_expr(ExprPtr node) {
  while (true) {
    if (is_op("|")) {
      node = parse_filter(std::move(node));
    } else if (is_name("is")) {
      node = parse_test(std::move(node));
    } else if (is_op("(")) {
      node = parse_call(std::move(node));
    } else {
      return node;
    }
  }
}

ExprPtr Parser::parse_subscript(ExprPtr node) {
  DepthGuard guard(this);
  const int line = cur().line;
  if (skip_op(".")) {
    if (cur().kind == TokKind::kName) {
      auto e = make_expr(ExprKind::kGetAttr, line);
      e->name = cur().text;
      e->args.push_back(std::move(node));
      next();
      return e;
    }
    if (cur().kind == TokKind::kInt) {
      auto e = make_expr(ExprKind::kGetItem, line);
      auto key = make_expr(ExprKind::kConst, line);
      key->value = Value::integer(cur().int_value);
      e->args.push_back(std::move(node));
      e->args.push_back(std::move(key));
      next();
      return e;
    }
    fail(line, "expected name or number after '.', got " + describe(cur()));
  }
  expect_op("[");
  std::vector<ExprPtr> items;
  while (!is_op("]")) {
    if (!items.empty()) expect_op(",");
    items.push_back(parse_subscribed());
  }
  expect_op("]");
  if (items.empty()) fail(line, "expected a subscript, got ']'");
  if (items.size() > 1) {
    for (const auto& item : items) {
      if (item->kind == ExprKind::kSlice) fail(line, "unsupported construct: multi-dimensional slice");
    }
  }
  ExprPtr key;
  if (items.size() == 1) {
    key = std::move(items[0]);
  } else {
    key = make_expr(ExprKind::kList, line);
    key->is_tuple = true;
    key->args = std::move(items);
  }
  if (key->kind == ExprKind::kSlice) {
    key->args.insert(key->args.begin(), std::move(node));
    return key;
  }
  auto e = make_expr(ExprKind::kGetItem, line);
  e->args.push_back(std::move(node));
  e->args.push_back(std::move(key));
  return e;
}

ExprPtr Parser::parse_subscribed() {
  const int line = cur().line;
  ExprPtr start;
  if (!is_op(":")) {
    start = parse_expression(true);
    if (!is_op(":")) return start;
  }
  next();  // ':'
  auto e = make_expr(ExprKind::kSlice, line);
  e->args.push_back(std::move(start));
  e->args.push_back((is_op("]") || is_op(",") || is_op(":")) ? nullptr : parse_expression(true));
  if (skip_op(":")) {
    e->args.push_back((is_op("]") || is_op(",")) ? nullptr : parse_expression(true));
  } else {
    e->args.push_back(nullptr);
  }
  return e;
}

void Parser::parse_call_args(Expr* e) {
  expect_op("(");
  bool first = true;
  while (!is_op(")")) {
    if (!first) expect_op(",");
    first = false;
    if (is_op(")")) break;
    if (is_op("*") || is_op("**")) fail(cur().line, "unsupported construct: *args/**kwargs in a call");
    if (cur().kind == TokKind::kName && peek().kind == TokKind::kOp && peek().text == "=") {
      std::string key = cur().text;
      next();
      next();
      for (const auto& kw : e->kwargs) {
        if (kw.first == key) fail(e->line, "keyword argument '" + key + "' repeated");
      }
      e->kwargs.emplace_back(std::move(key), parse_expression(true));
    } else {
      if (!e->kwargs.empty()) fail(cur().line, "positional argument follows keyword argument");
      e->args.push_back(parse_expression(true));
    }
  }
  next();
}

ExprPtr Parser::parse_call(ExprPtr node) {
  DepthGuard guard(this);
  auto e = make_expr(ExprKind::kCall, cur().line);
  e->args.push_back(std::move(node));
  parse_call_args(e.get());
  return e;
}

std::string Parser::dotted_name() {
  std::string name = expect_name("a name");
  while (is_op(".") && peek().kind == TokKind::kName) {
    next();
    name += "." + cur().text;
    next();
  }
  return name;
}

ExprPtr Parser::parse_filter(ExprPtr node) {
  DepthGuard guard(this);
  auto e = make_expr(ExprKind::kFilter, cur().line);
  next();  // '|'
  e->name = dotted_name();
  e->builtin = find_filter(e->name);
  if (e->builtin < 0) fail(e->line, "unknown filter '" + e->name + "'");
  e->args.push_back(std::move(node));
  if (is_op("(")) parse_call_args(e.get());
  return e;
}

ExprPtr Parser::parse_test(ExprPtr node) {
  DepthGuard guard(this);
  auto e = make_expr(ExprKind::kTest, cur().line);
  next();  // 'is'
  e->negated = skip_name("not");
  e->name = dotted_name();
  e->builtin = find_test(e->name);
  if (e->builtin < 0) fail(e->line, "unknown test '" + e->name + "'");
  e->args.push_back(std::move(node));
  const Token& t = cur();
  if (is_op("(")) {
    parse_call_args(e.get());
  } else if ((t.kind == TokKind::kName || t.kind == TokKind::kString || t.kind == TokKind::kInt ||
              t.kind == TokKind::kFloat || is_op("[") || is_op("{")) &&
             !(is_name("else") || is_name("or") || is_name("and"))) {
    if (is_name("is")) fail(t.line, "you cannot chain multiple tests with 'is'");
    e->args.push_back(parse_postfix(parse_primary()));
  }
  return e;
}

}  // namespace fathom::jinja
