#include "engine/reorder_buffer.h"

#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace txflag::engine {
namespace {

TEST(ReorderBuffer, ReleasesInTimestampThenArrivalOrderUpToTheWatermark) {
  ReorderBuffer buffer;
  int64_t seq = 0;
  for (int64_t ts : {10, 12, 11, 12, 9, 15}) {
    auto item = buffer.Acquire();
    item->ts = ts;
    item->seq = seq++;
    buffer.Push(std::move(item));
  }
  std::vector<std::pair<int64_t, int64_t>> out;
  while (auto item = buffer.PopUntil(12)) {
    out.push_back({item->ts, item->seq});
    buffer.Recycle(std::move(item));
  }
  EXPECT_EQ(out, (std::vector<std::pair<int64_t, int64_t>>{
                     {9, 4}, {10, 0}, {11, 2}, {12, 1}, {12, 3}}));
  EXPECT_EQ(buffer.size(), 1u);
  EXPECT_EQ(buffer.PopUntil(14), nullptr);
  EXPECT_EQ(buffer.PopUntil(15)->ts, 15);
}

TEST(ReorderBuffer, MatchesASortOnRandomInput) {
  std::mt19937 rng(7);
  ReorderBuffer buffer;
  std::vector<std::pair<int64_t, int64_t>> pushed, popped;
  for (int64_t seq = 0; seq < 5000; ++seq) {
    // Mostly increasing with jitter, like real feeds.
    int64_t ts = seq / 3 + static_cast<int64_t>(rng() % 50) - 25;
    auto item = buffer.Acquire();
    item->ts = ts;
    item->seq = seq;
    pushed.push_back({ts, seq});
    buffer.Push(std::move(item));
  }
  int count = 0;
  buffer.ForEach([&](const ReorderBuffer::Item&) { ++count; });
  EXPECT_EQ(count, 5000);
  while (auto item = buffer.PopUntil(INT64_MAX)) {
    popped.push_back({item->ts, item->seq});
    buffer.Recycle(std::move(item));
  }
  std::sort(pushed.begin(), pushed.end());
  EXPECT_EQ(popped, pushed);
}

}  // namespace
}  // namespace txflag::engine
