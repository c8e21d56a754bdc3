// File: engine/local_time.h
//
// Local calendar day and hour of a UTC instant in one time zone. The zone's
// UTC offset is cached per 15-minute slot of UTC time (offset changes happen
// on quarter hours in every IANA zone in use), so payments processed in time
// order cost a comparison and two divisions instead of a zone lookup.
#ifndef TXFLAG_ENGINE_LOCAL_TIME_H_
#define TXFLAG_ENGINE_LOCAL_TIME_H_

#include <cstdint>
#include <limits>

#include "absl/time/time.h"

namespace txflag::engine {

class LocalClock {
 public:
  explicit LocalClock(absl::TimeZone zone) : zone_(zone) {}

  struct Local {
    int32_t day;   // days since 1970-01-01, local calendar
    uint8_t hour;  // 0-23, local
  };
  // Not thread-safe (updates the cache).
  Local At(int64_t unix_seconds);

 private:
  absl::TimeZone zone_;
  int64_t slot_ =
      std::numeric_limits<int64_t>::min();  // cached 15-minute slot (t / 900)
  int64_t offset_ = 0;                      // UTC offset in that slot, seconds
};

}  // namespace txflag::engine

#endif  // TXFLAG_ENGINE_LOCAL_TIME_H_
