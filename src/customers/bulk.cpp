// Bulk writes for imports (and generated data): the same rows as
// insert_customer / record_purchase, with multi-row statements (store/bulk.h).
#include <algorithm>
#include <map>
#include <set>

#include "core/util.h"
#include "customers/customers.h"
#include "store/bulk.h"

namespace shouhou::customers {

using store::Conn;

namespace {
store::Value opt(const std::optional<std::string>& s) { return s ? store::Value(*s) : store::Value(); }
}  // namespace

Result<std::map<std::pair<std::string, std::string>, std::vector<CustomerKeyMatch>>> find_by_phone_and_name(
    Conn& c, const std::vector<std::pair<std::string, std::string>>& keys) {
  std::map<std::pair<std::string, std::string>, std::vector<CustomerKeyMatch>> out;
  if (keys.empty()) return out;
  std::set<std::string> wanted_phones;
  std::set<std::pair<std::string, std::string>> wanted(keys.begin(), keys.end());
  for (const auto& k : keys) wanted_phones.insert(k.first);
  std::vector<store::Value> phones(wanted_phones.begin(), wanted_phones.end());
  auto rows = TRY(store::select_in(c,
                                   "SELECT p.phone_norm, c.name_norm, c.id, c.org_path FROM customer_phones p JOIN "
                                   "customers c ON c.id = p.customer_id WHERE p.phone_norm",
                                   phones));
  for (const auto& r : rows) {
    std::pair<std::string, std::string> k{r.s(0), r.s(1)};
    if (!wanted.count(k)) continue;
    auto& v = out[k];
    int64_t id = r.i(2);
    if (std::none_of(v.begin(), v.end(), [&](const CustomerKeyMatch& m) { return m.id == id; }))
      v.push_back({id, r.s(3)});
  }
  for (auto& [k, v] : out)
    std::sort(v.begin(), v.end(), [](const CustomerKeyMatch& a, const CustomerKeyMatch& b) { return a.id < b.id; });
  return out;
}

Result<std::vector<int64_t>> insert_customers(Conn& c, const std::vector<NewCustomer>& list) {
  std::vector<int64_t> ids(list.size(), 0);
  // Parsed phones first: a bad number fails before anything is written.
  std::vector<std::vector<Phone>> parsed(list.size());
  for (size_t i = 0; i < list.size(); ++i)
    for (const auto& raw : list[i].phones) {
      auto ph = parse_phone(raw);
      if (!ph) return Error::invalid("not a telephone number: " + raw, "phones");
      parsed[i].push_back(std::move(*ph));
    }
  std::vector<size_t> plain;  // without contacts or addresses: multi-row
  for (size_t i = 0; i < list.size(); ++i) {
    if (list[i].contacts.empty() && list[i].addresses.empty()) plain.push_back(i);
    else ids[i] = TRY(insert_customer(c, list[i]));
  }
  if (plain.empty()) return ids;
  int64_t now = now_ms();
  store::Params v;
  v.reserve(plain.size() * 12);
  for (size_t i : plain) {
    const auto& n = list[i];
    v.emplace_back(n.org_path);
    v.emplace_back(n.org_unit_id);
    v.push_back(n.parent_id ? store::Value(*n.parent_id) : store::Value());
    v.push_back(opt(n.code));
    v.emplace_back(n.name);
    v.emplace_back(normalize_text(n.name));
    v.emplace_back(n.kind);
    v.emplace_back(n.type);
    v.push_back(opt(n.email));
    v.push_back(opt(n.notes));
    v.emplace_back(now);
    v.emplace_back(now);
  }
  auto new_ids = TRY(store::insert_rows(c,
                                        "INSERT INTO customers (org_path, org_unit_id, parent_id, code, name, name_norm, "
                                        "kind, type, email, notes, created_at, updated_at)",
                                        12, std::move(v), true, "text,int8,int8,text,text,text,text,text,text,text,int8,int8"));
  v.clear();
  for (size_t k = 0; k < plain.size(); ++k) {
    size_t i = plain[k];
    ids[i] = new_ids[k];
    std::set<std::string> seen;  // as insert_phones: a number once per customer
    int64_t pos = 0;
    for (size_t j = 0; j < parsed[i].size(); ++j) {
      const Phone& p = parsed[i][j];
      if (!seen.insert(p.norm + "#" + p.ext).second) continue;
      v.emplace_back(ids[i]);
      v.emplace_back(p.norm);
      v.push_back(p.ext.empty() ? store::Value() : store::Value(p.ext));
      v.emplace_back(std::string(kind_name(p.kind)));
      v.emplace_back(list[i].phones[j]);
      v.emplace_back(pos++);
    }
  }
  TRY(store::insert_rows(c, "INSERT INTO customer_phones (customer_id, phone_norm, ext, kind, raw, sort_order)", 6, std::move(v),
                         false, "int8,text,text,text,text,int8"));
  return ids;
}

Result<void> record_purchases(Conn& c, const std::vector<std::pair<int64_t, Purchase>>& purchases) {
  if (purchases.empty()) return {};
  auto th = TRY(tier_thresholds(c));
  std::map<int64_t, int64_t> added;
  for (const auto& [customer_id, p] : purchases) {
    if (p.amount_fen <= 0) return Error::invalid("amount_fen must be positive", "amount_fen");
    added[customer_id] += p.amount_fen;
  }
  std::vector<store::Value> keys;
  for (const auto& [id, amount] : added) keys.push_back(id);
  std::map<int64_t, std::string> paths;
  for (const auto& r : TRY(store::select_in(c, "SELECT id, org_path FROM customers WHERE id", keys)))
    paths[r.i(0)] = r.s(1);
  int64_t now = now_ms();
  store::Params v;
  v.reserve(purchases.size() * 10);
  for (const auto& [customer_id, p] : purchases) {
    auto path = paths.find(customer_id);
    if (path == paths.end()) return api::not_found("customer", customer_id);
    v.emplace_back(customer_id);
    v.emplace_back(path->second);
    v.emplace_back(p.amount_fen);
    v.emplace_back(p.source);
    v.push_back(opt(p.reference));
    v.push_back(opt(p.purchased_on));
    v.push_back(opt(p.note));
    v.push_back(p.created_by ? store::Value(*p.created_by) : store::Value());
    v.emplace_back(now);
    v.emplace_back(now);
  }
  TRY(store::insert_rows(c,
                         "INSERT INTO customer_purchases (customer_id, org_path, amount_fen, source, reference, "
                         "purchased_on, note, created_by, created_at, updated_at)",
                         10, std::move(v), false, "int8,text,int8,text,text,text,text,int8,int8,int8"));
  // Relative update, as record_purchase: concurrent sales add up. The tier is
  // tier_for() of the new total, in the same statement; one statement per
  // kBulkRows customers (SET expressions see the row's old values).
  std::vector<std::pair<int64_t, int64_t>> list(added.begin(), added.end());
  for (size_t at = 0; at < list.size();) {
    size_t n = store::kBulkRows;
    while (n > list.size() - at) n /= 2;
    std::string amount = "(CASE id";
    for (size_t i = 0; i < n; ++i) amount += " WHEN ? THEN ?";
    amount += " END)";
    std::string sql = "UPDATE customers SET purchase_total_fen = purchase_total_fen + " + amount +
                      ", tier = CASE WHEN purchase_total_fen + " + amount + " >= ? THEN 'vip' WHEN purchase_total_fen + " +
                      amount + " >= ? THEN 'key' ELSE 'small' END, updated_at = ? WHERE id IN (";
    for (size_t i = 0; i < n; ++i) sql += i ? ",?" : "?";
    sql += ")";
    store::Params ps;
    auto cases = [&] {
      for (size_t i = 0; i < n; ++i) {
        ps.push_back(list[at + i].first);
        ps.push_back(list[at + i].second);
      }
    };
    cases();
    cases();
    ps.push_back(th.vip_min_fen);
    cases();
    ps.push_back(th.key_min_fen);
    ps.push_back(now);
    for (size_t i = 0; i < n; ++i) ps.push_back(list[at + i].first);
    TRY(c.exec(sql, ps));
    at += n;
  }
  return {};
}

}  // namespace shouhou::customers
