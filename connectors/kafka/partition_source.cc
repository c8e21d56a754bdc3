#include "connectors/kafka/partition_source.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <optional>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "base/strings.h"
#include "connectors/kafka/internal/payment_decoding.h"
#include "connectors/kafka/internal/producer.h"
#include "connectors/kafka/internal/rdkafka_handles.h"

namespace txflag::connectors::kafka {

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::string_view kCheckpointTag = "kafka1:";
constexpr int kInitialBackoffMs = 100;
constexpr int kWatermarkTimeoutMs = 10000;

bool ParseInt(std::string_view s, int64_t* out) {
  if (s.empty()) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

}  // namespace

absl::Status KafkaPartitionSourceOptions::Validate() const {
  if (topic.empty()) {
    return absl::InvalidArgumentError("Kafka partition source: no topic given");
  }
  if (partition < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Kafka partition source: partition ", partition, " is negative"));
  }
  if (internal::FindProperty(properties, "bootstrap.servers").empty() &&
      internal::FindProperty(properties, "metadata.broker.list").empty()) {
    return absl::InvalidArgumentError(
        "Kafka partition source: no brokers given (bootstrap.servers)");
  }
  if (poll_timeout_ms <= 0) {
    return absl::InvalidArgumentError(
        "Kafka partition source: poll_timeout_ms must be positive");
  }
  if (max_backoff_ms < kInitialBackoffMs) {
    return absl::InvalidArgumentError(
        absl::StrCat("Kafka partition source: max_backoff_ms must be at least ",
                     kInitialBackoffMs));
  }
  return absl::OkStatus();
}

struct KafkaPartitionSource::Impl {
  KafkaPartitionSourceOptions options;
  std::string bootstrap_servers;
  int64_t low = 0;        // watermarks at Create()
  int64_t end = 0;        // high watermark at Create()
  int64_t start = 0;      // where reading began (for Progress)
  int64_t next = 0;       // offset of the next message to read
  bool assigned = false;  // the consumer is assigned at `next`
  bool idle = false;
  bool at_end = false;
  // Transient outage: when it started (none if not in one), and the backoff.
  std::optional<Clock::time_point> outage_since;
  int backoff_ms = kInitialBackoffMs;
  // A client-level error reported by librdkafka's error callback during the
  // current poll (transient ones only; fatal ones are read from the handle).
  absl::Status client_error;
  bool fatal = false;
  internal::HandlePtr handle;  // last: destroyed first

  ~Impl() {
    if (handle != nullptr) {
      IgnoreError(internal::KafkaStatus(rd_kafka_consumer_close(handle.get()),
                                        "close"));  // nothing to commit
    }
  }

  static void OnError(rd_kafka_t* rk, int err, const char* reason,
                      void* opaque) {
    auto* self = static_cast<Impl*>(opaque);
    if (err == RD_KAFKA_RESP_ERR__FATAL) self->fatal = true;
    absl::Status status = internal::KafkaStatus(
        static_cast<rd_kafka_resp_err_t>(err),
        absl::StrCat("Kafka consumer of ", self->options.topic, "/",
                     self->options.partition, " (brokers ",
                     self->bootstrap_servers, "): ", reason));
    if (!status.ok() && self->client_error.ok()) {
      self->client_error = std::move(status);
    }
  }

  std::string Location(int64_t offset) const {
    return absl::StrCat(options.topic, "/", options.partition, "@", offset);
  }

  // `status` is the problem, or OK when the brokers answer again.
  void Report(const absl::Status& status) {
    if (options.on_client_error) {
      options.on_client_error(status);
    } else if (status.ok()) {
      std::fprintf(stderr, "info: Kafka consumer of %s: brokers answer again\n",
                   Location(next).c_str());
    } else {
      std::fprintf(stderr, "warning: %s\n", status.ToString().c_str());
    }
  }

  absl::Status Assign() {
    internal::TopicPartitionListPtr list(rd_kafka_topic_partition_list_new(1));
    rd_kafka_topic_partition_list_add(list.get(), options.topic.c_str(),
                                      options.partition)
        ->offset = next;
    TXFLAG_RETURN_IF_ERROR(
        internal::KafkaStatus(rd_kafka_assign(handle.get(), list.get()),
                              absl::StrCat("assigning ", Location(next))));
    assigned = true;
    return absl::OkStatus();
  }

