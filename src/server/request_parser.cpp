#include "server/request_parser.h"

#include <cmath>
#include <limits>

namespace fathom::server {

using nlohmann::json;

namespace {

using Err = std::optional<ApiError>;

#define TRY_FIELD(expr)          \
  do {                           \
    if (Err _e = (expr)) return _e; \
  } while (0)

ApiError bad(const std::string& field, const std::string& msg) { return ApiError{400, field + ": " + msg, field}; }

// Present and not null.
const json* field(const json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

Err get_bool(const json& obj, const char* key, bool& out) {
  const json* v = field(obj, key);
  if (!v) return {};
  if (!v->is_boolean()) return bad(key, "expected a boolean");
  out = v->get<bool>();
  return {};
}

// A number in [lo, hi] (lo excluded when lo_open).
Err get_number(const json& obj, const std::string& key, std::optional<double>& out, double lo, double hi,
               bool lo_open = false) {
  const json* v = field(obj, key.c_str());
  if (!v) return {};
  if (!v->is_number()) return bad(key, "expected a number");
  const double x = v->get<double>();
  if (!std::isfinite(x) || x > hi || x < lo || (lo_open && x == lo)) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "%g is out of range, expected %s%g, %g]", x, lo_open ? "(" : "[", lo, hi);
    return bad(key, buf);
  }
  out = x;
  return {};
}

// An integer value (an integral float such as 10.0 is accepted, as pydantic does).
Err as_int(const json& v, const std::string& name, int64_t& out) {
  if (v.is_number_unsigned()) {
    uint64_t u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return bad(name, "integer out of range");
    out = static_cast<int64_t>(u);
    return {};
  }
  if (v.is_number_integer()) {
    out = v.get<int64_t>();
    return {};
  }
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9e15) {
      out = static_cast<int64_t>(d);
      return {};
    }
  }
  return bad(name, "expected an integer");
}

Err get_int(const json& obj, const std::string& key, std::optional<int64_t>& out, int64_t lo, int64_t hi) {
  const json* v = field(obj, key.c_str());
  if (!v) return {};
  int64_t x = 0;
  TRY_FIELD(as_int(*v, key, x));
  if (x < lo || x > hi)
    return bad(key, std::to_string(x) + " is out of range, expected [" + std::to_string(lo) + ", " +
                        std::to_string(hi) + "]");
  out = x;
  return {};
}

Err token_ids(const json& v, const std::string& name, const ParseLimits& lim, std::vector<int32_t>& out) {
  if (!v.is_array()) return bad(name, "expected an array of token ids");
  out.clear();
  out.reserve(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    int64_t id = 0;
    const std::string item = name + "[" + std::to_string(i) + "]";
    TRY_FIELD(as_int(v[i], item, id));
    if (id < 0 || id >= lim.vocab_size)
      return bad(item, "token id " + std::to_string(id) + " is outside the vocabulary [0, " +
                           std::to_string(lim.vocab_size) + ")");
    out.push_back(static_cast<int32_t>(id));
  }
  return {};
}

Err parse_stop(const json& body, const ParseLimits& lim, ApiRequest& r) {
  const json* v = field(body, "stop");
  if (!v) return {};
  if (v->is_string()) {
    if (v->get_ref<const std::string&>().empty()) return bad("stop", "stop strings must not be empty");
    r.stop.push_back(v->get<std::string>());
    return {};
  }
  if (!v->is_array()) return bad("stop", "expected a string or an array of strings");
  if (static_cast<int64_t>(v->size()) > lim.max_stop)
    return bad("stop", "at most " + std::to_string(lim.max_stop) + " stop strings");
  for (size_t i = 0; i < v->size(); ++i) {
    const json& s = (*v)[i];
    const std::string name = "stop[" + std::to_string(i) + "]";
    if (!s.is_string()) return bad(name, "expected a string");
    if (s.get_ref<const std::string&>().empty()) return bad(name, "stop strings must not be empty");
    r.stop.push_back(s.get<std::string>());
  }
  return {};
}

