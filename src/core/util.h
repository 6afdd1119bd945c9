// Small platform utilities: time formatting, random tokens, hashing.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace shouhou {

// Milliseconds since the Unix epoch, UTC (the calling thread's ScopedClock
// when one is set).
int64_t now_ms();
// Sets "now" for the calling thread while alive, so a tool replaying history
// (the demo generator, imports of old records) gets every module to stamp
// records, timelines and audit entries with the historic time. Never used on
// server threads.
class ScopedClock {
 public:
  explicit ScopedClock(int64_t ms);
  ~ScopedClock();
  ScopedClock(const ScopedClock&) = delete;
  ScopedClock& operator=(const ScopedClock&) = delete;
  void set(int64_t ms);

 private:
  int64_t prev_;
};
// "2026-11-22T10:00:00.123Z" (milliseconds only when non-zero).
std::string iso_utc(int64_t ms);
// Parses "YYYY-MM-DD" (midnight UTC) or "YYYY-MM-DDTHH:MM[:SS[.mmm]](Z|+08:00)".
std::optional<int64_t> parse_iso(std::string_view s);

// n random bytes as lower-case hex (libsodium CSPRNG).
std::string random_hex(size_t n_bytes);
// BLAKE2b-256 of s as hex; for storing tokens so a database leak reveals none.
std::string token_hash(std::string_view s);
// Constant-time comparison.
bool secure_equals(std::string_view a, std::string_view b);

}  // namespace shouhou
