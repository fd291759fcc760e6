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
// The smallest p in bucket b (b may be Sampler::kBuckets: 2.0, above every p).
inline float bucket_start(int b) { return std::bit_cast<float>(static_cast<uint32_t>(b) << 19); }

constexpr float kNoToken = 2.0f;  // a draw limit no p reaches (p <= 1): candidates come from the tail list only

}  // namespace

Sampler::Sampler(int64_t vocab_size)
    : vocab_(vocab_size),
      counts_(vocab_size, 0),
      seen_(vocab_size, 0),
      probs_(vocab_size),
      order_(vocab_size),
      boundary_(vocab_size),
      bucket_mass_(2 * kBuckets),
      bucket_count_(2 * kBuckets),
      block_mass_((vocab_size + kDrawBlock - 1) / kDrawBlock) {
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
  const float floor_p = s.min_p > 0 ? s.min_p : 0.0f;  // min_p: p >= min_p · p_max, and p_max = 1
  const bool by_k = s.top_k > 0 && s.top_k < vocab_;
  const bool by_p = s.top_p < 1.0f;
  if (by_k) {  // the k best, best first; then top_p within them
    int64_t n = select_best_k(s.top_k);
    if (by_p) {
      double mass = 0;
      for (int64_t i = 0; i < n; ++i) mass += p[order_[i]];
      double acc = 0;
      for (int64_t i = 0; i < n; ++i) {
        acc += p[order_[i]];
        if (acc >= s.top_p * mass) {
          n = i + 1;
          break;
        }
      }
    }
    return draw(kNoToken, order_.data(), n, floor_p, u);
  }
  if (by_p) {
    const int64_t n_kept = select_top_p(s.top_p);
    return draw(std::max(top_p_above_, floor_p), boundary_.data(), n_kept, floor_p, u);
  }
  return draw(floor_p, nullptr, 0, floor_p, u);
}

int32_t Sampler::draw(float lim, const int32_t* tail, int64_t n_tail, float floor_p, double u) {
  const float* p = probs_.data();
  // Block masses: eight independent partial sums per block (no serial chain of additions).
  const int64_t n_blocks = (vocab_ + kDrawBlock - 1) / kDrawBlock;
  double kept = 0;
  for (int64_t k = 0; k < n_blocks; ++k) {
    const int64_t i0 = k * kDrawBlock, i1 = std::min(vocab_, i0 + kDrawBlock);
    float part[8] = {};
    int64_t i = i0;
    for (; i + 8 <= i1; i += 8)
      for (int j = 0; j < 8; ++j) part[j] += p[i + j] >= lim ? p[i + j] : 0.0f;
    for (; i < i1; ++i) part[0] += p[i] >= lim ? p[i] : 0.0f;
    double m = 0;
    for (float v : part) m += v;
    block_mass_[k] = m;
    kept += m;
  }
  for (int64_t r = 0; r < n_tail; ++r)
    if (p[tail[r]] >= floor_p) kept += p[tail[r]];
  FATHOM_CHECK(kept > 0);
  const double target = u * kept;
  double run = 0;
  int32_t last = -1;
  for (int64_t k = 0; k < n_blocks; ++k) {
    if (block_mass_[k] == 0) continue;
    if (run + block_mass_[k] <= target) {
      run += block_mass_[k];
      continue;
    }
    for (int64_t i = k * kDrawBlock; i < std::min(vocab_, (k + 1) * kDrawBlock); ++i) {
      if (!(p[i] >= lim) || p[i] == 0.0f) continue;
      run += p[i];
      last = static_cast<int32_t>(i);
      if (run > target) return last;
    }
  }
  for (int64_t r = 0; r < n_tail; ++r) {
    const int32_t id = tail[r];
    if (p[id] < floor_p || p[id] == 0.0f) continue;
    run += p[id];
    last = id;
    if (run > target) return id;
  }
  return last;  // rounding at the very end of the walk
}

void Sampler::build_histogram() {
  // Two interleaved histograms, merged after: neighbouring tokens often share a bucket, and one histogram would
  // chain every update through the same memory cell.
  std::fill(bucket_mass_.begin(), bucket_mass_.end(), 0.0);
  std::fill(bucket_count_.begin(), bucket_count_.end(), 0);
  const float* p = probs_.data();
  double* m1 = bucket_mass_.data() + kBuckets;
  int32_t* c1 = bucket_count_.data() + kBuckets;
  int64_t i = 0;
  for (; i + 2 <= vocab_; i += 2) {
    const int b0 = bucket_of(p[i]), b1 = bucket_of(p[i + 1]);
    bucket_mass_[b0] += p[i];
    ++bucket_count_[b0];
    m1[b1] += p[i + 1];
    ++c1[b1];
  }
  if (i < vocab_) {
    bucket_mass_[bucket_of(p[i])] += p[i];
    ++bucket_count_[bucket_of(p[i])];
  }
  for (int b = 0; b < kBuckets; ++b) {
    bucket_mass_[b] += m1[b];
    bucket_count_[b] += c1[b];
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
  // Buckets above b are kept whole: p >= the first value of bucket b + 1. Bucket b's tokens are gathered
  // (branch-free: on a flat distribution the bucket is dense and the test unpredictable), ordered best first,
  // and kept until the mass is reached (all if rounding falls short).
  const float lo = bucket_start(b), hi = bucket_start(b + 1);
  top_p_above_ = hi;
  const float* p = probs_.data();
  int32_t* at = boundary_.data();
  int64_t n = 0;
  for (int64_t i = 0; i < vocab_; ++i) {
    at[n] = static_cast<int32_t>(i);
    n += static_cast<int64_t>(p[i] >= lo) & static_cast<int64_t>(p[i] < hi);
  }
  n_boundary_ = n;
  std::sort(boundary_.begin(), boundary_.begin() + n_boundary_,
            [p](int32_t a, int32_t c) { return p[a] > p[c] || (p[a] == p[c] && a < c); });
  int64_t take = 0;
  while (take < n_boundary_ && acc < need) acc += p[boundary_[take++]];
  return take;
}

}  // namespace fathom
