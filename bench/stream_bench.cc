// Streaming benchmark: `txflag run`'s engine (connectors/kafka/stream_runner.h)
// against librdkafka's mock cluster in this process, measured next to its
// ceiling in the same run, so that the ratios mean something on a noisy,
// shared machine.
//
//   build/bench/stream_bench [--phase throughput|latency|both]
//       [--mode both|in-process|repartition] [--partitions 16]
//       [--latency-partitions 8]   (phase 2's topics; 0: --partitions)
//       [--payments N] [--input payments.csv] [--accounts 10000] [--days 90]
//       [--rate 50000] [--seconds 20] [--max-ahead 20000] [--rounds 3]
//       [--keep-dir]
//       [--lateness 0] [--trace]   (the engine's counters every 500 ms)
//       [--commit-ms 1000] [-X librdkafka.key=value ...]  (engine settings)
//
// Phase 1, throughput. A generated data set (or --input) is loaded once and
// fed, from memory, to fresh topics by a feeder thread that stays at most
// --max-ahead payments per partition ahead of the consumer it feeds (the mock
// keeps only ~5 MiB per partition), refilling in bursts once the consumer
// has taken half of that lead. Measured: the feeder alone (no consumer),
// a bare librdkafka consumer that only parses each value as a
// txflag.v1.Payment (the ceiling), and the engine with the default rule pack
// in each mode, timed from its first consumed message to its last processed
// record (group join and idle exit excluded). Target: engine >= 70% of the
// bare consumer's rate. The bare consumer and the engine run in turn,
// --rounds times: a ratio is taken within a round (the machine's speed
// drifts by tens of percent within a minute) and the verdict is the median
// round's.
//
// Phase 2, latency. Synthetic live payments (event time = wall clock) offered
// at exactly --rate for --seconds; 1% of them are small MOBILE transfers to
// "victim" accounts whose history (4 nights of such transfers, produced
// first) makes the default pack's small_transfers_in rule fire, so each new
// one extends an alert. Latency of a revision = the alert message's Kafka
// timestamp - the Kafka timestamp of the payment that raised it (its newest
// evidence). allowed_lateness_seconds = 0: with lateness L the engine holds a
// payment until one L seconds newer arrives, and L would be in the latency.
// Target: p99 < 50 ms. The floor, measured first on the same kind of feed: a
// bare consumer's receive time - each payment's Kafka timestamp (producer
// linger, mock broker, fetch), which no engine can beat. Phase 2 runs on
// --latency-partitions (8) partitions, not 16: the mock's fetch walks each
// partition's message sets from the oldest, and at 16 partitions its thread
// saturates within seconds and the floor's own p99 ranges 23-92 ms (see
// docs/streaming.md); --latency-partitions 16 measures that case.
//
// Prints tables and a final line of JSON with every figure. Exit code 1 when
// a target is missed, 2 on an error.
#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "base/log.h"
#include "base/strings.h"
#include "connectors/file_source.h"
#include "connectors/generator/generator.h"
#include "connectors/kafka/mock_cluster.h"
#include "connectors/kafka/payment_producer.h"
#include "connectors/kafka/stream_runner.h"
#include "connectors/rocksdb_store.h"
#include "engine/metrics_registry.h"
#include "proto/alert.pb.h"
#include "proto/payment.pb.h"
#include "rules/rule_pack.h"

namespace {

namespace fs = std::filesystem;
namespace kafka = txflag::connectors::kafka;
using Clock = std::chrono::steady_clock;
using txflag::v1::Payment;

constexpr double kTargetRatio = 0.70;
constexpr int64_t kTargetP99Ms = 50;
// Revisions raised by payments produced in the first seconds of the live
// feed are left out (warm-up).
constexpr int64_t kWarmupMs = 3000;
constexpr int kLiveBatch = 50;

// ------------------------------------------------------------------ helpers

std::string Fmt(const char* format, ...) {
  char buf[1024];
  va_list args;
  va_start(args, format);
  std::vsnprintf(buf, sizeof(buf), format, args);
  va_end(args);
  return buf;
}

double Seconds(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

// --trace: the engine's counters every 500 ms on stderr.
bool g_trace = false;
// -X key=value (librdkafka properties for the engine's clients, applied
// after the benchmark's) and --commit-ms (the engine's commit interval).
std::vector<std::pair<std::string, std::string>> g_engine_properties;
int64_t g_commit_ms = 1000;

using ThreadTimes = std::map<int, std::pair<std::string, double>>;
void SampleThreads(ThreadTimes* times);
std::string CpuShares(const ThreadTimes& before, const ThreadTimes& after,
                      double seconds);

void Trace(const char* what, Clock::time_point start,
           Clock::time_point* last_trace, int64_t sent, uint64_t consumed,
           uint64_t processed,
           const txflag::engine::MetricsRegistry* registry = nullptr) {
  if (!g_trace) return;
  const auto now = Clock::now();
  if (now - *last_trace < std::chrono::milliseconds(500)) return;
  *last_trace = now;
  // The engine's txflag_consumer_lag gauges (set at each commit): the most
  // lagging input partition.
  std::string worst;
  if (registry != nullptr) {
    const std::string text = registry->RenderPrometheusText();
    const std::string key = "\ntxflag_consumer_lag{partition=\"";
    double max_lag = -1;
    for (size_t at = text.find(key); at != std::string::npos;
         at = text.find(key, at + 1)) {
      const size_t eol = text.find('\n', at + 1);
      const std::string line = text.substr(at + 1, eol - at - 1);
      if (line.find("repartition") != std::string::npos) continue;
      const double lag = std::atof(line.c_str() + line.rfind(' ') + 1);
      if (lag > max_lag) {
        max_lag = lag;
        worst = line.substr(line.find('{'));
      }
    }
    if (max_lag >= 0)
      worst = Fmt(" worst input lag %.0f %s", max_lag,
                  worst.substr(0, worst.find(',')).c_str());
    // Records waiting for the watermark (the gauge, set at each commit).
    const std::string buffered_key = "\ntxflag_reorder_buffered ";
    if (const size_t at = text.find(buffered_key); at != std::string::npos) {
      absl::StrAppend(&worst,
                      Fmt(" buffered %.0f",
                          std::atof(text.c_str() + at + buffered_key.size())));
    }
  }
  // Cores by thread name since the previous trace line.
  static ThreadTimes last_threads;
  static Clock::time_point last_threads_at;
  ThreadTimes threads;
  SampleThreads(&threads);
  const std::string shares =
      last_threads.empty()
          ? ""
          : CpuShares(last_threads, threads, Seconds(now - last_threads_at));
  last_threads = std::move(threads);
  last_threads_at = now;
  std::fprintf(stderr,
               "  [%s %6.2f s] sent %lld consumed %llu processed %llu%s%s%s\n",
               what, Seconds(now - start), static_cast<long long>(sent),
               static_cast<unsigned long long>(consumed),
               static_cast<unsigned long long>(processed), worst.c_str(),
               shares.empty() ? "" : "; cores: ", shares.c_str());
}

double CpuSeconds(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

// Seconds the calling thread has spent runnable but waiting for a core
// (the run queue), from /proc/thread-self/schedstat; 0 if unreadable.
double RunQueueSeconds() {
  FILE* f = std::fopen("/proc/thread-self/schedstat", "r");
  if (f == nullptr) return 0;
  unsigned long long run_ns = 0, wait_ns = 0;
  const int n = std::fscanf(f, "%llu %llu", &run_ns, &wait_ns);
  std::fclose(f);
  return n == 2 ? wait_ns / 1e9 : 0;
}

// CPU seconds used so far by each live thread of this process (by tid, with
// its name), from /proc/self/task/*/stat. Entries of `times` for threads
// that have exited since keep their last value.
using ThreadTimes = std::map<int, std::pair<std::string, double>>;
void SampleThreads(ThreadTimes* times) {
  const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc/self/task", ec)) {
    const int tid = std::atoi(entry.path().filename().c_str());
    std::FILE* f = std::fopen((entry.path() / "stat").c_str(), "r");
    if (f == nullptr) continue;
    char buf[1024];
    const size_t n = std::fread(buf, 1, sizeof(buf) - 1, f);
    std::fclose(f);
    buf[n] = '\0';
    const char* open = std::strchr(buf, '(');
    const char* close = std::strrchr(buf, ')');
    if (open == nullptr || close == nullptr) continue;
    // Fields after the name: state(3) ... utime(14) stime(15).
    unsigned long long utime = 0, stime = 0;
    if (std::sscanf(close + 2,
                    "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
                    &utime, &stime) == 2) {
      (*times)[tid] = {std::string(open + 1, close), (utime + stime) / tick};
    }
  }
}

// "name cores, ..." for the CPU used between two samples over `seconds`,
// summed by thread name with digits dropped (rdk:broker1..3 ->
// rdk:broker), largest first. A thread absent from `before` started since.
std::string CpuShares(const ThreadTimes& before, const ThreadTimes& after,
                      double seconds) {
  std::map<std::string, double> used;
  for (const auto& [tid, entry] : after) {
    std::string name;
    for (char c : entry.first) {
      if (c < '0' || c > '9') name.push_back(c);
    }
    auto it = before.find(tid);
    used[name] += entry.second - (it == before.end() ? 0 : it->second.second);
  }
  std::vector<std::pair<double, std::string>> shares;
  for (const auto& [name, cpu] : used) {
    if (cpu > 0) shares.emplace_back(cpu / std::max(seconds, 1e-9), name);
  }
  std::sort(shares.rbegin(), shares.rend());
  std::string out;
  for (const auto& [cores, name] : shares) {
    absl::StrAppend(&out, out.empty() ? "" : ", ", name, Fmt(" %.2f", cores));
  }
  return out;
}

int64_t WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct Flags {
  std::string phase = "both";
  std::string mode = "both";
  int partitions = 16;
  // Phase 2's topics. Fewer than phase 1's: the librdkafka 2.0 mock finds a
  // fetch offset by walking the partition's list of message sets from the
  // oldest ("FIXME: Maintain an index" in rdkafka_mock.c), so at 50,000
  // payments/s over 16 partitions (small producer batches, ~2,500 sets per
  // partition once its 5 MiB fill up) the mock's thread grows to most of a
  // core within seconds and the floor itself misses 50 ms. 0: --partitions.
  int latency_partitions = 8;
  int64_t payments = 0;  // 0: all of the data set
  std::string input;
  int64_t accounts = 10000;
  // 90 days: 1.9 million payments, some 5 s of engine time, so that the
  // ratio is a sustained rate rather than the first seconds' warm-up (the
  // allocator faulting in fresh pages, the first commits' batches growing).
  int days = 90;
  int64_t rate = 50000;
  int seconds = 20;
  int64_t max_ahead = 20000;  // per partition
  int rounds = 3;             // phase 1: bare + engine pairs
  int64_t lateness = 0;       // phase 2: allowed_lateness_seconds
  bool keep_dir = false;
};

int LatencyPartitions(const Flags& f) {
  return f.latency_partitions > 0 ? f.latency_partitions : f.partitions;
}

bool ParseFlags(int argc, char** argv, Flags* f) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", argv[i]);
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--phase") {
      f->phase = value();
    } else if (a == "--mode") {
      f->mode = value();
    } else if (a == "--partitions") {
      f->partitions = std::atoi(value());
    } else if (a == "--latency-partitions") {
      f->latency_partitions = std::atoi(value());
    } else if (a == "--payments") {
      f->payments = std::atoll(value());
    } else if (a == "--input") {
      f->input = value();
    } else if (a == "--accounts") {
      f->accounts = std::atoll(value());
    } else if (a == "--days") {
      f->days = std::atoi(value());
    } else if (a == "--rate") {
      f->rate = std::atoll(value());
    } else if (a == "--seconds") {
      f->seconds = std::atoi(value());
    } else if (a == "--max-ahead") {
      f->max_ahead = std::atoll(value());
    } else if (a == "--rounds") {
      f->rounds = std::max(1, std::atoi(value()));
    } else if (a == "--lateness") {
      f->lateness = std::atoll(value());
    } else if (a == "--keep-dir") {
      f->keep_dir = true;
    } else if (a == "--trace") {
      g_trace = true;
    } else if (a == "-X") {
      const std::string_view kv = value();
      const size_t eq = kv.find('=');
      if (eq == std::string_view::npos || eq == 0) {
        std::fprintf(stderr, "-X needs key=value\n");
        return false;
      }
      g_engine_properties.emplace_back(std::string(kv.substr(0, eq)),
                                       std::string(kv.substr(eq + 1)));
    } else if (a == "--commit-ms") {
      g_commit_ms = std::atoll(value());
    } else {
      std::fprintf(stderr,
                   "unknown flag %s (see the comment at the top of "
                   "bench/stream_bench.cc)\n",
                   argv[i]);
      return false;
    }
  }
  if (f->phase != "both" && f->phase != "throughput" && f->phase != "latency") {
    std::fprintf(stderr, "--phase: throughput, latency or both\n");
    return false;
  }
  if (f->mode != "both" && f->mode != "in-process" &&
      f->mode != "repartition") {
    std::fprintf(stderr, "--mode: in-process, repartition or both\n");
    return false;
  }
  if (f->partitions < 1 || f->latency_partitions < 0 || f->rate < kLiveBatch ||
      f->seconds <= 3 || f->max_ahead < 1000) {
    std::fprintf(stderr,
                 "--partitions >= 1, --latency-partitions >= 0, --rate >= %d, "
                 "--seconds > 3, --max-ahead >= 1000\n",
                 kLiveBatch);
    return false;
  }
  return true;
}

