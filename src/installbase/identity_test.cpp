// The asset tag (资产#) and commissioning date (运行日期) rules (identity.cpp);
// the API, import and scope cases run against a real server in
// tests/api/installbase_api_test.cpp and imports_api_test.cpp.
#include <gtest/gtest.h>

#include "core/input.h"
#include "installbase/installbase.h"

namespace shouhou::installbase {
namespace {

using nlohmann::json;

TEST(AssetIdentity, TagsAreNormalisedAndChecked) {
  auto tag = [](const json& v) { return read_asset_tag(Input(json{{"asset_tag", v}}), "asset_tag"); };
  auto wl = tag(" wl006 ");
  ASSERT_TRUE(wl.ok());
  EXPECT_EQ(wl->value_or(""), "WL006") << "stored like a serial: trimmed, upper-cased";
  EXPECT_FALSE(tag("")->has_value()) << "empty means none";
  EXPECT_FALSE(tag(nullptr)->has_value());
  EXPECT_EQ(tag("A-1_2/3.4")->value_or(""), "A-1_2/3.4");
  EXPECT_TRUE(tag(std::string(32, 'A')).ok());
  for (const json& badv : {json(std::string(33, 'A')), json("WL 006"), json("资产6"), json("WL#6"), json(6)}) {
    auto r = tag(badv);
    ASSERT_FALSE(r.ok()) << badv;
    EXPECT_EQ(r.error().field, "asset_tag") << badv;
  }
  // Nested bodies name the nested field.
  auto nested = read_asset_tag(Input(json{{"asset_tag", "?"}}, "asset"), "asset_tag");
  ASSERT_FALSE(nested.ok());
  EXPECT_EQ(nested.error().field, "asset.asset_tag");
  EXPECT_TRUE(valid_asset_tag("WL006"));
  EXPECT_FALSE(valid_asset_tag(""));
  EXPECT_FALSE(valid_asset_tag("wl006")) << "normalised tags only";
}

TEST(AssetIdentity, CommissioningDate) {
  auto day = [](const json& v) { return read_commissioned_on(Input(json{{"commissioned_on", v}}), "commissioned_on"); };
  EXPECT_EQ(day("2004-06-02")->value_or(""), "2004-06-02");
  EXPECT_EQ(day("2024-02-29")->value_or(""), "2024-02-29") << "leap day";
  EXPECT_FALSE(day(nullptr)->has_value());
  for (const json& badv : {json("2023-02-29"), json("2004-6-2"), json("2004/06/02"), json("2999-01-01"), json(20040602)}) {
    auto r = day(badv);
    ASSERT_FALSE(r.ok()) << badv;
    EXPECT_EQ(r.error().field, "commissioned_on") << badv;
  }
  // Seed 001: installed 2004-05-31, in operation from 2004-06-02.
  EXPECT_TRUE(check_commissioning(std::string("2004-06-02"), std::string("2004-05-31"), "commissioned_on").ok());
  EXPECT_TRUE(check_commissioning(std::string("2004-05-31"), std::string("2004-05-31"), "c").ok()) << "the same day";
  auto early = check_commissioning(std::string("2004-05-30"), std::string("2004-05-31"), "commissioned_on");
  ASSERT_FALSE(early.ok());
  EXPECT_EQ(early.error().field, "commissioned_on");
  EXPECT_NE(early.error().message.find("2004-05-31"), std::string::npos) << early.error().message;
  EXPECT_TRUE(check_commissioning(std::nullopt, std::string("2004-05-31"), "c").ok());
  EXPECT_TRUE(check_commissioning(std::string("2004-05-30"), std::nullopt, "c").ok()) << "not installed (yet)";
}

}  // namespace
}  // namespace shouhou::installbase
