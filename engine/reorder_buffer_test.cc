#include "engine/reorder_buffer.h"

#include <algorithm>
#include <random>
#include <tuple>
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
  txflag::v1::PaymentView p;
  std::string_view location;
  while (buffer.PopUntil(12, &p, &location)) out.emplace_back(location);
  EXPECT_EQ(out, (std::vector<std::string>{"f:4", "f:0", "f:2", "f:1", "f:3"}));
  EXPECT_EQ(buffer.size(), 1u);
  EXPECT_FALSE(buffer.PopUntil(14, &p, &location));
  ASSERT_TRUE(buffer.PopUntil(15, &p, &location));
  EXPECT_EQ(p.seconds, 15);
}

TEST(ReorderBuffer, GivesBackEveryFieldOfThePayment) {
  ReorderBuffer buffer;
  txflag::v1::Payment in = MakePayment(100, 7);
  buffer.Push(in, "file.csv:9", 1);
  int visited = 0;
  auto message = [](const txflag::v1::PaymentView& view) {
    txflag::v1::Payment p;
    view.CopyTo(&p);
    return p.SerializeAsString();
  };
  buffer.ForEach([&](const txflag::v1::PaymentView& p, std::string_view loc,
                     int64_t seq, Legs) {
    EXPECT_EQ(message(p), in.SerializeAsString());
    EXPECT_EQ(loc, "file.csv:9");
    EXPECT_EQ(seq, 1);
    ++visited;
  });
  EXPECT_EQ(visited, 1);
  txflag::v1::Payment stale = MakePayment(5, 8);
  txflag::v1::PaymentView out = stale;  // every field overwritten
  std::string_view location;
  ASSERT_TRUE(buffer.PopUntil(100, &out, &location));
  EXPECT_EQ(message(out), in.SerializeAsString());
  EXPECT_EQ(location, "file.csv:9");
}

TEST(ReorderBuffer, BreaksTimestampTiesByPaymentIdThenLegNotByArrival) {
  // The same four legs in two arrival orders come out in one order.
  std::vector<std::string> orders[2];
  for (int round = 0; round < 2; ++round) {
    ReorderBuffer buffer;
    std::vector<std::pair<std::string, Legs>> in = {{"B", Legs::kCredit},
                                                    {"A", Legs::kBoth},
                                                    {"B", Legs::kDebit},
                                                    {"C", Legs::kBoth}};
    if (round == 1) std::reverse(in.begin(), in.end());
    int64_t seq = 0;
    for (const auto& [id, legs] : in) {
      txflag::v1::Payment payment = MakePayment(100, seq);
      payment.set_id(id);
      buffer.Push(payment, id, seq++, legs);
    }
    txflag::v1::PaymentView p;
    std::string_view location;
    Legs legs;
    while (buffer.PopUntil(100, &p, &location, &legs)) {
      orders[round].push_back(std::string(p.id) +
                              std::to_string(static_cast<int>(legs)));
    }
  }
  EXPECT_EQ(orders[0], (std::vector<std::string>{"A0", "B1", "B2", "C0"}));
  EXPECT_EQ(orders[1], orders[0]);
}

TEST(ReorderBuffer, MatchesASortOnRandomInput) {
  std::mt19937 rng(7);
  ReorderBuffer buffer;
  // (ts, payment id, seq): the order the buffer promises.
  std::vector<std::tuple<int64_t, std::string, int64_t>> pushed, popped;
  for (int64_t seq = 0; seq < 5000; ++seq) {
    // Mostly increasing with jitter, like real feeds; ids repeat, so some
    // ties go down to the arrival number.
    int64_t ts = seq / 3 + static_cast<int64_t>(rng() % 50) - 25;
    txflag::v1::Payment payment = MakePayment(ts, seq);
    payment.set_id("P" + std::to_string(rng() % 2000));
    pushed.push_back({ts, payment.id(), seq});
    buffer.Push(payment, std::to_string(seq), seq);
  }
  txflag::v1::PaymentView p;
  std::string_view location;
  while (buffer.PopUntil(INT64_MAX, &p, &location)) {
    popped.push_back(
        {p.seconds, std::string(p.id), std::stoll(std::string(location))});
  }
  std::sort(pushed.begin(), pushed.end());
  EXPECT_EQ(popped, pushed);
}