std::vector<kafka::StreamMode> Modes(const Flags& f) {
  std::vector<kafka::StreamMode> modes;
  if (f.mode != "repartition") modes.push_back(kafka::StreamMode::kInProcess);
  if (f.mode != "in-process") modes.push_back(kafka::StreamMode::kRepartition);
  return modes;
}

const char* ModeName(kafka::StreamMode m) {
  return m == kafka::StreamMode::kInProcess ? "in-process" : "repartition";
}
const char* ModeTag(kafka::StreamMode m) {
  return m == kafka::StreamMode::kInProcess ? "inproc" : "repart";
}

// ------------------------------------------------------- librdkafka clients

struct RkDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
using RkPtr = std::unique_ptr<rd_kafka_t, RkDeleter>;
struct MessageDeleter {
  void operator()(rd_kafka_message_t* m) const { rd_kafka_message_destroy(m); }
};
using MessagePtr = std::unique_ptr<rd_kafka_message_t, MessageDeleter>;
using Properties = std::vector<std::pair<std::string, std::string>>;

absl::StatusOr<RkPtr> NewClient(
    rd_kafka_type_t type, const Properties& properties,
    const std::function<void(rd_kafka_conf_t*)>& extra = {}) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[512];
  for (const auto& [k, v] : properties) {
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof(err)) !=
        RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      return absl::InvalidArgumentError(absl::StrCat(k, ": ", err));
    }
  }
  if (extra) extra(conf);
  rd_kafka_t* rk = rd_kafka_new(type, conf, err, sizeof(err));
  if (rk == nullptr) {
    rd_kafka_conf_destroy(conf);
    return absl::InternalError(absl::StrCat("rd_kafka_new: ", err));
  }
  return RkPtr(rk);
}

// A consumer assigned partitions 0..partitions-1 of `topic` from the
// beginning (no group join). auto.offset.reset=error: an offset the mock no
// longer has shows up as an error message instead of a silent jump.
absl::StatusOr<RkPtr> NewAssignedConsumer(const std::string& servers,
                                          const std::string& topic,
                                          int partitions,
                                          const std::string& client) {
  absl::StatusOr<RkPtr> rk =
      NewClient(RD_KAFKA_CONSUMER, {{"bootstrap.servers", servers},
                                    {"client.id", client},
                                    {"group.id", client},
                                    {"enable.auto.commit", "false"},
                                    {"enable.partition.eof", "false"},
                                    // As the engine's consumer.
                                    {"fetch.wait.max.ms", "10"},
                                    {"queued.min.messages", "1000000"},
                                    {"auto.offset.reset", "error"},
                                    {"log_level", "2"}});
  if (!rk.ok()) return rk.status();
  rd_kafka_poll_set_consumer(rk->get());
  rd_kafka_topic_partition_list_t* list =
      rd_kafka_topic_partition_list_new(partitions);
  for (int p = 0; p < partitions; ++p) {
    rd_kafka_topic_partition_list_add(list, topic.c_str(), p)->offset =
        RD_KAFKA_OFFSET_BEGINNING;
  }
  rd_kafka_resp_err_t err = rd_kafka_assign(rk->get(), list);
  rd_kafka_topic_partition_list_destroy(list);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::InternalError(
        absl::StrCat("assign ", topic, ": ", rd_kafka_err2str(err)));
  }
  return rk;
}

// The feeder's producer: what PaymentProducer configures (idempotent,
// acks=all, linger.ms=5, the default partitioner on the debtor key), but
// sending pre-encoded values with an explicit CreateTime, so the benchmark
// knows each payment's Kafka timestamp exactly.
class Feeder {
 public:
  static absl::StatusOr<std::unique_ptr<Feeder>> Create(
      const std::string& servers, const std::string& topic) {
    std::unique_ptr<Feeder> f(new Feeder());
    Feeder* self = f.get();
    absl::StatusOr<RkPtr> rk =
        NewClient(RD_KAFKA_PRODUCER,
                  {{"bootstrap.servers", servers},
                   {"client.id", "stream-bench-feeder"},
                   {"linger.ms", "5"},
                   {"enable.idempotence", "true"},
                   {"acks", "all"},
                   {"queue.buffering.max.messages", "2000000"},
                   {"log_level", "2"}},
                  [self](rd_kafka_conf_t* conf) {
                    rd_kafka_conf_set_dr_msg_cb(conf, &Feeder::OnDelivery);
                    rd_kafka_conf_set_opaque(conf, self);
                  });
    if (!rk.ok()) return rk.status();
    f->rk_ = std::move(*rk);
    f->rkt_ = rd_kafka_topic_new(f->rk_.get(), topic.c_str(), nullptr);
    return f;
  }

  ~Feeder() {
    if (rkt_ != nullptr) rd_kafka_topic_destroy(rkt_);
    rk_.reset();
  }

  absl::Status Send(std::string_view key, std::string_view value,
                    int64_t timestamp_ms) {
    while (true) {
      rd_kafka_resp_err_t err = rd_kafka_producev(
          rk_.get(), RD_KAFKA_V_RKT(rkt_),
          RD_KAFKA_V_KEY(const_cast<char*>(key.data()), key.size()),
          RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
          RD_KAFKA_V_TIMESTAMP(timestamp_ms), RD_KAFKA_V_END);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) break;
      if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        return absl::InternalError(
            absl::StrCat("feeder produce: ", rd_kafka_err2str(err)));
      }
      rd_kafka_poll(rk_.get(), 5);
    }
    ++sent_;
    if ((sent_ & 255) == 0) rd_kafka_poll(rk_.get(), 0);
    return failed_.load() == 0 ? absl::OkStatus()
                               : absl::InternalError("feeder: delivery failed");
  }

  void Poll() { rd_kafka_poll(rk_.get(), 0); }

  absl::Status Flush() {
    while (rd_kafka_flush(rk_.get(), 1000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    }
    if (failed_.load() != 0) {
      return absl::InternalError(absl::StrCat(
          "feeder: ", failed_.load(), " messages failed: ", first_error_));
    }
    return absl::OkStatus();
  }

  int64_t sent() const { return sent_; }

 private:
  Feeder() = default;
  static void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* m,
                         void* opaque) {
    auto* self = static_cast<Feeder*>(opaque);
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (self->failed_.fetch_add(1) == 0) {
        self->first_error_ = rd_kafka_err2str(m->err);
      }
    }
  }

  RkPtr rk_;
  rd_kafka_topic_t* rkt_ = nullptr;
  int64_t sent_ = 0;
  std::atomic<int64_t> failed_{0};
  std::string first_error_;
};

