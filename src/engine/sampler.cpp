#include "engine/sampler.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>

#include "core/check.h"
#include "ops/ops.h"

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
  const float m = max_value(x, n);
  for (int64_t i = 0; i < n; ++i)
    if (x[i] == m) return static_cast<int32_t>(i);
  return 0;
}

// p's bucket: the top bits of its f32 pattern (exponent and 4 mantissa bits), monotone in p for p >= 0 — a higher
// bucket holds only larger p. p <= 1 keeps it below Sampler::kBuckets.
inline int bucket_of(float p) { return static_cast<int>(std::bit_cast<uint32_t>(p) >> 19); }

}  // namespace

Sampler::Sampler(int64_t vocab_size)
    : vocab_(vocab_size),
      counts_(vocab_size, 0),
      seen_(vocab_size, 0),
      probs_(vocab_size),
      order_(vocab_size),
      boundary_(vocab_size),
      bucket_mass_(kBuckets),
      bucket_count_(kBuckets) {
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
  float* p = probs_.data();  // p of the best token is e^0 = 1
  exp_shifted(logits, vocab_, max_value(logits, vocab_), static_cast<float>(1.0 / s.temperature), p);

  // Candidates: all tokens in id order, or (truncating) order_[0, n_cand).
  const bool by_k = s.top_k > 0 && s.top_k < vocab_;
  const bool by_p = s.top_p < 1.0f;
  int64_t n_cand = vocab_;
  if (by_k) {
    n_cand = select_best_k(s.top_k);
    if (by_p) {
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
  } else if (by_p) {
    n_cand = select_top_p(s.top_p);
  }
  const bool all = !by_k && !by_p;
  auto cand = [&](int64_t i) { return all ? static_cast<int32_t>(i) : order_[i]; };

  const float floor_p = s.min_p > 0 ? s.min_p : 0.0f;
  double kept = 0;
  for (int64_t i = 0; i < n_cand; ++i) {
    const float pi = p[cand(i)];
    if (pi >= floor_p) kept += pi;
  }
  FATHOM_CHECK(kept > 0);
  const double target = u * kept;
  double acc = 0;
  int32_t last = -1;
  for (int64_t i = 0; i < n_cand; ++i) {
    const int32_t id = cand(i);
    if (p[id] < floor_p || p[id] == 0.0f) continue;
    acc += p[id];
    last = id;
    if (acc > target) return id;
  }
  return last;  // rounding at the very end of the walk
}

void Sampler::build_histogram() {
  std::fill(bucket_mass_.begin(), bucket_mass_.end(), 0.0);
  std::fill(bucket_count_.begin(), bucket_count_.end(), 0);
  const float* p = probs_.data();
  for (int64_t i = 0; i < vocab_; ++i) {
    const int b = bucket_of(p[i]);
    bucket_mass_[b] += p[i];
    ++bucket_count_[b];
  }
}

// Writes the tokens of buckets above b to order_ (id order) and those of bucket b to boundary_ (branch-free: which
// side a token falls on is unpredictable); returns how many went to order_.
int64_t Sampler::gather_above(int b) {
  const float* p = probs_.data();
  int32_t* above = order_.data();
  int32_t* at = boundary_.data();
  int64_t n = 0, n_at = 0;
  for (int64_t i = 0; i < vocab_; ++i) {
    const int bi = bucket_of(p[i]);
    above[n] = static_cast<int32_t>(i);
    at[n_at] = static_cast<int32_t>(i);
    n += bi > b;
    n_at += bi == b;
  }
  n_boundary_ = n_at;
  return n;
}

int64_t Sampler::select_best_k(int64_t k) {
  build_histogram();
  int b = kBuckets - 1;
  int64_t above = 0;
  while (b > 0 && above + bucket_count_[b] < k) above += bucket_count_[b--];
  const int64_t n_above = gather_above(b);
  const float* p = probs_.data();
  auto better = [p](int32_t a, int32_t c) { return p[a] > p[c] || (p[a] == p[c] && a < c); };
  const auto bnd = boundary_.begin(), bnd_end = bnd + n_boundary_;
  const int64_t take = std::min<int64_t>(k - n_above, n_boundary_);
  std::nth_element(bnd, bnd + (take - 1), bnd_end, better);
  std::copy(boundary_.begin(), boundary_.begin() + take, order_.begin() + n_above);
  std::sort(order_.begin(), order_.begin() + n_above + take, better);  // best first, for top_p after top_k
  return n_above + take;
}

int64_t Sampler::select_top_p(float top_p) {
  build_histogram();
  double total = 0;
  for (int b = 0; b < kBuckets; ++b) total += bucket_mass_[b];
  const double need = top_p * total;
  int b = kBuckets - 1;
  double acc = 0;
  while (b > 0 && acc + bucket_mass_[b] < need) acc += bucket_mass_[b--];
  const int64_t n_above = gather_above(b);
  // Inside the boundary bucket: best first until the mass is reached (all of it if rounding falls short).
  const float* p = probs_.data();
  std::sort(boundary_.begin(), boundary_.begin() + n_boundary_,
            [p](int32_t a, int32_t c) { return p[a] > p[c] || (p[a] == p[c] && a < c); });
  int64_t take = 0;
  while (take < n_boundary_ && acc < need) acc += p[boundary_[take++]];
  std::copy(boundary_.begin(), boundary_.begin() + take, order_.begin() + n_above);
  return n_above + take;
}

}  // namespace fathom
