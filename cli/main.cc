// txflag: follow-the-money engine for human-trafficking payment flows.
//
//   txflag backtest --input FILE --out DIR [...]   back-test a payments file
//   txflag gen --seed N --accounts N --days N --out DIR   synthetic data
//   txflag demo [--out DIR] [--backtest]           gen + stream via Kafka
//   txflag broker [--partitions N] [--topics a,b]   Kafka test cluster
//   txflag produce --brokers B --topic T --input FILE   file -> Kafka
//   txflag run --brokers B --state-dir DIR [...]     the streaming engine
//
// Exit codes: 0 ok; 1 failure (I/O, corrupt state); 2 bad arguments or rule
// pack; 3 bad input (header, or a bad record under --strict); 4 state dir
// unusable (in use, other rule pack, other input); 130 interrupted
// (committed: run the same command again to resume).
#include <algorithm>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "cli/backtest.h"
#include "cli/broker_command.h"
#include "cli/produce_command.h"
#include "cli/run_command.h"
#include "cli/stream_demo.h"
#include "connectors/generator/generator.h"
#include "google/protobuf/util/json_util.h"
#include "proto/alert.pb.h"

namespace {

using txflag::cli::BacktestOptions;
using txflag::cli::ExitCodeFor;

std::atomic<bool> g_stop{false};

void OnSignal(int) { g_stop.store(true); }

void InstallSignalHandlers() {
  struct sigaction sa = {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "txflag: error: %s\n",
               std::string(status.message()).c_str());
  return ExitCodeFor(status);
}

void AddBacktestOptions(CLI::App* cmd, BacktestOptions* o) {
  cmd->add_option("--input", o->input,
                  "Payments file: canonical CSV, JSON Lines or AMLworld CSV")
      ->required();
  cmd->add_option("--format", o->format,
                  "auto (from the header), csv, jsonl, amlworld")
      ->check(CLI::IsMember({"auto", "csv", "jsonl", "amlworld"}))
      ->capture_default_str();
  cmd->add_option(
      "--rules", o->rules,
      "Rule pack file (protobuf text format); default: the built-in "
      "rules/default.pack");
  cmd->add_option("--labels", o->labels,
                  "Labels CSV 'account,typology' of positive accounts, for "
                  "precision/recall (AMLworld input carries its own labels)");
  cmd->add_option("--out", o->out_dir,
                  "Output directory: alerts.jsonl, rejects.csv, summary.json")
      ->required();
  cmd->add_option("--state-dir", o->state_dir,
                  "RocksDB state directory (default: OUT/state); a run resumes "
                  "from the state it finds there");
  cmd->add_flag("--fresh", o->fresh, "Delete the state dir first (no resume)");
  cmd->add_flag(
      "--strict", o->strict,
      "Stop with exit code 3 at the first malformed or invalid record "
      "instead of writing it to rejects.csv");
  cmd->add_option(
         "--allowed-lateness", o->allowed_lateness_seconds,
         "Seconds a payment may lag the newest timestamp seen and still "
         "be processed in order; later ones are rejected as late")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--commit-interval-ms", o->commit_interval_ms,
                  "Commit state and input position at least this often")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--commit-every", o->commit_every_records,
                  "... and at least every this many records")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_flag("--sync", o->sync,
                "fsync every commit (survives power loss, not only a crash)");
  cmd->add_flag("!--no-progress", o->progress, "No progress lines on stderr");
}

