#include "imports/kinds.h"

#include <algorithm>
#include <set>
#include <unordered_map>

#include "core/input.h"
#include "core/util.h"
#include "customers/customers.h"
#include "installbase/installbase.h"
#include "products/products.h"

namespace shouhou::imports {

using api::json;
using store::Conn;

namespace {

std::string trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t' || s[b] == '\r' || s[b] == '\n')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\r' || s[e - 1] == '\n')) --e;
  // U+3000 ideographic space around values typed in Chinese input methods.
  std::string out(s.substr(b, e - b));
  while (out.size() >= 3 && out.compare(0, 3, "\xE3\x80\x80") == 0) out.erase(0, 3);
  while (out.size() >= 3 && out.compare(out.size() - 3, 3, "\xE3\x80\x80") == 0) out.erase(out.size() - 3);
  return out;
}

std::string header_key(std::string_view s) {
  std::string t = trim(s);
  std::string out;
  for (char ch : t) {
    if (ch == ' ' || ch == '-') ch = '_';
    out += static_cast<char>(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
  }
  // "序列号*" (required marker in templates)
  while (!out.empty() && out.back() == '*') out.pop_back();
  return out;
}


// Text with the API's length and control-character rules.
Result<std::optional<std::string>> text_cell(const RowView& r, const std::string& key, size_t max_len) {
  auto v = r.opt(key);
  if (!v) return v;
  // A line break inside a quoted CSV cell / an Excel Alt+Enter: kept in
  // notes, a space in one-line fields (addresses, names).
  if (key != "notes") {
    std::string one;
    for (size_t i = 0; i < v->size(); ++i) {
      char ch = (*v)[i];
      if (ch == '\r' || ch == '\n') {
        if (!one.empty() && one.back() != ' ') one += ' ';
        continue;
      }
      one += ch;
    }
    *v = one;
  } else {
    std::string keep;
    for (char ch : *v)
      if (ch != '\r') keep += ch;
    *v = keep;
  }
  if (utf8_length(*v) > max_len) return bad_row(key, "too_long", {{"column", key}, {"max", std::to_string(max_len)}});
  for (unsigned char ch : *v)
    if (ch < 0x20 && ch != '\t' && ch != '\n') return bad_row(key, "control_char", {{"column", key}});
  return v;
}

Result<std::string> required_text(const RowView& r, const std::string& key, size_t max_len) {
  auto v = TRY(text_cell(r, key, max_len));
  if (!v) return bad_row(key, "required", {{"column", key}});
  return *v;
}

bool code_chars(const std::string& s) {
  return !s.empty() && s.size() <= 40 && std::all_of(s.begin(), s.end(), [](char ch) {
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' ||
           ch == '_' || ch == '.' || ch == '/';
  });
}

Result<std::optional<std::string>> code_cell(const RowView& r, const std::string& key) {
  auto v = r.opt(key);
  if (v && !code_chars(*v)) return bad_row(key, "code_chars", {{"column", key}, {"value", v->substr(0, 40)}});
  return v;
}

// Several values in one cell: "138 0013 8000; 021-5030-1234" (; , / 、 or newline).
std::vector<std::string> split_multi(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  auto flush = [&] {
    auto t = trim(cur);
    if (!t.empty()) out.push_back(t);
    cur.clear();
  };
  for (size_t i = 0; i < s.size(); ++i) {
    char ch = s[i];
    if (ch == ';' || ch == ',' || ch == '/' || ch == '\n') { flush(); continue; }
    if (s.compare(i, 3, "\xE3\x80\x81") == 0 || s.compare(i, 3, "\xEF\xBC\x9B") == 0 ||
        s.compare(i, 3, "\xEF\xBC\x8C") == 0) {  // 、 ； ，
      flush();
      i += 2;
      continue;
    }
    cur += ch;
  }
  flush();
  return out;
}

std::optional<bool> yes_no(const std::string& v) {
  static const std::set<std::string> yes = {"1", "y", "yes", "true", "是", "关键件", "Y", "TRUE", "Yes", "True", "YES"};
  static const std::set<std::string> no = {"0", "n", "no", "false", "否", "N", "FALSE", "No", "False", "NO"};
  if (yes.count(v)) return true;
  if (no.count(v)) return false;
  return std::nullopt;
}

// ---- lookups cached per batch ---------------------------------------------

struct UnitRef {
  int64_t id = 0;
  std::string path, type;
};

class Lookups {
 public:
  void clear() {
    units_.clear();
    models_.clear();
    users_.clear();
  }
  // An org unit by code that `who` reaches; errors name the column.
  Result<UnitRef> unit(Conn& c, const http::Principal& who, const std::string& code, const std::string& column) {
    auto it = units_.find(code);
    if (it == units_.end()) {
      auto row = TRY(c.one("SELECT id, path, type FROM org_units WHERE code = ?", {code}));
      std::optional<UnitRef> u;
      if (row) u = UnitRef{row->i(0), row->s(1), row->s(2)};
      it = units_.emplace(code, u).first;
    }
    // Unknown and out-of-scope read the same: no probing of other units.
    if (!it->second || !who.reaches(it->second->path))
      return bad_row(column, "unit_out_of_scope", {{"column", column}, {"value", code}});
    return *it->second;
  }
  Result<UnitRef> home(Conn& c, const http::Principal& who) {
    std::string key = "#" + std::to_string(who.org_unit_id);
    auto it = units_.find(key);
    if (it == units_.end()) {
      auto row = TRY(c.one("SELECT id, path, type FROM org_units WHERE id = ?", {who.org_unit_id}));
      if (!row) return bad_row("org_unit", "no_home_unit");
      it = units_.emplace(key, UnitRef{row->i(0), row->s(1), row->s(2)}).first;
    }
    return *it->second;
  }
  Result<std::optional<int64_t>> model(Conn& c, const std::string& code) {
    auto it = models_.find(code);
    if (it != models_.end()) return it->second;
    auto row = TRY(c.one("SELECT id FROM models WHERE code = ?", {code}));
    std::optional<int64_t> id;
    if (row) id = row->i(0);
    models_.emplace(code, id);
    return id;
  }
  Result<int64_t> user(Conn& c, const http::Principal& who, const std::string& username, const std::string& column) {
    auto it = users_.find(username);
    if (it == users_.end()) {
      auto row = TRY(c.one("SELECT u.id, o.path FROM users u JOIN org_units o ON o.id = u.org_unit_id WHERE u.username = ?",
                           {username}));
      std::optional<std::pair<int64_t, std::string>> u;
      if (row) u = std::make_pair(row->i(0), row->s(1));
      it = users_.emplace(username, u).first;
    }
    if (!it->second || !who.reaches(it->second->second))
      return bad_row(column, "user_out_of_scope", {{"column", column}, {"value", username}});
    return it->second->first;
  }

 private:
  std::unordered_map<std::string, std::optional<UnitRef>> units_;
  std::unordered_map<std::string, std::optional<int64_t>> models_;
  std::unordered_map<std::string, std::optional<std::pair<int64_t, std::string>>> users_;
};

// The unit a row's records belong to: its org_unit column, else the importer's.
Result<UnitRef> row_unit(Conn& c, const http::Principal& who, Lookups& l, const RowView& r) {
  auto code = r.opt("org_unit");
  if (code) return l.unit(c, who, *code, "org_unit");
  return l.home(c, who);
}

// ---- customers -------------------------------------------------------------

// Of the customers having (phone, name) — customers::find_by_phone_and_name's
// answer — the first (by id) in the importer's scope.
std::optional<int64_t> first_in_scope(
    const std::map<std::pair<std::string, std::string>, std::vector<customers::CustomerKeyMatch>>& matches,
    const std::string& phone_norm, const std::string& name_norm, const http::Principal& who) {
  auto m = matches.find({phone_norm, name_norm});
  if (m == matches.end()) return std::nullopt;
  for (const auto& x : m->second)
    if (who.reaches(x.org_path)) return x.id;
  return std::nullopt;
}

const std::map<std::string, std::string> kKindWords = {
    {"individual", "individual"}, {"个人", "individual"}, {"organisation", "organisation"},
    {"organization", "organisation"}, {"单位", "organisation"}, {"企业", "organisation"}, {"机构", "organisation"}};
const std::map<std::string, std::string> kTypeWords = {
    {"direct", "direct"}, {"直接用户", "direct"}, {"直接最终用户", "direct"}, {"indirect", "indirect"},
    {"间接用户", "indirect"}, {"间接最终用户", "indirect"}, {"dealer", "dealer"}, {"经销商", "dealer"},
    {"agent", "agent"}, {"代理商", "agent"}};

Result<std::string> word_cell(const RowView& r, const std::string& key, const std::map<std::string, std::string>& words,
                              const std::string& def) {
  auto v = r.opt(key);
  if (!v) return def;
  std::string low = header_key(*v);
  if (auto it = words.find(low); it != words.end()) return it->second;
  if (auto it = words.find(*v); it != words.end()) return it->second;
  std::string allowed;
  for (auto& [w, canon] : words) allowed += (allowed.empty() ? "" : ", ") + w;
  return bad_row(key, "not_one_of", {{"column", key}, {"value", v->substr(0, 40)}, {"allowed", allowed}});
}

class CustomersKind : public Kind {
 public:
  const std::vector<Column>& columns() const override {
    static const std::vector<Column> cols = {
        {"code", {"客户编码", "客户编号"}},
        {"name", {"客户名称", "名称", "姓名"}, true},
        {"kind", {"客户性质", "个人/单位"}},
        {"type", {"客户类型"}},
        {"org_unit", {"所属单位", "所属单位编码"}},
        {"phone", {"电话", "手机", "联系电话"}},
        {"email", {"邮箱", "电子邮件"}},
        {"contact_name", {"联系人"}},
        {"contact_title", {"联系人职务", "职务"}},
        {"contact_phone", {"联系人电话"}},
        {"county_code", {"区县代码", "行政区划代码", "区划代码"}},
        {"address", {"地址", "详细地址"}},
        {"postcode", {"邮编"}},
        {"notes", {"备注"}},
    };
    return cols;
  }
  const char* permission() const override { return "customer.write"; }
  const char* entity() const override { return "customer"; }
  void new_batch() override { lookups_.clear(); }

  Result<std::pair<Outcome, int64_t>> apply(api::WriteTx& tx, const RowView& r) override {
    const auto& who = *tx.who();
    customers::NewCustomer n;
    n.name = TRY(required_text(r, "name", 100));
    n.kind = TRY(word_cell(r, "kind", kKindWords, "individual"));
    n.type = TRY(word_cell(r, "type", kTypeWords, "direct"));
    n.code = TRY(code_cell(r, "code"));
    n.email = TRY(text_cell(r, "email", 120));
    if (n.email && (n.email->find('@') == std::string::npos || n.email->find(' ') != std::string::npos))
      return bad_row("email", "email_invalid", {{"column", "email"}, {"value", n.email->substr(0, 60)}});
    n.notes = TRY(text_cell(r, "notes", 2000));
    std::vector<std::string> norms;
    for (const auto& ph : split_multi(r.get("phone"))) {
      auto parsed = customers::parse_phone(ph);
      if (!parsed) return bad_row("phone", "phone_invalid", {{"column", "phone"}, {"value", ph.substr(0, 40)}});
      n.phones.push_back(ph);
      norms.push_back(parsed->norm);
    }
    if (n.phones.size() > 10) return bad_row("phone", "too_many_phones", {{"column", "phone"}, {"max", "10"}});
    if (auto cn = TRY(text_cell(r, "contact_name", 60))) {
      customers::NewCustomer::Contact ct;
      ct.name = *cn;
      ct.title = TRY(text_cell(r, "contact_title", 60));
      for (const auto& ph : split_multi(r.get("contact_phone"))) {
        auto parsed = customers::parse_phone(ph);
        if (!parsed)
          return bad_row("contact_phone", "phone_invalid", {{"column", "contact_phone"}, {"value", ph.substr(0, 40)}});
        ct.phones.push_back(ph);
        norms.push_back(parsed->norm);
      }
      n.contacts.push_back(std::move(ct));
    } else if (r.opt("contact_phone")) {
      return bad_row("contact_name", "required_with", {{"column", "contact_name"}, {"other", "contact_phone"}});
    }
    auto county = r.opt("county_code");
    auto detail = TRY(text_cell(r, "address", 200));
    auto postcode = r.opt("postcode");
    if (postcode && (postcode->size() != 6 || !std::all_of(postcode->begin(), postcode->end(), ::isdigit)))
      return bad_row("postcode", "digits", {{"column", "postcode"}, {"n", "6"}});
    if (county && (county->size() != 6 || !std::all_of(county->begin(), county->end(), ::isdigit)))
      return bad_row("county_code", "division_code", {{"column", "county_code"}});
    if (detail) n.addresses.push_back({county.value_or(""), *detail, postcode});
    else if (county) return bad_row("address", "required_with", {{"column", "address"}, {"other", "county_code"}});
    if (!n.code && norms.empty())
      return bad_row("phone", "customer_key_missing");

    UnitRef unit = TRY(row_unit(tx.db, who, lookups_, r));
    n.org_unit_id = unit.id;
    n.org_path = unit.path;

    // The customer key: code, else the first phone with the name.
    std::optional<store::Row> found;
    if (n.code) {
      found = TRY(tx.db.one("SELECT id, org_path, name, kind, type, email, notes FROM customers WHERE code = ?", {*n.code}));
      if (found && !who.reaches(found->s(1)))
        return bad_row("code", "customer_code_taken", {{"code", *n.code}}, Error::Code::conflict);
    } else {
      // Same normalised phone and name, the first in the importer's scope (checked in C++, not with
      // `org_path LIKE ?`: SQLite re-prepares a statement whenever a LIKE pattern is rebound).
      for (auto& row : TRY(tx.db.query("SELECT c.id, c.org_path, c.name, c.kind, c.type, c.email, c.notes FROM "
                                       "customer_phones p JOIN customers c ON c.id = p.customer_id "
                                       "WHERE p.phone_norm = ? AND c.name_norm = ? ORDER BY c.id",
                                       {norms.front(), customers::normalize_text(n.name)})))
        if (who.reaches(row.s(1))) {
          found = std::move(row);
          break;
        }
    }
    if (found) {
      // Never overwritten silently: the same data is "unchanged", other data a bad row.
      auto differs = [&](const char* col, const std::string& stored, const std::optional<std::string>& mine) {
        return mine && stored != *mine ? std::optional<std::string>(col) : std::nullopt;
      };
      std::optional<std::string> col;
      if (!col) col = differs("name", found->s(2), n.name);
      if (!col && r.opt("kind")) col = differs("kind", found->s(3), n.kind);
      if (!col && r.opt("type")) col = differs("type", found->s(4), n.type);
      if (!col) col = differs("email", found->s(5), n.email);
      if (!col) col = differs("notes", found->s(6), n.notes);
      if (!col && found->s(1) != unit.path && r.opt("org_unit")) col = "org_unit";
      if (!col && !norms.empty()) {
        auto have = TRY(tx.db.query("SELECT phone_norm FROM customer_phones WHERE customer_id = ?", {found->i(0)}));
        std::set<std::string> stored;
        for (const auto& p : have) stored.insert(p.s(0));
        for (const auto& p : norms)
          if (!stored.count(p)) { col = "phone"; break; }
      }
      if (col)
        return bad_row(*col, "customer_differs", {{"id", std::to_string(found->i(0))}, {"name", found->s(2)}, {"column", *col}},
                       Error::Code::conflict);
      return std::make_pair(Outcome::unchanged, found->i(0));
    }
    auto id = customers::insert_customer(tx.db, n);
    if (!id) {
      Error e = std::move(id).error();
      if (e.field.rfind("addresses", 0) == 0) e.field = "county_code";
      return e;
    }
    return std::make_pair(Outcome::created, *id);
  }

 private:
  Lookups lookups_;
};

// ---- products ----------------------------------------------------------------

class ProductsKind : public Kind {
 public:
  const std::vector<Column>& columns() const override {
    static const std::vector<Column> cols = {
        {"product_line_code", {"产品线编码", "产品线代码"}, true},
        {"product_line_name", {"产品线", "产品线名称"}},
        {"model_code", {"型号", "型号编码", "机型"}},
        {"model_name", {"型号名称", "机型名称"}},
        {"description", {"说明", "描述"}},
        {"position", {"位号"}},
        {"component_name", {"部件名称", "元器件名称", "部件"}},
        {"part_code", {"物料编码", "料号"}},
        {"quantity", {"数量", "用量"}},
        {"key_part", {"关键件"}},
        {"key_part_category", {"关键件类别"}},
    };
    return cols;
  }
  const char* permission() const override { return "product.write"; }
  const char* entity() const override { return "product_import_row"; }
  void new_batch() override {}

  Result<std::pair<Outcome, int64_t>> apply(api::WriteTx& tx, const RowView& r) override {
    auto& c = tx.db;
    std::string path = tx.who()->org_path;
    std::string line_code = *TRY(code_cell(r, "product_line_code"));
    if (line_code.empty()) return bad_row("product_line_code", "required", {{"column", "product_line_code"}});
    auto line_name = TRY(text_cell(r, "product_line_name", 100));
    auto model_code = TRY(code_cell(r, "model_code"));
    auto model_name = TRY(text_cell(r, "model_name", 100));
    auto description = TRY(text_cell(r, "description", 2000));
    auto position = TRY(text_cell(r, "position", 40));
    auto comp_name = TRY(text_cell(r, "component_name", 100));
    auto part_code = TRY(code_cell(r, "part_code"));
    auto category = TRY(text_cell(r, "key_part_category", 60));
    int64_t qty = 1;
    if (auto q = r.opt("quantity")) {
      char* end = nullptr;
      long long v = std::strtoll(q->c_str(), &end, 10);
      if (*end || v < 1 || v > 10000) return bad_row("quantity", "whole_number", {{"column", "quantity"}, {"min", "1"}, {"max", "10000"}});
      qty = v;
    }
    bool key = false;
    if (auto k = r.opt("key_part")) {
      auto yn = yes_no(*k);
      if (!yn) return bad_row("key_part", "yes_no", {{"column", "key_part"}});
      key = *yn;
    }
    if (position && !model_code) return bad_row("model_code", "component_needs_model");

    Outcome out = Outcome::unchanged;
    int64_t last_id = 0;
    auto line = TRY(c.one("SELECT id, name FROM product_lines WHERE code = ?", {line_code}));
    int64_t line_id;
    if (line) {
      line_id = line->i(0);
      if (line_name && *line_name != line->s(1))
        return bad_row("product_line_name", "line_exists_as", {{"code", line_code}, {"name", line->s(1)}}, Error::Code::conflict);
    } else {
      if (!line_name) return bad_row("product_line_name", "line_needs_name", {{"code", line_code}});
      line_id = TRY(products::insert_product_line(c, {line_code, *line_name, std::nullopt}, path));
      out = Outcome::created;
    }
    last_id = line_id;
    if (model_code) {
      auto model = TRY(c.one("SELECT id, product_line_id, name FROM models WHERE code = ?", {*model_code}));
      int64_t model_id;
      if (model) {
        model_id = model->i(0);
        if (model->i(1) != line_id)
          return bad_row("product_line_code", "model_other_line", {{"code", *model_code}}, Error::Code::conflict);
        if (model_name && *model_name != model->s(2))
          return bad_row("model_name", "model_exists_as", {{"code", *model_code}, {"name", model->s(2)}}, Error::Code::conflict);
      } else {
        if (!model_name) return bad_row("model_name", "model_needs_name", {{"code", *model_code}});
        model_id = TRY(products::insert_model(c, {line_id, *model_code, *model_name, description}, path));
        out = Outcome::created;
      }
      last_id = model_id;
      if (position) {
        auto comp = TRY(c.one("SELECT id, name, part_code, quantity, key_part, key_part_category FROM model_components "
                              "WHERE model_id = ? AND position = ?",
                              {model_id, *position}));
        if (comp) {
          bool same = (!comp_name || comp->s(1) == *comp_name) && (!part_code || comp->s(2) == *part_code) &&
                      (!r.opt("quantity") || comp->i(3) == qty) && (!r.opt("key_part") || (comp->i(4) != 0) == key) &&
                      (!category || comp->s(5) == *category);
          if (!same)
            return bad_row("position", "position_differs", {{"position", *position}, {"code", *model_code}},
                           Error::Code::conflict);
          last_id = comp->i(0);
        } else {
          if (!comp_name) return bad_row("component_name", "position_needs_name", {{"position", *position}});
          if (category && !key) return bad_row("key_part", "category_not_key");
          last_id = TRY(products::insert_component(c, model_id, {*position, *comp_name, part_code, qty, key, category}, path));
          out = Outcome::created;
        }
      }
    } else if (model_name) {
      return bad_row("model_code", "required_with", {{"column", "model_code"}, {"other", "model_name"}});
    }
    return std::make_pair(out, last_id);
  }
};

// ---- install base -------------------------------------------------------------

class InstallBaseKind : public Kind {
 public:
  const std::vector<Column>& columns() const override {
    static const std::vector<Column> cols = {
        {"serial", {"序列号", "条码", "机号", "产品条码"}, true},
        {"model_code", {"型号", "机型"}},
        {"maker", {"厂商", "品牌"}},
        {"model_text", {"第三方型号"}},
        {"batch", {"批次", "生产批次"}},
        {"production_date", {"生产日期"}},
        {"org_unit", {"所属单位", "所属单位编码"}},
        {"dealer", {"经销商", "经销商编码"}},
        {"sale_date", {"销售日期", "购买日期"}},
        {"invoice_no", {"发票号", "发票号码"}},
        {"sale_amount", {"销售金额", "金额"}},
        {"customer_code", {"客户编码"}},
        {"customer_name", {"客户名称", "客户姓名", "用户姓名"}},
        {"customer_phone", {"客户电话", "用户电话", "联系电话"}},
        {"install_date", {"安装日期"}},
        {"installer", {"安装单位", "安装单位编码", "安装网点"}},
        {"engineer", {"安装工程师", "工程师"}},
        {"install_address", {"安装地址"}},
        {"division_code", {"区划代码", "行政区划代码"}},
        {"notes", {"备注"}},
        {"asset_tag", {"资产#", "资产号", "资产编号"}},
        {"commissioned_on", {"运行日期", "投运日期"}},
    };
    return cols;
  }
  const char* permission() const override { return "asset.write"; }
  const char* entity() const override { return "asset"; }
  void new_batch() override {
    lookups_.clear();
    customers_.clear();
    purchases_.clear();
  }
  void row_failed() override { customers_.clear(); }
  Result<void> finish_batch(api::WriteTx& tx) override {
    TRY_VOID(customers::record_purchases(tx.db, purchases_));
    purchases_.clear();
    return {};
  }

  Result<std::pair<Outcome, int64_t>> apply(api::WriteTx& tx, const RowView& r) override {
    Parsed p = TRY(parse(tx, r));
    auto owner = TRY(resolve_owner(tx, p.owner, p.unit));
    if (p.a.sale) p.a.sale->customer_id = owner;
    p.a.defer_purchase = true;
    auto res = TRY(installbase::import_asset(tx, p.a));
    if (res.purchase_deferred) defer_purchase(*tx.who(), p.a);
    Outcome o = res.outcome == installbase::ImportOutcome::created   ? Outcome::created
                : res.outcome == installbase::ImportOutcome::updated ? Outcome::updated
                                                                     : Outcome::unchanged;
    return std::make_pair(o, res.id);
  }

  // The batch at once: rows read and checked first (a bad row writes
  // nothing), then one lookup of the owners and of the serials, the new
  // owners and the new assets in multi-row INSERTs. Rows naming a serial
  // already stored (or twice in the batch) or an asset tag go through
  // apply(), each in a savepoint, after the new ones, in row order.
  Result<bool> apply_batch(api::WriteTx& tx, const std::vector<RowView>& rows, std::vector<RowResult>& out) override {
    const auto& who = *tx.who();
    out.assign(rows.size(), RowResult{});
    std::vector<std::optional<Parsed>> parsed(rows.size());
    std::vector<size_t> fast, slow;
    std::unordered_map<std::string, size_t> first_of_serial;
    for (size_t i = 0; i < rows.size(); ++i) {
      auto p = parse(tx, rows[i]);
      if (!p) {
        out[i].error = std::move(p).error();
        continue;
      }
      if (auto d = installbase::check_import_dates(p->a); !d) {
        out[i].error = std::move(d).error();
        continue;
      }
      bool again = !first_of_serial.emplace(p->a.serial, i).second;
      (again || p->a.asset_tag ? slow : fast).push_back(i);
      parsed[i] = std::move(*p);
    }
    // Serials already stored: the row by row path (compare, update or conflict).
    std::vector<std::string> serials;
    for (size_t i : fast) serials.push_back(parsed[i]->a.serial);
    auto stored = TRY(installbase::find_serial_ids(tx.db, serials));
    if (!stored.empty()) {
      std::vector<size_t> keep;
      for (size_t i : fast) (stored.count(parsed[i]->a.serial) ? slow : keep).push_back(i);
      fast = std::move(keep);
      std::sort(slow.begin(), slow.end());
    }
    // Owners: cached, found (first in scope by id) or created in the row's unit.
    std::vector<std::pair<std::string, std::string>> keys;
    for (size_t i : fast) {
      const Owner& o = parsed[i]->owner;
      if (!o.id && !o.key.empty() && !customers_.count(o.key)) keys.emplace_back(o.phone_norm, o.name_norm);
    }
    auto matches = TRY(customers::find_by_phone_and_name(tx.db, keys));
    std::vector<customers::NewCustomer> fresh;
    std::vector<size_t> fresh_row;                      // the row that creates each
    std::unordered_map<std::string, size_t> fresh_key;  // key -> index in fresh
    std::vector<std::optional<size_t>> owner_fresh(rows.size());
    for (size_t i : fast) {
      Parsed& p = *parsed[i];
      const Owner& o = p.owner;
      if (o.id || o.key.empty()) {
        if (p.a.sale) p.a.sale->customer_id = o.id;
        continue;
      }
      if (auto it = customers_.find(o.key); it != customers_.end()) {
        p.a.sale->customer_id = it->second;
        continue;
      }
      if (auto id = first_in_scope(matches, o.phone_norm, o.name_norm, who)) {
        customers_[o.key] = *id;
        p.a.sale->customer_id = *id;
        continue;
      }
      auto [it, added] = fresh_key.emplace(o.key, fresh.size());
      if (added) {
        customers::NewCustomer n;
        n.org_unit_id = p.unit.id;
        n.org_path = p.unit.path;
        n.name = o.name;
        n.phones = {o.phone};
        fresh.push_back(std::move(n));
        fresh_row.push_back(i);
      }
      owner_fresh[i] = it->second;
    }
    auto fresh_ids = TRY(customers::insert_customers(tx.db, fresh));
    for (size_t k = 0; k < fresh.size(); ++k) {
      out[fresh_row[k]].created_customers.push_back(fresh_ids[k]);
      customers_[parsed[fresh_row[k]]->owner.key] = fresh_ids[k];
    }
    std::vector<const installbase::ImportedAsset*> assets;
    for (size_t i : fast) {
      if (owner_fresh[i]) parsed[i]->a.sale->customer_id = fresh_ids[*owner_fresh[i]];
      assets.push_back(&parsed[i]->a);
    }
    auto ids = TRY(installbase::insert_imported_assets(tx, assets));
    for (size_t k = 0; k < fast.size(); ++k) {
      const auto& a = parsed[fast[k]]->a;
      out[fast[k]].outcome = Outcome::created;
      out[fast[k]].id = ids[k];
      if (a.sale && a.sale->customer_id && a.sale->amount_fen && *a.sale->amount_fen > 0) defer_purchase(who, a);
    }
    for (size_t i : slow) {
      created_customers.clear();
      TRY(tx.db.exec("SAVEPOINT import_row"));
      auto res = apply(tx, rows[i]);
      if (res) {
        TRY(tx.db.exec("RELEASE SAVEPOINT import_row"));
        out[i].outcome = res->first;
        out[i].id = res->second;
        out[i].created_customers = created_customers;
      } else {
        TRY(tx.db.exec("ROLLBACK TO SAVEPOINT import_row"));
        TRY(tx.db.exec("RELEASE SAVEPOINT import_row"));
        row_failed();
        out[i].error = std::move(res).error();
      }
    }
    created_customers.clear();
    return true;
  }

 private:
  // The owner a row names (read and checked, not yet found or created).
  struct Owner {
    std::optional<int64_t> id;                 // by customer_code
    std::string phone, name;                   // else by phone + name, as written
    std::string phone_norm, name_norm, key;    // key "" when the row names no owner
    bool any() const { return id || !key.empty(); }
  };
  // A row read and checked, before any write; a.sale->customer_id unset.
  struct Parsed {
    installbase::ImportedAsset a;
    Owner owner;
    UnitRef unit;
  };

  Result<Parsed> parse(api::WriteTx& tx, const RowView& r) {
    auto& c = tx.db;
    const auto& who = *tx.who();
    Parsed p;
    auto& a = p.a;
    std::string raw_serial = TRY(required_text(r, "serial", 64));
    a.serial = installbase::normalize_serial(raw_serial);
    if (!installbase::valid_serial(a.serial))
      return bad_row("serial", "serial_chars", {{"column", "serial"}, {"value", raw_serial.substr(0, 64)}});
    auto model_code = r.opt("model_code");
    a.maker = TRY(text_cell(r, "maker", 100));
    a.model_text = TRY(text_cell(r, "model_text", 100));
    if (model_code) {
      a.model_id = TRY(lookups_.model(c, *model_code));
      if (!a.model_id)
        return bad_row("model_code", "unknown_model", {{"column", "model_code"}, {"value", model_code->substr(0, 40)}});
      if (a.maker) return bad_row("maker", "maker_only_third_party");
    } else if (a.maker) {
      a.third_party = true;
      if (!a.model_text) return bad_row("model_text", "third_party_needs_model_text");
    } else {
      return bad_row("model_code", "model_required");
    }
    a.batch = TRY(text_cell(r, "batch", 40));
    a.production_date = TRY(date_cell(r, "production_date"));
    a.notes = TRY(text_cell(r, "notes", 2000));
    if (auto tag = r.opt("asset_tag")) {
      a.asset_tag = installbase::normalize_serial(*tag);
      if (!installbase::valid_asset_tag(*a.asset_tag))
        return bad_row("asset_tag", "asset_tag_chars", {{"column", "asset_tag"}, {"value", tag->substr(0, 40)}});
    }
    a.commissioned_on = TRY(date_cell(r, "commissioned_on"));
    UnitRef unit = TRY(row_unit(c, who, lookups_, r));
    a.org_unit_id = unit.id;
    a.org_path = unit.path;

    auto sale_date = TRY(date_cell(r, "sale_date"));
    p.unit = unit;
    p.owner = TRY(owner_of(tx, r));
    if (sale_date) {
      installbase::Sale s;
      s.date = *sale_date;
      if (auto d = r.opt("dealer")) s.dealer_unit_id = TRY(lookups_.unit(c, who, *d, "dealer")).id;
      s.invoice_no = TRY(text_cell(r, "invoice_no", 60));
      s.amount_fen = TRY(yuan_cell(r, "sale_amount"));
      a.sale = std::move(s);
    } else {
      for (const char* k : {"dealer", "invoice_no", "sale_amount"})
        if (r.opt(k)) return bad_row("sale_date", "required_with", {{"column", "sale_date"}, {"other", k}});
      if (p.owner.any()) return bad_row("sale_date", "sale_needs_date_for_owner");
    }
    auto install_date = TRY(date_cell(r, "install_date"));
    if (install_date) {
      installbase::Installation in;
      in.date = *install_date;
      if (auto u = r.opt("installer")) in.unit_id = TRY(lookups_.unit(c, who, *u, "installer")).id;
      if (auto e = r.opt("engineer")) in.engineer_user_id = TRY(lookups_.user(c, who, *e, "engineer"));
      in.address = TRY(text_cell(r, "install_address", 300));
      in.division_code = r.opt("division_code");
      if (in.division_code && (in.division_code->size() != 6 ||
                               !std::all_of(in.division_code->begin(), in.division_code->end(), ::isdigit)))
        return bad_row("division_code", "division_code", {{"column", "division_code"}});
      a.installation = std::move(in);
    } else {
      for (const char* k : {"installer", "engineer", "install_address"})
        if (r.opt(k)) return bad_row("install_date", "required_with", {{"column", "install_date"}, {"other", k}});
    }
    return p;
  }

  void defer_purchase(const http::Principal& who, const installbase::ImportedAsset& a) {
    purchases_.emplace_back(*a.sale->customer_id, installbase::sale_purchase(a.serial, *a.sale, "import", who.user_id));
  }

  // The owner: by customer_code, else by phone + name (checked here, found
  // or created by resolve_owner).
  Result<Owner> owner_of(api::WriteTx& tx, const RowView& r) {
    const auto& who = *tx.who();
    Owner o;
    if (auto code = r.opt("customer_code")) {
      auto it = customers_.find("code:" + *code);
      if (it != customers_.end()) {
        o.id = it->second;
        return o;
      }
      auto row = TRY(tx.db.one("SELECT id, org_path FROM customers WHERE code = ?", {*code}));
      if (!row || !who.reaches(row->s(1)))
        return bad_row("customer_code", "customer_out_of_scope", {{"column", "customer_code"}, {"value", code->substr(0, 40)}});
      customers_["code:" + *code] = row->i(0);
      o.id = row->i(0);
      return o;
    }
    auto name = TRY(text_cell(r, "customer_name", 100));
    auto phone = r.opt("customer_phone");
    if (!name && !phone) return o;
    if (!name) return bad_row("customer_name", "required_with", {{"column", "customer_name"}, {"other", "customer_phone"}});
    if (!phone) return bad_row("customer_phone", "phone_needs_name");
    auto parsed = customers::parse_phone(*phone);
    if (!parsed)
      return bad_row("customer_phone", "phone_invalid", {{"column", "customer_phone"}, {"value", phone->substr(0, 40)}});
    o.phone = *phone;
    o.name = *name;
    o.phone_norm = parsed->norm;
    o.name_norm = customers::normalize_text(*name);
    o.key = o.phone_norm + "|" + o.name_norm;
    return o;
  }

  // By phone + name in scope, created (individual, direct end user, in the
  // asset's unit) when unknown.
  Result<std::optional<int64_t>> resolve_owner(api::WriteTx& tx, const Owner& o, const UnitRef& unit) {
    const auto& who = *tx.who();
    if (o.id || o.key.empty()) return o.id;
    if (auto it = customers_.find(o.key); it != customers_.end()) return std::optional<int64_t>(it->second);
    auto matches = TRY(customers::find_by_phone_and_name(tx.db, {{o.phone_norm, o.name_norm}}));
    std::optional<int64_t> same = first_in_scope(matches, o.phone_norm, o.name_norm, who);
    int64_t id;
    if (same) {
      id = *same;
    } else {
      customers::NewCustomer n;
      n.org_unit_id = unit.id;
      n.org_path = unit.path;
      n.name = o.name;
      n.phones = {o.phone};
      id = TRY(customers::insert_customer(tx.db, n));
      created_customers.push_back(id);
    }
    // A row rolled back after this would leave a stale id here; the batch
    // runner calls row_failed() on a bad row, which drops this cache.
    customers_[o.key] = id;
    return std::optional<int64_t>(id);
  }

  Lookups lookups_;
  std::unordered_map<std::string, int64_t> customers_;
  std::vector<std::pair<int64_t, customers::Purchase>> purchases_;
};

}  // namespace

