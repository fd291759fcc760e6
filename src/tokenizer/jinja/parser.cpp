#include "tokenizer/jinja/parser.h"

#include <algorithm>

#include "tokenizer/jinja/builtins.h"
#include "tokenizer/jinja/error.h"
#include "tokenizer/jinja/lexer.h"

namespace fathom::jinja {
namespace {

constexpr int kMaxDepth = 200;  // nesting of expressions and blocks; deeper input is refused, never overflows

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

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : toks_(std::move(tokens)) {}

  std::unique_ptr<Program> run() {
    auto program = std::make_unique<Program>();
    program->body = subparse({});
    return program;
  }

 private:
  // ---- token helpers ----
  const Token& cur() const { return toks_[pos_]; }
  const Token& peek(size_t k = 1) const { return toks_[std::min(pos_ + k, toks_.size() - 1)]; }
  void next() {
    if (pos_ + 1 < toks_.size()) ++pos_;
  }
  bool is_op(const char* op) const { return cur().kind == TokKind::kOp && cur().text == op; }
  bool is_name(const char* name) const { return cur().kind == TokKind::kName && cur().text == name; }
  bool skip_op(const char* op) {
    if (!is_op(op)) return false;
    next();
    return true;
  }
  bool skip_name(const char* name) {
    if (!is_name(name)) return false;
    next();
    return true;
  }
  void expect_op(const char* op) {
    if (!skip_op(op)) fail(cur().line, std::string("expected '") + op + "', got " + describe(cur()));
  }
  void expect(TokKind kind, const char* what) {
    if (cur().kind != kind) fail(cur().line, std::string("expected ") + what + ", got " + describe(cur()));
    next();
  }
  std::string expect_name(const char* what) {
    if (cur().kind != TokKind::kName) fail(cur().line, std::string("expected ") + what + ", got " + describe(cur()));
    std::string s = cur().text;
    next();
    return s;
  }

  struct DepthGuard {
    explicit DepthGuard(Parser* p) : p_(p) {
      if (++p_->depth_ > kMaxDepth) fail(p_->cur().line, "template nesting is too deep");
    }
    ~DepthGuard() { --p_->depth_; }
    Parser* p_;
  };

  // ---- statements ----
  // Parses until `{% <end> %}` for one of end_tokens; leaves the cursor on that end name.
  Body subparse(const std::vector<std::string>& end_tokens) {
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

  StmtPtr parse_statement() {
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

  StmtPtr parse_for() {
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

  StmtPtr parse_if() {
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

  StmtPtr parse_set() {
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

  StmtPtr parse_macro() {
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

  // `x` or `a, b` or `(a, b)`: names only.
  std::vector<std::string> parse_assign_names(const std::vector<std::string>& extra_end) {
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

  // ---- expressions ----
  bool is_tuple_end(const std::vector<std::string>& extra_end) const {
    const Token& t = cur();
    if (t.kind == TokKind::kVarEnd || t.kind == TokKind::kBlockEnd || t.kind == TokKind::kEof) return true;
    if (t.kind == TokKind::kOp && t.text == ")") return true;
    return t.kind == TokKind::kName && contains(extra_end, t.text);
  }

  ExprPtr parse_tuple(bool with_condexpr, const std::vector<std::string>& extra_end, bool explicit_parens) {
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

  ExprPtr parse_expression(bool with_condexpr) {
    DepthGuard guard(this);
    return with_condexpr ? parse_condexpr() : parse_or();
  }

  ExprPtr parse_condexpr() {
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

  ExprPtr binary(const std::string& op, ExprPtr a, ExprPtr b, int line) {
    auto e = make_expr(ExprKind::kBinary, line);
    e->name = op;
    e->args.push_back(std::move(a));
    e->args.push_back(std::move(b));
    return e;
  }

  ExprPtr parse_or() {
    ExprPtr left = parse_and();
    while (is_name("or")) {
      const int line = cur().line;
      next();
      left = binary("or", std::move(left), parse_and(), line);
    }
    return left;
  }

  ExprPtr parse_and() {
    ExprPtr left = parse_not();
    while (is_name("and")) {
      const int line = cur().line;
      next();
      left = binary("and", std::move(left), parse_not(), line);
    }
    return left;
  }

  ExprPtr parse_not() {
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

  ExprPtr parse_compare() {
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

  ExprPtr parse_math1() {
    ExprPtr left = parse_concat();
    while (is_op("+") || is_op("-")) {
      const std::string op = cur().text;
      const int line = cur().line;
      next();
      left = binary(op, std::move(left), parse_concat(), line);
    }
    return left;
  }

  ExprPtr parse_concat() {
    ExprPtr left = parse_math2();
    while (is_op("~")) {
      const int line = cur().line;
      next();
      left = binary("~", std::move(left), parse_math2(), line);
    }
    return left;
  }

  ExprPtr parse_math2() {
    ExprPtr left = parse_pow();
    while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
      const std::string op = cur().text;
      const int line = cur().line;
      next();
      left = binary(op, std::move(left), parse_pow(), line);
    }
    return left;
  }

  ExprPtr parse_pow() {
    ExprPtr left = parse_unary(true);
    while (is_op("**")) {
      const int line = cur().line;
      next();
      left = binary("**", std::move(left), parse_unary(true), line);
    }
    return left;
  }

  ExprPtr parse_unary(bool with_filter) {
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

  ExprPtr parse_primary() {
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

  ExprPtr parse_postfix(ExprPtr node) {
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

  ExprPtr parse_filter_expr(ExprPtr node) {
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

  ExprPtr parse_subscript(ExprPtr node) {
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

  // An index or a slice `a:b:c` (returned as a kSlice holding start, stop, step; the object is added later).
  ExprPtr parse_subscribed() {
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

  void parse_call_args(Expr* e) {
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

  ExprPtr parse_call(ExprPtr node) {
    DepthGuard guard(this);
    auto e = make_expr(ExprKind::kCall, cur().line);
    e->args.push_back(std::move(node));
    parse_call_args(e.get());
    return e;
  }

  std::string dotted_name() {
    std::string name = expect_name("a name");
    while (is_op(".") && peek().kind == TokKind::kName) {
      next();
      name += "." + cur().text;
      next();
    }
    return name;
  }

  ExprPtr parse_filter(ExprPtr node) {
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

  ExprPtr parse_test(ExprPtr node) {
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

  std::vector<Token> toks_;
  size_t pos_ = 0;
  int depth_ = 0;
  int loop_depth_ = 0;
};

}  // namespace

std::unique_ptr<Program> parse_template(const std::string& source) { return Parser(tokenize(source)).run(); }

}  // namespace fathom::jinja