TEST(ReorderBuffer, LanesGiveTheSameOrderAsOne) {
  // 16 lanes, each in order by itself but interleaved with the others at
  // different paces (Kafka partitions), plus some payments out of order
  // within their lane; popped in steps, as a moving watermark does. The
  // order out must be the one-lane order: lanes are only a hint.
  std::mt19937 rng(11);
  ReorderBuffer one, many;
  std::vector<int64_t> lane_ts(16, 0);
  std::vector<std::tuple<int64_t, std::string, int64_t>> from_one, from_many;
  auto pop = [](ReorderBuffer* buffer, int64_t until, auto* out) {
    txflag::v1::PaymentView p;
    std::string_view location;
    int64_t seq = -1;
    while (buffer->PopUntil(until, &p, &location, nullptr, &seq)) {
      out->push_back({p.seconds, std::string(p.id), seq});
    }
  };
  int64_t seq = 0;
  for (int round = 0; round < 200; ++round) {
    for (int k = 0; k < 40; ++k, ++seq) {
      const int32_t lane = static_cast<int32_t>(rng() % 16);
      lane_ts[lane] += static_cast<int64_t>(rng() % (1 + lane));
      int64_t ts = lane_ts[lane];
      if (rng() % 10 == 0) ts -= static_cast<int64_t>(rng() % 5);
      txflag::v1::Payment payment = MakePayment(ts, seq);
      payment.set_id("P" + std::to_string(rng() % 500));
      one.Push(payment, "x", seq);
      many.Push(payment, "x", seq, Legs::kBoth, lane);
    }
    const int64_t watermark =
        *std::min_element(lane_ts.begin(), lane_ts.end()) - 5;
    pop(&one, watermark, &from_one);
    pop(&many, watermark, &from_many);
    ASSERT_EQ(one.size(), many.size());
  }
  pop(&one, INT64_MAX, &from_one);
  pop(&many, INT64_MAX, &from_many);
  EXPECT_EQ(from_many.size(), static_cast<size_t>(seq));
  EXPECT_EQ(from_many, from_one);
}

TEST(ReorderBuffer, PoppedViewsStayValidUntilTheNextCall) {
  // Enough payments to fill several 1 MiB chunks, some out of order (heap):
  // each popped view must still read its own payment after PopUntil
  // returned, though its chunk or heap item has left the buffer.
  ReorderBuffer buffer;
  std::mt19937 rng(3);
  const int n = 30000;
  for (int64_t seq = 0; seq < n; ++seq) {
    const int64_t ts = seq + (rng() % 20 == 0 ? -50 : 0);
    buffer.Push(MakePayment(ts, seq), "loc" + std::to_string(seq), seq);
  }
  txflag::v1::PaymentView p;
  std::string_view location;
  int64_t seq = -1;
  int popped = 0;
  while (buffer.PopUntil(INT64_MAX, &p, &location, nullptr, &seq)) {
    EXPECT_EQ(location, "loc" + std::to_string(seq));
    EXPECT_EQ(p.id, "P" + std::to_string(seq));
    EXPECT_EQ(p.debtor_account, "DK" + std::to_string(seq));
    EXPECT_EQ(p.reference, std::string(40, 'r'));
    ++popped;
  }
  EXPECT_EQ(popped, n);
}

TEST(ReorderBuffer, OldestPositionPerLaneCountsOutOfOrderPayments) {
  ReorderBuffer buffer;
  EXPECT_EQ(buffer.OldestPosition(0), -1);
  // Lane 1: positions 10, 11 in order, then 12 out of order (the heap).
  buffer.Push(MakePayment(100, 0), "a", 0, Legs::kBoth, 1, 10);
  buffer.Push(MakePayment(101, 1), "b", 1, Legs::kBoth, 1, 11);
  buffer.Push(MakePayment(50, 2), "c", 2, Legs::kBoth, 1, 12);
  // Lane 2: one without a position, then 7.
  buffer.Push(MakePayment(100, 3), "d", 3, Legs::kBoth, 2);
  buffer.Push(MakePayment(102, 4), "e", 4, Legs::kBoth, 2, 7);
  EXPECT_EQ(buffer.OldestPosition(1), 10);
  EXPECT_EQ(buffer.OldestPosition(2), 7);
  EXPECT_EQ(buffer.OldestPosition(3), -1);
  txflag::v1::PaymentView p;
  std::string_view location;
  // Releases c (ts 50, lane 1's heap item), then a and d (ts 100).
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(buffer.PopUntil(100, &p, &location));
  EXPECT_EQ(buffer.OldestPosition(1), 11);
  EXPECT_EQ(buffer.OldestPosition(2), 7);
  ASSERT_TRUE(buffer.PopUntil(101, &p, &location));
  EXPECT_EQ(buffer.OldestPosition(1), -1);
}

}  // namespace
}  // namespace txflag::engine
