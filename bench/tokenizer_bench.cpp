// Tokenizer encode/decode throughput, one thread. Corpus: $FATHOM_TOKENIZER_BENCH_CORPUS (JSONL of strings, plain
// or .gz; tools/bench_tokenizer.py makes a >= 10 MB one and compares with the `tokenizers` library), else the
// committed golden corpus. bytes_per_second counts UTF-8 input bytes (encode) or output bytes (decode) per second
// of CPU time (the build machine is shared; CPU time is what contention distorts least).
#include <benchmark/benchmark.h>
#include <zlib.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tokenizer/tokenizer.h"

namespace {

struct Data {
  std::shared_ptr<const fathom::Tokenizer> tok;
  std::vector<std::string> lines;
  std::vector<std::vector<int32_t>> ids;
  size_t n_bytes = 0, n_decoded_bytes = 0;
};

const Data& data() {
  static const Data d = [] {
    Data d;
    auto tok = fathom::Tokenizer::load(FATHOM_SOURCE_DIR "/assets");
    if (!tok) {
      std::fprintf(stderr, "%s\n", tok.error().c_str());
      std::exit(1);
    }
    d.tok = *tok;
    const char* env = std::getenv("FATHOM_TOKENIZER_BENCH_CORPUS");
    const std::string path = env ? env : FATHOM_SOURCE_DIR "/tests/golden/tokenizer/corpus.jsonl.gz";
    gzFile f = gzopen(path.c_str(), "rb");  // reads plain files too
    if (f == nullptr) {
      std::fprintf(stderr, "%s: cannot open\n", path.c_str());
      std::exit(1);
    }
    std::string all;
    char buf[1 << 16];
    int n;
    while ((n = gzread(f, buf, sizeof(buf))) > 0) all.append(buf, static_cast<size_t>(n));
    gzclose(f);
    size_t pos = 0;
    while (pos < all.size()) {
      size_t nl = all.find('\n', pos);
      if (nl == std::string::npos) nl = all.size();
      d.lines.push_back(nlohmann::json::parse(all.substr(pos, nl - pos)).get<std::string>());
      d.n_bytes += d.lines.back().size();
      pos = nl + 1;
    }
    for (const auto& l : d.lines) {
      d.ids.push_back(d.tok->encode(l, false));
      d.n_decoded_bytes += d.tok->decode(d.ids.back(), false).size();
    }
    return d;
  }();
  return d;
}

void BM_Encode(benchmark::State& state) {
  const Data& d = data();
  size_t n_tokens = 0;
  for (auto _ : state) {
    for (const auto& l : d.lines) {
      auto ids = d.tok->encode(l, false);
      n_tokens += ids.size();
      benchmark::DoNotOptimize(ids.data());
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * d.n_bytes));
  state.counters["tokens"] = benchmark::Counter(static_cast<double>(n_tokens), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Encode)->Unit(benchmark::kMillisecond);

void BM_Decode(benchmark::State& state) {
  const Data& d = data();
  for (auto _ : state) {
    for (const auto& ids : d.ids) benchmark::DoNotOptimize(d.tok->decode(ids, false).data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * d.n_decoded_bytes));
}
BENCHMARK(BM_Decode)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
