#include "claims/claims.h"

#include <gtest/gtest.h>

namespace shouhou::claims {
namespace {

Facts clean() {
  Facts f;
  f.claim_day = "2026-11-23";
  f.serial = "KFR35-0001";
  f.asset_known = true;
  f.owner_matches = true;
  f.sale_date = "2026-03-01";
  f.days_to_end = 90;
  return f;
}

std::vector<std::string> codes(const Facts& f, const Settings& s = {}) {
  std::vector<std::string> out;
  for (const auto& r : audit(f, s)) out.push_back(r.code);
  return out;
}

using V = std::vector<std::string>;

TEST(ClaimAudit, CleanClaimPasses) { EXPECT_EQ(codes(clean()), V{}); }

TEST(ClaimAudit, SerialMissingStopsTheChecks) {
  Facts f = clean();
  f.serial = "";
  f.open_orders = {"FW1"};
  EXPECT_EQ(codes(f), V{"serial_missing"});
}

TEST(ClaimAudit, SerialUnknown) {
  Facts f = clean();
  f.asset_known = false;
  f.owner_matches = false;
  f.sale_date.reset();
  EXPECT_EQ(codes(f), V{"serial_unknown"});  // owner and sale are not judged without an asset
}

TEST(ClaimAudit, OwnerMismatch) {
  Facts f = clean();
  f.owner_matches = false;
  EXPECT_EQ(codes(f), V{"owner_mismatch"});
}

TEST(ClaimAudit, SaleDate) {
  Facts f = clean();
  f.sale_date = "2026-11-23";  // sold the same day: fine
  EXPECT_EQ(codes(f), V{});
  f.sale_date = "2026-11-24";
  EXPECT_EQ(codes(f), V{"sale_after_claim"});
  f.sale_date.reset();
  EXPECT_EQ(codes(f), V{"not_sold"});
}

TEST(ClaimAudit, OpenOrderAndRepeatFault) {
  Facts f = clean();
  f.open_orders = {"FW20261123001"};
  EXPECT_EQ(codes(f), V{"open_order"});
  f.open_orders.clear();
  f.repeat_claims = {"FW20261101002"};
  auto r = audit(f, Settings{});
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].code, "repeat_fault");
  EXPECT_NE(r[0].message.find("FW20261101002"), std::string::npos);
  EXPECT_NE(r[0].message.find("30"), std::string::npos);
}

TEST(ClaimAudit, FarRegionNeedsTheThreshold) {
  Settings s;
  s.far_min_claims = 3;
  Facts f = clean();
  f.far = true;
  f.far_claims = 2;
  EXPECT_EQ(codes(f, s), V{});
  f.far_claims = 3;
  EXPECT_EQ(codes(f, s), V{"far_region"});
  f.far = false;  // a near claim never trips it, however many far ones the provider has
  EXPECT_EQ(codes(f, s), V{});
}

TEST(ClaimAudit, ClusteredBeforeWarrantyEnd) {
  Settings s;
  s.near_end_days = 15;
  s.near_end_min_claims = 3;
  Facts f = clean();
  f.days_to_end = 10;
  f.near_end_claims = 2;
  EXPECT_EQ(codes(f, s), V{});
  f.near_end_claims = 3;
  EXPECT_EQ(codes(f, s), V{"near_warranty_end"});
  f.days_to_end = 16;
  EXPECT_EQ(codes(f, s), V{});
  f.days_to_end = -1;  // already out of warranty: not this rule's business
  EXPECT_EQ(codes(f, s), V{});
}

TEST(ClaimAudit, EveryReasonIsListed) {
  Facts f = clean();
  f.owner_matches = false;
  f.sale_date = "2026-12-01";
  f.open_orders = {"A", "B"};
  f.repeat_claims = {"C"};
  f.far = true;
  f.far_claims = 5;
  f.days_to_end = 3;
  f.near_end_claims = 4;
  EXPECT_EQ(codes(f), (V{"owner_mismatch", "sale_after_claim", "open_order", "repeat_fault", "far_region",
                         "near_warranty_end"}));
}

}  // namespace
}  // namespace shouhou::claims
