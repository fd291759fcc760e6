// Load-time e4m3 quantization (--lm-head-dtype fp8): every value within half an e4m3 step of the original after
// scaling, block scales from each block's max, partial edge blocks, and a model whose lm_head is quantized gives
// logits close to the checkpoint's.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "core/numeric.h"
#include "model/quantize_fp8.h"
#include "model_test_util.h"

namespace fathom {
namespace {

TEST(QuantizeFp8, WithinHalfAStepOfEachValue) {
  const int64_t R = 300, C = 200;  // partial blocks on both edges
  std::vector<uint16_t> src(R * C);
  std::mt19937 rng(3);
  std::normal_distribution<float> nd(0.f, 0.05f);
  for (auto& v : src) v = f32_to_bf16(nd(rng));
  src[5] = f32_to_bf16(3.0f);                            // an outlier sets block (0, 0)'s scale
  for (int64_t r = 256; r < R; ++r)                      // an all-zero edge block
    for (int64_t c = 128; c < C; ++c) src[r * C + c] = 0;
  WeightView w{DType::BF16, src.data(), R, C};
  std::vector<uint8_t> q;
  std::vector<float> s;
  ThreadPool pool(2);
  const WeightView v = quantize_fp8(w, q, s, &pool);
  ASSERT_EQ(v.dtype, DType::F8_E4M3);
  ASSERT_EQ(s.size(), 3u * 2u);
  EXPECT_FLOAT_EQ(s[0], 3.0f / 448.0f);
  EXPECT_EQ(s[2 * 2 + 1], 1.0f);
  std::vector<float> back(R * C);
  decode_rows(v, 0, R, back.data());
  for (int64_t r = 0; r < R; ++r) {
    for (int64_t c = 0; c < C; ++c) {
      const float x = bf16_to_f32(src[r * C + c]);
      const float scale = s[(r / 128) * 2 + c / 128];
      // e4m3 has 3 mantissa bits: half a step is 2^-4 of the value, or 2^-10 (half the subnormal step) near 0.
      const float tol = std::max(std::fabs(x) / 16.0f, scale * std::ldexp(1.0f, -10)) * 1.0001f;
      ASSERT_LE(std::fabs(back[r * C + c] - x), tol) << r << "," << c;
    }
  }
  EXPECT_EQ(back[5], 3.0f);  // the block maximum maps to 448 exactly
  // The same bytes from a single thread.
  std::vector<uint8_t> q1;
  std::vector<float> s1;
  quantize_fp8(w, q1, s1, nullptr);
  EXPECT_EQ(q, q1);
  EXPECT_EQ(s, s1);
}

TEST(QuantizeFp8, LmHeadOptionKeepsLogitsClose) {
  test::TempDir tmp;
  ASSERT_TRUE(create_model(test::create_options({"--preset", "tiny", "--seed", "5", "--override",
                                                 R"({"vocab_size": 2048, "num_hidden_layers": 2})"},
                                                tmp.path)));
  auto plain = DeepseekModel::load(tmp.path);
  auto quant = DeepseekModel::load(tmp.path, {}, LoadOptions{true});
  ASSERT_TRUE(plain && quant);
  EXPECT_EQ((*quant)->weights().lm_head.dtype, DType::F8_E4M3);
  const int64_t V = 2048, H = (*plain)->config().hidden_size;
  EXPECT_EQ((*plain)->weights().n_weight_bytes - (*quant)->weights().n_weight_bytes,
            V * H * 2 - V * H - (V / 128) * (H / 128) * 4);
  ThreadPool pool(2);
  const std::vector<int32_t> ids = {0, 17, 900, 33, 1500, 4};
  const auto a = test::run_sequence(**plain, ids, 0, &pool), b = test::run_sequence(**quant, ids, 0, &pool);
  for (size_t t = 0; t < ids.size(); ++t) {
    double dot = 0, na = 0, nb = 0;
    for (int64_t v = 0; v < V; ++v) {
      const double x = a[t * V + v], y = b[t * V + v];
      dot += x * y, na += x * x, nb += y * y;
    }
    // e4m3 weights carry ≈ 2^-5 relative noise per value; over H = 512 products the logit vector barely turns.
    EXPECT_GE(dot / std::sqrt(na * nb), 0.995) << "position " << t;
  }
}

}  // namespace
}  // namespace fathom
