#include "core/pdf.h"

#include <gtest/gtest.h>

using namespace shouhou;

TEST(Pdf, TextIsUtf16BeHexForUniGbUcs2) {
  EXPECT_EQ(pdf::hex_string("中文A"), "<4E2D65870041>");
  EXPECT_EQ(pdf::hex_string("¥1,322.00"), "<00A50031002C003300320032002E00300030>");
  // Outside the BMP and malformed bytes: '?', never a broken string.
  EXPECT_EQ(pdf::hex_string("\xF0\x9F\x98\x80x"), "<003F0078>");
  EXPECT_EQ(pdf::hex_string("\xE4\xB8"), "<003F003F>");
}

TEST(Pdf, WidthsAndWrapping) {
  EXPECT_DOUBLE_EQ(pdf::text_width("中文", 10), 20);
  EXPECT_DOUBLE_EQ(pdf::text_width("0", 10), 4.62);
  auto lines = pdf::wrap("一二三四五六七八九十", 10, 35);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0], "一二三");
  EXPECT_EQ(lines[3], "十");
  // Latin words break at spaces; newlines are kept.
  lines = pdf::wrap("alpha beta gamma", 10, 60);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], "alpha beta");
  EXPECT_EQ(lines[1], "gamma");
  EXPECT_EQ(pdf::wrap("a\nb", 10, 100), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(pdf::wrap("", 10, 100).size(), 1u);
}

TEST(Pdf, FileHasCorrectCrossReferences) {
  pdf::Writer w;
  w.text(40, 60, 16, "服务请求明细");
  w.line(40, 70, 555, 70);
  w.new_page();
  w.fill_rect(40, 80, 100, 20, 0.9);
  w.text(40, 100, 9, "第 2 页");
  std::string f = w.finish("测试");
  auto n = pdf::check_structure(f);
  ASSERT_TRUE(n) << n.error().message;
  EXPECT_EQ(*n, 6u + 2 * 2);  // catalog, pages, 3 font objects, info + (page, content) per page
  EXPECT_NE(f.find("/BaseFont /STSong-Light /Encoding /UniGB-UCS2-H"), std::string::npos);
  EXPECT_NE(f.find("/Ordering (GB1)"), std::string::npos);
  EXPECT_NE(f.find("/Count 2"), std::string::npos);
  EXPECT_NE(f.find(pdf::hex_string("服务请求明细")), std::string::npos);
  EXPECT_NE(f.find("/Title <FEFF6D4B8BD5>"), std::string::npos);
  // The checker catches a shifted object (an offset no longer right).
  std::string broken = f;
  broken.insert(broken.find("3 0 obj"), " ");
  EXPECT_FALSE(pdf::check_structure(broken));
  EXPECT_FALSE(pdf::check_structure("%PDF-1.4\nnot really"));
  EXPECT_FALSE(pdf::check_structure(f.substr(0, f.size() - 30) + "startxref\nxx\n%%EOF\n"));
}
