// Reading request bodies field by field. Every accessor names the field in
// its error, so clients learn exactly what was wrong ("field": "org_unit_id").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/result.h"

namespace shouhou {

class Input {
 public:
  explicit Input(const nlohmann::json& obj, std::string prefix = {}) : j_(obj), prefix_(std::move(prefix)) {}

  bool has(const char* name) const { return j_.contains(name) && !j_.at(name).is_null(); }

  // Text: trimmed of surrounding whitespace, checked for length (in UTF-8
  // code points) and for control characters.
  Result<std::string> str(const char* name, size_t max_len = 200, size_t min_len = 1) const;
  Result<std::optional<std::string>> opt_str(const char* name, size_t max_len = 200) const;
  Result<int64_t> integer(const char* name, int64_t min = INT64_MIN, int64_t max = INT64_MAX) const;
  Result<std::optional<int64_t>> opt_integer(const char* name, int64_t min = INT64_MIN, int64_t max = INT64_MAX) const;
  Result<bool> boolean(const char* name) const;
  Result<std::optional<bool>> opt_boolean(const char* name) const;
  // One of the allowed values.
  Result<std::string> one_of(const char* name, const std::vector<std::string>& allowed) const;
  Result<std::vector<std::string>> str_list(const char* name, size_t max_items = 100, size_t max_len = 100) const;

  std::string field(const char* name) const { return prefix_.empty() ? name : prefix_ + "." + name; }

 private:
  Result<const nlohmann::json*> get(const char* name) const;
  const nlohmann::json& j_;
  std::string prefix_;
};

// Number of Unicode code points in valid UTF-8 text.
size_t utf8_length(std::string_view s);

}  // namespace shouhou
