// Safetensors reading: good files (single and sharded), and every corrupt case named in the model-core issue —
// each gives an error that names the file and (where there is one) the tensor.
#include "model/safetensors.h"

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>

#include "core/file_io.h"
#include "model/weights.h"
#include "model_test_util.h"

namespace fathom {
namespace {

void write_raw(const std::string& path, const std::string& header, size_t data_bytes, int64_t header_len = -1) {
  std::ofstream f(path, std::ios::binary);
  const uint64_t n = header_len >= 0 ? static_cast<uint64_t>(header_len) : header.size();
  f.write(reinterpret_cast<const char*>(&n), 8);
  f.write(header.data(), static_cast<std::streamsize>(header.size()));
  std::string data(data_bytes, '\x01');
  f.write(data.data(), static_cast<std::streamsize>(data.size()));
}

std::string open_error(const std::string& path) {
  auto f = SafetensorsFile::open(path);
  EXPECT_FALSE(f) << path;
  return f ? "" : f.error();
}

TEST(Safetensors, ReadsWhatItWrites) {
  test::TempDir d;
  std::map<std::string, TensorData> t;
  t["a"] = {DType::F32, {2, 3}, std::vector<uint8_t>(24, 7)};
  t["b"] = {DType::BF16, {4}, std::vector<uint8_t>(8, 9)};
  t["c"] = {DType::F8_E4M3, {3, 5}, std::vector<uint8_t>(15, 0x38)};
  ASSERT_TRUE(write_safetensors(d.path + "/model.safetensors", t));
  auto ck = Checkpoint::open(d.path);
  ASSERT_TRUE(ck) << ck.error();
  auto a = ck->get("a", {2, 3});
  ASSERT_TRUE(a);
  EXPECT_EQ(a->dtype, DType::F32);
  EXPECT_EQ(a->n_bytes, 24u);
  EXPECT_EQ(a->data[0], 7);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a->data) % 8, 0u);  // data section kept 8-byte aligned
  EXPECT_EQ(ck->get("c", {3, 5})->data[14], 0x38);
}

TEST(Safetensors, ShardedWithIndex) {
  test::TempDir d;
  std::map<std::string, TensorData> t;
  for (int i = 0; i < 5; ++i) t["t" + std::to_string(i)] = {DType::F32, {10}, std::vector<uint8_t>(40, static_cast<uint8_t>(i))};
  ASSERT_TRUE(write_checkpoint(d.path, t, 100));  // two tensors per shard
  EXPECT_TRUE(std::filesystem::exists(d.path + "/model.safetensors.index.json"));
  EXPECT_TRUE(std::filesystem::exists(d.path + "/model-00003-of-000003.safetensors"));
  auto ck = Checkpoint::open(d.path);
  ASSERT_TRUE(ck) << ck.error();
  for (int i = 0; i < 5; ++i) EXPECT_EQ(ck->get("t" + std::to_string(i), {10})->data[3], i);
}

TEST(Safetensors, TruncatedFile) {
  test::TempDir d;
  const std::string p = d.path + "/x.safetensors";
  std::ofstream(p, std::ios::binary) << "abc";
  const std::string e = open_error(p);
  EXPECT_NE(e.find(p), std::string::npos) << e;
  EXPECT_NE(e.find("truncated"), std::string::npos) << e;
}

TEST(Safetensors, HeaderLengthBeyondFile) {
  test::TempDir d;
  const std::string p = d.path + "/x.safetensors";
  write_raw(p, "{}", 0, 1 << 20);
  const std::string e = open_error(p);
  EXPECT_NE(e.find(p), std::string::npos) << e;
  EXPECT_NE(e.find("header length 1048576 is beyond the end of the file"), std::string::npos) << e;
}

TEST(Safetensors, BadHeaderJson) {
  test::TempDir d;
  const std::string p = d.path + "/x.safetensors";
  write_raw(p, "{\"a\": [1, 2", 0);
  EXPECT_NE(open_error(p).find(p + ": bad header JSON"), std::string::npos);
}

TEST(Safetensors, OffsetsOutOfRange) {
  test::TempDir d;
  const std::string p = d.path + "/x.safetensors";
  write_raw(p, R"({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}})", 8);
  const std::string e = open_error(p);
  EXPECT_NE(e.find(p), std::string::npos) << e;
  EXPECT_NE(e.find("tensor 'w'"), std::string::npos) << e;
  EXPECT_NE(e.find("out of range"), std::string::npos) << e;
}

TEST(Safetensors, OffsetsDisagreeWithShape) {
  test::TempDir d;
  const std::string p = d.path + "/x.safetensors";
  write_raw(p, R"({"w": {"dtype": "BF16", "shape": [4], "data_offsets": [0, 4]}})", 8);
  const std::string e = open_error(p);
  EXPECT_NE(e.find("tensor 'w'"), std::string::npos) << e;
  EXPECT_NE(e.find("needs 8"), std::string::npos) << e;
}

TEST(Safetensors, UnknownDtype) {
  test::TempDir d;
  const std::string p = d.path + "/x.safetensors";
  write_raw(p, R"({"w": {"dtype": "I64", "shape": [1], "data_offsets": [0, 8]}})", 8);
  const std::string e = open_error(p);
  EXPECT_NE(e.find("tensor 'w'"), std::string::npos) << e;
  EXPECT_NE(e.find("unsupported dtype"), std::string::npos) << e;
}

