#include "sla/calendar.h"

#include <gtest/gtest.h>

#include "core/util.h"

namespace shouhou::sla {
namespace {

// China local time "YYYY-MM-DD HH:MM" as UTC ms.
int64_t cn(const std::string& s) {
  auto day = parse_day(s.substr(0, 10));
  EXPECT_TRUE(day) << s;
  int hh = std::stoi(s.substr(11, 2)), mm = std::stoi(s.substr(14, 2));
  return local_midnight_utc(*day) + hh * 3'600'000LL + mm * kMinuteMs;
}
// Back to "YYYY-MM-DD HH:MM" China local, for readable failures.
std::string local(std::optional<int64_t> utc) {
  if (!utc) return "none";
  int64_t l = *utc + kChinaOffsetMs;
  int64_t day = local_day_of(*utc);
  int64_t min = (l - day * kDayMs) / kMinuteMs;
  char buf[24];
  std::snprintf(buf, sizeof buf, "%02d:%02d", static_cast<int>(min / 60), static_cast<int>(min % 60));
  std::string out = day_str(day) + " " + buf;
  if ((l - day * kDayMs) % kMinuteMs) out += " (+seconds)";
  return out;
}

const Calendar k8x5 = Calendar::office_hours();
const Calendar k7x24 = Calendar::round_the_clock();

TEST(SlaCalendar, DataFromChineseDays) {
  EXPECT_LE(kChinaDaysFirstYear, 2020);
  EXPECT_GE(kChinaDaysLastYear, 2026);
  EXPECT_GT(china_days().size(), 500u);
  EXPECT_EQ(china_day(*parse_day("2026-10-01")), DayKind::holiday);  // 国庆节
  EXPECT_EQ(china_day(*parse_day("2026-02-17")), DayKind::holiday);  // 春节
  EXPECT_EQ(china_day(*parse_day("2026-09-20")), DayKind::workday);  // Sunday worked for 国庆
  EXPECT_EQ(china_day(*parse_day("2026-02-14")), DayKind::workday);  // Saturday worked for 春节
  EXPECT_FALSE(china_day(*parse_day("2026-11-23")));
  EXPECT_FALSE(china_day(*parse_day("1999-10-01")));  // before the data: plain weekdays
  EXPECT_EQ(weekday(*parse_day("2026-11-23")), 1);    // Monday
  EXPECT_EQ(weekday(*parse_day("2026-02-14")), 6);    // Saturday
  EXPECT_EQ(weekday(*parse_day("1969-12-31")), 3);
  EXPECT_EQ(day_str(*parse_day("2024-02-29")), "2024-02-29");
  EXPECT_FALSE(parse_day("2026-02-29"));
  EXPECT_FALSE(parse_day("2026-1-01"));
}

TEST(SlaCalendar, WorkingDays) {
  EXPECT_TRUE(is_working_day(k8x5, *parse_day("2026-11-20")));   // Friday
  EXPECT_FALSE(is_working_day(k8x5, *parse_day("2026-11-21")));  // Saturday
  EXPECT_FALSE(is_working_day(k8x5, *parse_day("2026-11-22")));  // Sunday
  EXPECT_FALSE(is_working_day(k8x5, *parse_day("2026-10-05")));  // Monday, National Day
  EXPECT_TRUE(is_working_day(k8x5, *parse_day("2026-10-10")));   // Saturday, swapped
  EXPECT_TRUE(is_working_day(k7x24, *parse_day("2026-10-05")));
  Calendar plain = k8x5;
  plain.use_china_days = false;
  EXPECT_TRUE(is_working_day(plain, *parse_day("2026-10-05")));
  EXPECT_FALSE(is_working_day(plain, *parse_day("2026-10-10")));
}

TEST(SlaCalendar, SameDay) {
  EXPECT_EQ(local(add_business_minutes(k8x5, cn("2026-11-23 10:00"), 120)), "2026-11-23 12:00");
  EXPECT_EQ(local(add_business_minutes(k8x5, cn("2026-11-23 10:00"), 0)), "2026-11-23 10:00");
  // Before opening: counts from 09:00.
  EXPECT_EQ(local(add_business_minutes(k8x5, cn("2026-11-23 07:30"), 60)), "2026-11-23 10:00");
  // Ends exactly at the close: due at the close, not next morning.
  EXPECT_EQ(local(add_business_minutes(k8x5, cn("2026-11-23 15:00"), 120)), "2026-11-23 17:00");
  // One minute more rolls over to the next working morning.
  EXPECT_EQ(local(add_business_minutes(k8x5, cn("2026-11-23 15:00"), 121)), "2026-11-24 09:01");
  // After the close: next morning.
  EXPECT_EQ(local(add_business_minutes(k8x5, cn("2026-11-23 18:30"), 30)), "2026-11-24 09:30");
}

TEST(SlaCalendar, AcrossWeekend) {
  // Friday 15:00 + 4 h: 2 h on Friday, 2 h on Monday.
  EXPECT_EQ(local(add_business_minutes(k8x5, cn("2026-11-20 15:00"), 240)), "2026-11-23 11:00");
  // Received on Saturday: the clock starts Monday 09:00.
  EXPECT_EQ(local(add_business_minutes(k8x5, cn("2026-11-21 10:00"), 60)), "2026-11-23 10:00");
  EXPECT_EQ(local(add_business_minutes(k8x5, cn("2026-11-20 18:30"), 30)), "2026-11-23 09:30");
  // A week of work: 5 x 8 h from Monday 09:00 ends Friday 17:00.
  EXPECT_EQ(local(add_business_minutes(k8x5, cn("2026-11-23 09:00"), 5 * 480)), "2026-11-27 17:00");
  EXPECT_EQ(business_ms(k8x5, cn("2026-11-20 16:00"), cn("2026-11-23 10:00")), 120 * kMinuteMs);
  // 7x24 ignores weekends.
  EXPECT_EQ(local(add_business_minutes(k7x24, cn("2026-11-20 15:00"), 240)), "2026-11-20 19:00");
  EXPECT_EQ(business_ms(k7x24, cn("2026-11-20 16:00"), cn("2026-11-23 10:00")), (66 * 60) * kMinuteMs);
}

TEST(SlaCalendar, AcrossPublicHoliday) {
  // Wednesday 30 Sep 16:00 + 2 h: 1 h that day, 1-7 Oct off, Thursday 8 Oct 10:00.
  EXPECT_EQ(local(add_business_minutes(k8x5, cn("2026-09-30 16:00"), 120)), "2026-10-08 10:00");
  // Spring Festival: Saturday 14 Feb is worked, 15-23 Feb off.
  EXPECT_EQ(local(add_business_minutes(k8x5, cn("2026-02-14 16:00"), 120)), "2026-02-24 10:00");
  // Reported on the holiday itself: starts when work resumes.
  EXPECT_EQ(local(add_business_minutes(k8x5, cn("2026-10-03 11:00"), 240)), "2026-10-08 13:00");
  // 元旦 2026: Thursday 1 - Saturday 3 Jan off, Sunday 4 Jan worked.
  EXPECT_EQ(local(add_business_minutes(k8x5, cn("2025-12-31 16:00"), 120)), "2026-01-04 10:00");
  EXPECT_EQ(business_ms(k8x5, cn("2026-09-30 09:00"), cn("2026-10-09 09:00")), 2 * 480 * kMinuteMs);
  // 7x24 runs through the holiday.
  EXPECT_EQ(local(add_business_minutes(k7x24, cn("2026-09-30 16:00"), 120)), "2026-09-30 18:00");
}

TEST(SlaCalendar, SwappedWorkingDay) {
  // Saturday 19 Sep 10:00: Sunday 20 Sep is a working day (调休), so 1 h lands on Sunday.
  EXPECT_EQ(local(add_business_minutes(k8x5, cn("2026-09-19 10:00"), 60)), "2026-09-20 10:00");
  // Friday 9 Oct 16:00 + 2 h: Saturday 10 Oct is worked.
  EXPECT_EQ(local(add_business_minutes(k8x5, cn("2026-10-09 16:00"), 120)), "2026-10-10 10:00");
  // Friday 13 Feb 16:30 + 1 h: Saturday 14 Feb 09:30.
  EXPECT_EQ(local(add_business_minutes(k8x5, cn("2026-02-13 16:30"), 60)), "2026-02-14 09:30");
  // Without the holiday data the same Saturday is a weekend.
  Calendar plain = k8x5;
  plain.use_china_days = false;
  EXPECT_EQ(local(add_business_minutes(plain, cn("2026-10-09 16:00"), 120)), "2026-10-12 10:00");
}

TEST(SlaCalendar, Overrides) {
  Calendar c = k8x5;
  c.overrides[*parse_day("2026-11-23")] = DayKind::holiday;  // company day off on Monday
  c.overrides[*parse_day("2026-11-28")] = DayKind::workday;  // and a Saturday worked
  EXPECT_EQ(local(add_business_minutes(c, cn("2026-11-20 16:00"), 120)), "2026-11-24 10:00");
  EXPECT_EQ(local(add_business_minutes(c, cn("2026-11-27 16:00"), 120)), "2026-11-28 10:00");
  // An override beats the public-holiday data.
  c.overrides[*parse_day("2026-10-05")] = DayKind::workday;
  EXPECT_EQ(local(add_business_minutes(c, cn("2026-09-30 16:00"), 120)), "2026-10-05 10:00");
  // Custom working window 08:30-12:00.
  Calendar half = k8x5;
  half.work_start_min = 8 * 60 + 30;
  half.work_end_min = 12 * 60;
  EXPECT_EQ(local(add_business_minutes(half, cn("2026-11-23 11:00"), 90)), "2026-11-24 09:00");
}

TEST(SlaCalendar, UtcAcrossLocalMidnight) {
  // 23:30 UTC Sunday is 07:30 Monday in China.
  int64_t t = *parse_iso("2026-11-22T23:30:00Z");
  EXPECT_EQ(local(t), "2026-11-23 07:30");
  EXPECT_EQ(iso_utc(*add_business_minutes(k8x5, t, 60)), "2026-11-23T02:00:00Z");  // 10:00 local
  // 16:00 UTC Friday is 00:00 Saturday in China.
  EXPECT_EQ(local(add_business_minutes(k8x5, *parse_iso("2026-11-20T16:00:00Z"), 1)), "2026-11-23 09:01");
}

TEST(SlaCalendar, NoWorkingTimeAtAll) {
  Calendar c = k8x5;
  c.use_china_days = false;
  for (int64_t d = *parse_day("2026-11-23"), e = d + 3700; d < e; ++d) c.overrides[d] = DayKind::holiday;
  EXPECT_FALSE(add_business_minutes(c, cn("2026-11-23 10:00"), 60));
}

TEST(SlaClock, PausedState) {
  // Started Monday 09:00, target 4 h, waiting for the customer 10:00-14:00.
  Clock clock{cn("2026-11-23 09:00"), {{cn("2026-11-23 10:00"), cn("2026-11-23 14:00")}}};
  EXPECT_EQ(local(due_at(k8x5, clock, 240, cn("2026-11-23 15:00"))), "2026-11-23 17:00");
  EXPECT_EQ(elapsed_ms(k8x5, clock, cn("2026-11-23 15:00")), 120 * kMinuteMs);
  EXPECT_EQ(remaining_minutes(k8x5, clock, 240, cn("2026-11-23 15:00")), 120);
  // Without the pause it would have been due at 13:00.
  EXPECT_EQ(local(due_at(k8x5, Clock{cn("2026-11-23 09:00"), {}}, 240, cn("2026-11-23 09:00"))), "2026-11-23 13:00");
}

TEST(SlaClock, PauseAcrossWeekend) {
  // Friday 16:00 start, 2 h target; paused Friday 16:30 until Monday 10:00.
  Clock clock{cn("2026-11-20 16:00"), {{cn("2026-11-20 16:30"), cn("2026-11-23 10:00")}}};
  EXPECT_EQ(local(due_at(k8x5, clock, 120, cn("2026-11-23 10:00"))), "2026-11-23 11:30");
  // The same pause on 7x24: 30 min before, 90 min after Monday 10:00.
  EXPECT_EQ(local(due_at(k7x24, clock, 120, cn("2026-11-23 10:00"))), "2026-11-23 11:30");
  Clock short_pause{cn("2026-11-20 16:00"), {{cn("2026-11-20 16:30"), cn("2026-11-20 17:30")}}};
  EXPECT_EQ(local(due_at(k7x24, short_pause, 120, cn("2026-11-20 18:00"))), "2026-11-20 19:00");
  // 8x5: 30 min before the pause, pause ends after close -> Monday 09:00 + 90 min.
  EXPECT_EQ(local(due_at(k8x5, short_pause, 120, cn("2026-11-20 18:00"))), "2026-11-23 10:30");
}

TEST(SlaClock, OpenPauseProjectsFromNow) {
  Clock clock{cn("2026-11-20 16:00"), {{cn("2026-11-20 16:30"), 0}}};
  EXPECT_TRUE(clock.paused());
  // Still paused on Monday 11:00: 90 min remain, frozen.
  EXPECT_EQ(remaining_minutes(k8x5, clock, 120, cn("2026-11-23 11:00")), 90);
  EXPECT_EQ(remaining_minutes(k8x5, clock, 120, cn("2026-11-24 16:00")), 90);
  EXPECT_EQ(local(due_at(k8x5, clock, 120, cn("2026-11-23 11:00"))), "2026-11-23 12:30");
  // A target already met before the pause is unaffected by it.
  EXPECT_EQ(local(due_at(k8x5, clock, 20, cn("2026-11-23 11:00"))), "2026-11-20 16:20");
}

TEST(SlaClock, SeveralPausesAndOverdue) {
  Clock clock{cn("2026-11-23 09:00"),
              {{cn("2026-11-23 09:30"), cn("2026-11-23 10:00")}, {cn("2026-11-23 11:00"), cn("2026-11-24 09:00")}}};
  // 30 + 60 min before the second pause, 30 more on Tuesday.
  EXPECT_EQ(local(due_at(k8x5, clock, 120, cn("2026-11-24 12:00"))), "2026-11-24 09:30");
  EXPECT_EQ(remaining_minutes(k8x5, clock, 120, cn("2026-11-24 12:00")), -150);
  EXPECT_EQ(remaining_minutes(k8x5, clock, 120, cn("2026-11-23 09:45")), 90);
  // A pause that started before the clock (clamped).
  Clock early{cn("2026-11-23 10:00"), {{cn("2026-11-23 09:00"), cn("2026-11-23 11:00")}}};
  EXPECT_EQ(elapsed_ms(k8x5, early, cn("2026-11-23 12:00")), 60 * kMinuteMs);
  EXPECT_EQ(local(due_at(k8x5, early, 60, cn("2026-11-23 12:00"))), "2026-11-23 12:00");
}

}  // namespace
}  // namespace shouhou::sla