  // A transient problem during a poll: reports the start of an outage once,
  // backs off (within `deadline`), and gives up after
  // unavailable_timeout_ms.
  absl::Status Transient(const absl::Status& status,
                         Clock::time_point deadline) {
    const auto now = Clock::now();
    if (!outage_since.has_value()) {
      outage_since = now;
      backoff_ms = kInitialBackoffMs;
      Report(absl::Status(
          status.code(),
          absl::StrCat(status.message(), "; retrying with backoff")));
    } else if (options.unavailable_timeout_ms >= 0 &&
               now - *outage_since >=
                   std::chrono::milliseconds(options.unavailable_timeout_ms)) {
      return absl::UnavailableError(
          absl::StrCat(status.message(), "; brokers (", bootstrap_servers,
                       ") unavailable for more than ",
                       options.unavailable_timeout_ms, " ms"));
    }
    const auto wait = std::min<Clock::duration>(
        std::chrono::milliseconds(backoff_ms),
        std::max<Clock::duration>(deadline - now, Clock::duration::zero()));
    std::this_thread::sleep_for(wait);
    backoff_ms = std::min(backoff_ms * 2, options.max_backoff_ms);
    return absl::OkStatus();
  }

  void Recovered() {
    if (!outage_since.has_value()) return;
    outage_since.reset();
    backoff_ms = kInitialBackoffMs;
    Report(absl::OkStatus());
  }

  absl::Status Fatal() {
    char reason[512];
    rd_kafka_resp_err_t cause =
        rd_kafka_fatal_error(handle.get(), reason, sizeof(reason));
    return absl::UnavailableError(absl::StrCat(
        "Kafka consumer of ", Location(next), ": fatal error ",
        rd_kafka_err2name(cause), ": ", reason, "; recreate the consumer"));
  }

