#include "customers/phone.h"

#include <array>
#include <vector>

namespace shouhou::customers {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool starts(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// Maps the input to ASCII: full-width digits and punctuation become their
// ASCII twins, "转" / "分机" become the extension marker 'x', letters are
// lower-cased. Any other non-ASCII character makes the number invalid.
std::optional<std::string> to_ascii(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  size_t i = 0;
  auto u8 = [&](size_t at, std::string_view seq) { return raw.substr(at, seq.size()) == seq; };
  while (i < raw.size()) {
    unsigned char c = static_cast<unsigned char>(raw[i]);
    if (c < 0x80) {
      char a = static_cast<char>(c);
      if (a >= 'A' && a <= 'Z') a = static_cast<char>(a - 'A' + 'a');
      if (a == '\t') a = ' ';
      if (c < 0x20 && a != ' ') return std::nullopt;
      out.push_back(a);
      ++i;
      continue;
    }
    // Three-byte sequences we understand.
    if (i + 3 <= raw.size()) {
      unsigned char b1 = static_cast<unsigned char>(raw[i + 1]), b2 = static_cast<unsigned char>(raw[i + 2]);
      if (c == 0xEF && b1 == 0xBC) {  // U+FF00..FF3F
        if (b2 >= 0x90 && b2 <= 0x99) { out.push_back(static_cast<char>('0' + (b2 - 0x90))); i += 3; continue; }
        char m = 0;
        switch (b2) {
          case 0x8B: m = '+'; break;  // ＋
          case 0x88: m = '('; break;  // （
          case 0x89: m = ')'; break;  // ）
          case 0x8D: m = '-'; break;  // －
          case 0x8E: m = '.'; break;  // ．
          case 0x83: m = '#'; break;  // ＃
          case 0x8C: m = ','; break;  // ，
          case 0x9A: m = ':'; break;  // ：
          case 0x9B: m = ';'; break;  // ；
        }
        if (m) { out.push_back(m); i += 3; continue; }
      }
      if (u8(i, "\xE3\x80\x80")) { out.push_back(' '); i += 3; continue; }  // ideographic space
      if (c == 0xE2 && b1 == 0x80 && b2 >= 0x90 && b2 <= 0x95) { out.push_back('-'); i += 3; continue; }  // dashes
      if (u8(i, "\xE2\x88\x92")) { out.push_back('-'); i += 3; continue; }   // minus sign
      if (u8(i, "\xE8\xBD\xAC")) { out.push_back('x'); i += 3; continue; }   // 转
      if (u8(i, "\xE5\x88\x86\xE6\x9C\xBA")) { out.push_back('x'); i += 6; continue; }  // 分机
      if (u8(i, "\xE3\x80\x81")) { out.push_back(','); i += 3; continue; }   // 、
    }
    return std::nullopt;
  }
  return out;
}

constexpr std::array<std::string_view, 7> kIpPrefixes = {"17951", "17911", "12593", "17909", "10193", "17908", "17969"};

bool mobile_like(std::string_view d) { return d.size() == 11 && d[0] == '1' && d[1] >= '3' && d[1] <= '9'; }
bool service_like(std::string_view d) { return d.size() == 10 && (starts(d, "400") || starts(d, "800")); }

size_t area_len(std::string_view d) {  // d starts with '0'
  if (d.size() < 3) return 0;
  if (d[1] == '1') return d[2] == '0' ? 3 : 0;  // 010 Beijing; 01x otherwise unused
  if (d[1] == '2') return 3;                     // 020..029
  if (d[1] >= '3' && d[1] <= '9') return 4;      // 0311, 0531, ...
  return 0;
}

std::optional<Phone> landline(std::string_view d) {
  if (d.empty() || d[0] != '0') return std::nullopt;
  size_t al = area_len(d);
  if (!al) return std::nullopt;
  std::string_view sub = d.substr(al);
  if (sub.size() < 7 || sub.size() > 8 || sub[0] < '2') return std::nullopt;
  Phone p;
  p.kind = Phone::Kind::landline;
  p.norm = std::string(d);
  p.area = std::string(d.substr(0, al));
  return p;
}

std::optional<Phone> simple(Phone::Kind k, std::string_view d) {
  Phone p;
  p.kind = k;
  p.norm = std::string(d);
  return p;
}

// The national significant number after a +86 country code.
std::optional<Phone> national(std::string_view n) {
  if (!n.empty() && n[0] == '0') n.remove_prefix(1);  // "+86 (0)21 ..." / "+86 021 ..."
  if (mobile_like(n)) return simple(Phone::Kind::mobile, n);
  if (service_like(n)) return simple(Phone::Kind::service, n);
  return landline("0" + std::string(n));
}

std::optional<Phone> domestic(std::string_view d, std::string_view default_area) {
  for (auto ip : kIpPrefixes)
    if (starts(d, ip) && d.size() >= ip.size() + 10 && (d[ip.size()] == '0' || d[ip.size()] == '1')) {
      d.remove_prefix(ip.size());
      break;
    }
  if (mobile_like(d)) return simple(Phone::Kind::mobile, d);
  if (d.size() == 12 && d[0] == '0' && mobile_like(d.substr(1))) return simple(Phone::Kind::mobile, d.substr(1));
  if (service_like(d)) return simple(Phone::Kind::service, d);
  if (!d.empty() && d[0] == '0') return landline(d);
  if ((d.size() == 7 || d.size() == 8) && d[0] >= '2' && !default_area.empty()) {
    auto area = normalize_area_code(default_area);
    if (area) return landline(*area + std::string(d));
  }
  return std::nullopt;
}

std::optional<Phone> classify(std::string_view d, bool plus, std::string_view default_area) {
  if (d.size() < 7 || d.size() > 20) return std::nullopt;
  auto foreign = [](std::string_view f) -> std::optional<Phone> {
    if (f.size() < 7 || f.size() > 15 || f[0] == '0') return std::nullopt;
    return simple(Phone::Kind::foreign, "+" + std::string(f));
  };
  if (plus) return starts(d, "86") ? national(d.substr(2)) : foreign(d);
  if (starts(d, "0086")) return national(d.substr(4));
  if (starts(d, "00")) return foreign(d.substr(2));
  // A domestic number never starts with 86 and is 11+ digits long, so this is
  // a country code written without '+'.
  if (starts(d, "86") && d.size() >= 11) return national(d.substr(2));
  return domestic(d, default_area);
}

}  // namespace

const char* kind_name(Phone::Kind k) {
  switch (k) {
    case Phone::Kind::mobile: return "mobile";
    case Phone::Kind::landline: return "landline";
    case Phone::Kind::service: return "service";
    case Phone::Kind::foreign: return "foreign";
  }
  return "mobile";
}

std::optional<std::string> normalize_area_code(std::string_view area) {
  std::string a;
  for (char c : area) {
    if (is_digit(c)) a.push_back(c);
    else if (c != ' ' && c != '(' && c != ')' && c != '-') return std::nullopt;
  }
  if (a.empty() || a.size() > 4) return std::nullopt;
  if (a[0] != '0') a.insert(a.begin(), '0');
  size_t al = area_len(a + "0000");
  if (!al || al != a.size()) return std::nullopt;
  return a;
}

std::optional<Phone> parse_phone(std::string_view raw, std::string_view default_area) {
  if (raw.size() > 100) return std::nullopt;
  auto ascii = to_ascii(raw);
  if (!ascii) return std::nullopt;
  std::string_view s = *ascii;
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  if (starts(s, "tel:")) s.remove_prefix(4);

  // Split off an explicit extension.
  std::string_view main = s, ext_part;
  size_t mark = s.find_first_of("xe#,;");
  if (mark != std::string_view::npos) {
    size_t skip = 1;
    if (s[mark] == 'e') {
      if (!starts(s.substr(mark), "ext")) return std::nullopt;
      skip = 3;
    }
    main = s.substr(0, mark);
    ext_part = s.substr(mark + skip);
  }
  std::string ext;
  for (char c : ext_part) {
    if (is_digit(c)) ext.push_back(c);
    else if (c != ' ' && c != '.' && c != ':' && c != '-' && c != '#') return std::nullopt;
  }
  if (ext.size() > 6) return std::nullopt;

  // The number itself: digit groups separated by spaces and punctuation.
  std::vector<std::string> groups;
  bool plus = false, in_group = false;
  for (char c : main) {
    if (is_digit(c)) {
      if (!in_group) groups.emplace_back();
      groups.back().push_back(c);
      in_group = true;
      continue;
    }
    in_group = false;
    if (c == '+') {
      if (plus || !groups.empty()) return std::nullopt;
      plus = true;
    } else if (c != ' ' && c != '-' && c != '.' && c != '(' && c != ')') {
      return std::nullopt;
    }
  }
  if (groups.empty()) return std::nullopt;
  std::string digits;
  for (auto& g : groups) digits += g;

  auto p = classify(digits, plus, default_area);
  if (!p && ext.empty() && groups.size() >= 2 && groups.back().size() <= 5) {
    // "0531-8888-1234-12": a trailing short group that does not fit is an extension.
    std::string shorter = digits.substr(0, digits.size() - groups.back().size());
    p = classify(shorter, plus, default_area);
    if (p) ext = groups.back();
  }
  if (!p) return std::nullopt;
  p->ext = ext;
  return p;
}

std::optional<std::string> normalize_phone(std::string_view raw, std::string_view default_area) {
  auto p = parse_phone(raw, default_area);
  if (!p) return std::nullopt;
  return std::move(p->norm);
}

}  // namespace shouhou::customers
