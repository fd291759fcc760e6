// Errors inside the interpreter. Lexer, parser and evaluator throw TemplateError; ChatTemplate::parse/render catch
// it (and any std::exception) and return a Status, so no exception ever leaves the jinja module.
#pragma once
#include <stdexcept>
#include <string>

namespace fathom::jinja {

class TemplateError : public std::runtime_error {
 public:
  TemplateError(int line, const std::string& msg)
      : std::runtime_error("chat template line " + std::to_string(line) + ": " + msg), line_(line) {}
  int line() const { return line_; }

 private:
  int line_;
};

[[noreturn]] inline void fail(int line, const std::string& msg) { throw TemplateError(line, msg); }

}  // namespace fathom::jinja
