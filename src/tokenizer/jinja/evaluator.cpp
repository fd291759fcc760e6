#include "tokenizer/jinja/evaluator.h"

#include <memory>
#include <utility>
#include <vector>

#include "tokenizer/jinja/builtins.h"
#include "tokenizer/jinja/error.h"

namespace fathom::jinja {
namespace {

struct Frame {
  std::vector<std::pair<std::string, Value>> vars;
  Frame* parent = nullptr;

  Value* find_local(const std::string& name) {
    for (auto& [k, v] : vars) {
      if (k == name) return &v;
    }
    return nullptr;
  }
  void set(const std::string& name, Value v) {
    if (Value* slot = find_local(name)) {
      *slot = std::move(v);
    } else {
      vars.emplace_back(name, std::move(v));
    }
  }
};

enum class Flow { kNormal, kBreak, kContinue };

class Evaluator {
 public:
  Evaluator(const RenderLimits& limits, std::string* out) : limits_(limits), out_(out) {}
  ~Evaluator() {
    for (const Value& ns : namespaces_) ns.as_namespace().attrs.clear();
  }

  void run(const Program& program, const Value& context) {
    Frame globals;
    if (context.is_dict()) {
      for (const auto& [k, v] : context.as_dict()) {
        if (k.is_string()) globals.set(k.as_string(), v);
      }
    }
    Frame root;
    root.parent = &globals;
    root_ = &root;
    exec_body(program.body, &root);
  }

 private:
  void step(int line) {
    if (++steps_ > limits_.max_steps) fail(line, "template rendering exceeded its step budget");
  }

  void emit(const std::string& s, int line) {
    if (out_->size() + s.size() > limits_.max_output_bytes) fail(line, "rendered output exceeds the size limit");
    out_->append(s);
  }

  Flow exec_body(const Body& body, Frame* frame) {
    for (const auto& stmt : body) {
      const Flow flow = exec(*stmt, frame);
      if (flow != Flow::kNormal) return flow;
    }
    return Flow::kNormal;
  }

  Flow exec(const Stmt& s, Frame* frame) {
    step(s.line);
    switch (s.kind) {
      case StmtKind::kText: emit(s.text, s.line); return Flow::kNormal;
      case StmtKind::kOutput: emit(to_str(eval(*s.expr, frame)), s.line); return Flow::kNormal;
      case StmtKind::kIf:
        return exec_body(truthy(eval(*s.expr, frame)) ? s.body : s.else_body, frame);
      case StmtKind::kFor: return exec_for(s, frame);
      case StmtKind::kSet: exec_set(s, frame); return Flow::kNormal;
      case StmtKind::kSetBlock: {
        std::string captured;
        std::string* saved = out_;
        out_ = &captured;
        const Flow flow = exec_body(s.body, frame);
        out_ = saved;
        frame->set(s.targets[0], Value::string(std::move(captured)));
        return flow;
      }
      case StmtKind::kMacro: {
        Callable c{Callable::Kind::kMacro, s.text, nullptr, &s};
        frame->set(s.text, Value::callable(std::move(c)));
        return Flow::kNormal;
      }
      case StmtKind::kBreak: return Flow::kBreak;
      case StmtKind::kContinue: return Flow::kContinue;
      case StmtKind::kBlock: return exec_body(s.body, frame);
    }
    return Flow::kNormal;
  }

  void assign(const std::vector<std::string>& targets, const Value& v, Frame* frame, int line) {
    if (targets.size() == 1) {
      frame->set(targets[0], v);
      return;
    }
    const List items = py_iterate(v, line);
    if (!v.is_list() && !v.is_string() && !v.is_dict()) fail(line, "cannot unpack non-iterable " + type_name(v) + " object");
    if (items.size() != targets.size()) {
      fail(line, items.size() < targets.size()
                     ? "not enough values to unpack (expected " + std::to_string(targets.size()) + ", got " + std::to_string(items.size()) + ")"
                     : "too many values to unpack (expected " + std::to_string(targets.size()) + ")");
    }
    for (size_t i = 0; i < targets.size(); ++i) frame->set(targets[i], items[i]);
  }

