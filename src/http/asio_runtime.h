// Internal to src/http: the Boost side of IoRuntime. Only src/http/*.cpp include this.
#pragma once
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <thread>
#include <vector>

#include "http/io_runtime.h"

namespace fathom::http {

struct IoRuntime::Impl {
  boost::asio::io_context io;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard{io.get_executor()};
  std::vector<std::thread> threads;
  bool stopped = false;
};

inline boost::asio::io_context& io_context_of(IoRuntime& rt) { return rt.impl().io; }

}  // namespace fathom::http
