#include "rules/window.h"

#include <string>
#include <string_view>

#include "gtest/gtest.h"

namespace txflag::rules {
namespace {

Leg MakeLeg(int64_t ts, int64_t amount, uint64_t cp, int32_t day = 0,
            uint8_t hour = 12, std::string id = "") {
  Leg leg;
  leg.ts = ts;
  leg.amount = amount;
  leg.counterparty = cp;
  leg.local_day = day;
  leg.local_hour = hour;
  leg.payment_id = id.empty() ? "p" + std::to_string(ts) : id;
  return leg;
}

TEST(Window, StartsEmpty) {
  Window w;
  EXPECT_TRUE(w.empty());
  EXPECT_EQ(w.size(), 0u);
  EXPECT_EQ(w.sum(), 0);
  EXPECT_EQ(w.distinct_counterparties(), 0u);
  EXPECT_EQ(w.distinct_days(), 0u);
  EXPECT_EQ(w.CountInHours(0, 0), 0u);
  EXPECT_EQ(w.counterparty(1), nullptr);
}

TEST(Window, AddKeepsAggregates) {
  Window w;
  w.Add(MakeLeg(100, 500, 1, 10, 21));
  w.Add(MakeLeg(200, 700, 2, 10, 22));
  w.Add(MakeLeg(300, 300, 1, 11, 3));
  EXPECT_EQ(w.size(), 3u);
  EXPECT_EQ(w.sum(), 1500);
  EXPECT_EQ(w.distinct_counterparties(), 2u);
  EXPECT_EQ(w.distinct_days(), 2u);
  ASSERT_NE(w.counterparty(1), nullptr);
  EXPECT_EQ(w.counterparty(1)->count, 2u);
  EXPECT_EQ(w.counterparty(1)->sum, 800);
  EXPECT_EQ(w.counterparty(2)->count, 1u);
  EXPECT_EQ(w.legs().front().ts, 100);
  EXPECT_EQ(w.legs().back().ts, 300);
}

TEST(Window, HoldsRepeatOfOnlyAnIdenticalLegAtTheNewestTimestamp) {
  Window w;
  w.Add(MakeLeg(100, 500, 7, 0, 12, "a"));
  w.Add(MakeLeg(200, 500, 7, 0, 12, "b"));
  w.Add(MakeLeg(200, 300, 8, 0, 12, "c"));
  EXPECT_TRUE(w.HoldsRepeatOf(MakeLeg(200, 500, 7), "b"));
  EXPECT_TRUE(w.HoldsRepeatOf(MakeLeg(200, 300, 8), "c"));
  // Any field that differs makes it another leg: a reused id, or the other
  // side of a transfer to oneself.
  EXPECT_FALSE(w.HoldsRepeatOf(MakeLeg(200, 501, 7), "b"));
  EXPECT_FALSE(w.HoldsRepeatOf(MakeLeg(200, 500, 9), "b"));
  EXPECT_FALSE(w.HoldsRepeatOf(MakeLeg(201, 500, 7), "b"));
  EXPECT_FALSE(w.HoldsRepeatOf(MakeLeg(200, 500, 7), "x"));
  Leg outgoing = MakeLeg(200, 500, 7);
  outgoing.direction = txflag::v1::OUTGOING;
  EXPECT_FALSE(w.HoldsRepeatOf(outgoing, "b"));
  // "a" is older than the newest legs: a leg at ts 200 cannot repeat it.
  EXPECT_FALSE(w.HoldsRepeatOf(MakeLeg(200, 500, 7), "a"));
  // Without an id nothing can be told apart.
  Window anonymous;
  Leg no_id = MakeLeg(100, 500, 7);
  no_id.payment_id.clear();
  anonymous.Add(no_id);
  EXPECT_FALSE(anonymous.HoldsRepeatOf(no_id, ""));
  // Evicted legs are not held.
  w.EvictOlderThan(201);
  EXPECT_FALSE(w.HoldsRepeatOf(MakeLeg(200, 500, 7), "b"));
}

TEST(Window, EvictOlderThanIsExclusiveAtTheBoundary) {
  Window w;
  w.Add(MakeLeg(100, 1, 1));
  w.Add(MakeLeg(200, 1, 2));
  w.Add(MakeLeg(200, 1, 3));
  w.Add(MakeLeg(300, 1, 4));
  EXPECT_EQ(w.EvictOlderThan(100), 0u);  // ts == min_ts stays
  EXPECT_EQ(w.size(), 4u);
  EXPECT_EQ(w.EvictOlderThan(101), 1u);
  EXPECT_EQ(w.legs().front().ts, 200);
  EXPECT_EQ(w.EvictOlderThan(201), 2u);  // both legs at 200 go together
  EXPECT_EQ(w.size(), 1u);
  EXPECT_EQ(w.EvictOlderThan(1000), 1u);
  EXPECT_TRUE(w.empty());
  EXPECT_EQ(w.EvictOlderThan(2000), 0u);
}

TEST(Window, AggregatesFollowEviction) {
  Window w;
  w.Add(MakeLeg(100, 500, 1, 10, 21));
  w.Add(MakeLeg(200, 700, 2, 10, 22));
  w.Add(MakeLeg(300, 300, 1, 11, 3));
  w.Add(MakeLeg(400, 100, 3, 12, 12));
  ASSERT_EQ(w.EvictOlderThan(201), 2u);
  EXPECT_EQ(w.sum(), 400);
  EXPECT_EQ(w.distinct_counterparties(), 2u);  // 1 (one leg left) and 3
  EXPECT_EQ(w.counterparty(1)->count, 1u);
  EXPECT_EQ(w.counterparty(1)->sum, 300);
  EXPECT_EQ(w.counterparty(2), nullptr);  // erased, not left at zero
  EXPECT_EQ(w.distinct_days(), 2u);       // day 10 gone
  EXPECT_EQ(w.CountInHours(20, 23), 0u);
  EXPECT_EQ(w.CountInHours(0, 24), 2u);
  EXPECT_EQ(w.distinct_counterparties(), 2u);
}

TEST(Window, CountInHoursPlainAndAcrossMidnight) {
  Window w;
  int64_t ts = 0;
  for (int h : {0, 5, 6, 12, 19, 20, 23}) {
    w.Add(MakeLeg(++ts, 1, 1, 0, static_cast<uint8_t>(h)));
  }
  EXPECT_EQ(w.CountInHours(6, 20), 3u);   // 6, 12, 19
  EXPECT_EQ(w.CountInHours(20, 6), 4u);   // 20, 23, 0, 5
  EXPECT_EQ(w.CountInHours(22, 1), 2u);   // 23, 0
  EXPECT_EQ(w.CountInHours(12, 12), 0u);  // empty span
  EXPECT_EQ(w.CountInHours(0, 1), 1u);
  EXPECT_EQ(w.CountInHours(23, 0), 1u);  // just 23
}

TEST(Window, CountCounterpartiesAtLeast) {
  Window w;
  int64_t ts = 0;
  // cp 1: 4 legs, 4000; cp 2: 4 legs, 400; cp 3: 1 leg, 9000.
  for (int i = 0; i < 4; ++i) w.Add(MakeLeg(++ts, 1000, 1));
  for (int i = 0; i < 4; ++i) w.Add(MakeLeg(++ts, 100, 2));
  w.Add(MakeLeg(++ts, 9000, 3));
  EXPECT_EQ(w.CountCounterpartiesAtLeast(1, 0), 3u);
  EXPECT_EQ(w.CountCounterpartiesAtLeast(4, 0), 2u);
  EXPECT_EQ(w.CountCounterpartiesAtLeast(4, 400), 2u);  // sum boundary
  EXPECT_EQ(w.CountCounterpartiesAtLeast(4, 401), 1u);
  EXPECT_EQ(w.CountCounterpartiesAtLeast(1, 5000), 1u);
  EXPECT_EQ(w.CountCounterpartiesAtLeast(5, 0), 0u);
}

Leg FullLeg(int64_t ts, std::string id) {
  Leg leg;
  leg.ts = ts;
  leg.amount = 123456789;
  leg.counterparty = 0xfedcba9876543210ULL;
  leg.local_day = 19786;
  leg.local_hour = 23;
  leg.direction = txflag::v1::OUTGOING;
  leg.channel = txflag::v1::Payment::DIRECT_DEBIT;
  leg.mcc = 7311;
  leg.flags = 0x81;
  leg.payment_id = std::move(id);
  return leg;
}

void ExpectSameLeg(const Leg& a, const Leg& b) {
  EXPECT_EQ(a.ts, b.ts);
  EXPECT_EQ(a.amount, b.amount);
  EXPECT_EQ(a.counterparty, b.counterparty);
  EXPECT_EQ(a.local_day, b.local_day);
  EXPECT_EQ(a.local_hour, b.local_hour);
  EXPECT_EQ(a.direction, b.direction);
  EXPECT_EQ(a.channel, b.channel);
  EXPECT_EQ(a.mcc, b.mcc);
  EXPECT_EQ(a.flags, b.flags);
  EXPECT_EQ(a.payment_id, b.payment_id);
}

TEST(Window, EncodeDecodeRoundTripsEveryField) {
  Window w;
  w.Add(FullLeg(-5, "before-1970"));
  Leg second = FullLeg(1709510400, "E2E-\xc3\xa6\xc3\xb8\xc3\xa5");
  second.local_day = 19786 - 3;  // days may go down between legs
  second.local_hour = 0;
  second.direction = txflag::v1::INCOMING;
  second.channel = txflag::v1::Payment::CHANNEL_UNSPECIFIED;
  second.mcc = 65535;
  second.flags = 0;
  second.amount = 1;
  w.Add(second);
  w.Add(FullLeg(1709510400, ""));  // same ts, empty id

  std::string bytes = "prefix";
  w.EncodeTo(&bytes);
  bytes += "trailer";
  std::string_view in(bytes);
  in.remove_prefix(6);

  Window d;
  d.Add(MakeLeg(1, 1, 99));  // replaced by the decoded contents
  ASSERT_TRUE(d.DecodeFrom(&in).ok());
  EXPECT_EQ(in, "trailer");  // consumed exactly the window's bytes
  ASSERT_EQ(d.size(), w.size());
  for (size_t i = 0; i < w.size(); ++i) ExpectSameLeg(d.legs()[i], w.legs()[i]);
  EXPECT_EQ(d.sum(), w.sum());
  EXPECT_EQ(d.distinct_counterparties(), 1u);
  EXPECT_EQ(d.counterparty(99), nullptr);
  EXPECT_EQ(d.distinct_days(), 2u);
  EXPECT_EQ(d.CountInHours(23, 24), 2u);
}

TEST(Window, EncodeDecodeEmptyWindow) {
  Window w;
  std::string bytes;
  w.EncodeTo(&bytes);
  Window d;
  d.Add(MakeLeg(1, 1, 1));
  std::string_view in(bytes);
  ASSERT_TRUE(d.DecodeFrom(&in).ok());
  EXPECT_TRUE(d.empty());
  EXPECT_EQ(d.sum(), 0);
  EXPECT_TRUE(in.empty());
}

TEST(Window, EncodingIsCompact) {
  Window w;
  for (int i = 0; i < 100; ++i) {
    w.Add(MakeLeg(1709510400 + i * 60, 25000, i, 19786, 21,
                  "MP" + std::to_string(i)));
  }
  std::string bytes;
  w.EncodeTo(&bytes);
  // ts delta 1-2 bytes, amount 3, counterparty 8, the rest ~10 incl. id.
  EXPECT_LT(bytes.size(), 100u * 26);
}

TEST(Window, EveryTruncationIsDataLoss) {
  Window w;
  w.Add(FullLeg(1000, "a"));
  w.Add(FullLeg(2000, "bb"));
  std::string bytes;
  w.EncodeTo(&bytes);
  for (size_t n = 0; n < bytes.size(); ++n) {
    Window d;
    d.Add(MakeLeg(1, 5, 7));
    std::string_view in(bytes.data(), n);
    absl::Status s = d.DecodeFrom(&in);
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << "prefix " << n;
    // A failed decode leaves window and input untouched.
    EXPECT_EQ(d.size(), 1u);
    EXPECT_EQ(d.sum(), 5);
    EXPECT_EQ(in.size(), n);
  }
}

TEST(Window, CorruptBytesAreDataLossNotACrash) {
  EXPECT_EQ(
      [] {
        Window d;
        std::string_view in("\x07", 1);  // unknown version
        return d.DecodeFrom(&in).code();
      }(),
      absl::StatusCode::kDataLoss);
  EXPECT_EQ(
      [] {
        Window d;  // claims 2^63 legs
        std::string bytes = "\x01\xff\xff\xff\xff\xff\xff\xff\xff\x7f";
        std::string_view in(bytes);
        return d.DecodeFrom(&in).code();
      }(),
      absl::StatusCode::kDataLoss);
  EXPECT_EQ(
      [] {
        Window d;  // a varint longer than 10 bytes
        std::string bytes = "\x01\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01";
        std::string_view in(bytes);
        return d.DecodeFrom(&in).code();
      }(),
      absl::StatusCode::kDataLoss);

  // Flip every byte of a valid encoding: each result is OK or DataLoss.
  Window w;
  w.Add(FullLeg(1000, "abc"));
  w.Add(FullLeg(2000, "de"));
  std::string bytes;
  w.EncodeTo(&bytes);
  for (size_t i = 0; i < bytes.size(); ++i) {
    for (int v : {0x00, 0x18, 0x7f, 0x80, 0xff}) {
      std::string corrupt = bytes;
      corrupt[i] = static_cast<char>(v);
      Window d;
      std::string_view in(corrupt);
      absl::Status s = d.DecodeFrom(&in);
      EXPECT_TRUE(s.ok() || s.code() == absl::StatusCode::kDataLoss)
          << i << " " << s;
      if (s.ok()) {
        for (const Leg& l : d.legs()) EXPECT_LT(l.local_hour, 24);
      }
    }
  }
}

TEST(Window, HourOutOfRangeIsDataLoss) {
  Window w;
  w.Add(FullLeg(1000, ""));
  std::string bytes;
  w.EncodeTo(&bytes);
  // Layout: version, count, ts(2 bytes for zigzag 2000), amount(4), cp(8),
  // day(3), hour.
  size_t hour_at = 1 + 1 + 2 + 4 + 8 + 3;
  ASSERT_EQ(static_cast<uint8_t>(bytes[hour_at]), 23);
  bytes[hour_at] = 24;
  Window d;
  std::string_view in(bytes);
  EXPECT_EQ(d.DecodeFrom(&in).code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace txflag::rules
