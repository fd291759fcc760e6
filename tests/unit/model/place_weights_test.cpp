// Weights copied into huge-page memory at load (the default) against weights read from the file mapping
// (--mmap-weights): every streamed view points into the copy, each row holds the checkpoint's bytes (in packed
// panels where the kernels read them), and the logits are those of the mapped model within rounding (pair panels
// sum in their own order; bitwise where nothing is packed) — for a plain, an fp8 and a tensor-parallel-sliced load;
// and coded bf16 panels (the default) give the plain panels' logits bit for bit.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "model/place_weights.h"
#include "model_test_util.h"

namespace fathom {
namespace {

bool inside(const HugeBuffer& b, const void* p) {
  const uint8_t* q = static_cast<const uint8_t*>(p);
  return q >= b.data() && q < b.data() + b.size();
}

void expect_same_model(const std::string& dir, bool fp8, ShardSpec shard = {}) {
  LoadOptions mapped_opt;
  mapped_opt.mmap_weights = true;
  auto mapped = DeepseekModel::load(dir, shard, mapped_opt);
  auto copied = DeepseekModel::load(dir, shard);
  ASSERT_TRUE(mapped && copied) << (mapped ? copied.error() : mapped.error());
  const ModelWeights& m = (*mapped)->weights();
  const ModelWeights& c = (*copied)->weights();
  EXPECT_EQ(m.in_memory, nullptr);
  EXPECT_EQ(m.n_in_memory_bytes, 0);
  ASSERT_NE(c.in_memory, nullptr);
  EXPECT_GT(c.n_in_memory_bytes, 0);
  EXPECT_LE(c.n_in_memory_bytes, c.n_weight_bytes);
  EXPECT_EQ(c.n_weight_bytes, m.n_weight_bytes);
  // Streamed views live in the copy and hold the same bytes; the embedding stays in the mapping.
  EXPECT_FALSE(inside(*c.in_memory, c.embed.data));
  auto same = [&](const WeightView& a, const WeightView& b, const char* what) {
    ASSERT_TRUE(inside(*c.in_memory, b.data)) << what;
    ASSERT_EQ(a.rows, b.rows) << what;
    ASSERT_EQ(a.dtype, b.dtype) << what;
    // Row by row: the copy may be in packed panels.
    const int64_t row = a.cols * dtype_size(a.dtype);
    std::vector<uint8_t> ra(row), rb(row);
    for (int64_t r = 0; r < a.rows; ++r) {
      weight_row(a, r, ra.data());
      weight_row(b, r, rb.data());
      ASSERT_EQ(0, std::memcmp(ra.data(), rb.data(), row)) << what << " row " << r;
    }
    ASSERT_EQ(a.scale_inv == nullptr, b.scale_inv == nullptr) << what;
    if (a.scale_inv)  // the scales stay in the mapping (a different load maps them elsewhere)
      for (int64_t r = 0; r < a.rows; r += kFp8Block)
        for (int64_t k = 0; k < a.scale_cols(); ++k) ASSERT_EQ(a.scale_row(r)[k], b.scale_row(r)[k]) << what;
  };
  same(m.lm_head, c.lm_head, "lm_head");
  for (size_t l = 0; l < m.layers.size(); ++l) {
    const LayerWeights &a = m.layers[l], &b = c.layers[l];
    same(a.kv_a_proj, b.kv_a_proj, "kv_a_proj");
    same(a.o_proj, b.o_proj, "o_proj");
    if (a.is_moe) {
      for (int64_t e = a.e0; e < a.e1; ++e) same(a.experts[e].down, b.experts[e].down, "expert down");
    } else {
      same(a.dense.gate, b.dense.gate, "dense gate");
    }
    if (fp8) EXPECT_EQ(b.kv_a_proj.dtype, DType::F8_E4M3);
    // Packed where the kernels read panels, except the two weights read other than by matmul(): in pair panels
    // where the rows fill whole 64-row panels (o_proj's rows, the hidden size, do) and, for fp8, start on a 16-row
    // boundary of the full tensor.
    auto want = [&](const WeightView& v) -> int64_t {
      if (!panels_supported()) return 1;
      const bool fits = v.rows % kPairPanelRows == 0 && (v.dtype != DType::F8_E4M3 || v.row0 % 16 == 0);
      return fits ? kPairPanelRows : 1;
    };
    EXPECT_EQ(b.o_proj.panel, !panels_supported() ? 1 : kPairPanelRows);
    EXPECT_EQ(b.kv_a_proj.panel, want(b.kv_a_proj));
    EXPECT_EQ(b.q_b_proj.panel, want(b.q_b_proj));
    EXPECT_EQ(b.q_a_norm.panel, 1);
    if (b.is_moe)
      for (int64_t e = b.e0; e < b.e1; ++e)
        EXPECT_EQ(b.experts[e].gate.panel, want(b.experts[e].gate)) << "expert " << e;
    else EXPECT_EQ(b.dense.down.panel, want(b.dense.down));
    EXPECT_EQ(b.kv_b_proj.panel, 1);
    if (b.is_moe) EXPECT_EQ(b.router.panel, 1);
  }
  EXPECT_EQ(c.lm_head.panel, !panels_supported() ? 1 : kPairPanelRows);
  if (shard.size > 1) return;  // a slice alone does not make logits
  ThreadPool pool(2);
  const std::vector<int32_t> ids = {3, 17, 900, 33, 1500, 4, 8};
  const auto x = test::run_sequence(**mapped, ids, 0, &pool), y = test::run_sequence(**copied, ids, 0, &pool);
  ASSERT_EQ(x.size(), y.size());
  if (!panels_supported()) {  // nothing packed: the same kernels on the same bytes
    EXPECT_EQ(0, std::memcmp(x.data(), y.data(), x.size() * sizeof(float)));
    return;
  }
  // The copy in pair panels sums in its own order (ops.h): the products are the same and exact, only the f32
  // summation order differs, and with it, where a value sits within an ulp of a bf16 rounding boundary, the next
  // layer's rounded input (a 2^-9 step). Bound: golden_logits_test's for an order-only difference (kTolGemm,
  // 0.015; measured here 0.004 for bf16, 0 for fp8, whose short products often sum exactly either way).
  float worst = 0.f;
  for (size_t i = 0; i < x.size(); ++i) worst = std::max(worst, std::fabs(x[i] - y[i]));
  EXPECT_LE(worst, 0.015f);
}

TEST(PlaceWeights, CopiedWeightsGiveTheMappedModelsLogits) {
  test::TempDir tmp;
  ASSERT_TRUE(create_model(test::create_options(
      {"--preset", "tiny", "--seed", "9", "--override", R"({"vocab_size": 2048, "num_hidden_layers": 2})"}, tmp.path)));
  expect_same_model(tmp.path, false);
}

TEST(PlaceWeights, Fp8CheckpointAndTensorParallelSlices) {
  test::TempDir tmp;
  ASSERT_TRUE(create_model(test::create_options({"--preset", "tiny", "--seed", "4", "--dtype", "fp8", "--override",
                                                 R"({"vocab_size": 2048, "num_hidden_layers": 2})"},
                                                tmp.path)));
  expect_same_model(tmp.path, true);
  // Rank 1 of 2: o_proj and the MLPs' columns are copies made at load; they move into the buffer too.
  expect_same_model(tmp.path, true, ShardSpec{1, 2, ParallelMode::TENSOR});
}

// bf16 weights coded (the default) against plain panels (--plain-weights): the same logits bit for bit, for a bf16
// and an fp8 checkpoint (whose bf16 lm_head is coded) and for a tensor-parallel rank (row slices start mid-tensor),
// in about 3/4 of the bytes where the weights are bf16.
void expect_coded_same_as_plain(const std::string& dir, bool fp8, ShardSpec shard = {}) {
  LoadOptions plain_opt;
  plain_opt.plain_weights = true;
  auto plain = DeepseekModel::load(dir, shard, plain_opt);
  auto coded = DeepseekModel::load(dir, shard);
  ASSERT_TRUE(plain && coded) << (plain ? coded.error() : plain.error());
  const ModelWeights& p = (*plain)->weights();
  const ModelWeights& c = (*coded)->weights();
  EXPECT_EQ(p.lm_head.codes, nullptr);
  EXPECT_EQ(c.n_in_memory_bytes, p.n_in_memory_bytes);  // the checkpoint bytes they stand for
  EXPECT_GE(p.n_buffer_bytes, p.n_in_memory_bytes);  // plain: the bytes themselves, each view page-rounded
  EXPECT_LE(p.n_buffer_bytes, p.n_in_memory_bytes + 64 * 4096);
  if (!panels_supported()) {
    EXPECT_EQ(c.lm_head.codes, nullptr);
    return;
  }
  ASSERT_NE(c.lm_head.codes, nullptr);
  if (!fp8) EXPECT_LT(c.n_buffer_bytes, 0.8 * p.n_buffer_bytes);
  for (size_t l = 0; l < c.layers.size(); ++l) {
    const LayerWeights& b = c.layers[l];
    EXPECT_EQ(b.o_proj.codes != nullptr, !fp8) << "layer " << l;
    EXPECT_EQ(b.kv_b_proj.codes, nullptr);  // read by matmul_kn too: stays row-major
  }
  // Every row reads back the plain copy's bytes.
  std::vector<uint8_t> ra(c.lm_head.cols * 2), rb(c.lm_head.cols * 2);
  for (int64_t r = 0; r < c.lm_head.rows; r += 7) {
    weight_row(p.lm_head, r, ra.data());
    weight_row(c.lm_head, r, rb.data());
    ASSERT_EQ(0, std::memcmp(ra.data(), rb.data(), ra.size())) << "lm_head row " << r;
  }
  if (shard.size > 1) return;
  ThreadPool pool(2);
  const std::vector<int32_t> ids = {5, 170, 1900, 33, 2, 64, 1024, 7};
  const auto x = test::run_sequence(**plain, ids, 0, &pool), y = test::run_sequence(**coded, ids, 0, &pool);
  ASSERT_EQ(x.size(), y.size());
  EXPECT_EQ(0, std::memcmp(x.data(), y.data(), x.size() * sizeof(float)));
}

TEST(PlaceWeights, CodedBf16GivesThePlainPanelsLogits) {
  test::TempDir bf16, fp8;
  const std::string shape = R"({"vocab_size": 2048, "num_hidden_layers": 2})";
  ASSERT_TRUE(create_model(test::create_options({"--preset", "tiny", "--seed", "12", "--override", shape}, bf16.path)));
  ASSERT_TRUE(create_model(
      test::create_options({"--preset", "tiny", "--seed", "13", "--dtype", "fp8", "--override", shape}, fp8.path)));
  expect_coded_same_as_plain(bf16.path, false);
  expect_coded_same_as_plain(fp8.path, true);
  expect_coded_same_as_plain(bf16.path, false, ShardSpec{1, 2, ParallelMode::TENSOR});
}

TEST(PlaceWeights, TooLittleMemoryKeepsTheMappingAndSaysWhy) {
  test::TempDir tmp;
  ASSERT_TRUE(create_model(test::create_options(
      {"--preset", "tiny", "--seed", "2", "--override", R"({"vocab_size": 2048, "num_hidden_layers": 2})"}, tmp.path)));
  LoadOptions mapped;
  mapped.mmap_weights = true;
  auto config = load_model_config(tmp.path + "/config.json");
  auto ck = Checkpoint::open(tmp.path);
  ASSERT_TRUE(config && ck);
  auto loaded = load_weights(*config, std::move(*ck), {}, mapped);
  ASSERT_TRUE(loaded) << loaded.error();
  ModelWeights& w = **loaded;
  const void* before = w.lm_head.data;
  ThreadPool pool(2);
  const Status s = place_weights_in_memory(w, &pool, int64_t{1} << 20);  // 1 MiB free: far too little
  ASSERT_FALSE(s);
  EXPECT_NE(s.message().find("stay memory-mapped"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("MiB are available"), std::string::npos) << s.message();
  EXPECT_EQ(w.in_memory, nullptr);
  EXPECT_EQ(w.lm_head.data, before);
  EXPECT_EQ(w.n_in_memory_bytes, 0);
  // Enough memory (or unknown): the copy happens.
  EXPECT_TRUE(place_weights_in_memory(w, &pool, -1));
  EXPECT_NE(w.in_memory, nullptr);
  EXPECT_NE(w.lm_head.data, before);
}

}  // namespace
}  // namespace fathom
