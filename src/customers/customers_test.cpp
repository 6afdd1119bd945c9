// Pure rules of the customers module: phone normalisation, tiers, duplicate
// detection, text normalisation, and the embedded division data.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "customers/customers.h"
#include "customers/phone.h"
#include "divisions/divisions.h"

using namespace shouhou;
using namespace shouhou::customers;

namespace {
std::string norm(std::string_view raw, std::string_view area = {}) {
  auto n = normalize_phone(raw, area);
  return n ? *n : "<invalid>";
}
}  // namespace

TEST(CustomersPhone, TheIssueExamplesResolveToOneNumber) {
  EXPECT_EQ(norm("+86 138 0013 8000"), "13800138000");
  EXPECT_EQ(norm("13800138000"), "13800138000");
  EXPECT_EQ(norm("0086-13800138000"), "13800138000");
  EXPECT_EQ(norm("138-0013-8000"), "13800138000");
  EXPECT_EQ(norm("(021) 5030 1234"), "02150301234");
  EXPECT_EQ(norm("021-5030-1234"), "02150301234");
  EXPECT_EQ(norm("021-5030-1234 ext. 8"), "02150301234");
  EXPECT_EQ(norm("021-50301234转8"), "02150301234");
  EXPECT_EQ(norm("5030-1234", "021"), "02150301234");
  EXPECT_EQ(norm("5030-1234", "21"), "02150301234");
}

TEST(CustomersPhone, Mobiles) {
  for (const char* raw : {"13800138000", "138 0013 8000", "138-0013-8000", "138.0013.8000", "+8613800138000",
                          "+86-138-0013-8000", "+86 (0) 138 0013 8000", "8613800138000", "86 138 0013 8000",
                          "008613800138000", "(+86) 13800138000", "tel:+86-138-0013-8000", "TEL:13800138000",
                          "013800138000" /* long-distance 0 */, "17951 13800138000" /* IP dialling */,
                          "１３８００１３８０００" /* full width */, "＋８６　１３８－００１３－８０００",
                          "  13800138000  ", "\t138 0013 8000"})
    EXPECT_EQ(norm(raw), "13800138000") << raw;
  EXPECT_EQ(norm("19912345678"), "19912345678");
  EXPECT_EQ(norm("16612345678"), "16612345678");
  auto p = parse_phone("+86 138 0013 8000");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->kind, Phone::Kind::mobile);
  EXPECT_EQ(p->ext, "");
  EXPECT_EQ(p->area, "");
}

TEST(CustomersPhone, Landlines) {
  for (const char* raw : {"02150301234", "021 5030 1234", "021-50301234", "(021)50301234", "（021）5030-1234",
                          "+86 21 5030 1234", "+86 (0)21 5030 1234", "0086 21 50301234", "86-21-50301234",
                          "+86 021 5030 1234", "021.5030.1234", "17951 021 5030 1234"})
    EXPECT_EQ(norm(raw), "02150301234") << raw;
  EXPECT_EQ(norm("010-6552-9988"), "01065529988");        // Beijing, 3-digit area code
  EXPECT_EQ(norm("0531-86061234"), "053186061234");       // Jinan, 4-digit area code
  EXPECT_EQ(norm("0531 8606 123"), "05318606123");        // 7-digit subscriber
  EXPECT_EQ(norm("+86 531 8606 1234"), "053186061234");
  auto p = parse_phone("(0531) 8606-1234");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->kind, Phone::Kind::landline);
  EXPECT_EQ(p->area, "0531");
}

TEST(CustomersPhone, ExtensionsAreKeptApart) {
  struct Case { const char* raw; const char* norm; const char* ext; };
  for (auto c : {Case{"021-5030-1234 ext. 8", "02150301234", "8"}, Case{"021-5030-1234 ext 8", "02150301234", "8"},
                 Case{"021-5030-1234 EXT.88", "02150301234", "88"}, Case{"021-50301234x8", "02150301234", "8"},
                 Case{"021-50301234 X 123", "02150301234", "123"}, Case{"021-50301234转8", "02150301234", "8"},
                 Case{"021-50301234 转 8008", "02150301234", "8008"}, Case{"021-50301234分机8", "02150301234", "8"},
                 Case{"021-50301234#8", "02150301234", "8"}, Case{"021-50301234,8", "02150301234", "8"},
                 Case{"0531-8606-1234-12", "053186061234", "12"}, Case{"021 5030 1234 5", "02150301234", "5"},
                 Case{"021-50301234 ext. ", "02150301234", ""}, Case{"021－50301234转８", "02150301234", "8"}}) {
    auto p = parse_phone(c.raw);
    ASSERT_TRUE(p) << c.raw;
    EXPECT_EQ(p->norm, c.norm) << c.raw;
    EXPECT_EQ(p->ext, c.ext) << c.raw;
  }
}