std::string RowView::get(const std::string& key) const {
  auto it = idx_.find(key);
  if (it == idx_.end() || it->second >= static_cast<int>(r_.cells.size())) return {};
  return trim(r_.cells[it->second]);
}

bool RowView::blank() const {
  for (const auto& c : r_.cells)
    if (!trim(c).empty()) return false;
  return true;
}

Result<std::optional<std::string>> date_cell(const RowView& r, const std::string& key) {
  auto v = r.opt(key);
  if (!v) return v;
  std::string s = *v;
  // Excel serial dates (a date cell without a text format) and "2024/3/5".
  if (std::all_of(s.begin(), s.end(), [](char ch) { return (ch >= '0' && ch <= '9') || ch == '.'; }) &&
      s.find('-') == std::string::npos) {
    double d = std::atof(s.c_str());
    if (d >= 1 && d < 2958466 && s.size() <= 12) s = excel_serial_date(static_cast<int64_t>(d));
  } else {
    size_t sp = s.find_first_of(" T");
    if (sp != std::string::npos) s = s.substr(0, sp);  // "2024-03-05 00:00:00"
    int y = 0, m = 0, d = 0;
    char a = 0, b = 0;
    if (std::sscanf(s.c_str(), "%d%c%d%c%d", &y, &a, &m, &b, &d) == 5 && a == b && (a == '-' || a == '/' || a == '.')) {
      char buf[16];
      std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", y, m, d);
      s = buf;
    }
  }
  if (!installbase::valid_past_date(s))
    return bad_row(key, "bad_date", {{"column", key}, {"value", v->substr(0, 30)}});
  return std::optional<std::string>(s);
}

