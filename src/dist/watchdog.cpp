#include "dist/watchdog.h"

#include <cstring>
#include <vector>

namespace fathom {

namespace {

using Clock = std::chrono::steady_clock;

struct Heartbeat {
  uint32_t magic = 0x46485442;  // "FHTB"
  uint8_t bye = 0;              // leaving normally: stop watching this rank
  uint8_t in_step = 0;
  uint8_t in_collective = 0;
  uint8_t pad = 0;
  int64_t step = -1;
};
static_assert(sizeof(Heartbeat) <= Comm::kMaxHeartbeatBytes);

struct Peer {
  bool heard = false, departed = false;
  Clock::time_point last_seen;
  Heartbeat hb;
};

int64_t now_ns() { return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count(); }

std::string seconds(Clock::duration d) {
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d).count() / 1000.0).substr(0, 5) + " s";
}

}  // namespace

Watchdog::Watchdog(Comm& comm, WatchdogOptions o, std::function<void(const std::string&)> on_fatal)
    : comm_(comm), o_(o), on_fatal_(std::move(on_fatal)) {
  if (!on_fatal_) on_fatal_ = [this](const std::string& why) { comm_.abort_job(why); };
  if (comm_.size() > 1) thread_ = std::thread([this] { run(); });
}

Watchdog::~Watchdog() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
}

void Watchdog::step_begin(int64_t step) {
  step_since_ns_.store(now_ns(), std::memory_order_relaxed);
  step_.store(step, std::memory_order_relaxed);
  in_step_.store(true, std::memory_order_release);
}

void Watchdog::step_end() { in_step_.store(false, std::memory_order_release); }

void Watchdog::run() {
  const int n = comm_.size(), me = comm_.rank();
  std::vector<Peer> peers(n);
  auto send = [&](bool bye) {
    Heartbeat hb;
    hb.bye = bye;
    hb.in_step = in_step_.load();
    hb.in_collective = comm_.in_collective();
    hb.step = step_.load();
    comm_.heartbeat_send(&hb, sizeof(hb));
  };
  auto fatal = [&](const std::string& why) {
    stop_.store(true);
    on_fatal_(why);
  };
  while (!stop_.load()) {
    send(false);
    Heartbeat hb;
    for (int r; (r = comm_.heartbeat_poll(&hb, sizeof(hb))) >= 0;) {
      if (r >= n || hb.magic != Heartbeat{}.magic) continue;
      Peer& p = peers[r];
      p.heard = true;
      p.last_seen = Clock::now();
      p.hb = hb;
      if (hb.bye) p.departed = true;
    }
    const auto now = Clock::now();
    // A peer we have heard from that went quiet: its process is stopped or frozen, or its node or link is down.
    for (int r = 0; r < n && !stop_.load(); ++r) {
      const Peer& p = peers[r];
      if (r == me || !p.heard || p.departed || now - p.last_seen <= o_.silence_timeout) continue;
      fatal("rank " + std::to_string(r) + " has not been heard from for " + seconds(now - p.last_seen) +
            " (its process is stopped or frozen, or its node or network link is down); ending the job");
    }
    // This rank's step is stuck: name who has not arrived, else who is still computing while others wait.
    const int64_t since = step_since_ns_.load(std::memory_order_relaxed);
    if (!stop_.load() && in_step_.load(std::memory_order_acquire) &&
        now_ns() - since > std::chrono::duration_cast<std::chrono::nanoseconds>(o_.step_timeout).count()) {
      const int64_t s = step_.load();
      std::string late, busy;
      for (int r = 0; r < n; ++r) {
        if (r == me || !peers[r].heard) continue;
        const Heartbeat& h = peers[r].hb;
        if (h.step < s)
          late += " " + std::to_string(r);
        else if (h.step == s && h.in_step && !h.in_collective) busy += " " + std::to_string(r);
      }
      if (!comm_.in_collective() && busy.empty() && late.empty()) busy = " " + std::to_string(me);
      std::string who = !late.empty()  ? "rank(s)" + late + " never reached it"
                        : !busy.empty() ? "rank(s)" + busy + " are still computing it while the others wait"
                                        : "every rank is waiting inside a collective";
      fatal("step " + std::to_string(s) + " has not completed within " + seconds(o_.step_timeout) + ": " + who +
            "; ending the job");
    }
    const auto wake = Clock::now() + o_.period;
    while (!stop_.load() && Clock::now() < wake) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  send(true);
}

}  // namespace fathom
