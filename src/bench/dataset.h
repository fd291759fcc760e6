// Benchmark prompts, sampled as profile_restful_api.py (SGLang's bench_serving) samples them.
//
// sharegpt: conversations with at least two turns; (turn 0, turn 1) pairs are shuffled with the seed; prompt_len =
//   tokens of turn 0 (special tokens included, e.g. BOS), output_len = tokens of turn 1 (or the fixed
//   --sharegpt-output-len); pairs with prompt_len < 4 or output_len < 4 are dropped, and so are prompts over 1024
//   tokens or pairs over 2048 together (the latter only without a fixed output length).
// random: lengths uniform over the integers [max(floor(L·r), 1), L] for L = --random-input-len / -output-len and
//   r = --random-range-ratio (LMDeploy's and SGLang's meaning: r = 1 gives fixed lengths, the default 0 gives
//   [1, L]; vLLM's flag of the same name means [L(1−r), L(1+r)] instead). Each prompt is the i-th source text
//   (ShareGPT first turns, or the built-in text when no file is given) re-tokenized without special tokens, cut or
//   repeated to exactly the target number of ids and decoded; when decoding then re-encoding shifts the count at
//   the seams, the ids are trimmed or topped up until the text encodes to the target length again.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "bench/bench_types.h"
#include "core/status.h"
#include "tokenizer/tokenizer.h"

namespace fathom::bench {

struct Conversation {
  std::string prompt;      // turn 0
  std::string completion;  // turn 1
};

// A ShareGPT-format JSON file: [{"conversations": [{"from": ..., "value": ...}, ...]}, ...].
Expected<std::vector<Conversation>> load_sharegpt(const std::string& path);
// The same from text; `name` only names it in errors.
Expected<std::vector<Conversation>> parse_sharegpt(const std::string& json_text, const std::string& name);

// Self-written paragraphs used as the random dataset's source text when no --dataset-path is given.
std::vector<std::string> builtin_source_texts();

struct SharegptOptions {
  int num_prompts = 1000;
  int fixed_output_len = -1;  // --sharegpt-output-len; -1: from turn 1
  uint64_t seed = 1;
};
Expected<std::vector<BenchRequest>> sample_sharegpt(std::vector<Conversation> conversations, const Tokenizer& tok,
                                                    const SharegptOptions& o);

struct RandomOptions {
  int num_prompts = 1000;
  int input_len = 1024;
  int output_len = 1024;
  double range_ratio = 0.0;
  uint64_t seed = 1;
};
// [low, high] of the sampled lengths for target L and ratio r.
std::pair<int, int> random_length_range(int target, double ratio);
Expected<std::vector<BenchRequest>> sample_random(const std::vector<std::string>& source_texts, const Tokenizer& tok,
                                                  const RandomOptions& o);

}  // namespace fathom::bench
