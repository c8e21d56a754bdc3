#include "engine/local_time.h"

#include "base/time_util.h"
#include "gtest/gtest.h"

namespace txflag::engine {
namespace {

absl::TimeZone Copenhagen() {
  absl::TimeZone tz;
  EXPECT_TRUE(absl::LoadTimeZone("Europe/Copenhagen", &tz));
  return tz;
}

int64_t T(const char* s) { return *ParseUtcTimestamp(s); }

TEST(LocalClock, UsesSummerAndWinterOffsets) {
  LocalClock clock(Copenhagen());
  auto summer = clock.At(T("2024-07-01T22:30:00Z"));  // 00:30 CEST next day
  EXPECT_EQ(summer.hour, 0);
  EXPECT_EQ(summer.day, DaysFromCivil(2024, 7, 2));
  auto winter = clock.At(T("2024-01-15T22:30:00Z"));  // 23:30 CET
  EXPECT_EQ(winter.hour, 23);
  EXPECT_EQ(winter.day, DaysFromCivil(2024, 1, 15));
}

TEST(LocalClock, SwitchesExactlyAtTheDstTransition) {
  LocalClock clock(Copenhagen());
  // 2024-03-31 01:00 UTC: clocks go from 02:00 CET to 03:00 CEST.
  EXPECT_EQ(clock.At(T("2024-03-31T00:59:59Z")).hour, 1);
  EXPECT_EQ(clock.At(T("2024-03-31T01:00:00Z")).hour, 3);
  // 2024-10-27 01:00 UTC: back from 03:00 CEST to 02:00 CET.
  EXPECT_EQ(clock.At(T("2024-10-27T00:59:59Z")).hour, 2);
  EXPECT_EQ(clock.At(T("2024-10-27T01:00:00Z")).hour, 2);
  EXPECT_EQ(clock.At(T("2024-10-27T02:00:00Z")).hour, 3);
  // Going backwards in time works too (cache invalidated).
  EXPECT_EQ(clock.At(T("2024-03-31T00:30:00Z")).hour, 1);
}

}  // namespace
}  // namespace txflag::engine