Result<std::optional<int64_t>> yuan_cell(const RowView& r, const std::string& key) {
  auto v = r.opt(key);
  if (!v) return std::optional<int64_t>();
  std::string s;
  for (size_t i = 0; i < v->size(); ++i) {
    char ch = (*v)[i];
    if (ch == ',' || ch == ' ') continue;
    if (v->compare(i, 2, "\xC2\xA5") == 0 || v->compare(i, 3, "\xEF\xBF\xA5") == 0) {  // ¥ ￥
      i += (*v)[i] == '\xC2' ? 1 : 2;
      continue;
    }
    s += ch;
  }
  if (s.size() > 2 && s.compare(s.size() - 3, 3, "\xE5\x85\x83") == 0) s.resize(s.size() - 3);  // 元
  size_t dot = s.find('.');
  std::string whole = s.substr(0, dot), frac = dot == std::string::npos ? "" : s.substr(dot + 1);
  auto digits = [](const std::string& t) { return std::all_of(t.begin(), t.end(), ::isdigit); };
  if (whole.empty() || whole.size() > 10 || !digits(whole) || !digits(frac) || frac.size() > 2)
    return bad_row(key, "bad_amount", {{"column", key}, {"value", v->substr(0, 30)}});
  while (frac.size() < 2) frac += '0';
  return std::optional<int64_t>(std::stoll(whole) * 100 + std::stoll(frac));
}

