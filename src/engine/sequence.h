// A request's state on the engine thread. Tokens are scheduled, not phases: the sequence has `tokens` (prompt
// then output) of which the first `n_computed` have latents in the cache; prefill, chunked prefill, decode and
// recompute after preemption are all "compute tokens n_computed..tokens.size()".
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "engine/result_channel.h"
#include "engine/sampling_params.h"

namespace fathom {

enum class SeqStatus { WAITING, RUNNING, FINISHED };

struct Sequence {
  uint64_t id = 0;
  std::vector<int32_t> tokens;        // [n_prompt + n_output], capacity n_prompt + max_tokens
  int32_t n_prompt = 0;
  int32_t n_computed = 0;             // tokens whose latents are in the cache
  std::vector<int32_t> blocks;        // page ids covering positions [0, blocks.size() * block_size)
  std::vector<uint64_t> block_hashes; // chained hashes of the first block_hashes.size() (full) pages
  SeqStatus status = SeqStatus::WAITING;
  ResolvedSampling sampling;
  std::shared_ptr<ResultChannel> channel;
  int32_t n_cached_tokens = -1;       // prefix-cache hit at first admission (-1: not admitted yet)
  int32_t n_preemptions = 0;
  int32_t n_sent = 0;                 // output tokens delivered on the channel

  int32_t n_tokens() const { return static_cast<int32_t>(tokens.size()); }
  int32_t n_output() const { return n_tokens() - n_prompt; }
};

}  // namespace fathom
