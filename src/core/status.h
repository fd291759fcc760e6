// Errors in two tiers: Status/Expected for anything a user, a file or the network can cause (the message names
// the field, file or tensor); FATHOM_CHECK (check.h) for broken invariants.
#pragma once
#include <string>
#include <utility>
#include <variant>

namespace fathom {

class Status {
 public:
  Status() = default;
  static Status ok() { return Status(); }
  static Status error(std::string msg) { return Status(std::move(msg), true); }
  bool is_ok() const { return !failed_; }
  explicit operator bool() const { return !failed_; }
  const std::string& message() const { return msg_; }

 private:
  Status(std::string msg, bool failed) : msg_(std::move(msg)), failed_(failed) {}
  std::string msg_;
  bool failed_ = false;
};

// A value or an error message (std::expected is C++23; this is the subset we use).
template <typename T>
class Expected {
 public:
  Expected(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Expected(Status err) : v_(std::move(err)) {}  // NOLINT
  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }
  T& value() & { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  const T& value() const& { return std::get<0>(v_); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Status& status() const { return std::get<1>(v_); }
  const std::string& error() const { return std::get<1>(v_).message(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace fathom

// Propagate an error Status from an expression returning Status.
#define FATHOM_TRY(expr)                       \
  do {                                         \
    ::fathom::Status _st = (expr);             \
    if (!_st.is_ok()) return _st;              \
  } while (0)
