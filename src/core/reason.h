// Reasons as data: a stable code (what programs and the web branch on) with
// named arguments, rendered from a catalogue of English and Chinese
// templates ("serial {serial} is not ..."). Used for the warranty decision's
// "why" (warranty/reasons.cpp) and the import's bad rows (imports/reasons.cpp).
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace shouhou {

struct Reason {
  std::string code;
  std::vector<std::pair<std::string, std::string>> args;
  std::string arg(std::string_view key) const;
};

struct ReasonTexts {
  const char* en;
  const char* zh;
};
// code -> templates; {key} is replaced by the argument `key`.
using ReasonCatalog = std::map<std::string, ReasonTexts, std::less<>>;
// How an argument reads in the language (code-valued arguments translated);
// null: as given.
using ReasonArg = std::function<std::string(std::string_view key, const std::string& value, bool zh, const Reason&)>;

// lang: "en" or "zh-CN" ("zh..." is Chinese). An unknown code renders as the code.
std::string render_reason(const ReasonCatalog& catalog, const Reason& r, std::string_view lang,
                          const ReasonArg& arg = nullptr);

// The reason whose English template (arguments as given) yields `text`
// exactly; the first such code in catalogue order. For errors that reach a
// caller as English text only (Error::message) from code that renders them
// from the same catalogue.
std::optional<Reason> match_reason(const ReasonCatalog& catalog, std::string_view text);

}  // namespace shouhou
