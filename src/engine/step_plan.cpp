#include "engine/step_plan.h"

#include <cstring>

namespace fathom {

void StepPlan::reserve(int64_t max_tokens, int64_t max_seqs, int64_t max_blocks) {
  token_ids.reserve(max_tokens);
  positions.reserve(max_tokens);
  seq_of_token.reserve(max_tokens);
  block_tables.reserve(max_seqs * max_blocks);
  logit_rows.reserve(max_seqs);
}

void StepPlan::clear() {
  max_blocks_per_seq = 0;
  token_ids.clear();
  positions.clear();
  seq_of_token.clear();
  block_tables.clear();
  logit_rows.clear();
}

namespace {

struct Header {
  int64_t step;
  int32_t max_blocks_per_seq;
  int32_t n_tokens;
  int32_t n_seqs;
  int32_t n_logit_rows;
};

void put(std::vector<uint8_t>& out, size_t& at, const void* p, size_t n) {
  if (n) std::memcpy(out.data() + at, p, n);
  at += n;
}

}  // namespace

void serialize_step_plan(const StepPlan& plan, std::vector<uint8_t>& out) {
  const Header h{plan.step, plan.max_blocks_per_seq, static_cast<int32_t>(plan.n_tokens()),
                 static_cast<int32_t>(plan.n_seqs()), static_cast<int32_t>(plan.logit_rows.size())};
  const size_t n_tok = plan.token_ids.size() * sizeof(int32_t);
  out.resize(sizeof(Header) + 3 * n_tok + plan.block_tables.size() * sizeof(int32_t) +
             plan.logit_rows.size() * sizeof(int32_t));
  size_t at = 0;
  put(out, at, &h, sizeof(h));
  put(out, at, plan.token_ids.data(), n_tok);
  put(out, at, plan.positions.data(), n_tok);
  put(out, at, plan.seq_of_token.data(), n_tok);
  put(out, at, plan.block_tables.data(), plan.block_tables.size() * sizeof(int32_t));
  put(out, at, plan.logit_rows.data(), plan.logit_rows.size() * sizeof(int32_t));
}

Status deserialize_step_plan(std::span<const uint8_t> bytes, StepPlan& plan) {
  Header h;
  if (bytes.size() < sizeof(h)) return Status::error("step plan: truncated header");
  std::memcpy(&h, bytes.data(), sizeof(h));
  if (h.n_tokens < 0 || h.n_seqs < 0 || h.n_logit_rows < 0 || h.max_blocks_per_seq < 0)
    return Status::error("step plan: negative count in header");
  const size_t n_table = static_cast<size_t>(h.n_seqs) * h.max_blocks_per_seq;
  const size_t want = sizeof(h) + (3 * static_cast<size_t>(h.n_tokens) + n_table + h.n_logit_rows) * sizeof(int32_t);
  if (bytes.size() != want) return Status::error("step plan: size does not match header");
  size_t at = sizeof(h);
  auto take = [&](std::vector<int32_t>& v, size_t n) {
    v.resize(n);
    if (n) std::memcpy(v.data(), bytes.data() + at, n * sizeof(int32_t));
    at += n * sizeof(int32_t);
  };
  plan.step = h.step;
  plan.max_blocks_per_seq = h.max_blocks_per_seq;
  take(plan.token_ids, h.n_tokens);
  take(plan.positions, h.n_tokens);
  take(plan.seq_of_token, h.n_tokens);
  take(plan.block_tables, n_table);
  take(plan.logit_rows, h.n_logit_rows);
  return Status::ok();
}

}  // namespace fathom
