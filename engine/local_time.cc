#include "engine/local_time.h"

namespace txflag::engine {

LocalClock::Local LocalClock::At(int64_t t) {
  int64_t slot = t >= 0 ? t / 900 : (t - 899) / 900;
  if (slot != slot_) {
    slot_ = slot;
    offset_ = zone_.At(absl::FromUnixSeconds(t)).offset;
  }
  int64_t local = t + offset_;
  int64_t day = local >= 0 ? local / 86400 : (local - 86399) / 86400;
  int64_t secs = local - day * 86400;
  return {static_cast<int32_t>(day), static_cast<uint8_t>(secs / 3600)};
}

}  // namespace txflag::engine
