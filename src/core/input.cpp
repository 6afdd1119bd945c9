#include "core/input.h"

#include <algorithm>

namespace shouhou {

size_t utf8_length(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

namespace {
std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}
const char* type_name(const nlohmann::json& v) {
  switch (v.type()) {
    case nlohmann::json::value_t::string: return "string";
    case nlohmann::json::value_t::boolean: return "boolean";
    case nlohmann::json::value_t::array: return "array";
    case nlohmann::json::value_t::object: return "object";
    case nlohmann::json::value_t::null: return "null";
    default: return "number";
  }
}
}  // namespace

Result<const nlohmann::json*> Input::get(const char* name) const {
  if (!j_.is_object()) return Error::invalid("expected a JSON object", prefix_.empty() ? "body" : prefix_);
  auto it = j_.find(name);
  if (it == j_.end() || it->is_null()) return Error::invalid(field(name) + " is required", field(name));
  return &*it;
}

Result<std::string> Input::str(const char* name, size_t max_len, size_t min_len) const {
  const nlohmann::json* v = TRY(get(name));
  if (!v->is_string()) return Error::invalid(field(name) + " must be a string, not " + type_name(*v), field(name));
  std::string s = trim(v->get<std::string>());
  for (unsigned char c : s)
    if (c < 0x20 && c != '\n' && c != '\t') return Error::invalid(field(name) + " contains control characters", field(name));
  size_t len = utf8_length(s);
  if (len < min_len) return Error::invalid(min_len == 1 ? field(name) + " must not be empty" : field(name) + " is too short", field(name));
  if (len > max_len) return Error::invalid(field(name) + " is longer than " + std::to_string(max_len) + " characters", field(name));
  return s;
}

Result<std::optional<std::string>> Input::opt_str(const char* name, size_t max_len) const {
  if (!has(name)) return std::optional<std::string>();
  std::string s = TRY(str(name, max_len, 0));
  return std::optional<std::string>(std::move(s));
}

Result<int64_t> Input::integer(const char* name, int64_t min, int64_t max) const {
  const nlohmann::json* v = TRY(get(name));
  int64_t x;
  if (v->is_number_integer()) {
    x = v->get<int64_t>();
  } else if (v->is_number_unsigned()) {
    return Error::invalid(field(name) + " is out of range", field(name));
  } else {
    return Error::invalid(field(name) + " must be an integer, not " + type_name(*v), field(name));
  }
  if (x < min || x > max)
    return Error::invalid(field(name) + " must be between " + std::to_string(min) + " and " + std::to_string(max), field(name));
  return x;
}

Result<std::optional<int64_t>> Input::opt_integer(const char* name, int64_t min, int64_t max) const {
  if (!has(name)) return std::optional<int64_t>();
  int64_t x = TRY(integer(name, min, max));
  return std::optional<int64_t>(x);
}

Result<bool> Input::boolean(const char* name) const {
  const nlohmann::json* v = TRY(get(name));
  if (!v->is_boolean()) return Error::invalid(field(name) + " must be true or false, not " + type_name(*v), field(name));
  return v->get<bool>();
}

Result<std::optional<bool>> Input::opt_boolean(const char* name) const {
  if (!has(name)) return std::optional<bool>();
  bool b = TRY(boolean(name));
  return std::optional<bool>(b);
}

Result<std::string> Input::one_of(const char* name, const std::vector<std::string>& allowed) const {
  std::string s = TRY(str(name, 100));
  if (std::find(allowed.begin(), allowed.end(), s) == allowed.end()) {
    std::string list;
    for (auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
    return Error::invalid(field(name) + " must be one of: " + list, field(name));
  }
  return s;
}

Result<std::vector<std::string>> Input::str_list(const char* name, size_t max_items, size_t max_len) const {
  const nlohmann::json* v = TRY(get(name));
  if (!v->is_array()) return Error::invalid(field(name) + " must be an array of strings", field(name));
  if (v->size() > max_items) return Error::invalid(field(name) + " has more than " + std::to_string(max_items) + " items", field(name));
  std::vector<std::string> out;
  for (size_t i = 0; i < v->size(); ++i) {
    const auto& e = (*v)[i];
    std::string f = field(name) + "[" + std::to_string(i) + "]";
    if (!e.is_string()) return Error::invalid(f + " must be a string", f);
    std::string s = trim(e.get<std::string>());
    if (s.empty() || utf8_length(s) > max_len) return Error::invalid(f + " must be 1.." + std::to_string(max_len) + " characters", f);
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace shouhou