Err parse_logit_bias(const json& body, const ParseLimits& lim, SamplingParams& sp) {
  const json* v = field(body, "logit_bias");
  if (!v) return {};
  if (!v->is_object()) return bad("logit_bias", "expected an object mapping token ids to biases");
  if (v->size() > 1024) return bad("logit_bias", "at most 1024 entries");
  for (auto it = v->begin(); it != v->end(); ++it) {
    const std::string name = "logit_bias." + it.key();
    const std::string& k = it.key();
    if (k.empty() || k.size() > 10 || k.find_first_not_of("0123456789") != std::string::npos)
      return bad(name, "keys must be token ids");
    const int64_t id = std::stoll(k);
    if (id >= lim.vocab_size) return bad(name, "token id is outside the vocabulary");
    if (!it.value().is_number()) return bad(name, "expected a number");
    const double b = it.value().get<double>();
    if (!(b >= -100.0 && b <= 100.0)) return bad(name, "bias must be in [-100, 100]");
    sp.logit_bias.emplace_back(static_cast<int32_t>(id), static_cast<float>(b));
  }
  return {};
}

// Fields shared by the three endpoints: sampling, stop, streaming, detokenization.
Err parse_common(const json& body, const ParseLimits& lim, ApiRequest& r) {
  if (const json* m = field(body, "model")) {
    if (!m->is_string()) return bad("model", "expected a string");
    r.model = m->get<std::string>();
  }
  SamplingParams& sp = r.sampling;
  std::optional<double> d;
  std::optional<int64_t> i;
  TRY_FIELD(get_number(body, "temperature", d, 0.0, 2.0));
  if (d) sp.temperature = static_cast<float>(*d);
  d.reset();
  TRY_FIELD(get_number(body, "top_p", d, 0.0, 1.0, /*lo_open=*/true));
  if (d) sp.top_p = static_cast<float>(*d);
  TRY_FIELD(get_int(body, "top_k", i, -1, std::numeric_limits<int32_t>::max()));
  if (i) sp.top_k = static_cast<int32_t>(*i <= 0 ? 0 : *i);
  d.reset();
  TRY_FIELD(get_number(body, "min_p", d, 0.0, 1.0));
  if (d) sp.min_p = static_cast<float>(*d);
  d.reset();
  TRY_FIELD(get_number(body, "presence_penalty", d, -2.0, 2.0));
  if (d) sp.presence_penalty = static_cast<float>(*d);
  d.reset();
  TRY_FIELD(get_number(body, "frequency_penalty", d, -2.0, 2.0));
  if (d) sp.frequency_penalty = static_cast<float>(*d);
  d.reset();
  TRY_FIELD(get_number(body, "repetition_penalty", d, 0.0, 10.0, /*lo_open=*/true));
  if (d) sp.repetition_penalty = static_cast<float>(*d);
  TRY_FIELD(parse_logit_bias(body, lim, sp));
  if (const json* s = field(body, "seed")) {
    if (s->is_number_unsigned()) {
      sp.seed = s->get<uint64_t>();
    } else {
      int64_t x = 0;
      TRY_FIELD(as_int(*s, "seed", x));
      sp.seed = static_cast<uint64_t>(x);
    }
  }
  i.reset();
  TRY_FIELD(get_int(body, "min_tokens", i, 0, std::numeric_limits<int32_t>::max()));
  TRY_FIELD(get_int(body, "min_new_tokens", i, 0, std::numeric_limits<int32_t>::max()));
  if (i) sp.min_tokens = static_cast<int32_t>(*i);
  TRY_FIELD(get_bool(body, "ignore_eos", sp.ignore_eos));
  TRY_FIELD(get_bool(body, "skip_special_tokens", r.skip_special_tokens));
  TRY_FIELD(get_bool(body, "include_stop_str_in_output", r.include_stop_str_in_output));
  TRY_FIELD(get_bool(body, "return_token_ids", r.return_token_ids));
  TRY_FIELD(parse_stop(body, lim, r));
  if (const json* v = field(body, "stop_token_ids")) TRY_FIELD(token_ids(*v, "stop_token_ids", lim, sp.stop_token_ids));
  TRY_FIELD(get_bool(body, "stream", r.stream));
  if (const json* so = field(body, "stream_options")) {
    if (!so->is_object()) return bad("stream_options", "expected an object");
    if (!r.stream) return bad("stream_options", "only allowed when stream is true");
    if (const json* u = field(*so, "include_usage")) {
      if (!u->is_boolean()) return bad("stream_options.include_usage", "expected a boolean");
      r.include_usage = u->get<bool>();
    }
  }
  return {};
}

