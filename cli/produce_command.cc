#include "cli/produce_command.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <thread>
#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "base/strings.h"
#include "cli/exit_code.h"
#include "connectors/file_source.h"
#include "connectors/kafka/payment_producer.h"
#include "connectors/kafka/properties.h"
#include "connectors/rejects_csv.h"
#include "engine/source.h"

namespace txflag::cli {
namespace {

using Clock = std::chrono::steady_clock;
namespace kafka = connectors::kafka;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

// The Kafka properties: --brokers, then the -X ones in order.
absl::StatusOr<kafka::KafkaProperties> Properties(
    const ProduceOptions& options) {
  kafka::KafkaProperties properties;
  if (!options.brokers.empty()) {
    properties.emplace_back("bootstrap.servers", options.brokers);
  }
  for (const std::string& kv : options.properties) {
    TXFLAG_ASSIGN_OR_RETURN(properties.emplace_back(),
                            kafka::ParseKafkaProperty(kv));
  }
  return properties;
}

// Waits for every message to be acknowledged or failed (message.timeout.ms
// bounds it); once *stop is set, gives it 5 s more at most.
absl::Status FlushAll(kafka::PaymentProducer& producer,
                      const std::atomic<bool>* stop) {
  while (true) {
    absl::Status s = producer.Flush(500);
    if (s.code() != absl::StatusCode::kDeadlineExceeded) return s;
    if (stop != nullptr && stop->load()) return producer.Flush(5000);
  }
}

}  // namespace

absl::StatusOr<ProduceResult> RunProduce(const ProduceOptions& options) {
  const auto start = Clock::now();
  if (options.topic.empty() || options.input.empty()) {
    return WithExit(
        absl::InvalidArgumentError("--topic and --input are required"),
        kExitUsage);
  }
  absl::StatusOr<connectors::FileFormat> format =
      connectors::ParseFileFormat(options.format);
  if (!format.ok()) return WithExit(format.status(), kExitUsage);
  absl::StatusOr<kafka::KafkaProperties> properties = Properties(options);
  if (!properties.ok()) return WithExit(properties.status(), kExitUsage);

  // The file first: a missing file or a bad header fails before connecting.
  absl::StatusOr<std::unique_ptr<connectors::FileSource>> source =
      connectors::FileSource::Open(options.input, *format);
  if (!source.ok()) {
    return WithExit(
        source.status(),
        source.status().code() == absl::StatusCode::kNotFound ? kExitUsage
        : source.status().code() == absl::StatusCode::kInvalidArgument
            ? kExitBadInput
            : kExitFailure);
  }
  kafka::PaymentProducerOptions producer_options;
  producer_options.properties = std::move(*properties);
  producer_options.topic = options.topic;
  producer_options.encoding = options.json ? kafka::PaymentEncoding::kJson
                                           : kafka::PaymentEncoding::kProtobuf;
  // librdkafka retries on its own; say what is wrong, at most every 5 s.
  Clock::time_point last_client_error{};
  producer_options.on_client_error = [&](const absl::Status& status) {
    if (last_client_error != Clock::time_point{} &&
        Clock::now() - last_client_error < std::chrono::seconds(5)) {
      return;
    }
    last_client_error = Clock::now();
    std::fprintf(stderr, "txflag produce: warning: %s (retrying)\n",
                 std::string(status.message()).c_str());
  };
  absl::StatusOr<std::unique_ptr<kafka::PaymentProducer>> producer =
      kafka::PaymentProducer::Create(producer_options);
  if (!producer.ok()) {
    return WithExit(
        producer.status(),
        producer.status().code() == absl::StatusCode::kInvalidArgument
            ? kExitUsage
            : kExitFailure);
  }
  kafka::PaymentProducer& out = **producer;

  // The rejects file last: a bad argument leaves no file behind.
  std::unique_ptr<connectors::CsvRejectSink> rejects;
  if (!options.strict) {
    absl::StatusOr<std::unique_ptr<connectors::CsvRejectSink>> sink =
        connectors::CsvRejectSink::Open(options.rejects);
    if (!sink.ok()) return WithExit(sink.status(), kExitFailure);
    rejects = std::move(*sink);
    absl::Status fresh = rejects->Restore("");  // a new run, a new file
    if (!fresh.ok()) return WithExit(fresh, kExitFailure);
  }

  ProduceResult result;
  engine::SourceRecord record;
  auto last_progress = start;
  const auto deliver_and_fail = [&](absl::Status status,
                                    int code) -> absl::Status {
    // What was sent before the failure is still delivered if it can be.
    IgnoreError(FlushAll(out, options.stop));  // the failure matters more
    return WithExit(std::move(status), code);
  };
  while (true) {
    absl::StatusOr<bool> got = (*source)->Next(&record);
    if (!got.ok()) return deliver_and_fail(got.status(), kExitFailure);
    if (!*got) break;
    ++result.records;
    if (record.kind == engine::SourceRecord::Kind::kReject) {
      if (options.strict) {
        return deliver_and_fail(
            absl::InvalidArgumentError(absl::StrCat(
                record.location, ": ", record.reason,
                " (--strict: stopped; payments before it were sent)")),
            kExitBadInput);
      }
      absl::Status written =
          rejects->Write(record.location, record.reason, record.raw);
      if (!written.ok()) return deliver_and_fail(written, kExitFailure);
      ++result.rejected;
      continue;
    }
    if (options.rate > 0) {
      // Pace: payment n leaves no earlier than start + n / rate.
      const auto due =
          start +
          std::chrono::duration_cast<Clock::duration>(
              std::chrono::duration<double>(
                  static_cast<double>(out.stats().sent) / options.rate));
      if (due > Clock::now()) {
        out.Poll();
        std::this_thread::sleep_until(due);
      }
    }
    absl::Status sent = out.Send(record.payment);
    if (!sent.ok()) {
      return WithExit(
          absl::Status(sent.code(),
                       absl::StrCat(record.location, ": ", sent.message())),
          kExitFailure);
    }
    if ((result.records & 1023) == 0) {
      if (options.stop != nullptr && options.stop->load()) {
        absl::Status flushed = FlushAll(out, options.stop);
        if (!flushed.ok()) return WithExit(flushed, kExitFailure);
        return WithExit(
            absl::CancelledError(absl::StrCat(
                "interrupted after ", WithThousands(out.stats().delivered),
                " payments (all delivered) of ", options.input,
                "; running again sends the whole file again")),
            kExitInterrupted);
      }
      const auto now = Clock::now();
      if (options.progress && now - start > std::chrono::seconds(2) &&
          now - last_progress > std::chrono::seconds(1)) {
        last_progress = now;
        const double elapsed = Seconds(start);
        const double fraction = (*source)->Progress();
        std::string line = absl::StrFormat(
            "progress: %s payments sent, %s delivered, %s payments/s",
            WithThousands(out.stats().sent),
            WithThousands(out.stats().delivered),
            WithThousands(static_cast<int64_t>(out.stats().sent / elapsed)));
        if (fraction > 0) {
          absl::StrAppendFormat(&line, ", %.1f%%, ETA %.0f s", 100.0 * fraction,
                                elapsed * (1 - fraction) / fraction);
        }
        std::fprintf(stderr, "%s\n", line.c_str());
      }
    }
  }
  absl::Status flushed = FlushAll(out, options.stop);
  if (!flushed.ok()) return WithExit(flushed, kExitFailure);
  if (rejects != nullptr) {
    absl::StatusOr<std::string> done = rejects->Flush();
    if (!done.ok()) return WithExit(done.status(), kExitFailure);
  }
  result.delivered = out.stats().delivered;
  result.elapsed_seconds = Seconds(start);
  if (options.print_summary) {
    const std::string rejects_where =
        rejects != nullptr ? absl::StrCat(" (", options.rejects, ")") : "";
    std::printf(
        "txflag produce: %s payments from %s (%s) to topic %s (%s), "
        "all acknowledged; %s rejected%s; %.2f s, %s payments/s\n",
        WithThousands(result.delivered).c_str(), options.input.c_str(),
        std::string(connectors::FileFormatName((*source)->format())).c_str(),
        options.topic.c_str(), options.json ? "protobuf JSON" : "protobuf",
        WithThousands(result.rejected).c_str(), rejects_where.c_str(),
        result.elapsed_seconds,
        WithThousands(
            static_cast<int64_t>(result.delivered /
                                 std::max(result.elapsed_seconds, 1e-3)))
            .c_str());
  }
  return result;
}

}  // namespace txflag::cli
