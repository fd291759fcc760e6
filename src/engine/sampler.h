// Turns one row of logits into a token: logit bias, min_tokens masking, repetition / presence / frequency
// penalties, then greedy or temperature + top_k + top_p + min_p sampling, plus logprobs.
//
// Randomness is counter-based: the uniform draw for a request's i-th output token is a hash of (seed, i), so a
// seed gives the same output whatever else shares the batch, and preemption (recompute) changes nothing.
// Ties are broken towards the lower token id everywhere. Scratch is sized for the vocabulary once.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "engine/request.h"
#include "engine/sampling_params.h"

namespace fathom {

class Sampler {
 public:
  explicit Sampler(int64_t vocab_size);

  // logits: [vocab] of one sequence, modified in place. tokens: the sequence so far (prompt then output).
  // eos_ids are masked while fewer than s.min_tokens outputs exist (unless ignore_eos). Fills *lp when
  // s.n_logprobs >= 0: log-probabilities after bias and penalties, before temperature and truncation.
  int32_t sample(float* logits, const ResolvedSampling& s, std::span<const int32_t> tokens, int32_t n_prompt,
                 std::span<const int32_t> eos_ids, TokenLogprob* lp);

  // The uniform draw in [0, 1) for output index i of a request with this seed.
  static double uniform(uint64_t seed, int64_t i);

 private:
  void apply_penalties(float* logits, const ResolvedSampling& s, std::span<const int32_t> tokens, int32_t n_prompt);
  int32_t sample_random(const float* logits, const ResolvedSampling& s, double u);
  // Truncation over probs_ without sorting the vocabulary: tokens are counted into buckets of p (a histogram),
  // the bucket where the running count (top_k) or mass (top_p) is reached is found from the top, and only that
  // bucket's tokens are ordered.
  int64_t select_best_k(int64_t k);  // the k best (ties → lower id), best first, in order_[0, k); returns k
  // The smallest set of best tokens with top_p of the mass: every token with p >= top_p_above_, plus
  // boundary_[0, n) (returned), best first.
  int64_t select_top_p(float top_p);
  // The draw: u of the mass of the tokens with p >= lim (in id order) and then of tail[0, n_tail), counting only
  // tokens with p >= floor_p (min_p).
  int32_t draw(float lim, const int32_t* tail, int64_t n_tail, float floor_p, double u);
  void build_histogram();
  int64_t gather_above(int b);

  static constexpr int kBuckets = 2048;      // p in [0, 1]: see bucket_of() in sampler.cpp
  static constexpr int64_t kDrawBlock = 64;  // tokens per block mass in draw()

  int64_t vocab_;
  std::vector<int32_t> counts_;   // [vocab] output-token counts (zero between calls)
  std::vector<uint8_t> seen_;     // [vocab] in prompt + output (zero between calls)
  std::vector<int32_t> touched_;  // token ids whose counts_/seen_ entries must be reset
  std::vector<float> probs_;      // [vocab]
  std::vector<int32_t> order_;    // [vocab] candidate ids
  std::vector<int32_t> boundary_;       // [vocab] ids in the bucket where the truncation falls: [0, n_boundary_)
  int64_t n_boundary_ = 0;
  std::vector<double> bucket_mass_;     // [2, kBuckets] Σ p per bucket (two interleaved halves, summed into the first)
  std::vector<int32_t> bucket_count_;   // [2, kBuckets] tokens per bucket (likewise)
  std::vector<double> block_mass_;      // [vocab / kDrawBlock] the draw's block masses
  float top_p_above_ = 0;               // select_top_p: tokens with p >= this are kept whole
};

}  // namespace fathom
