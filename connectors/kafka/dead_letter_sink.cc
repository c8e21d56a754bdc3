#include "connectors/kafka/dead_letter_sink.h"

#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "base/strings.h"
#include "connectors/kafka/internal/producer.h"

namespace txflag::connectors::kafka {
namespace {

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace

std::optional<KafkaLocation> ParseKafkaLocation(std::string_view location) {
  const size_t at = location.rfind('@');
  if (at == std::string_view::npos) return std::nullopt;
  const size_t slash = location.rfind('/', at);
  if (slash == std::string_view::npos || slash == 0) return std::nullopt;
  const std::string_view partition = location.substr(slash + 1, at - slash - 1);
  const std::string_view offset = location.substr(at + 1);
  KafkaLocation out;
  out.topic = location.substr(0, slash);
  if (!AllDigits(partition) || !AllDigits(offset) ||
      !absl::SimpleAtoi(Av(partition), &out.partition) ||
      !absl::SimpleAtoi(Av(offset), &out.offset)) {
    return std::nullopt;
  }
  return out;
}

absl::Status KafkaDeadLetterSinkOptions::Validate() const {
  return internal::ValidateProducerConfig(properties, topic,
                                          "dead-letter producer");
}

struct KafkaDeadLetterSink::Impl {
  int64_t flush_timeout_ms = -1;
  // Acknowledged count carried over from Restore(); minus the deliveries
  // already counted by the producer at that point.
  int64_t base = 0;
  std::unique_ptr<internal::Producer> producer;
};

absl::StatusOr<std::unique_ptr<KafkaDeadLetterSink>>
KafkaDeadLetterSink::Create(const KafkaDeadLetterSinkOptions& options) {
  TXFLAG_RETURN_IF_ERROR(options.Validate());
  auto impl = std::make_unique<Impl>();
  impl->flush_timeout_ms = options.flush_timeout_ms;
  internal::ProducerConfig config;
  config.properties = options.properties;
  config.topic = options.topic;
  config.client_id = "txflag-dead-letters";
  config.role = "dead-letter producer";
  config.on_client_error = options.on_client_error;
  TXFLAG_ASSIGN_OR_RETURN(impl->producer, internal::Producer::Create(config));
  return std::unique_ptr<KafkaDeadLetterSink>(
      new KafkaDeadLetterSink(std::move(impl)));
}

KafkaDeadLetterSink::KafkaDeadLetterSink(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {}

KafkaDeadLetterSink::~KafkaDeadLetterSink() = default;

absl::Status KafkaDeadLetterSink::Write(std::string_view location,
                                        std::string_view reason,
                                        std::string_view raw) {
  internal::MessageHeaders headers;
  headers.reserve(4);
  headers.emplace_back(kDeadLetterReasonHeader, reason);
  std::string partition;
  std::string offset;
  if (std::optional<KafkaLocation> kafka = ParseKafkaLocation(location)) {
    partition = absl::StrCat(kafka->partition);
    offset = absl::StrCat(kafka->offset);
    headers.emplace_back(kDeadLetterTopicHeader, kafka->topic);
    headers.emplace_back(kDeadLetterPartitionHeader, partition);
    headers.emplace_back(kDeadLetterOffsetHeader, offset);
  } else {
    headers.emplace_back(kDeadLetterLocationHeader, location);
  }
  // The location names the reject in a queueing error: never the reason or
  // the raw bytes, which may hold account numbers.
  return impl_->producer->Produce(location, raw, "reject", location, headers);
}

absl::StatusOr<std::string> KafkaDeadLetterSink::Flush() {
  TXFLAG_RETURN_IF_ERROR(impl_->producer->Flush(impl_->flush_timeout_ms));
  return absl::StrCat(impl_->base + impl_->producer->stats().delivered);
}

absl::Status KafkaDeadLetterSink::Restore(std::string_view checkpoint) {
  int64_t count = 0;
  if (!checkpoint.empty() &&
      (!AllDigits(checkpoint) || !absl::SimpleAtoi(Av(checkpoint), &count))) {
    return absl::InvalidArgumentError(
        absl::StrCat("dead-letter sink: checkpoint '", Av(checkpoint),
                     "' is not a count of acknowledged rejects"));
  }
  // Nothing to take back: what the brokers hold stays (consumers dedupe on
  // the source offset headers); only the count resumes.
  impl_->base = count - impl_->producer->stats().delivered;
  return absl::OkStatus();
}

int64_t KafkaDeadLetterSink::position() const {
  return impl_->producer->last_sequence();
}

std::string KafkaDeadLetterSink::CheckpointAt(int64_t position) const {
  // Without failures (a failure is sticky and ends the run), the messages
  // up to `position` are the first `position` this producer delivered.
  return absl::StrCat(impl_->base + position);
}

absl::Status KafkaDeadLetterSink::WaitDelivered(int64_t position) {
  return impl_->producer->WaitDelivered(position, impl_->flush_timeout_ms);
}

KafkaDeadLetterSink::Stats KafkaDeadLetterSink::stats() const {
  const internal::Producer::Stats s = impl_->producer->stats();
  Stats out;
  out.written = s.sent;
  out.delivered = s.delivered;
  out.failed = s.failed;
  return out;
}

}  // namespace txflag::connectors::kafka
