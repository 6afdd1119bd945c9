// Due-time computation of the SLA clock (calendar.h): what every order
// creation and transition pays, and the job's evaluation of one clock.
#include <benchmark/benchmark.h>

#include "sla/calendar.h"
#include "sla/sla.h"

namespace {

using namespace shouhou::sla;

int64_t cn(const char* day, int hh, int mm) { return local_midnight_utc(*parse_day(day)) + (hh * 60 + mm) * kMinuteMs; }

// 7x24: plain addition.
void BM_Due7x24(benchmark::State& state) {
  Calendar cal = Calendar::round_the_clock();
  int64_t start = cn("2026-09-30", 16, 0);
  for (auto _ : state) benchmark::DoNotOptimize(add_business_minutes(cal, start, 240));
}
BENCHMARK(BM_Due7x24);

// 8x5 across the National Day week (a day at a time through the holiday data).
void BM_Due8x5AcrossHoliday(benchmark::State& state) {
  Calendar cal = Calendar::office_hours();
  int64_t start = cn("2026-09-30", 16, 0);
  for (auto _ : state) benchmark::DoNotOptimize(add_business_minutes(cal, start, state.range(0)));
}
BENCHMARK(BM_Due8x5AcrossHoliday)->Arg(120)->Arg(480)->Arg(5 * 480)->Arg(20 * 480);

// Evaluating a clock with two pauses on 8x5 (due, warning, remaining for
// both targets), as the job and GET .../sla do.
void BM_Evaluate8x5WithPauses(benchmark::State& state) {
  Calendar cal = Calendar::office_hours();
  Targets t;
  t.started_at = t.clock.started_at = cn("2026-09-29", 10, 0);
  t.clock.pauses = {{cn("2026-09-29", 11, 0), cn("2026-09-29", 15, 0)}, {cn("2026-09-30", 9, 30), cn("2026-09-30", 10, 0)}};
  t.response_minutes = 240;
  t.resolve_minutes = 960;
  int64_t now = cn("2026-10-08", 11, 0);
  for (auto _ : state) benchmark::DoNotOptimize(evaluate(cal, t, 80, now));
}
BENCHMARK(BM_Evaluate8x5WithPauses);

}  // namespace
