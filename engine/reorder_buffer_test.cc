#include "engine/reorder_buffer.h"

#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace txflag::engine {
namespace {

txflag::v1::Payment MakePayment(int64_t ts, int64_t n) {
  txflag::v1::Payment p;
  p.set_id("P" + std::to_string(n));
  p.mutable_timestamp()->set_seconds(ts);
  p.set_debtor_account("DK" + std::to_string(n));
  p.set_debtor_name("Debtor, \"quoted\" name");
  p.set_creditor_account(n % 2 ? "" : "DK99");
  p.set_creditor_name("Creditor");
  p.set_debtor_country("DK");
  p.set_creditor_country("SE");
  p.set_amount_minor(12345 + n);
  p.set_currency("DKK");
  p.set_channel(txflag::v1::Payment::MOBILE);
  p.set_mcc(7311);
  p.set_reference(std::string(40, 'r'));
  return p;
}

TEST(ReorderBuffer, ReleasesInTimestampThenArrivalOrderUpToTheWatermark) {
  ReorderBuffer buffer;
  int64_t seq = 0;
  for (int64_t ts : {10, 12, 11, 12, 9, 15}) {
    buffer.Push(MakePayment(ts, seq), "f:" + std::to_string(seq), seq);
    ++seq;
  }
  std::vector<std::string> out;
  txflag::v1::Payment p;
  std::string location;
  while (buffer.PopUntil(12, &p, &location)) out.push_back(location);
  EXPECT_EQ(out, (std::vector<std::string>{"f:4", "f:0", "f:2", "f:1", "f:3"}));
  EXPECT_EQ(buffer.size(), 1u);
  EXPECT_FALSE(buffer.PopUntil(14, &p, &location));
  ASSERT_TRUE(buffer.PopUntil(15, &p, &location));
  EXPECT_EQ(p.timestamp().seconds(), 15);
}

TEST(ReorderBuffer, GivesBackEveryFieldOfThePayment) {
  ReorderBuffer buffer;
  txflag::v1::Payment in = MakePayment(100, 7);
  buffer.Push(in, "file.csv:9", 1);
  int visited = 0;
  buffer.ForEach(
      [&](const txflag::v1::Payment& p, std::string_view loc, int64_t seq) {
        EXPECT_EQ(p.SerializeAsString(), in.SerializeAsString());
        EXPECT_EQ(loc, "file.csv:9");
        EXPECT_EQ(seq, 1);
        ++visited;
      });
  EXPECT_EQ(visited, 1);
  txflag::v1::Payment out = MakePayment(5, 8);  // stale fields overwritten
  std::string location;
  ASSERT_TRUE(buffer.PopUntil(100, &out, &location));
  EXPECT_EQ(out.SerializeAsString(), in.SerializeAsString());
  EXPECT_EQ(location, "file.csv:9");
}

TEST(ReorderBuffer, MatchesASortOnRandomInput) {
  std::mt19937 rng(7);
  ReorderBuffer buffer;
  std::vector<std::pair<int64_t, int64_t>> pushed, popped;
  for (int64_t seq = 0; seq < 5000; ++seq) {
    // Mostly increasing with jitter, like real feeds.
    int64_t ts = seq / 3 + static_cast<int64_t>(rng() % 50) - 25;
    pushed.push_back({ts, seq});
    buffer.Push(MakePayment(ts, seq), std::to_string(seq), seq);
  }
  txflag::v1::Payment p;
  std::string location;
  while (buffer.PopUntil(INT64_MAX, &p, &location)) {
    popped.push_back({p.timestamp().seconds(), std::stoll(location)});
  }
  std::sort(pushed.begin(), pushed.end());
  EXPECT_EQ(popped, pushed);
}

}  // namespace
}  // namespace txflag::engine
