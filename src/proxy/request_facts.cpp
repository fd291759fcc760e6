#include <nlohmann/json.hpp>

#include "proxy/forwarder.h"

namespace fathom::proxy {

namespace {

void append_content(const nlohmann::json& content, std::string& out) {
  if (content.is_string()) {
    out += content.get_ref<const std::string&>();
  } else if (content.is_array()) {  // [{"type":"text","text":...}, ...]
    for (const auto& part : content) {
      if (part.is_object() && part.contains("text") && part["text"].is_string()) {
        out += part["text"].get_ref<const std::string&>();
      }
    }
  }
}

}  // namespace

Expected<RequestFacts> read_request_facts(std::string_view body) {
  RequestFacts facts;
  if (body.empty()) return facts;
  nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::error("the request body is not valid JSON");
  if (!j.is_object()) return Status::error("the request body must be a JSON object");
  if (auto it = j.find("model"); it != j.end() && it->is_string()) facts.model = it->get<std::string>();
  if (auto it = j.find("messages"); it != j.end() && it->is_array()) {
    for (const auto& m : *it) {
      if (!m.is_object()) continue;
      if (auto role = m.find("role"); role != m.end() && role->is_string()) {
        facts.prompt += role->get_ref<const std::string&>();
        facts.prompt += ':';
      }
      if (auto c = m.find("content"); c != m.end()) append_content(*c, facts.prompt);
      facts.prompt += '\n';
    }
  } else if (auto p = j.find("prompt"); p != j.end()) {
    if (p->is_string()) {
      facts.prompt = p->get<std::string>();
    } else if (p->is_array() && !p->empty() && (*p)[0].is_string()) {
      facts.prompt = (*p)[0].get<std::string>();
    }
  } else if (auto ids = j.find("input_ids"); ids != j.end() && ids->is_array()) {
    for (const auto& id : *ids) {
      facts.prompt += id.dump();
      facts.prompt += ',';
    }
  }
  return facts;
}

}  // namespace fathom::proxy
