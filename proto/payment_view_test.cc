#include "proto/payment_view.h"

#include <algorithm>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"

namespace txflag::v1 {
namespace {

using google::protobuf::util::MessageDifferencer;

// A random string: empty, ASCII, or with 2-, 3- and 4-byte UTF-8 sequences.
std::string RandomText(std::mt19937_64& rng) {
  static const std::vector<std::string> kPieces = {"a",
                                                   "Z",
                                                   "0",
                                                   " ",
                                                   "-",
                                                   "\xC3\xB8" /* ø */,
                                                   "\xE2\x82\xAC" /* € */,
                                                   "\xF0\x9F\x92\xB8" /* 💸 */};
  std::string s;
  const int n = static_cast<int>(rng() % 24);
  for (int i = 0; i < n; ++i) s += kPieces[rng() % kPieces.size()];
  return s;
}

int64_t RandomInt(std::mt19937_64& rng) {
  switch (rng() % 5) {
    case 0:
      return 0;
    case 1:
      return static_cast<int64_t>(rng() % 1000);
    case 2:
      return -static_cast<int64_t>(rng() % 1000);
    case 3:
      return static_cast<int64_t>(rng());  // any 64 bits
    default:
      return std::numeric_limits<int64_t>::min();
  }
}

Payment RandomPayment(std::mt19937_64& rng) {
  Payment p;
  p.set_id(RandomText(rng));
  if (rng() % 4 != 0) {
    p.mutable_timestamp()->set_seconds(RandomInt(rng));
    p.mutable_timestamp()->set_nanos(static_cast<int32_t>(RandomInt(rng)));
  }
  p.set_debtor_account(RandomText(rng));
  p.set_debtor_name(RandomText(rng));
  p.set_debtor_country(RandomText(rng));
  p.set_creditor_account(RandomText(rng));
  p.set_creditor_name(RandomText(rng));
  p.set_creditor_country(RandomText(rng));
  p.set_amount_minor(RandomInt(rng));
  p.set_currency(RandomText(rng));
  p.set_channel(static_cast<Payment::Channel>(RandomInt(rng)));
  p.set_mcc(static_cast<uint32_t>(RandomInt(rng)));
  p.set_reference(RandomText(rng));
  return p;
}

// `p` serialized one field at a time, in a random order: still the same
// message to protobuf (fields may come in any order).
std::string ShuffledWire(const Payment& p, std::mt19937_64& rng) {
  std::vector<std::string> fields;
  const auto* descriptor = Payment::descriptor();
  for (int i = 0; i < descriptor->field_count(); ++i) {
    Payment one = p;
    for (int j = 0; j < descriptor->field_count(); ++j) {
      if (j != i) one.GetReflection()->ClearField(&one, descriptor->field(j));
    }
    fields.push_back(one.SerializeAsString());
  }
  std::shuffle(fields.begin(), fields.end(), rng);
  std::string wire;
  for (const std::string& f : fields) wire += f;
  return wire;
}

// The contract: accepted bytes parse with protobuf to the same values.
void ExpectAgreesWithProtobuf(const std::string& wire) {
  PaymentView view;
  if (!ParsePaymentWire(wire, &view)) return;
  Payment reference;
  ASSERT_TRUE(reference.ParseFromString(wire))
      << "accepted bytes that protobuf rejects";
  Payment copied;
  view.CopyTo(&copied);
  EXPECT_TRUE(MessageDifferencer::Equals(reference, copied))
      << "protobuf: " << reference.ShortDebugString()
      << "\nview:     " << copied.ShortDebugString();
}

TEST(PaymentView, ReadsWhatProtobufWritesInAnyFieldOrder) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 2000; ++i) {
    const Payment p = RandomPayment(rng);
    for (const std::string& wire :
         {p.SerializeAsString(), ShuffledWire(p, rng)}) {
      PaymentView view;
      ASSERT_TRUE(ParsePaymentWire(wire, &view)) << p.ShortDebugString();
      Payment copied;
      view.CopyTo(&copied);
      ASSERT_TRUE(MessageDifferencer::Equals(p, copied))
          << p.ShortDebugString() << "\n"
          << copied.ShortDebugString();
      // The view's strings point into the wire bytes, not at copies.
      if (!view.id.empty()) {
        EXPECT_GE(view.id.data(), wire.data());
        EXPECT_LT(view.id.data(), wire.data() + wire.size());
      }
    }
  }
}