int RunGen(const txflag::generator::GeneratorOptions& options,
           const std::string& out, bool quiet) {
  auto start = std::chrono::steady_clock::now();
  auto last = start;
  auto stats = txflag::generator::GeneratePopulation(
      options, out, [&](int day, int days, int64_t payments) {
        auto now = std::chrono::steady_clock::now();
        if (quiet || now - last < std::chrono::seconds(1)) return;
        last = now;
        double elapsed = std::chrono::duration<double>(now - start).count();
        std::fprintf(stderr,
                     "progress: day %d/%d, %lld payments, %.0f payments/s, "
                     "ETA %.0f s\n",
                     day, days, static_cast<long long>(payments),
                     payments / elapsed,
                     day > 0 ? elapsed * (days - day) / day : 0.0);
      });
  if (!stats.ok()) {
    absl::Status s = stats.status();
    std::fprintf(stderr, "txflag gen: error: %s\n",
                 std::string(s.message()).c_str());
    return s.code() == absl::StatusCode::kInvalidArgument
               ? txflag::cli::kExitUsage
               : txflag::cli::kExitFailure;
  }
  double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  std::printf(
      "txflag gen: %lld payments (%.1f MiB) for %lld customers, %lld rings "
      "(SE %lld, FL %lld, DB %lld), %lld labelled accounts, %lld trap "
      "accounts in %.1f s -> %s/{payments,labels,traps,rings}.csv\n",
      static_cast<long long>(stats->payments),
      stats->payments_bytes / 1048576.0,
      static_cast<long long>(stats->customers),
      static_cast<long long>(stats->rings),
      static_cast<long long>(stats->rings_se),
      static_cast<long long>(stats->rings_fl),
      static_cast<long long>(stats->rings_db),
      static_cast<long long>(stats->labelled_accounts),
      static_cast<long long>(stats->trap_accounts), elapsed, out.c_str());
  return txflag::cli::kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "txflag: flags payment flows linked to human trafficking for AML teams.\n"
      "Exit codes: 0 ok, 1 failure, 2 bad arguments or rule pack, 3 bad input "
      "(--strict), 4 unusable state dir, 130 interrupted (resumable)."};
  app.require_subcommand(1);
  app.set_version_flag("--version", "txflag 0.1.0");

  BacktestOptions backtest;
  CLI::App* backtest_cmd = app.add_subcommand(
      "backtest",
      "Run the rules over a payments file; write alerts.jsonl, rejects.csv and "
      "summary.json; report precision/recall with labels");
  AddBacktestOptions(backtest_cmd, &backtest);

  txflag::generator::GeneratorOptions gen;
  std::string gen_out;
  CLI::App* gen_cmd = app.add_subcommand(
      "gen",
      "Generate a synthetic Danish-bank population with labelled trafficking "
      "rings and trap customers (payments.csv, labels.csv, traps.csv, "
      "rings.csv)");
  gen_cmd->add_option("--seed", gen.seed, "Random seed (same seed, same files)")
      ->capture_default_str();
  gen_cmd->add_option("--accounts", gen.accounts, "Bank customers")
      ->capture_default_str();
  gen_cmd->add_option("--days", gen.days, "Days simulated")
      ->capture_default_str();
  gen_cmd->add_option("--start-date", gen.start_date, "First day, YYYY-MM-DD")
      ->capture_default_str();
  gen_cmd
      ->add_option("--rings", gen.rings,
                   "Trafficking rings (-1: accounts/1500, at least 3)")
      ->capture_default_str();
  gen_cmd->add_option("--out", gen_out, "Output directory")->required();

  std::string demo_out = "txflag-demo";
  txflag::generator::GeneratorOptions demo_gen;
  demo_gen.accounts = 10000;
  demo_gen.days = 60;
  bool demo_backtest = false;
  CLI::App* demo_cmd = app.add_subcommand(
      "demo",
      "Generate a sample population and stream it through Kafka (a mock "
      "cluster started in this process) into the engine, printing alerts as "
      "they come; no broker or data needed. --backtest: back-test the file "
      "instead");
  demo_cmd->add_option("--out", demo_out, "Working directory")
      ->capture_default_str();
  demo_cmd->add_flag("--backtest", demo_backtest,
                     "Back-test the generated file instead of streaming it");
  demo_cmd->add_option("--accounts", demo_gen.accounts, "Bank customers")
      ->capture_default_str();
  demo_cmd->add_option("--days", demo_gen.days, "Days simulated")
      ->capture_default_str();
  demo_cmd->add_option("--seed", demo_gen.seed, "Random seed")
      ->capture_default_str();

  txflag::cli::BrokerOptions broker;
  std::string broker_topics = "payments,alerts";
  CLI::App* broker_cmd = app.add_subcommand(
      "broker",
      "Start a 3-broker Kafka test cluster (librdkafka's mock) on 127.0.0.1, "
      "create the topics, print the bootstrap servers and run until Ctrl-C. "
      "For tests and demos: about 5 MiB kept per partition, no transactions");
  broker_cmd
      ->add_option("--partitions", broker.partitions, "Partitions per topic")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  broker_cmd
      ->add_option("--topics", broker_topics,
                   "Topics to create, comma-separated (replication factor 3)")
      ->capture_default_str();
  broker_cmd->add_option(
      "--bootstrap-file", broker.bootstrap_file,
      "Also write the bootstrap servers to this file (atomically; removed on "
      "exit)");

  txflag::cli::ProduceOptions produce;
  CLI::App* produce_cmd = app.add_subcommand(
      "produce",
      "Publish a payments file to Kafka as txflag.v1.Payment messages keyed "
      "by debtor account (creditor account for a cash deposit); bad rows go "
      "to the rejects CSV");
  produce_cmd->add_option("--brokers", produce.brokers,
                          "Bootstrap servers HOST:PORT[,HOST:PORT...] (or -X "
                          "bootstrap.servers=...)");
  produce_cmd->add_option("--topic", produce.topic, "Topic to publish to")
      ->required();
  produce_cmd
      ->add_option("--input", produce.input,
                   "Payments file: canonical CSV, JSON Lines or AMLworld CSV")
      ->required();
  produce_cmd
      ->add_option("--format", produce.format,
                   "auto (from the header), csv, jsonl, amlworld")
      ->check(CLI::IsMember({"auto", "csv", "jsonl", "amlworld"}))
      ->capture_default_str();
  produce_cmd->add_flag("--json", produce.json,
                        "Message values in protobuf's JSON mapping instead of "
                        "protobuf binary");
  produce_cmd->add_option(
      "-X", produce.properties,
      "librdkafka property key=value, repeatable (e.g. -X linger.ms=20 -X "
      "security.protocol=SASL_SSL); enable.idempotence and acks=all are fixed");
  produce_cmd
      ->add_option("--rejects", produce.rejects,
                   "Rejects CSV for rows that are not valid payments "
                   "(overwritten)")
      ->capture_default_str();
  produce_cmd->add_flag(
      "--strict", produce.strict,
      "Stop with exit code 3 at the first malformed or invalid row instead of "
      "writing it to the rejects CSV");
  produce_cmd
      ->add_option("--rate", produce.rate,
                   "Send at most this many payments per second (0: as fast "
                   "as possible)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  produce_cmd->add_flag("!--no-progress", produce.progress,
                        "No progress lines on stderr");

  txflag::cli::RunOptions run;
  CLI::App* run_cmd = app.add_subcommand(
      "run",
      "The streaming engine: consume payments from Kafka, keep state in "
      "RocksDB, produce alert revisions keyed by alert_id. Runs until "
      "SIGTERM/SIGINT (clean stop). See docs/streaming.md");
  std::string run_config;
  run_cmd->add_option(
      "--config", run_config,
      "Config file: one 'key = value' per line, keys as the long options "
      "(brokers = h:9092), 'X = key=value' for librdkafka properties "
      "(repeatable), '#' comments; flags on the command line win");
  run_cmd->add_option("--brokers", run.brokers,
                      "Bootstrap servers HOST:PORT[,HOST:PORT...] (or -X "
                      "bootstrap.servers=...)");
  run_cmd->add_option("--input-topic", run.input_topic, "Payments topic")
      ->capture_default_str();
  run_cmd
      ->add_option("--alerts-topic", run.alerts_topic,
                   "Alerts topic (make it compacted: keyed by alert_id)")
      ->capture_default_str();
  run_cmd
      ->add_option("--dlq-topic", run.dead_letter_topic,
                   "Dead-letter topic for records the engine cannot use")
      ->capture_default_str();
  run_cmd->add_option("--group", run.group, "Consumer group")
      ->capture_default_str();
  run_cmd->add_option("--repartition-topic", run.repartition_topic,
                      "Internal repartition topic (default GROUP.repartition)");
  run_cmd->add_option("--changelog-topic", run.changelog_topic,
                      "Internal state changelog topic, compacted (default "
                      "GROUP.changelog)");
  run_cmd
      ->add_option("--partitions", run.internal_partitions,
                   "Partitions of the repartition and changelog topics when "
                   "txflag creates them (0: as many as the input topic)")
      ->check(CLI::Range(0, 100000))
      ->capture_default_str();
  run_cmd
      ->add_option("--mode", run.mode,
                   "repartition (scale-out: several processes in one group) "
                   "or in-process (one process, no internal topics)")
      ->check(CLI::IsMember({"repartition", "in-process"}))
      ->capture_default_str();
  run_cmd
      ->add_option("--input-format", run.input_format,
                   "Payment message values: protobuf (binary) or json")
      ->check(CLI::IsMember({"protobuf", "json"}))
      ->capture_default_str();
  run_cmd
      ->add_option("--alerts-format", run.alerts_format,
                   "Alert message values: protobuf (binary) or json")
      ->check(CLI::IsMember({"protobuf", "json"}))
      ->capture_default_str();
  run_cmd->add_option("--state-dir", run.state_dir,
                      "RocksDB state directory (required, here or in "
                      "--config)");
  run_cmd->add_flag("--fresh", run.fresh,
                    "Delete the local state dir first (tasks then restore "
                    "from the changelog topic)");
  run_cmd->add_option("--rules", run.rules,
                      "Rule pack file; default: the built-in default pack");
  run_cmd
      ->add_option("--allowed-lateness", run.allowed_lateness_seconds,
                   "Seconds a payment may arrive behind the newest timestamp "
                   "seen and still be processed in order")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  run_cmd
      ->add_option("--commit-interval-ms", run.commit_interval_ms,
                   "Commit state, alerts and offsets this often")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  run_cmd
      ->add_option("--max-input-idle-ms", run.max_input_idle_ms,
                   "Longest wait for a silent input partition before the "
                   "others' payments go on (event-time alignment)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  run_cmd
      ->add_option("--max-repartition-lag", run.max_repartition_lag,
                   "Pause reading input while one of this process's tasks "
                   "lags more legs than this behind its repartition partition")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  run_cmd->add_option(
      "--exit-when-idle-ms", run.exit_when_idle_ms,
      "Treat the input as finished once caught up and idle this long: drain, "
      "commit and exit 0 (catch-up jobs, tests); default: run until stopped");
  run_cmd
      ->add_option("--metrics-port", run.metrics_port,
                   "Serve /metrics (Prometheus) and /healthz on this port; "
                   "-1: off, 0: any free port")
      ->check(CLI::Range(-1, 65535))
      ->capture_default_str();
  run_cmd
      ->add_option("--metrics-address", run.metrics_address,
                   "Address for --metrics-port (0.0.0.0: all interfaces)")
      ->capture_default_str();
  run_cmd
      ->add_option("--log-level", run.log_level,
                   "debug, info, warning or error (logs are one logfmt line "
                   "per event on stderr)")
      ->check(CLI::IsMember({"debug", "info", "warning", "error"}))
      ->capture_default_str();
  run_cmd->add_option(
      "-X", run.properties,
      "librdkafka property key=value for every client, repeatable (SASL, "
      "TLS, tuning: passed through unchanged)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : txflag::cli::kExitUsage;
  }
  InstallSignalHandlers();

  if (*gen_cmd) return RunGen(gen, gen_out, false);

  if (*broker_cmd) {
    broker.topics = absl::StrSplit(broker_topics, ',');
    broker.stop = &g_stop;
    absl::Status s = txflag::cli::RunBroker(broker);
    if (!s.ok()) return Fail(s);
    return 0;
  }

  if (*produce_cmd) {
    if (produce.brokers.empty()) {
      bool in_properties = false;
      for (const std::string& kv : produce.properties) {
        in_properties |= kv.rfind("bootstrap.servers=", 0) == 0;
      }
      if (!in_properties) {
        std::fprintf(stderr,
                     "txflag produce: error: --brokers HOST:PORT is required "
                     "(or -X bootstrap.servers=...)\n");
        return txflag::cli::kExitUsage;
      }
    }
    produce.stop = &g_stop;
    auto result = txflag::cli::RunProduce(produce);
    if (!result.ok()) return Fail(result.status());
    return 0;
  }

  if (*run_cmd) {
    if (!run_config.empty()) {
      absl::Status s = txflag::cli::ApplyRunConfigFile(
          run_config,
          [&](std::string_view key) {
            // An unknown key is not an option: get_option() would throw.
            const CLI::Option* option =
                run_cmd->get_option_no_throw("--" + std::string(key));
            return option != nullptr && option->count() > 0;
          },
          &run);
      if (!s.ok()) return Fail(s);
    }
    run.stop = &g_stop;
    auto result = txflag::cli::RunStreamCommand(run);
    if (!result.ok()) return Fail(result.status());
    return 0;
  }

  if (*demo_cmd) {
    namespace fs = std::filesystem;
    const std::string data = (fs::path(demo_out) / "data").string();
    std::printf("txflag demo: generating %lld customers over %d days into %s\n",
                static_cast<long long>(demo_gen.accounts), demo_gen.days,
                data.c_str());
    std::fflush(stdout);
    if (int rc = RunGen(demo_gen, data, false); rc != 0) return rc;
    if (!demo_backtest) {
      txflag::cli::StreamDemoOptions o;
      o.payments = (fs::path(data) / "payments.csv").string();
      o.labels = (fs::path(data) / "labels.csv").string();
      o.state_dir = (fs::path(demo_out) / "state").string();
      o.stop = &g_stop;
      absl::Status s = txflag::cli::RunStreamDemo(o);
      if (!s.ok()) return Fail(s);
      return 0;
    }
    BacktestOptions o;
    o.input = (fs::path(data) / "payments.csv").string();
    o.labels = (fs::path(data) / "labels.csv").string();
    o.out_dir = (fs::path(demo_out) / "backtest").string();
    o.fresh = true;
    o.stop = &g_stop;
    std::printf("txflag demo: back-testing with the default rule pack\n\n");
    std::fflush(stdout);
    auto result = txflag::cli::RunBacktest(o);
    if (!result.ok()) return Fail(result.status());
    // The strongest alerts, as an analyst would read them.
    std::ifstream alerts(fs::path(o.out_dir) / "alerts.jsonl");
    std::vector<txflag::v1::Alert> all;
    std::string line;
    while (std::getline(alerts, line)) {
      txflag::v1::Alert alert;
      if (google::protobuf::util::JsonStringToMessage(line, &alert).ok()) {
        all.push_back(std::move(alert));
      }
    }
    const std::string title =
        absl::StrCat("\nStrongest alerts (all ", all.size(), " in ", o.out_dir,
                     "/alerts.jsonl):");
    txflag::cli::PrintStrongestAlerts(std::move(all), title);
    return 0;
  }

  if (*backtest_cmd) {
    backtest.stop = &g_stop;
    auto result = txflag::cli::RunBacktest(backtest);
    if (!result.ok()) return Fail(result.status());
    return 0;
  }
  return txflag::cli::kExitUsage;
}
