#include "tokenizer/jinja/parser.h"

#include <algorithm>

#include "tokenizer/jinja/builtins.h"
#include "tokenizer/jinja/parser_impl.h"

namespace fathom::jinja {

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

ExprPtr make_expr(ExprKind kind, int line) {
  auto e = std::make_unique<Expr>();
  e->kind = kind;
  e->line = line;
  return e;
}

StmtPtr make_stmt(StmtKind kind, int line) {
  auto s = std::make_unique<Stmt>();
  s->kind = kind;
  s->line = line;
  return s;
}

std::string describe(const Token& t) {
  switch (t.kind) {
    case TokKind::kText: return "template text";
    case TokKind::kBlockBegin: return "'{%'";
    case TokKind::kBlockEnd: return "end of statement block";
    case TokKind::kVarBegin: return "'{{'";
    case TokKind::kVarEnd: return "end of print statement";
    case TokKind::kEof: return "end of template";
    case TokKind::kString: return "string";
    case TokKind::kInt: return "integer";
    case TokKind::kFloat: return "float";
    default: return "'" + t.text + "'";
  }
}

Body Parser::subparse(const std::vector<std::string>& end_tokens) {
  DepthGuard guard(this);
  Body body;
  while (true) {
    const Token& t = cur();
    if (t.kind == TokKind::kEof) {
      if (!end_tokens.empty()) {
        fail(t.line, "unexpected end of template; looking for '{% " + end_tokens.back() + " %}'");
      }
      return body;
    }
    if (t.kind == TokKind::kText) {
      auto s = make_stmt(StmtKind::kText, t.line);
      s->text = t.text;
      body.push_back(std::move(s));
      next();
    } else if (t.kind == TokKind::kVarBegin) {
      next();
      auto s = make_stmt(StmtKind::kOutput, t.line);
      s->expr = parse_tuple(true, {}, false);
      expect(TokKind::kVarEnd, "end of print statement '}}'");
      body.push_back(std::move(s));
    } else if (t.kind == TokKind::kBlockBegin) {
      next();
      if (cur().kind != TokKind::kName) fail(cur().line, "expected a statement name after '{%', got " + describe(cur()));
      if (contains(end_tokens, cur().text)) return body;
      body.push_back(parse_statement());
    } else {
      fail(t.line, "unexpected " + describe(t));
    }
  }
}

StmtPtr Parser::parse_statement() {
  const Token& t = cur();
  const std::string& n = t.text;
  if (n == "for") return parse_for();
  if (n == "if") return parse_if();
  if (n == "set") return parse_set();
  if (n == "macro") return parse_macro();
  if (n == "print") {
    next();
    auto s = make_stmt(StmtKind::kOutput, t.line);
    s->expr = parse_tuple(true, {}, false);
    expect(TokKind::kBlockEnd, "'%}'");
    return s;
  }
  if (n == "break" || n == "continue") {
    if (loop_depth_ == 0) fail(t.line, "'" + n + "' outside of a for loop");
    auto s = make_stmt(n == "break" ? StmtKind::kBreak : StmtKind::kContinue, t.line);
    next();
    expect(TokKind::kBlockEnd, "'%}'");
    return s;
  }
  if (n == "generation") {  // HF's AssistantTracker extension: renders its body in place
    next();
    expect(TokKind::kBlockEnd, "'%}'");
    auto s = make_stmt(StmtKind::kBlock, t.line);
    s->body = subparse({"endgeneration"});
    next();
    expect(TokKind::kBlockEnd, "'%}'");
    return s;
  }
  static const std::vector<std::string> kUnsupported = {"block", "extends", "include", "import", "from", "with",
                                                        "autoescape", "call", "filter", "do", "trans"};
  if (contains(kUnsupported, n)) fail(t.line, "unsupported construct: '{% " + n + " %}' statement");
  fail(t.line, "unknown statement '{% " + n + " %}'");
}

StmtPtr Parser::parse_for() {
  auto s = make_stmt(StmtKind::kFor, cur().line);
  next();
  s->targets = parse_assign_names({"in"});
  if (!skip_name("in")) fail(cur().line, "expected 'in' in for loop, got " + describe(cur()));
  s->expr = parse_tuple(false, {"recursive"}, false);
  if (skip_name("if")) s->cond = parse_expression(true);
  if (is_name("recursive")) fail(cur().line, "unsupported construct: recursive for loop");
  expect(TokKind::kBlockEnd, "'%}'");
  ++loop_depth_;
  s->body = subparse({"endfor", "else"});
  --loop_depth_;
  if (cur().text == "else") {
    next();
    expect(TokKind::kBlockEnd, "'%}'");
    s->else_body = subparse({"endfor"});
  }
  next();
  expect(TokKind::kBlockEnd, "'%}'");
  return s;
}

StmtPtr Parser::parse_if() {
  auto s = make_stmt(StmtKind::kIf, cur().line);
  next();
  s->expr = parse_tuple(false, {}, false);
  expect(TokKind::kBlockEnd, "'%}'");
  s->body = subparse({"elif", "else", "endif"});
  Stmt* last = s.get();
  while (cur().text == "elif") {
    auto elif = make_stmt(StmtKind::kIf, cur().line);
    next();
    elif->expr = parse_tuple(false, {}, false);
    expect(TokKind::kBlockEnd, "'%}'");
    elif->body = subparse({"elif", "else", "endif"});
    Stmt* raw = elif.get();
    last->else_body.push_back(std::move(elif));
    last = raw;
  }
  if (cur().text == "else") {
    next();
    expect(TokKind::kBlockEnd, "'%}'");
    last->else_body = subparse({"endif"});
  }
  next();
  expect(TokKind::kBlockEnd, "'%}'");
  return s;
}

StmtPtr Parser::parse_set() {
  const int line = cur().line;
  next();
  auto s = make_stmt(StmtKind::kSet, line);
  if (cur().kind == TokKind::kName && peek().kind == TokKind::kOp && peek().text == ".") {
    s->targets.push_back(cur().text);
    next();
    next();
    s->attr = expect_name("an attribute name");
  } else {
    s->targets = parse_assign_names({});
  }
  if (skip_op("=")) {
    s->expr = parse_tuple(true, {}, false);
    expect(TokKind::kBlockEnd, "'%}'");
    return s;
  }
  if (!s->attr.empty() || s->targets.size() != 1) fail(line, "expected '=' in set statement");
  if (is_op("|")) fail(line, "unsupported construct: filtered block set '{% set x | filter %}'");
  expect(TokKind::kBlockEnd, "'=' or '%}'");
  s->kind = StmtKind::kSetBlock;
  s->body = subparse({"endset"});
  next();
  expect(TokKind::kBlockEnd, "'%}'");
  return s;
}

StmtPtr Parser::parse_macro() {
  auto s = make_stmt(StmtKind::kMacro, cur().line);
  next();
  s->text = expect_name("a macro name");
  expect_op("(");
  while (!is_op(")")) {
    if (!s->targets.empty()) expect_op(",");
    if (is_op(")")) break;
    const std::string param = expect_name("a parameter name");
    if (param == "caller" || param == "varargs" || param == "kwargs") {
      fail(s->line, "unsupported construct: macro parameter '" + param + "'");
    }
    s->targets.push_back(param);
    if (skip_op("=")) {
      s->defaults.push_back(parse_expression(true));
    } else {
      if (!s->defaults.empty() && s->defaults.back()) fail(s->line, "non-default argument follows default argument");
      s->defaults.push_back(nullptr);
    }
  }
  next();
  expect(TokKind::kBlockEnd, "'%}'");
  const int saved_loops = loop_depth_;
  loop_depth_ = 0;
  s->body = subparse({"endmacro"});
  loop_depth_ = saved_loops;
  next();
  expect(TokKind::kBlockEnd, "'%}'");
  return s;
}

std::vector<std::string> Parser::parse_assign_names(const std::vector<std::string>& extra_end) {
  std::vector<std::string> names;
  const bool paren = skip_op("(");
  while (true) {
    if (!names.empty()) {
      if (!skip_op(",")) break;
      if (cur().kind != TokKind::kName || contains(extra_end, cur().text)) break;
    }
    const Token& t = cur();
    if (t.kind != TokKind::kName) fail(t.line, "can't assign to " + describe(t));
    static const std::vector<std::string> kConsts = {"true", "false", "none", "True", "False", "None"};
    if (contains(kConsts, t.text)) fail(t.line, "can't assign to constant '" + t.text + "'");
    names.push_back(t.text);
    next();
  }
  if (paren) expect_op(")");
  return names;
}

std::unique_ptr<Program> parse_template(const std::string& source) { return Parser(tokenize(source)).run(); }

}  // namespace fathom::jinja