TEST(PaymentView, OfMessageMatchesTheMessage) {
  std::mt19937_64 rng(11);
  const Payment p = RandomPayment(rng);
  const PaymentView view = p;
  EXPECT_EQ(view.id.data(), p.id().data());
  Payment copied;
  view.CopyTo(&copied);
  EXPECT_TRUE(MessageDifferencer::Equals(p, copied));
}

TEST(PaymentView, CorruptedBytesAreDeclinedOrReadAsProtobufReadsThem) {
  std::mt19937_64 rng(13);
  int accepted = 0, declined = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string wire = RandomPayment(rng).SerializeAsString();
    if (wire.empty()) continue;
    switch (rng() % 4) {
      case 0:  // flip a byte
        wire[rng() % wire.size()] = static_cast<char>(rng());
        break;
      case 1:  // cut
        wire.resize(rng() % wire.size());
        break;
      case 2:  // insert a byte
        wire.insert(wire.begin() + static_cast<long>(rng() % wire.size()),
                    static_cast<char>(rng()));
        break;
      default:  // flip a bit
        wire[rng() % wire.size()] ^= static_cast<char>(1 << (rng() % 8));
        break;
    }
    PaymentView view;
    (ParsePaymentWire(wire, &view) ? accepted : declined)++;
    ExpectAgreesWithProtobuf(wire);
    if (HasFatalFailure() || HasFailure()) return;
  }
  // Both outcomes were exercised.
  EXPECT_GT(accepted, 1000);
  EXPECT_GT(declined, 1000);
}

TEST(PaymentView, DeclinesWhatOnlyProtobufShouldJudge) {
  Payment p;
  p.set_id("p1");
  p.mutable_timestamp()->set_seconds(1700000000);
  p.set_amount_minor(500);
  const std::string wire = p.SerializeAsString();
  PaymentView view;
  ASSERT_TRUE(ParsePaymentWire(wire, &view));

  struct Case {
    const char* what;
    std::string bytes;
    bool protobuf_accepts;
  };
  const std::vector<Case> cases = {
      // Field 14 (unknown to this schema), varint 1.
      {"unknown field", wire + std::string("\x70\x01", 2), true},
      // id a second time: protobuf keeps the last.
      {"repeated field", wire + std::string("\x0a\x02p2", 4), true},
      // id with a lone continuation byte.
      {"invalid UTF-8", std::string("\x0a\x01\x80", 3), false},
      // amount_minor (9) sent length-delimited: protobuf keeps it as an
      // unknown field.
      {"wrong wire type", std::string("\x4a\x01x", 3), true},
      // timestamp holding field 3.
      {"unknown timestamp field", std::string("\x12\x02\x18\x01", 4), true},
      // timestamp.seconds twice.
      {"repeated timestamp field", std::string("\x12\x04\x08\x01\x08\x02", 6),
       true},
      // Truncated length.
      {"truncated", wire.substr(0, wire.size() - 1), false},
      // amount as an 11-byte varint.
      {"over-long varint",
       std::string("\x48\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x00", 12),
       false},
  };
  for (const Case& c : cases) {
    EXPECT_FALSE(ParsePaymentWire(c.bytes, &view)) << c.what;
    Payment reference;
    EXPECT_EQ(reference.ParseFromString(c.bytes), c.protobuf_accepts) << c.what;
  }
}

}  // namespace
}  // namespace txflag::v1