TEST(Safetensors, HugeShapeDoesNotOverflow) {
  test::TempDir d;
  const std::string p = d.path + "/x.safetensors";
  write_raw(p, R"({"w": {"dtype": "F32", "shape": [4294967296, 4294967296], "data_offsets": [0, 0]}})", 0);
  EXPECT_NE(open_error(p).find("tensor 'w'"), std::string::npos);
}

// Missing tensor, wrong shape, wrong dtype: from the weight binder over a real preset checkpoint with one tensor
// tampered with.
class TamperedCheckpoint : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cfg = preset_config_json("tiny");
    ASSERT_TRUE(cfg);
    nlohmann::json j = *cfg;
    j["vocab_size"] = 64;
    j["num_hidden_layers"] = 2;
    j["n_routed_experts"] = 8;
    j["n_group"] = 4;
    j["topk_group"] = 2;
    auto c = parse_model_config(j);
    ASSERT_TRUE(c) << c.error();
    config_ = *c;
    ASSERT_TRUE(random_checkpoint(config_, 1, fp8_, 1, dir_.path, 1LL << 40));
  }
  // Re-writes the checkpoint with `edit` applied to its tensors.
  template <typename F>
  std::string load_error_after(F edit) {
    auto ck = Checkpoint::open(dir_.path);
    EXPECT_TRUE(ck);
    std::map<std::string, TensorData> t;
    for (const auto& [name, info] : ck->tensors())
      t[name] = {info.dtype, info.shape, std::vector<uint8_t>(info.data, info.data + info.n_bytes)};
    edit(t);
    test::TempDir out;
    EXPECT_TRUE(write_safetensors(out.path + "/model.safetensors", t));
    auto ck2 = Checkpoint::open(out.path);
    EXPECT_TRUE(ck2);
    auto w = load_weights(config_, std::move(*ck2));
    EXPECT_FALSE(w);
    return w ? "" : w.error();
  }
  test::TempDir dir_;
  ModelConfig config_;
  bool fp8_ = true;
};

TEST_F(TamperedCheckpoint, LoadsUntouched) {
  auto ck = Checkpoint::open(dir_.path);
  ASSERT_TRUE(ck);
  auto w = load_weights(config_, std::move(*ck));
  ASSERT_TRUE(w) << w.error();
  EXPECT_EQ((*w)->layers[1].experts.size(), 8u);
  EXPECT_NE((*w)->layers[1].kv_a_proj.scale_inv, nullptr);
}

TEST_F(TamperedCheckpoint, MissingTensor) {
  const std::string e = load_error_after([](auto& t) { t.erase("model.layers.1.self_attn.o_proj.weight"); });
  EXPECT_NE(e.find("model.safetensors"), std::string::npos) << e;
  EXPECT_NE(e.find("tensor 'model.layers.1.self_attn.o_proj.weight' is missing"), std::string::npos) << e;
}

TEST_F(TamperedCheckpoint, MissingScale) {
  const std::string e = load_error_after([](auto& t) { t.erase("model.layers.0.mlp.up_proj.weight_scale_inv"); });
  EXPECT_NE(e.find("'model.layers.0.mlp.up_proj.weight_scale_inv' is missing"), std::string::npos) << e;
}

TEST_F(TamperedCheckpoint, WrongShape) {
  const std::string e = load_error_after([](auto& t) {
    auto& x = t["model.norm.weight"];
    x.shape = {256};
    x.bytes.resize(512);
  });
  EXPECT_NE(e.find("tensor 'model.norm.weight' has shape [256], expected [512]"), std::string::npos) << e;
}

TEST_F(TamperedCheckpoint, WrongDtype) {
  const std::string e = load_error_after([](auto& t) {
    auto& x = t["model.layers.1.mlp.gate.e_score_correction_bias"];
    x.dtype = DType::BF16;
    x.bytes.resize(x.bytes.size() / 2);
  });
  EXPECT_NE(e.find("tensor 'model.layers.1.mlp.gate.e_score_correction_bias' has dtype BF16, expected F32"),
            std::string::npos) << e;
}

TEST_F(TamperedCheckpoint, Fp8EmbeddingRejected) {
  const std::string e = load_error_after([](auto& t) {
    auto& x = t["model.embed_tokens.weight"];
    x.dtype = DType::F8_E4M3;
    x.bytes.resize(x.bytes.size() / 2);
  });
  EXPECT_NE(e.find("'model.embed_tokens.weight' has dtype F8_E4M3"), std::string::npos) << e;
}

TEST(RandomCheckpoint, SameSeedSameBytes) {
  test::TempDir a, b, c;
  const std::string ov = R"({"vocab_size": 256, "num_hidden_layers": 2})";
  ASSERT_TRUE(create_model(test::create_options({"--preset", "tiny", "--seed", "5", "--override", ov}, a.path)));
  ASSERT_TRUE(create_model(test::create_options({"--preset", "tiny", "--seed", "5", "--override", ov}, b.path)));
  ASSERT_TRUE(create_model(test::create_options({"--preset", "tiny", "--seed", "6", "--override", ov}, c.path)));
  auto ra = read_text_file(a.path + "/model.safetensors"), rb = read_text_file(b.path + "/model.safetensors"),
       rc = read_text_file(c.path + "/model.safetensors");
  ASSERT_TRUE(ra && rb && rc);
  EXPECT_EQ(*ra, *rb);
  EXPECT_NE(*ra, *rc);
  EXPECT_EQ(*read_text_file(a.path + "/config.json"), *read_text_file(b.path + "/config.json"));
  EXPECT_TRUE(std::filesystem::exists(a.path + "/tokenizer.json"));
  EXPECT_TRUE(std::filesystem::exists(a.path + "/generation_config.json"));
}

}  // namespace
}  // namespace fathom