TEST(CustomersPhone, ServiceAndForeignNumbers) {
  EXPECT_EQ(norm("400-820-8888"), "4008208888");
  EXPECT_EQ(norm("800 820 8888"), "8008208888");
  EXPECT_EQ(norm("+86 400 820 8888"), "4008208888");
  EXPECT_EQ(parse_phone("4008208888")->kind, Phone::Kind::service);
  EXPECT_EQ(norm("+1 (415) 555-0123"), "+14155550123");
  EXPECT_EQ(norm("001 415 555 0123"), "+14155550123");
  EXPECT_EQ(norm("+852 2123 4567"), "+85221234567");
  EXPECT_EQ(parse_phone("+852 2123 4567")->kind, Phone::Kind::foreign);
}

TEST(CustomersPhone, InvalidNumbersAreRejected) {
  for (const char* raw : {"", "   ", "abc", "138001380", "1380013800", "138001380001" /* 12 digits */,
                          "12800138000" /* no 12x mobile prefix */, "5030-1234" /* no area code known */,
                          "50301234", "021-123", "021-0301234" /* subscriber starts with 0 */,
                          "011-50301234" /* no such area code */, "00 1234" /* foreign too short */,
                          "++8613800138000", "138+00138000", "13800138000 ext. 1234567" /* ext too long */,
                          "13800138000 ext. 8a", "138 0013 8000 / 139 0188 8888", "电话13800138000",
                          "021-50301234-1234567", "00000000000", "+0 123 4567", "1", "+", "ext. 8",
                          "12345" /* short service number */, "95588", "+86", "0086"})
    EXPECT_FALSE(normalize_phone(raw)) << raw << " -> " << norm(raw);
  EXPECT_FALSE(normalize_phone(std::string(200, '1')));
  EXPECT_FALSE(normalize_phone(std::string("138\0" "00138000", 12)));
  EXPECT_FALSE(normalize_phone("5030-1234", "99"));  // a bad default area does not help
}

TEST(CustomersPhone, DefaultAreaOnlyCompletesLocalNumbers) {
  EXPECT_EQ(norm("86061234", "0531"), "053186061234");
  EXPECT_EQ(norm("021-50301234", "0531"), "02150301234");  // an explicit area code wins
  EXPECT_EQ(norm("13800138000", "0531"), "13800138000");
  EXPECT_EQ(normalize_area_code("21").value_or("-"), "021");
  EXPECT_EQ(normalize_area_code("010").value_or("-"), "010");
  EXPECT_EQ(normalize_area_code("531").value_or("-"), "0531");
  EXPECT_EQ(normalize_area_code("(0531)").value_or("-"), "0531");
  EXPECT_FALSE(normalize_area_code("11"));
  EXPECT_FALSE(normalize_area_code("05311"));
  EXPECT_FALSE(normalize_area_code("a21"));
  EXPECT_FALSE(normalize_area_code(""));
}

