// GenerationJob + StreamPump over a real engine with the fake model, without HTTP: a recording Responder sees
// exactly what a client would. Covers the streamed shape, the client going away (engine request aborted, pages
// freed, nothing more written), an engine refusal after the stream began (in-band error then [DONE]), and the
// admission gate.
#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <thread>

#include "engine/fake_executor.h"
#include "model/model_dir.h"
#include "server/generation_job.h"

namespace fathom::server {
namespace {

class RecordingResponder final : public http::Responder {
 public:
  void send(http::Response r) override {
    std::lock_guard<std::mutex> l(mu);
    status = r.status;
    body += r.body;
    done = true;
  }
  void begin(int s, http::Headers, int64_t) override {
    std::lock_guard<std::mutex> l(mu);
    status = s;
  }
  void write(std::string data, std::function<void(bool)> cb) override {
    {
      std::lock_guard<std::mutex> l(mu);
      body += data;
      ++n_writes;
    }
    if (cb) cb(true);
  }
  void end() override {
    std::lock_guard<std::mutex> l(mu);
    done = true;
  }
  void abort() override {}
  void on_disconnect(std::function<void()> cb) override { on_gone = std::move(cb); }
  bool disconnected() const override { return gone; }
  size_t queued_bytes() const override { return 0; }

  void disconnect() {
    gone = true;
    if (on_gone) on_gone();
  }
  std::string text() {
    std::lock_guard<std::mutex> l(mu);
    return body;
  }
  int writes() {
    std::lock_guard<std::mutex> l(mu);
    return n_writes;
  }

  std::mutex mu;
  int status = 0;
  std::string body;
  int n_writes = 0;
  bool done = false;
  std::atomic<bool> gone{false};
  std::function<void()> on_gone;
};

struct Fixture {
  explicit Fixture(int max_in_engine = 64) {
    EngineConfig c;
    c.max_batch_size = 8;
    c.max_prefill_tokens = 256;
    c.defaults.temperature = 0.0f;
    c.defaults.eos_token_ids = {7};
    // 4096 pages of 16 tokens: a 60k-token request runs long enough to be cut off mid-way.
    engine = std::make_unique<Engine>(std::make_unique<FakeExecutor>(512, 4096, 16, 256 + 8), c);
    ctx = std::make_shared<ServerContext>();
    ctx->cfg.model_name = "fake";
    ctx->tokenizer = *Tokenizer::load(*assets_dir());
    ctx->engine = engine.get();
    pump = std::make_unique<StreamPump>(*engine, max_in_engine);
    ctx->pump = pump.get();
    ctx->ready = true;
  }
  ~Fixture() { pump->stop(); }

  std::shared_ptr<RecordingResponder> run(ApiRequest r, int n_choices = 1) {
    auto res = std::make_shared<RecordingResponder>();
    std::vector<JobChoice> choices;
    for (int i = 0; i < n_choices; ++i) {
      GenerateRequest g;
      g.prompt_ids = prompt;
      g.sampling = r.sampling;
      choices.push_back(JobChoice{std::move(g), nullptr, OutputPipeline(ctx->tokenizer, {}), ""});
    }
    auto job = std::make_shared<GenerationJob>(ctx, r, res, std::move(choices), 3, std::chrono::steady_clock::now());
    std::weak_ptr<GenerationJob> weak = job;
    res->on_disconnect([weak] {
      if (auto j = weak.lock()) j->client_gone();
    });
    pump->add(job);
    return res;
  }

  bool wait_idle() {
    for (int i = 0; i < 500; ++i) {
      if (pump->n_jobs() == 0 && engine->stats().pages_in_use == 0) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  std::vector<int32_t> prompt = {11, 12, 13};
  std::unique_ptr<Engine> engine;
  std::shared_ptr<ServerContext> ctx;
  std::unique_ptr<StreamPump> pump;
};

ApiRequest streaming_chat(int32_t max_tokens) {
  ApiRequest r;
  r.endpoint = Endpoint::kChat;
  r.stream = true;
  r.include_usage = true;
  r.sampling.max_tokens = max_tokens;
  r.sampling.ignore_eos = true;
  return r;
}

TEST(ServerGenerationJob, StreamsChunksUsageAndDone) {
  Fixture f;
  auto res = f.run(streaming_chat(5), /*n_choices=*/2);
  ASSERT_TRUE(f.wait_idle());
  const std::string body = res->text();
  EXPECT_EQ(res->status, 200);
  EXPECT_TRUE(res->done);
  ASSERT_GE(body.size(), 14u);
  EXPECT_EQ(body.substr(body.size() - 14), "data: [DONE]\n\n");
  EXPECT_NE(body.find("\"completion_tokens\":10"), std::string::npos);  // 2 choices × 5
  EXPECT_NE(body.find("\"finish_reason\":\"length\",\"index\":1"), std::string::npos);
  EXPECT_EQ(f.ctx->metrics.n_requests_success.load(), 1);
}

TEST(ServerGenerationJob, ClientGoneAbortsAndFreesPages) {
  Fixture f;
  auto res = f.run(streaming_chat(60000));
  for (int i = 0; i < 5000 && res->writes() == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  ASSERT_GT(res->writes(), 0);
  for (int i = 0; i < 1000 && f.engine->stats().pages_in_use == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  ASSERT_GT(f.engine->stats().pages_in_use, 0);  // still running when the client leaves
  res->disconnect();
  ASSERT_TRUE(f.wait_idle());
  const int writes = res->writes();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(res->writes(), writes);  // nothing after the disconnect was noticed
  EXPECT_EQ(res->text().find("[DONE]"), std::string::npos) << res->text().substr(res->text().size() - 700);
  EXPECT_EQ(f.ctx->metrics.n_requests_aborted.load(), 1);
  EXPECT_EQ(f.ctx->metrics.n_http_in_flight.load(), 0);
}

TEST(ServerGenerationJob, EngineRefusalAfterHeadersIsAnInBandError) {
  Fixture f;
  f.prompt = {11, 100000};  // outside the fake vocabulary: the engine refuses at submission
  auto res = f.run(streaming_chat(5));
  ASSERT_TRUE(f.wait_idle());
  const std::string body = res->text();
  EXPECT_EQ(body.find("data: {\"error\":"), 0u) << body;
  EXPECT_NE(body.find("outside the vocabulary"), std::string::npos);
  EXPECT_EQ(body.substr(body.size() - 14), "data: [DONE]\n\n");
  EXPECT_EQ(f.ctx->metrics.n_requests_failed.load(), 1);
}

TEST(ServerGenerationJob, AdmissionGateServesEveryoneInOrder) {
  Fixture f(/*max_in_engine=*/2);
  std::vector<std::shared_ptr<RecordingResponder>> all;
  for (int i = 0; i < 6; ++i) all.push_back(f.run(streaming_chat(3)));
  int max_live = 0;
  for (int i = 0; i < 500 && f.pump->n_jobs() > 0; ++i) {
    const EngineStats s = f.engine->stats();
    max_live = std::max(max_live, s.n_running + s.n_waiting);
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ASSERT_TRUE(f.wait_idle());
  EXPECT_LE(max_live, 2);
  EXPECT_EQ(f.pump->n_waiting(), 0u);
  for (auto& r : all) EXPECT_NE(r->text().find("[DONE]"), std::string::npos);
}

}  // namespace
}  // namespace fathom::server