Err parse_max_tokens(const json& body, ApiRequest& r, std::optional<int32_t> fallback) {
  std::optional<int64_t> i;
  const int64_t hi = std::numeric_limits<int32_t>::max();
  TRY_FIELD(get_int(body, "max_completion_tokens", i, 1, hi));
  if (!i) TRY_FIELD(get_int(body, "max_tokens", i, 1, hi));
  if (i) {
    r.sampling.max_tokens = static_cast<int32_t>(*i);
  } else {
    r.sampling.max_tokens = fallback;
  }
  return {};
}

Err parse_n(const json& body, const ParseLimits& lim, ApiRequest& r) {
  std::optional<int64_t> i;
  TRY_FIELD(get_int(body, "n", i, 1, lim.max_n));
  if (i) r.n = static_cast<int32_t>(*i);
  return {};
}

// Message content: a string, or text parts joined by newlines. Other part types are refused (no vision input).
Err message_content(const json& c, const std::string& name, json& out) {
  if (c.is_string()) {
    out = c;
    return {};
  }
  if (!c.is_array()) return bad(name, "expected a string or an array of content parts");
  std::string text;
  for (size_t j = 0; j < c.size(); ++j) {
    const json& part = c[j];
    const std::string pname = name + "[" + std::to_string(j) + "]";
    if (!part.is_object()) return bad(pname, "expected a content part object");
    const json* type = field(part, "type");
    if (!type || !type->is_string()) return bad(pname + ".type", "expected a string");
    if (*type != "text")
      return bad(pname + ".type", "'" + type->get<std::string>() + "' parts are not supported (text only)");
    const json* t = field(part, "text");
    if (!t || !t->is_string()) return bad(pname + ".text", "expected a string");
    if (j) text += '\n';
    text += t->get_ref<const std::string&>();
  }
  out = std::move(text);
  return {};
}

Err parse_tool_calls(const json& v, const std::string& name, json& out) {
  if (!v.is_array()) return bad(name, "expected an array");
  out = json::array();
  for (size_t k = 0; k < v.size(); ++k) {
    const std::string cname = name + "[" + std::to_string(k) + "]";
    const json& call = v[k];
    if (!call.is_object()) return bad(cname, "expected an object");
    const json* fn = field(call, "function");
    if (!fn || !fn->is_object()) return bad(cname + ".function", "expected an object");
    const json* fname = field(*fn, "name");
    if (!fname || !fname->is_string()) return bad(cname + ".function.name", "expected a string");
    std::string args = "{}";
    if (const json* a = field(*fn, "arguments")) {
      if (a->is_string()) {
        args = a->get<std::string>();
      } else if (a->is_object()) {
        args = a->dump();
      } else {
        return bad(cname + ".function.arguments", "expected a JSON string");
      }
    }
    json c = {{"type", "function"}, {"function", {{"name", *fname}, {"arguments", args}}}};
    if (const json* id = field(call, "id"); id && id->is_string()) c["id"] = *id;
    out.push_back(std::move(c));
  }
  return {};
}

