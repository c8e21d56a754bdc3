#include "connectors/kafka/internal/payment_decoding.h"

#include <string>
#include <vector>

#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"

namespace txflag::connectors::kafka::internal {
namespace {

using engine::SourceRecord;
using txflag::v1::Payment;

Payment Valid() {
  Payment p;
  p.set_id("P1");
  p.mutable_timestamp()->set_seconds(1714550400);
  p.set_debtor_account("DK5000400412345678");
  p.set_debtor_name("Søren Østergaard");
  p.set_debtor_country("DK");
  p.set_creditor_account("DK9395803321433037");
  p.set_creditor_name("EROGUIDE.DK");
  p.set_amount_minor(49900);
  p.set_currency("DKK");
  p.set_channel(Payment::CARD);
  p.set_mcc(7311);
  p.set_reference("annonce");
  return p;
}

// The in-process runner's decoding (a view into the value) against the
// general one (a Payment message): same verdict, reason, raw bytes and
// values, for values the wire reader takes and for those it leaves to
// protobuf.
TEST(PaymentDecoding, AsViewAgreesWithTheMessageDecoding) {
  Payment bad_country = Valid();
  bad_country.set_creditor_country("se");
  Payment no_id = Valid();
  no_id.clear_id();
  Payment cash_without_cash = Valid();
  cash_without_cash.clear_creditor_account();
  Payment bad_currency = Valid();
  bad_currency.set_currency("XXY");
  const std::string valid = Valid().SerializeAsString();
  struct Case {
    const char* what;
    std::string value;
    bool as_view;  // the wire reader takes it (no message built)
  };
  const std::vector<Case> cases = {
      {"valid", valid, true},
      // Field 14 (unknown): valid, but left to protobuf.
      {"unknown field", valid + std::string("\x70\x01", 2), false},
      // id given twice: protobuf keeps the last.
      {"repeated id", valid + std::string("\x0a\x02P2", 4), false},
      {"invalid UTF-8 name", valid + std::string("\x22\x01\xff", 3), false},
      {"empty", "", false},
      {"not protobuf", "hello, world", false},
      {"bad country", bad_country.SerializeAsString(), false},
      {"no id", no_id.SerializeAsString(), false},
      {"account missing", cash_without_cash.SerializeAsString(), false},
      {"unknown currency", bad_currency.SerializeAsString(), false},
  };
  for (const Case& c : cases) {
    SourceRecord by_message, by_view;
    DecodePaymentMessage(c.value, PaymentEncoding::kProtobuf, &by_message);
    by_view.view = Valid();  // stale: must be replaced or reset
    DecodePaymentMessageAsView(c.value, PaymentEncoding::kProtobuf, &by_view);
    EXPECT_EQ(by_view.kind, by_message.kind) << c.what;
    EXPECT_EQ(by_view.reason, by_message.reason) << c.what;
    EXPECT_EQ(by_view.raw, by_message.raw) << c.what;
    EXPECT_FALSE(by_message.view.has_value()) << c.what;
    EXPECT_EQ(by_view.view.has_value(), c.as_view) << c.what;
    if (by_message.kind == SourceRecord::Kind::kPayment) {
      Payment got = by_view.payment;
      if (by_view.view.has_value()) by_view.view->CopyTo(&got);
      EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(
          got, by_message.payment))
          << c.what << ": " << got.ShortDebugString() << " vs "
          << by_message.payment.ShortDebugString();
    }
  }
}

TEST(PaymentDecoding, AsViewLeavesJsonToTheMessageDecoding) {
  const std::string json =
      R"({"id":"P1","timestamp":"2024-05-01T08:00:00Z",)"
      R"("debtor_account":"DK1","creditor_account":"DK2",)"
      R"("amount_minor":"100","currency":"DKK","channel":"MOBILE"})";
  SourceRecord record;
  DecodePaymentMessageAsView(json, PaymentEncoding::kJson, &record);
  ASSERT_EQ(record.kind, SourceRecord::Kind::kPayment) << record.reason;
  EXPECT_FALSE(record.view.has_value());
  EXPECT_EQ(record.payment.id(), "P1");
}

}  // namespace
}  // namespace txflag::connectors::kafka::internal
