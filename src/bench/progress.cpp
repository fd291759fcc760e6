#include "bench/progress.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>

namespace fathom::bench {

namespace {
double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
}  // namespace

ProgressBar::ProgressBar(size_t total, bool enabled, std::string label)
    : total_(total), enabled_(enabled), tty_(isatty(STDERR_FILENO) != 0), label_(std::move(label)), t0_(now_s()) {
  if (enabled_) thread_ = std::thread([this] { loop(); });
}

ProgressBar::~ProgressBar() {
  if (!enabled_) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
  draw(true);
}

void ProgressBar::loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    cv_.wait_for(lock, std::chrono::milliseconds(tty_ ? 200 : 500));
    if (!stop_) draw(false);
  }
}

void ProgressBar::draw(bool final) {
  const size_t done = n_done_.load(std::memory_order_relaxed);
  const size_t failed = n_failed_.load(std::memory_order_relaxed);
  const double elapsed = now_s() - t0_;
  const double frac = total_ ? static_cast<double>(done) / static_cast<double>(total_) : 1.0;
  if (!tty_) {
    const size_t decile = static_cast<size_t>(frac * 10);
    if (!final && decile == last_decile_) return;
    if (final && decile == last_decile_ && done != total_) return;
    last_decile_ = decile;
    std::fprintf(stderr, "%s %zu/%zu done, %zu failed, %.1fs\n", label_.c_str(), done, total_, failed, elapsed);
    return;
  }
  constexpr int kWidth = 30;
  const int filled = static_cast<int>(frac * kWidth);
  std::string bar(static_cast<size_t>(filled), '#');
  bar.append(static_cast<size_t>(kWidth - filled), '.');
  const double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0.0;
  std::fprintf(stderr, "\r%s [%s] %zu/%zu %3.0f%% %.1f req/s %zu failed %.1fs%s", label_.c_str(), bar.c_str(),
               done, total_, frac * 100, rate, failed, elapsed, final ? "\n" : "");
  std::fflush(stderr);
}

}  // namespace fathom::bench
