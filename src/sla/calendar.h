// Business calendars and the SLA clock: pure functions, no database.
//
// Calendars work in China local time (Asia/Shanghai, UTC+8, no DST); every
// time in and out is UTC milliseconds. A calendar is either round the clock
// (7x24) or has a working window per working day (8x5: 09:00-17:00). A day
// is a working day when
//   1. the calendar's own override says so (a company holiday / extra day),
//   2. else, with use_china_days, the Chinese public-holiday data says so
//      (H = a holiday, W = a weekend day worked in exchange, 调休上班),
//   3. else when it is Monday..Friday.
// Public-holiday data comes from the `chinese-days` package
// (tools/chinese-days/generate.mjs -> china_days_data.cpp).
//
// Due time: start + N business minutes. A target that ends exactly at the
// close of a working window is due at that close (Friday 17:00), not at the
// next opening. A start outside working hours counts from the next opening.
//
// The clock: started_at, pause intervals [from, to) (to == 0: still paused).
// Paused time never counts; the due time moves out by the business time the
// pauses covered.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace shouhou::sla {

extern const char* const kChinaDaysSource;
extern const int kChinaDaysFirstYear;
extern const int kChinaDaysLastYear;
extern const char* const kChinaDaysTsv;

constexpr int64_t kMinuteMs = 60'000;
constexpr int64_t kDayMs = 86'400'000;
constexpr int64_t kChinaOffsetMs = 8 * 3'600'000;

enum class DayKind : char { holiday = 'H', workday = 'W' };

struct ChinaDay {
  std::string date;  // YYYY-MM-DD
  DayKind kind;
  std::string name_zh, name_en;
};
// The compiled-in holiday data, by date.
const std::vector<ChinaDay>& china_days();
// Holiday / swapped working day on a local day (days since 1970-01-01), if any.
std::optional<DayKind> china_day(int64_t local_day);

// Days since 1970-01-01 of "YYYY-MM-DD" (strict), or nullopt.
std::optional<int64_t> parse_day(std::string_view ymd);
std::string day_str(int64_t local_day);
// 0 = Sunday .. 6 = Saturday.
int weekday(int64_t local_day);
// The China-local day of a UTC instant.
inline int64_t local_day_of(int64_t utc_ms) {
  int64_t l = utc_ms + kChinaOffsetMs;
  return l >= 0 ? l / kDayMs : (l - kDayMs + 1) / kDayMs;
}
// UTC ms of local midnight starting that day.
inline int64_t local_midnight_utc(int64_t local_day) { return local_day * kDayMs - kChinaOffsetMs; }

struct Calendar {
  std::string code = "7x24";
  bool always = true;              // 7x24: every minute counts
  int work_start_min = 9 * 60;     // local minutes after midnight
  int work_end_min = 17 * 60;      // exclusive; > work_start_min
  bool use_china_days = true;      // public holidays and swapped working days
  std::map<int64_t, DayKind> overrides;  // local day -> kind, wins over everything

  static Calendar round_the_clock();  // 7x24
  static Calendar office_hours();     // 8x5, 09:00-17:00, Chinese holidays
};

bool is_working_day(const Calendar& cal, int64_t local_day);
// Business milliseconds in [from, to) (0 when to <= from).
int64_t business_ms(const Calendar& cal, int64_t from, int64_t to);
// The instant when `ms` business milliseconds after `start` have passed.
// ms <= 0 -> start. nullopt when the calendar has no working time within
// ten years (an all-holiday override list).
std::optional<int64_t> add_business_ms(const Calendar& cal, int64_t start, int64_t ms);
inline std::optional<int64_t> add_business_minutes(const Calendar& cal, int64_t start, int64_t minutes) {
  return add_business_ms(cal, start, minutes * kMinuteMs);
}

struct Interval {
  int64_t from = 0;
  int64_t to = 0;  // 0: still open
};

struct Clock {
  int64_t started_at = 0;
  std::vector<Interval> pauses;  // in time order, not overlapping
  bool paused() const { return !pauses.empty() && pauses.back().to == 0; }
};

// Business time the clock has run by `now` (pauses excluded).
int64_t elapsed_ms(const Calendar& cal, const Clock& clock, int64_t now);
// Due time of a target of `minutes` business minutes. While the clock is
// paused (an open pause before the target is reached) the due time is the
// projection "if the clock resumed at `now`".
std::optional<int64_t> due_at(const Calendar& cal, const Clock& clock, int64_t minutes, int64_t now);
// Business minutes left at `now` (negative: overdue), rounded towards zero.
int64_t remaining_minutes(const Calendar& cal, const Clock& clock, int64_t minutes, int64_t now);

}  // namespace shouhou::sla