  void exec_set(const Stmt& s, Frame* frame) {
    Value v = eval(*s.expr, frame);
    if (s.attr.empty()) {
      assign(s.targets, v, frame, s.line);
      return;
    }
    const Value target = lookup(s.targets[0], frame);
    if (target.kind() != Value::Kind::kNamespace) fail(s.line, "cannot assign attribute on non-namespace object");
    if (!s.attr.empty() && s.attr[0] == '_') {
      fail(s.line, "chat templates cannot store underscore-prefixed attributes on a namespace ('" + s.attr + "')");
    }
    auto& attrs = target.as_namespace().attrs;
    for (auto& [k, val] : attrs) {
      if (k == s.attr) {
        val = std::move(v);
        return;
      }
    }
    attrs.emplace_back(s.attr, std::move(v));
  }

  Flow exec_for(const Stmt& s, Frame* frame) {
    const Value iterable = eval(*s.expr, frame);
    List items = py_iterate(iterable, s.line);
    if (s.cond) {
      List kept;
      for (const Value& item : items) {
        step(s.line);
        Frame filter_frame;
        filter_frame.parent = frame;
        assign(s.targets, item, &filter_frame, s.line);
        if (truthy(eval(*s.cond, &filter_frame))) kept.push_back(item);
      }
      items = std::move(kept);
    }
    const auto n = static_cast<int64_t>(items.size());
    for (int64_t i = 0; i < n; ++i) {
      step(s.line);
      // jinja2 gives every iteration a fresh scope: a `set` in the body is gone at the next iteration.
      Frame loop_frame;
      loop_frame.parent = frame;
      assign(s.targets, items[i], &loop_frame, s.line);
      Dict loop;
      loop.reserve(11);
      auto put = [&](const char* k, Value v) { loop.emplace_back(Value::string(k), std::move(v)); };
      put("index", Value::integer(i + 1));
      put("index0", Value::integer(i));
      put("revindex", Value::integer(n - i));
      put("revindex0", Value::integer(n - i - 1));
      put("first", Value::boolean(i == 0));
      put("last", Value::boolean(i == n - 1));
      put("length", Value::integer(n));
      put("depth", Value::integer(1));
      put("depth0", Value::integer(0));
      put("previtem", i > 0 ? items[i - 1] : Value::undefined("there is no previous item"));
      put("nextitem", i + 1 < n ? items[i + 1] : Value::undefined("there is no next item"));
      loop_frame.set("loop", Value::dict(std::move(loop)));
      if (exec_body(s.body, &loop_frame) == Flow::kBreak) break;
    }
    if (n == 0) {
      Frame else_frame;
      else_frame.parent = frame;
      return exec_body(s.else_body, &else_frame);
    }
    return Flow::kNormal;
  }

  Value lookup(const std::string& name, Frame* frame) const {
    for (Frame* f = frame; f != nullptr; f = f->parent) {
      if (Value* v = f->find_local(name)) return *v;
    }
    if (is_global_function(name)) return Value::callable(Callable{Callable::Kind::kGlobal, name, nullptr, nullptr});
    return Value::undefined("'" + name + "' is undefined");
  }

  CallArgs eval_args(const Expr& e, size_t first, Frame* frame) {
    CallArgs call;
    for (size_t i = first; i < e.args.size(); ++i) call.args.push_back(eval(*e.args[i], frame));
    for (const auto& [k, v] : e.kwargs) call.kwargs.emplace_back(k, eval(*v, frame));
    return call;
  }