std::unique_ptr<Kind> make_kind(const std::string& kind) {
  if (kind == "customers") return std::make_unique<CustomersKind>();
  if (kind == "products") return std::make_unique<ProductsKind>();
  if (kind == "install_base") return std::make_unique<InstallBaseKind>();
  return nullptr;
}

const std::vector<std::string>& kind_names() {
  static const std::vector<std::string> k = {"customers", "products", "install_base"};
  return k;
}

Result<std::map<std::string, int>> map_header(const Kind& k, const std::vector<std::string>& header) {
  std::map<std::string, int> idx;
  for (size_t i = 0; i < header.size(); ++i) {
    std::string h = header_key(header[i]);
    if (h.empty()) continue;
    for (const auto& col : k.columns()) {
      bool match = h == col.key || std::find(col.aliases.begin(), col.aliases.end(), h) != col.aliases.end();
      if (!match) continue;
      if (idx.count(col.key)) return Error::invalid("column " + col.key + " appears twice in the header", col.key);
      idx[col.key] = static_cast<int>(i);
    }
  }
  for (const auto& col : k.columns())
    if (col.required && !idx.count(col.key)) {
      std::string expected;
      for (const auto& c2 : k.columns()) expected += (expected.empty() ? "" : ", ") + c2.key;
      return Error::invalid("the header has no " + col.key + " column (" +
                                (col.aliases.empty() ? col.key : col.aliases[0]) + "); columns: " + expected,
                            col.key);
    }
  return idx;
}

}  // namespace shouhou::imports
