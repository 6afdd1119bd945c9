#include "core/reason.h"

namespace shouhou {

namespace {

// The template split into literal text and {key}s, alternating: parts[0] is
// literal (maybe empty), parts[1] a key, parts[2] literal, ...
std::vector<std::string_view> split_template(std::string_view tpl) {
  std::vector<std::string_view> parts;
  size_t lit = 0;
  for (size_t i = 0; i < tpl.size(); ++i) {
    if (tpl[i] != '{') continue;
    size_t close = tpl.find('}', i);
    if (close == std::string_view::npos) break;
    parts.push_back(tpl.substr(lit, i - lit));
    parts.push_back(tpl.substr(i + 1, close - i - 1));
    lit = close + 1;
    i = close;
  }
  parts.push_back(tpl.substr(lit));
  return parts;
}

// Matches text against parts[k...] (k at a literal); args collects keys.
bool match_from(const std::vector<std::string_view>& parts, size_t k, std::string_view text, Reason& r) {
  std::string_view lit = parts[k];
  if (text.substr(0, lit.size()) != lit) return false;
  text.remove_prefix(lit.size());
  if (k + 1 == parts.size()) return text.empty();
  std::string_view key = parts[k + 1];
  std::string_view next = parts[k + 2];
  bool last = k + 3 == parts.size();
  // A value is never empty; the shortest one that lets the rest match wins,
  // except before the final literal, which must end the text.
  for (size_t at = 1; at <= text.size(); ++at) {
    if (last) {
      if (text.size() - at != next.size()) continue;
    } else if (text.substr(at, next.size()) != next) {
      continue;
    }
    std::string value(text.substr(0, at));
    std::string known = r.arg(key);
    bool seen = false;
    for (const auto& a : r.args) seen = seen || a.first == key;
    if (seen && known != value) continue;
    size_t mark = r.args.size();
    if (!seen) r.args.emplace_back(std::string(key), value);
    if (match_from(parts, k + 2, text.substr(at), r)) return true;
    r.args.resize(mark);
  }
  return false;
}

}  // namespace

std::string Reason::arg(std::string_view key) const {
  for (const auto& [k, v] : args)
    if (k == key) return v;
  return {};
}

std::string render_reason(const ReasonCatalog& catalog, const Reason& r, std::string_view lang, const ReasonArg& arg) {
  bool zh = lang.rfind("zh", 0) == 0;
  auto it = catalog.find(r.code);
  if (it == catalog.end()) return r.code;
  std::string_view tpl = zh ? it->second.zh : it->second.en;
  std::string out;
  for (size_t i = 0; i < tpl.size(); ++i) {
    size_t close = tpl[i] == '{' ? tpl.find('}', i) : std::string_view::npos;
    if (close == std::string_view::npos) {
      out += tpl[i];
      continue;
    }
    std::string_view key = tpl.substr(i + 1, close - i - 1);
    out += arg ? arg(key, r.arg(key), zh, r) : r.arg(key);
    i = close;
  }
  return out;
}

std::optional<Reason> match_reason(const ReasonCatalog& catalog, std::string_view text) {
  // The most specific template wins (most literal text): "{a} is required
  // with {b}" before "{a} is required".
  std::optional<Reason> best;
  size_t best_literal = 0;
  for (const auto& [code, texts] : catalog) {
    auto parts = split_template(texts.en);
    size_t literal = 0;
    for (size_t k = 0; k < parts.size(); k += 2) literal += parts[k].size();
    if (best && literal <= best_literal) continue;
    Reason r{code, {}};
    if (match_from(parts, 0, text, r)) {
      best = std::move(r);
      best_literal = literal;
    }
  }
  return best;
}

}  // namespace shouhou
