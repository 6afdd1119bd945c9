// Errors as values at module boundaries.
//
// A Result<T> is either a T or an Error. Modules return Results; exceptions
// stay inside the platform. One place (http/errors.cpp) maps Error::Code to
// HTTP statuses, so a module never chooses a status code itself.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace shouhou {

struct Error {
  enum class Code {
    invalid,        // 400: bad input; `field` names what was wrong
    unauthorized,   // 401: no or bad credentials
    forbidden,      // 403: authenticated but not allowed
    not_found,      // 404: unknown id, or a record outside the caller's scope
    conflict,       // 409: stale version, illegal transition, duplicate key
    too_large,      // 413
    unsupported,    // 415
    rate_limited,   // 429
    unavailable,    // 503: storage down, shutting down
    internal,       // 500: a bug; never for bad input
  };
  Code code = Code::internal;
  std::string message;
  std::string field;  // JSON path of the offending input, when there is one

  static Error invalid(std::string msg, std::string field = {}) { return {Code::invalid, std::move(msg), std::move(field)}; }
  static Error not_found(std::string msg) { return {Code::not_found, std::move(msg), {}}; }
  static Error forbidden(std::string msg) { return {Code::forbidden, std::move(msg), {}}; }
  static Error conflict(std::string msg, std::string field = {}) { return {Code::conflict, std::move(msg), std::move(field)}; }
  static Error unauthorized(std::string msg) { return {Code::unauthorized, std::move(msg), {}}; }
  static Error internal(std::string msg) { return {Code::internal, std::move(msg), {}}; }
  static Error unavailable(std::string msg) { return {Code::unavailable, std::move(msg), {}}; }
};

const char* code_name(Error::Code c);

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T v) : v_(std::in_place_index<0>, std::move(v)) {}
  Result(Error e) : v_(std::in_place_index<1>, std::move(e)) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  const T& value() const& { return std::get<0>(v_); }
  T& operator*() & { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const& { return std::get<1>(v_); }
  Error&& error() && { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error e) : e_(std::move(e)) {}
  bool ok() const { return !e_; }
  explicit operator bool() const { return ok(); }
  const Error& error() const& { return *e_; }
  Error&& error() && { return std::move(*e_); }

 private:
  std::optional<Error> e_;
};

inline Result<void> ok() { return {}; }

}  // namespace shouhou

// TRY(expr): evaluates a Result; on error returns the error from the calling
// function, otherwise yields the value. GCC/Clang statement expression.
#define SH_CONCAT_(a, b) a##b
#define SH_CONCAT(a, b) SH_CONCAT_(a, b)
#define TRY(expr)                                               \
  ({                                                            \
    auto SH_CONCAT(_r_, __LINE__) = (expr);                     \
    if (!SH_CONCAT(_r_, __LINE__)) return std::move(SH_CONCAT(_r_, __LINE__)).error(); \
    std::move(*SH_CONCAT(_r_, __LINE__));                       \
  })
// TRY_VOID(expr): the same for Result<void>.
#define TRY_VOID(expr)                                          \
  do {                                                          \
    auto SH_CONCAT(_r_, __LINE__) = (expr);                     \
    if (!SH_CONCAT(_r_, __LINE__)) return std::move(SH_CONCAT(_r_, __LINE__)).error(); \
  } while (0)
