#include <gtest/gtest.h>
#include <zlib.h>

#include "imports/kinds.h"
#include "imports/tabular.h"

using namespace shouhou;
using namespace shouhou::imports;

namespace {

std::vector<Record> all(Sheet& s) {
  std::vector<Record> out;
  Record r;
  while (true) {
    auto n = s.next(r);
    EXPECT_TRUE(n.ok()) << (n.ok() ? "" : n.error().message);
    if (!n.ok() || !*n) break;
    out.push_back(r);
  }
  return out;
}

// A minimal ZIP archive (deflated entries) with a correct central directory.
std::string zip(const std::vector<std::pair<std::string, std::string>>& files) {
  std::string out, central;
  auto u16 = [](std::string& s, uint32_t v) { s += char(v & 0xff); s += char((v >> 8) & 0xff); };
  auto u32 = [&](std::string& s, uint32_t v) { u16(s, v & 0xffff); u16(s, v >> 16); };
  for (const auto& [name, data] : files) {
    std::string comp = deflate_raw(data);
    uint32_t crc = crc32(0, reinterpret_cast<const Bytef*>(data.data()), data.size());
    uint32_t off = out.size();
    u32(out, 0x04034b50); u16(out, 20); u16(out, 0); u16(out, 8); u16(out, 0); u16(out, 0);
    u32(out, crc); u32(out, comp.size()); u32(out, data.size()); u16(out, name.size()); u16(out, 0);
    out += name;
    out += comp;
    u32(central, 0x02014b50); u16(central, 20); u16(central, 20); u16(central, 0); u16(central, 8);
    u16(central, 0); u16(central, 0); u32(central, crc); u32(central, comp.size()); u32(central, data.size());
    u16(central, name.size()); u16(central, 0); u16(central, 0); u16(central, 0); u16(central, 0); u32(central, 0);
    u32(central, off);
    central += name;
  }
  uint32_t cd_off = out.size();
  out += central;
  u32(out, 0x06054b50); u16(out, 0); u16(out, 0); u16(out, files.size()); u16(out, files.size());
  u32(out, central.size()); u32(out, cd_off); u16(out, 0);
  return out;
}

}  // namespace

TEST(ImportsCsv, QuotesEmbeddedNewlinesAndBom) {
  std::string data = "\xEF\xBB\xBFserial,name,notes\r\n"
                     "A1,\"张三, Jr.\",\"line one\r\nline two\"\r\n"
                     "A2,\"He said \"\"hi\"\"\",\r\n"
                     "\r\n"
                     "A3,plain,last";  // no final newline
  auto s = open_csv(data);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ((*s)->data_rows(), 4);
  auto rows = all(**s);
  ASSERT_EQ(rows.size(), 5u);
  EXPECT_EQ(rows[0].cells, (std::vector<std::string>{"serial", "name", "notes"}));  // BOM stripped
  EXPECT_EQ(rows[1].row, 2);
  EXPECT_EQ(rows[1].cells[1], "张三, Jr.");
  EXPECT_EQ(rows[1].cells[2], "line one\r\nline two");
  EXPECT_EQ(rows[2].row, 3);  // a record with an embedded newline is one row
  EXPECT_EQ(rows[2].cells[1], "He said \"hi\"");
  EXPECT_EQ(rows[2].cells[2], "");
  EXPECT_EQ(rows[3].cells, (std::vector<std::string>{""}));
  EXPECT_EQ(rows[4].row, 5);
  EXPECT_EQ(rows[4].cells[2], "last");
}

TEST(ImportsCsv, SemicolonAndTabDelimiters) {
  auto s = open_csv("a;b;c\n1;\"2;x\";3\n");
  ASSERT_TRUE(s.ok());
  auto rows = all(**s);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1].cells, (std::vector<std::string>{"1", "2;x", "3"}));
  auto t = open_csv("a\tb\n1\t2\n");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(all(**t)[1].cells, (std::vector<std::string>{"1", "2"}));
}

