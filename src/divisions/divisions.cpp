#include "divisions/divisions.h"

#include <algorithm>
#include <charconv>

#include <spdlog/spdlog.h>

namespace shouhou::divisions {

using api::json;
using http::Request;
using http::Response;
using store::Conn;

namespace {

bool six_digits(std::string_view s) {
  return s.size() == 6 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Placeholder city names that add nothing to a written address.
bool placeholder(std::string_view name) {
  return name == "市辖区" || name == "县" || name == "省直辖县级行政区划" || name == "自治区直辖县级行政区划";
}

json division_json(const store::Row& r) {
  return json{{"code", r.s(0)},
              {"name", r.s(1)},
              {"level", r.i(2)},
              {"parent_code", r.null(3) ? json(nullptr) : json(r.s(3))},
              {"has_children", r.i(4) != 0}};
}

constexpr const char* kSelect =
    "SELECT d.code, d.name, d.level, d.parent_code, "
    "CASE WHEN EXISTS (SELECT 1 FROM divisions k WHERE k.parent_code = d.code) THEN 1 ELSE 0 END "
    "FROM divisions d ";

}  // namespace

Result<std::vector<Division>> parse_tsv(std::string_view tsv) {
  std::vector<Division> out;
  size_t line_no = 0;
  while (!tsv.empty()) {
    size_t nl = tsv.find('\n');
    std::string_view line = tsv.substr(0, nl);
    tsv.remove_prefix(nl == std::string_view::npos ? tsv.size() : nl + 1);
    ++line_no;
    if (line.empty()) continue;
    std::vector<std::string_view> f;
    size_t start = 0;
    for (;;) {
      size_t tab = line.find('\t', start);
      f.push_back(line.substr(start, tab == std::string_view::npos ? std::string_view::npos : tab - start));
      if (tab == std::string_view::npos) break;
      start = tab + 1;
    }
    auto bad = [&](const std::string& why) {
      return Error::invalid("divisions line " + std::to_string(line_no) + ": " + why, "divisions");
    };
    if (f.size() != 4) return bad("expected 4 tab-separated fields");
    Division d;
    d.code = std::string(f[0]);
    d.name = std::string(f[1]);
    d.parent_code = std::string(f[3]);
    if (!six_digits(d.code)) return bad("code must be 6 digits");
    if (d.name.empty()) return bad("empty name");
    auto [p, ec] = std::from_chars(f[2].data(), f[2].data() + f[2].size(), d.level);
    if (ec != std::errc() || p != f[2].data() + f[2].size() || d.level < 1 || d.level > 3) return bad("level must be 1..3");
    if ((d.level == 1) != d.parent_code.empty()) return bad("only provinces have no parent");
    if (!d.parent_code.empty() && !six_digits(d.parent_code)) return bad("parent must be 6 digits");
    out.push_back(std::move(d));
  }
  return out;
}

const std::vector<Division>& embedded() {
  static const std::vector<Division> all = [] {
    auto r = parse_tsv(kDivisionsTsv);
    if (!r) {
      spdlog::error("embedded divisions are broken: {}", r.error().message);
      return std::vector<Division>{};
    }
    return std::move(*r);
  }();
  return all;
}

Result<void> ensure_loaded(store::Database& db) {
  const auto& all = embedded();
  int64_t have = TRY(db.read_as([](Conn& c) -> Result<int64_t> {
    auto r = TRY(c.one("SELECT COUNT(*) FROM divisions"));
    return r->i(0);
  }));
  if (have == static_cast<int64_t>(all.size())) return {};
  TRY_VOID(db.write([&](Conn& c) -> Result<void> {
    constexpr size_t kBatch = 200;
    for (size_t i = 0; i < all.size(); i += kBatch) {
      size_t n = std::min(kBatch, all.size() - i);
      std::string sql = "INSERT INTO divisions (code, name, level, parent_code) VALUES ";
      store::Params params;
      params.reserve(n * 4);
      for (size_t k = 0; k < n; ++k) {
        const auto& d = all[i + k];
        sql += k ? ",(?,?,?,?)" : "(?,?,?,?)";
        params.insert(params.end(), {d.code, d.name, int64_t(d.level),
                                     d.parent_code.empty() ? store::Value() : store::Value(d.parent_code)});
      }
      sql += " ON CONFLICT (code) DO UPDATE SET name = excluded.name, level = excluded.level, "
             "parent_code = excluded.parent_code";
      TRY(c.exec(sql, params));
    }
    return {};
  }));
  spdlog::info("loaded {} administrative divisions ({})", all.size(), kDivisionsSource);
  return {};
}

Result<std::optional<Division>> find(Conn& c, const std::string& code) {
  if (!six_digits(code)) return std::optional<Division>();
  auto r = TRY(c.one("SELECT code, name, level, parent_code FROM divisions WHERE code = ?", {code}));
  if (!r) return std::optional<Division>();
  return std::optional<Division>(Division{r->s(0), r->s(1), static_cast<int>(r->i(2)), r->s(3)});
}

Result<AddressDivisions> resolve(Conn& c, std::optional<std::string> province, std::optional<std::string> city,
                                 std::optional<std::string> county, const std::string& prefix) {
  auto fld = [&](const char* n) { return prefix.empty() ? std::string(n) : prefix + "." + n; };
  auto load = [&](const std::optional<std::string>& code, int level, const char* name) -> Result<std::optional<Division>> {
    if (!code || code->empty()) return std::optional<Division>();
    auto d = TRY(find(c, *code));
    static const char* kLevel[] = {"", "province", "city", "county"};
    if (!d || d->level != level)
      return Error::invalid(fld(name) + " " + *code + " is not a GB/T 2260 " + kLevel[level] + " code", fld(name));
    return d;
  };
  auto p = TRY(load(province, 1, "province_code"));
  auto ci = TRY(load(city, 2, "city_code"));
  auto co = TRY(load(county, 3, "county_code"));
  if (co) {
    if (ci && co->parent_code != ci->code)
      return Error::invalid(fld("county_code") + " " + co->code + " is not in city " + ci->code, fld("county_code"));
    if (!ci) ci = TRY(find(c, co->parent_code));
  }
  if (ci) {
    if (p && ci->parent_code != p->code)
      return Error::invalid(fld("city_code") + " " + ci->code + " is not in province " + p->code, fld("city_code"));
    if (!p) p = TRY(find(c, ci->parent_code));
  }
  AddressDivisions out;
  for (const auto* d : {&p, &ci, &co}) {
    if (!*d) continue;
    if (!placeholder((*d)->name)) out.full_name += (out.full_name.empty() ? "" : " ") + (*d)->name;
  }
  if (p) out.province = p->code;
  if (ci) out.city = ci->code;
  if (co) out.county = co->code;
  return out;
}

api::Module module() {
  api::Module m;
  m.name = "divisions";
  m.migrations = {{"divisions", 1, "GB/T 2260 administrative divisions", R"sql(
CREATE TABLE divisions (
  code TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  level INTEGER NOT NULL CHECK (level IN (1, 2, 3)),
  parent_code TEXT
) STRICT;
CREATE INDEX divisions_parent ON divisions(parent_code, code);
)sql"}};
  m.routes = [](http::Router& r, api::Platform& p) {
    r.get("/api/v1/divisions", [&p](Request& req) {
      return api::read(p, [&](Conn& c) -> Result<Response> {
        std::string sql = kSelect;
        store::Params params;
        if (auto parent = req.q("parent"); parent && !parent->empty()) {
          if (!six_digits(*parent)) return Error::invalid("parent must be a 6-digit GB/T 2260 code", "parent");
          sql += "WHERE d.parent_code = ?";
          params.push_back(*parent);
        } else if (auto q = req.q("q"); q && !q->empty()) {
          sql += "WHERE instr(d.name, ?) > 0";
          params.push_back(*q);
          if (auto lv = req.q("level"); lv && !lv->empty()) {
            if (*lv != "1" && *lv != "2" && *lv != "3") return Error::invalid("level must be 1, 2 or 3", "level");
            sql += " AND d.level = ?";
            params.push_back(int64_t(std::stoi(*lv)));
          }
        } else {
          sql += "WHERE d.parent_code IS NULL";
        }
        sql += " ORDER BY d.code LIMIT 500";
        auto rows = TRY(c.query(sql, params));
        json items = json::array();
        for (const auto& row : rows) items.push_back(division_json(row));
        return Response::make_json(json{{"items", items}});
      });
    }, {.summary = "Administrative divisions (GB/T 2260): provinces, or the children of ?parent=, or a name search ?q=",
        .tag = "divisions", .query_params = {"parent", "q", "level"}});

    r.get("/api/v1/divisions/{code}", [&p](Request& req) {
      return api::read(p, [&](Conn& c) -> Result<Response> {
        std::string code = req.params["code"];
        auto d = TRY(find(c, code));
        if (!d) return Error::not_found("no division " + code);
        json chain = json::array();
        std::optional<Division> cur = d;
        while (cur) {
          chain.insert(chain.begin(), json{{"code", cur->code}, {"name", cur->name}, {"level", cur->level}});
          if (cur->parent_code.empty()) break;
          cur = TRY(find(c, cur->parent_code));
        }
        return Response::make_json(json{{"code", d->code}, {"name", d->name}, {"level", d->level},
                                        {"parent_code", d->parent_code.empty() ? json(nullptr) : json(d->parent_code)},
                                        {"path", chain}});
      });
    }, {.summary = "One division with its path from the province down", .tag = "divisions"});
  };
  return m;
}

}  // namespace shouhou::divisions
