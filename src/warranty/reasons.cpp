// The texts of the warranty decision's reasons (Reason codes), in English and
// Chinese. The English texts are the ones the API has always given in "why";
// the codes are stable for programs (the web may also translate from them).
#include <map>

#include "warranty/warranty.h"

namespace shouhou::warranty {

namespace {

// {key} is replaced by the argument; keys named in translated() below are
// codes whose Chinese wording differs. {months} and {from} are composed.
const ReasonCatalog& templates() {
  static const ReasonCatalog t = {
      {"unknown_serial", {"serial {serial} is not in the install base", "序列号 {serial} 不在安装点档案中"}},
      {"inactive", {"asset is {status}: no entitlement", "设备{status}，不享受保修"}},
      {"not_sold", {"serial {serial} has not been sold (status {status})", "序列号 {serial} 尚未销售（状态：{status}）"}},
      {"not_in_service",
       {"on {date} the unit was not yet sold or installed (in service since {since})",
        "{date} 时设备尚未销售或安装（{since} 起投入使用）"}},
      {"start_fallback",
       {"policy {policy}: {missing} → counting from {fallback} (policy fallback)",
        "三包政策 {policy}：{missing}，改按{fallback}起算（政策的备选依据）"}},
      {"start_fallback_missing",
       {"policy {policy}: {missing}; fallback {fallback}: {missing2}",
        "三包政策 {policy}：{missing}；备选依据{fallback}：{missing2}"}},
      {"start_no_fallback",
       {"policy {policy}: {missing} and the policy has no fallback", "三包政策 {policy}：{missing}，且政策未设备选依据"}},
      {"unit_none", {"policy {policy} gives the whole unit no warranty", "三包政策 {policy} 不对整机保修"}},
      {"unit_period",
       {"policy {policy} whole unit {months} from {from} → until {end}",
        "三包政策 {policy}：整机 {months}，自{from}起 → 至 {end}"}},
      {"unit_period_not_started",
       {"policy {policy} whole unit {months} from {from} → until {end} (period not started yet on {date}; covered "
        "from sale)",
        "三包政策 {policy}：整机 {months}，自{from}起 → 至 {end}（{date} 时保修期尚未起算，自销售起即在保）"}},
      {"unit_period_expired",
       {"policy {policy} whole unit {months} from {from} → until {end}: expired on {date}",
        "三包政策 {policy}：整机 {months}，自{from}起 → 至 {end}；{date} 时已过保"}},
      {"part_period",
       {"policy {policy} key part {category} {months} from {from} → until {end}",
        "三包政策 {policy}：关键件{category} {months}，自{from}起 → 至 {end}"}},
      {"part_period_expired",
       {"policy {policy} key part {category} {months} from {from} → until {end}: expired on {date}",
        "三包政策 {policy}：关键件{category} {months}，自{from}起 → 至 {end}；{date} 时已过保"}},
      {"no_policy_third_party", {"third-party asset: no maker's warranty policy", "第三方设备：无厂家三包政策"}},
      {"no_policy", {"no warranty policy for this product line", "该产品线没有三包政策"}},
      {"contract_inactive", {"contract {number}: status {status}: not applied", "服务合约 {number}：状态为{status}，不适用"}},
      {"contract_not_started",
       {"contract {number}: not started (starts {start}): not applied", "服务合约 {number}：尚未生效（{start} 起），不适用"}},
      {"contract_expired", {"contract {number}: expired on {end}: not applied", "服务合约 {number}：已于 {end} 到期，不适用"}},
      {"contract_applies",
       {"contract {number} ({type}, {mode}) active {start} … {end} overrides the policy",
        "服务合约 {number}（{type}，{mode}）有效期 {start} … {end}，优先于三包政策"}},
      {"contract_applies_policy_too",
       {"contract {number} ({type}, {mode}) active {start} … {end} overrides the policy (the policy also still covers "
        "the unit)",
        "服务合约 {number}（{type}，{mode}）有效期 {start} … {end}，优先于三包政策（三包政策也仍在保整机）"}},
      {"key_part_still_covered", {"key part {category} still covered until {end}", "关键件{category}仍在保，至 {end}"}},
      {"component_follows_unit",
       {"{component} is not a key part: follows the whole unit (until {end})", "{component} 不是关键件，随整机（至 {end}）"}},
      {"component_follows_unit_open", {"{component} is not a key part: follows the whole unit", "{component} 不是关键件，随整机"}},
      {"covered_by_contract", {"covered by contract {number}", "由服务合约 {number} 保障"}},
  };
  return t;
}

// Chinese for the code-valued arguments (English shows the code itself,
// except the date-missing codes).
std::string translated(std::string_view key, const std::string& v, bool zh, const Reason& r) {
  static const std::map<std::string, std::string, std::less<>> status = {
      {"in_stock", "在库"},  {"sold", "已售"},       {"installed", "已安装"}, {"scrapped", "已报废"},
      {"replaced", "已更换"}, {"draft", "草稿"},      {"active", "已签订"},   {"expired", "已到期"},
      {"cancelled", "已取消"}};
  static const std::map<std::string, std::string, std::less<>> basis = {
      {"sale", "销售日期"}, {"installation", "安装日期"}, {"production", "生产日期"}, {"none", "无"}};
  static const std::map<std::string, std::string, std::less<>> type = {
      {"on_site", "现场服务"}, {"depot", "返厂维修"}, {"parts_only", "仅备件"}, {"full", "全保"}};
  auto from = [&](const std::map<std::string, std::string, std::less<>>& m) {
    auto it = m.find(v);
    return zh && it != m.end() ? it->second : v;
  };
  if (key == "status") return from(status);
  if (key == "fallback" || key == "basis") return from(basis);
  if (key == "type") return from(type);
  if (key == "missing" || key == "missing2") {
    if (v == "no_sale_date") return zh ? "无销售日期" : "no sale date";
    if (v == "no_installation_date") return zh ? "无安装日期" : "no installation date";
    if (v == "no_production_date") return zh ? "无生产日期" : "no production date";
    if (v == "no_fallback") return zh ? "无备选依据" : "no fallback";
    if (v == "no_invoice")
      return zh ? "销售日期 " + r.arg("sale_date") + " 不予采用：政策要求发票，但未登记发票"
                : "sale date " + r.arg("sale_date") + " not accepted: policy requires an invoice and none is recorded";
  }
  if (key == "months") {
    if (zh) return v + " 个月";
    return v + (v == "1" ? " month" : " months");
  }
  if (key == "from") {
    // The date the period counts from: "sale 2024-01-15" / "production date + 30 days = ...".
    std::string b = r.arg("basis"), start = r.arg("start"), offset = r.arg("offset_days");
    if (b == "production" && !offset.empty() && offset != "0")
      return zh ? "生产日期 + " + offset + " 天 = " + start : "production date + " + offset + " days = " + start;
    return translated("basis", b, zh, r) + " " + start;
  }
  return v;
}

}  // namespace

std::string reason_text(const Reason& r, std::string_view lang) {
  return render_reason(templates(), r, lang, translated);
}

}  // namespace shouhou::warranty
