// Chinese telephone numbers as people write them, reduced to one canonical
// form so that a caller number finds the customer with one index probe
// (screen pop, seed 003).
//
// Canonical forms (digits only, no country code):
//   mobile     "13800138000"            11 digits, 1[3-9]...
//   landline   "02150301234"            area code with its leading 0 + subscriber number (7-8 digits)
//   service    "4008123456"             400 / 800 numbers
//   foreign    "+14155550123"           non-Chinese numbers keep "+" and the country code
// Accepted decorations: +86 / 0086 / 86 country codes, "(0)" trunk prefix,
// spaces, '-', '.', '/', brackets, full-width digits and punctuation, "tel:",
// IP-dialling prefixes (17951, 17911, 12593, 17909, 10193), a 0 before a
// mobile (long-distance habit), and extensions ("ext. 8", "x8", "转8",
// "分机8", "#8", or a trailing short group: "0531-8888-1234-12").
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace shouhou::customers {

struct Phone {
  enum class Kind { mobile, landline, service, foreign };
  Kind kind = Kind::mobile;
  std::string norm;  // canonical number (see above)
  std::string ext;   // extension digits, "" when none
  std::string area;  // landline area code with its 0 ("021"), else ""
};

const char* kind_name(Phone::Kind k);

// Parses a number; nullopt when it is not a usable telephone number.
// default_area ("021" or "21") completes a local landline number written
// without its area code ("5030-1234"); without it such a number is invalid.
std::optional<Phone> parse_phone(std::string_view raw, std::string_view default_area = {});

// The canonical number only (extension dropped).
std::optional<std::string> normalize_phone(std::string_view raw, std::string_view default_area = {});

// A valid area code ("21", "021", "0531") in canonical form ("021", "0531"), or nullopt.
std::optional<std::string> normalize_area_code(std::string_view area);

}  // namespace shouhou::customers
