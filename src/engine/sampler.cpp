#include "engine/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/check.h"

namespace fathom {

namespace {

constexpr float kMasked = -std::numeric_limits<float>::infinity();

uint64_t mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// Argmax with ties to the lowest id.
int32_t argmax(const float* x, int64_t n) {
  int32_t best = 0;
  for (int64_t i = 1; i < n; ++i)
    if (x[i] > x[best]) best = static_cast<int32_t>(i);
  return best;
}

}  // namespace

Sampler::Sampler(int64_t vocab_size)
    : vocab_(vocab_size), counts_(vocab_size, 0), seen_(vocab_size, 0), probs_(vocab_size), order_(vocab_size) {
  touched_.reserve(vocab_size);
}

double Sampler::uniform(uint64_t seed, int64_t i) {
  const uint64_t r = mix64(mix64(seed) ^ static_cast<uint64_t>(i) * 0xd1b54a32d192ed03ull);
  return static_cast<double>(r >> 11) * 0x1.0p-53;
}

void Sampler::apply_penalties(float* logits, const ResolvedSampling& s, std::span<const int32_t> tokens,
                              int32_t n_prompt) {
  const bool rep = s.repetition_penalty != 1.0f;
  const bool pres_freq = s.presence_penalty != 0.0f || s.frequency_penalty != 0.0f;
  if (!rep && !pres_freq) return;
  touched_.clear();
  for (size_t i = 0; i < tokens.size(); ++i) {
    const int32_t t = tokens[i];
    if (!seen_[t] && !counts_[t]) touched_.push_back(t);
    seen_[t] = 1;
    if (static_cast<int32_t>(i) >= n_prompt) ++counts_[t];
  }
  for (int32_t t : touched_) {
    float& l = logits[t];
    if (rep) l = l > 0 ? l / s.repetition_penalty : l * s.repetition_penalty;  // HF: over prompt and output
    if (counts_[t] > 0) l -= s.presence_penalty + s.frequency_penalty * static_cast<float>(counts_[t]);
    seen_[t] = 0;
    counts_[t] = 0;
  }
}

int32_t Sampler::sample(float* logits, const ResolvedSampling& s, std::span<const int32_t> tokens, int32_t n_prompt,
                        std::span<const int32_t> eos_ids, TokenLogprob* lp) {
  const int32_t n_output = static_cast<int32_t>(tokens.size()) - n_prompt;
  for (const auto& [id, bias] : s.logit_bias) logits[id] += bias;
  if (n_output < s.min_tokens) {
    if (!s.ignore_eos)
      for (int32_t id : eos_ids) logits[id] = kMasked;
    for (int32_t id : s.stop_token_ids) logits[id] = kMasked;
  }
  apply_penalties(logits, s, tokens, n_prompt);

  const int32_t token = s.greedy() ? argmax(logits, vocab_) : sample_random(logits, s, uniform(s.seed, n_output));

  if (lp != nullptr && s.n_logprobs >= 0) {
    const float mx = logits[argmax(logits, vocab_)];
    double sum = 0;
    for (int64_t i = 0; i < vocab_; ++i) sum += std::exp(static_cast<double>(logits[i] - mx));
    const float log_z = mx + static_cast<float>(std::log(sum));
    lp->token_id = token;
    lp->logprob = logits[token] - log_z;
    lp->top.clear();
    // Top N by insertion into a short sorted list (N <= 20).
    for (int64_t i = 0; i < vocab_ && s.n_logprobs > 0; ++i) {
      const float v = logits[i];
      if (static_cast<int32_t>(lp->top.size()) == s.n_logprobs && v <= lp->top.back().second + log_z) continue;
      auto it = std::find_if(lp->top.begin(), lp->top.end(), [&](const auto& e) { return v > e.second + log_z; });
      lp->top.insert(it, {static_cast<int32_t>(i), v - log_z});
      if (static_cast<int32_t>(lp->top.size()) > s.n_logprobs) lp->top.pop_back();
    }
  }
  return token;
}

int32_t Sampler::sample_random(const float* logits, const ResolvedSampling& s, double u) {
  const double inv_t = 1.0 / s.temperature;
  const float mx = logits[argmax(logits, vocab_)];
  float* p = probs_.data();
  for (int64_t i = 0; i < vocab_; ++i) p[i] = static_cast<float>(std::exp((logits[i] - mx) * inv_t));

  // Candidates in the order the draw walks them: by probability (ties → lower id) when truncating, else by id.
  auto better = [p](int32_t a, int32_t b) { return p[a] > p[b] || (p[a] == p[b] && a < b); };
  int64_t n_cand = vocab_;
  for (int64_t i = 0; i < vocab_; ++i) order_[i] = static_cast<int32_t>(i);
  const bool by_k = s.top_k > 0 && s.top_k < vocab_;
  if (by_k) {
    const int64_t k = s.top_k;
    std::nth_element(order_.begin(), order_.begin() + (k - 1), order_.end(), better);
    std::sort(order_.begin(), order_.begin() + k, better);
    n_cand = k;
    if (s.top_p < 1.0f) {
      double mass = 0;
      for (int64_t i = 0; i < n_cand; ++i) mass += p[order_[i]];
      double acc = 0;
      for (int64_t i = 0; i < n_cand; ++i) {
        acc += p[order_[i]];
        if (acc >= s.top_p * mass) {
          n_cand = i + 1;
          break;
        }
      }
    }
  } else if (s.top_p < 1.0f) {
    // The smallest set of best tokens holding top_p of the mass, by a mass-weighted quickselect (expected O(V)):
    // invariant: order_[0, lo) beats everything after it and holds < need; order_[0, hi) holds >= need.
    double total = 0;
    for (int64_t i = 0; i < vocab_; ++i) total += p[i];
    const double need = s.top_p * total;
    int64_t lo = 0, hi = vocab_;
    double acc = 0;
    while (hi - lo > 1) {
      const int64_t mid = lo + (hi - lo) / 2;
      std::nth_element(order_.begin() + lo, order_.begin() + mid, order_.begin() + hi, better);
      double left = 0;
      for (int64_t i = lo; i < mid; ++i) left += p[order_[i]];
      if (acc + left >= need) {
        hi = mid;
      } else {
        acc += left;
        lo = mid;
      }
    }
    n_cand = hi;
    // Walk the kept set best-first when it is small enough to sort cheaply; a near-flat distribution keeps most
    // of the vocabulary and is walked in the (deterministic) selection order instead.
    if (n_cand <= 8192) std::sort(order_.begin(), order_.begin() + n_cand, better);
  }
  const float floor_p = s.min_p > 0 ? s.min_p * 1.0f : 0.0f;  // p of the best token is exp(0) = 1
  double kept = 0;
  for (int64_t i = 0; i < n_cand; ++i)
    if (p[order_[i]] >= floor_p) kept += p[order_[i]];
  FATHOM_CHECK(kept > 0);
  const double target = u * kept;
  double acc = 0;
  int32_t last = -1;
  for (int64_t i = 0; i < n_cand; ++i) {
    const int32_t id = order_[i];
    if (p[id] < floor_p || p[id] == 0.0f) continue;
    acc += p[id];
    last = id;
    if (acc > target) return id;
  }
  return last;  // rounding at the very end of the walk
}

}  // namespace fathom