TEST(ImportsCsv, UnclosedQuoteIsAnErrorNamingTheRow) {
  auto s = open_csv("a,b\n1,\"never closed\n2,3\n");
  ASSERT_TRUE(s.ok());
  Record r;
  ASSERT_TRUE(*(*s)->next(r));
  auto n = (*s)->next(r);
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.error().field, "file");
  EXPECT_NE(n.error().message.find("row 2"), std::string::npos);
}

TEST(ImportsCsv, NonUtf8IsRefusedNamingTheEncoding) {
  // "张三" in GBK: D5 C5 C8 FD
  auto s = open_csv("name,phone\n\xD5\xC5\xC8\xFD,13800138000\n");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Error::Code::invalid);
  EXPECT_EQ(s.error().field, "file");
  EXPECT_NE(s.error().message.find("GBK"), std::string::npos) << s.error().message;
  EXPECT_EQ(non_utf8_encoding("caf\xE9 ol\xE9"), "Latin-1/Windows-1252");
  EXPECT_EQ(non_utf8_encoding(std::string("\xFF\xFEn\0a\0", 6)), "UTF-16LE");
  EXPECT_EQ(non_utf8_encoding("张三 ok"), "");
  EXPECT_EQ(non_utf8_encoding("\xED\xA0\x80"), "Latin-1/Windows-1252");  // UTF-16 surrogate in UTF-8: invalid
}

TEST(ImportsCsv, EmptyFileIsRefused) {
  EXPECT_FALSE(open_csv("").ok());
  EXPECT_FALSE(open_csv("\xEF\xBB\xBF\r\n").ok());
}

TEST(ImportsFormat, DetectedFromNameOrContent) {
  EXPECT_EQ(*detect_format("x.CSV", "a,b"), "csv");
  EXPECT_EQ(*detect_format("x.xlsx", "PK"), "xlsx");
  EXPECT_EQ(*detect_format("", std::string("PK\3\4rest", 8)), "xlsx");
  EXPECT_EQ(detect_format("x.xls", "").error().code, Error::Code::unsupported);
  EXPECT_EQ(detect_format("x.pdf", "").error().field, "filename");
}

TEST(ImportsXlsx, SharedStringsInlineStringsNumbersAndGaps) {
  std::string sst = R"(<?xml version="1.0" encoding="UTF-8"?><sst xmlns="x" count="4" uniqueCount="4">)"
                    R"(<si><t>serial</t></si><si><t>name</t></si><si><r><t>张</t></r><r><rPr/><t xml:space="preserve">三 &amp; 李</t></r><rPh><t>ZHANG</t></rPh></si>)"
                    R"(<si><t>SN-1</t></si></sst>)";
  std::string sheet = R"(<?xml version="1.0"?><worksheet><sheetData>)"
                      R"(<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="inlineStr"><is><t>date</t></is></c></row>)"
                      R"(<row r="2"><c r="A2" t="s"><v>3</v></c><c r="B2" t="s"><v>2</v></c><c r="C2"><v>45292</v></c></row>)"
                      R"(<row r="4"><c r="C4" t="b"><v>1</v></c></row>)"
                      R"(</sheetData></worksheet>)";
  std::string file = zip({{"[Content_Types].xml", "<Types/>"}, {"xl/sharedStrings.xml", sst},
                          {"xl/worksheets/sheet1.xml", sheet}});
  auto s = open_xlsx(file);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ((*s)->data_rows(), 3);
  auto rows = all(**s);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].cells, (std::vector<std::string>{"serial", "name", "date"}));
  EXPECT_EQ(rows[1].row, 2);
  EXPECT_EQ(rows[1].cells, (std::vector<std::string>{"SN-1", "张三 & 李", "45292"}));
  EXPECT_EQ(rows[2].row, 4);
  EXPECT_EQ(rows[2].cells, (std::vector<std::string>{"", "", "TRUE"}));
  EXPECT_EQ(excel_serial_date(45292), "2024-01-01");
  EXPECT_EQ(excel_serial_date(60), "1900-02-28");  // Excel's fictitious 1900-02-29 is serial 60 in 1900 mode
}

