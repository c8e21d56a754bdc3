#include "proto/leg_view.h"

#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "proto/payment.pb.h"

namespace txflag::v1 {
namespace {

struct Case {
  LegSide side;
  std::string source;
  std::string payment;
};

std::vector<Case> Cases() {
  Payment p;
  p.set_id("p-1");
  p.set_debtor_account("DK5000400440116243");
  p.set_creditor_account("DK8930000000000001");
  p.set_amount_minor(25000000);
  std::string big(300, 'x');  // a payment over 127 bytes: 2-byte length
  return {{LegSide::kDebit, "payments/3@1234", p.SerializeAsString()},
          {LegSide::kCredit, "payments/0@0", p.SerializeAsString()},
          {LegSide::kCredit, "in.topic-v2/15@9223372036854775807", big},
          {LegSide::kIdleMarker, "payments/7@42", ""}};
}

// What the hand writer writes is what protobuf writes, and both readers
// agree on it.
TEST(LegView, WritesWhatProtobufWritesAndReadsItBack) {
  for (const Case& c : Cases()) {
    std::string mine;
    AppendLegWire({c.side, c.source, c.payment}, &mine);
    RepartitionLeg message;
    message.set_side(static_cast<RepartitionLeg::Side>(c.side));
    message.set_source(c.source);
    message.set_payment(c.payment);
    EXPECT_EQ(mine, message.SerializeAsString()) << c.source;

    LegView leg;
    RepartitionLeg scratch;
    ASSERT_TRUE(ReadLeg(mine, &leg, &scratch)) << c.source;
    EXPECT_EQ(leg.side, c.side);
    EXPECT_EQ(leg.source, c.source);
    EXPECT_EQ(leg.payment, c.payment);
    // A view into the value, not a copy (the hand path).
    EXPECT_GE(leg.source.data(), mine.data());
    EXPECT_LE(leg.source.data() + leg.source.size(), mine.data() + mine.size());
  }
}

TEST(LegView, AppendsToWhatIsThere) {
  std::string out = "prefix";
  AppendLegWire({LegSide::kDebit, "payments/1@2", "abc"}, &out);
  LegView leg;
  RepartitionLeg scratch;
  EXPECT_TRUE(ReadLeg(std::string_view(out).substr(6), &leg, &scratch));
  EXPECT_EQ(leg.payment, "abc");
}

// Forms the hand reader declines go to protobuf, whose verdict counts: a
// repeated field (last one wins), an unknown field from a newer writer,
// fields out of order.
TEST(LegView, UncommonFormsGetProtobufsVerdict) {
  std::string repeated;
  AppendLegWire({LegSide::kDebit, "payments/1@1", "first"}, &repeated);
  AppendLegWire({LegSide::kCredit, "payments/1@2", "second"}, &repeated);
  LegView leg;
  RepartitionLeg scratch;
  ASSERT_TRUE(ReadLeg(repeated, &leg, &scratch));
  EXPECT_EQ(leg.side, LegSide::kCredit);
  EXPECT_EQ(leg.source, "payments/1@2");
  EXPECT_EQ(leg.payment, "second");

  std::string unknown;
  AppendLegWire({LegSide::kDebit, "payments/1@1", "p"}, &unknown);
  unknown += std::string("\x20\x05", 2);  // field 4, varint 5
  ASSERT_TRUE(ReadLeg(unknown, &leg, &scratch));
  EXPECT_EQ(leg.side, LegSide::kDebit);
  EXPECT_EQ(leg.payment, "p");

  RepartitionLeg reordered;
  reordered.set_side(RepartitionLeg::CREDIT);
  reordered.set_source("payments/2@3");
  reordered.set_payment("q");
  // payment, source, side: the fields in reverse order.
  std::string reversed = std::string("\x1a\x01q", 3);
  reversed += std::string("\x12\x0c") + "payments/2@3";
  reversed += std::string("\x08\x02", 2);
  ASSERT_TRUE(ReadLeg(reversed, &leg, &scratch));
  EXPECT_EQ(leg.side, LegSide::kCredit);
  EXPECT_EQ(leg.source, "payments/2@3");
  EXPECT_EQ(leg.payment, "q");
}

TEST(LegView, RejectsWhatIsNotALeg) {
  LegView leg;
  RepartitionLeg scratch;
  std::string no_source;
  AppendLegWire({LegSide::kDebit, "", "p"}, &no_source);
  EXPECT_FALSE(ReadLeg(no_source, &leg, &scratch));

  RepartitionLeg unspecified;
  unspecified.set_source("payments/1@1");
  EXPECT_FALSE(ReadLeg(unspecified.SerializeAsString(), &leg, &scratch));
  unspecified.set_side(static_cast<RepartitionLeg::Side>(9));
  EXPECT_FALSE(ReadLeg(unspecified.SerializeAsString(), &leg, &scratch));

  std::string bad_utf8;
  AppendLegWire({LegSide::kDebit, "payments\xff/1@1", "p"}, &bad_utf8);
  EXPECT_FALSE(ReadLeg(bad_utf8, &leg, &scratch));

  // A Payment is not a leg (what an older txflag wrote as the value, with
  // the leg in headers, or another producer's message).
  // Whatever fields it has: its field 1 (id) is a string where the leg's
  // side is a number, so the side stays unspecified.
  Payment p;
  p.set_id("p-1");
  p.set_debtor_account("A");
  EXPECT_FALSE(ReadLeg(p.SerializeAsString(), &leg, &scratch));
  p.clear_id();
  p.mutable_timestamp()->set_seconds(1000);
  p.set_creditor_account("B");
  p.set_amount_minor(5);
  EXPECT_FALSE(ReadLeg(p.SerializeAsString(), &leg, &scratch));
  p.clear_timestamp();
  EXPECT_FALSE(ReadLeg(p.SerializeAsString(), &leg, &scratch));
  EXPECT_FALSE(ReadLeg("not protobuf at all", &leg, &scratch));
  EXPECT_FALSE(ReadLeg("", &leg, &scratch));

  // Every truncation of a good leg is rejected or, where it happens to end
  // on a field boundary, read as exactly what protobuf reads.
  std::string good;
  AppendLegWire({LegSide::kCredit, "payments/4@77", "payload"}, &good);
  for (size_t n = 0; n < good.size(); ++n) {
    const std::string cut = good.substr(0, n);
    RepartitionLeg reference;
    const bool protobuf_ok =
        reference.ParseFromString(cut) &&
        (reference.side() == RepartitionLeg::DEBIT ||
         reference.side() == RepartitionLeg::CREDIT ||
         reference.side() == RepartitionLeg::IDLE_MARKER) &&
        !reference.source().empty();
    EXPECT_EQ(ReadLeg(cut, &leg, &scratch), protobuf_ok) << n;
  }
}

// Random bytes: the reader never accepts what protobuf would not.
TEST(LegView, RandomBytesAgreeWithProtobuf) {
  std::mt19937_64 rng(7);
  std::string good;
  AppendLegWire({LegSide::kDebit, "payments/4@77", "payload"}, &good);
  for (int i = 0; i < 20000; ++i) {
    std::string bytes = good;
    const int flips = 1 + static_cast<int>(rng() % 3);
    for (int f = 0; f < flips; ++f) {
      bytes[rng() % bytes.size()] = static_cast<char>(rng());
    }
    LegView leg;
    RepartitionLeg scratch;
    if (!ReadLeg(bytes, &leg, &scratch)) continue;
    RepartitionLeg reference;
    ASSERT_TRUE(reference.ParseFromString(bytes)) << i;
    EXPECT_EQ(static_cast<int>(leg.side), reference.side()) << i;
    EXPECT_EQ(leg.source, reference.source()) << i;
    EXPECT_EQ(leg.payment, reference.payment()) << i;
  }
}

}  // namespace
}  // namespace txflag::v1
