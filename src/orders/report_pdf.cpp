// The service request report (服务请求明细) as a PDF: the blocks of the
// report JSON laid out like seed 001's printed sheet, in Chinese, with times
// in Asia/Shanghai and amounts in yuan.
#include <map>

#include "core/pdf.h"
#include "core/util.h"
#include "orders/internal.h"

namespace shouhou::orders::detail {

namespace {

constexpr double kLeft = 36, kRight = pdf::kPageWidth - 36, kTop = 48, kBottom = pdf::kPageHeight - 48;
constexpr double kSize = 8.5, kLine = 11.5, kPad = 3;

// A JSON value as text ("" for null).
std::string str(const json& j) {
  if (j.is_string()) return j.get<std::string>();
  if (j.is_null()) return "";
  return j.dump();
}
// obj[key] without asserting on a missing key (null then).
const json& at(const json& obj, const char* key) {
  static const json null;
  if (!obj.is_object()) return null;
  auto it = obj.find(key);
  return it == obj.end() ? null : *it;
}
std::string field(const json& obj, const char* key) { return str(at(obj, key)); }
// An ISO-8601 UTC time as Beijing time, "2005-02-22 10:05".
std::string cn_time(const json& j) {
  if (!j.is_string()) return "";
  auto t = parse_iso(j.get<std::string>());
  if (!t) return j.get<std::string>();
  std::string s = iso_utc(*t + 8 * 3600 * 1000).substr(0, 16);
  s[10] = ' ';
  return s;
}
std::string label(const std::map<std::string, std::string>& m, const json& code) {
  std::string c = str(code);
  auto it = m.find(c);
  return it == m.end() ? c : it->second;
}
// Amounts without the currency sign (the PDF font's GB1 set may lack ¥).
std::string yuan(const json& fen) {
  std::string s = format_yuan(fen.is_number_integer() ? fen.get<int64_t>() : 0);
  const std::string sign = "¥";
  if (s.rfind(sign, 0) == 0) s.erase(0, sign.size());
  return s;
}

const std::map<std::string, std::string> kCustomerTypes = {
    {"direct", "最终用户-直接"}, {"indirect", "最终用户-间接"}, {"dealer", "经销商"}, {"agent", "代理商"}};
const std::map<std::string, std::string> kAssetStatuses = {
    {"in_stock", "在库"}, {"sold", "已售"}, {"installed", "已安装"}, {"scrapped", "已报废"}, {"replaced", "已更换"}};
const std::map<std::string, std::string> kRepro = {{"always", "可再现"}, {"sometimes", "偶尔再现"}, {"never", "不可再现"}};
const std::map<std::string, std::string> kSeverityNames = {
    {"critical", "1-致命"}, {"serious", "2-严重"}, {"normal", "3-一般"}, {"minor", "4-轻微"}};
const std::map<std::string, std::string> kPriorityNames = {
    {"urgent", "4-紧急"}, {"high", "3-高"}, {"medium", "2-中"}, {"low", "1-低"}};
const std::map<std::string, std::string> kContractTypes = {
    {"on_site", "现场服务"}, {"depot", "返厂维修"}, {"parts_only", "仅备件"}, {"full", "全保"}};
const std::map<std::string, std::string> kContractStatuses = {
    {"draft", "草稿"}, {"active", "已签订"}, {"expired", "已到期"}, {"cancelled", "已取消"}};
const std::map<std::string, std::string> kNoteKinds = {{"warning", "特殊提示"}, {"general", "一般注释"}};
const std::map<std::string, std::string> kTaskModes = {{"on_site", "现场服务"}, {"depot", "返厂维修"}};
const std::map<std::string, std::string> kTaskStatuses = {
    {"planned", "计划"}, {"in_progress", "进行中"}, {"done", "已完成"}, {"cancelled", "已取消"}};
const std::map<std::string, std::string> kPhoneKinds = {
    {"landline", "商务电话"}, {"mobile", "移动电话"}, {"service", "服务电话"}, {"foreign", "境外电话"}};

// Flowing layout on A4 pages: headings, label/value grids and tables whose
// rows wrap their cells and continue on the next page when long.
class Sheet {
 public:
  Sheet() { w.new_page(); }
  pdf::Writer w;
  double y = kTop;

