#include "server/output_pipeline.h"

namespace fathom::server {

OutputPipeline::OutputPipeline(std::shared_ptr<const Tokenizer> tokenizer, PipelineOptions options)
    : tok_(tokenizer), opt_(std::move(options)), detok_(tokenizer, opt_.skip_special_tokens), matcher_(opt_.stop) {
  if (opt_.reasoning) reasoning_.emplace();
  if (opt_.tool_calls) tools_.emplace();
}

// Text that passed the stop matcher → reasoning / content / tool calls.
void OutputPipeline::route(std::string text, ChoiceDelta& out, bool final) {
  std::string content;
  if (reasoning_) {
    ReasoningSplit s = reasoning_->feed(text);
    if (final) {
      ReasoningSplit f = reasoning_->finish();
      s.reasoning += f.reasoning;
      s.content += f.content;
    }
    out.reasoning += s.reasoning;
    content = std::move(s.content);
  } else {
    content = std::move(text);
  }
  if (tools_) {
    ToolParse p = tools_->feed(content);
    if (final) {
      ToolParse f = tools_->finish();
      p.content += f.content;
    }
    out.content += p.content;
    for (auto& c : p.calls) out.tool_calls.push_back(std::move(c));
  } else {
    out.content += content;
  }
}

ChoiceDelta OutputPipeline::push(const GenerationEvent& ev) {
  ChoiceDelta out;
  if (matcher_.stopped() || finished_) return out;
  std::string text;
  for (size_t k = 0; k < ev.token_ids.size() && !matcher_.stopped(); ++k) {
    const int32_t id = ev.token_ids[k];
    out.token_ids.push_back(id);
    if (k < ev.logprobs.size()) out.logprobs.push_back(ev.logprobs[k]);
    ++n_tokens_;
    text += matcher_.feed(detok_.push(id));
  }
  if (matcher_.stopped()) {
    if (opt_.include_stop_str_in_output) text += matcher_.matched();
    route(std::move(text), out, /*final=*/true);
    finished_ = true;
  } else {
    route(std::move(text), out, /*final=*/false);
  }
  return out;
}

ChoiceDelta OutputPipeline::finish() {
  ChoiceDelta out;
  if (finished_) return out;
  finished_ = true;
  std::string text;
  if (!matcher_.stopped()) {
    text = matcher_.feed(detok_.finish());
    if (matcher_.stopped()) {
      if (opt_.include_stop_str_in_output) text += matcher_.matched();
    } else {
      text += matcher_.flush();
    }
  }
  route(std::move(text), out, /*final=*/true);
  return out;
}

}  // namespace fathom::server