// -------------------------------------------------------------- data set

// Payments as Kafka messages: keys and protobuf values end to end in one
// buffer (a vector of Payment protos would take several times the memory).
struct DataSet {
  struct Message {
    uint64_t offset;
    uint32_t key_size;
    uint32_t value_size;
  };
  std::string bytes;
  std::vector<Message> messages;

  std::string_view key(size_t i) const {
    return std::string_view(bytes).substr(messages[i].offset,
                                          messages[i].key_size);
  }
  std::string_view value(size_t i) const {
    return std::string_view(bytes).substr(
        messages[i].offset + messages[i].key_size, messages[i].value_size);
  }
};

absl::StatusOr<DataSet> LoadDataSet(const Flags& flags, const fs::path& dir,
                                    std::string* described) {
  std::string input = flags.input;
  if (input.empty()) {
    txflag::generator::GeneratorOptions g;
    g.seed = 42;
    g.accounts = flags.accounts;
    g.days = flags.days;
    const auto t0 = Clock::now();
    absl::StatusOr<txflag::generator::GeneratorStats> stats =
        txflag::generator::GeneratePopulation(g, (dir / "data").string());
    if (!stats.ok()) return stats.status();
    std::printf("generated %s payments (%lld customers x %d days) in %.1f s\n",
                txflag::WithThousands(stats->payments).c_str(),
                static_cast<long long>(flags.accounts), flags.days,
                Seconds(Clock::now() - t0));
    input = (dir / "data" / "payments.csv").string();
    *described = Fmt("generated, %lld customers x %d days, seed 42",
                     static_cast<long long>(flags.accounts), flags.days);
  } else {
    *described = input;
  }
  absl::StatusOr<std::unique_ptr<txflag::connectors::FileSource>> source =
      txflag::connectors::FileSource::Open(
          input, txflag::connectors::FileFormat::kAuto);
  if (!source.ok()) return source.status();
  DataSet data;
  txflag::engine::SourceRecord record;
  std::string value;
  int64_t rejects = 0;
  while (flags.payments <= 0 ||
         static_cast<int64_t>(data.messages.size()) < flags.payments) {
    absl::StatusOr<bool> got = (*source)->Next(&record);
    if (!got.ok()) return got.status();
    if (!*got) break;
    if (record.kind != txflag::engine::SourceRecord::Kind::kPayment) {
      ++rejects;
      continue;
    }
    value.clear();
    record.payment.SerializeToString(&value);
    const std::string_view key = kafka::PaymentKey(record.payment);
    data.messages.push_back({data.bytes.size(),
                             static_cast<uint32_t>(key.size()),
                             static_cast<uint32_t>(value.size())});
    data.bytes.append(key);
    data.bytes.append(value);
  }
  std::printf("loaded %s payments (%.0f MiB as messages) from %s%s\n",
              txflag::WithThousands(data.messages.size()).c_str(),
              data.bytes.size() / 1048576.0, input.c_str(),
              rejects > 0 ? Fmt(" (%lld rejected records skipped)",
                                static_cast<long long>(rejects))
                                .c_str()
                          : "");
  return data;
}

// Feeds `data` to `topic`, never more than `max_ahead` payments ahead of
// consumed() (when given).
struct FeedStats {
  absl::Status status;
  int64_t sent = 0;
  double seconds = 0;       // first send to last delivery
  double wait_seconds = 0;  // waiting for the consumer
};