  void title(const std::string& s, double size) {
    w.text((kLeft + kRight - pdf::text_width(s, size)) / 2, y + size, size, s);
    y += size + 8;
  }
  void text(const std::string& s, double size = kSize) {
    for (const auto& l : pdf::wrap(s, size, kRight - kLeft)) {
      need(kLine);
      w.text(kLeft, y + size, size, l);
      y += kLine;
    }
  }
  void heading(const std::string& s) {
    need(16 + 2 * kLine + 2 * kPad + 6);  // never a heading alone at the foot of a page
    y += 6;
    w.fill_rect(kLeft, y, kRight - kLeft, 15, 0.85);
    w.text(kLeft + 4, y + 11, 10, s);
    y += 15;
  }
  // Label/value pairs, two pairs a row; wide ones take a whole row.
  struct Field {
    std::string label, value;
    bool wide = false;
  };
  void fields(const std::vector<Field>& fs) {
    const double lw = 62, half = (kRight - kLeft) / 2;
    for (size_t i = 0; i < fs.size();) {
      if (fs[i].wide || i + 1 == fs.size() || fs[i + 1].wide) {
        row({fs[i].label, fs[i].value}, {lw, kRight - kLeft - lw}, {true, false});
        ++i;
      } else {
        row({fs[i].label, fs[i].value, fs[i + 1].label, fs[i + 1].value}, {lw, half - lw, lw, half - lw},
            {true, false, true, false});
        i += 2;
      }
    }
  }
  // A table: header row, then rows; widths are fractions of the line.
  // right: the columns aligned right (numbers).
  void table(const std::vector<std::string>& head, const std::vector<double>& frac,
             const std::vector<std::vector<std::string>>& rows, const std::vector<bool>& right = {}) {
    std::vector<double> ws;
    for (double f : frac) ws.push_back(f * (kRight - kLeft));
    std::vector<bool> shade(head.size(), true);
    need(2 * (kLine + 2 * kPad));
    row(head, ws, shade);
    if (rows.empty()) {
      row({"（无）"}, {kRight - kLeft}, {false});
      return;
    }
    for (const auto& r : rows) row(r, ws, std::vector<bool>(r.size(), false), right);
  }
  void row(const std::vector<std::string>& cells, const std::vector<double>& ws, const std::vector<bool>& shade,
           const std::vector<bool>& right = {}) {
    std::vector<std::vector<std::string>> lines;
    size_t most = 1;
    for (size_t i = 0; i < cells.size(); ++i) {
      lines.push_back(pdf::wrap(cells[i], kSize, ws[i] - 2 * kPad));
      most = std::max(most, lines.back().size());
    }
    // Rows taller than what is left of the page continue on the next one.
    for (size_t done = 0; done < most;) {
      size_t fit = static_cast<size_t>((kBottom - y - 2 * kPad) / kLine);
      if (fit == 0 || (done == 0 && fit < std::min<size_t>(most, 3))) {
        next_page();
        continue;
      }
      size_t n = std::min(fit, most - done);
      double h = n * kLine + 2 * kPad, x = kLeft;
      for (size_t i = 0; i < cells.size(); ++i) {
        if (i < shade.size() && shade[i]) w.fill_rect(x, y, ws[i], h, 0.94);
        w.line(x, y, x + ws[i], y);
        w.line(x, y + h, x + ws[i], y + h);
        w.line(x, y, x, y + h);
        w.line(x + ws[i], y, x + ws[i], y + h);
        for (size_t k = done; k < done + n && k < lines[i].size(); ++k) {
          double tx = x + kPad;
          if (i < right.size() && right[i]) tx = x + ws[i] - kPad - pdf::text_width(lines[i][k], kSize);
          w.text(tx, y + kPad + (k - done) * kLine + kSize, kSize, lines[i][k]);
        }
        x += ws[i];
      }
      y += h;
      done += n;
    }
  }
  void need(double h) {
    if (y + h > kBottom) next_page();
  }
  void next_page() {
    w.new_page();
    y = kTop;
  }
};

}  // namespace

std::string report_pdf(const json& r) {
  Sheet s;
  s.title("服务请求明细", 16);
  s.text("服务请求#：" + field(r, "number"), 10);

  const json& cu = at(r, "customer");
  s.heading("客户信息");
  std::vector<Sheet::Field> cf = {{"单位", field(cu, "name")}, {"单位类型", label(kCustomerTypes, at(cu, "type"))},
                                  {"地址", field(cu, "address")}, {"邮编", field(cu, "postcode")},
                                  {"联系人", field(cu, "contact")}, {"电子邮件", field(cu, "email")}};
  if (cu.is_object())
    for (const auto& p : at(cu, "phones"))
      cf.push_back({at(p, "label").is_string() ? field(p, "label") : label(kPhoneKinds, at(p, "kind")), field(p, "number")});
  const json& site = at(r, "site");
  std::string site_text = field(site, "division_name") + field(site, "address");
  if (!field(site, "postcode").empty()) site_text += "（" + field(site, "postcode") + "）";
  cf.push_back({"服务地址", site_text, true});
  cf.push_back({"现场联系人", field(at(r, "contact"), "name") + " " + field(at(r, "contact"), "phone"), true});
  s.fields(cf);

  const json& a = at(r, "asset");
  s.heading("客户资产");
  if (a.is_object()) {
    const json& wy = at(a, "warranty");
    s.fields({{"资产名称", field(a, "name")}, {"型号", field(a, "model")},
              {"资产#", field(a, "asset_tag")}, {"序列号", field(a, "serial")},
              {"参考#", field(a, "reference")}, {"供应商", field(a, "supplier")},
              {"保期开始", field(wy, "start")}, {"保期截至", field(wy, "end")},
              {"保期类型", field(wy, "policy")}, {"资产状态", label(kAssetStatuses, at(a, "status"))},
              {"安装日期", field(a, "install_date")}, {"运行日期", field(a, "commissioned_on")},
              {"销售日期", field(a, "sale_date")}, {"是否在保", at(wy, "in_warranty") == true ? "是" : "否"}});
  } else {
    s.text("（无资产记录）");
  }

  const json& p = at(r, "problem");
  s.heading("问题范围、严重程度、现象及受理状态");
  s.fields({{"问题范围", field(p, "area")}, {"子范围", field(p, "subarea")},
            {"再现性", label(kRepro, at(p, "reproducibility"))}, {"严重程度", label(kSeverityNames, at(p, "severity"))},
            {"问题描述", field(p, "description"), true}, {"问题摘要", field(p, "summary"), true},
            {"受理日期", cn_time(at(p, "accepted_at"))}, {"结案日期", cn_time(at(p, "closed_at"))},
            {"状态", p.contains("state_name") ? field(p, "state_name") : field(p, "state")}, {"子状态", field(p, "sub_state")},
            {"优先级", label(kPriorityNames, at(p, "priority"))}, {"服务小组", field(p, "service_group")}});

  s.heading("服务合约");
  std::vector<std::vector<std::string>> rows;
  if (const json& k = at(r, "contract"); k.is_object())
    rows.push_back({field(k, "number"), field(k, "name"), label(kContractTypes, at(k, "type")),
                    label(kContractStatuses, at(k, "status")), field(k, "response_mode"), field(k, "response_time"),
                    field(k, "start_date"), field(k, "end_date")});
  s.table({"合约#", "服务合约", "合约类型", "合约状态", "响应方式", "响应时间", "起始日期", "截至日期"},
          {0.2, 0.16, 0.1, 0.09, 0.08, 0.15, 0.11, 0.11}, rows);

  s.heading("服务便笺");
  rows.clear();
  for (const auto& n : at(r, "notes"))
    rows.push_back({label(kNoteKinds, at(n, "kind")), field(n, "body"), cn_time(at(n, "created_at")), field(n, "author")});
  s.table({"便笺类型", "内容", "创建时间", "创建人"}, {0.12, 0.58, 0.18, 0.12}, rows);

  s.heading("任务安排");
  rows.clear();
  for (const auto& t : at(r, "tasks"))
    rows.push_back({field(t, "subject"), label(kTaskModes, at(t, "mode")), cn_time(at(t, "planned_start")), cn_time(at(t, "actual_start")),
                    cn_time(at(t, "actual_end")), label(kTaskStatuses, at(t, "status")), field(t, "assignee"), field(t, "remarks")});
  s.table({"任务主题", "任务方式", "要求开始", "实际开始", "实际结束", "任务状态", "执行人", "备注"},
          {0.2, 0.08, 0.11, 0.11, 0.11, 0.08, 0.08, 0.23}, rows);

  s.heading("维护处理");
  rows.clear();
  for (const auto& m : at(r, "maintenance"))
    rows.push_back({field(m, "date"), field(m, "type"), field(m, "summary"), field(m, "asset_name"), field(m, "serial"),
                    field(m, "quantity"), field(m, "performed_by")});
  s.table({"维护日期", "维护类型", "简述", "资产名称", "序列号", "数量", "维护人"}, {0.11, 0.1, 0.33, 0.14, 0.16, 0.06, 0.1},
          rows, {false, false, false, false, false, true, false});

  s.heading("客户满意度");
  rows.clear();
  for (const auto& x : at(r, "satisfaction"))
    rows.push_back({field(x, "date"), field(x, "feedback"), field(x, "contact_name"), field(x, "score"), field(x, "max_score"),
                    field(x, "percent") + "%", field(x, "evaluated_by")});
  s.table({"评测日期", "客户反馈（简述）", "客户联系人", "综合得分", "满分基数", "满意度", "评测人"},
          {0.11, 0.41, 0.11, 0.09, 0.09, 0.09, 0.1}, rows, {false, false, false, true, true, true, false});

  const json& ch = at(r, "charges");
  s.heading("零部件及工时");
  // The sales contract header the lines hang under (配件销售单), as in seed 001.
  if (const json& so = at(r, "sales_order"); so.is_object())
    s.fields({{"合同#", field(so, "number")}, {"签定日期", field(so, "signed_on")},
              {"审核状态", field(so, "approval_status_name")}, {"简述", field(so, "summary")},
              {"类型", field(so, "type_name")}, {"状态", field(so, "status_name")},
              {"单位", field(so, "customer_name")}, {"联系人", field(so, "contact_name")},
              {"付款方式", field(so, "payment_method_name")}, {"销售方式", field(so, "sales_method_name")},
              {"交货方式", field(so, "delivery_method_name")}, {"发货日期", field(so, "ship_date")},
              {"销售小组", field(so, "sales_team")}});
  std::string head = "SR客户资产是否在保内？" + std::string(at(ch, "in_warranty") == true ? "是" : "否");
  if (at(ch, "contract").is_object()) head = "合约#：" + field(at(ch, "contract"), "number") + "    " + head;
  head += "    付款方：" + std::string(at(ch, "payer") == "warranty" ? "保修" : "客户");
  s.text(head);
  rows.clear();
  for (const auto& l : at(ch, "lines"))
    rows.push_back({field(l, "no"), field(l, "name"), field(l, "code"), field(l, "quantity"), field(l, "unit"),
                    yuan(at(l, "unit_price_fen")), yuan(at(l, "amount_fen")), field(l, "remark")});
  const json& t = at(ch, "totals");
  auto total_row = [&](const std::string& name, const json& fen) {
    rows.push_back({"", name, "", "", "", "", yuan(fen), ""});
  };
  total_row("合计金额", at(t, "subtotal_fen"));
  if (at(t, "discount_fen").is_number_integer() && at(t, "discount_fen") != 0)
    total_row("合约折扣", -at(t, "discount_fen").get<int64_t>());
  total_row("去零", at(t, "rounding_fen"));
  total_row("总计金额", at(t, "total_fen"));
  s.table({"序号", "产品名称", "产品编号", "数量", "计量", "单价(元)", "小计金额(元)", "备注"},
          {0.06, 0.22, 0.12, 0.07, 0.07, 0.12, 0.14, 0.2}, rows,
          {true, false, false, true, false, true, true, false});

  const json& f = at(r, "footer");
  s.need(4 * kLine);
  s.y += kLine;
  s.text(field(f, "company"), 10);
  s.text("SR负责人：" + field(f, "owner"));
  std::string d = field(f, "report_date");  // YYYY-MM-DD -> YYYY年M月D日
  if (d.size() == 10)
    d = d.substr(0, 4) + "年" + std::to_string(std::stoi(d.substr(5, 2))) + "月" + std::to_string(std::stoi(d.substr(8, 2))) + "日";
  s.text("报表日期：" + d);

  // Every page's foot: the number and "page i of n".
  size_t pages = s.w.page_count();
  for (size_t i = 0; i < pages; ++i) {
    s.w.go_to_page(i);
    std::string foot = field(r, "number") + "    第 " + std::to_string(i + 1) + " 页 / 共 " + std::to_string(pages) + " 页";
    s.w.text(kRight - pdf::text_width(foot, 8), pdf::kPageHeight - 28, 8, foot);
  }
  return s.w.finish("服务请求明细 " + field(r, "number"));
}

}  // namespace shouhou::orders::detail
