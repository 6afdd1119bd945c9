#include "sla/calendar.h"

#include <algorithm>
#include <stdexcept>

namespace shouhou::sla {

namespace {

// Howard Hinnant's days_from_civil / civil_from_days.
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void civil_from_days(int64_t z, int& y, int& m, int& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t yy = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  y = static_cast<int>(yy + (m <= 2));
}

// Dense lookup: one byte per day from the first to the last day in the data.
struct ChinaTable {
  std::vector<ChinaDay> days;
  int64_t first = 0;
  std::vector<char> kind;  // 0, 'H' or 'W'
};

const ChinaTable& table() {
  static const ChinaTable t = [] {
    ChinaTable t;
    std::string_view src(kChinaDaysTsv);
    while (!src.empty()) {
      auto nl = src.find('\n');
      std::string_view line = src.substr(0, nl);
      src = nl == std::string_view::npos ? std::string_view() : src.substr(nl + 1);
      if (line.empty()) continue;
      std::vector<std::string_view> f;
      size_t at = 0;
      while (true) {
        auto tab = line.find('\t', at);
        f.push_back(line.substr(at, tab == std::string_view::npos ? std::string_view::npos : tab - at));
        if (tab == std::string_view::npos) break;
        at = tab + 1;
      }
      if (f.size() != 4 || f[1].size() != 1 || (f[1][0] != 'H' && f[1][0] != 'W') || !parse_day(f[0]))
        throw std::logic_error("china_days_data.cpp: bad line " + std::string(line));
      t.days.push_back({std::string(f[0]), static_cast<DayKind>(f[1][0]), std::string(f[2]), std::string(f[3])});
    }
    if (t.days.empty()) return t;
    t.first = *parse_day(t.days.front().date);
    int64_t last = *parse_day(t.days.back().date);
    t.kind.assign(static_cast<size_t>(last - t.first + 1), 0);
    for (const auto& d : t.days) t.kind[static_cast<size_t>(*parse_day(d.date) - t.first)] = static_cast<char>(d.kind);
    return t;
  }();
  return t;
}

}  // namespace

const std::vector<ChinaDay>& china_days() { return table().days; }

std::optional<DayKind> china_day(int64_t local_day) {
  const auto& t = table();
  int64_t i = local_day - t.first;
  if (i < 0 || i >= static_cast<int64_t>(t.kind.size()) || !t.kind[static_cast<size_t>(i)]) return std::nullopt;
  return static_cast<DayKind>(t.kind[static_cast<size_t>(i)]);
}

std::optional<int64_t> parse_day(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
  auto num = [&](size_t at, size_t n) {
    int v = 0;
    for (size_t i = 0; i < n; ++i) v = v * 10 + (s[at + i] - '0');
    return v;
  };
  int y = num(0, 4), m = num(5, 2), d = num(8, 2);
  static const int dim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (y < 1900 || m < 1 || m > 12 || d < 1 || d > (m == 2 && leap ? 29 : dim[m - 1])) return std::nullopt;
  return days_from_civil(y, static_cast<unsigned>(m), static_cast<unsigned>(d));
}

std::string day_str(int64_t local_day) {
  int y, m, d;
  civil_from_days(local_day, y, m, d);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", y, m, d);
  return buf;
}

int weekday(int64_t local_day) {
  // 1970-01-01 was a Thursday (4).
  int64_t w = (local_day + 4) % 7;
  return static_cast<int>(w < 0 ? w + 7 : w);
}

Calendar Calendar::round_the_clock() { return Calendar{}; }

Calendar Calendar::office_hours() {
  Calendar c;
  c.code = "8x5";
  c.always = false;
  return c;
}

bool is_working_day(const Calendar& cal, int64_t day) {
  if (cal.always) return true;
  if (auto it = cal.overrides.find(day); it != cal.overrides.end()) return it->second == DayKind::workday;
  if (cal.use_china_days)
    if (auto k = china_day(day)) return *k == DayKind::workday;
  int w = weekday(day);
  return w != 0 && w != 6;
}

int64_t business_ms(const Calendar& cal, int64_t from, int64_t to) {
  if (to <= from) return 0;
  if (cal.always) return to - from;
  int64_t total = 0;
  for (int64_t day = local_day_of(from), last = local_day_of(to - 1); day <= last; ++day) {
    if (!is_working_day(cal, day)) continue;
    int64_t mid = local_midnight_utc(day);
    int64_t a = std::max(from, mid + cal.work_start_min * kMinuteMs);
    int64_t b = std::min(to, mid + cal.work_end_min * kMinuteMs);
    if (b > a) total += b - a;
  }
  return total;
}

std::optional<int64_t> add_business_ms(const Calendar& cal, int64_t start, int64_t ms) {
  if (ms <= 0) return start;
  if (cal.always) return start + ms;
  int64_t t = start;
  int64_t day = local_day_of(start);
  for (int i = 0; i < 3660; ++i, ++day) {
    if (!is_working_day(cal, day)) continue;
    int64_t mid = local_midnight_utc(day);
    int64_t open = mid + cal.work_start_min * kMinuteMs, close = mid + cal.work_end_min * kMinuteMs;
    if (t < open) t = open;
    if (t >= close) continue;
    if (ms <= close - t) return t + ms;
    ms -= close - t;
  }
  return std::nullopt;
}

int64_t elapsed_ms(const Calendar& cal, const Clock& clock, int64_t now) {
  int64_t total = business_ms(cal, clock.started_at, now);
  for (const auto& p : clock.pauses) {
    int64_t to = p.to == 0 ? now : std::min(p.to, now);
    total -= business_ms(cal, std::max(p.from, clock.started_at), to);
  }
  return std::max<int64_t>(total, 0);
}

std::optional<int64_t> due_at(const Calendar& cal, const Clock& clock, int64_t minutes, int64_t now) {
  int64_t remaining = minutes * kMinuteMs;
  int64_t cursor = clock.started_at;
  for (const auto& p : clock.pauses) {
    if (p.from > cursor) {
      int64_t b = business_ms(cal, cursor, p.from);
      if (remaining <= b) return add_business_ms(cal, cursor, remaining);
      remaining -= b;
    }
    int64_t resume = p.to == 0 ? std::max(now, p.from) : p.to;
    cursor = std::max(cursor, resume);
  }
  return add_business_ms(cal, cursor, remaining);
}

int64_t remaining_minutes(const Calendar& cal, const Clock& clock, int64_t minutes, int64_t now) {
  return (minutes * kMinuteMs - elapsed_ms(cal, clock, now)) / kMinuteMs;
}

}  // namespace shouhou::sla