FeedStats FeedDataSet(const std::string& servers, const std::string& topic,
                      const DataSet& data,
                      const std::function<int64_t()>& consumed,
                      int64_t max_ahead, std::atomic<int64_t>* sent_out) {
  FeedStats out;
  absl::StatusOr<std::unique_ptr<Feeder>> feeder =
      Feeder::Create(servers, topic);
  if (!feeder.ok()) {
    out.status = feeder.status();
    return out;
  }
  const auto start = Clock::now();
  Clock::duration waited{};
  for (size_t i = 0; i < data.messages.size(); ++i) {
    if (consumed && static_cast<int64_t>(i) - consumed() >= max_ahead) {
      // Refill in bursts: wait until the consumer has taken half of the
      // lead. Sending again as soon as it consumed anything made a trickle
      // of a few hundred messages a millisecond, each waking the
      // producer's partition queues, its broker threads and the mock: in
      // the engine's runs (the feeder waits longer behind a slower
      // consumer) the harness then used ~3 s more CPU than in the bare
      // consumer's for the same messages, taken from the engine's cores.
      const auto w0 = Clock::now();
      while (static_cast<int64_t>(i) - consumed() > max_ahead / 2) {
        (*feeder)->Poll();
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      waited += Clock::now() - w0;
    }
    out.status = (*feeder)->Send(data.key(i), data.value(i), 0);
    if (!out.status.ok()) return out;
    if (sent_out != nullptr && (i & 63) == 0) {
      sent_out->store(static_cast<int64_t>(i) + 1, std::memory_order_relaxed);
    }
  }
  out.status = (*feeder)->Flush();
  out.sent = (*feeder)->sent();
  if (sent_out != nullptr) sent_out->store(out.sent);
  out.seconds = Seconds(Clock::now() - start);
  out.wait_seconds = Seconds(waited);
  return out;
}

// ------------------------------------------------------- phase 1: throughput

struct ThroughputRow {
  std::string name;
  int64_t payments = 0;  // consumed / processed payments
  double seconds = 0;
  double rate = 0;
  double feeder_rate = 0;  // payments / (feeder time - time waiting)
  double feeder_wait = 0;
  // Engine only.
  int64_t records = 0;
  int64_t dead_letters = 0;
  int64_t revisions = 0;
  int64_t input_messages = 0;
  double join_seconds = 0;  // engine start to first consumed message
  int64_t commits = 0;
  double commit_seconds = 0;  // total time in commits
  double engine_cpu = 0;      // CPU seconds of the thread running RunStream
  double engine_queued = 0;   // seconds it was runnable but waited for a core
  double process_cores = 0;   // process CPU / wall over the timed interval
  std::string cpu_shares;     // cores by thread name over the timed interval
  absl::Status status;
};

// Sum and count of histogram `name` in the registry's Prometheus text (the
// benchmark does not register it, so it reads it as any scraper would).
std::pair<double, int64_t> HistogramSumCount(
    const txflag::engine::MetricsRegistry& registry, const std::string& name) {
  const std::string text = registry.RenderPrometheusText();
  double sum = 0;
  int64_t count = 0;
  for (const auto& [suffix, is_sum] :
       {std::pair<std::string, bool>{"_sum ", true}, {"_count ", false}}) {
    const std::string key = name + suffix;
    size_t at = text.find("\n" + key);
    if (at == std::string::npos) continue;
    const double v = std::atof(text.c_str() + at + 1 + key.size());
    if (is_sum) {
      sum = v;
    } else {
      count = static_cast<int64_t>(v);
    }
  }
  return {sum, count};
}

// Cumulative bucket counts (upper bound, count) of histogram `name`.
std::vector<std::pair<double, int64_t>> HistogramBuckets(
    const txflag::engine::MetricsRegistry& registry, const std::string& name) {
  const std::string text = registry.RenderPrometheusText();
  const std::string key = name + "_bucket{le=\"";
  std::vector<std::pair<double, int64_t>> out;
  for (size_t at = text.find(key); at != std::string::npos;
       at = text.find(key, at + 1)) {
    const char* le = text.c_str() + at + key.size();
    const char* end = std::strchr(le, '"');
    if (end == nullptr) break;
    const std::string bound(le, end);
    const double b = bound == "+Inf" ? std::numeric_limits<double>::infinity()
                                     : std::atof(bound.c_str());
    const char* space = std::strchr(end, ' ');
    if (space == nullptr) break;
    out.push_back({b, std::atoll(space + 1)});
  }
  return out;
}

// The upper bound (ms) of the bucket holding quantile q of the observations
// in `now` minus those in `before`; -1 when there are none.
double BucketQuantileMs(const std::vector<std::pair<double, int64_t>>& before,
                        const std::vector<std::pair<double, int64_t>>& now,
                        double q) {
  if (now.empty()) return -1;
  auto count = [&](size_t i) {
    return now[i].second - (i < before.size() && before[i].first == now[i].first
                                ? before[i].second
                                : 0);
  };
  const int64_t total = count(now.size() - 1);
  if (total <= 0) return -1;
  for (size_t i = 0; i < now.size(); ++i) {
    if (count(i) >= q * total) return now[i].first * 1000;
  }
  return -1;
}

absl::Status CreateTopics(kafka::MockCluster* cluster,
                          const std::vector<std::string>& topics,
                          int partitions) {
  for (const std::string& t : topics) {
    absl::Status s = cluster->CreateTopic(t, partitions, 1);
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

ThroughputRow RunFeederAlone(kafka::MockCluster* cluster, const DataSet& data,
                             int partitions) {
  ThroughputRow row;
  row.name = "feeder alone";
  const std::string topic = "payments_feedonly";
  row.status = CreateTopics(cluster, {topic}, partitions);
  if (!row.status.ok()) return row;
  FeedStats feed =
      FeedDataSet(cluster->bootstrap_servers(), topic, data, {}, 0, nullptr);
  row.status = feed.status;
  row.payments = feed.sent;
  row.seconds = feed.seconds;
  row.rate = feed.sent / feed.seconds;
  row.feeder_rate = row.rate;
  return row;
}

ThroughputRow RunBareConsumer(kafka::MockCluster* cluster, const DataSet& data,
                              int partitions, int64_t max_ahead, int round) {
  ThroughputRow row;
  row.name = "bare consumer";
  const std::string topic = Fmt("payments_bare_r%d", round);
  const std::string servers = cluster->bootstrap_servers();
  row.status = CreateTopics(cluster, {topic}, partitions);
  if (!row.status.ok()) return row;
  absl::StatusOr<RkPtr> consumer =
      NewAssignedConsumer(servers, topic, partitions, "stream-bench-bare");
  if (!consumer.ok()) {
    row.status = consumer.status();
    return row;
  }
  std::atomic<int64_t> consumed{0};
  std::atomic<bool> fed{false};
  FeedStats feed;
  std::thread feeder([&] {
    feed = FeedDataSet(
        servers, topic, data, [&] { return consumed.load(); },
        max_ahead * partitions, nullptr);
    fed.store(true);
  });
  const int64_t expected = static_cast<int64_t>(data.messages.size());
  Payment payment;
  int64_t count = 0, bad = 0;
  Clock::time_point first{}, last{}, idle_since = Clock::now();
  ThreadTimes threads_first, threads_last;
  Clock::time_point last_sample{};
  while (count < expected) {
    MessagePtr m(rd_kafka_consumer_poll(consumer->get(), 100));
    if (m == nullptr) {
      // Nothing for 10 s: the rest is lost (or the feeder failed).
      if (Seconds(Clock::now() - idle_since) > 10) break;
      continue;
    }
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      row.status = absl::DataLossError(
          absl::StrCat("bare consumer: ", rd_kafka_message_errstr(m.get())));
      break;
    }
    const auto now = Clock::now();
    if (count == 0) {
      first = now;
      SampleThreads(&threads_first);
      threads_last = threads_first;
      last_sample = now;
    } else if (now - last_sample >= std::chrono::milliseconds(100)) {
      SampleThreads(&threads_last);  // keeps threads that exited meanwhile
      last_sample = now;
    }
    last = idle_since = now;
    if (!payment.ParseFromArray(m->payload, static_cast<int>(m->len))) ++bad;
    consumed.store(++count, std::memory_order_relaxed);
  }
  SampleThreads(&threads_last);
  consumed.store(expected);  // releases the feeder if it still waits
  feeder.join();
  rd_kafka_consumer_close(consumer->get());
  if (row.status.ok()) row.status = feed.status;
  if (row.status.ok() && count != expected) {
    row.status = absl::DataLossError(
        Fmt("bare consumer read %lld of %lld payments",
            static_cast<long long>(count), static_cast<long long>(expected)));
  }
  if (row.status.ok() && bad > 0) {
    row.status = absl::DataLossError(
        Fmt("%lld values did not parse", static_cast<long long>(bad)));
  }
  row.payments = count;
  row.seconds = Seconds(last - first);
  row.rate = row.seconds > 0 ? count / row.seconds : 0;
  row.cpu_shares = CpuShares(threads_first, threads_last, row.seconds);
  row.feeder_rate =
      feed.sent / std::max(1e-9, feed.seconds - feed.wait_seconds);
  row.feeder_wait = feed.wait_seconds;
  return row;
}

// What every engine run needs: topics, a fresh RocksDB store, options.
struct EngineRun {
  std::string input_topic, alerts_topic;
  std::unique_ptr<txflag::connectors::RocksDbStateStore> store;
  txflag::engine::MetricsRegistry registry;
  txflag::engine::Counter* consumed = nullptr;
  txflag::engine::Counter* processed = nullptr;
  std::atomic<bool> stop{false};
  std::atomic<bool> fed{false};
  std::atomic<bool> ready{false};
  kafka::StreamRunnerOptions options;
};

absl::Status SetUpEngine(kafka::MockCluster* cluster,
                         const txflag::rules::CompiledPack* pack,
                         kafka::StreamMode mode, const std::string& tag,
                         int partitions, const fs::path& dir, EngineRun* run) {
  run->input_topic = "payments_" + tag;
  run->alerts_topic = "alerts_" + tag;
  const std::string group = "bench_" + tag;
  absl::Status s =
      CreateTopics(cluster,
                   {run->input_topic, run->alerts_topic, "dlq_" + tag,
                    group + ".repartition", group + ".changelog"},
                   partitions);
  if (!s.ok()) return s;
  auto store = txflag::connectors::RocksDbStateStore::Open(
      (dir / ("state_" + tag)).string());
  if (!store.ok()) return store.status();
  run->store = std::move(*store);
  // The runner registers these too; the help text must match its.
  auto consumed = run->registry.GetCounter(
      "txflag_input_messages_total", "Messages consumed from the input topic.");
  if (!consumed.ok()) return consumed.status();
  run->consumed = *consumed;
  auto processed = run->registry.GetCounter(
      "txflag_records_processed_total",
      "Payments (in-process mode) or legs (repartition mode) given to the "
      "engine.");
  if (!processed.ok()) return processed.status();
  run->processed = *processed;
  kafka::StreamRunnerOptions& o = run->options;
  o.properties = {{"bootstrap.servers", cluster->bootstrap_servers()},
                  {"session.timeout.ms", "6000"}};
  for (const auto& kv : g_engine_properties) o.properties.push_back(kv);
  o.commit_interval_ms = g_commit_ms;
  o.input_topic = run->input_topic;
  o.alerts_topic = run->alerts_topic;
  o.dead_letter_topic = "dlq_" + tag;
  o.group = group;
  o.mode = mode;
  o.pack = pack;
  o.store = run->store.get();
  o.stop = &run->stop;
  o.input_finished = &run->fed;
  o.ready = &run->ready;
  o.metrics = &run->registry;
  o.exit_when_idle_ms = 1000;
  txflag::connectors::RocksDbStateStore* raw_store = run->store.get();
  o.state_bytes = [raw_store] {
    return static_cast<double>(raw_store->ApproximateBytes());
  };
  return absl::OkStatus();
}

ThroughputRow RunEngineThroughput(kafka::MockCluster* cluster,
                                  const txflag::rules::CompiledPack* pack,
                                  kafka::StreamMode mode, const DataSet& data,
                                  int partitions, int64_t max_ahead,
                                  const fs::path& dir, int round) {
  ThroughputRow row;
  row.name = Fmt("engine %s", ModeName(mode));
  EngineRun run;
  row.status =
      SetUpEngine(cluster, pack, mode, Fmt("tp_%s_r%d", ModeTag(mode), round),
                  partitions, dir, &run);
  if (!row.status.ok()) return row;
  const std::string servers = cluster->bootstrap_servers();
  kafka::StreamRunSummary summary;
  absl::Status engine_status;
  std::atomic<bool> engine_done{false};
  const auto start = Clock::now();
  double engine_cpu = 0, engine_queued = 0;
  std::thread engine([&] {
    pthread_setname_np(pthread_self(), "txflag-engine");  // for perf/top
    const double cpu0 = CpuSeconds(CLOCK_THREAD_CPUTIME_ID);
    const double queued0 = RunQueueSeconds();
    engine_status = kafka::RunStream(run.options, &summary);
    engine_cpu = CpuSeconds(CLOCK_THREAD_CPUTIME_ID) - cpu0;
    engine_queued = RunQueueSeconds() - queued0;
    engine_done.store(true);
  });
  FeedStats feed;
  std::atomic<int64_t> sent{0};
  std::thread feeder([&] {
    feed = FeedDataSet(
        servers, run.input_topic, data,
        [&] {
          return engine_done.load()
                     ? std::numeric_limits<int64_t>::max() / 2
                     : static_cast<int64_t>(run.consumed->value());
        },
        max_ahead * partitions, &sent);
    run.fed.store(true);
  });
  // Sample the counters: first consumed message, last processed record.
  std::optional<Clock::time_point> first_in;
  Clock::time_point last_change = start;
  uint64_t last_processed = 0;
  bool stalled = false;
  double cpu_first = 0, cpu_last = 0;
  // Sampled every 100 ms (and at the last processed record), so that the
  // threads that end before the engine (the feeder's) are counted.
  ThreadTimes threads_first, threads_last, threads_at_last_change;
  Clock::time_point last_sample = start;
  Clock::time_point last_trace = start;
  while (true) {
    const bool done = engine_done.load();
    const auto now = Clock::now();
    if (!first_in && run.consumed->value() > 0) {
      first_in = now;
      cpu_first = CpuSeconds(CLOCK_PROCESS_CPUTIME_ID);
      SampleThreads(&threads_first);
      threads_last = threads_first;
      last_sample = now;
    }
    if (first_in && now - last_sample >= std::chrono::milliseconds(100)) {
      SampleThreads(&threads_last);
      last_sample = now;
    }
    const uint64_t p = run.processed->value();
    Trace(ModeTag(mode), start, &last_trace, sent.load(), run.consumed->value(),
          p, &run.registry);
    if (p != last_processed) {
      last_processed = p;
      last_change = now;
      cpu_last = CpuSeconds(CLOCK_PROCESS_CPUTIME_ID);
      threads_at_last_change = threads_last;
    }
    if (done) break;
    if (!stalled && Seconds(now - last_change) > 60) {
      stalled = true;  // watchdog: no progress for a minute
      run.stop.store(true);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  engine.join();
  feeder.join();
  row.status = engine_status.ok() ? feed.status : engine_status;
  if (stalled) {
    row.status = absl::DeadlineExceededError(
        "the engine processed nothing for 60 s: stopped");
  }
  row.input_messages = summary.input_messages;
  row.records = summary.records_processed;
  row.dead_letters = summary.dead_letters;
  row.revisions = summary.alert_revisions;
  row.payments = summary.input_messages;
  row.seconds = first_in ? Seconds(last_change - *first_in) : 0;
  row.rate = row.seconds > 0 ? row.payments / row.seconds : 0;
  row.join_seconds = first_in ? Seconds(*first_in - start) : 0;
  row.engine_cpu = engine_cpu;
  row.engine_queued = engine_queued;
  row.process_cores =
      row.seconds > 0 ? std::max(0.0, cpu_last - cpu_first) / row.seconds : 0;
  row.cpu_shares =
      CpuShares(threads_first, threads_at_last_change, row.seconds);
  std::tie(row.commit_seconds, row.commits) =
      HistogramSumCount(run.registry, "txflag_commit_seconds");
  row.feeder_rate =
      feed.sent / std::max(1e-9, feed.seconds - feed.wait_seconds);
  row.feeder_wait = feed.wait_seconds;
  const int64_t expected = static_cast<int64_t>(data.messages.size());
  if (row.status.ok() && summary.input_messages != expected) {
    row.status =
        absl::DataLossError(Fmt("engine consumed %lld of %lld payments",
                                static_cast<long long>(summary.input_messages),
                                static_cast<long long>(expected)));
  }
  return row;
}

// ---------------------------------------------------------- phase 2: latency

// Synthetic live payments. Ids "L<n>" (n: the index into the produce-time
// table), history "H<n>".
class LiveGenerator {
 public:
  LiveGenerator(int victims, uint64_t seed) : rng_(seed) {
    customers_.reserve(kCustomers);
    for (int i = 0; i < kCustomers; ++i) {
      customers_.push_back(Fmt("DK50%010d", 1000000 + i * 7));
    }
    for (int i = 0; i < kMerchants; ++i) {
      merchants_.push_back(Fmt("DK89%010d", 5000000 + i * 13));
    }
    for (int i = 0; i < victims; ++i) {
      victims_.push_back(Fmt("DK71%010d", 9000000 + i * 11));
    }
  }

  int victims() const { return static_cast<int>(victims_.size()); }

  // A transfer of 400-900 DKK by MOBILE from a random payer to victim `v`.
  void Victim(const std::string& id, int64_t ts, int v, Payment* p) {
    Common(id, ts, p);
    const int payer = Pick(kCustomers);
    p->set_debtor_account(customers_[payer]);
    p->set_debtor_name(Fmt("Kunde %d", payer));
    p->set_creditor_account(victims_[v]);
    p->set_creditor_name(Fmt("Modtager %d", v));
    p->set_amount_minor(40000 + 10 * Pick(5001));  // 400-900 DKK
    p->set_channel(Payment::MOBILE);
    p->set_mcc(0);
    p->set_reference("MobilePay");
  }

  // One live payment: 1% victim transfers, else noise. Returns true for a
  // victim transfer.
  bool Live(const std::string& id, int64_t ts, Payment* p) {
    const int r = Pick(1000);
    if (r < 10) {
      Victim(id, ts, Pick(victims()), p);
      return true;
    }
    Common(id, ts, p);
    const int a = Pick(kCustomers);
    p->set_debtor_account(customers_[a]);
    p->set_debtor_name(Fmt("Kunde %d", a));
    if (r < 50) {  // small MOBILE between customers (below 400 DKK)
      const int b = Pick(kCustomers);
      p->set_creditor_account(customers_[b]);
      p->set_creditor_name(Fmt("Kunde %d", b));
      p->set_amount_minor(5000 + 100 * Pick(250));
      p->set_channel(Payment::MOBILE);
      p->set_mcc(0);
      p->set_reference("Tak for i aftes");
    } else if (r < 150) {  // larger transfers
      const int b = Pick(kCustomers);
      p->set_creditor_account(customers_[b]);
      p->set_creditor_name(Fmt("Kunde %d", b));
      p->set_amount_minor(300000 + 100 * Pick(17000));
      p->set_channel(Payment::TRANSFER);
      p->set_mcc(0);
      p->set_reference(Fmt("Faktura %d", Pick(100000)));
    } else {  // card purchases
      static constexpr uint32_t kMcc[] = {5411, 5812, 5541, 5999, 4111, 5732};
      const int m = Pick(kMerchants);
      p->set_creditor_account(merchants_[m]);
      p->set_creditor_name(Fmt("Butik %d ApS", m));
      p->set_amount_minor(2000 + 100 * Pick(780));
      p->set_channel(Payment::CARD);
      p->set_mcc(kMcc[Pick(6)]);
      p->set_reference("");
    }
    return false;
  }

 private:
  static constexpr int kCustomers = 100000;
  static constexpr int kMerchants = 2000;

  int Pick(int n) {
    return static_cast<int>(rng_() % static_cast<uint64_t>(n));
  }
  void Common(const std::string& id, int64_t ts, Payment* p) {
    p->set_id(id);
    p->mutable_timestamp()->set_seconds(ts);
    p->mutable_timestamp()->set_nanos(0);
    p->set_debtor_country("DK");
    p->set_creditor_country("DK");
    p->set_currency("DKK");
  }

  std::mt19937_64 rng_;
  std::vector<std::string> customers_, merchants_, victims_;
};

struct LatencyRow {
  std::string mode;
  absl::Status status;
  int64_t history = 0;           // history payments, produced first
  int64_t offered = 0;           // live payments produced
  double offered_seconds = 0;    // first to last live send
  double throttled_seconds = 0;  // feeder held back by the engine's lag
  int64_t victims = 0;
  int64_t input_messages = 0;
  int64_t records = 0;
  int64_t expected_records = 0;
  int64_t dead_letters = 0;
  int64_t engine_revisions = 0;
  int64_t alerts_read = 0;
  int64_t max_lag = 0;      // payments produced but not consumed
  double drain_ms = -1;     // feed end -> last record processed
  double history_wait = 0;  // join + history catch-up before live
  int64_t commits = 0;
  double commit_seconds = 0;
  double engine_cpu = 0;      // CPU seconds of the thread running RunStream
  double commit_max_ms = -1;  // upper bound of the slowest commit's bucket
  // The engine's own txflag_alert_latency_seconds over the same interval
  // (bucket upper bounds, ms).
  double engine_p50 = -1, engine_p99 = -1;
  int64_t samples = 0;
  int64_t skipped_omitted = 0;
  double revisions_per_s = 0;
  int64_t p50 = -1, p90 = -1, p99 = -1, max = -1;
};

// An alert revision as read from the alerts topic.
struct ReadAlert {
  int64_t timestamp_ms = 0;
  int64_t trigger = -1;  // live index of the newest evidence, or -1
  bool omitted_grew = false;
};

int64_t LiveIndex(const std::string& id) {
  if (id.size() < 2 || id[0] != 'L') return -1;
  int64_t n = -1;
  auto [ptr, ec] = std::from_chars(id.data() + 1, id.data() + id.size(), n);
  return ec == std::errc() && ptr == id.data() + id.size() ? n : -1;
}

int64_t Percentile(const std::vector<int64_t>& sorted, double q) {
  if (sorted.empty()) return -1;
  size_t rank = static_cast<size_t>(std::ceil(q * sorted.size()));
  rank = std::clamp<size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

// `bare`: no engine; a bare consumer reads the same feed and the latency is
// its receive time - the payment's CreateTime (the transport's floor).
LatencyRow RunLatency(kafka::MockCluster* cluster,
                      const txflag::rules::CompiledPack* pack,
                      kafka::StreamMode mode, bool bare, const Flags& flags,
                      const fs::path& dir) {
  LatencyRow row;
  row.mode = bare ? "bare" : ModeName(mode);
  EngineRun run;
  const int partitions = LatencyPartitions(flags);
  row.status = SetUpEngine(cluster, pack, mode,
                           bare ? "lat_bare" : Fmt("lat_%s", ModeTag(mode)),
                           partitions, dir, &run);
  if (!row.status.ok()) return row;
  run.options.allowed_lateness_seconds = flags.lateness;
  const std::string servers = cluster->bootstrap_servers();

  // Sizing: ~1% of the live payments go to victims; each victim gets 40
  // history payments at night, so the rule (night share >= 0.4) keeps firing
  // for up to 60 daytime payments, and the evidence stays below the cap.
  const int64_t live_total = flags.rate * flags.seconds;
  const int victims =
      static_cast<int>(std::max<int64_t>(200, (live_total / 100 + 39) / 40));
  constexpr int kHistoryPerDay = 10;
  constexpr int kHistoryDays = 4;
  row.victims = victims;
  LiveGenerator gen(victims, 7);
  std::vector<int64_t> produce_ms(live_total + kLiveBatch, 0);

  // The alerts reader.
  std::vector<ReadAlert> alerts;
  std::atomic<int64_t> reader_target{-1};
  absl::Status reader_status;
  absl::StatusOr<RkPtr> reader = NewAssignedConsumer(
      servers, run.alerts_topic, partitions, "stream-bench-alerts-" + row.mode);
  if (!reader.ok()) {
    row.status = reader.status();
    return row;
  }
  std::thread reader_thread([&] {
    txflag::v1::Alert alert;
    std::map<std::string, uint32_t> omitted;
    auto idle_since = Clock::now();
    while (true) {
      const int64_t target = reader_target.load();
      if (target >= 0 && static_cast<int64_t>(alerts.size()) >= target) break;
      if (target >= 0 && Seconds(Clock::now() - idle_since) > 10) break;
      MessagePtr m(rd_kafka_consumer_poll(reader->get(), 50));
      if (m == nullptr) continue;
      if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        reader_status = absl::DataLossError(
            absl::StrCat("alerts reader: ", rd_kafka_message_errstr(m.get())));
        break;
      }
      idle_since = Clock::now();
      ReadAlert a;
      rd_kafka_timestamp_type_t type;
      a.timestamp_ms = rd_kafka_message_timestamp(m.get(), &type);
      if (alert.ParseFromArray(m->payload, static_cast<int>(m->len))) {
        const auto& evidence = alert.evidence();
        if (evidence.transactions_size() > 0) {
          a.trigger = LiveIndex(
              evidence.transactions(evidence.transactions_size() - 1));
        }
        uint32_t& seen = omitted[alert.alert_id()];
        a.omitted_grew = evidence.transactions_omitted() > seen;
        seen = evidence.transactions_omitted();
      }
      alerts.push_back(a);
    }
  });

  kafka::StreamRunSummary summary;
  absl::Status engine_status;
  std::atomic<bool> engine_done{false};
  std::atomic<int64_t> live_start_ms{0};
  std::vector<int64_t> bare_latencies;
  std::thread engine([&] {
    if (!bare) {
      const double cpu0 = CpuSeconds(CLOCK_THREAD_CPUTIME_ID);
      engine_status = kafka::RunStream(run.options, &summary);
      row.engine_cpu = CpuSeconds(CLOCK_THREAD_CPUTIME_ID) - cpu0;
      engine_done.store(true);
      return;
    }
    run.ready.store(true);
    absl::StatusOr<RkPtr> consumer = NewAssignedConsumer(
        servers, run.input_topic, partitions, "stream-bench-bare-latency");
    if (!consumer.ok()) {
      engine_status = consumer.status();
      engine_done.store(true);
      return;
    }
    Payment payment;
    auto idle_since = Clock::now();
    while (Seconds(Clock::now() - idle_since) < (run.fed.load() ? 1 : 60)) {
      MessagePtr m(rd_kafka_consumer_poll(consumer->get(), 20));
      if (m == nullptr) continue;
      const int64_t now_ms = WallMs();
      if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        engine_status = absl::DataLossError(
            absl::StrCat("bare consumer: ", rd_kafka_message_errstr(m.get())));
        break;
      }
      idle_since = Clock::now();
      ++summary.input_messages;
      run.consumed->Increment();
      if (payment.ParseFromArray(m->payload, static_cast<int>(m->len)) &&
          LiveIndex(payment.id()) >= 0) {
        rd_kafka_timestamp_type_t type;
        const int64_t ts = rd_kafka_message_timestamp(m.get(), &type);
        if (ts >= live_start_ms.load() + kWarmupMs) {
          bare_latencies.push_back(now_ms - ts);
        }
      }
      ++summary.records_processed;
      run.processed->Increment();
    }
    rd_kafka_consumer_close(consumer->get());
    engine_done.store(true);
  });

  // The feeder: history, wait for the engine to have it, then live payments
  // at exactly flags.rate.
  std::atomic<int64_t> sent{0};
  std::atomic<bool> live_started{false};
  FeedStats feed;
  Clock::time_point live_end{};
  const int64_t max_ahead = flags.max_ahead * partitions;
  const int64_t legs_per_payment =
      !bare && mode == kafka::StreamMode::kRepartition ? 2 : 1;
  std::thread feeder([&] {
    absl::StatusOr<std::unique_ptr<Feeder>> producer =
        Feeder::Create(servers, run.input_topic);
    if (!producer.ok()) {
      feed.status = producer.status();
      run.fed.store(true);
      return;
    }
    Feeder& f = **producer;
    Payment p;
    std::string value, id;
    // History: kHistoryPerDay payments per victim at ~22:30 local time on
    // each of the kHistoryDays days before today, in event-time order.
    const int64_t now_s = WallMs() / 1000;
    const int64_t today = now_s - now_s % 86400;
    int64_t h = 0;
    const int per_day = kHistoryPerDay * victims;
    for (int d = kHistoryDays; d >= 1; --d) {
      const int64_t base = today - d * 86400 + 21 * 3600 + 30 * 60;
      for (int j = 0; j < per_day; ++j) {
        id = Fmt("H%012lld", static_cast<long long>(h++));
        gen.Victim(id, base + j * 600LL / per_day, j % victims, &p);
        value.clear();
        p.SerializeToString(&value);
        feed.status = f.Send(p.debtor_account(), value, WallMs());
        if (!feed.status.ok()) break;
      }
    }
    if (feed.status.ok()) feed.status = f.Flush();
    row.history = h;
    sent.store(h);
    // Wait until the engine has joined and processed the history (with a
    // lateness > 0 it keeps the newest seconds of it buffered: wait 3 s).
    const auto w0 = Clock::now();
    std::optional<Clock::time_point> all_consumed;
    while (feed.status.ok() && !engine_done.load() &&
           Seconds(Clock::now() - w0) < 60 &&
           static_cast<int64_t>(run.processed->value()) <
               h * legs_per_payment) {
      if (!all_consumed && run.ready.load() &&
          static_cast<int64_t>(run.consumed->value()) >= h) {
        all_consumed = Clock::now();
      }
      if (all_consumed && flags.lateness > 0 &&
          Seconds(Clock::now() - *all_consumed) > 3) {
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    row.history_wait = Seconds(Clock::now() - w0);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    // Live.
    const auto start = Clock::now();
    live_start_ms = WallMs();
    live_started.store(true);
    Clock::duration throttled{};
    int64_t n = 0;
    for (int64_t batch = 0; feed.status.ok() && n < live_total; ++batch) {
      std::this_thread::sleep_until(
          start + std::chrono::nanoseconds(batch * kLiveBatch * 1000000000LL /
                                           flags.rate));
      if (h + n - static_cast<int64_t>(run.consumed->value()) >= max_ahead &&
          !engine_done.load()) {
        // The engine is too far behind for the mock's retention: wait.
        const auto t0 = Clock::now();
        while (h + n - static_cast<int64_t>(run.consumed->value()) >=
                   max_ahead / 2 &&
               !engine_done.load()) {
          f.Poll();
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        throttled += Clock::now() - t0;
      }
      for (int i = 0; i < kLiveBatch && n < live_total; ++i, ++n) {
        const int64_t ms = WallMs();
        id = Fmt("L%012lld", static_cast<long long>(n));
        gen.Live(id, ms / 1000, &p);
        value.clear();
        p.SerializeToString(&value);
        produce_ms[n] = ms;
        feed.status = f.Send(p.debtor_account(), value, ms);
        if (!feed.status.ok()) break;
      }
      sent.store(h + n, std::memory_order_relaxed);
      f.Poll();
    }
    live_end = Clock::now();
    feed.seconds = Seconds(live_end - start);
    feed.wait_seconds = Seconds(throttled);
    feed.sent = n;
    absl::Status flushed = f.Flush();
    if (feed.status.ok()) feed.status = flushed;
    run.fed.store(true);
  });

  // Sample: the engine's lag, and when it finished the live payments.
  int64_t max_lag = 0;
  Clock::time_point last_change = Clock::now();
  uint64_t last_processed = 0;
  bool stalled = false;
  std::vector<std::pair<double, int64_t>> latency_before;
  bool snapshot_taken = false;
  const auto sample_start = Clock::now();
  Clock::time_point last_trace = sample_start;
  while (!engine_done.load()) {
    const auto now = Clock::now();
    Trace(ModeTag(mode), sample_start, &last_trace, sent.load(),
          run.consumed->value(), run.processed->value(), &run.registry);
    if (!stalled && Seconds(now - last_change) > 60) {
      stalled = true;  // watchdog: no progress for a minute
      run.stop.store(true);
    }
    if (live_started.load() && !snapshot_taken &&
        WallMs() >= live_start_ms.load() + kWarmupMs) {
      latency_before =
          HistogramBuckets(run.registry, "txflag_alert_latency_seconds");
      snapshot_taken = true;
    }
    if (live_started.load()) {
      max_lag = std::max<int64_t>(
          max_lag, sent.load() - static_cast<int64_t>(run.consumed->value()));
    }
    const uint64_t p = run.processed->value();
    if (p != last_processed) {
      last_processed = p;
      last_change = now;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  engine.join();
  feeder.join();
  reader_target.store(summary.alert_revisions);
  reader_thread.join();
  rd_kafka_consumer_close(reader->get());

  row.status = !engine_status.ok() ? engine_status
               : !feed.status.ok() ? feed.status
                                   : reader_status;
  if (stalled) {
    row.status = absl::DeadlineExceededError(
        "the engine processed nothing for 60 s: stopped");
  }
  row.offered = feed.sent;
  row.offered_seconds = feed.seconds;
  row.throttled_seconds = feed.wait_seconds;
  row.input_messages = summary.input_messages;
  row.records = summary.records_processed;
  row.expected_records = (row.history + row.offered) * legs_per_payment;
  row.dead_letters = summary.dead_letters;
  row.engine_revisions = summary.alert_revisions;
  row.alerts_read = static_cast<int64_t>(alerts.size());
  row.max_lag = max_lag;
  std::tie(row.commit_seconds, row.commits) =
      HistogramSumCount(run.registry, "txflag_commit_seconds");
  row.commit_max_ms = BucketQuantileMs(
      {}, HistogramBuckets(run.registry, "txflag_commit_seconds"), 1.0);
  const auto latency_after =
      HistogramBuckets(run.registry, "txflag_alert_latency_seconds");
  row.engine_p50 = BucketQuantileMs(latency_before, latency_after, 0.50);
  row.engine_p99 = BucketQuantileMs(latency_before, latency_after, 0.99);
  if (last_processed > 0 && live_end != Clock::time_point{}) {
    row.drain_ms = std::max(0.0, Seconds(last_change - live_end) * 1000);
  }

  std::vector<int64_t> latencies = std::move(bare_latencies);
  const int64_t from_ms = live_start_ms + kWarmupMs;
  for (const ReadAlert& a : alerts) {
    if (a.trigger < 0 || a.trigger >= row.offered) continue;
    if (a.omitted_grew) {
      ++row.skipped_omitted;
      continue;
    }
    const int64_t produced = produce_ms[a.trigger];
    if (produced < from_ms) continue;
    latencies.push_back(a.timestamp_ms - produced);
  }
  if (g_trace && !bare) {
    // Latency over time, by quarter second of production time.
    std::map<int64_t, std::pair<int64_t, int64_t>> by_slot;  // count, max
    for (const ReadAlert& a : alerts) {
      if (a.trigger < 0 || a.trigger >= row.offered) continue;
      const int64_t produced = produce_ms[a.trigger];
      auto& [count, max] = by_slot[(produced - live_start_ms) / 250];
      ++count;
      max = std::max(max, a.timestamp_ms - produced);
    }
    std::fprintf(stderr, "  [%s] max latency (ms) per 250 ms of production:",
                 row.mode.c_str());
    for (const auto& [slot, v] : by_slot) {
      std::fprintf(stderr, "%s %lld", slot % 8 == 0 ? "\n   " : "",
                   static_cast<long long>(v.second));
    }
    std::fprintf(stderr, "\n");
    // By position of the payment's event second (50 ms steps).
    std::map<int64_t, std::vector<int64_t>> by_phase;
    for (const ReadAlert& a : alerts) {
      if (a.trigger < 0 || a.trigger >= row.offered) continue;
      const int64_t produced = produce_ms[a.trigger];
      if (produced < from_ms) continue;
      by_phase[(produced % 1000) / 50].push_back(a.timestamp_ms - produced);
    }
    std::fprintf(stderr, "  [%s] by ms within the second: count p50 p90 max\n",
                 row.mode.c_str());
    for (auto& [phase, v] : by_phase) {
      std::sort(v.begin(), v.end());
      std::fprintf(stderr, "   %4lld: %5zu %4lld %4lld %4lld\n",
                   static_cast<long long>(phase * 50), v.size(),
                   static_cast<long long>(v[v.size() / 2]),
                   static_cast<long long>(v[v.size() * 9 / 10]),
                   static_cast<long long>(v.back()));
    }
  }
  std::sort(latencies.begin(), latencies.end());
  row.samples = static_cast<int64_t>(latencies.size());
  const double measured_s =
      std::max(1e-9, row.offered_seconds - kWarmupMs / 1000.0);
  row.revisions_per_s = row.samples / measured_s;
  row.p50 = Percentile(latencies, 0.50);
  row.p90 = Percentile(latencies, 0.90);
  row.p99 = Percentile(latencies, 0.99);
  row.max = latencies.empty() ? -1 : latencies.back();
  return row;
}

// ------------------------------------------------------------------ output

std::string JsonStatus(const absl::Status& s) {
  return s.ok() ? "\"ok\"" : txflag::JsonQuote(s.ToString());
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  if (!ParseFlags(argc, argv, &flags)) return 2;
  txflag::SetMinLogLevel(txflag::LogLevel::kWarning);
  absl::StatusOr<txflag::rules::CompiledPack> pack =
      txflag::rules::CompileRulePack(txflag::rules::DefaultRulePackText(),
                                     "<built-in default pack>");
  if (!pack.ok()) {
    std::fprintf(stderr, "rule pack: %s\n", pack.status().ToString().c_str());
    return 2;
  }
  char tmpl[] = "/tmp/stream_bench.XXXXXX";
  if (mkdtemp(tmpl) == nullptr) {
    std::perror("mkdtemp");
    return 2;
  }
  const fs::path dir = tmpl;
  absl::StatusOr<std::unique_ptr<kafka::MockCluster>> cluster =
      kafka::MockCluster::Start();
  if (!cluster.ok()) {
    std::fprintf(stderr, "%s\n", cluster.status().ToString().c_str());
    return 2;
  }
  std::printf(
      "stream_bench: mock cluster (3 brokers) at %s; %d partitions per topic "
      "in phase 1; "
      "%u hardware threads; work dir %s\n",
      (*cluster)->bootstrap_servers().c_str(), flags.partitions,
      std::thread::hardware_concurrency(), dir.c_str());
  std::fflush(stdout);

  bool missed = false, failed = false;
  std::string json = "{\"bench\":\"stream_bench\"";
  absl::StrAppend(&json, ",\"partitions\":", flags.partitions);

  if (flags.phase != "latency") {
    std::string described;
    absl::StatusOr<DataSet> data = LoadDataSet(flags, dir, &described);
    if (!data.ok()) {
      std::fprintf(stderr, "data set: %s\n", data.status().ToString().c_str());
      return 2;
    }
    std::printf("\nPhase 1: throughput, default rule pack, %s payments\n",
                txflag::WithThousands(data->messages.size()).c_str());
    std::fflush(stdout);
    const ThroughputRow feeder_alone =
        RunFeederAlone(cluster->get(), *data, flags.partitions);
    absl::StrAppend(&json,
                    ",\"throughput\":{\"data\":", txflag::JsonQuote(described),
                    ",\"payments\":", data->messages.size(),
                    ",\"max_ahead_per_partition\":", flags.max_ahead,
                    ",\"rounds\":", flags.rounds, ",\"rows\":[");
    // Each round: a bare consumer, then the engine in each mode, each on
    // fresh topics. The machine's speed drifts by tens of percent within a
    // minute; a ratio is only taken within a round, and the verdict is the
    // median round's.
    std::map<std::string, std::vector<double>> ratios;  // engine row -> rounds
    bool first_json_row = true;
    bool feeder_bound = false;
    for (int round = 1; round <= flags.rounds; ++round) {
      std::vector<ThroughputRow> rows;
      if (round == 1) rows.push_back(feeder_alone);
      rows.push_back(RunBareConsumer(cluster->get(), *data, flags.partitions,
                                     flags.max_ahead, round));
      const size_t bare_index = rows.size() - 1;
      for (kafka::StreamMode mode : Modes(flags)) {
        std::printf("  round %d: running the engine, %s mode...\n", round,
                    ModeName(mode));
        std::fflush(stdout);
        rows.push_back(RunEngineThroughput(cluster->get(), &*pack, mode, *data,
                                           flags.partitions, flags.max_ahead,
                                           dir, round));
      }
      const ThroughputRow& bare = rows[bare_index];
      std::printf("\n  round %d of %d\n", round, flags.rounds);
      std::printf("  %-22s %10s %8s %12s %7s %7s  %s\n", "consumer", "payments",
                  "seconds", "payments/s", "ratio", ">=0.70",
                  "feeder payments/s");
      for (size_t i = 0; i < rows.size(); ++i) {
        const ThroughputRow& r = rows[i];
        const bool engine = i > bare_index;
        const bool feeder_row = i < bare_index;
        // A bare consumer that failed (it fell behind the mock's retention,
        // say) read only part of the data, at a rate that is no ceiling:
        // its round gives no ratio, and the verdict is taken on the others.
        const bool have_ceiling = bare.status.ok() && bare.rate > 0;
        const double ratio = have_ceiling ? r.rate / bare.rate : 0;
        std::string verdict = "";
        if (engine) {
          verdict = !r.status.ok()          ? "ERROR"
                    : !have_ceiling         ? "n/a"
                    : ratio >= kTargetRatio ? "yes"
                                            : "no";
          // Made even without a ceiling, so that the verdict names it.
          std::vector<double>& judged = ratios[r.name];
          if (have_ceiling) judged.push_back(r.status.ok() ? ratio : 0);
        }
        if (!r.status.ok()) failed = true;
        std::printf(
            "  %-22s %10s %8.2f %12.0f %7s %7s  %.0f%s\n", r.name.c_str(),
            txflag::WithThousands(r.payments).c_str(), r.seconds, r.rate,
            feeder_row || !have_ceiling ? "" : Fmt("%.2f", ratio).c_str(),
            verdict.c_str(), r.feeder_rate,
            r.feeder_wait > 0.05
                ? Fmt(" (waited %.1f s for the consumer)", r.feeder_wait)
                      .c_str()
                : "");
        if (!r.status.ok()) {
          std::printf("    error: %s\n", r.status.ToString().c_str());
        }
        if (engine) {
          std::printf(
              "    %s records processed, %s alert revisions, %s dead "
              "letters; first message %.1f s after start (join/setup, not "
              "timed); %lld commits took %.2f s in all; the engine's thread "
              "used %.2f s of CPU (%.0f%% of the timed interval) and waited "
              "%.2f s for a core, the whole process %.2f cores\n",
              txflag::WithThousands(r.records).c_str(),
              txflag::WithThousands(r.revisions).c_str(),
              txflag::WithThousands(r.dead_letters).c_str(), r.join_seconds,
              static_cast<long long>(r.commits), r.commit_seconds, r.engine_cpu,
              r.seconds > 0 ? 100 * r.engine_cpu / r.seconds : 0,
              r.engine_queued, r.process_cores);
        }
        if (!r.cpu_shares.empty()) {
          std::printf("    cores by thread: %s\n", r.cpu_shares.c_str());
        }
        absl::StrAppend(
            &json, first_json_row ? "" : ",",
            "{\"name\":", txflag::JsonQuote(r.name),
            ",\"round\":", feeder_row ? 0 : round, ",\"payments\":", r.payments,
            ",\"seconds\":", Fmt("%.3f", r.seconds),
            ",\"rate\":", Fmt("%.0f", r.rate), ",\"ratio_to_bare\":",
            feeder_row || !have_ceiling ? "null" : Fmt("%.3f", ratio),
            ",\"feeder_rate\":", Fmt("%.0f", r.feeder_rate),
            ",\"feeder_wait_s\":", Fmt("%.2f", r.feeder_wait));
        first_json_row = false;
        if (engine) {
          absl::StrAppend(
              &json, ",\"records\":", r.records, ",\"revisions\":", r.revisions,
              ",\"dead_letters\":", r.dead_letters, ",\"commits\":", r.commits,
              ",\"commit_s\":", Fmt("%.2f", r.commit_seconds),
              ",\"engine_cpu_s\":", Fmt("%.2f", r.engine_cpu),
              ",\"engine_run_queue_s\":", Fmt("%.2f", r.engine_queued),
              ",\"process_cores\":", Fmt("%.2f", r.process_cores));
        }
        absl::StrAppend(&json, ",\"status\":", JsonStatus(r.status), "}");
      }
      // Who limited the ceiling?
      const bool round_feeder_bound =
          bare.status.ok() && bare.rate >= 0.9 * bare.feeder_rate;
      feeder_bound = feeder_bound || round_feeder_bound;
      std::printf(
          "  ceiling: the bare consumer read %.0f payments/s while the feeder "
          "produced at %.0f payments/s (%.0f alone)%s\n",
          bare.rate, bare.feeder_rate, feeder_alone.rate,
          round_feeder_bound
              ? ": the consumer kept up with the feeder, so the ceiling is the "
                "PRODUCER's (feeder-bound): a bare consumer could read faster, "
                "and the ratios overstate the engine's share of it"
              : ": the consumer, not the feeder, was the limit");
      std::fflush(stdout);
    }
    absl::StrAppend(&json, "],\"median_ratio_to_bare\":{");
    std::printf(
        "\n  (rates: payments / time from the first consumed message to the "
        "last one processed; the engine's group join and idle exit are not "
        "timed)\n\n  target: engine >= %.2f of the bare consumer, judged on "
        "the median over %d rounds (a round whose bare consumer failed has "
        "no ceiling and is left out)\n",
        kTargetRatio, flags.rounds);
    bool first_median = true;
    for (auto& [name, values] : ratios) {
      if (values.empty()) {
        failed = true;
        std::printf(
            "  %-22s no round had a ceiling (every bare consumer failed): "
            "ERROR\n",
            name.c_str());
        continue;
      }
      std::vector<double> sorted = values;
      std::sort(sorted.begin(), sorted.end());
      const double median = sorted[sorted.size() / 2];
      std::string all;
      for (double v : values) {
        absl::StrAppend(&all, all.empty() ? "" : ", ", Fmt("%.2f", v));
      }
      const bool met = median >= kTargetRatio;
      if (!met) missed = true;
      std::printf("  %-22s median ratio %.2f (rounds with a ceiling: %s): %s\n",
                  name.c_str(), median, all.c_str(), met ? "MET" : "MISSED");
      absl::StrAppend(&json, first_median ? "" : ",", txflag::JsonQuote(name),
                      ":", Fmt("%.3f", median));
      first_median = false;
    }
    absl::StrAppend(&json, "}");
    absl::StrAppend(&json,
                    ",\"feeder_bound\":", feeder_bound ? "true" : "false", "}");
    std::fflush(stdout);
  }

  if (flags.phase != "throughput") {
    std::printf(
        "\nPhase 2: latency at %s payments/s offered for %d s, %d "
        "partitions per topic (--latency-partitions), "
        "allowed_lateness_seconds=%lld, commit_interval_ms=%lld\n",
        txflag::WithThousands(flags.rate).c_str(), flags.seconds,
        LatencyPartitions(flags), static_cast<long long>(flags.lateness),
        static_cast<long long>(g_commit_ms));
    std::fflush(stdout);
    std::vector<LatencyRow> rows;
    std::printf("  running a bare consumer on the same feed (the floor)...\n");
    std::fflush(stdout);
    rows.push_back(RunLatency(cluster->get(), &*pack,
                              kafka::StreamMode::kInProcess, /*bare=*/true,
                              flags, dir));
    for (kafka::StreamMode mode : Modes(flags)) {
      std::printf("  running the engine, %s mode...\n", ModeName(mode));
      std::fflush(stdout);
      rows.push_back(
          RunLatency(cluster->get(), &*pack, mode, /*bare=*/false, flags, dir));
    }
    std::printf("\n  %-12s %9s %10s %8s %6s %6s %6s %6s %10s  %s\n", "mode",
                "offered/s", "samples", "per s", "p50", "p90", "p99", "max",
                "p99/floor", "p99<50ms");
    absl::StrAppend(&json,
                    ",\"latency\":{\"partitions\":", LatencyPartitions(flags),
                    ",\"rate\":", flags.rate, ",\"seconds\":", flags.seconds,
                    ",\"allowed_lateness_seconds\":", flags.lateness,
                    ",\"warmup_ms\":", kWarmupMs, ",\"rows\":[");
    for (size_t i = 0; i < rows.size(); ++i) {
      const LatencyRow& r = rows[i];
      const bool bare = i == 0;
      const double offered_rate =
          r.offered_seconds > 0 ? r.offered / r.offered_seconds : 0;
      const bool all_processed = r.records == r.expected_records;
      // Kept up: nothing lost, the feeder never held back, and the backlog
      // at the end of the feed was gone within a second.
      const bool kept_up = all_processed && r.throttled_seconds < 0.05 &&
                           r.drain_ms >= 0 && r.drain_ms < 1000;
      const bool ok = r.status.ok() && r.samples > 0 && r.p99 < kTargetP99Ms;
      if (!ok && !bare) missed = true;
      if (!r.status.ok()) failed = true;
      // The engine's p99 over the bare consumer's (the transport's floor).
      const double over_floor = rows[0].p99 > 0 && r.p99 >= 0
                                    ? static_cast<double>(r.p99) / rows[0].p99
                                    : -1;
      std::printf("  %-12s %9.0f %10s %8.0f %6lld %6lld %6lld %6lld %10s  %s\n",
                  r.mode.c_str(), offered_rate,
                  txflag::WithThousands(r.samples).c_str(), r.revisions_per_s,
                  static_cast<long long>(r.p50), static_cast<long long>(r.p90),
                  static_cast<long long>(r.p99), static_cast<long long>(r.max),
                  bare || over_floor < 0 ? "" : Fmt("%.1f", over_floor).c_str(),
                  !r.status.ok() ? "ERROR"
                  : bare         ? ""
                  : ok           ? "yes"
                                 : "NO");
      if (!r.status.ok()) {
        std::printf("    error: %s\n", r.status.ToString().c_str());
      }
      if (bare) {
        std::printf(
            "    payment CreateTime -> received by a bare consumer, every live "
            "payment after the warm-up; %s payments read of %s; max lag %s\n",
            txflag::WithThousands(r.input_messages).c_str(),
            txflag::WithThousands(r.history + r.offered).c_str(),
            txflag::WithThousands(r.max_lag).c_str());
      }
      if (!bare)
        std::printf(
            "    %s live + %s history payments (%lld victims); engine consumed "
            "%s, processed %s of %s records (%s); max lag %s payments; last "
            "record processed %.0f ms after the last payment was sent%s\n",
            txflag::WithThousands(r.offered).c_str(),
            txflag::WithThousands(r.history).c_str(),
            static_cast<long long>(r.victims),
            txflag::WithThousands(r.input_messages).c_str(),
            txflag::WithThousands(r.records).c_str(),
            txflag::WithThousands(r.expected_records).c_str(),
            all_processed ? "all" : "NOT all: loss",
            txflag::WithThousands(r.max_lag).c_str(), r.drain_ms,
            r.throttled_seconds > 0.05
                ? Fmt("; feeder HELD BACK %.1f s so the mock would not drop "
                      "unread payments",
                      r.throttled_seconds)
                      .c_str()
                : "");
      if (!bare)
        std::printf(
            "    kept up with the offered rate: %s; %s revisions produced, %s "
            "read; %s dead letters; %lld commits took %.2f s in all (slowest "
            "<= %.0f ms); engine thread CPU %.1f s (whole run); the engine's "
            "own "
            "txflag_alert_latency_seconds over the same interval: p50 <= %.0f "
            "ms, p99 <= %.0f ms%s\n",
            kept_up ? "yes" : "NO",
            txflag::WithThousands(r.engine_revisions).c_str(),
            txflag::WithThousands(r.alerts_read).c_str(),
            txflag::WithThousands(r.dead_letters).c_str(),
            static_cast<long long>(r.commits), r.commit_seconds,
            r.commit_max_ms, r.engine_cpu, r.engine_p50, r.engine_p99,
            r.skipped_omitted > 0
                ? Fmt("; %lld revisions past the evidence cap skipped",
                      static_cast<long long>(r.skipped_omitted))
                      .c_str()
                : "");
      absl::StrAppend(
          &json, i ? "," : "", "{\"mode\":", txflag::JsonQuote(r.mode),
          ",\"offered\":", r.offered,
          ",\"offered_rate\":", Fmt("%.0f", offered_rate),
          ",\"history\":", r.history, ",\"victims\":", r.victims,
          ",\"samples\":", r.samples,
          ",\"revisions_per_s\":", Fmt("%.0f", r.revisions_per_s),
          ",\"p50_ms\":", r.p50, ",\"p90_ms\":", r.p90, ",\"p99_ms\":", r.p99,
          ",\"max_ms\":", r.max, ",\"p99_over_floor\":",
          bare || over_floor < 0 ? "null" : Fmt("%.2f", over_floor),
          ",\"input_messages\":", r.input_messages, ",\"records\":", r.records,
          ",\"expected_records\":", r.expected_records,
          ",\"all_processed\":", all_processed ? "true" : "false",
          ",\"kept_up\":", kept_up ? "true" : "false",
          ",\"max_lag\":", r.max_lag, ",\"drain_ms\":", Fmt("%.0f", r.drain_ms),
          ",\"throttled_s\":", Fmt("%.2f", r.throttled_seconds),
          ",\"dead_letters\":", r.dead_letters, ",\"commits\":", r.commits,
          ",\"commit_s\":", Fmt("%.2f", r.commit_seconds),
          ",\"engine_cpu_s\":", Fmt("%.2f", r.engine_cpu),
          ",\"commit_max_ms\":", Fmt("%.0f", r.commit_max_ms),
          ",\"engine_revisions\":", r.engine_revisions,
          ",\"alerts_read\":", r.alerts_read,
          ",\"engine_hist_p50_ms\":", Fmt("%.0f", r.engine_p50),
          ",\"engine_hist_p99_ms\":", Fmt("%.0f", r.engine_p99),
          ",\"meets_target\":",
          bare ? "null"
          : ok ? "true"
               : "false",
          ",\"status\":", JsonStatus(r.status), "}");
    }
    absl::StrAppend(&json, "]}");
    std::printf(
        "  (latency: alert message CreateTime - CreateTime of the payment "
        "that raised the revision, its newest evidence; revisions raised by "
        "payments of the first %lld s of the live feed are left out; the "
        "engine ran with allowed lateness %lld s: with lateness L it holds a "
        "payment until one L s newer arrives, so L adds to every latency; "
        "the feeder's producer lingers 5 ms, as PaymentProducer's)\n",
        static_cast<long long>(kWarmupMs / 1000),
        static_cast<long long>(flags.lateness));
  }
  absl::StrAppend(&json, ",\"targets_met\":", missed ? "false" : "true", "}");
  std::printf("\n%s\n", json.c_str());
  std::fflush(stdout);
  cluster->reset();
  if (!flags.keep_dir) {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  return failed ? 2 : missed ? 1 : 0;
}
