#include "core/input.h"

#include <gtest/gtest.h>

#include "core/util.h"

using namespace shouhou;
using nlohmann::json;

TEST(CoreInput, NamesTheFieldOnEveryError) {
  json j = {{"name", 5}, {"n", "x"}, {"list", {"a", 3}}, {"big", 1e30}};
  Input in(j);
  auto s = in.str("name");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().field, "name");
  EXPECT_NE(s.error().message.find("must be a string"), std::string::npos);
  auto missing = in.str("absent");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().field, "absent");
  auto n = in.integer("n");
  ASSERT_FALSE(n);
  EXPECT_EQ(n.error().field, "n");
  auto l = in.str_list("list");
  ASSERT_FALSE(l);
  EXPECT_EQ(l.error().field, "list[1]");
  EXPECT_FALSE(in.integer("big"));
}

TEST(CoreInput, TrimsAndCountsCodePoints) {
  json j = {{"name", "  售后服务  "}, {"long", std::string(201, 'x')}, {"ctl", "a\x01"}};
  Input in(j);
  EXPECT_EQ(*in.str("name", 4), "售后服务");
  EXPECT_FALSE(in.str("name", 3));
  EXPECT_FALSE(in.str("long"));
  EXPECT_FALSE(in.str("ctl"));
  EXPECT_EQ(*in.one_of("name", {"售后服务"}), "售后服务");
  EXPECT_FALSE(in.one_of("name", {"other"}));
}

TEST(CoreUtil, IsoRoundTrip) {
  EXPECT_EQ(iso_utc(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(iso_utc(1700000000123), "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(*parse_iso("2023-11-14T22:13:20.123Z"), 1700000000123);
  EXPECT_EQ(*parse_iso("2024-02-29"), *parse_iso("2024-02-29T00:00:00Z"));
  EXPECT_EQ(*parse_iso("2024-03-01T08:00:00+08:00"), *parse_iso("2024-03-01T00:00:00Z"));
  EXPECT_FALSE(parse_iso("2023-02-29"));
  EXPECT_FALSE(parse_iso("2023-13-01"));
  EXPECT_FALSE(parse_iso("yesterday"));
}

TEST(CoreUtil, TokensAreRandomAndHashed) {
  auto a = random_hex(16), b = random_hex(16);
  EXPECT_EQ(a.size(), 32u);
  EXPECT_NE(a, b);
  EXPECT_EQ(token_hash("x"), token_hash("x"));
  EXPECT_NE(token_hash("x"), token_hash("y"));
  EXPECT_TRUE(secure_equals("abc", "abc"));
  EXPECT_FALSE(secure_equals("abc", "abd"));
  EXPECT_FALSE(secure_equals("abc", "ab"));
}
