#include "bench/dataset.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/file_io.h"

namespace fathom::bench {

Expected<std::vector<Conversation>> parse_sharegpt(const std::string& text, const std::string& name) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) return Status::error(name + ": not valid JSON");
  if (!j.is_array()) return Status::error(name + ": expected a JSON array of {\"conversations\": [...]} objects");
  std::vector<Conversation> out;
  for (const auto& e : j) {
    if (!e.is_object()) continue;
    auto c = e.find("conversations");
    if (c == e.end() || !c->is_array() || c->size() < 2) continue;
    const auto& t0 = (*c)[0];
    const auto& t1 = (*c)[1];
    if (!t0.is_object() || !t1.is_object()) continue;
    auto v0 = t0.find("value");
    auto v1 = t1.find("value");
    if (v0 == t0.end() || v1 == t1.end() || !v0->is_string() || !v1->is_string()) continue;
    out.push_back({v0->get<std::string>(), v1->get<std::string>()});
  }
  if (out.empty()) return Status::error(name + ": no conversation with two turns");
  return out;
}

Expected<std::vector<Conversation>> load_sharegpt(const std::string& path) {
  auto text = read_text_file(path);
  if (!text) return Status::error("--dataset-path: " + text.error());
  return parse_sharegpt(*text, path);
}

Expected<std::vector<BenchRequest>> sample_sharegpt(std::vector<Conversation> convs, const Tokenizer& tok,
                                                    const SharegptOptions& o) {
  if (o.fixed_output_len >= 0 && o.fixed_output_len < 4) {
    return Status::error("--sharegpt-output-len: must be at least 4");
  }
  std::mt19937_64 rng(o.seed);
  std::shuffle(convs.begin(), convs.end(), rng);
  std::vector<BenchRequest> out;
  for (Conversation& c : convs) {
    if (static_cast<int>(out.size()) == o.num_prompts) break;
    const int prompt_len = static_cast<int>(tok.encode(c.prompt, true).size());
    const int output_len =
        o.fixed_output_len >= 0 ? o.fixed_output_len : static_cast<int>(tok.encode(c.completion, true).size());
    if (prompt_len < 4 || output_len < 4) continue;
    if (prompt_len > 1024 || (o.fixed_output_len < 0 && prompt_len + output_len > 2048)) continue;
    out.push_back({std::move(c.prompt), prompt_len, output_len});
  }
  if (static_cast<int>(out.size()) < o.num_prompts) {
    return Status::error("--dataset-path: only " + std::to_string(out.size()) + " conversations pass the length " +
                         "filters, --num-prompts asks for " + std::to_string(o.num_prompts));
  }
  return out;
}

std::pair<int, int> random_length_range(int target, double ratio) {
  const int low = std::max(static_cast<int>(std::floor(static_cast<double>(target) * ratio)), 1);
  return {std::min(low, target), target};
}

namespace {

// ids cut or repeated to exactly n.
std::vector<int32_t> fit_ids(const std::vector<int32_t>& src, size_t n) {
  std::vector<int32_t> ids;
  ids.reserve(n);
  while (ids.size() < n) {
    const size_t take = std::min(src.size(), n - ids.size());
    ids.insert(ids.end(), src.begin(), src.begin() + static_cast<ptrdiff_t>(take));
  }
  return ids;
}

// Text that encodes (without special tokens) to exactly n ids when a few rounds of trimming or topping up
// reach it; otherwise the closest text found (the nominal length is what the totals count either way).
std::string text_of_length(const Tokenizer& tok, const std::vector<int32_t>& src, size_t n) {
  std::vector<int32_t> ids = fit_ids(src, n);
  std::string text = tok.decode(ids, true);
  for (int round = 0; round < 4; ++round) {
    const std::vector<int32_t> again = tok.encode(text, false);
    if (again.size() == n) break;
    if (again.size() > n) {
      ids.assign(again.begin(), again.begin() + static_cast<ptrdiff_t>(n));
    } else {
      ids = again;
      ids.insert(ids.end(), src.begin(), src.begin() + static_cast<ptrdiff_t>(std::min(src.size(), n - ids.size())));
      ids = fit_ids(ids, n);
    }
    text = tok.decode(ids, true);
  }
  return text;
}

}  // namespace

Expected<std::vector<BenchRequest>> sample_random(const std::vector<std::string>& texts, const Tokenizer& tok,
                                                  const RandomOptions& o) {
  if (o.input_len < 1 || o.output_len < 1) {
    return Status::error("--random-input-len and --random-output-len: must be at least 1");
  }
  if (o.range_ratio < 0 || o.range_ratio > 1) return Status::error("--random-range-ratio: must be in [0, 1]");
  std::mt19937_64 rng(o.seed);
  // The source order is shuffled first, then input lengths are drawn, then output lengths.
  std::vector<size_t> order(texts.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), rng);
  auto [in_lo, in_hi] = random_length_range(o.input_len, o.range_ratio);
  auto [out_lo, out_hi] = random_length_range(o.output_len, o.range_ratio);
  std::uniform_int_distribution<int> in_dist(in_lo, in_hi), out_dist(out_lo, out_hi);
  std::vector<BenchRequest> out(static_cast<size_t>(o.num_prompts));
  for (auto& r : out) r.prompt_len = in_dist(rng);
  for (auto& r : out) r.output_len = out_dist(rng);

  // Encode each source text once (skipping texts that encode to nothing).
  std::vector<std::vector<int32_t>> sources;
  for (size_t i : order) {
    if (sources.size() >= out.size()) break;
    auto ids = tok.encode(texts[i], false);
    if (!ids.empty()) sources.push_back(std::move(ids));
  }
  if (sources.empty()) return Status::error("random dataset: the source text encodes to no tokens");

  const unsigned n_threads = std::max(1u, std::min(4u, std::thread::hardware_concurrency()));
  std::vector<std::thread> workers;
  for (unsigned w = 0; w < n_threads; ++w) {
    workers.emplace_back([&, w] {
      for (size_t i = w; i < out.size(); i += n_threads) {
        out[i].prompt = text_of_length(tok, sources[i % sources.size()], static_cast<size_t>(out[i].prompt_len));
      }
    });
  }
  for (auto& t : workers) t.join();
  return out;
}

}  // namespace fathom::bench
