// librdkafka errors as absl::Status, properties, producer options and the
// message key and value: no broker needed.
#include <librdkafka/rdkafka.h>

#include "connectors/kafka/internal/rdkafka_handles.h"
#include "connectors/kafka/payment_producer.h"
#include "connectors/kafka/properties.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"

namespace txflag::connectors::kafka {
namespace {

using ::testing::HasSubstr;
using C = absl::StatusCode;

TEST(KafkaStatus, BrokerProblemsAreUnavailable) {
  for (auto err :
       {RD_KAFKA_RESP_ERR__TRANSPORT, RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN,
        RD_KAFKA_RESP_ERR__MSG_TIMED_OUT,
        RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
        RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS}) {
    EXPECT_EQ(internal::StatusCodeFor(err), C::kUnavailable)
        << rd_kafka_err2name(err);
  }
}

TEST(KafkaStatus, EachFamilyHasItsOwnCode) {
  EXPECT_EQ(internal::StatusCodeFor(RD_KAFKA_RESP_ERR_NO_ERROR), C::kOk);
  EXPECT_EQ(internal::StatusCodeFor(RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART),
            C::kNotFound);
  EXPECT_EQ(internal::StatusCodeFor(RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE),
            C::kInvalidArgument);
  EXPECT_EQ(internal::StatusCodeFor(RD_KAFKA_RESP_ERR__FATAL), C::kAborted);
  EXPECT_EQ(
      internal::StatusCodeFor(RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED),
      C::kPermissionDenied);
  EXPECT_EQ(
      internal::StatusCodeFor(RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED),
      C::kUnauthenticated);
  EXPECT_EQ(internal::StatusCodeFor(RD_KAFKA_RESP_ERR__QUEUE_FULL),
            C::kResourceExhausted);
  EXPECT_EQ(internal::StatusCodeFor(RD_KAFKA_RESP_ERR__PURGE_QUEUE),
            C::kCancelled);
}

TEST(KafkaStatus, MessageNamesContextAndError) {
  absl::Status s =
      internal::KafkaStatus(RD_KAFKA_RESP_ERR__MSG_TIMED_OUT, "sending p1");
  EXPECT_EQ(s.code(), C::kUnavailable);
  EXPECT_THAT(std::string(s.message()), HasSubstr("sending p1: "));
  EXPECT_THAT(std::string(s.message()), HasSubstr("_MSG_TIMED_OUT"));
  EXPECT_TRUE(internal::KafkaStatus(RD_KAFKA_RESP_ERR_NO_ERROR, "x").ok());
}

TEST(KafkaConf, UnknownPropertyOrBadValueIsInvalidArgumentNamingTheKey) {
  auto unknown = internal::NewConf({{"no.such.property", "1"}});
  EXPECT_EQ(unknown.status().code(), C::kInvalidArgument);
  EXPECT_THAT(std::string(unknown.status().message()),
              HasSubstr("no.such.property"));
  auto bad = internal::NewConf({{"linger.ms", "soon"}});
  EXPECT_EQ(bad.status().code(), C::kInvalidArgument);
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("linger.ms"));
  EXPECT_TRUE(internal::NewConf({{"linger.ms", "20"}}).ok());
}

TEST(KafkaProperty, ParsesKeyEqualsValue) {
  auto p = ParseKafkaProperty("sasl.jaas.config=a=b");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->first, "sasl.jaas.config");
  EXPECT_EQ(p->second, "a=b");
  EXPECT_EQ(ParseKafkaProperty("linger.ms").status().code(),
            C::kInvalidArgument);
  EXPECT_EQ(ParseKafkaProperty("=5").status().code(), C::kInvalidArgument);
}

TEST(PaymentProducerOptions, RequiresTopicBrokersIdempotenceAndAcksAll) {
  PaymentProducerOptions o;
  o.topic = "payments";
  EXPECT_EQ(o.Validate().code(), C::kInvalidArgument);  // no brokers
  o.properties = {{"bootstrap.servers", "127.0.0.1:9"}};
  EXPECT_TRUE(o.Validate().ok());
  o.properties.push_back({"acks", "1"});
  EXPECT_EQ(o.Validate().code(), C::kInvalidArgument);
  o.properties.back() = {"enable.idempotence", "false"};
  EXPECT_EQ(o.Validate().code(), C::kInvalidArgument);
  o.properties.back() = {"acks", "all"};
  EXPECT_TRUE(o.Validate().ok());
  o.topic.clear();
  EXPECT_EQ(o.Validate().code(), C::kInvalidArgument);
}

TEST(PaymentProducer, CreateRejectsUnknownPropertyNamingIt) {
  PaymentProducerOptions o;
  o.topic = "payments";
  o.properties = {{"bootstrap.servers", "127.0.0.1:9"}, {"linger.mss", "5"}};
  auto p = PaymentProducer::Create(o);
  EXPECT_EQ(p.status().code(), C::kInvalidArgument);
  EXPECT_THAT(std::string(p.status().message()), HasSubstr("linger.mss"));
}

TEST(PaymentKey, DebtorAccountOrCreditorForCashDeposit) {
  txflag::v1::Payment p;
  p.set_debtor_account("DK01");
  p.set_creditor_account("DK02");
  EXPECT_EQ(PaymentKey(p), "DK01");
  p.clear_debtor_account();
  p.set_channel(txflag::v1::Payment::CASH);
  EXPECT_EQ(PaymentKey(p), "DK02");
}

TEST(EncodePayment, JsonUsesProtoFieldNamesAndParsesBack) {
  txflag::v1::Payment p;
  p.set_id("p1");
  p.set_debtor_account("DK01");
  p.set_amount_minor(25000);
  p.set_currency("DKK");
  auto json = EncodePayment(p, PaymentEncoding::kJson);
  ASSERT_TRUE(json.ok());
  EXPECT_THAT(*json, HasSubstr("\"debtor_account\":\"DK01\""));
  txflag::v1::Payment back;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(*json, &back).ok());
  EXPECT_EQ(back.SerializeAsString(), p.SerializeAsString());
  auto binary = EncodePayment(p, PaymentEncoding::kProtobuf);
  ASSERT_TRUE(binary.ok());
  EXPECT_EQ(*binary, p.SerializeAsString());
}

}  // namespace
}  // namespace txflag::connectors::kafka
