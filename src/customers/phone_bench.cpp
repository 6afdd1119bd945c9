// Phone normalisation is on the screen-pop path (every incoming call) and on
// every customer write; it must stay far below a microsecond.
#include <benchmark/benchmark.h>

#include "customers/phone.h"

using shouhou::customers::normalize_phone;
using shouhou::customers::parse_phone;

static void BM_NormalizeMobilePlain(benchmark::State& st) {
  for (auto _ : st) benchmark::DoNotOptimize(normalize_phone("13800138000"));
}
BENCHMARK(BM_NormalizeMobilePlain);

static void BM_NormalizeMobileCountryCode(benchmark::State& st) {
  for (auto _ : st) benchmark::DoNotOptimize(normalize_phone("+86 138 0013 8000"));
}
BENCHMARK(BM_NormalizeMobileCountryCode);

static void BM_NormalizeLandlineExtension(benchmark::State& st) {
  for (auto _ : st) benchmark::DoNotOptimize(parse_phone("021-5030-1234 ext. 8"));
}
BENCHMARK(BM_NormalizeLandlineExtension);

static void BM_NormalizeFullWidthChinese(benchmark::State& st) {
  for (auto _ : st) benchmark::DoNotOptimize(parse_phone("（０２１）５０３０－１２３４转８"));
}
BENCHMARK(BM_NormalizeFullWidthChinese);

static void BM_NormalizeTrailingGroupExtension(benchmark::State& st) {
  for (auto _ : st) benchmark::DoNotOptimize(parse_phone("0531-8606-1234-12"));
}
BENCHMARK(BM_NormalizeTrailingGroupExtension);

static void BM_NormalizeInvalid(benchmark::State& st) {
  for (auto _ : st) benchmark::DoNotOptimize(normalize_phone("not a phone number at all"));
}
BENCHMARK(BM_NormalizeInvalid);
