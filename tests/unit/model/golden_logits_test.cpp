// Golden logits from Hugging Face transformers (tools/gen_model_golden.py): every position, every vocabulary entry.
//
// Two references per case, both float32 with eager attention on the same checkpoint (fp8 weights dequantised):
//  * "bf16-gemm": the reference with Fathom's precision map (MODEL_SPEC §6.1): c_KV and the rotated rope key
//    rounded to bf16, as the latent cache stores them, and the input of every linear layer with a bf16/fp8
//    weight rounded to bf16 (the router stays f32). Each product is then exact in both, so the two differ by f32
//    summation order — and by what that does at each bf16 rounding: a value within an f32 ulp of a rounding
//    boundary goes one way here and the other way there, a 2^-9 jump in one element that the following layers
//    carry. Measured: max |Δ| per position 0.004–0.0075 (median 0.004–0.006) on logits of std ≈ 0.45; in the
//    fp8 case 2 of 24 positions also flip a routed expert (a discrete jump, MODEL_SPEC §6.3, up to 0.33).
//    Which positions flip depends on the summation order, so on the ISA path (AVX2: 3 of 24 in group_limited,
//    where routed_scaling_factor 16 makes a flip cost up to 0.78, and in fp8). Checked: at least 80% of positions
//    are within 0.015; every position has cosine ≥ 0.85; at each position within 0.015 the top-1 token is the
//    reference's wherever its top-2 margin exceeds 2 × 0.015.
//  * "f32": the unmodified reference. The bf16 rounding of the cache and of the GEMM inputs (relative 2^-9)
//    moves logits by ≈ 0.01, plus the same discrete routing flips. Checked: every position has cosine ≥ 0.85 and
//    at least 80% of positions are within 0.03 (the fp8 case: 21 of 24).
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "core/file_io.h"
#include "model_test_util.h"

namespace fathom {
namespace {

constexpr float kTolGemm = 0.015f;
constexpr float kTolF32 = 0.03f;

std::vector<float> read_f32(const std::string& path, size_t n) {
  std::vector<float> v(n);
  std::ifstream f(path, std::ios::binary);
  f.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(n * 4));
  EXPECT_TRUE(f.good()) << path;
  return v;
}

class GoldenLogits : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenLogits, MatchesTransformers) {
  const std::string dir = std::string(FATHOM_TEST_DATA) + "/golden/model/";
  auto text = read_text_file(dir + GetParam() + ".json");
  ASSERT_TRUE(text) << text.error();
  const auto meta = nlohmann::json::parse(*text);
  test::TempDir tmp;
  ASSERT_TRUE(create_model(test::create_options(meta["create_args"].get<std::vector<std::string>>(), tmp.path)));
  auto model = DeepseekModel::load(tmp.path);
  ASSERT_TRUE(model) << model.error();
  const auto ids = meta["ids"].get<std::vector<int32_t>>();
  const int64_t T = static_cast<int64_t>(ids.size()), V = meta["vocab_size"].get<int64_t>();
  ASSERT_EQ(V, (*model)->config().vocab_size);
  const auto ref = read_f32(dir + meta["logits_file"].get<std::string>(), T * V);
  const auto ref_gemm = read_f32(dir + meta["logits_bf16_gemm_file"].get<std::string>(), T * V);
  ThreadPool pool(2);
  const auto ours = test::run_sequence(**model, ids, 0, &pool);

  int64_t close_f32 = 0, close_gemm = 0;
  for (int64_t t = 0; t < T; ++t) {
    const float* o = ours.data() + t * V;
    const float* r = ref_gemm.data() + t * V;
    const float* f = ref.data() + t * V;
    float max_gemm = 0, max_f32 = 0;
    double dot = 0, no = 0, nf = 0, dot_g = 0, ng = 0;
    int64_t arg_o = 0, arg_r = 0;
    for (int64_t v = 0; v < V; ++v) {
      max_gemm = std::max(max_gemm, std::fabs(o[v] - r[v]));
      max_f32 = std::max(max_f32, std::fabs(o[v] - f[v]));
      dot += static_cast<double>(o[v]) * f[v], no += static_cast<double>(o[v]) * o[v], nf += static_cast<double>(f[v]) * f[v];
      dot_g += static_cast<double>(o[v]) * r[v], ng += static_cast<double>(r[v]) * r[v];
      if (o[v] > o[arg_o]) arg_o = v;
      if (r[v] > r[arg_r]) arg_r = v;
    }
    close_gemm += max_gemm <= kTolGemm;
    EXPECT_GE(dot_g / std::sqrt(no * ng), 0.85) << GetParam() << " position " << t;
    EXPECT_GE(dot / std::sqrt(no * nf), 0.85) << GetParam() << " position " << t;
    close_f32 += max_f32 <= kTolF32;
    float second = -INFINITY;
    for (int64_t v = 0; v < V; ++v)
      if (v != arg_r) second = std::max(second, r[v]);
    if (max_gemm <= kTolGemm && r[arg_r] - second > 2 * kTolGemm) {
      EXPECT_EQ(arg_o, arg_r) << GetParam() << " position " << t;
    }
  }
  EXPECT_GE(close_gemm, static_cast<int64_t>(std::ceil(0.80 * T))) << GetParam();
  EXPECT_GE(close_f32, static_cast<int64_t>(std::ceil(0.80 * T))) << GetParam();
}

INSTANTIATE_TEST_SUITE_P(Cases, GoldenLogits,
                         ::testing::Values("tiny", "v2lite_shape", "group_limited", "fp8", "yarn_long"));

}  // namespace
}  // namespace fathom
