// Micro-benchmarks of the per-payment path: CSV reading, window updates, each
// rule of the default pack, the whole processor on in-memory state, and the
// repartition leg's encoding.
//
//   build/bench/micro_bench --benchmark_min_time=0.5
#include <librdkafka/rdkafka.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>

#include "absl/strings/str_cat.h"
#include "base/hash.h"
#include "base/time_util.h"
#include "benchmark/benchmark.h"
#include "connectors/file_source.h"
#include "connectors/generator/generator.h"
#include "connectors/kafka/internal/payment_decoding.h"
#include "engine/memory.h"
#include "engine/processor.h"
#include "proto/leg_view.h"
#include "rules/rule_pack.h"
#include "rules/text_match.h"
#include "rules/window.h"

namespace txflag {
namespace {

constexpr char kHeader[] =
    "id,timestamp,debtor_account,debtor_name,debtor_country,creditor_account,"
    "creditor_name,creditor_country,amount,currency,channel,mcc,reference\n";

// A canonical CSV of `rows` realistic rows (cards, transfers, MobilePay with
// quoted references), written once per size.
std::string CsvFile(int rows) {
  std::string path = (std::filesystem::temp_directory_path() /
                      ("txflag_bench_v2_" + std::to_string(rows) + ".csv"))
                         .string();
  if (std::filesystem::exists(path)) return path;
  std::ofstream out(path);
  out << kHeader;
  std::mt19937_64 rng(1);
  int64_t t = *ParseUtcTimestamp("2025-01-01T00:00:00Z");
  for (int i = 0; i < rows; ++i) {
    t += rng() % 3;
    int kind = static_cast<int>(rng() % 3);
    char line[512];
    std::snprintf(
        line, sizeof(line),
        "P%012d,%s,DK50004004%08llu,Jens Hansen,DK,DK50004004%08llu,%s,DK,"
        "%llu.%02llu,DKK,%s,%s,%s\n",
        i, FormatUtcTimestamp(t).c_str(),
        static_cast<unsigned long long>(rng() % 100000),
        static_cast<unsigned long long>(rng() % 100000),
        kind == 0 ? "NETTO FREDERIKSBERG" : "Mette Jensen",
        static_cast<unsigned long long>(rng() % 3000),
        static_cast<unsigned long long>(rng() % 100),
        kind == 0 ? "CARD" : (kind == 1 ? "MOBILE" : "TRANSFER"),
        kind == 0 ? "5411" : "",
        kind == 1 ? "\"pizza, tak\"" : (i % 20 == 0 ? "Husleje" : "Faktura"));
    out << line;
  }
  return path;
}

void BM_CsvRead(benchmark::State& state) {
  const std::string path = CsvFile(static_cast<int>(state.range(0)));
  int64_t rows = 0;
  for (auto _ : state) {
    auto source =
        connectors::OpenFileSource(path, connectors::FileFormat::kAuto);
    if (!source.ok()) {
      state.SkipWithError(std::string(source.status().message()).c_str());
      return;
    }
    engine::SourceRecord record;
    while ((*source)->Next(&record).value_or(false)) {
      benchmark::DoNotOptimize(record.payment.amount_minor());
      ++rows;
    }
  }
  state.SetItemsProcessed(rows);
  state.SetLabel("rows of canonical CSV");
}
BENCHMARK(BM_CsvRead)->Arg(200000)->Unit(benchmark::kMillisecond);

rules::Leg MakeLeg(int64_t ts, uint64_t counterparty) {
  rules::Leg leg;
  leg.ts = ts;
  leg.amount = 50000;
  leg.counterparty = counterparty;
  leg.local_day = static_cast<int32_t>(ts / 86400);
  leg.local_hour = static_cast<uint8_t>(ts / 3600 % 24);
  leg.payment_id = "P000000000001";
  return leg;
}

// Steady state of a busy account: add one leg, evict the oldest.
void BM_WindowAddEvict(benchmark::State& state) {
  rules::Window window;
  const int64_t span = state.range(0);  // legs kept in the window
  int64_t ts = 0;
  for (; ts < span; ++ts) window.Add(MakeLeg(ts * 60, ts % 37));
  for (auto _ : state) {
    window.EvictOlderThan((ts - span) * 60 + 1);
    window.Add(MakeLeg(ts * 60, ts % 37));
    ++ts;
    benchmark::DoNotOptimize(window.distinct_counterparties());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_WindowAddEvict)->Arg(10)->Arg(100)->Arg(1000);

// Each rule of the default pack evaluated on a window of `range(0)` legs
// that the rule accepted (the cost paid on every accepted leg).
void BM_RuleEvaluate(benchmark::State& state) {
  auto pack = rules::CompileRulePack(rules::DefaultRulePackText(), "default");
  if (!pack.ok()) {
    state.SkipWithError(std::string(pack.status().message()).c_str());
    return;
  }
  const rules::Rule& rule = *pack->rules[static_cast<size_t>(state.range(1))];
  rules::Window window;
  for (int i = 0; i < state.range(0); ++i) {
    window.Add(MakeLeg(1700000000 + i * 600, i % 23));
  }
  for (auto _ : state) {
    auto hit = rule.Evaluate(window.legs().back(), window);
    benchmark::DoNotOptimize(hit);
  }
  state.SetLabel(rule.id());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RuleEvaluate)->ArgsProduct({{30}, {0, 1, 2, 3, 4, 5}});

void BM_WatchlistMatch(benchmark::State& state) {
  rules::NameMatcher matcher({"eroguide", "eroguide.dk", "annoncelight.dk",
                              "escortguide.dk", "eb.dk",
                              "Ekstra Bladet annoncer"});
  const std::string names[] = {"NETTO FREDERIKSBERG", "EROGUIDE.DK",
                               "Mette Jensen", "Ekstra Bladet annoncer A/S"};
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(matcher.Matches(names[i++ & 3]));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_WatchlistMatch);

// The whole processor (both legs, all rules, alerts) on in-memory state, fed
// from the CSV reader: the engine's per-payment cost without RocksDB.
void BM_ProcessorInMemory(benchmark::State& state) {
  const std::string path = CsvFile(200000);
  auto pack = rules::CompileRulePack(rules::DefaultRulePackText(), "default");
  int64_t rows = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto store = std::make_unique<engine::MemoryStateStore>();
    engine::MemoryRejectSink rejects;
    auto processor = std::move(
        *engine::Processor::Open(&*pack, {}, store.get(), &rejects, nullptr));
    auto source = std::move(
        *connectors::OpenFileSource(path, connectors::FileFormat::kAuto));
    state.ResumeTiming();
    engine::SourceRecord record;
    while (source->Next(&record).value_or(false)) {
      if (!processor->Process(&record).ok()) {
        state.SkipWithError("process failed");
        return;
      }
      ++rows;
    }
    if (!processor->Drain().ok()) state.SkipWithError("drain failed");
    state.PauseTiming();  // tearing the state down is not the engine's work
    processor.reset();
    store.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(rows);
}
BENCHMARK(BM_ProcessorInMemory)->Unit(benchmark::kMillisecond);

// The streaming engine's per-message work without Kafka or RocksDB: each
// payment as protobuf bytes (a Kafka message's value), decoded, given one
// of 16 streams (partitions) and a position, and processed, as `txflag run`
// does in-process. The part of stream_bench's engine thread
// that this code owns, measured without the feeder and broker threads that
// share the cores there.
void BM_StreamMessages(benchmark::State& state) {
  // stream_bench's data (its generator, 10,000 customers) over 20 days.
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / "txflag_bench_gen_20d";
  const std::string path = (dir / "payments.csv").string();
  if (!std::filesystem::exists(path)) {
    generator::GeneratorOptions g;
    g.seed = 42;
    g.accounts = 10000;
    g.days = 20;
    if (!generator::GeneratePopulation(g, dir.string()).ok()) {
      state.SkipWithError("generator failed");
      return;
    }
  }
  auto pack = rules::CompileRulePack(rules::DefaultRulePackText(), "default");
  constexpr int kStreams = 16;
  std::vector<std::string> values;
  std::vector<int32_t> streams;
  {
    auto source = std::move(
        *connectors::OpenFileSource(path, connectors::FileFormat::kAuto));
    engine::SourceRecord record;
    while (source->Next(&record).value_or(false)) {
      values.push_back(record.payment.SerializeAsString());
      streams.push_back(static_cast<int32_t>(
          Fnv1a64(record.payment.debtor_account()) % kStreams));
    }
  }
  int64_t rows = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto store = std::make_unique<engine::MemoryStateStore>();
    engine::MemoryRejectSink rejects;
    engine::Processor::Options options;
    options.streams = kStreams;
    options.persist_buffer = false;
    options.locate = [](int32_t stream, int64_t position) {
      return absl::StrCat("payments/", stream, "@", position);
    };
    auto processor = std::move(*engine::Processor::Open(
        &*pack, options, store.get(), &rejects, nullptr));
    state.ResumeTiming();
    engine::SourceRecord record;
    for (size_t i = 0; i < values.size(); ++i) {
      connectors::kafka::internal::DecodePaymentMessageAsView(
          values[i], connectors::kafka::PaymentEncoding::kProtobuf, &record);
      record.stream = streams[i];
      record.position = static_cast<int64_t>(i);
      if (!processor->Process(&record).ok()) {
        state.SkipWithError("process failed");
        return;
      }
      ++rows;
    }
    if (!processor->Drain().ok()) state.SkipWithError("drain failed");
    state.PauseTiming();
    processor.reset();
    store.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(rows);
}
BENCHMARK(BM_StreamMessages)->Unit(benchmark::kMillisecond);

// A repartition leg's side and source, written and read back per leg:
//   0: as Kafka headers (what txflag did up to 7b28626): the header list
//      librdkafka allocates per produced message, and the list it allocates
//      when a consumer asks for a message's headers, here built, searched
//      and freed directly (librdkafka's own parse of the wire form, and the
//      Kafka messages themselves, are not included);
//   1: as a RepartitionLeg value, written and read by hand (proto/leg_view.h);
//   2: the same message through protobuf's generated code.
void BM_RepartitionLeg(benchmark::State& state) {
  const std::string payment(130, 'p');  // a typical Payment's size
  const std::string source = "payments/11@123456789";
  std::string value;
  txflag::v1::RepartitionLeg message, scratch;
  int64_t legs = 0;
  for (auto _ : state) {
    for (int i = 0; i < 1000; ++i) {
      const bool credit = (i & 1) != 0;
      switch (state.range(0)) {
        case 0: {
          for (int side = 0; side < 2; ++side) {  // produced, then consumed
            rd_kafka_headers_t* h = rd_kafka_headers_new(2);
            rd_kafka_header_add(h, "txflag.leg", -1, credit ? "C" : "D", 1);
            rd_kafka_header_add(h, "txflag.src", -1, source.data(),
                                static_cast<ssize_t>(source.size()));
            const void* v = nullptr;
            size_t n = 0;
            rd_kafka_header_get_last(h, "txflag.leg", &v, &n);
            benchmark::DoNotOptimize(v);
            rd_kafka_header_get_last(h, "txflag.src", &v, &n);
            benchmark::DoNotOptimize(v);
            rd_kafka_headers_destroy(h);
          }
          break;
        }
        case 1: {
          value.clear();
          txflag::v1::AppendLegWire({credit ? txflag::v1::LegSide::kCredit
                                            : txflag::v1::LegSide::kDebit,
                                     source, payment},
                                    &value);
          txflag::v1::LegView leg;
          if (!txflag::v1::ReadLeg(value, &leg, &scratch)) {
            state.SkipWithError("leg not read");
          }
          benchmark::DoNotOptimize(leg.payment.data());
          break;
        }
        default: {
          message.set_side(credit ? txflag::v1::RepartitionLeg::CREDIT
                                  : txflag::v1::RepartitionLeg::DEBIT);
          message.set_source(source);
          message.set_payment(payment);
          value.clear();
          message.SerializeToString(&value);
          if (!scratch.ParseFromString(value)) {
            state.SkipWithError("leg not parsed");
          }
          benchmark::DoNotOptimize(scratch.payment().data());
          break;
        }
      }
      ++legs;
    }
  }
  state.SetItemsProcessed(legs);
  state.SetLabel(state.range(0) == 0   ? "headers"
                 : state.range(0) == 1 ? "RepartitionLeg, by hand"
                                       : "RepartitionLeg, protobuf");
}
BENCHMARK(BM_RepartitionLeg)->Arg(0)->Arg(1)->Arg(2);

}  // namespace
}  // namespace txflag

BENCHMARK_MAIN();