TEST(CustomersTier, ThresholdBoundaries) {
  TierThresholds t{1'000'000, 100'000};
  EXPECT_STREQ(tier_for(0, t), "small");
  EXPECT_STREQ(tier_for(99'999, t), "small");
  EXPECT_STREQ(tier_for(100'000, t), "key");      // at the threshold: the higher tier
  EXPECT_STREQ(tier_for(999'999, t), "key");
  EXPECT_STREQ(tier_for(1'000'000, t), "vip");
  EXPECT_STREQ(tier_for(INT64_MAX, t), "vip");
  TierThresholds zero{1, 0};  // everybody is at least "key"
  EXPECT_STREQ(tier_for(0, zero), "key");
  EXPECT_STREQ(tier_for(1, zero), "vip");
  TierThresholds def;
  EXPECT_STREQ(tier_for(def.vip_min_fen - 1, def), "key");
  EXPECT_STREQ(tier_for(def.key_min_fen - 1, def), "small");
}

TEST(CustomersTier, ThresholdValidation) {
  EXPECT_TRUE(validate_thresholds({1'000'000, 100'000}));
  EXPECT_TRUE(validate_thresholds({1, 0}));
  auto equal = validate_thresholds({100, 100});
  ASSERT_FALSE(equal);
  EXPECT_EQ(equal.error().field, "vip_min_fen");
  auto below = validate_thresholds({100, 200});
  ASSERT_FALSE(below);
  EXPECT_EQ(below.error().field, "vip_min_fen");
  auto negative = validate_thresholds({100, -1});
  ASSERT_FALSE(negative);
  EXPECT_EQ(negative.error().field, "key_min_fen");
}

TEST(CustomersText, NormalizeForMatching) {
  EXPECT_EQ(normalize_text("上海万力机械有限公司"), "上海万力机械有限公司");
  EXPECT_EQ(normalize_text(" 上海 万力　机械（有限公司） "), "上海万力机械有限公司");
  EXPECT_EQ(normalize_text("ＡＢＣ Ltd."), "abcltd");
  EXPECT_EQ(normalize_text("金港路108号"), normalize_text("金港路 １０８ 号"));
  EXPECT_EQ(normalize_text("张·三"), "张三");
  EXPECT_EQ(normalize_text("【测试】、《名称》。"), "测试名称");
  EXPECT_EQ(normalize_text(""), "");
  EXPECT_EQ(normalize_text("\xff\xfe"), "");  // broken UTF-8 is dropped, not kept
}

TEST(CustomersDuplicates, PhoneOrNameAndAddress) {
  DuplicateKeys a{{"13800138000", "02150301234"}, "上海万力机械有限公司", {{"310115", "金港路108号"}}};
  DuplicateKeys same_phone{{"02150301234"}, "别的公司", {}};
  EXPECT_EQ(duplicate_reasons(a, same_phone), std::vector<std::string>{"phone"});

  DuplicateKeys same_name_address{{"13911112222"}, "上海万力机械有限公司", {{"310115", "金港路108号"}}};
  EXPECT_EQ(duplicate_reasons(a, same_name_address), std::vector<std::string>{"name_address"});

  DuplicateKeys both{{"13800138000"}, "上海万力机械有限公司", {{"310115", "金港路108号"}}};
  EXPECT_EQ(duplicate_reasons(a, both), (std::vector<std::string>{"phone", "name_address"}));

  // Same name elsewhere is a different customer (a common personal name).
  DuplicateKeys other_city{{}, "上海万力机械有限公司", {{"370102", "金港路108号"}}};
  EXPECT_TRUE(duplicate_reasons(a, other_city).empty());
  DuplicateKeys other_street{{}, "上海万力机械有限公司", {{"310115", "张杨路1500号"}}};
  EXPECT_TRUE(duplicate_reasons(a, other_street).empty());
  // Same address, other name: a neighbour or a new tenant.
  DuplicateKeys other_name{{}, "上海天硕机电", {{"310115", "金港路108号"}}};
  EXPECT_TRUE(duplicate_reasons(a, other_name).empty());

  // Division codes at different levels are compatible when one contains the other.
  DuplicateKeys city_only{{}, "上海万力机械有限公司", {{"310100", "金港路108号"}}};
  EXPECT_EQ(duplicate_reasons(a, city_only), std::vector<std::string>{"name_address"});
  DuplicateKeys province_only{{}, "上海万力机械有限公司", {{"310000", "金港路108号"}}};
  EXPECT_EQ(duplicate_reasons(a, province_only), std::vector<std::string>{"name_address"});
  DuplicateKeys no_division{{}, "上海万力机械有限公司", {{"", "金港路108号"}}};
  EXPECT_EQ(duplicate_reasons(a, no_division), std::vector<std::string>{"name_address"});
  DuplicateKeys sibling_city{{}, "上海万力机械有限公司", {{"320100", "金港路108号"}}};
  EXPECT_TRUE(duplicate_reasons(a, sibling_city).empty());

  // Empty keys never match.
  DuplicateKeys empty{{""}, "", {{"", ""}}};
  EXPECT_TRUE(duplicate_reasons(empty, empty).empty());
  DuplicateKeys no_detail{{}, "李娜", {{"370102", ""}}};
  EXPECT_TRUE(duplicate_reasons(no_detail, no_detail).empty());
}

TEST(Divisions, EmbeddedDataIsCompleteAndConsistent) {
  const auto& all = divisions::embedded();
  ASSERT_GT(all.size(), 3000u);
  std::map<std::string, const divisions::Division*> by;
  for (const auto& d : all) {
    EXPECT_TRUE(by.emplace(d.code, &d).second) << "duplicate " << d.code;
  }
  int levels[4] = {0, 0, 0, 0};
  for (const auto& d : all) {
    levels[d.level]++;
    if (d.level == 1) continue;
    auto p = by.find(d.parent_code);
    ASSERT_NE(p, by.end()) << d.code;
    EXPECT_EQ(p->second->level, d.level - 1) << d.code;
  }
  EXPECT_EQ(levels[1], 31);
  EXPECT_GT(levels[2], 300);
  EXPECT_GT(levels[3], 2800);
  EXPECT_EQ(by.at("370000")->name, "山东省");
  EXPECT_EQ(by.at("370100")->name, "济南市");
  EXPECT_EQ(by.at("370102")->name, "历下区");
  EXPECT_EQ(by.at("370102")->parent_code, "370100");
  EXPECT_EQ(by.at("310115")->name, "浦东新区");
}

TEST(Divisions, ParseTsvNamesTheBadLine) {
  auto ok = divisions::parse_tsv("110000\t北京市\t1\t\n110100\t市辖区\t2\t110000\n");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->size(), 2u);
  for (const char* bad : {"11000\tx\t1\t\n", "110000\tx\t4\t\n", "110000\tx\t1\t110000\n", "110100\tx\t2\t\n",
                          "110000\t\t1\t\n", "110000\tx\t1\n"}) {
    auto r = divisions::parse_tsv(std::string("120000\t天津市\t1\t\n") + bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_NE(r.error().message.find("line 2"), std::string::npos) << r.error().message;
  }
}
