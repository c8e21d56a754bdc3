#include "connectors/kafka/internal/producer.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "base/strings.h"
#include "connectors/kafka/internal/rdkafka_handles.h"

namespace txflag::connectors::kafka::internal {

std::string_view FindProperty(const KafkaProperties& properties,
                              std::string_view key) {
  std::string_view value;
  for (const auto& [k, v] : properties) {
    if (k == key) value = v;  // the last one wins, as librdkafka applies them
  }
  return value;
}

absl::Status ValidateProducerConfig(const KafkaProperties& properties,
                                    std::string_view topic,
                                    std::string_view role) {
  if (topic.empty()) {
    return absl::InvalidArgumentError("Kafka producer: no topic given");
  }
  if (FindProperty(properties, "bootstrap.servers").empty() &&
      FindProperty(properties, "metadata.broker.list").empty()) {
    return absl::InvalidArgumentError(
        "Kafka producer: no brokers given (bootstrap.servers)");
  }
  const std::string_view idempotence =
      FindProperty(properties, "enable.idempotence");
  if (!idempotence.empty() && idempotence != "true") {
    return absl::InvalidArgumentError(absl::StrCat(
        "Kafka property enable.idempotence=", Av(idempotence), ": txflag's ",
        Av(role), " is always idempotent (remove it)"));
  }
  for (const char* key : {"acks", "request.required.acks"}) {
    const std::string_view acks = FindProperty(properties, key);
    if (!acks.empty() && acks != "all" && acks != "-1") {
      return absl::InvalidArgumentError(absl::StrCat(
          "Kafka property ", key, "=", Av(acks), ": txflag's ", Av(role),
          " always waits for all in-sync replicas "
          "(acks=all; remove it)"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<HandlePtr> NewIdempotentProducer(
    const KafkaProperties& properties, std::string_view client_id,
    void (*on_delivery)(rd_kafka_t*, const rd_kafka_message_t*, void*),
    void (*on_error)(rd_kafka_t*, int, const char*, void*), void* opaque) {
  TXFLAG_ASSIGN_OR_RETURN(ConfPtr conf,
                          NewConf({{"client.id", std::string(client_id)},
                                   {"linger.ms", "5"},
                                   {"log_level", "2"}}));
  for (const auto& [key, value] : properties) {
    TXFLAG_RETURN_IF_ERROR(SetConf(conf.get(), key, value));
  }
  TXFLAG_RETURN_IF_ERROR(SetConf(conf.get(), "enable.idempotence", "true"));
  TXFLAG_RETURN_IF_ERROR(SetConf(conf.get(), "acks", "all"));
  rd_kafka_conf_set_dr_msg_cb(conf.get(), on_delivery);
  rd_kafka_conf_set_error_cb(conf.get(), on_error);
  rd_kafka_conf_set_opaque(conf.get(), opaque);
  return NewHandle(RD_KAFKA_PRODUCER, std::move(conf));
}

absl::Status DeliveryError(rd_kafka_t* rk, const rd_kafka_message_t* message,
                           std::string_view context,
                           std::string_view bootstrap_servers,
                           std::string_view fatal_hint) {
  absl::Status status = KafkaStatus(message->err, context);
  if (message->err == RD_KAFKA_RESP_ERR__FATAL) {
    char reason[512];
    rd_kafka_resp_err_t cause =
        rd_kafka_fatal_error(rk, reason, sizeof(reason));
    return absl::AbortedError(absl::StrCat(
        Av(context), ": fatal producer error ", rd_kafka_err2name(cause), ": ",
        reason, "; ", Av(fatal_hint)));
  }
  if (status.code() == absl::StatusCode::kUnavailable) {
    return absl::UnavailableError(absl::StrCat(
        status.message(), "; check that the brokers (", Av(bootstrap_servers),
        ") are up and reachable: a message waits at most message.timeout.ms "
        "for them"));
  }
  return status;
}

struct Producer::Impl {
  std::string topic;
  std::string bootstrap_servers;
  std::atomic<int64_t> sent{0};
  std::atomic<int64_t> delivered{0};
  std::atomic<int64_t> failed{0};
  // Written by the delivery callback, which librdkafka runs on whichever
  // thread calls poll/flush (the producing thread, or one in
  // WaitDelivered): guarded by `mu`.
  mutable std::mutex mu;
  absl::Status first_error;  // the first delivery error
  // Every sequence <= done_upto is acknowledged (or failed);
  // done_above[i] says whether done_upto + 1 + i is (deliveries to
  // different partitions complete out of order). A deque of flags, not a
  // set: a million repartitioned legs a second must not allocate each.
  int64_t done_upto = 0;
  std::deque<bool> done_above;
  std::atomic<bool> failed_once{false};

  absl::Status FirstError() const {
    if (!failed_once.load(std::memory_order_acquire)) return absl::OkStatus();
    std::lock_guard<std::mutex> lock(mu);
    return first_error;
  }
  void Completed(int64_t sequence) {
    std::lock_guard<std::mutex> lock(mu);
    if (sequence <= done_upto) return;
    const auto index = static_cast<size_t>(sequence - done_upto - 1);
    if (index >= done_above.size()) done_above.resize(index + 1, false);
    done_above[index] = true;
    while (!done_above.empty() && done_above.front()) {
      done_above.pop_front();
      ++done_upto;
    }
  }
  std::function<void(const absl::Status&)> on_client_error;
  // Last, so it is destroyed first, while the callback's state still lives.
  HandlePtr handle;

  ~Impl() {
    if (handle == nullptr) return;
    // Fail whatever is left so its delivery reports run now, not during
    // rd_kafka_destroy().
    IgnoreError(KafkaStatus(
        rd_kafka_purge(handle.get(),
                       RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT),
        "purge"));  // only fails for a consumer handle
    rd_kafka_poll(handle.get(), 0);
  }

  static void OnDelivery(rd_kafka_t* rk, const rd_kafka_message_t* message,
                         void* opaque) {
    auto* self = static_cast<Impl*>(opaque);
    const auto sequence = reinterpret_cast<intptr_t>(message->_private);
    if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      self->delivered.fetch_add(1, std::memory_order_relaxed);
      self->Completed(sequence);
      return;
    }
    self->failed.fetch_add(1, std::memory_order_relaxed);
    self->Completed(sequence);
    if (self->failed_once.load(std::memory_order_acquire)) return;
    const std::string context = absl::StrCat(
        "delivering message ", sequence, " to topic '", self->topic, "'",
        message->partition >= 0
            ? absl::StrCat(" partition ", message->partition)
            : std::string());
    absl::Status status = DeliveryError(
        rk, message, context, self->bootstrap_servers, "recreate the producer");
    std::lock_guard<std::mutex> lock(self->mu);
    if (!self->first_error.ok()) return;  // another thread's failure was first
    self->first_error = std::move(status);
    self->failed_once.store(true, std::memory_order_release);
  }

  static void OnError(rd_kafka_t* rk, int err, const char* reason,
                      void* opaque) {
    auto* self = static_cast<Impl*>(opaque);
    if (!self->on_client_error) return;
    absl::Status status =
        KafkaStatus(static_cast<rd_kafka_resp_err_t>(err),
                    absl::StrCat("Kafka producer (brokers ",
                                 self->bootstrap_servers, "): ", reason));
    if (status.ok()) return;
    self->on_client_error(status);
  }
};

absl::StatusOr<std::unique_ptr<Producer>> Producer::Create(
    const ProducerConfig& config) {
  TXFLAG_RETURN_IF_ERROR(
      ValidateProducerConfig(config.properties, config.topic, config.role));
  auto impl = std::make_unique<Impl>();
  impl->topic = config.topic;
  impl->on_client_error = config.on_client_error;
  impl->bootstrap_servers =
      std::string(FindProperty(config.properties, "bootstrap.servers"));
  TXFLAG_ASSIGN_OR_RETURN(
      impl->handle,
      NewIdempotentProducer(config.properties, config.client_id,
                            &Impl::OnDelivery, &Impl::OnError, impl.get()));
  return std::unique_ptr<Producer>(new Producer(std::move(impl)));
}

Producer::Producer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Producer::~Producer() = default;

const std::string& Producer::topic() const { return impl_->topic; }

absl::Status Producer::first_error() const { return impl_->FirstError(); }

int64_t Producer::last_sequence() const {
  return impl_->sent.load(std::memory_order_relaxed);
}

Producer::Stats Producer::stats() const {
  Stats s;
  s.sent = impl_->sent.load(std::memory_order_relaxed);
  s.delivered = impl_->delivered.load(std::memory_order_relaxed);
  s.failed = impl_->failed.load(std::memory_order_relaxed);
  return s;
}

void Producer::Poll() { rd_kafka_poll(impl_->handle.get(), 0); }

namespace {

struct HeadersDeleter {
  void operator()(rd_kafka_headers_t* headers) const {
    rd_kafka_headers_destroy(headers);
  }
};
using HeadersPtr = std::unique_ptr<rd_kafka_headers_t, HeadersDeleter>;

}  // namespace

absl::Status Producer::Produce(std::string_view key, std::string_view value,
                               std::string_view kind, std::string_view id,
                               const MessageHeaders& headers, int32_t partition,
                               int64_t timestamp_ms) {
  Impl& impl = *impl_;
  if (absl::Status error = impl.FirstError(); !error.ok()) return error;
  const intptr_t sequence = impl.sent.load(std::memory_order_relaxed) + 1;
  // librdkafka takes the headers only when producev() succeeds.
  HeadersPtr rd_headers;
  if (!headers.empty()) {
    rd_headers.reset(rd_kafka_headers_new(headers.size()));
    for (const auto& [name, header_value] : headers) {
      TXFLAG_RETURN_IF_ERROR(KafkaStatus(
          rd_kafka_header_add(
              rd_headers.get(), name.data(), static_cast<ssize_t>(name.size()),
              header_value.data(), static_cast<ssize_t>(header_value.size())),
          absl::StrCat("adding header '", Av(name), "' to ", Av(kind), " '",
                       Av(id), "'")));
    }
  }
  while (true) {
    rd_kafka_resp_err_t err = rd_kafka_producev(
        impl.handle.get(), RD_KAFKA_V_TOPIC(impl.topic.c_str()),
        RD_KAFKA_V_KEY(const_cast<char*>(key.data()), key.size()),
        RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_PARTITION(partition < 0 ? RD_KAFKA_PARTITION_UA : partition),
        RD_KAFKA_V_TIMESTAMP(timestamp_ms),
        RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(sequence)),
        RD_KAFKA_V_HEADERS(rd_headers.get()), RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      (void)rd_headers.release();  // now librdkafka's
      break;
    }
    if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      return KafkaStatus(err, absl::StrCat("queueing ", Av(kind), " '", Av(id),
                                           "' for topic '", impl.topic, "'"));
    }
    // The local queue is full: wait for deliveries to make room. Every
    // queued message completes within message.timeout.ms, so this ends.
    rd_kafka_poll(impl.handle.get(), 50);
    if (absl::Status error = impl.FirstError(); !error.ok()) return error;
  }
  impl.sent.store(sequence, std::memory_order_relaxed);
  // Delivery reports are served every 64 messages (and by Flush,
  // WaitDelivered and Poll): a poll per message took the queue's lock and
  // read the clock for each of the repartition step's legs.
  if ((sequence & 63) == 0) rd_kafka_poll(impl.handle.get(), 0);
  return impl.FirstError();
}

absl::Status Producer::Flush(int64_t timeout_ms) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::milliseconds(
                                           std::max<int64_t>(timeout_ms, 0));
  while (true) {
    rd_kafka_resp_err_t err = rd_kafka_flush(impl_->handle.get(), 100);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) break;
    if (timeout_ms >= 0 && Clock::now() >= deadline) {
      if (absl::Status error = impl_->FirstError(); !error.ok()) return error;
      return absl::DeadlineExceededError(absl::StrCat(
          "Kafka producer: ", rd_kafka_outq_len(impl_->handle.get()),
          " messages to topic '", impl_->topic, "' still undelivered after ",
          timeout_ms, " ms"));
    }
  }
  return impl_->FirstError();
}

absl::Status Producer::WaitDelivered(int64_t sequence, int64_t timeout_ms) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::milliseconds(
                                           std::max<int64_t>(timeout_ms, 0));
  while (true) {
    if (absl::Status error = impl_->FirstError(); !error.ok()) return error;
    {
      std::lock_guard<std::mutex> lock(impl_->mu);
      if (impl_->done_upto >= sequence) return absl::OkStatus();
    }
    if (timeout_ms >= 0 && Clock::now() >= deadline) {
      return absl::DeadlineExceededError(absl::StrCat(
          "Kafka producer: messages up to ", sequence, " to topic '",
          impl_->topic, "' still undelivered after ", timeout_ms, " ms"));
    }
    rd_kafka_poll(impl_->handle.get(), 5);
  }
}

}  // namespace txflag::connectors::kafka::internal
