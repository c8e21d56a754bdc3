#include "connectors/kafka/test_consumer.h"

#include <chrono>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "connectors/kafka/internal/rdkafka_handles.h"

namespace txflag::connectors::kafka::testing {

namespace {

// Reads `partitions` of `topic` from the beginning (see ReadTopic).
absl::StatusOr<std::vector<ConsumedMessage>> Read(
    const std::string& bootstrap_servers, const std::string& topic,
    const std::vector<int32_t>& partitions, size_t expected, int timeout_ms) {
  using internal::MessagePtr;
  TXFLAG_ASSIGN_OR_RETURN(internal::ConfPtr conf,
                          internal::NewConf({
                              {"bootstrap.servers", bootstrap_servers},
                              {"group.id", "txflag-test-reader"},
                              {"enable.auto.commit", "false"},
                              {"enable.partition.eof", "false"},
                              {"log_level", "2"},
                          }));
  TXFLAG_ASSIGN_OR_RETURN(
      internal::HandlePtr rk,
      internal::NewHandle(RD_KAFKA_CONSUMER, std::move(conf)));
  internal::TopicPartitionListPtr assignment(
      rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size())));
  for (int32_t p : partitions) {
    rd_kafka_topic_partition_list_add(assignment.get(), topic.c_str(), p)
        ->offset = RD_KAFKA_OFFSET_BEGINNING;
  }
  TXFLAG_RETURN_IF_ERROR(internal::KafkaStatus(
      rd_kafka_assign(rk.get(), assignment.get()), "assign"));

  std::vector<ConsumedMessage> out;
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (out.size() < expected && std::chrono::steady_clock::now() < deadline) {
    MessagePtr message(rd_kafka_consumer_poll(rk.get(), 100));
    if (message == nullptr) continue;
    if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return internal::KafkaStatus(
          message->err,
          absl::StrCat("consuming ", topic, " partition ", message->partition));
    }
    ConsumedMessage m;
    if (message->key != nullptr) {
      m.key.assign(static_cast<const char*>(message->key), message->key_len);
    }
    if (message->payload != nullptr) {
      m.value.assign(static_cast<const char*>(message->payload), message->len);
    } else {
      m.null_value = true;
    }
    rd_kafka_headers_t* headers = nullptr;
    if (rd_kafka_message_headers(message.get(), &headers) ==
        RD_KAFKA_RESP_ERR_NO_ERROR) {
      const char* name = nullptr;
      const void* value = nullptr;
      size_t size = 0;
      for (size_t i = 0;
           rd_kafka_header_get_all(headers, i, &name, &value, &size) ==
           RD_KAFKA_RESP_ERR_NO_ERROR;
           ++i) {
        m.headers.emplace_back(
            name, value == nullptr
                      ? std::string()
                      : std::string(static_cast<const char*>(value), size));
      }
    }
    m.partition = message->partition;
    m.offset = message->offset;
    out.push_back(std::move(m));
  }
  rd_kafka_consumer_close(rk.get());
  return out;
}

}  // namespace

absl::StatusOr<std::vector<ConsumedMessage>> ReadTopic(
    const std::string& bootstrap_servers, const std::string& topic,
    int partitions, size_t expected, int timeout_ms) {
  std::vector<int32_t> all;
  for (int32_t p = 0; p < partitions; ++p) all.push_back(p);
  return Read(bootstrap_servers, topic, all, expected, timeout_ms);
}

absl::StatusOr<std::vector<ConsumedMessage>> ReadPartition(
    const std::string& bootstrap_servers, const std::string& topic,
    int32_t partition, size_t expected, int timeout_ms) {
  return Read(bootstrap_servers, topic, {partition}, expected, timeout_ms);
}

absl::StatusOr<int64_t> CountMessages(const std::string& bootstrap_servers,
                                      const std::string& topic,
                                      int partitions) {
  TXFLAG_ASSIGN_OR_RETURN(internal::ConfPtr conf,
                          internal::NewConf({
                              {"bootstrap.servers", bootstrap_servers},
                              {"log_level", "2"},
                          }));
  TXFLAG_ASSIGN_OR_RETURN(
      internal::HandlePtr rk,
      internal::NewHandle(RD_KAFKA_CONSUMER, std::move(conf)));
  int64_t count = 0;
  for (int p = 0; p < partitions; ++p) {
    int64_t low = 0, high = 0;
    TXFLAG_RETURN_IF_ERROR(internal::KafkaStatus(
        rd_kafka_query_watermark_offsets(rk.get(), topic.c_str(), p, &low,
                                         &high, 5000),
        absl::StrCat("watermarks of ", topic, " partition ", p)));
    count += high - low;
  }
  return count;
}

}  // namespace txflag::connectors::kafka::testing
