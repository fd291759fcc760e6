// Renders every committed conversation with the official DeepSeek chat templates and compares the bytes with
// Python jinja2's output under HF's settings (fixtures from tools/gen_chat_template_fixtures.py).
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tokenizer/chat_template.h"

namespace fathom {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  EXPECT_TRUE(f.good()) << "cannot open " << path;
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string golden_dir() { return std::string(FATHOM_TEST_DATA) + "/golden/chat_templates/"; }

nlohmann::ordered_json load_cases(const std::string& name) {
  return nlohmann::ordered_json::parse(read_file(golden_dir() + name + ".cases.json"));
}

// First differing byte, for a readable failure.
std::string first_difference(const std::string& want, const std::string& got) {
  size_t i = 0;
  while (i < want.size() && i < got.size() && want[i] == got[i]) ++i;
  const size_t from = i < 40 ? 0 : i - 40;
  return "at byte " + std::to_string(i) + "\n  want: ..." + want.substr(from, 120) + "\n  got:  ..." + got.substr(from, 120);
}

class DeepSeekTemplate : public ::testing::TestWithParam<std::string> {};

TEST_P(DeepSeekTemplate, MatchesJinja2ByteForByte) {
  const std::string name = GetParam();
  auto tmpl = ChatTemplate::parse(read_file(golden_dir() + name + ".jinja"));
  ASSERT_TRUE(tmpl) << tmpl.error();
  const auto cases = load_cases(name);
  int n_rendered = 0, n_errors = 0;
  for (const auto& c : cases) {
    const std::string case_name = c["name"].get<std::string>();
    auto out = tmpl->render(c["context"]);
    if (c.contains("expected")) {
      ASSERT_TRUE(out) << case_name << ": " << out.error();
      const std::string want = c["expected"].get<std::string>();
      EXPECT_EQ(*out, want) << case_name << " " << first_difference(want, *out);
      ++n_rendered;
    } else {
      EXPECT_FALSE(out) << case_name << ": jinja2 failed (" << c["error"].get<std::string>() << ") but Fathom rendered";
      if (!out) EXPECT_NE(out.error().find("chat template"), std::string::npos) << out.error();
      ++n_errors;
    }
  }
  EXPECT_GE(n_rendered, 30) << "the issue asks for at least 30 rendered conversations per template";
  RecordProperty("rendered", n_rendered);
  RecordProperty("errors", n_errors);
}

INSTANTIATE_TEST_SUITE_P(Official, DeepSeekTemplate,
                         ::testing::Values("deepseek_v3", "deepseek_r1", "deepseek_v3_0324", "deepseek_v3_1",
                                           "deepseek_v2_chat"));

// The V3 template in the committed tokenizer_config.json is the one the golden file covers.
TEST(DeepSeekTemplate, AssetTemplateIsTheGoldenOne) {
  const auto config = nlohmann::json::parse(read_file(std::string(FATHOM_TEST_DATA) + "/../assets/tokenizer_config.json"));
  EXPECT_EQ(config["chat_template"].get<std::string>(), read_file(golden_dir() + "deepseek_v3.jinja"));
}

// Small templates, one construct each, against jinja2.
TEST(ChatTemplateFeatures, MatchJinja2) {
  const auto cases = load_cases("features");
  ASSERT_GE(cases.size(), 50u);
  for (const auto& c : cases) {
    const std::string case_name = c["name"].get<std::string>();
    const std::string source = c["template"].get<std::string>();
    auto tmpl = ChatTemplate::parse(source);
    Expected<std::string> out = tmpl ? tmpl->render(c["context"]) : Expected<std::string>(tmpl.status());
    if (c.contains("expected")) {
      ASSERT_TRUE(out) << case_name << " (" << source << "): " << out.error();
      const std::string want = c["expected"].get<std::string>();
      EXPECT_EQ(*out, want) << case_name << " (" << source << ") " << first_difference(want, *out);
    } else {
      EXPECT_FALSE(out) << case_name << " (" << source << "): jinja2 failed (" << c["error"].get<std::string>()
                        << ") but Fathom rendered '" << (out ? *out : "") << "'";
    }
  }
}

}  // namespace
}  // namespace fathom
