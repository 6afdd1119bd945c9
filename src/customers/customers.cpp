#include "customers/customers.h"

#include <algorithm>
#include <set>

#include "core/input.h"
#include "core/util.h"
#include "contracts/contracts.h"
#include "divisions/divisions.h"
#include "installbase/installbase.h"
#include "org/org.h"

namespace shouhou::customers {

using api::json;
using http::Request;
using http::Response;
using store::Conn;

namespace {

const std::vector<std::string> kKinds = {"individual", "organisation"};
const std::vector<std::string> kTypes = {"direct", "indirect", "dealer", "agent"};
const std::vector<std::string> kTiers = {"vip", "key", "small"};
constexpr size_t kMaxPhones = 10, kMaxContacts = 50, kMaxAddresses = 20;

store::Value opt(const std::optional<std::string>& s) {
  return s && !s->empty() ? store::Value(*s) : store::Value();
}
json jopt(const store::Row& r, size_t i) { return r.null(i) ? json(nullptr) : json(r.s(i)); }

bool valid_code(const std::string& s) {
  if (s.empty() || s.size() > 40) return false;
  return std::all_of(s.begin(), s.end(), [](char ch) {
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' ||
           ch == '_' || ch == '.';
  });
}

bool valid_date(const std::string& s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  return parse_iso(s).has_value();
}

std::string in_list(size_t n) {
  std::string s = "(";
  for (size_t i = 0; i < n; ++i) s += i ? ",?" : "?";
  return s + ")";
}

// ---- other modules' records of a customer ------------------------------------
// The install base and contracts modules offer lookups by customer (no scope
// filter); the caller's scope is applied here, record by record.
Result<json> assets_json(Conn& c, const http::Principal& who, int64_t customer_id, size_t limit = 200) {
  auto assets = TRY(installbase::assets_of_customers(c, {customer_id}));
  json out = json::array();
  for (auto it = assets.rbegin(); it != assets.rend() && out.size() < limit; ++it)
    if (who.reaches(it->org_path)) out.push_back(installbase::to_json(*it));
  return out;
}

Result<json> contracts_json(Conn& c, const http::Principal& who, int64_t customer_id) {
  auto list = TRY(contracts::contracts_of_customers(c, {customer_id}));
  json out = json::array();
  for (auto it = list.rbegin(); it != list.rend(); ++it)
    if (who.reaches(it->org_path)) out.push_back(contracts::to_json(*it));
  return out;
}

// Installed by the orders module (set_orders_of_customer); empty until then.
OrdersOfCustomer& orders_provider() {
  static OrdersOfCustomer fn;
  return fn;
}

Result<CustomerOrders> orders_of(Conn& c, const http::Principal& who, int64_t customer_id, bool open_only, size_t limit) {
  const auto& fn = orders_provider();
  if (!fn) return CustomerOrders{};
  return fn(c, who, customer_id, open_only, limit);
}

// ---- reading customers ----------------------------------------------------
constexpr const char* kCols =
    "c.id, c.org_path, c.org_unit_id, o.name, c.parent_id, c.code, c.name, c.kind, c.type, c.tier, "
    "c.purchase_total_fen, c.email, c.notes, c.active, c.version, c.created_at, c.updated_at";
constexpr const char* kFrom = " FROM customers c JOIN org_units o ON o.id = c.org_unit_id";

json row_json(const store::Row& r) {
  return json{{"id", r.i(0)},
              {"org_path", r.s(1)},
              {"org_unit", {{"id", r.i(2)}, {"name", r.s(3)}}},
              {"parent_id", r.null(4) ? json(nullptr) : json(r.i(4))},
              {"code", jopt(r, 5)},
              {"name", r.s(6)},
              {"kind", r.s(7)},
              {"type", r.s(8)},
              {"tier", r.s(9)},
              {"purchase_total_fen", r.i(10)},
              {"email", jopt(r, 11)},
              {"notes", jopt(r, 12)},
              {"active", r.i(13) != 0},
              {"version", r.i(14)},
              {"created_at", iso_utc(r.i(15))},
              {"updated_at", iso_utc(r.i(16))}};
}

json phone_json(const store::Row& r) {  // id, customer_id, contact_id, phone_norm, ext, kind, label, raw
  return json{{"id", r.i(0)}, {"number", r.s(7)}, {"normalized", r.s(3)}, {"ext", jopt(r, 4)},
              {"kind", r.s(5)}, {"label", jopt(r, 6)}};
}

// Adds phones, contacts (with their phones) and addresses to each customer.
Result<void> attach_details(Conn& c, json& items) {
  if (items.empty()) return {};
  store::Params ids;
  std::map<int64_t, json*> by_id;
  for (auto& it : items) {
    int64_t id = it["id"].get<int64_t>();
    ids.push_back(id);
    by_id[id] = &it;
    it["phones"] = json::array();
    it["contacts"] = json::array();
    it["addresses"] = json::array();
  }
  std::string in = in_list(ids.size());
  auto contacts = TRY(c.query("SELECT id, customer_id, name, title, email, is_primary FROM customer_contacts "
                              "WHERE customer_id IN " + in + " ORDER BY sort_order, id", ids));
  std::map<int64_t, json*> contact_by_id;
  for (const auto& r : contacts) {
    json& arr = (*by_id[r.i(1)])["contacts"];
    arr.push_back(json{{"id", r.i(0)}, {"name", r.s(2)}, {"title", jopt(r, 3)}, {"email", jopt(r, 4)},
                       {"is_primary", r.i(5) != 0}, {"phones", json::array()}});
  }
  for (auto& it : items)
    for (auto& ct : it["contacts"]) contact_by_id[ct["id"].get<int64_t>()] = &ct;
  auto phones = TRY(c.query("SELECT id, customer_id, contact_id, phone_norm, ext, kind, label, raw FROM customer_phones "
                            "WHERE customer_id IN " + in + " ORDER BY sort_order, id", ids));
  for (const auto& r : phones) {
    if (r.null(2)) {
      (*by_id[r.i(1)])["phones"].push_back(phone_json(r));
    } else if (auto ct = contact_by_id.find(r.i(2)); ct != contact_by_id.end()) {
      (*ct->second)["phones"].push_back(phone_json(r));
    }
  }
  auto addrs = TRY(c.query("SELECT id, customer_id, label, province_code, city_code, county_code, division_name, detail, "
                           "postcode, is_default FROM customer_addresses WHERE customer_id IN " + in +
                           " ORDER BY sort_order, id", ids));
  for (const auto& r : addrs) {
    std::string full = r.s(6).empty() ? r.s(7) : r.s(6) + " " + r.s(7);
    (*by_id[r.i(1)])["addresses"].push_back(json{{"id", r.i(0)}, {"label", jopt(r, 2)}, {"province_code", jopt(r, 3)},
                                                 {"city_code", jopt(r, 4)}, {"county_code", jopt(r, 5)},
                                                 {"division_name", r.s(6)}, {"detail", r.s(7)},
                                                 {"full_address", full}, {"postcode", jopt(r, 8)},
                                                 {"is_default", r.i(9) != 0}});
  }
  return {};
}

// The customer as JSON (with details), without a scope check.
Result<std::optional<json>> load(Conn& c, int64_t id) {
  auto row = TRY(c.one(std::string("SELECT ") + kCols + kFrom + " WHERE c.id = ?", {id}));
  if (!row) return std::optional<json>();
  json items = json::array({row_json(*row)});
  TRY_VOID(attach_details(c, items));
  return std::optional<json>(std::move(items[0]));
}

// The customer as JSON if the principal reaches it, else not_found.
Result<json> load_in_scope(Conn& c, const http::Principal& who, int64_t id) {
  auto j = TRY(load(c, id));
  if (!j || !who.reaches((*j)["org_path"].get<std::string>())) return api::not_found("customer", id);
  return std::move(*j);
}

DuplicateKeys keys_of(const json& cust) {
  DuplicateKeys k;
  k.name_norm = normalize_text(cust["name"].get<std::string>());
  for (auto& p : cust["phones"]) k.phones.push_back(p["normalized"]);
  for (auto& ct : cust["contacts"])
    for (auto& p : ct["phones"]) k.phones.push_back(p["normalized"]);
  for (auto& a : cust["addresses"]) {
    std::string div;
    for (const char* f : {"county_code", "city_code", "province_code"})
      if (div.empty() && a[f].is_string()) div = a[f].get<std::string>();
    k.addresses.push_back({div, normalize_text(a["detail"].get<std::string>())});
  }
  return k;
}

// ---- input ----------------------------------------------------------------
struct PhoneIn {
  std::string raw;
  Phone parsed;
  std::optional<std::string> label;
};
struct ContactIn {
  std::optional<int64_t> id;
  std::string name;
  std::optional<std::string> title, email;
  bool is_primary = false;
  std::vector<PhoneIn> phones;
};
struct AddressIn {
  std::optional<int64_t> id;
  std::optional<std::string> label, province, city, county, postcode;
  std::string detail;
  bool is_default = false;
};

Result<const json*> array_field(const json& obj, const char* name, const std::string& field, size_t max) {
  const json& v = obj.at(name);
  if (!v.is_array()) return Error::invalid(field + " must be an array", field);
  if (v.size() > max) return Error::invalid(field + " has more than " + std::to_string(max) + " items", field);
  return &v;
}

// "phones": ["138 0013 8000", {"number": "021-5030-1234 ext. 8", "label": "work"}]
Result<std::vector<PhoneIn>> read_phones(const json& obj, const std::string& prefix, std::string_view area) {
  std::vector<PhoneIn> out;
  std::string field = prefix.empty() ? "phones" : prefix + ".phones";
  if (!obj.contains("phones") || obj["phones"].is_null()) return out;
  const json* arr = TRY(array_field(obj, "phones", field, kMaxPhones));
  for (size_t i = 0; i < arr->size(); ++i) {
    const json& e = (*arr)[i];
    std::string f = field + "[" + std::to_string(i) + "]";
    PhoneIn p;
    if (e.is_string()) {
      p.raw = e.get<std::string>();
    } else if (e.is_object()) {
      Input in(e, f);
      p.raw = TRY(in.str("number", 60));
      p.label = TRY(in.opt_str("label", 20));
      f += ".number";
    } else {
      return Error::invalid(f + " must be a phone number string or {\"number\": ..., \"label\": ...}", f);
    }
    auto parsed = parse_phone(p.raw, area);
    if (!parsed)
      return Error::invalid(f + " \"" + p.raw.substr(0, 60) + "\" is not a telephone number (mobile 1xxxxxxxxxx or "
                                                               "landline with area code, e.g. 021-5030-1234)", f);
    p.parsed = std::move(*parsed);
    out.push_back(std::move(p));
  }
  return out;
}

Result<std::optional<std::string>> read_email(const Input& in, const char* name) {
  auto e = TRY(in.opt_str(name, 120));
  if (e && !e->empty() && (e->find('@') == std::string::npos || e->find(' ') != std::string::npos))
    return Error::invalid(in.field(name) + " is not an e-mail address", in.field(name));
  return e;
}

Result<std::vector<ContactIn>> read_contacts(const json& body, std::string_view area) {
  std::vector<ContactIn> out;
  const json* arr = TRY(array_field(body, "contacts", "contacts", kMaxContacts));
  for (size_t i = 0; i < arr->size(); ++i) {
    std::string f = "contacts[" + std::to_string(i) + "]";
    const json& e = (*arr)[i];
    Input in(e, f);
    ContactIn ct;
    if (!e.is_object()) return Error::invalid(f + " must be an object", f);
    ct.id = TRY(in.opt_integer("id", 1));
    ct.name = TRY(in.str("name", 60));
    ct.title = TRY(in.opt_str("title", 60));
    ct.email = TRY(read_email(in, "email"));
    ct.is_primary = TRY(in.opt_boolean("is_primary")).value_or(false);
    ct.phones = TRY(read_phones(e, f, area));
    out.push_back(std::move(ct));
  }
  return out;
}

Result<std::vector<AddressIn>> read_addresses(const json& body) {
  std::vector<AddressIn> out;
  const json* arr = TRY(array_field(body, "addresses", "addresses", kMaxAddresses));
  for (size_t i = 0; i < arr->size(); ++i) {
    std::string f = "addresses[" + std::to_string(i) + "]";
    const json& e = (*arr)[i];
    if (!e.is_object()) return Error::invalid(f + " must be an object", f);
    Input in(e, f);
    AddressIn a;
    a.id = TRY(in.opt_integer("id", 1));
    a.label = TRY(in.opt_str("label", 20));
    a.province = TRY(in.opt_str("province_code", 6));
    a.city = TRY(in.opt_str("city_code", 6));
    a.county = TRY(in.opt_str("county_code", 6));
    a.detail = TRY(in.str("detail", 200));
    a.postcode = TRY(in.opt_str("postcode", 6));
    if (a.postcode && !a.postcode->empty() &&
        (a.postcode->size() != 6 ||
         !std::all_of(a.postcode->begin(), a.postcode->end(), [](char ch) { return ch >= '0' && ch <= '9'; })))
      return Error::invalid(in.field("postcode") + " must be 6 digits", in.field("postcode"));
    a.is_default = TRY(in.opt_boolean("is_default")).value_or(false);
    out.push_back(std::move(a));
  }
  return out;
}

// ---- writing children -----------------------------------------------------
Result<void> insert_phones(Conn& c, int64_t customer_id, std::optional<int64_t> contact_id,
                           const std::vector<PhoneIn>& phones) {
  std::set<std::string> seen;
  int64_t n = 0;
  for (const auto& p : phones) {
    if (!seen.insert(p.parsed.norm + "#" + p.parsed.ext).second) continue;
    TRY(c.exec("INSERT INTO customer_phones (customer_id, contact_id, phone_norm, ext, kind, label, raw, sort_order) "
               "VALUES (?,?,?,?,?,?,?,?)",
               {customer_id, contact_id ? store::Value(*contact_id) : store::Value(), p.parsed.norm,
                opt(p.parsed.ext), std::string(kind_name(p.parsed.kind)), opt(p.label), p.raw, n++}));
  }
  return {};
}

Result<void> replace_phones(Conn& c, int64_t customer_id, const std::vector<PhoneIn>& phones) {
  TRY(c.exec("DELETE FROM customer_phones WHERE customer_id = ? AND contact_id IS NULL", {customer_id}));
  return insert_phones(c, customer_id, std::nullopt, phones);
}

// Contacts with an id are updated, without one inserted; the customer's
// other contacts are removed. Ids stay stable for references.
Result<void> sync_contacts(Conn& c, int64_t customer_id, const std::string& org_path, const std::vector<ContactIn>& in) {
  auto existing_rows = TRY(c.query("SELECT id FROM customer_contacts WHERE customer_id = ?", {customer_id}));
  std::set<int64_t> existing, kept;
  for (const auto& r : existing_rows) existing.insert(r.i(0));
  TRY(c.exec("DELETE FROM customer_phones WHERE customer_id = ? AND contact_id IS NOT NULL", {customer_id}));
  int64_t now = now_ms(), pos = 0;
  bool primary_seen = false;
  for (size_t i = 0; i < in.size(); ++i) {
    const auto& ct = in[i];
    bool primary = ct.is_primary && !primary_seen;
    primary_seen = primary_seen || primary;
    int64_t id;
    if (ct.id) {
      if (!existing.count(*ct.id) || kept.count(*ct.id))
        return Error::invalid("contacts[" + std::to_string(i) + "].id " + std::to_string(*ct.id) +
                                  " is not a contact of this customer", "contacts[" + std::to_string(i) + "].id");
      id = *ct.id;
      TRY(c.exec("UPDATE customer_contacts SET name = ?, title = ?, email = ?, is_primary = ?, sort_order = ?, "
                 "org_path = ?, version = version + 1, updated_at = ? WHERE id = ?",
                 {ct.name, opt(ct.title), opt(ct.email), int64_t(primary), pos, org_path, now, id}));
    } else {
      auto row = TRY(c.one("INSERT INTO customer_contacts (customer_id, org_path, name, title, email, is_primary, "
                           "sort_order, version, created_at, updated_at) VALUES (?,?,?,?,?,?,?,1,?,?) RETURNING id",
                           {customer_id, org_path, ct.name, opt(ct.title), opt(ct.email), int64_t(primary), pos, now, now}));
      id = row->i(0);
    }
    kept.insert(id);
    ++pos;
    TRY_VOID(insert_phones(c, customer_id, id, ct.phones));
  }
  for (int64_t id : existing)
    if (!kept.count(id)) TRY(c.exec("DELETE FROM customer_contacts WHERE id = ?", {id}));
  return {};
}

Result<void> sync_addresses(Conn& c, int64_t customer_id, const std::string& org_path, const std::vector<AddressIn>& in) {
  auto existing_rows = TRY(c.query("SELECT id FROM customer_addresses WHERE customer_id = ?", {customer_id}));
  std::set<int64_t> existing, kept;
  for (const auto& r : existing_rows) existing.insert(r.i(0));
  int64_t now = now_ms(), pos = 0;
  bool default_seen = false;
  for (size_t i = 0; i < in.size(); ++i) {
    const auto& a = in[i];
    std::string f = "addresses[" + std::to_string(i) + "]";
    auto div = TRY(divisions::resolve(c, a.province, a.city, a.county, f));
    bool is_default = (a.is_default && !default_seen);
    default_seen = default_seen || is_default;
    std::string detail_norm = normalize_text(a.detail);
    std::string search_norm = normalize_text(div.full_name + a.detail);
    if (a.id) {
      if (!existing.count(*a.id) || kept.count(*a.id))
        return Error::invalid(f + ".id " + std::to_string(*a.id) + " is not an address of this customer", f + ".id");
      TRY(c.exec("UPDATE customer_addresses SET label = ?, province_code = ?, city_code = ?, county_code = ?, "
                 "division_name = ?, detail = ?, detail_norm = ?, search_norm = ?, postcode = ?, is_default = ?, "
                 "sort_order = ?, org_path = ?, version = version + 1, updated_at = ? WHERE id = ?",
                 {opt(a.label), opt(div.province), opt(div.city), opt(div.county), div.full_name, a.detail, detail_norm,
                  search_norm,
                  opt(a.postcode), int64_t(is_default), pos, org_path, now, *a.id}));
      kept.insert(*a.id);
    } else {
      auto row = TRY(c.one("INSERT INTO customer_addresses (customer_id, org_path, label, province_code, city_code, "
                           "county_code, division_name, detail, detail_norm, search_norm, postcode, is_default, "
                           "sort_order, version, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,1,?,?) "
                           "RETURNING id",
                           {customer_id, org_path, opt(a.label), opt(div.province), opt(div.city), opt(div.county),
                            div.full_name, a.detail, detail_norm, search_norm, opt(a.postcode), int64_t(is_default), pos, now, now}));
      kept.insert(row->i(0));
    }
    ++pos;
  }
  for (int64_t id : existing)
    if (!kept.count(id)) TRY(c.exec("DELETE FROM customer_addresses WHERE id = ?", {id}));
  // The first address is the default when none is marked.
  if (!default_seen && !in.empty())
    TRY(c.exec("UPDATE customer_addresses SET is_default = 1 WHERE customer_id = ? AND sort_order = 0", {customer_id}));
  return {};
}

// A parent (national account) must be reachable, top-level and an organisation.
Result<void> check_parent(Conn& c, const http::Principal& who, std::optional<int64_t> parent_id,
                          std::optional<int64_t> self_id) {
  if (!parent_id) return {};
  auto f = "parent_id";
  if (self_id && *parent_id == *self_id) return Error::invalid("a customer cannot be its own parent", f);
  auto row = TRY(c.one("SELECT org_path, parent_id, kind FROM customers WHERE id = ?", {*parent_id}));
  if (!row || !who.reaches(row->s(0)))
    return Error::invalid("parent_id " + std::to_string(*parent_id) + " is not a customer you can see", f);
  if (!row->null(1))
    return Error::invalid("parent_id " + std::to_string(*parent_id) + " is itself a site; accounts have two levels", f);
  if (row->s(2) != "organisation") return Error::invalid("a national account (parent) must be an organisation", f);
  if (self_id) {
    auto sites = TRY(c.one("SELECT id FROM customers WHERE parent_id = ? LIMIT 1", {*self_id}));
    if (sites) return Error::invalid("this customer has sites of its own and cannot become a site", f);
  }
  return {};
}

Result<void> check_code(Conn& c, const std::optional<std::string>& code, std::optional<int64_t> self_id) {
  if (!code || code->empty()) return {};
  if (!valid_code(*code)) return Error::invalid("code may hold letters, digits, '.', '-' and '_' only (1-40)", "code");
  auto row = TRY(c.one("SELECT id FROM customers WHERE code = ?", {*code}));
  if (row && (!self_id || row->i(0) != *self_id)) return Error::conflict("customer code " + *code + " is taken", "code");
  return {};
}

// Existing customers (in scope) that look like the new one.
Result<json> find_duplicates(Conn& c, const http::Principal& who, const json& candidate) {
  DuplicateKeys mine = keys_of(candidate);
  std::set<int64_t> ids;
  if (!mine.phones.empty()) {
    store::Params ps(mine.phones.begin(), mine.phones.end());
    auto rows = TRY(c.query("SELECT DISTINCT customer_id FROM customer_phones WHERE phone_norm IN " + in_list(ps.size()) +
                                " LIMIT 50", ps));
    for (const auto& r : rows) ids.insert(r.i(0));
  }
  store::Params ps{mine.name_norm};
  for (auto& a : mine.addresses)
    if (!a.detail_norm.empty()) ps.push_back(a.detail_norm);
  if (ps.size() > 1 && !mine.name_norm.empty()) {
    auto rows = TRY(c.query("SELECT DISTINCT c.id FROM customers c JOIN customer_addresses a ON a.customer_id = c.id "
                            "WHERE c.name_norm = ? AND a.detail_norm IN " + in_list(ps.size() - 1) + " LIMIT 50", ps));
    for (const auto& r : rows) ids.insert(r.i(0));
  }
  json out = json::array();
  for (int64_t id : ids) {
    auto j = TRY(load(c, id));
    if (!j || !who.reaches((*j)["org_path"].get<std::string>())) continue;
    auto reasons = duplicate_reasons(mine, keys_of(*j));
    if (reasons.empty()) continue;
    json d{{"id", id}, {"code", (*j)["code"]}, {"name", (*j)["name"]}, {"kind", (*j)["kind"]}, {"type", (*j)["type"]},
           {"tier", (*j)["tier"]}, {"org_unit", (*j)["org_unit"]}, {"reasons", reasons}, {"phones", json::array()},
           {"address", nullptr}};
    for (auto& p : (*j)["phones"]) d["phones"].push_back(p["normalized"]);
    for (auto& ct : (*j)["contacts"])
      for (auto& p : ct["phones"]) d["phones"].push_back(p["normalized"]);
    if (!(*j)["addresses"].empty()) d["address"] = (*j)["addresses"][0]["full_address"];
    out.push_back(std::move(d));
    if (out.size() >= 10) break;
  }
  return out;
}

// Children carry the customer's org_path (for scoped reads by other modules).
Result<void> move_children(Conn& c, int64_t id, const std::string& org_path) {
  TRY(c.exec("UPDATE customer_contacts SET org_path = ? WHERE customer_id = ?", {org_path, id}));
  TRY(c.exec("UPDATE customer_addresses SET org_path = ? WHERE customer_id = ?", {org_path, id}));
  TRY(c.exec("UPDATE customer_purchases SET org_path = ? WHERE customer_id = ?", {org_path, id}));
  return {};
}

json audit_entry_json(const store::Row& r) {  // id, at, username, action, before_json, after_json
  return json{{"id", r.i(0)},
              {"at", iso_utc(r.i(1))},
              {"username", r.s(2)},
              {"action", r.s(3)},
              {"before", r.null(4) ? json(nullptr) : json::parse(r.s(4), nullptr, false)},
              {"after", r.null(5) ? json(nullptr) : json::parse(r.s(5), nullptr, false)}};
}

Result<json> history(Conn& c, int64_t id, int64_t limit) {
  auto rows = TRY(c.query("SELECT id, at, username, action, before_json, after_json FROM audit_log "
                          "WHERE entity = 'customer' AND entity_id = ? ORDER BY id DESC LIMIT ?", {id, limit}));
  json out = json::array();
  for (const auto& r : rows) out.push_back(audit_entry_json(r));
  return out;
}

// The tier counts of the caller's scope.
Result<json> tier_counts(Conn& c, const std::string& scope) {
  auto rows = TRY(c.query("SELECT tier, COUNT(*) FROM customers WHERE org_path LIKE ? GROUP BY tier", {scope + "%"}));
  json out{{"vip", 0}, {"key", 0}, {"small", 0}};
  for (const auto& r : rows) out[r.s(0)] = r.i(1);
  return out;
}

// ---- routes -----------------------------------------------------------------

Result<std::string> default_area(const Input& in) {
  auto a = TRY(in.opt_str("default_area_code", 5));
  if (!a || a->empty()) return std::string();
  auto n = normalize_area_code(*a);
  if (!n) return Error::invalid("default_area_code must be an area code such as 021 or 0531", "default_area_code");
  return *n;
}

void customer_routes(http::Router& r, api::Platform& p) {
  r.get("/api/v1/customers", [&p](Request& req) {
    return api::read(p, [&](Conn& c) -> Result<Response> {
      auto pg = TRY(api::page(req));
      const auto& who = *req.principal;
      std::string sql = std::string("SELECT ") + kCols + kFrom + " WHERE c.org_path LIKE ? AND c.id > ?";
      store::Params params{who.org_path + "%", pg.after_id};
      auto add_phone = [&](const std::string& q, bool exact_only) {
        auto norm = normalize_phone(q);
        std::string digits;
        for (char ch : q)
          if (ch >= '0' && ch <= '9') digits.push_back(ch);
        if (norm) {
          sql += "c.id IN (SELECT customer_id FROM customer_phones WHERE phone_norm = ?)";
          params.push_back(*norm);
        } else if (!exact_only && digits.size() >= 4) {
          sql += "c.id IN (SELECT customer_id FROM customer_phones WHERE instr(phone_norm, ?) > 0)";
          params.push_back(digits);
        } else {
          sql += "1 = 0";
        }
      };
      if (auto q = req.q("q"); q && !q->empty()) {
        if (q->size() > 100) return Error::invalid("q is too long", "q");
        std::string norm = normalize_text(*q);
        sql += " AND (c.code = ? OR ";
        params.push_back(*q);
        add_phone(*q, false);
        if (!norm.empty()) {
          sql += " OR instr(c.name_norm, ?) > 0 OR c.id IN (SELECT customer_id FROM customer_addresses "
                 "WHERE instr(search_norm, ?) > 0)";
          params.push_back(norm);
          params.push_back(norm);
        }
        auto serial_ids = TRY(find_by_serial(c, *q));
        for (int64_t id : serial_ids) {
          sql += " OR c.id = ?";
          params.push_back(id);
        }
        sql += ")";
      }
      if (auto name = req.q("name"); name && !name->empty()) {
        sql += " AND instr(c.name_norm, ?) > 0";
        params.push_back(normalize_text(*name));
      }
      if (auto ph = req.q("phone"); ph && !ph->empty()) {
        sql += " AND ";
        add_phone(*ph, false);
      }
      if (auto addr = req.q("address"); addr && !addr->empty()) {
        sql += " AND c.id IN (SELECT customer_id FROM customer_addresses WHERE instr(search_norm, ?) > 0)";
        params.push_back(normalize_text(*addr));
      }
      if (auto serial = req.q("serial"); serial && !serial->empty()) {
        auto ids = TRY(find_by_serial(c, *serial));
        sql += " AND c.id IN " + (ids.empty() ? std::string("(0)") : in_list(ids.size()));
        for (int64_t id : ids) params.push_back(id);
      }
      struct Enum { const char* name; const std::vector<std::string>* allowed; };
      for (Enum e : {Enum{"kind", &kKinds}, Enum{"type", &kTypes}, Enum{"tier", &kTiers}}) {
        if (auto v = req.q(e.name); v && !v->empty()) {
          if (std::find(e.allowed->begin(), e.allowed->end(), *v) == e.allowed->end())
            return Error::invalid(std::string(e.name) + " is not one of the allowed values", e.name);
          sql += std::string(" AND c.") + e.name + " = ?";
          params.push_back(*v);
        }
      }
      if (auto v = TRY(api::query_id(req, "parent_id"))) {
        sql += " AND c.parent_id = ?";
        params.push_back(*v);
      }
      if (auto top = req.q("top_level"); top && (*top == "1" || *top == "true")) sql += " AND c.parent_id IS NULL";
      sql += " ORDER BY c.id LIMIT ?";
      params.push_back(pg.limit + 1);
      auto rows = TRY(c.query(sql, params));
      json items = json::array();
      for (const auto& row : rows) items.push_back(row_json(row));
      TRY_VOID(attach_details(c, items));
      return Response::make_json(api::page_json(std::move(items), pg));
    });
  }, {.summary = "Search customers of the caller's scope: q (name, code, phone, address, serial), name, phone, "
                 "address, serial, kind, type, tier, parent_id, top_level",
      .tag = "customers", .permission = "customer.read",
      .query_params = {"limit", "cursor", "q", "name", "phone", "address", "serial", "kind", "type", "tier",
                       "parent_id", "top_level"}});

  r.get("/api/v1/customers/{id}", [&p](Request& req) {
    return api::read(p, [&](Conn& c) -> Result<Response> {
      int64_t id = TRY(api::path_id(req));
      return Response::make_json(TRY(load_in_scope(c, *req.principal, id)));
    });
  }, {.summary = "Get a customer with contacts, phones and addresses", .tag = "customers",
      .permission = "customer.read"});

  r.post("/api/v1/customers", [&p](Request& req) {
    auto body = req.json_body();
    if (!body) return Response::error(body.error());
    json duplicates;  // set when the create is refused as a likely duplicate
    Response resp = api::write(p, req, [&](api::WriteTx& tx) -> Result<Response> {
      duplicates = nullptr;
      const auto& who = *tx.who();
      Input in(*body);
      std::string name = TRY(in.str("name", 100));
      std::string kind = TRY(in.one_of("kind", kKinds));
      std::string type = TRY(in.one_of("type", kTypes));
      auto code = TRY(in.opt_str("code", 40));
      auto parent_id = TRY(in.opt_integer("parent_id", 1));
      auto unit_id = TRY(in.opt_integer("org_unit_id", 1));
      auto email = TRY(read_email(in, "email"));
      auto notes = TRY(in.opt_str("notes", 2000));
      bool confirm = TRY(in.opt_boolean("confirm_duplicate")).value_or(false);
      for (const char* computed : {"tier", "purchase_total_fen"})
        if (in.has(computed))
          return Error::invalid(std::string(computed) + " is computed from purchases; record a purchase instead", computed);
      std::string area = TRY(default_area(in));
      auto phones = TRY(read_phones(*body, "", area));
      std::vector<ContactIn> contacts;
      if (in.has("contacts")) contacts = TRY(read_contacts(*body, area));
      std::vector<AddressIn> addresses;
      if (in.has("addresses")) addresses = TRY(read_addresses(*body));

      int64_t org_unit = unit_id.value_or(who.org_unit_id);
      auto unit = org::unit_in_scope(tx.db, who, org_unit);
      if (!unit)
        return Error::invalid("org_unit_id " + std::to_string(org_unit) + " is not an org unit you manage", "org_unit_id");
      TRY_VOID(check_parent(tx.db, who, parent_id, std::nullopt));
      TRY_VOID(check_code(tx.db, code, std::nullopt));

      int64_t now = now_ms();
      auto th = TRY(tier_thresholds(tx.db));
      auto row = TRY(tx.db.one(
          "INSERT INTO customers (org_path, org_unit_id, parent_id, code, name, name_norm, kind, type, tier, "
          "purchase_total_fen, email, notes, active, version, created_by, created_at, updated_at) "
          "VALUES (?,?,?,?,?,?,?,?,?,0,?,?,1,1,?,?,?) RETURNING id",
          {unit->path, org_unit, parent_id ? store::Value(*parent_id) : store::Value(), opt(code), name,
           normalize_text(name), kind, type, std::string(tier_for(0, th)), opt(email), opt(notes), who.user_id, now, now}));
      int64_t id = row->i(0);
      TRY_VOID(insert_phones(tx.db, id, std::nullopt, phones));
      TRY_VOID(sync_contacts(tx.db, id, unit->path, contacts));
      TRY_VOID(sync_addresses(tx.db, id, unit->path, addresses));
      json rec = *TRY(load(tx.db, id));
      if (!confirm) {
        // Compare with the customers that existed before this one.
        json dups = TRY(find_duplicates(tx.db, who, rec));
        for (auto it = dups.begin(); it != dups.end();)
          it = (*it)["id"] == id ? dups.erase(it) : it + 1;
        if (!dups.empty()) {
          // Nothing of this attempt may stay: the error rolls the insert back.
          duplicates = std::move(dups);
          return Error::conflict("possible duplicate customer; send confirm_duplicate: true to create it anyway",
                                 "confirm_duplicate");
        }
      }
      TRY_VOID(tx.audit("customer", id, "create", nullptr, rec, unit->path));
      return Response::make_json(rec, 201);
    });
    if (resp.status == 409 && duplicates.is_array()) {
      json j = json::parse(resp.body, nullptr, false);
      if (!j.is_object()) j = json::object();
      j["duplicates"] = duplicates;
      return Response::make_json(j, 409);
    }
    return resp;
  }, {.summary = "Create a customer (409 with `duplicates` when the phone or name+address matches an existing "
                 "customer, unless confirm_duplicate is true). phones: strings or {number, label}; "
                 "contacts: [{name, title, email, is_primary, phones}]; addresses: [{label, province_code, "
                 "city_code, county_code, detail, postcode, is_default}]",
      .tag = "customers", .permission = "customer.write",
      .request_schema = api::schema_object({{"name", "string"}, {"kind", "string"}, {"type", "string"},
                                            {"code", "string"}, {"parent_id", "integer"}, {"org_unit_id", "integer"},
                                            {"email", "string"}, {"notes", "string"}, {"phones", "array"},
                                            {"contacts", "array"}, {"addresses", "array"},
                                            {"default_area_code", "string"}, {"confirm_duplicate", "boolean"}},
                                           {"name", "kind", "type"})});

  r.patch("/api/v1/customers/{id}", [&p](Request& req) {
    auto body = req.json_body();
    if (!body) return Response::error(body.error());
    return api::write(p, req, [&](api::WriteTx& tx) -> Result<Response> {
      const auto& who = *tx.who();
      int64_t id = TRY(api::path_id(req));
      int64_t version = TRY(api::expected_version(req, *body));
      json before = TRY(load_in_scope(tx.db, who, id));
      Input in(*body);
      for (const char* computed : {"tier", "purchase_total_fen"})
        if (in.has(computed))
          return Error::invalid(std::string(computed) + " is computed from purchases; record a purchase instead", computed);
      auto keep = [&](const char* f) -> std::optional<std::string> {
        return before[f].is_null() ? std::optional<std::string>() : before[f].get<std::string>();
      };
      std::string name = in.has("name") ? TRY(in.str("name", 100)) : before["name"].get<std::string>();
      std::string kind = in.has("kind") ? TRY(in.one_of("kind", kKinds)) : before["kind"].get<std::string>();
      std::string type = in.has("type") ? TRY(in.one_of("type", kTypes)) : before["type"].get<std::string>();
      auto code = body->contains("code") ? TRY(in.opt_str("code", 40)) : keep("code");
      auto email = body->contains("email") ? TRY(read_email(in, "email")) : keep("email");
      auto notes = body->contains("notes") ? TRY(in.opt_str("notes", 2000)) : keep("notes");
      bool active = in.has("active") ? TRY(in.boolean("active")) : before["active"].get<bool>();
      std::optional<int64_t> parent_id =
          before["parent_id"].is_null() ? std::optional<int64_t>() : before["parent_id"].get<int64_t>();
      if (body->contains("parent_id")) parent_id = TRY(in.opt_integer("parent_id", 1));
      int64_t unit_id = in.has("org_unit_id") ? TRY(in.integer("org_unit_id", 1)) : before["org_unit"]["id"].get<int64_t>();
      std::string area = TRY(default_area(in));
      auto unit = org::unit_in_scope(tx.db, who, unit_id);
      if (!unit)
        return Error::invalid("org_unit_id " + std::to_string(unit_id) + " is not an org unit you manage", "org_unit_id");
      if (kind != "organisation" && before["kind"] == "organisation") {
        auto sites = TRY(tx.db.one("SELECT id FROM customers WHERE parent_id = ? LIMIT 1", {id}));
        if (sites) return Error::invalid("a customer with sites must stay an organisation", "kind");
      }
      TRY_VOID(check_parent(tx.db, who, parent_id, id));
      TRY_VOID(check_code(tx.db, code, id));
      auto n = TRY(tx.db.exec(
          "UPDATE customers SET name = ?, name_norm = ?, kind = ?, type = ?, code = ?, email = ?, notes = ?, active = ?, "
          "parent_id = ?, org_unit_id = ?, org_path = ?, version = version + 1, updated_at = ? WHERE id = ? AND version = ?",
          {name, normalize_text(name), kind, type, opt(code), opt(email), opt(notes), int64_t(active),
           parent_id ? store::Value(*parent_id) : store::Value(), unit_id, unit->path, now_ms(), id, version}));
      if (n == 0)
        return Error::conflict("customer " + std::to_string(id) + " was changed by someone else (version " +
                                   std::to_string(before["version"].get<int64_t>()) + ")", "version");
      if (unit->path != before["org_path"].get<std::string>()) TRY_VOID(move_children(tx.db, id, unit->path));
      if (body->contains("phones")) {
        auto phones = TRY(read_phones(*body, "", area));
        TRY_VOID(replace_phones(tx.db, id, phones));
      }
      if (body->contains("contacts")) {
        auto contacts = (*body)["contacts"].is_null() ? std::vector<ContactIn>() : TRY(read_contacts(*body, area));
        TRY_VOID(sync_contacts(tx.db, id, unit->path, contacts));
      }
      if (body->contains("addresses")) {
        auto addresses = (*body)["addresses"].is_null() ? std::vector<AddressIn>() : TRY(read_addresses(*body));
        TRY_VOID(sync_addresses(tx.db, id, unit->path, addresses));
      }
      json after = *TRY(load(tx.db, id));
      TRY_VOID(tx.audit("customer", id, "update", before, after, unit->path));
      return Response::make_json(after);
    });
  }, {.summary = "Update a customer (optimistic: send the version you read). phones / contacts / addresses, when "
                 "present, replace the lists (items keep their id to be updated in place)",
      .tag = "customers", .permission = "customer.write",
      .request_schema = api::schema_object({{"version", "integer"}, {"name", "string"}, {"kind", "string"},
                                            {"type", "string"}, {"code", "string"}, {"parent_id", "integer"},
                                            {"org_unit_id", "integer"}, {"email", "string"}, {"notes", "string"},
                                            {"active", "boolean"}, {"phones", "array"}, {"contacts", "array"},
                                            {"addresses", "array"}, {"default_area_code", "string"}},
                                           {"version"})});

  r.get("/api/v1/customers/{id}/360", [&p](Request& req) {
    return api::read(p, [&](Conn& c) -> Result<Response> {
      const auto& who = *req.principal;
      int64_t id = TRY(api::path_id(req));
      json cust = TRY(load_in_scope(c, who, id));
      json parent = nullptr;
      if (cust["parent_id"].is_number()) {
        auto pj = TRY(load(c, cust["parent_id"].get<int64_t>()));
        if (pj && who.reaches((*pj)["org_path"].get<std::string>()))
          parent = json{{"id", (*pj)["id"]}, {"name", (*pj)["name"]}, {"code", (*pj)["code"]}, {"tier", (*pj)["tier"]}};
      }
      auto site_rows = TRY(c.query(std::string("SELECT ") + kCols + kFrom +
                                       " WHERE c.parent_id = ? AND c.org_path LIKE ? ORDER BY c.id LIMIT 500",
                                   {id, who.org_path + "%"}));
      json sites = json::array();
      for (const auto& row : site_rows) sites.push_back(row_json(row));
      TRY_VOID(attach_details(c, sites));
      auto purchases = TRY(c.query("SELECT id, amount_fen, source, reference, purchased_on, note, created_at "
                                   "FROM customer_purchases WHERE customer_id = ? ORDER BY id DESC LIMIT 100", {id}));
      json pj = json::array();
      for (const auto& r : purchases)
        pj.push_back(json{{"id", r.i(0)}, {"amount_fen", r.i(1)}, {"source", r.s(2)}, {"reference", jopt(r, 3)},
                          {"purchased_on", jopt(r, 4)}, {"note", jopt(r, 5)}, {"created_at", iso_utc(r.i(6))}});
      json assets = TRY(assets_json(c, who, id));
      json contracts = TRY(contracts_json(c, who, id));
      json hist = TRY(history(c, id, 200));
      auto orders = TRY(orders_of(c, who, id, false, 200));
      json out{{"customer", cust},   {"parent", parent},       {"sites", sites},          {"assets", assets},
               {"contracts", contracts}, {"orders", orders.items}, {"purchases", pj}, {"history", hist},
               {"stats", {{"site_count", sites.size()}, {"asset_count", assets.size()},
                          {"contract_count", contracts.size()}, {"open_orders", orders.open_count},
                          {"purchase_total_fen", cust["purchase_total_fen"]}}}};
      return Response::make_json(out);
    });
  }, {.summary = "Customer 360: the customer with contacts and addresses, parent and sites, assets, contracts, "
                 "orders, purchases and change history",
      .tag = "customers", .permission = "customer.read"});

  r.get("/api/v1/customers/{id}/purchases", [&p](Request& req) {
    return api::read(p, [&](Conn& c) -> Result<Response> {
      int64_t id = TRY(api::path_id(req));
      TRY(customer_in_scope(c, *req.principal, id));
      auto pg = TRY(api::page(req));
      auto rows = TRY(c.query("SELECT id, amount_fen, source, reference, purchased_on, note, created_at FROM "
                              "customer_purchases WHERE customer_id = ? AND id > ? ORDER BY id LIMIT ?",
                              {id, pg.after_id, pg.limit + 1}));
      json items = json::array();
      for (const auto& r : rows)
        items.push_back(json{{"id", r.i(0)}, {"amount_fen", r.i(1)}, {"source", r.s(2)}, {"reference", jopt(r, 3)},
                             {"purchased_on", jopt(r, 4)}, {"note", jopt(r, 5)}, {"created_at", iso_utc(r.i(6))}});
      return Response::make_json(api::page_json(std::move(items), pg));
    });
  }, {.summary = "A customer's purchase history", .tag = "customers", .permission = "customer.read",
      .query_params = {"limit", "cursor"}});

  r.post("/api/v1/customers/{id}/purchases", [&p](Request& req) {
    auto body = req.json_body();
    if (!body) return Response::error(body.error());
    return api::write(p, req, [&](api::WriteTx& tx) -> Result<Response> {
      int64_t id = TRY(api::path_id(req));
      TRY(customer_in_scope(tx.db, *tx.who(), id));
      Input in(*body);
      Purchase pu;
      pu.amount_fen = TRY(in.integer("amount_fen", -100'000'000'000'000, 100'000'000'000'000));
      if (pu.amount_fen == 0) return Error::invalid("amount_fen must not be zero", "amount_fen");
      pu.reference = TRY(in.opt_str("reference", 60));
      pu.purchased_on = TRY(in.opt_str("purchased_on", 10));
      if (pu.purchased_on && !pu.purchased_on->empty() && !valid_date(*pu.purchased_on))
        return Error::invalid("purchased_on must be a date YYYY-MM-DD", "purchased_on");
      pu.note = TRY(in.opt_str("note", 500));
      pu.created_by = tx.who()->user_id;
      auto res = TRY(record_purchase(tx, id, pu));
      return Response::make_json(json{{"purchase_id", res.purchase_id},
                                      {"customer_id", id},
                                      {"amount_fen", pu.amount_fen},
                                      {"purchase_total_fen", res.total_fen},
                                      {"tier", res.tier},
                                      {"previous_tier", res.previous_tier}},
                                 201);
    });
  }, {.summary = "Record a purchase (manual entry; negative for a return): updates the total and the tier",
      .tag = "customers", .permission = "customer.write",
      .request_schema = api::schema_object({{"amount_fen", "integer"}, {"reference", "string"},
                                            {"purchased_on", "string"}, {"note", "string"}},
                                           {"amount_fen"})});

  r.get("/api/v1/customer-tiers", [&p](Request& req) {
    return api::read(p, [&](Conn& c) -> Result<Response> {
      auto row = TRY(c.one("SELECT vip_min_fen, key_min_fen, version, updated_at FROM customer_tier_thresholds WHERE id = 1"));
      if (!row) return Error::internal("tier thresholds missing");
      auto counts = TRY(tier_counts(c, req.principal->org_path));  // never TRY inside braces: it would leak
      return Response::make_json(json{{"vip_min_fen", row->i(0)}, {"key_min_fen", row->i(1)}, {"version", row->i(2)},
                                      {"updated_at", iso_utc(row->i(3))}, {"counts", std::move(counts)}});
    });
  }, {.summary = "Tier thresholds (VIP / key / small by purchase total) and the tier counts of the caller's scope",
      .tag = "customers", .permission = "customer.read"});

  r.put("/api/v1/customer-tiers", [&p](Request& req) {
    auto body = req.json_body();
    if (!body) return Response::error(body.error());
    return api::write(p, req, [&](api::WriteTx& tx) -> Result<Response> {
      Input in(*body);
      TierThresholds t;
      t.vip_min_fen = TRY(in.integer("vip_min_fen", 0, 100'000'000'000'000));
      t.key_min_fen = TRY(in.integer("key_min_fen", 0, 100'000'000'000'000));
      TRY_VOID(validate_thresholds(t));
      int64_t version = TRY(api::expected_version(req, *body));
      auto before_row = TRY(tx.db.one("SELECT vip_min_fen, key_min_fen, version FROM customer_tier_thresholds WHERE id = 1"));
      json before{{"vip_min_fen", before_row->i(0)}, {"key_min_fen", before_row->i(1)}, {"version", before_row->i(2)}};
      auto n = TRY(tx.db.exec("UPDATE customer_tier_thresholds SET vip_min_fen = ?, key_min_fen = ?, "
                              "version = version + 1, updated_at = ? WHERE id = 1 AND version = ?",
                              {t.vip_min_fen, t.key_min_fen, now_ms(), version}));
      if (n == 0) return Error::conflict("the tier thresholds were changed by someone else", "version");
      // Every customer, in one statement (not only the caller's scope: tiers are global).
      const char* tier_expr = "CASE WHEN purchase_total_fen >= ? THEN 'vip' WHEN purchase_total_fen >= ? THEN 'key' ELSE 'small' END";
      int64_t changed = TRY(tx.db.exec(std::string("UPDATE customers SET tier = ") + tier_expr + ", updated_at = ? WHERE tier <> " + tier_expr,
                                       {t.vip_min_fen, t.key_min_fen, now_ms(), t.vip_min_fen, t.key_min_fen}));
      json after{{"vip_min_fen", t.vip_min_fen}, {"key_min_fen", t.key_min_fen}, {"version", version + 1},
                 {"customers_retiered", changed}};
      TRY_VOID(tx.audit("customer_tiers", 1, "update", before, after, "/"));
      json out = after;
      out["counts"] = TRY(tier_counts(tx.db, tx.who()->org_path));
      return Response::make_json(out);
    });
  }, {.summary = "Set the tier thresholds (optimistic: send the version you read); recomputes every customer's tier",
      .tag = "customers", .permission = "customer.tiers",
      .request_schema = api::schema_object({{"vip_min_fen", "integer"}, {"key_min_fen", "integer"}, {"version", "integer"}},
                                           {"vip_min_fen", "key_min_fen", "version"})});
}

void cti_routes(http::Router& r, api::Platform& p) {
  r.get("/api/v1/cti/lookup", [&p](Request& req) {
    return api::read(p, [&](Conn& c) -> Result<Response> {
      const auto& who = *req.principal;
      auto raw = req.q("phone");
      if (!raw || raw->empty()) return Error::invalid("phone is required", "phone");
      std::string area;
      if (auto a = req.q("area"); a && !a->empty()) {
        auto n = normalize_area_code(*a);
        if (!n) return Error::invalid("area must be an area code such as 021", "area");
        area = *n;
      }
      auto ph = parse_phone(*raw, area);
      if (!ph) return Error::invalid("\"" + raw->substr(0, 60) + "\" is not a telephone number", "phone");
      // One index probe on customer_phones(phone_norm).
      auto hits = TRY(c.query("SELECT p.customer_id, p.contact_id, c.org_path FROM customer_phones p "
                              "JOIN customers c ON c.id = p.customer_id WHERE p.phone_norm = ? ORDER BY p.customer_id LIMIT 50",
                              {ph->norm}));
      std::map<int64_t, std::optional<int64_t>> matched;  // customer -> contact that has the number
      for (const auto& h : hits) {
        if (!who.reaches(h.s(2))) continue;
        auto& slot = matched[h.i(0)];
        if (!h.null(1) && !slot) slot = h.i(1);
        if (matched.size() >= 10) break;
      }
      json matches = json::array();
      for (auto& [cid, contact_id] : matched) {
        json cust = *TRY(load(c, cid));
        json contact = nullptr;
        if (contact_id)
          for (auto& ct : cust["contacts"])
            if (ct["id"] == *contact_id) contact = json{{"id", ct["id"]}, {"name", ct["name"]}, {"title", ct["title"]}};
        json parent = nullptr;
        if (cust["parent_id"].is_number()) {
          auto pr = TRY(c.one("SELECT id, name, org_path, tier FROM customers WHERE id = ?",
                              {cust["parent_id"].get<int64_t>()}));
          if (pr && who.reaches(pr->s(2))) parent = json{{"id", pr->i(0)}, {"name", pr->s(1)}, {"tier", pr->s(3)}};
        }
        auto assets = TRY(assets_json(c, who, cid, 20));
        auto open_orders = TRY(orders_of(c, who, cid, true, 10)).items;
        auto last_contacts = TRY(history(c, cid, 5));
        matches.push_back(json{{"customer", cust},
                               {"matched_contact", contact},
                               {"parent", parent},
                               {"assets", std::move(assets)},
                               {"open_orders", std::move(open_orders)},
                               {"last_contacts", std::move(last_contacts)}});
      }
      return Response::make_json(json{{"phone", {{"input", *raw}, {"normalized", ph->norm}, {"ext", ph->ext},
                                                 {"kind", kind_name(ph->kind)}, {"area", ph->area}}},
                                      {"count", matches.size()},
                                      {"matches", matches}});
    });
  }, {.summary = "Screen pop: the customers (in scope) with this caller number, written any common way "
                 "(+86 138 0013 8000, 021-5030-1234 ext. 8, ...; area= completes a local number), with assets, "
                 "open orders and last contacts",
      .tag = "customers", .permission = "customer.read", .query_params = {"phone", "area"}});
}

}  // namespace

// ---- public functions -----------------------------------------------------------

void set_orders_of_customer(OrdersOfCustomer fn) { orders_provider() = std::move(fn); }

Result<TierThresholds> tier_thresholds(Conn& c) {
  auto row = TRY(c.one("SELECT vip_min_fen, key_min_fen FROM customer_tier_thresholds WHERE id = 1"));
  TierThresholds t;
  if (row) {
    t.vip_min_fen = row->i(0);
    t.key_min_fen = row->i(1);
  }
  return t;
}

Result<PurchaseResult> record_purchase(Conn& c, int64_t customer_id, int64_t amount_fen) {
  Purchase p;
  p.amount_fen = amount_fen;
  p.source = "installbase";
  return record_purchase(c, customer_id, p);
}

Result<PurchaseResult> record_purchase(Conn& c, int64_t customer_id, const Purchase& p) {
  auto row = TRY(c.one("SELECT purchase_total_fen, tier, org_path FROM customers WHERE id = ?", {customer_id}));
  if (!row) return api::not_found("customer", customer_id);
  PurchaseResult res;
  res.previous_tier = row->s(1);
  res.total_fen = row->i(0) + p.amount_fen;
  if (res.total_fen < 0)
    return Error::invalid("a return larger than the customer's purchase total (" + std::to_string(row->i(0)) + " fen)",
                          "amount_fen");
  auto th = TRY(tier_thresholds(c));
  res.tier = tier_for(res.total_fen, th);
  int64_t now = now_ms();
  auto ins = TRY(c.one("INSERT INTO customer_purchases (customer_id, org_path, amount_fen, source, reference, "
                       "purchased_on, note, created_by, version, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,1,?,?) "
                       "RETURNING id",
                       {customer_id, row->s(2), p.amount_fen, p.source, opt(p.reference), opt(p.purchased_on),
                        opt(p.note), p.created_by ? store::Value(*p.created_by) : store::Value(), now, now}));
  res.purchase_id = ins->i(0);
  // Relative update: concurrent purchases on PostgreSQL add up instead of overwriting.
  TRY(c.exec("UPDATE customers SET purchase_total_fen = purchase_total_fen + ?, updated_at = ? WHERE id = ?",
             {p.amount_fen, now, customer_id}));
  auto after = TRY(c.one("SELECT purchase_total_fen FROM customers WHERE id = ?", {customer_id}));
  res.total_fen = after->i(0);
  res.tier = tier_for(res.total_fen, th);
  TRY(c.exec("UPDATE customers SET tier = ? WHERE id = ?", {res.tier, customer_id}));
  return res;
}

// record_purchases: bulk.cpp (multi-row statements).

Result<PurchaseResult> record_purchase(api::WriteTx& tx, int64_t customer_id, const Purchase& p) {
  auto row = TRY(tx.db.one("SELECT org_path FROM customers WHERE id = ?", {customer_id}));
  if (!row) return api::not_found("customer", customer_id);
  auto res = TRY(record_purchase(tx.db, customer_id, p));
  json before{{"purchase_total_fen", res.total_fen - p.amount_fen}, {"tier", res.previous_tier}};
  json after{{"purchase_total_fen", res.total_fen}, {"tier", res.tier}, {"purchase_id", res.purchase_id},
             {"amount_fen", p.amount_fen}, {"source", p.source}};
  if (p.reference) after["reference"] = *p.reference;
  TRY_VOID(tx.audit("customer", customer_id, "purchase", before, after, row->s(0)));
  return res;
}

Result<std::optional<CustomerRef>> find_ref(Conn& c, int64_t id) {
  auto row = TRY(c.one("SELECT id, org_path, name, tier, type, parent_id FROM customers WHERE id = ?", {id}));
  if (!row) return std::optional<CustomerRef>();
  return std::optional<CustomerRef>(CustomerRef{row->i(0), row->s(1), row->s(2), row->s(3), row->s(4), row->oi(5)});
}

Result<CustomerRef> customer_in_scope(Conn& c, const http::Principal& who, int64_t id) {
  auto ref = TRY(find_ref(c, id));
  if (!ref || !who.reaches(ref->org_path)) return api::not_found("customer", id);
  return std::move(*ref);
}

Result<std::vector<int64_t>> find_by_phone(Conn& c, const http::Principal& who, std::string_view raw,
                                           std::string_view default_area) {
  std::vector<int64_t> out;
  auto norm = normalize_phone(raw, default_area);
  if (!norm) return out;
  auto rows = TRY(c.query("SELECT DISTINCT p.customer_id, c.org_path FROM customer_phones p JOIN customers c "
                          "ON c.id = p.customer_id WHERE p.phone_norm = ? ORDER BY p.customer_id", {*norm}));
  for (const auto& r : rows)
    if (who.reaches(r.s(1))) out.push_back(r.i(0));
  return out;
}

// The owner of the asset with this serial (install base), in any scope: the
// caller filters customers by its own scope.
Result<std::vector<int64_t>> find_by_serial(Conn& c, const std::string& serial) {
  std::vector<int64_t> out;
  if (serial.empty() || serial.size() > 100) return out;
  auto asset = TRY(installbase::find_by_serial(c, serial));
  if (asset && asset->owner_customer_id) out.push_back(*asset->owner_customer_id);
  return out;
}

namespace {
struct DemoCustomer {
  const char* code;
  const char* name;
  const char* kind;
  const char* type;
  const char* unit;    // org unit code
  const char* parent;  // code of the national account, or ""
  std::vector<const char*> phones;
  const char* contact;        // "" for none
  const char* contact_title;
  std::vector<const char*> contact_phones;
  const char* email;
  const char* county;         // GB/T 2260
  const char* detail;
  const char* postcode;
  int64_t purchases_fen;
};
}  // namespace

Result<void> seed_demo(Conn& c, const std::map<std::string, int64_t>& unit_ids) {
  // The seed 003 customer (上海万力机械), individuals in Shanghai and Jinan, a
  // national account with two sites, a dealer and an agent.
  const std::vector<DemoCustomer> demo = {
      {"C-WANLI", "上海万力机械有限公司", "organisation", "direct", "BR-SH", "", {"021-50301234"}, "张云峰", "设备科长",
       {"13901888888", "021-50301234 转 8"}, "zhangyf@shwl.com", "310115", "金港路108号", "201206", 68'000'000},
      {"C-CRV", "华润万家超市（全国）", "organisation", "direct", "HQ", "", {"400-820-8888"}, "陈立", "设备采购总监",
       {"13911112222"}, "chenli@crv.example.cn", "440305", "科技南十二路18号", "518057", 120'000'000},
      {"C-CRV-JN", "华润万家 济南泉城路店", "organisation", "direct", "BR-JN", "C-CRV", {"0531-86061234"}, "孙店长", "店长",
       {"13705312233"}, "", "370102", "泉城路188号", "250011", 0},
      {"C-CRV-SH", "华润万家 上海徐汇店", "organisation", "direct", "SP-SH-XH", "C-CRV", {"021-64281234"}, "周店长", "店长",
       {"13601761234"}, "", "310104", "漕溪北路398号", "200030", 0},
      {"C-LINA", "李娜", "individual", "direct", "SP-JN-LX", "", {"13800138000"}, "", "", {}, "", "370102",
       "文化东路59号 3单元502", "250014", 899'900},
      {"C-WANGJG", "王建国", "individual", "indirect", "SP-SH-XH", "", {"139 1234 5678", "021-64870011"}, "", "", {}, "",
       "310104", "漕溪北路88弄5号1201", "200030", 6'200'000},
      {"C-PDJDC", "上海浦东家电城", "organisation", "dealer", "DL-SH-01", "", {"021-58881234"}, "林先生", "店主",
       {"13817776666"}, "", "310115", "张杨路1500号", "200120", 0},
      {"C-LUXIN", "山东鲁信机电代理有限公司", "organisation", "agent", "BR-JN", "", {"0531-88889999"}, "刘总", "总经理",
       {"15165001234"}, "", "370102", "经十路9777号", "250014", 0},
  };
  std::map<std::string, int64_t> ids;
  int64_t now = now_ms();
  for (const auto& d : demo) {
    auto uit = unit_ids.find(d.unit);
    if (uit == unit_ids.end()) continue;
    auto unit = TRY(c.one("SELECT path FROM org_units WHERE id = ?", {uit->second}));
    if (!unit) continue;
    std::string path = unit->s(0);
    std::optional<int64_t> parent;
    if (*d.parent && ids.count(d.parent)) parent = ids[d.parent];
    std::string name = d.name;
    auto row = TRY(c.one(
        "INSERT INTO customers (org_path, org_unit_id, parent_id, code, name, name_norm, kind, type, tier, "
        "purchase_total_fen, email, notes, active, version, created_at, updated_at) "
        "VALUES (?,?,?,?,?,?,?,?,'small',0,?,NULL,1,1,?,?) RETURNING id",
        {path, uit->second, parent ? store::Value(*parent) : store::Value(), std::string(d.code), name,
         normalize_text(name), std::string(d.kind), std::string(d.type),
         *d.email ? store::Value(std::string(d.email)) : store::Value(), now, now}));
    int64_t id = row->i(0);
    ids[d.code] = id;
    auto phones_of = [](const std::vector<const char*>& raw) {
      std::vector<PhoneIn> out;
      for (const char* r : raw)
        if (auto ph = parse_phone(r)) out.push_back(PhoneIn{r, *ph, std::nullopt});
      return out;
    };
    TRY_VOID(insert_phones(c, id, std::nullopt, phones_of(d.phones)));
    std::vector<ContactIn> contacts;
    if (*d.contact) {
      ContactIn ct;
      ct.name = d.contact;
      if (*d.contact_title) ct.title = std::string(d.contact_title);
      if (*d.email) ct.email = std::string(d.email);
      ct.is_primary = true;
      ct.phones = phones_of(d.contact_phones);
      contacts.push_back(std::move(ct));
    }
    TRY_VOID(sync_contacts(c, id, path, contacts));
    AddressIn a;
    a.county = std::string(d.county);
    a.detail = d.detail;
    a.postcode = std::string(d.postcode);
    a.is_default = true;
    TRY_VOID(sync_addresses(c, id, path, {a}));
    if (d.purchases_fen > 0) {
      Purchase pu;
      pu.amount_fen = d.purchases_fen;
      pu.source = "import";
      pu.note = "历史采购额（演示数据）";
      TRY(record_purchase(c, id, pu));
    }
  }
  return {};
}

Result<int64_t> insert_customer(Conn& c, const NewCustomer& n) {
  auto phones_of = [](const std::vector<std::string>& raw, std::string_view area) -> Result<std::vector<PhoneIn>> {
    std::vector<PhoneIn> out;
    for (const auto& r : raw) {
      auto ph = parse_phone(r, area);
      if (!ph) return Error::invalid("not a telephone number: " + r, "phones");
      out.push_back(PhoneIn{r, *ph, std::nullopt});
    }
    return out;
  };
  int64_t now = now_ms();
  auto row = TRY(c.one(
      "INSERT INTO customers (org_path, org_unit_id, parent_id, code, name, name_norm, kind, type, tier, "
      "purchase_total_fen, email, notes, active, version, created_at, updated_at) "
      "VALUES (?,?,?,?,?,?,?,?,'small',0,?,?,1,1,?,?) RETURNING id",
      {n.org_path, n.org_unit_id, n.parent_id ? store::Value(*n.parent_id) : store::Value(), opt(n.code), n.name,
       normalize_text(n.name), n.kind, n.type, opt(n.email), opt(n.notes), now, now}));
  int64_t id = row->i(0);
  TRY_VOID(insert_phones(c, id, std::nullopt, TRY(phones_of(n.phones, {}))));
  std::vector<ContactIn> contacts;
  for (const auto& k : n.contacts) {
    ContactIn ct;
    ct.name = k.name;
    ct.title = k.title;
    ct.is_primary = contacts.empty();
    ct.phones = TRY(phones_of(k.phones, {}));
    contacts.push_back(std::move(ct));
  }
  if (!contacts.empty()) TRY_VOID(sync_contacts(c, id, n.org_path, contacts));
  std::vector<AddressIn> addresses;
  for (const auto& a : n.addresses) {
    AddressIn ai;
    ai.county = a.county;
    ai.detail = a.detail;
    ai.postcode = a.postcode;
    ai.is_default = addresses.empty();
    addresses.push_back(std::move(ai));
  }
  if (!addresses.empty()) TRY_VOID(sync_addresses(c, id, n.org_path, addresses));
  return id;
}

api::Module module() {
  api::Module m;
  m.name = "customers";
  m.migrations = {{"customers", 1, "customers, contacts, phones, addresses, purchases, tiers", R"sql(
CREATE TABLE customers (
  id INTEGER PRIMARY KEY,
  org_path TEXT NOT NULL,
  org_unit_id INTEGER NOT NULL REFERENCES org_units(id),
  parent_id INTEGER REFERENCES customers(id),
  code TEXT UNIQUE,
  name TEXT NOT NULL,
  name_norm TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('individual','organisation')),
  type TEXT NOT NULL CHECK (type IN ('direct','indirect','dealer','agent')),
  tier TEXT NOT NULL DEFAULT 'small' CHECK (tier IN ('vip','key','small')),
  purchase_total_fen INTEGER NOT NULL DEFAULT 0,
  email TEXT,
  notes TEXT,
  active INTEGER NOT NULL DEFAULT 1,
  version INTEGER NOT NULL DEFAULT 1,
  created_by INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX customers_org_path ON customers(org_path);
CREATE INDEX customers_parent ON customers(parent_id);
CREATE INDEX customers_name_norm ON customers(name_norm);
CREATE INDEX customers_tier ON customers(tier);
CREATE TABLE customer_contacts (
  id INTEGER PRIMARY KEY,
  customer_id INTEGER NOT NULL REFERENCES customers(id),
  org_path TEXT NOT NULL,
  name TEXT NOT NULL,
  title TEXT,
  email TEXT,
  is_primary INTEGER NOT NULL DEFAULT 0,
  sort_order INTEGER NOT NULL DEFAULT 0,
  version INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX customer_contacts_customer ON customer_contacts(customer_id);
CREATE TABLE customer_phones (
  id INTEGER PRIMARY KEY,
  customer_id INTEGER NOT NULL REFERENCES customers(id),
  contact_id INTEGER REFERENCES customer_contacts(id),
  phone_norm TEXT NOT NULL,
  ext TEXT,
  kind TEXT NOT NULL,
  label TEXT,
  raw TEXT NOT NULL,
  sort_order INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX customer_phones_norm ON customer_phones(phone_norm);
CREATE INDEX customer_phones_customer ON customer_phones(customer_id);
CREATE TABLE customer_addresses (
  id INTEGER PRIMARY KEY,
  customer_id INTEGER NOT NULL REFERENCES customers(id),
  org_path TEXT NOT NULL,
  label TEXT,
  province_code TEXT REFERENCES divisions(code),
  city_code TEXT REFERENCES divisions(code),
  county_code TEXT REFERENCES divisions(code),
  division_name TEXT NOT NULL DEFAULT '',
  detail TEXT NOT NULL,
  detail_norm TEXT NOT NULL,
  search_norm TEXT NOT NULL DEFAULT '',
  postcode TEXT,
  is_default INTEGER NOT NULL DEFAULT 0,
  sort_order INTEGER NOT NULL DEFAULT 0,
  version INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX customer_addresses_customer ON customer_addresses(customer_id);
CREATE INDEX customer_addresses_detail ON customer_addresses(detail_norm);
CREATE TABLE customer_purchases (
  id INTEGER PRIMARY KEY,
  customer_id INTEGER NOT NULL REFERENCES customers(id),
  org_path TEXT NOT NULL,
  amount_fen INTEGER NOT NULL,
  source TEXT NOT NULL,
  reference TEXT,
  purchased_on TEXT,
  note TEXT,
  created_by INTEGER,
  version INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX customer_purchases_customer ON customer_purchases(customer_id, id);
CREATE TABLE customer_tier_thresholds (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  vip_min_fen INTEGER NOT NULL,
  key_min_fen INTEGER NOT NULL,
  version INTEGER NOT NULL DEFAULT 1,
  updated_at INTEGER NOT NULL
) STRICT;
INSERT INTO customer_tier_thresholds (id, vip_min_fen, key_min_fen, version, updated_at) VALUES (1, 50000000, 5000000, 1, 0);
)sql"}};
  m.routes = [](http::Router& r, api::Platform& p) {
    customer_routes(r, p);
    cti_routes(r, p);
  };
  return m;
}

}  // namespace shouhou::customers