  // Fills *record from a message (payment or reject).
  void Decode(const rd_kafka_message_t& message,
              engine::SourceRecord* record) const {
    record->label.reset();
    record->legs = engine::Legs::kBoth;
    record->location = Location(message.offset);
    const char* data = static_cast<const char*>(message.payload);
    internal::DecodePaymentMessage(data == nullptr
                                       ? std::string_view()
                                       : std::string_view(data, message.len),
                                   options.encoding, record);
  }
};

absl::StatusOr<std::unique_ptr<KafkaPartitionSource>>
KafkaPartitionSource::Create(const KafkaPartitionSourceOptions& options) {
  TXFLAG_RETURN_IF_ERROR(options.Validate());
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->bootstrap_servers = std::string(
      internal::FindProperty(options.properties, "bootstrap.servers"));
  TXFLAG_ASSIGN_OR_RETURN(internal::ConfPtr conf,
                          internal::NewConf({
                              {"client.id", "txflag-consumer"},
                              {"group.id", "txflag"},
                              {"enable.auto.commit", "false"},
                              {"enable.auto.offset.store", "false"},
                              {"enable.partition.eof", "true"},
                              {"auto.offset.reset", "error"},
                              {"log_level", "2"},
                          }));
  for (const auto& [key, value] : options.properties) {
    TXFLAG_RETURN_IF_ERROR(internal::SetConf(conf.get(), key, value));
  }
  rd_kafka_conf_set_error_cb(conf.get(), &Impl::OnError);
  rd_kafka_conf_set_opaque(conf.get(), impl.get());
  TXFLAG_ASSIGN_OR_RETURN(
      impl->handle, internal::NewHandle(RD_KAFKA_CONSUMER, std::move(conf)));
  // Serve the error callback from rd_kafka_consumer_poll().
  TXFLAG_RETURN_IF_ERROR(internal::KafkaStatus(
      rd_kafka_poll_set_consumer(impl->handle.get()), "poll_set_consumer"));
  TXFLAG_RETURN_IF_ERROR(internal::KafkaStatus(
      rd_kafka_query_watermark_offsets(
          impl->handle.get(), options.topic.c_str(), options.partition,
          &impl->low, &impl->end, kWatermarkTimeoutMs),
      absl::StrCat("watermarks of ", options.topic, "/", options.partition,
                   " (brokers ", impl->bootstrap_servers, ")")));
  impl->next = impl->start = impl->low;
  return std::unique_ptr<KafkaPartitionSource>(
      new KafkaPartitionSource(std::move(impl)));
}

KafkaPartitionSource::KafkaPartitionSource(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {}

KafkaPartitionSource::~KafkaPartitionSource() = default;

absl::StatusOr<bool> KafkaPartitionSource::Next(engine::SourceRecord* record) {
  Impl& impl = *impl_;
  impl.idle = false;
  impl.at_end = false;
  if (impl.options.stop_at_end && impl.next >= impl.end) {
    impl.at_end = true;
    return false;
  }
  if (!impl.assigned) TXFLAG_RETURN_IF_ERROR(impl.Assign());
  const auto deadline =
      Clock::now() + std::chrono::milliseconds(impl.options.poll_timeout_ms);
  while (true) {
    const auto now = Clock::now();
    if (now >= deadline) break;
    const int wait_ms = static_cast<int>(
        std::chrono::ceil<std::chrono::milliseconds>(deadline - now).count());
    impl.client_error = absl::OkStatus();
    internal::MessagePtr message(
        rd_kafka_consumer_poll(impl.handle.get(), wait_ms));
    if (impl.fatal) return impl.Fatal();
    if (!impl.client_error.ok()) {
      if (impl.client_error.code() != absl::StatusCode::kUnavailable) {
        return impl.client_error;
      }
      TXFLAG_RETURN_IF_ERROR(impl.Transient(impl.client_error, deadline));
    }
    if (message == nullptr) continue;
    if (message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      impl.Recovered();
      if (impl.options.stop_at_end && message->offset >= impl.end) {
        impl.at_end = true;
        return false;
      }
      continue;
    }
    if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      const std::string context =
          absl::StrCat("consuming ", impl.Location(impl.next));
      if (message->err == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET ||
          message->err == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE) {
        return absl::DataLossError(absl::StrCat(
            context, ": offset ", impl.next,
            " is no longer on the brokers (retention); the payments from "
            "there were lost to this consumer: ",
            rd_kafka_message_errstr(message.get())));
      }
      absl::Status status = internal::KafkaStatus(message->err, context);
      if (status.code() != absl::StatusCode::kUnavailable) return status;
      TXFLAG_RETURN_IF_ERROR(impl.Transient(status, deadline));
      continue;
    }
    impl.Recovered();
    if (message->offset < impl.next) continue;  // before a seek took effect
    impl.Decode(*message, record);
    impl.next = message->offset + 1;
    return true;
  }
  impl.idle = true;
  return false;
}

std::string KafkaPartitionSource::Checkpoint() const {
  return absl::StrCat(Av(kCheckpointTag), impl_->options.topic, "/",
                      impl_->options.partition, "@", impl_->next);
}

absl::Status KafkaPartitionSource::Restore(std::string_view checkpoint) {
  Impl& impl = *impl_;
  if (checkpoint.empty()) return absl::OkStatus();
  const auto unreadable = [&] {
    return absl::InvalidArgumentError(absl::StrCat(
        "unreadable Kafka source checkpoint '", Av(checkpoint), "' (expected ",
        Av(kCheckpointTag), "<topic>/<partition>@<offset>)"));
  };
  if (checkpoint.substr(0, kCheckpointTag.size()) != kCheckpointTag) {
    return unreadable();
  }
  std::string_view rest = checkpoint.substr(kCheckpointTag.size());
  const size_t at = rest.rfind('@');
  const size_t slash = rest.rfind('/', at);
  if (at == std::string_view::npos || slash == std::string_view::npos ||
      slash == 0) {
    return unreadable();
  }
  const std::string_view topic = rest.substr(0, slash);
  int64_t partition = 0, offset = 0;
  if (!ParseInt(rest.substr(slash + 1, at - slash - 1), &partition) ||
      !ParseInt(rest.substr(at + 1), &offset) || offset < 0) {
    return unreadable();
  }
  if (topic != impl.options.topic || partition != impl.options.partition) {
    return absl::FailedPreconditionError(
        absl::StrCat("Kafka source checkpoint '", Av(checkpoint), "' is for ",
                     Av(topic), "/", partition, ", not ", impl.options.topic,
                     "/", impl.options.partition));
  }
  impl.next = impl.start = offset;
  impl.idle = impl.at_end = false;
  if (impl.assigned) TXFLAG_RETURN_IF_ERROR(impl.Assign());
  return absl::OkStatus();
}

double KafkaPartitionSource::Progress() const {
  const Impl& impl = *impl_;
  if (!impl.options.stop_at_end) return -1.0;
  if (impl.end <= impl.start) return 1.0;
  return std::clamp(static_cast<double>(impl.next - impl.start) /
                        static_cast<double>(impl.end - impl.start),
                    0.0, 1.0);
}

bool KafkaPartitionSource::idle() const { return impl_->idle; }
bool KafkaPartitionSource::at_end() const { return impl_->at_end; }
int64_t KafkaPartitionSource::next_offset() const { return impl_->next; }
int64_t KafkaPartitionSource::end_offset() const { return impl_->end; }

}  // namespace txflag::connectors::kafka
