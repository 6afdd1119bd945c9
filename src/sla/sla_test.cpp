#include "sla/sla.h"

#include <gtest/gtest.h>

namespace shouhou::sla {
namespace {

int64_t cn(const std::string& day, int hh, int mm) { return local_midnight_utc(*parse_day(day)) + (hh * 60 + mm) * kMinuteMs; }

TEST(SlaPolicy, ContractThenTierThenType) {
  std::vector<PolicyRow> p = {
      {1, std::nullopt, std::nullopt, "7x24", 120, 240, true},
      {2, std::string("repair"), std::nullopt, "8x5", 60, 480, true},
      {3, std::nullopt, std::string("vip"), "7x24", 30, 120, true},
      {4, std::string("repair"), std::string("vip"), "7x24", 15, 60, true},
      {5, std::string("installation"), std::nullopt, "8x5", 240, 960, false},  // inactive
  };
  EXPECT_EQ(pick_policy(p, "repair", "vip")->id, 4);
  EXPECT_EQ(pick_policy(p, "maintenance", "vip")->id, 3);
  EXPECT_EQ(pick_policy(p, "repair", "small")->id, 2);
  EXPECT_EQ(pick_policy(p, "installation", "key")->id, 1);
  EXPECT_EQ(pick_policy(p, "installation", "")->id, 1);
  p.erase(p.begin());
  EXPECT_EQ(pick_policy(p, "installation", "key"), nullptr);
}

TEST(SlaEvaluate, RunningWarningBreachMet) {
  Calendar cal = Calendar::office_hours();
  Targets t;
  t.started_at = t.clock.started_at = cn("2026-11-23", 9, 0);
  t.response_minutes = 120;
  t.resolve_minutes = 240;
  auto e = evaluate(cal, t, 80, cn("2026-11-23", 10, 0));
  EXPECT_EQ(e.status, "ok");
  EXPECT_EQ(e.response_due_at, cn("2026-11-23", 11, 0));
  EXPECT_EQ(e.response_warn_at, cn("2026-11-23", 10, 36));  // 96 of 120 minutes
  EXPECT_EQ(e.next_check_at, e.response_warn_at);
  EXPECT_EQ(e.response_remaining, 60);
  e = evaluate(cal, t, 80, cn("2026-11-23", 10, 40));
  EXPECT_EQ(e.status, "warning");
  EXPECT_TRUE(e.response_warning);
  EXPECT_EQ(e.next_check_at, cn("2026-11-23", 11, 0));
  e = evaluate(cal, t, 80, cn("2026-11-23", 11, 0));
  EXPECT_EQ(e.status, "breached");
  EXPECT_TRUE(e.response_breached);
  EXPECT_EQ(e.next_check_at, cn("2026-11-23", 12, 12));  // the resolution warning is next
  // Answered in time, resolved in time: met, nothing left to check.
  t.first_response_at = cn("2026-11-23", 10, 50);
  t.resolved_at = cn("2026-11-23", 12, 30);
  e = evaluate(cal, t, 80, cn("2026-11-24", 9, 0));
  EXPECT_EQ(e.status, "met");
  EXPECT_FALSE(e.response_breached);
  EXPECT_EQ(e.next_check_at, 0);
  // A late first response stays a breach after the fact.
  t.first_response_at = cn("2026-11-23", 11, 1);
  EXPECT_EQ(evaluate(cal, t, 80, cn("2026-11-24", 9, 0)).status, "breached");
}

TEST(SlaEvaluate, PausedHasNoNextCheck) {
  Calendar cal = Calendar::round_the_clock();
  Targets t;
  t.started_at = t.clock.started_at = cn("2026-11-23", 9, 0);
  t.clock.pauses.push_back({cn("2026-11-23", 9, 30), 0});
  auto e = evaluate(cal, t, 80, cn("2026-11-23", 20, 0));
  EXPECT_EQ(e.status, "paused");
  EXPECT_EQ(e.next_check_at, 0);
  EXPECT_EQ(e.response_remaining, 90);
  EXPECT_FALSE(e.response_breached);
}

}  // namespace
}  // namespace shouhou::sla