  Value eval(const Expr& e, Frame* frame) {
    step(e.line);
    switch (e.kind) {
      case ExprKind::kConst: return e.value;
      case ExprKind::kName: return lookup(e.name, frame);
      case ExprKind::kList: {
        List items;
        items.reserve(e.args.size());
        for (const auto& a : e.args) items.push_back(eval(*a, frame));
        return Value::list(std::move(items), e.is_tuple);
      }
      case ExprKind::kDict: {
        Dict items;
        for (size_t i = 0; i + 1 < e.args.size(); i += 2) {
          Value k = eval(*e.args[i], frame);
          Value v = eval(*e.args[i + 1], frame);
          if (k.is_list() && !k.is_tuple()) fail(e.line, "unhashable type: 'list'");
          if (k.is_dict()) fail(e.line, "unhashable type: 'dict'");
          bool replaced = false;
          for (auto& [k2, v2] : items) {
            if (equals(k, k2)) {
              v2 = v;
              replaced = true;
              break;
            }
          }
          if (!replaced) items.emplace_back(std::move(k), std::move(v));
        }
        return Value::dict(std::move(items));
      }
      case ExprKind::kGetAttr: {
        const Value obj = eval(*e.args[0], frame);
        if (obj.is_undefined()) undefined_error(obj, e.line);
        return py_getattr(obj, e.name, e.line);
      }
      case ExprKind::kGetItem: {
        const Value obj = eval(*e.args[0], frame);
        if (obj.is_undefined()) undefined_error(obj, e.line);
        return py_getitem(obj, eval(*e.args[1], frame), e.line);
      }
      case ExprKind::kSlice: {
        const Value obj = eval(*e.args[0], frame);
        if (obj.is_undefined()) undefined_error(obj, e.line);
        auto bound = [&](size_t i) { return e.args[i] ? eval(*e.args[i], frame) : Value::none(); };
        return py_slice(obj, bound(1), bound(2), bound(3), e.line);
      }
      case ExprKind::kCall: return eval_call(e, frame);
      case ExprKind::kFilter: {
        const Value subject = eval(*e.args[0], frame);
        return apply_filter(e.builtin, subject, eval_args(e, 1, frame), e.line);
      }
      case ExprKind::kTest: {
        const Value subject = eval(*e.args[0], frame);
        const bool r = apply_test(e.builtin, subject, eval_args(e, 1, frame), e.line);
        return Value::boolean(e.negated ? !r : r);
      }
      case ExprKind::kUnary: {
        const Value v = eval(*e.args[0], frame);
        if (e.name == "not") return Value::boolean(!truthy(v));
        if (v.is_undefined()) undefined_error(v, e.line);
        if (!v.is_number()) fail(e.line, "bad operand type for unary " + e.name + ": '" + type_name(v) + "'");
        if (e.name == "+") return v.kind() == Value::Kind::kBool ? Value::integer(v.as_int()) : v;
        if (v.kind() == Value::Kind::kFloat) return Value::floating(-v.as_float());
        if (v.as_int() == INT64_MIN) fail(e.line, "integer overflow");
        return Value::integer(-v.as_int());
      }
      case ExprKind::kBinary: {
        if (e.name == "and" || e.name == "or") {
          Value a = eval(*e.args[0], frame);
          if (truthy(a) == (e.name == "or")) return a;
          return eval(*e.args[1], frame);
        }
        const Value a = eval(*e.args[0], frame);
        const Value b = eval(*e.args[1], frame);
        if (e.name == "~") {
          std::string s = to_str(a) + to_str(b);
          if (s.size() > limits_.max_output_bytes) fail(e.line, "string result exceeds the size limit");
          return Value::string(std::move(s));
        }
        return checked(py_binary(e.name, a, b, e.line), e.line);
      }
      case ExprKind::kCompare: {
        Value left = eval(*e.args[0], frame);
        for (size_t i = 0; i < e.ops.size(); ++i) {
          Value right = eval(*e.args[i + 1], frame);
          const std::string& op = e.ops[i];
          bool r;
          if (op == "==") {
            r = equals(left, right);
          } else if (op == "!=") {
            r = !equals(left, right);
          } else if (op == "in" || op == "not in") {
            r = py_contains(right, left, e.line) == (op == "in");
          } else {
            const int c = py_compare(left, right, op, e.line);
            r = op == "<" ? c < 0 : op == "<=" ? c <= 0 : op == ">" ? c > 0 : c >= 0;
          }
          if (!r) return Value::boolean(false);
          left = std::move(right);
        }
        return Value::boolean(true);
      }
      case ExprKind::kCondExpr: {
        if (truthy(eval(*e.args[1], frame))) return eval(*e.args[0], frame);
        if (e.args[2]) return eval(*e.args[2], frame);
        return Value::undefined("the inline if-expression evaluated to false and no else section was defined");
      }
    }
    return Value();
  }

