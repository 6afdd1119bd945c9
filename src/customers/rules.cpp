// The pure rules of the customers module: text normalisation for matching,
// tiers, duplicate detection. No database here (see customers_test.cpp).
#include <algorithm>

#include "customers/customers.h"

namespace shouhou::customers {

namespace {
void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}
// GB/T 2260 codes are hierarchical: "310000" (province) contains "310100"
// (city) contains "310115" (county). Two codes are compatible when the less
// specific one contains the other.
std::string_view significant(std::string_view code) {
  while (code.size() >= 2 && code.substr(code.size() - 2) == "00") code.remove_suffix(2);
  return code;
}
bool compatible(std::string_view a, std::string_view b) {
  if (a.empty() || b.empty()) return true;
  a = significant(a);
  b = significant(b);
  return a.size() <= b.size() ? b.substr(0, a.size()) == a : a.substr(0, b.size()) == b;
}
}  // namespace

std::string normalize_text(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    uint32_t cp;
    size_t len;
    if (c < 0x80) { cp = c; len = 1; }
    else if ((c >> 5) == 0x6 && i + 1 < s.size()) { cp = ((c & 0x1F) << 6) | (s[i + 1] & 0x3F); len = 2; }
    else if ((c >> 4) == 0xE && i + 2 < s.size()) {
      cp = ((c & 0x0F) << 12) | ((s[i + 1] & 0x3F) << 6) | (s[i + 2] & 0x3F); len = 3;
    } else if ((c >> 3) == 0x1E && i + 3 < s.size()) {
      cp = ((c & 0x07) << 18) | ((s[i + 1] & 0x3F) << 12) | ((s[i + 2] & 0x3F) << 6) | (s[i + 3] & 0x3F); len = 4;
    } else { ++i; continue; }  // stray byte: dropped
    i += len;
    if (cp >= 0xFF01 && cp <= 0xFF5E) cp -= 0xFEE0;  // full-width ASCII
    if (cp < 0x80) {
      char a = static_cast<char>(cp);
      if (a >= 'A' && a <= 'Z') out.push_back(static_cast<char>(a - 'A' + 'a'));
      else if ((a >= 'a' && a <= 'z') || (a >= '0' && a <= '9')) out.push_back(a);
      continue;  // whitespace, punctuation, controls
    }
    if (cp == 0x00A0 || cp == 0x00B7 || cp == 0x30FB || (cp >= 0x2000 && cp <= 0x206F) ||
        (cp >= 0x3000 && cp <= 0x303F) || (cp >= 0xFE30 && cp <= 0xFE4F) || cp == 0xFF5F || cp == 0xFF60 ||
        (cp >= 0xFF61 && cp <= 0xFF65))
      continue;  // spaces and CJK punctuation
    append_utf8(out, cp);
  }
  return out;
}

const char* tier_for(int64_t total, const TierThresholds& t) {
  if (total >= t.vip_min_fen) return "vip";
  if (total >= t.key_min_fen) return "key";
  return "small";
}

Result<void> validate_thresholds(const TierThresholds& t) {
  if (t.key_min_fen < 0) return Error::invalid("key_min_fen must not be negative", "key_min_fen");
  if (t.vip_min_fen <= t.key_min_fen)
    return Error::invalid("vip_min_fen must be greater than key_min_fen", "vip_min_fen");
  return {};
}

std::vector<std::string> duplicate_reasons(const DuplicateKeys& a, const DuplicateKeys& b) {
  std::vector<std::string> out;
  bool phone = std::any_of(a.phones.begin(), a.phones.end(), [&](const std::string& p) {
    return !p.empty() && std::find(b.phones.begin(), b.phones.end(), p) != b.phones.end();
  });
  if (phone) out.push_back("phone");
  if (!a.name_norm.empty() && a.name_norm == b.name_norm) {
    bool same_address = false;
    for (const auto& x : a.addresses)
      for (const auto& y : b.addresses)
        if (!x.detail_norm.empty() && x.detail_norm == y.detail_norm &&
            compatible(x.division, y.division))
          same_address = true;
    if (same_address) out.push_back("name_address");
  }
  return out;
}

}  // namespace shouhou::customers
