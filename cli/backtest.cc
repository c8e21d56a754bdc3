#include "cli/backtest.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "base/strings.h"
#include "base/time_util.h"
#include "cli/json_writer.h"
#include "connectors/alerts_jsonl.h"
#include "connectors/file_source.h"
#include "connectors/labels.h"
#include "connectors/rejects_csv.h"
#include "connectors/rocksdb_store.h"
#include "engine/driver.h"
#include "rules/rule_pack.h"

namespace txflag::cli {
namespace {

namespace fs = std::filesystem;

void PrintProgress(const engine::Progress& p) {
  if (p.elapsed_seconds < 2.0) return;  // short runs stay quiet
  std::string line = absl::StrFormat(
      "progress: %s records, %s records/s", WithThousands(p.records),
      WithThousands(static_cast<int64_t>(p.records_per_second)));
  if (p.fraction >= 0) {
    absl::StrAppendFormat(&line, ", %.1f%%", 100.0 * p.fraction);
  }
  if (p.eta_seconds >= 0)
    absl::StrAppendFormat(&line, ", ETA %.0f s", p.eta_seconds);
  if (p.final) line += " (done)";
  std::fprintf(stderr, "%s\n", line.c_str());
}

std::string FormatReport(const BacktestOptions& options,
                         const rules::CompiledPack& pack,
                         const std::string& format_name,
                         const BacktestResult& r) {
  const auto& s = r.stats;
  std::string out;
  absl::StrAppend(&out, "txflag backtest: ", options.input, " (", format_name,
                  ") with rule pack ", pack.stamp.name(), " ",
                  pack.stamp.version(), " (",
                  pack.stamp.content_hash().substr(0, 19), "...)\n");
  absl::StrAppendFormat(&out, "  records read    %14s\n",
                        WithThousands(s.records()));
  absl::StrAppendFormat(&out, "  payments        %14s\n",
                        WithThousands(s.payments()));
  absl::StrAppendFormat(&out, "  rejected        %14s   (%s)\n",
                        WithThousands(s.rejected()),
                        (fs::path(options.out_dir) / "rejects.csv").string());
  absl::StrAppendFormat(
      &out,
      "  late            %14s   (beyond %d s lateness, also in rejects.csv)\n",
      WithThousands(s.late()), options.allowed_lateness_seconds);
  if (s.repeated_legs() > 0) {
    absl::StrAppendFormat(
        &out,
        "  repeated legs   %14s   (payments delivered twice, counted once)\n",
        WithThousands(s.repeated_legs()));
  }
  if (s.payments() > 0) {
    absl::StrAppend(&out, "  event time       ",
                    FormatUtcTimestamp(s.min_event_ts()), " .. ",
                    FormatUtcTimestamp(s.max_event_ts()), "\n");
  }
  absl::StrAppendFormat(&out, "  alerts          %14s   on %s accounts (%s)\n",
                        WithThousands(r.report.overall.alerts),
                        WithThousands(r.report.overall.alerted_accounts),
                        (fs::path(options.out_dir) / "alerts.jsonl").string());
  absl::StrAppendFormat(
      &out, "  time            %14.1f s  (%s records/s in this run)\n",
      r.elapsed_seconds,
      WithThousands(
          r.elapsed_seconds > 0
              ? static_cast<int64_t>(r.records_this_run / r.elapsed_seconds)
              : 0));
  absl::StrAppend(&out, "\n");
  if (r.report.labelled) {
    absl::StrAppendFormat(&out, "  %-26s %8s %9s %6s %10s %7s\n", "rule",
                          "alerts", "accounts", "true+", "precision", "recall");
  } else {
    absl::StrAppendFormat(&out, "  %-26s %8s %9s\n", "rule", "alerts",
                          "accounts");
  }
  std::vector<engine::RuleMetrics> rows = r.report.rules;
  rows.push_back(r.report.overall);
  for (const auto& m : rows) {
    if (r.report.labelled) {
      absl::StrAppendFormat(&out, "  %-26s %8d %9d %6d %10.3f %7.3f\n", m.rule,
                            m.alerts, m.alerted_accounts, m.true_positives,
                            m.precision, m.recall);
    } else {
      absl::StrAppendFormat(&out, "  %-26s %8d %9d\n", m.rule, m.alerts,
                            m.alerted_accounts);
    }
  }
  if (r.report.labelled) {
    absl::StrAppendFormat(&out, "\n  %s labelled accounts; recall by typology:",
                          WithThousands(r.report.labelled_accounts));
    for (const auto& t : r.report.typologies) {
      absl::StrAppendFormat(&out, "  %s %.3f (%d/%d)", t.typology, t.recall,
                            t.alerted, t.labelled_accounts);
    }
    absl::StrAppend(&out, "\n");
  }
  return out;
}

std::string SummaryJson(const BacktestOptions& options,
                        const rules::CompiledPack& pack,
                        const std::string& format_name,
                        const std::string& state_dir, const BacktestResult& r) {
  const auto& s = r.stats;
  JsonWriter w;
  w.BeginObject();
  w.Key("input").String(options.input);
  w.Key("format").String(format_name);
  w.Key("rule_pack").BeginObject();
  w.Key("name").String(pack.stamp.name());
  w.Key("version").String(pack.stamp.version());
  w.Key("content_hash").String(pack.stamp.content_hash());
  w.EndObject();
  w.Key("state_dir").String(state_dir);
  w.Key("records").Int(s.records());
  w.Key("payments").Int(s.payments());
  w.Key("rejected").Int(s.rejected());
  w.Key("late").Int(s.late());
  w.Key("repeated_legs").Int(s.repeated_legs());
  w.Key("allowed_lateness_seconds").Int(options.allowed_lateness_seconds);
  if (s.payments() > 0) {
    w.Key("first_event").String(FormatUtcTimestamp(s.min_event_ts()));
    w.Key("last_event").String(FormatUtcTimestamp(s.max_event_ts()));
  }
  w.Key("alerts").Int(r.report.overall.alerts);
  w.Key("alert_revisions").Int(s.alert_revisions());
  w.Key("alerted_accounts").Int(r.report.overall.alerted_accounts);
  w.Key("elapsed_seconds").Double(r.elapsed_seconds);
  w.Key("records_this_run").Int(r.records_this_run);
  w.Key("records_per_second")
      .Double(r.elapsed_seconds > 0 ? r.records_this_run / r.elapsed_seconds
                                    : 0);
  w.Key("labelled").Bool(r.report.labelled);
  if (r.report.labelled) {
    w.Key("labelled_accounts").Int(r.report.labelled_accounts);
  }
  auto rule = [&](const engine::RuleMetrics& m) {
    w.BeginObject();
    w.Key("rule").String(m.rule);
    w.Key("alerts").Int(m.alerts);
    w.Key("alerted_accounts").Int(m.alerted_accounts);
    if (r.report.labelled) {
      w.Key("true_positives").Int(m.true_positives);
      w.Key("precision").Double(m.precision);
      w.Key("recall").Double(m.recall);
    }
    w.EndObject();
  };
  w.Key("rules").BeginArray();
  for (const auto& m : r.report.rules) rule(m);
  w.EndArray();
  w.Key("overall");
  rule(r.report.overall);
  if (r.report.labelled) {
    w.Key("typologies").BeginArray();
    for (const auto& t : r.report.typologies) {
      w.BeginObject();
      w.Key("typology").String(t.typology);
      w.Key("labelled_accounts").Int(t.labelled_accounts);
      w.Key("alerted").Int(t.alerted);
      w.Key("recall").Double(t.recall);
      w.EndObject();
    }
    w.EndArray();
  }
  w.EndObject();
  return w.str() + "\n";
}

absl::Status WriteFileAtomically(const fs::path& path, std::string_view text) {
  fs::path tmp = path;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    out.flush();
    if (!out) {
      return absl::UnavailableError(
          absl::StrCat("cannot write '", tmp.string(), "'"));
    }
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    return absl::UnavailableError(absl::StrCat("cannot rename '", tmp.string(),
                                               "' to '", path.string(),
                                               "': ", ec.message()));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<BacktestResult> RunBacktest(const BacktestOptions& options) {
  using Clock = std::chrono::steady_clock;
  if (options.input.empty() || options.out_dir.empty()) {
    return WithExit(
        absl::InvalidArgumentError("--input and --out are required"),
        kExitUsage);
  }
  // Configuration: the rule pack and the format name.
  absl::StatusOr<rules::CompiledPack> pack =
      rules::LoadRulePackOrDefault(options.rules);
  if (!pack.ok()) return WithExit(pack.status(), kExitUsage);
  absl::StatusOr<connectors::FileFormat> format =
      connectors::ParseFileFormat(options.format);
  if (!format.ok()) return WithExit(format.status(), kExitUsage);

  // Labels are read up front, so a bad labels file fails before a long run.
  std::optional<engine::Labels> labels;
  if (!options.labels.empty()) {
    auto read = connectors::ReadLabelsCsv(options.labels);
    if (!read.ok()) {
      return WithExit(read.status(),
                      read.status().code() == absl::StatusCode::kNotFound
                          ? kExitUsage
                          : kExitBadInput);
    }
    labels = std::move(*read);
  }

  // Input.
  auto source = connectors::FileSource::Open(options.input, *format);
  if (!source.ok()) {
    return WithExit(source.status(),
                    source.status().code() == absl::StatusCode::kNotFound
                        ? kExitUsage
                        : kExitBadInput);
  }
  const std::string format_name(
      connectors::FileFormatName((*source)->format()));

  // Output and state.
  std::error_code ec;
  fs::create_directories(options.out_dir, ec);
  if (ec) {
    return WithExit(absl::UnavailableError(
                        absl::StrCat("cannot create output directory '",
                                     options.out_dir, "': ", ec.message())),
                    kExitFailure);
  }
  const std::string state_dir =
      options.state_dir.empty() ? (fs::path(options.out_dir) / "state").string()
                                : options.state_dir;
  if (options.fresh) {
    TXFLAG_RETURN_IF_ERROR(connectors::DestroyState(state_dir));
  }
  connectors::RocksDbStoreOptions store_options;
  store_options.sync = options.sync;
  auto store = connectors::RocksDbStateStore::Open(state_dir, store_options);
  if (!store.ok()) return store.status();
  auto rejects = connectors::CsvRejectSink::Open(
      (fs::path(options.out_dir) / "rejects.csv").string());
  if (!rejects.ok()) return rejects.status();

  engine::Processor::Options processor_options;
  processor_options.allowed_lateness_seconds = options.allowed_lateness_seconds;
  processor_options.strict = options.strict;
  auto processor = engine::Processor::Open(&*pack, processor_options,
                                           store->get(), rejects->get(),
                                           /*alerts=*/nullptr);
  if (!processor.ok()) {
    return WithExit(
        processor.status(),
        processor.status().code() == absl::StatusCode::kInvalidArgument
            ? kExitUsage
            : ExitCodeFor(processor.status()));
  }

  BacktestResult result;
  engine::DriverOptions driver;
  driver.commit_interval_ms = options.commit_interval_ms;
  driver.commit_every_records = options.commit_every_records;
  driver.stop = options.stop;
  if (options.progress) {
    driver.on_progress = [&](const engine::Progress& p) {
      result.records_this_run = p.records;
      PrintProgress(p);
    };
  }
  const auto start = Clock::now();
  const int64_t records_before = (*processor)->stats().records();
  absl::Status run = engine::RunToEnd(source->get(), processor->get(), driver);
  result.records_this_run = (*processor)->stats().records() - records_before;
  result.elapsed_seconds =
      std::chrono::duration<double>(Clock::now() - start).count();
  if (!run.ok()) {
    if (run.code() == absl::StatusCode::kInvalidArgument) {
      return WithExit(run, kExitBadInput);
    }
    if (run.code() == absl::StatusCode::kCancelled) {
      return WithExit(
          absl::CancelledError(absl::StrCat(
              "interrupted after ",
              WithThousands((*processor)->stats().records()),
              " records; the state is committed: run the same command again "
              "to resume")),
          kExitInterrupted);
    }
    return run;
  }

  // Final alerts: one line per alert id, its final revision.
  std::vector<std::string> rule_ids;
  for (const auto& rule : pack->rules) rule_ids.push_back(rule->id());
  engine::MetricsAccumulator metrics(rule_ids);
  const fs::path alerts_path = fs::path(options.out_dir) / "alerts.jsonl";
  fs::path alerts_tmp = alerts_path;
  alerts_tmp += ".tmp";
  {
    auto file = connectors::JsonlAlertFile::Open(alerts_tmp.string());
    if (!file.ok()) return file.status();
    absl::Status write_status;
    TXFLAG_RETURN_IF_ERROR(
        (*processor)->ForEachAlert([&](const txflag::v1::Alert& alert) {
          metrics.Add(alert);
          if (write_status.ok()) write_status = (*file)->Write(alert);
        }));
    TXFLAG_RETURN_IF_ERROR(write_status);
    TXFLAG_RETURN_IF_ERROR((*file)->Close());
  }
  fs::rename(alerts_tmp, alerts_path, ec);
  if (ec) {
    return absl::UnavailableError(absl::StrCat(
        "cannot write '", alerts_path.string(), "': ", ec.message()));
  }

  if (!labels.has_value() &&
      (*source)->format() == connectors::FileFormat::kAmlworld) {
    auto read = connectors::ReadAmlworldLabels(options.input);
    if (!read.ok()) return read.status();
    labels = std::move(*read);
  }
  result.stats = (*processor)->stats();
  result.report = metrics.Finish(labels.has_value() ? &*labels : nullptr);
  result.summary_text = FormatReport(options, *pack, format_name, result);
  TXFLAG_RETURN_IF_ERROR(WriteFileAtomically(
      fs::path(options.out_dir) / "summary.json",
      SummaryJson(options, *pack, format_name, state_dir, result)));
  if (options.print_summary) {
    std::fputs(result.summary_text.c_str(), stdout);
    std::fflush(stdout);
  }
  return result;
}

}  // namespace txflag::cli