Err parse_messages(const json& v, PromptInput& p) {
  if (v.is_string()) {  // LMDeploy: a plain string is a raw prompt, no chat template
    p.kind = PromptInput::Kind::kText;
    p.text = v.get<std::string>();
    return {};
  }
  if (!v.is_array()) return bad("messages", "expected an array of messages");
  if (v.empty()) return bad("messages", "must not be empty");
  p.kind = PromptInput::Kind::kMessages;
  p.messages = json::array();
  for (size_t k = 0; k < v.size(); ++k) {
    const std::string name = "messages[" + std::to_string(k) + "]";
    const json& m = v[k];
    if (!m.is_object()) return bad(name, "expected a message object");
    const json* role = field(m, "role");
    if (!role || !role->is_string()) return bad(name + ".role", "expected a string");
    std::string r = role->get<std::string>();
    if (r == "developer") r = "system";
    if (r != "system" && r != "user" && r != "assistant" && r != "tool")
      return bad(name + ".role", "must be one of system, developer, user, assistant, tool");
    json out = {{"role", r}};
    const json* content = field(m, "content");
    if (content) {
      json c;
      TRY_FIELD(message_content(*content, name + ".content", c));
      out["content"] = std::move(c);
    } else {
      out["content"] = nullptr;
    }
    if (const json* tc = field(m, "tool_calls")) {
      if (r != "assistant") return bad(name + ".tool_calls", "only assistant messages carry tool calls");
      json calls;
      TRY_FIELD(parse_tool_calls(*tc, name + ".tool_calls", calls));
      out["tool_calls"] = std::move(calls);
    }
    if (!content && !out.contains("tool_calls")) return bad(name + ".content", "field required");
    if (const json* id = field(m, "tool_call_id"); id && id->is_string()) out["tool_call_id"] = *id;
    if (const json* nm = field(m, "name"); nm && nm->is_string()) out["name"] = *nm;
    p.messages.push_back(std::move(out));
  }
  return {};
}

Err parse_tools(const json& body, ApiRequest& r) {
  if (const json* t = field(body, "tools")) {
    if (!t->is_array()) return bad("tools", "expected an array");
    for (size_t k = 0; k < t->size(); ++k) {
      const std::string name = "tools[" + std::to_string(k) + "]";
      const json& tool = (*t)[k];
      if (!tool.is_object()) return bad(name, "expected an object");
      const json* type = field(tool, "type");
      if (!type || *type != "function") return bad(name + ".type", "must be \"function\"");
      const json* fn = field(tool, "function");
      if (!fn || !fn->is_object()) return bad(name + ".function", "expected an object");
      const json* fname = field(*fn, "name");
      if (!fname || !fname->is_string() || fname->get_ref<const std::string&>().empty())
        return bad(name + ".function.name", "expected a non-empty string");
      if (const json* params = field(*fn, "parameters"); params && !params->is_object())
        return bad(name + ".function.parameters", "expected a JSON schema object");
    }
    if (!t->empty()) r.tools = *t;
  }
  if (const json* tc = field(body, "tool_choice")) {
    if (tc->is_string()) {
      r.tool_choice = tc->get<std::string>();
      if (r.tool_choice != "auto" && r.tool_choice != "none" && r.tool_choice != "required")
        return bad("tool_choice", "must be \"auto\", \"none\", \"required\" or a function object");
    } else if (tc->is_object()) {
      const json* fn = field(*tc, "function");
      const json* fname = fn && fn->is_object() ? field(*fn, "name") : nullptr;
      if (!fname || !fname->is_string()) return bad("tool_choice.function.name", "expected a string");
      r.tool_choice = fname->get<std::string>();
      bool known = false;
      if (r.tools.is_array())
        for (const json& tool : r.tools) known |= tool["function"]["name"] == *fname;
      if (!known) return bad("tool_choice.function.name", "names no function in tools");
    } else {
      return bad("tool_choice", "expected a string or an object");
    }
    if (r.tool_choice == "required" && r.tools.is_null()) return bad("tool_choice", "\"required\" needs tools");
  }
  TRY_FIELD(get_bool(body, "parallel_tool_calls", r.parallel_tool_calls));
  return {};
}

