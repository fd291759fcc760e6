#include "tokenizer/chat_template.h"

#include <exception>

#include "tokenizer/jinja/ast.h"
#include "tokenizer/jinja/error.h"
#include "tokenizer/jinja/evaluator.h"
#include "tokenizer/jinja/parser.h"

namespace fathom {
namespace {

template <typename J>
Expected<std::string> render_json(const jinja::Program* program, const J& context) {
  if (program == nullptr) return Status::error("chat template: render() called on an unparsed template");
  if (!context.is_object()) return Status::error("chat template: the render context must be a JSON object");
  try {
    return jinja::render_program(*program, jinja::from_json(context), jinja::RenderLimits{});
  } catch (const jinja::TemplateError& e) {
    return Status::error(e.what());
  } catch (const std::exception& e) {
    return Status::error(std::string("chat template: rendering failed: ") + e.what());
  }
}

}  // namespace

Expected<ChatTemplate> ChatTemplate::parse(const std::string& source) {
  try {
    ChatTemplate t;
    t.program_ = jinja::parse_template(source);
    return t;
  } catch (const jinja::TemplateError& e) {
    return Status::error(e.what());
  } catch (const std::exception& e) {
    return Status::error(std::string("chat template: parsing failed: ") + e.what());
  }
}

Expected<std::string> ChatTemplate::render(const nlohmann::json& context) const {
  return render_json(program_.get(), context);
}

Expected<std::string> ChatTemplate::render(const nlohmann::ordered_json& context) const {
  return render_json(program_.get(), context);
}

}  // namespace fathom
