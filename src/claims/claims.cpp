#include "claims/claims.h"

#include <algorithm>

#include "core/input.h"
#include "core/util.h"
#include "customers/customers.h"
#include "installbase/installbase.h"
#include "orders/orders.h"
#include "warranty/warranty.h"

namespace shouhou::claims {

using api::json;
using http::Request;
using http::Response;
using store::Conn;

std::vector<Reason> audit(const Facts& f, const Settings& s) {
  std::vector<Reason> out;
  auto join = [](const std::vector<std::string>& v) {
    std::string r;
    for (const auto& x : v) r += (r.empty() ? "" : "、") + x;
    return r;
  };
  if (f.serial.empty()) {
    out.push_back({"serial_missing", "工单未填写机号（条码），无法核对安装点"});
    return out;  // nothing else can be checked
  }
  if (!f.asset_known) {
    out.push_back({"serial_unknown", "机号 " + f.serial + " 不在安装点档案中"});
  } else {
    if (!f.owner_matches) out.push_back({"owner_mismatch", "机号 " + f.serial + " 的用户与工单客户不一致"});
    if (!f.sale_date)
      out.push_back({"not_sold", "机号 " + f.serial + " 没有销售记录"});
    else if (*f.sale_date > f.claim_day)
      out.push_back({"sale_after_claim", "销售日期 " + *f.sale_date + " 晚于报修日期 " + f.claim_day});
  }
  if (!f.open_orders.empty()) out.push_back({"open_order", "该机号还有未完成的工单：" + join(f.open_orders)});
  if (!f.repeat_claims.empty())
    out.push_back({"repeat_fault", std::to_string(s.repeat_window_days) + " 天内同一机号同一故障已报修：" +
                                       join(f.repeat_claims)});
  if (f.far && f.far_claims >= s.far_min_claims)
    out.push_back({"far_region", "服务商 " + std::to_string(s.far_window_days) + " 天内为外省销售的机器报修 " +
                                     std::to_string(f.far_claims) + " 次"});
  if (f.days_to_end && *f.days_to_end >= 0 && *f.days_to_end <= s.near_end_days &&
      f.near_end_claims >= s.near_end_min_claims)
    out.push_back({"near_warranty_end", "距保修期结束仅 " + std::to_string(*f.days_to_end) + " 天，服务商 " +
                                            std::to_string(s.near_end_window_days) + " 天内此类报修 " +
                                            std::to_string(f.near_end_claims) + " 次"});
  return out;
}

namespace {

int64_t jint(const json& j, const char* k) { return j.contains(k) && j[k].is_number_integer() ? j[k].get<int64_t>() : 0; }
std::string jstr(const json& j, const char* k) { return j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : ""; }

std::vector<std::string> str_list(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  std::vector<std::string> out;
  if (j.is_array())
    for (auto& x : j)
      if (x.is_string()) out.push_back(x.get<std::string>());
  return out;
}

Result<Settings> load_settings(Conn& c) {
  Settings s;
  auto row = TRY(c.one("SELECT claim_types, repeat_window_days, far_min_claims, far_window_days, near_end_days, "
                       "near_end_min_claims, near_end_window_days, version FROM claim_settings WHERE id = 1"));
  if (!row) return s;
  s.claim_types = str_list(row->s(0));
  s.repeat_window_days = static_cast<int>(row->i(1));
  s.far_min_claims = static_cast<int>(row->i(2));
  s.far_window_days = static_cast<int>(row->i(3));
  s.near_end_days = static_cast<int>(row->i(4));
  s.near_end_min_claims = static_cast<int>(row->i(5));
  s.near_end_window_days = static_cast<int>(row->i(6));
  s.version = row->i(7);
  return s;
}

json settings_json(const Settings& s) {
  return json{{"claim_types", s.claim_types}, {"repeat_window_days", s.repeat_window_days},
              {"far_min_claims", s.far_min_claims}, {"far_window_days", s.far_window_days},
              {"near_end_days", s.near_end_days}, {"near_end_min_claims", s.near_end_min_claims},
              {"near_end_window_days", s.near_end_window_days}, {"version", s.version}};
}

// China date of a UTC instant.
std::string cn_day(int64_t ms) {
  int64_t l = ms + 8 * 3'600'000LL;
  return warranty::from_days(l >= 0 ? l / 86'400'000 : (l - 86'399'999) / 86'400'000).str();
}

struct Claim {
  Facts facts;
  int64_t claim_at = 0;
  std::string fault_key;
  int64_t provider_key = 0;
  bool near_end = false;
};

// The provider a claim counts against: the assigned provider, else the unit
// that keyed the order in through the provider portal or as a dealer.
int64_t provider_key(const json& o) {
  if (int64_t p = jint(o, "provider_unit_id")) return p;
  std::string ch = jstr(o, "channel");
  if (ch == "provider_portal" || ch == "dealer") return jint(o, "org_unit_id");
  return 0;
}

std::string fault_key(const json& o, const std::string& stage) {
  if (stage == "completed") {
    for (const char* k : {"completion", "fields"})
      if (o.contains(k) && o[k].is_object()) {
        if (auto v = jstr(o[k], "fault_code"); !v.empty()) return "fault:" + v;
        if (int64_t id = jint(o[k], "fault_code_id")) return "fault:#" + std::to_string(id);
      }
  }
  std::string area = jstr(o, "problem_area");
  return area.empty() ? "" : "area:" + area;
}

Result<Claim> gather(Conn& c, int64_t order_id, const json& o, const std::string& stage, const Settings& s) {
  Claim k;
  Facts& f = k.facts;
  k.claim_at = parse_iso(jstr(o, "created_at")).value_or(now_ms());
  f.claim_day = cn_day(k.claim_at);
  f.serial = jstr(o, "serial");
  k.fault_key = fault_key(o, stage);
  k.provider_key = provider_key(o);
  if (f.serial.empty()) return k;
  f.serial = installbase::normalize_serial(f.serial);
  auto asset = TRY(installbase::find_by_serial(c, f.serial));
  int64_t customer_id = jint(o, "customer_id");
  if (asset) {
    f.asset_known = true;
    f.sale_date = asset->sale_date;
    if (asset->owner_customer_id && customer_id) {
      int64_t owner = *asset->owner_customer_id;
      f.owner_matches = owner == customer_id;
      if (!f.owner_matches) {
        // A national customer and its sites are one customer for claims.
        auto a = TRY(customers::find_ref(c, owner));
        auto b = TRY(customers::find_ref(c, customer_id));
        f.owner_matches = a && b && (a->parent_id == customer_id || b->parent_id == owner);
      }
    }
    std::string asset_prov = asset->install_division_code ? asset->install_division_code->substr(0, 2) : "";
    std::string site_code = o.contains("site") && o["site"].is_object() ? jstr(o["site"], "county_code") : "";
    f.far = asset_prov.size() == 2 && site_code.size() >= 2 && site_code.substr(0, 2) != asset_prov;
    // At creation the order carries the warranty decision made for it moments
    // ago on the same day (orders::create): no need to decide again.
    const json* made = stage == "created" && o.contains("decision") && o["decision"].is_object() &&
                               o["decision"].contains("unit_end") ? &o["decision"]["unit_end"] : nullptr;
    if (made) {
      if (made->is_string())
        if (auto end = warranty::parse_date(made->get<std::string>()))
          f.days_to_end = static_cast<int>(warranty::to_days(*end) - warranty::to_days(*warranty::parse_date(f.claim_day)));
    } else if (auto ck = warranty::check(c, f.serial, *warranty::parse_date(f.claim_day)); ck && ck->decision.unit_end) {
      f.days_to_end = static_cast<int>(warranty::to_days(*ck->decision.unit_end) -
                                       warranty::to_days(*warranty::parse_date(f.claim_day)));
    }
  }
  for (const auto& r : TRY(c.query("SELECT number FROM service_orders WHERE serial = ? AND id <> ? AND closed_at IS NULL "
                                   "AND completed_at IS NULL ORDER BY id LIMIT 10",
                                   {f.serial, order_id})))
    f.open_orders.push_back(r.s(0));
  if (!k.fault_key.empty())
    for (const auto& r : TRY(c.query("SELECT DISTINCT order_number FROM claim_audits WHERE serial = ? AND fault_key = ? "
                                     "AND order_id <> ? AND claim_at >= ? ORDER BY order_number LIMIT 10",
                                     {f.serial, k.fault_key, order_id, k.claim_at - s.repeat_window_days * 86'400'000LL})))
      f.repeat_claims.push_back(r.s(0));
  k.near_end = f.days_to_end && *f.days_to_end >= 0 && *f.days_to_end <= s.near_end_days;
  if (k.provider_key) {
    if (f.far) {
      auto n = TRY(c.one("SELECT COUNT(DISTINCT order_id) FROM claim_audits WHERE provider_key = ? AND far = 1 "
                         "AND order_id <> ? AND claim_at >= ?",
                         {k.provider_key, order_id, k.claim_at - s.far_window_days * 86'400'000LL}));
      f.far_claims = static_cast<int>(n->i(0)) + 1;
    }
    if (k.near_end) {
      auto n = TRY(c.one("SELECT COUNT(DISTINCT order_id) FROM claim_audits WHERE provider_key = ? AND near_end = 1 "
                         "AND order_id <> ? AND claim_at >= ?",
                         {k.provider_key, order_id, k.claim_at - s.near_end_window_days * 86'400'000LL}));
      f.near_end_claims = static_cast<int>(n->i(0)) + 1;
    }
  }
  return k;
}

json reasons_json(const std::vector<Reason>& rs) {
  json a = json::array();
  for (const auto& r : rs) a.push_back(json{{"code", r.code}, {"message", r.message}});
  return a;
}

Result<void> run_audit(api::WriteTx& tx, int64_t order_id, const json& o, const std::string& stage) {
  // Out of warranty there is no claim, whatever the type: decided before
  // reading the settings (most orders created are out of warranty).
  if (jstr(o, "warranty") == "out") return {};
  Settings s = TRY(load_settings(tx.db));
  std::string type = jstr(o, "type");
  if (std::find(s.claim_types.begin(), s.claim_types.end(), type) == s.claim_types.end()) return {};
  Claim k = TRY(gather(tx.db, order_id, o, stage, s));
  auto reasons = audit(k.facts, s);
  std::string outcome = reasons.empty() ? "passed" : "flagged";
  int64_t now = now_ms();
  std::string org_path = jstr(o, "org_path");
  // A newer audit replaces an undecided older one.
  TRY(tx.db.exec("UPDATE claim_audits SET decision = 'superseded', updated_at = ? WHERE order_id = ? AND decision IS NULL "
                 "AND outcome = 'flagged'",
                 {now, order_id}));
  json rj = reasons_json(reasons);
  json facts{{"claim_day", k.facts.claim_day}, {"serial", k.facts.serial}, {"asset_known", k.facts.asset_known},
             {"owner_matches", k.facts.owner_matches},
             {"sale_date", k.facts.sale_date ? json(*k.facts.sale_date) : json(nullptr)},
             {"open_orders", k.facts.open_orders}, {"repeat_claims", k.facts.repeat_claims}, {"far", k.facts.far},
             {"far_claims", k.facts.far_claims},
             {"days_to_warranty_end", k.facts.days_to_end ? json(*k.facts.days_to_end) : json(nullptr)},
             {"near_end_claims", k.facts.near_end_claims}, {"fault_key", k.fault_key}};
  auto row = TRY(tx.db.one(
      "INSERT INTO claim_audits (order_id, order_number, org_path, stage, serial, fault_key, provider_key, far, near_end, "
      "claim_at, reasons_json, facts_json, outcome, version, created_at, updated_at) "
      "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,1,?,?) RETURNING id",
      {order_id, jstr(o, "number"), org_path, stage, k.facts.serial, k.fault_key, k.provider_key,
       int64_t(k.facts.far), int64_t(k.near_end), k.claim_at, rj.dump(), facts.dump(), outcome, now, now}));
  TRY_VOID(tx.audit("claim_audit", row->i(0), "auto_audit", nullptr,
                    json{{"order_id", order_id}, {"stage", stage}, {"outcome", outcome}, {"reasons", rj}}, org_path));
  std::string current = jstr(o, "claim_status");
  if (!reasons.empty()) {
    TRY_VOID(orders::set_claim_status(tx, order_id, "flagged"));
    TRY_VOID(orders::add_timeline(tx, order_id, "claim.flagged", json{{"stage", stage}, {"reasons", rj}}));
    return {};
  }
  if (current != "approved" && current != "rejected") TRY_VOID(orders::set_claim_status(tx, order_id, "passed"));
  TRY_VOID(orders::add_timeline(tx, order_id, "claim.passed", json{{"stage", stage}}));
  // Clean claims pass on their own: the system audits the order. Orders
  // written by tools (imports, demo data: no user) bring their own history,
  // so only the claim status is set for them.
  if (stage == "created" && jstr(o, "state") == "created" && tx.who()) {
    api::WriteTx system(tx.db, nullptr, "system");
    auto r = orders::transition(system, order_id, "audit", json::object(), "三包自动鉴定通过 / claim auto-audit passed");
    if (!r && r.error().code != Error::Code::conflict && r.error().code != Error::Code::invalid) return r.error();
  }
  return {};
}

Result<json> order_in_scope(Conn& c, const http::Principal& who, int64_t id) {
  auto o = TRY(orders::find(c, id));
  if (!o || !who.reaches(jstr(*o, "org_path"))) return api::not_found("service order", id);
  return *o;
}

constexpr const char* kAuditSelect =
    "SELECT id, order_id, order_number, stage, serial, reasons_json, facts_json, outcome, decision, decided_by, "
    "decided_by_name, decided_at, comment, version, created_at, org_path FROM claim_audits";

json audit_json(const store::Row& r) {
  return json{{"id", r.i(0)}, {"order_id", r.i(1)}, {"order_number", r.s(2)}, {"stage", r.s(3)}, {"serial", r.s(4)},
              {"reasons", json::parse(r.s(5), nullptr, false)}, {"facts", json::parse(r.s(6), nullptr, false)},
              {"outcome", r.s(7)}, {"decision", r.null(8) ? json(nullptr) : json(r.s(8))},
              {"decided_by", r.null(9) ? json(nullptr) : json(r.i(9))},
              {"decided_by_name", r.null(10) ? json(nullptr) : json(r.s(10))},
              {"decided_at", r.null(11) ? json(nullptr) : json(iso_utc(r.i(11)))},
              {"comment", r.null(12) ? json(nullptr) : json(r.s(12))}, {"version", r.i(13)},
              {"created_at", iso_utc(r.i(14))}};
}

void routes(http::Router& r, api::Platform& p) {
  r.get("/api/v1/claims/queue", [&p](Request& req) {
    return api::read(p, [&](Conn& c) -> Result<Response> {
      auto pg = TRY(api::page(req));
      auto rows = TRY(c.query(std::string(kAuditSelect) +
                                  " WHERE outcome = 'flagged' AND decision IS NULL AND org_path LIKE ? AND id > ? "
                                  "ORDER BY id LIMIT ?",
                              {req.principal->org_path + "%", pg.after_id, pg.limit + 1}));
      json items = json::array();
      for (const auto& row : rows) {
        json j = audit_json(row);
        auto o = TRY(orders::find(c, row.i(1)));
        if (o)
          j["order"] = json{{"id", (*o)["id"]}, {"number", (*o)["number"]}, {"type", (*o)["type"]},
                            {"state", (*o)["state"]}, {"customer_id", (*o)["customer_id"]},
                            {"customer_name", (*o)["customer_name"]}, {"serial", (*o)["serial"]},
                            {"warranty", (*o)["warranty"]}, {"claim_status", (*o)["claim_status"]},
                            {"provider_name", (*o)["provider_name"]}, {"created_at", (*o)["created_at"]}};
        items.push_back(std::move(j));
      }
      return Response::make_json(api::page_json(std::move(items), pg));
    });
  }, {.summary = "Warranty claims waiting for a manual audit, with every reason", .tag = "claims",
      .permission = "claim.audit", .query_params = {"limit", "cursor"}});

  r.get("/api/v1/claims/settings", [&p](Request&) {
    return api::read(p, [&](Conn& c) -> Result<Response> { return Response::make_json(settings_json(TRY(load_settings(c)))); });
  }, {.summary = "Claim audit thresholds", .tag = "claims", .permission = "claim.audit"});

  r.put("/api/v1/claims/settings", [&p](Request& req) {
    auto body = req.json_body();
    if (!body) return Response::error(body.error());
    return api::write(p, req, [&](api::WriteTx& tx) -> Result<Response> {
      Settings b = TRY(load_settings(tx.db));
      int64_t version = TRY(api::expected_version(req, *body));
      Input in(*body);
      Settings s = b;
      if (in.has("claim_types")) {
        s.claim_types = TRY(in.str_list("claim_types", 10, 40));
        static const std::vector<std::string> kTypes = {"installation", "delivery", "repair", "return_exchange",
                                                        "maintenance", "inspection", "startup", "complaint", "consultation"};
        for (const auto& t : s.claim_types)
          if (std::find(kTypes.begin(), kTypes.end(), t) == kTypes.end())
            return Error::invalid("claim_types: " + t + " is not an order type", "claim_types");
      }
      auto num = [&](const char* name, int& out, int lo, int hi) -> Result<void> {
        if (in.has(name)) out = static_cast<int>(TRY(in.integer(name, lo, hi)));
        return {};
      };
      TRY_VOID(num("repeat_window_days", s.repeat_window_days, 1, 3650));
      TRY_VOID(num("far_min_claims", s.far_min_claims, 1, 10000));
      TRY_VOID(num("far_window_days", s.far_window_days, 1, 3650));
      TRY_VOID(num("near_end_days", s.near_end_days, 0, 365));
      TRY_VOID(num("near_end_min_claims", s.near_end_min_claims, 1, 10000));
      TRY_VOID(num("near_end_window_days", s.near_end_window_days, 1, 3650));
      auto n = TRY(tx.db.exec(
          "UPDATE claim_settings SET claim_types = ?, repeat_window_days = ?, far_min_claims = ?, far_window_days = ?, "
          "near_end_days = ?, near_end_min_claims = ?, near_end_window_days = ?, version = version + 1, updated_at = ? "
          "WHERE id = 1 AND version = ?",
          {json(s.claim_types).dump(), int64_t(s.repeat_window_days), int64_t(s.far_min_claims), int64_t(s.far_window_days),
           int64_t(s.near_end_days), int64_t(s.near_end_min_claims), int64_t(s.near_end_window_days), now_ms(), version}));
      if (n == 0)
        return Error::conflict("claim settings were changed by someone else (version " + std::to_string(b.version) + ")", "version");
      Settings after = TRY(load_settings(tx.db));
      TRY_VOID(tx.audit("claim_settings", 1, "update", settings_json(b), settings_json(after), tx.who()->org_path));
      return Response::make_json(settings_json(after));
    });
  }, {.summary = "Change claim audit thresholds (send the version you read)", .tag = "claims",
      .permission = "workflow.write"});

  r.get("/api/v1/claims/{order_id}", [&p](Request& req) {
    return api::read(p, [&](Conn& c) -> Result<Response> {
      int64_t id = TRY(api::path_id(req, "order_id"));
      json o = TRY(order_in_scope(c, *req.principal, id));
      json items = json::array();
      for (const auto& row : TRY(c.query(std::string(kAuditSelect) + " WHERE order_id = ? ORDER BY id", {id})))
        items.push_back(audit_json(row));
      return Response::make_json(json{{"order_id", id}, {"claim_status", o["claim_status"]}, {"items", items}});
    });
  }, {.summary = "The claim audits of a service order (auto and manual)", .tag = "claims", .permission = "order.read"});

  r.post("/api/v1/claims/{order_id}/decision", [&p](Request& req) {
    auto body = req.json_body();
    if (!body) return Response::error(body.error());
    return api::write(p, req, [&](api::WriteTx& tx) -> Result<Response> {
      int64_t id = TRY(api::path_id(req, "order_id"));
      json o = TRY(order_in_scope(tx.db, *tx.who(), id));
      Input in(*body);
      std::string decision = TRY(in.one_of("decision", {"approve", "reject"}));
      std::string comment = TRY(in.str("comment", 1000));
      auto row = TRY(tx.db.one(std::string(kAuditSelect) +
                               " WHERE order_id = ? AND outcome = 'flagged' AND decision IS NULL ORDER BY id DESC", {id}));
      if (!row) return Error::conflict("service order " + std::to_string(id) + " has no claim waiting for a decision", "decision");
      json before = audit_json(*row);
      if (body->contains("version") && TRY(api::expected_version(req, *body)) != row->i(13))
        return Error::conflict("the claim audit was changed meanwhile (version " + std::to_string(row->i(13)) + ")", "version");
      int64_t now = now_ms();
      const auto& who = *tx.who();
      auto n = TRY(tx.db.exec("UPDATE claim_audits SET decision = ?, decided_by = ?, decided_by_name = ?, decided_at = ?, "
                              "comment = ?, version = version + 1, updated_at = ? WHERE id = ? AND decision IS NULL",
                              {decision, who.user_id, who.username, now, comment, now, row->i(0)}));
      if (n == 0) return Error::conflict("the claim was decided meanwhile", "decision");
      TRY_VOID(orders::set_claim_status(tx, id, decision == "approve" ? "approved" : "rejected"));
      TRY_VOID(orders::add_timeline(tx, id, "claim.decision", json{{"decision", decision}, {"comment", comment}}));
      auto after_row = TRY(tx.db.one(std::string(kAuditSelect) + " WHERE id = ?", {row->i(0)}));
      json after = audit_json(*after_row);
      TRY_VOID(tx.audit("claim_audit", row->i(0), decision, before, after, jstr(o, "org_path")));
      if (decision == "approve" && jstr(o, "state") == "created") {
        api::WriteTx system(tx.db, nullptr, "system");
        auto r = orders::transition(system, id, "audit", json::object(), "三包鉴定人工通过 / claim approved by " + who.username);
        if (!r && r.error().code != Error::Code::conflict && r.error().code != Error::Code::invalid) return r.error();
      }
      json out = after;
      out["order"] = *TRY(orders::find(tx.db, id));
      return Response::make_json(out);
    });
  }, {.summary = "Approve or reject a flagged warranty claim", .tag = "claims", .permission = "claim.audit",
      .request_schema = api::schema_object({{"decision", "string"}, {"comment", "string"}, {"version", "integer"}},
                                           {"decision", "comment"})});
}

}  // namespace

api::Module module() {
  api::Module m;
  m.name = "claims";
  m.migrations = {{"claims", 1, "warranty claim audits and thresholds", R"sql(
CREATE TABLE claim_audits (
  id INTEGER PRIMARY KEY,
  order_id INTEGER NOT NULL REFERENCES service_orders(id),
  order_number TEXT NOT NULL,
  org_path TEXT NOT NULL,
  stage TEXT NOT NULL CHECK (stage IN ('created','completed')),
  serial TEXT NOT NULL,
  fault_key TEXT NOT NULL,
  provider_key INTEGER NOT NULL DEFAULT 0,
  far INTEGER NOT NULL DEFAULT 0,
  near_end INTEGER NOT NULL DEFAULT 0,
  claim_at INTEGER NOT NULL,
  reasons_json TEXT NOT NULL,
  facts_json TEXT NOT NULL,
  outcome TEXT NOT NULL CHECK (outcome IN ('passed','flagged')),
  decision TEXT CHECK (decision IS NULL OR decision IN ('approve','reject','superseded')),
  decided_by INTEGER,
  decided_by_name TEXT,
  decided_at INTEGER,
  comment TEXT,
  version INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX claim_audits_order ON claim_audits(order_id);
CREATE INDEX claim_audits_serial ON claim_audits(serial, fault_key);
CREATE INDEX claim_audits_provider ON claim_audits(provider_key, claim_at);
CREATE INDEX claim_audits_queue ON claim_audits(outcome, decision);
CREATE TABLE claim_settings (
  id INTEGER PRIMARY KEY,
  claim_types TEXT NOT NULL,
  repeat_window_days INTEGER NOT NULL,
  far_min_claims INTEGER NOT NULL,
  far_window_days INTEGER NOT NULL,
  near_end_days INTEGER NOT NULL,
  near_end_min_claims INTEGER NOT NULL,
  near_end_window_days INTEGER NOT NULL,
  version INTEGER NOT NULL DEFAULT 1,
  updated_at INTEGER NOT NULL
) STRICT;
INSERT INTO claim_settings (id, claim_types, repeat_window_days, far_min_claims, far_window_days, near_end_days,
  near_end_min_claims, near_end_window_days, version, updated_at) VALUES (1, '["repair"]', 30, 3, 30, 15, 3, 30, 1, 0);
)sql"}};
  m.routes = routes;
  m.wire = [](api::Platform& p) {
    p.bus->on("order.created", [](api::WriteTx& tx, std::string_view, int64_t id, const json& o) {
      return run_audit(tx, id, o, "created");
    });
    p.bus->on("order.transition", [](api::WriteTx& tx, std::string_view, int64_t id, const json& ev) -> Result<void> {
      if (jstr(ev, "to") != "completed") return {};
      return run_audit(tx, id, ev, "completed");
    });
    p.bus->on("", [](api::WriteTx& tx, std::string_view type, int64_t id, const json& o) -> Result<void> {
      // Follow the order's scope when it is assigned to a provider (assign
      // announces itself as an update or as the dispatch transition).
      if (type != "order.updated" && type != "order.transition") return {};
      TRY(tx.db.exec("UPDATE claim_audits SET org_path = ? WHERE order_id = ? AND org_path <> ?",
                     {jstr(o, "org_path"), id, jstr(o, "org_path")}));
      return {};
    });
  };
  return m;
}

}  // namespace shouhou::claims