  // Bounds the size of strings and lists that operators build (`'x' * 10**12`).
  Value checked(Value v, int line) const {
    if ((v.is_string() && v.as_string().size() > limits_.max_output_bytes) ||
        (v.is_list() && v.as_list().size() > limits_.max_output_bytes / 16)) {
      fail(line, "result exceeds the size limit");
    }
    return v;
  }

  Value eval_call(const Expr& e, Frame* frame) {
    const Value callee = eval(*e.args[0], frame);
    if (callee.is_undefined()) undefined_error(callee, e.line);
    if (callee.kind() != Value::Kind::kCallable) fail(e.line, "'" + type_name(callee) + "' object is not callable");
    const Callable& fn = callee.as_callable();
    CallArgs call = eval_args(e, 1, frame);
    if (fn.kind == Callable::Kind::kGlobal && fn.name == "namespace") {
      Value ns = call_global(fn.name, call, e.line);
      namespaces_.push_back(ns);
      return ns;
    }
    switch (fn.kind) {
      case Callable::Kind::kGlobal: return checked(call_global(fn.name, call, e.line), e.line);
      case Callable::Kind::kMethod: return checked(call_method(*fn.self, fn.name, call, e.line), e.line);
      case Callable::Kind::kMacro: return call_macro(*fn.macro, call, e.line);
    }
    return Value();
  }

  Value call_macro(const Stmt& m, const CallArgs& call, int line) {
    if (++call_depth_ > limits_.max_call_depth) fail(line, "macro calls are nested too deeply");
    Frame local;
    local.parent = root_;
    if (call.args.size() > m.targets.size()) {
      fail(line, "macro '" + m.text + "' takes not more than " + std::to_string(m.targets.size()) + " argument(s)");
    }
    for (const auto& [k, v] : call.kwargs) {
      bool known = false;
      for (const auto& p : m.targets) known = known || p == k;
      if (!known) fail(line, "macro '" + m.text + "' takes no keyword argument '" + k + "'");
    }
    for (size_t i = 0; i < m.targets.size(); ++i) {
      const Value* given = i < call.args.size() ? &call.args[i] : nullptr;
      for (const auto& [k, v] : call.kwargs) {
        if (k == m.targets[i]) {
          if (given != nullptr) fail(line, "macro '" + m.text + "' got multiple values for argument '" + k + "'");
          given = &v;
        }
      }
      if (given != nullptr) {
        local.set(m.targets[i], *given);
      } else if (m.defaults[i]) {
        local.set(m.targets[i], eval(*m.defaults[i], &local));
      } else {
        local.set(m.targets[i], Value::undefined("parameter '" + m.targets[i] + "' was not provided"));
      }
    }
    std::string captured;
    std::string* saved = out_;
    out_ = &captured;
    exec_body(m.body, &local);
    out_ = saved;
    --call_depth_;
    return Value::string(std::move(captured));
  }

  const RenderLimits& limits_;
  std::string* out_;
  std::vector<Value> namespaces_;  // cleared after rendering: breaks cycles such as `{% set ns.me = ns %}`
  Frame* root_ = nullptr;
  int64_t steps_ = 0;
  int call_depth_ = 0;
};

}  // namespace

std::string render_program(const Program& program, const Value& context, const RenderLimits& limits) {
  std::string out;
  Evaluator(limits, &out).run(program, context);
  return out;
}

}  // namespace fathom::jinja