Err parse_response_format(const json& body, ApiRequest& r) {
  const json* rf = field(body, "response_format");
  if (!rf) return {};
  if (!rf->is_object()) return bad("response_format", "expected an object");
  const json* type = field(*rf, "type");
  if (!type || !type->is_string()) return bad("response_format.type", "expected a string");
  const std::string t = type->get<std::string>();
  if (t != "text" && t != "json_object")
    return bad("response_format.type", "'" + t + "' is not supported (text or json_object)");
  r.response_format = t;
  return {};
}

Err require_object(const json& body) {
  if (!body.is_object()) return ApiError{400, "the request body must be a JSON object", std::nullopt};
  return {};
}

}  // namespace

Err parse_json_object(std::string_view body, const ParseLimits& limits, json& out) {
  // Nesting depth first: deep input would otherwise cost recursion in the parser and in json's destructor.
  int depth = 0;
  bool in_string = false;
  for (size_t k = 0; k < body.size(); ++k) {
    const char c = body[k];
    if (in_string) {
      if (c == '\\') {
        ++k;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > limits.max_json_depth)
        return ApiError{400, "invalid JSON: nesting deeper than " + std::to_string(limits.max_json_depth) + " levels",
                        std::nullopt};
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  try {
    out = json::parse(body.begin(), body.end());
  } catch (const json::exception& e) {  // caught here: parsing reports through ApiError, never by throwing
    return ApiError{400, std::string("invalid JSON body: ") + e.what(), std::nullopt};
  }
  return require_object(out);
}

Err parse_chat_request(const json& body, const ParseLimits& lim, ApiRequest& r) {
  TRY_FIELD(require_object(body));
  r.endpoint = Endpoint::kChat;
  if (const json* m = field(body, "model"); !m) return bad("model", "field required");
  const json* messages = field(body, "messages");
  if (!messages) return bad("messages", "field required");
  PromptInput p;
  TRY_FIELD(parse_messages(*messages, p));
  r.prompts.push_back(std::move(p));
  TRY_FIELD(parse_common(body, lim, r));
  TRY_FIELD(parse_max_tokens(body, r, std::nullopt));
  TRY_FIELD(parse_n(body, lim, r));
  TRY_FIELD(get_bool(body, "logprobs", r.logprobs));
  std::optional<int64_t> top;
  TRY_FIELD(get_int(body, "top_logprobs", top, 0, lim.max_top_logprobs));
  if (top) {
    if (!r.logprobs && *top > 0) return bad("top_logprobs", "requires logprobs to be true");
    r.top_logprobs = static_cast<int32_t>(*top);
  }
  TRY_FIELD(parse_tools(body, r));
  TRY_FIELD(parse_response_format(body, r));
  if (const json* kw = field(body, "chat_template_kwargs")) {
    if (!kw->is_object()) return bad("chat_template_kwargs", "expected an object");
    r.template_kwargs = *kw;
  }
  return {};
}

Err parse_completion_request(const json& body, const ParseLimits& lim, ApiRequest& r) {
  TRY_FIELD(require_object(body));
  r.endpoint = Endpoint::kCompletion;
  if (const json* m = field(body, "model"); !m) return bad("model", "field required");
  const json* prompt = field(body, "prompt");
  if (!prompt) return bad("prompt", "field required");
  auto text_prompt = [](const std::string& s) {
    PromptInput p;
    p.kind = PromptInput::Kind::kText;
    p.text = s;
    return p;
  };
  if (prompt->is_string()) {
    r.prompts.push_back(text_prompt(prompt->get<std::string>()));
  } else if (prompt->is_array()) {
    if (prompt->empty()) return bad("prompt", "must not be empty");
    if ((*prompt)[0].is_number()) {
      PromptInput p;
      p.kind = PromptInput::Kind::kIds;
      TRY_FIELD(token_ids(*prompt, "prompt", lim, p.ids));
      r.prompts.push_back(std::move(p));
    } else {
      if (prompt->size() > 256) return bad("prompt", "at most 256 prompts per request");
      for (size_t k = 0; k < prompt->size(); ++k) {
        const json& item = (*prompt)[k];
        const std::string name = "prompt[" + std::to_string(k) + "]";
        if (item.is_string()) {
          r.prompts.push_back(text_prompt(item.get<std::string>()));
        } else if (item.is_array()) {
          PromptInput p;
          p.kind = PromptInput::Kind::kIds;
          TRY_FIELD(token_ids(item, name, lim, p.ids));
          if (p.ids.empty()) return bad(name, "must not be empty");
          r.prompts.push_back(std::move(p));
        } else {
          return bad(name, "expected a string or an array of token ids");
        }
      }
    }
  } else {
    return bad("prompt", "expected a string, an array of strings or an array of token ids");
  }
  TRY_FIELD(parse_common(body, lim, r));
  TRY_FIELD(parse_max_tokens(body, r, 16));  // OpenAI's documented default for completions
  TRY_FIELD(parse_n(body, lim, r));
  if (static_cast<int64_t>(r.prompts.size()) * r.n > 1024) return bad("n", "prompts × n exceeds 1024 choices");
  std::optional<int64_t> lp;
  TRY_FIELD(get_int(body, "logprobs", lp, 0, 5));
  if (lp) {
    r.logprobs = true;
    r.top_logprobs = static_cast<int32_t>(*lp);
  }
  TRY_FIELD(get_bool(body, "echo", r.echo));
  if (const json* s = field(body, "suffix")) {
    if (!s->is_string()) return bad("suffix", "expected a string");
    if (!s->get_ref<const std::string&>().empty()) return bad("suffix", "is not supported");
  }
  return {};
}

Err parse_generate_request(const json& body, const ParseLimits& lim, ApiRequest& r) {
  TRY_FIELD(require_object(body));
  r.endpoint = Endpoint::kGenerate;
  const json* prompt = field(body, "prompt");
  const json* ids = field(body, "input_ids");
  if (prompt && ids) return bad("input_ids", "give either prompt or input_ids, not both");
  PromptInput p;
  if (prompt) {
    if (!prompt->is_string() || prompt->get_ref<const std::string&>().empty())
      return bad("prompt", "expected a non-empty string");
    p.kind = PromptInput::Kind::kText;
    p.text = prompt->get<std::string>();
  } else if (ids) {
    p.kind = PromptInput::Kind::kIds;
    TRY_FIELD(token_ids(*ids, "input_ids", lim, p.ids));
    if (p.ids.empty()) return bad("input_ids", "must not be empty");
  } else {
    return bad("prompt", "either prompt or input_ids is required");
  }
  r.prompts.push_back(std::move(p));
  TRY_FIELD(parse_common(body, lim, r));
  TRY_FIELD(parse_max_tokens(body, r, 128));  // LMDeploy's default for /generate
  TRY_FIELD(get_bool(body, "return_logprob", r.logprobs));
  std::optional<int64_t> sid;
  TRY_FIELD(get_int(body, "session_id", sid, -1, std::numeric_limits<int64_t>::max()));
  return {};
}

Err parse_request(Endpoint endpoint, std::string_view body, const ParseLimits& limits, ApiRequest& out) {
  json j;
  TRY_FIELD(parse_json_object(body, limits, j));
  switch (endpoint) {
    case Endpoint::kChat: return parse_chat_request(j, limits, out);
    case Endpoint::kCompletion: return parse_completion_request(j, limits, out);
    case Endpoint::kGenerate: return parse_generate_request(j, limits, out);
  }
  return {};
}

}  // namespace fathom::server
