// Why a row is bad, as data (core/reason.h, the mechanism of the warranty
// decision's reasons): a stable code with named arguments, rendered in
// English (the API's "reason", unchanged for scripts) and Chinese (the
// import page). The import's own checks build their errors from this
// catalogue (bad_row); the install base rules the import applies say the
// same things in English only, so their texts are catalogued too and
// reason_of() recognises them. Anything else is "other" with its message.
#include <set>

#include "imports/kinds.h"

namespace shouhou::imports {

namespace {

const ReasonCatalog& catalog() {
  static const ReasonCatalog t = {
      // cells
      {"too_long", {"{column} is longer than {max} characters", "{column}超过 {max} 个字符"}},
      {"control_char", {"{column} holds a control character", "{column}含有控制字符"}},
      {"required", {"{column} is required", "{column}为必填项"}},
      {"required_with", {"{column} is required with {other}", "填写{other}时，{column}为必填项"}},
      {"code_chars",
       {"{column} \"{value}\" may hold letters, digits and - _ . / only (1-40)",
        "{column}“{value}”只能包含字母、数字和 - _ . /（1–40 个字符）"}},
      {"not_one_of", {"{column} \"{value}\" must be one of {allowed}", "{column}“{value}”须为以下之一：{allowed}"}},
      {"email_invalid", {"{column} \"{value}\" is not an e-mail address", "{column}“{value}”不是电子邮件地址"}},
      {"phone_invalid", {"{column} \"{value}\" is not a telephone number", "{column}“{value}”不是电话号码"}},
      {"too_many_phones", {"{column} has more than {max} numbers", "{column}超过 {max} 个号码"}},
      {"digits", {"{column} must be {n} digits", "{column}须为 {n} 位数字"}},
      {"division_code", {"{column} must be a 6-digit GB/T 2260 code", "{column}须为 6 位 GB/T 2260 行政区划代码"}},
      {"bad_date",
       {"{column} \"{value}\" must be a date YYYY-MM-DD, not in the future",
        "{column}“{value}”须为 YYYY-MM-DD 格式的日期，且不晚于今天"}},
      {"bad_amount",
       {"{column} \"{value}\" must be an amount in yuan with at most 2 decimals",
        "{column}“{value}”须为以元计、最多两位小数的金额"}},
      {"whole_number", {"{column} must be a whole number from {min} to {max}", "{column}须为 {min} 到 {max} 之间的整数"}},
      {"yes_no", {"{column} must be 是/否 (yes/no, 1/0)", "{column}须为 是/否（yes/no、1/0）"}},
      // scope
      {"unit_out_of_scope",
       {"{column} \"{value}\" is not an org unit within your scope", "{column}“{value}”不是您权限范围内的组织单位"}},
      {"user_out_of_scope", {"{column} \"{value}\" is not a user within your scope", "{column}“{value}”不是您权限范围内的用户"}},
      {"customer_out_of_scope",
       {"{column} \"{value}\" is not a customer within your scope", "{column}“{value}”不是您权限范围内的客户"}},
      {"no_home_unit", {"the importing user has no org unit", "导入用户没有所属组织单位"}},
      // customers
      {"customer_key_missing",
       {"a customer needs a code or a phone number (the key that makes re-imports idempotent)",
        "客户须有客户编码或电话号码（重复导入时据此识别同一客户）"}},
      {"customer_code_taken", {"customer code {code} is taken", "客户编码 {code} 已被占用"}},
      {"customer_differs",
       {"customer {id} ({name}) already exists with different {column}; change it on the customer page",
        "客户 {id}（{name}）已存在，但{column}不同；请在客户页面修改"}},
      // products
      {"component_needs_model", {"model_code is required for a component (position)", "部件（位号）须填写型号"}},
      {"line_exists_as", {"product line {code} exists as \"{name}\"", "产品线 {code} 已存在，名称为“{name}”"}},
      {"line_needs_name",
       {"product_line_name is required for a new product line {code}", "新产品线 {code} 须填写产品线名称"}},
      {"model_other_line", {"model {code} belongs to another product line", "型号 {code} 属于其他产品线"}},
      {"model_exists_as", {"model {code} exists as \"{name}\"", "型号 {code} 已存在，名称为“{name}”"}},
      {"model_needs_name", {"model_name is required for a new model {code}", "新型号 {code} 须填写型号名称"}},
      {"position_differs",
       {"position {position} of model {code} exists with other data", "型号 {code} 的位号 {position} 已存在且数据不同"}},
      {"position_needs_name",
       {"component_name is required for a new position {position}", "新位号 {position} 须填写部件名称"}},
      {"category_not_key", {"key_part_category is only for key parts", "只有关键件才能填写关键件类别"}},
      // install base
      {"serial_chars",
       {"{column} \"{value}\" may hold letters, digits and - _ / . only", "{column}“{value}”只能包含字母、数字和 - _ / ."}},
      {"unknown_model", {"{column} \"{value}\" is not a known model", "{column}“{value}”不是已知型号"}},
      {"maker_only_third_party",
       {"maker is only for third-party assets (leave model_code empty)", "厂商只用于第三方设备（型号须留空）"}},
      {"third_party_needs_model_text",
       {"model_text is required for a third-party asset", "第三方设备须填写第三方型号"}},
      {"model_required",
       {"model_code is required (or maker and model_text for a third-party asset)",
        "型号为必填项（第三方设备填写厂商和第三方型号）"}},
      {"asset_tag_chars",
       {"{column} \"{value}\" must be at most 32 letters, digits and - _ / .",
        "{column}“{value}”须为最多 32 个字母、数字或 - _ / ."}},
      {"sale_needs_date_for_owner",
       {"sale_date is required with the customer (the sale makes them the owner)",
        "填写客户时，销售日期为必填项（销售使其成为设备所有人）"}},
      {"phone_needs_name",
       {"customer_phone is required with customer_name (it identifies the customer)",
        "填写客户名称时，客户电话为必填项（用于识别客户）"}},
      // the install base's own rules (installbase/bulk.cpp, identity.cpp, installbase.cpp)
      {"sale_before_production", {"sale date is before the production date {date}", "销售日期早于生产日期 {date}"}},
      {"install_before_production",
       {"installation date is before the production date {date}", "安装日期早于生产日期 {date}"}},
      {"install_after_commissioning",
       {"installation date is after the commissioning date {date}", "安装日期晚于投运日期 {date}"}},
      {"commissioned_before_install",
       {"{column} {value} is before the installation date {date}", "{column} {value} 早于安装日期 {date}"}},
      {"tag_taken",
       {"{column} {value} is already the tag of this customer's asset {serial}",
        "{column} {value} 已是该客户设备 {serial} 的资产号"}},
      {"serial_other_model",
       {"serial {serial} is already registered as model {model}; the row says otherwise",
        "序列号 {serial} 已登记为型号 {model}，与本行不符"}},
      {"serial_other_sale",
       {"serial {serial} already has a different sale recorded (on {date})", "序列号 {serial} 已登记了不同的销售（{date}）"}},
      {"asset_no_sale", {"asset {serial} is {status}: no sale can be recorded", "设备 {serial} 状态为{status}，不能登记销售"}},
      {"asset_no_install", {"asset {serial} is {status}: it cannot be installed", "设备 {serial} 状态为{status}，不能登记安装"}},
      {"sale_exists", {"a sale is already recorded for {serial} (on {date})", "{serial} 已登记销售（{date}）"}},
      // the database
      {"not_stored", {"could not be stored: {message}", "无法保存：{message}"}},
      {"other", {"{message}", "{message}"}},
  };
  return t;
}

// Column keys as the Chinese template headers name them (the first alias).
const std::map<std::string, std::string>& column_labels() {
  static const std::map<std::string, std::string> m = [] {
    std::map<std::string, std::string> out;
    for (const auto& k : kind_names())
      for (const auto& col : make_kind(k)->columns())
        if (!col.aliases.empty()) out.emplace(col.key, col.aliases.front());
    return out;
  }();
  return m;
}

std::string translated(std::string_view key, const std::string& v, bool zh, const Reason&) {
  if (!zh) return v;
  if (key == "column" || key == "other") {
    auto it = column_labels().find(v);
    return it != column_labels().end() ? it->second : v;
  }
  if (key == "status") {
    static const std::map<std::string, std::string> status = {
        {"in_stock", "在库"}, {"sold", "已售"}, {"installed", "已安装"}, {"scrapped", "已报废"}, {"replaced", "已更换"}};
    auto it = status.find(v);
    return it != status.end() ? it->second : v;
  }
  return v;
}

}  // namespace

Error bad_row(const std::string& column, const char* code, std::vector<std::pair<std::string, std::string>> args,
              Error::Code kind) {
  Reason r{code, std::move(args)};
  return Error{kind, render_reason(catalog(), r, "en"), column};
}

Reason reason_of(const Error& e) {
  if (e.code == Error::Code::internal || e.code == Error::Code::unavailable)
    return Reason{"not_stored", {{"message", e.message}}};
  auto r = match_reason(catalog(), e.message);
  if (!r || r->code == "other" || r->code == "not_stored") return Reason{"other", {{"message", e.message}}};
  return *r;
}

std::string reason_text(const Reason& r, std::string_view lang) {
  return render_reason(catalog(), r, lang, translated);
}

bool reason_known(std::string_view code) { return catalog().count(code) != 0; }

}  // namespace shouhou::imports