TEST(ImportsXlsx, DamagedOrForeignFilesAreRefused) {
  EXPECT_EQ(open_xlsx("not a zip at all, just text that is long enough").error().field, "file");
  std::string no_sheet = zip({{"xl/workbook.xml", "<workbook/>"}});
  auto r = open_xlsx(no_sheet);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("worksheet"), std::string::npos);
  std::string bad_ref = zip({{"xl/worksheets/sheet1.xml",
                              R"(<worksheet><sheetData><row r="1"><c r="A1" t="s"><v>7</v></c></row></sheetData></worksheet>)"}});
  EXPECT_FALSE(open_xlsx(bad_ref).ok());
  std::string truncated = zip({{"xl/worksheets/sheet1.xml", std::string(5000, 'x')}});
  truncated.erase(40, 200);  // damage the compressed data, keep the directory
  EXPECT_FALSE(open_xlsx(truncated).ok());
}

TEST(ImportsXlsx, InflateRefusesBombs) {
  std::string big(1 << 20, 'a');
  std::string z = deflate_raw(big);
  EXPECT_TRUE(inflate_raw(z, big.size(), 2 << 20).ok());
  auto r = inflate_raw(z, 0, 1000);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Error::Code::too_large);
}

// Bad-row reasons: built from the catalogue (English as the API always said),
// recognised again from an Error, and rendered in Chinese with the column's
// Chinese header.
TEST(ImportsReasons, CodesRoundTripAndRenderInChinese) {
  Error e = bad_row("sale_date", "bad_date", {{"column", "sale_date"}, {"value", "2024-02-30"}});
  EXPECT_EQ(e.message, "sale_date \"2024-02-30\" must be a date YYYY-MM-DD, not in the future");
  EXPECT_EQ(e.field, "sale_date");
  Reason r = reason_of(e);
  EXPECT_EQ(r.code, "bad_date");
  EXPECT_EQ(r.arg("column"), "sale_date");
  EXPECT_EQ(r.arg("value"), "2024-02-30");
  EXPECT_EQ(reason_text(r, "en"), e.message);
  EXPECT_EQ(reason_text(r, "zh-CN"), "销售日期“2024-02-30”须为 YYYY-MM-DD 格式的日期，且不晚于今天");

  // The more specific template wins over "{column} is required with {other}".
  Reason o = reason_of(bad_row("customer_phone", "phone_needs_name"));
  EXPECT_EQ(o.code, "phone_needs_name");
  Reason w = reason_of(bad_row("install_date", "required_with", {{"column", "install_date"}, {"other", "installer"}}));
  EXPECT_EQ(w.code, "required_with");
  EXPECT_EQ(reason_text(w, "zh-CN"), "填写安装单位时，安装日期为必填项");

  // The install base's own English texts are recognised; statuses translated.
  Reason s = reason_of(Error::conflict("asset SN-1 is scrapped: no sale can be recorded", "status"));
  EXPECT_EQ(s.code, "asset_no_sale");
  EXPECT_EQ(reason_text(s, "zh-CN"), "设备 SN-1 状态为已报废，不能登记销售");

  // Anything else: "other" with the message; database errors "not_stored".
  Reason x = reason_of(Error::invalid("something new", "notes"));
  EXPECT_EQ(x.code, "other");
  EXPECT_EQ(reason_text(x, "zh-CN"), "something new");
  Reason d = reason_of(Error::internal("disk I/O error"));
  EXPECT_EQ(d.code, "not_stored");
  EXPECT_EQ(reason_text(d, "en"), "could not be stored: disk I/O error");
  EXPECT_TRUE(reason_known("unknown_model"));
  EXPECT_FALSE(reason_known("no_such_code"));
}

TEST(CoreReason, MatchTakesTheMostSpecificTemplateAndRepeatsAgree) {
  ReasonCatalog c = {{"a", {"{x} is required", "-"}},
                     {"b", {"{x} is required with {y}", "-"}},
                     {"c", {"{x} and {x} again", "-"}}};
  auto r = match_reason(c, "foo is required with bar baz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->code, "b");
  EXPECT_EQ(r->arg("y"), "bar baz");
  EXPECT_EQ(match_reason(c, "foo is required")->code, "a");
  EXPECT_EQ(match_reason(c, "p and p again")->code, "c");
  EXPECT_FALSE(match_reason(c, "p and q again"));
  EXPECT_FALSE(match_reason(c, "nothing like it"));
}
