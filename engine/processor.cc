#include "engine/processor.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <utility>

#include "absl/hash/hash.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "base/currency.h"
#include "base/hash.h"
#include "base/status_macros.h"
#include "base/strings.h"
#include "base/time_util.h"
#include "google/protobuf/util/json_util.h"

namespace txflag::engine {
namespace {

// 2: one key per window (win/) and per account's open alerts (open/).
// 3: one key per buffered payment (buf/) instead of the whole reorder
//    buffer in the checkpoint. Format 2 state is read and converted.
constexpr uint32_t kFormatVersion = 4;
constexpr int64_t kNoTimestamp = std::numeric_limits<int64_t>::min();

uint64_t CounterpartyHash(std::string_view account, std::string_view name) {
  if (!account.empty()) return Fnv1a64(account);
  if (!name.empty()) return Fnv1a64(name, Fnv1a64("name:"));
  return Fnv1a64("cash");
}

std::string PaymentAsText(const txflag::v1::PaymentView& view) {
  txflag::v1::Payment payment;
  view.CopyTo(&payment);
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  // Printing a valid message cannot fail; an empty string would only lose
  // the raw text of a rejects row, never the row itself.
  if (!google::protobuf::util::MessageToJsonString(payment, &json, options)
           .ok()) {
    json.clear();
  }
  return json;
}

void SetTimestamp(int64_t seconds, google::protobuf::Timestamp* ts) {
  ts->set_seconds(seconds);
  ts->set_nanos(0);
}

bool SameAggregates(
    const google::protobuf::RepeatedPtrField<txflag::v1::Aggregate>& a,
    const std::vector<txflag::v1::Aggregate>& b) {
  if (a.size() != static_cast<int>(b.size())) return false;
  for (size_t i = 0; i < b.size(); ++i) {
    const auto& x = a[static_cast<int>(i)];
    if (x.name() != b[i].name() || x.value() != b[i].value() ||
        x.threshold() != b[i].threshold() || x.unit() != b[i].unit()) {
      return false;
    }
  }
  return true;
}

int64_t FloorDiv(int64_t a, int64_t b) {
  return a >= 0 ? a / b : (a - b + 1) / b;
}

}  // namespace

absl::Status Processor::Options::Validate() const {
  if (allowed_lateness_seconds < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("allowed lateness must be 0 or more seconds, got ",
                     allowed_lateness_seconds));
  }
  if (streams < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("streams must be 0 or more, got ", streams));
  }
  if (state_prefix.empty() || state_prefix.back() != '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("state prefix must end in '/', got '", state_prefix, "'"));
  }
  return absl::OkStatus();
}

Processor::Processor(const rules::CompiledPack* pack, Options options,
                     StateStore* store, RejectSink* rejects, AlertSink* alerts)
    : pack_(pack),
      options_(std::move(options)),
      store_(store),
      rejects_(rejects),
      alerts_(alerts),
      clock_(pack->time_zone),
      suppression_seconds_(int64_t{pack->proto.suppression_days()} * 86400) {
  for (const auto& rule : pack->rules) {
    max_window_seconds_ = std::max(max_window_seconds_, rule->window_seconds());
  }
  factors_.assign(kCurrencyCodes, 0.0);
  for (const auto& [currency, rate] : pack->rates) {
    const int index = CurrencyIndex(currency);
    std::optional<int> exponent = CurrencyExponent(currency);
    if (index < 0 || !exponent.has_value() || !(rate > 0)) continue;
    factors_[index] = rate * std::pow(10.0, pack->base_exponent - *exponent);
  }
}

absl::StatusOr<std::unique_ptr<Processor>> Processor::Open(
    const rules::CompiledPack* pack, Options options, StateStore* store,
    RejectSink* rejects, AlertSink* alerts) {
  TXFLAG_RETURN_IF_ERROR(options.Validate());
  if (pack->rules.size() > 64) {
    return absl::InvalidArgumentError(absl::StrCat(
        "rule pack ", pack->stamp.name(), " enables ", pack->rules.size(),
        " rules; the engine runs at most 64 at once"));
  }
  std::unique_ptr<Processor> processor(
      new Processor(pack, std::move(options), store, rejects, alerts));
  TXFLAG_RETURN_IF_ERROR(processor->Restore());
  return processor;
}

std::string Processor::WindowKey(std::string_view account,
                                 size_t rule_index) const {
  return absl::StrCat(options_.state_prefix, "win/", Av(account), "/",
                      rule_index);
}
std::string Processor::OpenAlertsKey(std::string_view account) const {
  return absl::StrCat(options_.state_prefix, "open/", Av(account));
}
std::string Processor::AlertKey(std::string_view alert_id) const {
  return absl::StrCat(options_.state_prefix, "alert/", Av(alert_id));
}
std::string Processor::CheckpointKey() const {
  return absl::StrCat(options_.state_prefix, "meta/checkpoint");
}
std::string Processor::BufferKey(int64_t seq) const {
  char digits[24];
  std::snprintf(digits, sizeof(digits), "%020lld", static_cast<long long>(seq));
  return absl::StrCat(options_.state_prefix, "buf/", digits);
}

absl::Status Processor::Restore() {
  TXFLAG_ASSIGN_OR_RETURN(std::optional<std::string> stored,
                          store_->Get(CheckpointKey()));
  if (!stored.has_value()) {
    checkpoint_.set_format_version(kFormatVersion);
    checkpoint_.set_rule_pack_hash(pack_->stamp.content_hash());
    checkpoint_.set_max_seen_ts(kNoTimestamp);
    checkpoint_.set_last_sweep_day(kNoTimestamp);
    checkpoint_.set_released_ts(kNoTimestamp);
    for (int32_t s = 0; s < options_.streams; ++s) {
      checkpoint_.add_stream_max_ts(kNoTimestamp);
    }
    stream_idle_.assign(std::max(options_.streams, 0), false);
    return rejects_->Restore("");
  }
  if (!checkpoint_.ParseFromString(*stored)) {
    return absl::DataLossError(absl::StrCat(
        "state checkpoint '", CheckpointKey(),
        "' is corrupt: restore the state dir from a backup or start with "
        "--fresh"));
  }
  // Format 3 differs from 4 only in how a buffered payment's value is
  // written; both are read (below).
  const bool format2 = checkpoint_.format_version() == 2;
  if (checkpoint_.format_version() != kFormatVersion && !format2 &&
      checkpoint_.format_version() != 3) {
    return absl::FailedPreconditionError(
        absl::StrCat("state was written by a txflag with state format ",
                     checkpoint_.format_version(), "; this one reads format ",
                     kFormatVersion));
  }
  if (checkpoint_.rule_pack_hash() != pack_->stamp.content_hash()) {
    return absl::FailedPreconditionError(
        absl::StrCat("the state dir holds state made with rule pack ",
                     checkpoint_.rule_pack_hash(), " but this run uses ",
                     pack_->stamp.name(), " ", pack_->stamp.version(), " (",
                     pack_->stamp.content_hash(),
                     "): use another --state-dir, or --fresh to start over"));
  }
  // Format 2 kept the buffer in the checkpoint, in no particular order:
  // push it back in arrival order; the next commit writes it as buf/ keys.
  std::sort(checkpoint_.mutable_buffer()->begin(),
            checkpoint_.mutable_buffer()->end(),
            [](const auto& a, const auto& b) { return a.seq() < b.seq(); });
  for (const auto& buffered : checkpoint_.buffer()) {
    buffer_.Push(buffered.payment(), buffered.location(), buffered.seq(),
                 static_cast<Legs>(buffered.legs()));
  }
  checkpoint_.clear_buffer();
  checkpoint_.set_format_version(kFormatVersion);
  // Streams: as many as the options say (more input partitions than when
  // the state was written start unseen).
  if (checkpoint_.stream_max_ts_size() == 0) {
    checkpoint_.set_released_ts(kNoTimestamp);
  }
  while (checkpoint_.stream_max_ts_size() < options_.streams) {
    checkpoint_.add_stream_max_ts(kNoTimestamp);
  }
  stream_idle_.assign(std::max(options_.streams, 0), false);
  stored_seq_ = -1;
  // Formats 3 and 4: one key per buffered payment, in seq (arrival) order.
  if (!format2) {
    const std::string buf_prefix = absl::StrCat(options_.state_prefix, "buf/");
    absl::Status buf_status;
    txflag::v1::state::BufferedPayment buffered;
    TXFLAG_RETURN_IF_ERROR(store_->Scan(
        buf_prefix, [&](std::string_view key, std::string_view value) {
          auto corrupt = [&] {
            buf_status = absl::DataLossError(absl::StrCat(
                "buffered payment '", Av(key), "' in the state is corrupt"));
            return false;
          };
          if (!value.empty() && value[0] == '\0') {  // format 4
            const std::string_view digits =
                key.substr(key.find_last_of('/') + 1);
            int64_t seq = 0;
            if (!absl::SimpleAtoi(Av(digits), &seq) ||
                !buffer_.PushEncoded(value.substr(1), seq)) {
              return corrupt();
            }
            stored_seq_ = std::max(stored_seq_, seq);
            return true;
          }
          if (!buffered.ParseFromArray(value.data(),
                                       static_cast<int>(value.size()))) {
            return corrupt();
          }
          buffer_.Push(buffered.payment(), buffered.location(), buffered.seq(),
                       static_cast<Legs>(buffered.legs()));
          stored_seq_ = std::max(stored_seq_, buffered.seq());
          return true;
        }));
    TXFLAG_RETURN_IF_ERROR(buf_status);
    // Every payment pushed before the checkpoint has its key (or was
    // processed and its key deleted).
    stored_seq_ = std::max(stored_seq_, checkpoint_.next_seq() - 1);
  }

  auto account_named = [&](std::string_view name) -> Account& {
    Account* account = FindOrCreateAccount(name);
    // Restored state is not dirty: it is what the store holds.
    account->dirty = false;
    return *account;
  };
  absl::Status decode_status;
  const std::string windows_prefix = WindowKey("", 0).substr(
      0, options_.state_prefix.size() + 4);  // "<prefix>win/"
  TXFLAG_RETURN_IF_ERROR(store_->Scan(
      windows_prefix, [&](std::string_view key, std::string_view value) {
        // <prefix>win/<account>/<rule index>: the account may itself hold '/'.
        std::string_view rest = key.substr(windows_prefix.size());
        const size_t slash = rest.rfind('/');
        size_t index = 0;
        if (slash == std::string_view::npos ||
            !absl::SimpleAtoi(Av(rest.substr(slash + 1)), &index) ||
            index >= pack_->rules.size()) {
          decode_status = absl::DataLossError(
              absl::StrCat("state key '", Av(key), "' is not a window key"));
          return false;
        }
        Account& account = account_named(rest.substr(0, slash));
        std::string_view bytes = value;
        auto& window = account.windows[index];
        if (window == nullptr) window = std::make_unique<rules::Window>();
        absl::Status s = window->DecodeFrom(&bytes);
        if (!s.ok()) {
          decode_status = absl::DataLossError(
              absl::StrCat("account state '", Av(key), "': ", s.message()));
          return false;
        }
        account.stored_windows |= uint64_t{1} << index;
        if (!window->empty()) {
          account.last_leg_ts =
              std::max(account.last_leg_ts, window->legs().back().ts);
        }
        return true;
      }));
  TXFLAG_RETURN_IF_ERROR(decode_status);
  const std::string open_prefix = OpenAlertsKey("");
  TXFLAG_RETURN_IF_ERROR(store_->Scan(open_prefix, [&](std::string_view key,
                                                       std::string_view value) {
    txflag::v1::state::AccountAlerts proto;
    if (!proto.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
      decode_status = absl::DataLossError(
          absl::StrCat("open alerts '", Av(key), "' are corrupt"));
      return false;
    }
    Account& account = account_named(key.substr(open_prefix.size()));
    account.alerts_stored = true;
    for (auto& open : *proto.mutable_open_alerts()) {
      OpenAlert alert;
      alert.proto = std::move(open);
      for (const auto& id : alert.proto.alert().evidence().transactions()) {
        alert.evidence_ids.insert(id);
      }
      account.open_alerts.push_back(std::move(alert));
    }
    return true;
  }));
  TXFLAG_RETURN_IF_ERROR(decode_status);
  dirty_.clear();  // restored accounts are what the store holds
  return rejects_->Restore(checkpoint_.rejects());
}

absl::Status Processor::Reject(std::string_view location,
                               std::string_view reason, std::string_view raw) {
  if (options_.strict) {
    return absl::InvalidArgumentError(
        absl::StrCat(Av(location), ": ", Av(reason)));
  }
  return rejects_->Write(location, reason, raw);
}

absl::Status Processor::Process(SourceRecord* record) {
  auto* stats = checkpoint_.mutable_stats();
  stats->set_records(stats->records() + 1);
  // Built only for a reject (see Options::locate).
  auto where = [&] {
    return Locate(record->location, record->stream, record->position);
  };
  if (record->kind == SourceRecord::Kind::kReject) {
    stats->set_rejected(stats->rejected() + 1);
    return Reject(where(), record->reason, record->raw);
  }
  const txflag::v1::PaymentView payment = record->fields();
  const int64_t ts = payment.seconds;
  const int64_t max_seen = checkpoint_.max_seen_ts();
  if (options_.streams > 0) {
    if (record->stream < 0 || record->stream >= options_.streams) {
      return absl::InvalidArgumentError(
          absl::StrCat(where(), ": stream ", record->stream, " outside 0..",
                       options_.streams - 1));
    }
    if (checkpoint_.released_ts() != kNoTimestamp &&
        ts < checkpoint_.released_ts()) {
      stats->set_late(stats->late() + 1);
      return Reject(
          where(),
          absl::StrCat("late: timestamp ", FormatUtcTimestamp(ts),
                       " is before the watermark ",
                       FormatUtcTimestamp(checkpoint_.released_ts()),
                       " (the oldest of the streams' newest timestamps "
                       "minus the allowed lateness of ",
                       options_.allowed_lateness_seconds, " s)"),
          PaymentAsText(payment));
    }
    if (ts > max_seen) checkpoint_.set_max_seen_ts(ts);
    auto* stream_max = checkpoint_.mutable_stream_max_ts();
    if (ts > stream_max->Get(record->stream)) {
      stream_max->Set(record->stream, ts);
    }
    stream_idle_[record->stream] = false;
    const int64_t seq = checkpoint_.next_seq();
    checkpoint_.set_next_seq(seq + 1);
    buffer_.Push(payment, record->location, seq, record->legs,
                 /*lane=*/record->stream, record->position);
    return AdvanceStreams();
  }
  if (max_seen != kNoTimestamp &&
      ts < max_seen - options_.allowed_lateness_seconds) {
    stats->set_late(stats->late() + 1);
    return Reject(
        where(),
        absl::StrCat("late: timestamp ", FormatUtcTimestamp(ts), " is ",
                     max_seen - ts, " s behind the newest timestamp seen (",
                     FormatUtcTimestamp(max_seen),
                     "), more than the allowed lateness of ",
                     options_.allowed_lateness_seconds, " s"),
        PaymentAsText(payment));
  }
  if (ts > max_seen) checkpoint_.set_max_seen_ts(ts);
  const int64_t seq = checkpoint_.next_seq();
  checkpoint_.set_next_seq(seq + 1);
  buffer_.Push(payment, record->location, seq, record->legs, /*lane=*/0,
               record->position);
  return Release(checkpoint_.max_seen_ts() - options_.allowed_lateness_seconds);
}

absl::Status Processor::SetStreamIdle(int32_t stream, bool idle) {
  if (options_.streams <= 0 || stream < 0 || stream >= options_.streams) {
    return absl::InvalidArgumentError(
        absl::StrCat("SetStreamIdle: no stream ", stream));
  }
  if (stream_idle_[stream] == idle) return absl::OkStatus();
  stream_idle_[stream] = idle;
  return AdvanceStreams();
}

std::string Processor::Locate(std::string_view location, int32_t stream,
                              int64_t position) const {
  if (!location.empty() || !options_.locate || position < 0) {
    return std::string(location);
  }
  return options_.locate(stream, position);
}

absl::Status Processor::SetReleaseLimit(int64_t limit) {
  if (options_.streams <= 0) {
    return absl::FailedPreconditionError(
        "SetReleaseLimit needs Options::streams > 0");
  }
  release_limit_ = limit;
  return AdvanceStreams();
}

absl::Status Processor::AdvanceStreams() {
  // The oldest newest-timestamp over the active streams; a stream never
  // seen and not idle holds everything back. All idle: the newest seen.
  int64_t oldest = std::numeric_limits<int64_t>::max();
  bool any_active = false;
  for (int32_t s = 0; s < options_.streams; ++s) {
    if (stream_idle_[s]) continue;
    any_active = true;
    oldest = std::min(oldest, checkpoint_.stream_max_ts(s));
  }
  if (!any_active) oldest = checkpoint_.max_seen_ts();
  if (oldest == kNoTimestamp) return sink_status_;
  const int64_t until =
      std::min(oldest - options_.allowed_lateness_seconds, release_limit_);
  if (checkpoint_.released_ts() == kNoTimestamp ||
      until > checkpoint_.released_ts()) {
    checkpoint_.set_released_ts(until);
  }
  return Release(checkpoint_.released_ts());
}

absl::Status Processor::Drain() {
  return Release(std::numeric_limits<int64_t>::max());
}

absl::Status Processor::Release(int64_t until) {
  while (buffer_.PopUntil(until, &current_, &current_location_, &current_legs_,
                          &current_seq_, &current_lane_, &current_position_)) {
    if (current_seq_ <= stored_seq_) released_.push_back(current_seq_);
    TXFLAG_RETURN_IF_ERROR(
        ProcessPayment(current_, current_location_, current_legs_));
  }
  return sink_status_;
}

absl::Status Processor::ProcessPayment(const txflag::v1::PaymentView& payment,
                                       std::string_view location, Legs legs) {
  auto* stats = checkpoint_.mutable_stats();
  std::optional<double> factor = ConversionFactor(payment.currency);
  if (!factor.has_value()) {
    stats->set_rejected(stats->rejected() + 1);
    return Reject(Locate(location, current_lane_, current_position_),
                  absl::StrCat("no exchange rate for currency '",
                               Av(payment.currency), "' in rule pack ",
                               pack_->stamp.name(), ": add rate { currency: \"",
                               Av(payment.currency), "\" rate: ... }"),
                  PaymentAsText(payment));
  }
  const int64_t ts = payment.seconds;
  const int64_t day = FloorDiv(ts, 86400);
  if (day > checkpoint_.last_sweep_day()) {
    Sweep(ts);
    checkpoint_.set_last_sweep_day(day);
  }
  double amount = static_cast<double>(payment.amount_minor) * *factor;
  rules::Leg leg;
  leg.ts = ts;
  leg.amount = std::max<int64_t>(1, std::llround(amount));
  LocalClock::Local local = clock_.At(ts);
  leg.local_day = local.day;
  leg.local_hour = local.hour;
  leg.channel = static_cast<txflag::v1::Payment::Channel>(payment.channel);
  leg.mcc = static_cast<uint16_t>(payment.mcc);

  stats->set_payments(stats->payments() + 1);
  if (stats->payments() == 1 || ts < stats->min_event_ts()) {
    stats->set_min_event_ts(ts);
  }
  if (ts > stats->max_event_ts()) stats->set_max_event_ts(ts);

  if (!payment.debtor_account.empty() && legs != Legs::kCredit) {
    leg.direction = txflag::v1::OUTGOING;
    TXFLAG_RETURN_IF_ERROR(ProcessLeg(payment, payment.debtor_account, &leg));
  }
  if (!payment.creditor_account.empty() && legs != Legs::kDebit) {
    leg.direction = txflag::v1::INCOMING;
    TXFLAG_RETURN_IF_ERROR(ProcessLeg(payment, payment.creditor_account, &leg));
  }
  return absl::OkStatus();
}

std::optional<double> Processor::ConversionFactor(std::string_view currency) {
  const int index = CurrencyIndex(currency);
  if (index < 0 || factors_[index] == 0) return std::nullopt;
  return factors_[index];
}

Processor::Account* Processor::FindOrCreateAccount(std::string_view name) {
  const uint64_t h = absl::Hash<std::string_view>()(name);
  auto [it, inserted] = accounts_.try_emplace(h);
  Account* account = nullptr;
  if (inserted) {
    it->second = std::make_unique<Account>();
    account = it->second.get();
    account->name = std::string(name);
    account->windows.resize(pack_->rules.size());
  } else if (it->second->name == name) {
    account = it->second.get();
  } else {
    auto [c, c_inserted] = collided_.try_emplace(std::string(name));
    if (c_inserted) {
      c->second = std::make_unique<Account>();
      c->second->name = std::string(name);
      c->second->windows.resize(pack_->rules.size());
    }
    account = c->second.get();
  }
  MarkDirty(account);
  return account;
}

void Processor::MarkDirty(Account* account) {
  if (!account->dirty) {
    account->dirty = true;
    dirty_.push_back(account);
  }
}

absl::Status Processor::ProcessLeg(const txflag::v1::PaymentView& payment,
                                   std::string_view account, rules::Leg* leg) {
  Account* state = nullptr;
  // Rules decide from the payment and the leg's own fields; the counterparty
  // key is only needed once a rule keeps the leg (most legs, card purchases
  // for instance, are kept by none).
  leg->counterparty = 0;
  for (size_t i = 0; i < pack_->rules.size(); ++i) {
    const rules::Rule& rule = *pack_->rules[i];
    leg->flags = 0;
    if (!rule.Accepts(payment, leg)) continue;
    if (state == nullptr) {
      state = FindOrCreateAccount(account);
      leg->counterparty =
          leg->direction == txflag::v1::OUTGOING
              ? CounterpartyHash(payment.creditor_account,
                                 payment.creditor_name)
              : CounterpartyHash(payment.debtor_account, payment.debtor_name);
      // A payment delivered twice (an at-least-once upstream, a replayed
      // extract) would count twice in every window and raise revisions
      // without new evidence. The first rule that keeps the leg kept the
      // earlier copy, at the same ts, so its window is enough to tell.
      if (state->windows[i] != nullptr &&
          state->windows[i]->HoldsRepeatOf(*leg, payment.id)) {
        auto* stats = checkpoint_.mutable_stats();
        stats->set_repeated_legs(stats->repeated_legs() + 1);
        if (options_.on_repeated_leg) options_.on_repeated_leg();
        return absl::OkStatus();
      }
    }
    std::unique_ptr<rules::Window>& slot = state->windows[i];
    if (slot == nullptr) slot = std::make_unique<rules::Window>();
    rules::Window& window = *slot;
    window.EvictOlderThan(leg->ts - rule.window_seconds() + 1);
    rules::Leg stored = *leg;
    stored.payment_id.assign(payment.id.data(), payment.id.size());
    window.Add(std::move(stored));
    state->last_leg_ts = std::max(state->last_leg_ts, leg->ts);
    state->changed_windows |= uint64_t{1} << i;
    std::optional<rules::Hit> hit;
    if (options_.evaluation_sample_every > 0 && options_.on_rule_evaluation &&
        --evaluations_ <= 0) {
      evaluations_ = options_.evaluation_sample_every;
      const auto start = std::chrono::steady_clock::now();
      hit = rule.Evaluate(window.legs().back(), window);
      options_.on_rule_evaluation(std::chrono::duration<double>(
                                      std::chrono::steady_clock::now() - start)
                                      .count());
    } else {
      hit = rule.Evaluate(window.legs().back(), window);
    }
    if (hit.has_value()) {
      RaiseOrExtend(state->name, state, i, rule, *hit, window.legs().back());
    }
  }
  return absl::OkStatus();
}

void Processor::RaiseOrExtend(const std::string& account, Account* state,
                              size_t rule_index, const rules::Rule& rule,
                              const rules::Hit& hit, const rules::Leg& leg) {
  auto* stats = checkpoint_.mutable_stats();
  OpenAlert* open = nullptr;
  for (auto it = state->open_alerts.begin(); it != state->open_alerts.end();
       ++it) {
    if (it->proto.rule_index() != rule_index) continue;
    if (leg.ts - it->proto.opened_ts() >= suppression_seconds_) {
      if (it->changed) closed_.push_back(it->proto.alert());
      state->open_alerts.erase(it);
      state->alerts_changed = true;
    } else {
      open = &*it;
    }
    break;
  }
  bool changed = false;
  if (open == nullptr) {
    state->open_alerts.emplace_back();
    open = &state->open_alerts.back();
    open->proto.set_rule_index(static_cast<uint32_t>(rule_index));
    open->proto.set_opened_ts(leg.ts);
    open->proto.set_last_leg_ts(kNoTimestamp);
    txflag::v1::Alert& alert = *open->proto.mutable_alert();
    const std::string& hash = pack_->stamp.content_hash();
    uint64_t h = Fnv1a64(hash);
    h = Fnv1a64("|", h);
    h = Fnv1a64(account, h);
    h = Fnv1a64("|", h);
    h = Fnv1a64(rule.id(), h);
    h = Fnv1a64("|", h);
    h = Fnv1a64(leg.payment_id, h);
    alert.set_alert_id(absl::StrCat("TXA-", Hex64(h)));
    alert.set_account(account);
    for (const auto& t : rule.typologies()) alert.add_typologies(t);
    alert.add_rules(rule.id());
    *alert.mutable_rule_pack() = pack_->stamp;
    SetTimestamp(leg.ts, alert.mutable_window_start());
    SetTimestamp(leg.ts, alert.mutable_window_end());
    stats->set_alerts_raised(stats->alerts_raised() + 1);
    changed = true;
  }
  txflag::v1::Alert& alert = *open->proto.mutable_alert();
  txflag::v1::Evidence& evidence = *alert.mutable_evidence();
  const uint32_t cap = pack_->proto.max_evidence_transactions();
  int64_t last_leg_ts = open->proto.last_leg_ts();
  int64_t newest = last_leg_ts;
  for (const rules::Leg* l : hit.legs) {
    if (open->evidence_ids.contains(l->payment_id)) continue;
    if (static_cast<uint32_t>(evidence.transactions_size()) < cap) {
      evidence.add_transactions(l->payment_id);
      open->evidence_ids.insert(l->payment_id);
    } else if (l->ts > last_leg_ts) {
      // Past the cap only a count is kept; a leg counts once because only
      // legs newer than every leg counted so far are counted.
      evidence.set_transactions_omitted(evidence.transactions_omitted() + 1);
    } else {
      continue;
    }
    newest = std::max(newest, l->ts);
    if (l->ts < alert.window_start().seconds()) {
      SetTimestamp(l->ts, alert.mutable_window_start());
    }
    if (l->ts > alert.window_end().seconds()) {
      SetTimestamp(l->ts, alert.mutable_window_end());
    }
    changed = true;
  }
  open->proto.set_last_leg_ts(newest);
  if (!SameAggregates(evidence.aggregates(), hit.aggregates)) {
    evidence.clear_aggregates();
    for (const auto& a : hit.aggregates) *evidence.add_aggregates() = a;
    changed = true;
  }
  double score =
      std::min(100.0, std::round(rule.base_score() * hit.strength * 10) / 10);
  if (score > alert.score()) {
    alert.set_score(score);
    changed = true;
  }
  if (alert.explanation() != hit.explanation) {
    alert.set_explanation(hit.explanation);
    changed = true;
  }
  if (!changed) return;
  alert.set_revision(alert.revision() + 1);
  stats->set_alert_revisions(stats->alert_revisions() + 1);
  open->changed = true;
  state->alerts_changed = true;
  if (alerts_ != nullptr && sink_status_.ok()) {
    sink_status_ = alerts_->Emit(alert);
  }
}

void Processor::Sweep(int64_t now) {
  // Returns true when the account can be forgotten.
  auto sweep = [&](Account& account) {
    for (auto a = account.open_alerts.begin();
         a != account.open_alerts.end();) {
      if (now - a->proto.opened_ts() >= suppression_seconds_) {
        if (a->changed) closed_.push_back(a->proto.alert());
        a = account.open_alerts.erase(a);
        account.alerts_changed = true;
        MarkDirty(&account);
      } else {
        ++a;
      }
    }
    // Every window evicts legs with ts <= now - its length, and no window is
    // longer than max_window_seconds_. A dirty account is written at the
    // next commit and forgotten at a later sweep.
    const bool stale = now - account.last_leg_ts >= max_window_seconds_;
    if (!stale || !account.open_alerts.empty() || account.dirty) return false;
    forgotten_.push_back(
        {account.name, account.stored_windows, account.alerts_stored});
    return true;
  };
  for (auto it = accounts_.begin(); it != accounts_.end();) {
    if (sweep(*it->second)) {
      accounts_.erase(it++);
    } else {
      ++it;
    }
  }
  for (auto it = collided_.begin(); it != collided_.end();) {
    if (sweep(*it->second)) {
      collided_.erase(it++);
    } else {
      ++it;
    }
  }
}

absl::Status Processor::Commit(std::string source_checkpoint) {
  TXFLAG_RETURN_IF_ERROR(sink_status_);
  if (alerts_ != nullptr) TXFLAG_RETURN_IF_ERROR(alerts_->Flush());
  TXFLAG_ASSIGN_OR_RETURN(std::string rejects_checkpoint, rejects_->Flush());
  StateBatch batch;
  TXFLAG_RETURN_IF_ERROR(PrepareCommit(std::move(source_checkpoint),
                                       std::move(rejects_checkpoint), &batch));
  return store_->Write(batch);
}

absl::Status Processor::PrepareCommit(std::string source_checkpoint,
                                      std::string rejects_checkpoint,
                                      StateBatch* out) {
  TXFLAG_RETURN_IF_ERROR(sink_status_);
  StateBatch& batch = *out;
  batch.Clear();
  for (const Forgotten& f : forgotten_) {
    for (size_t i = 0; i < pack_->rules.size(); ++i) {
      if (f.stored_windows & (uint64_t{1} << i)) {
        batch.Delete(WindowKey(f.account, i));
      }
    }
    if (f.alerts_stored) batch.Delete(OpenAlertsKey(f.account));
  }
  if (options_.keep_alert_history) {
    for (const auto& alert : closed_) {
      batch.Put(AlertKey(alert.alert_id()), alert.SerializeAsString());
    }
  }
  std::string bytes;
  std::string key;
  auto window_key = [&](std::string_view account, size_t i) -> std::string& {
    key.clear();
    absl::StrAppend(&key, options_.state_prefix, "win/", Av(account), "/", i);
    return key;
  };
  for (Account* dirty : dirty_) {
    Account& account = *dirty;
    const std::string& name = account.name;
    account.dirty = false;
    for (size_t i = 0; i < account.windows.size(); ++i) {
      const uint64_t bit = uint64_t{1} << i;
      if ((account.changed_windows & bit) == 0) continue;
      const rules::Window* window = account.windows[i].get();
      if (window == nullptr || window->empty()) {
        if (account.stored_windows & bit) batch.Delete(window_key(name, i));
        account.stored_windows &= ~bit;
      } else {
        bytes.clear();
        window->EncodeTo(&bytes);
        batch.Put(window_key(name, i), bytes);
        account.stored_windows |= bit;
      }
    }
    account.changed_windows = 0;
    for (auto& open : account.open_alerts) {
      if (open.changed) {
        if (options_.keep_alert_history) {
          batch.Put(AlertKey(open.proto.alert().alert_id()),
                    open.proto.alert().SerializeAsString());
        }
        open.changed = false;
      }
    }
    if (account.alerts_changed) {
      if (account.open_alerts.empty()) {
        if (account.alerts_stored) batch.Delete(OpenAlertsKey(name));
        account.alerts_stored = false;
      } else {
        txflag::v1::state::AccountAlerts proto;
        for (const auto& open : account.open_alerts) {
          *proto.add_open_alerts() = open.proto;
        }
        batch.Put(OpenAlertsKey(name), proto.SerializeAsString());
        account.alerts_stored = true;
      }
      account.alerts_changed = false;
    }
  }
  checkpoint_.set_source(std::move(source_checkpoint));
  checkpoint_.set_rejects(std::move(rejects_checkpoint));
  // The reorder buffer: keys for the payments pushed since the last commit
  // and still waiting, deletes for the stored ones processed since.
  for (int64_t seq : released_) batch.Delete(BufferKey(seq));
  // Format 4: a buffered payment's value is a 0 byte (never the first byte
  // of a protobuf message, as format 3 wrote) and its encoding in the
  // reorder buffer, copied as is.
  // Without persist_buffer only the deletes remain, for payments restored
  // from state written with it.
  if (options_.persist_buffer) {
    std::string value;
    buffer_.ForEachEncodedAfter(stored_seq_,
                                [&](int64_t seq, std::string_view encoded) {
                                  value.assign(1, '\0');
                                  value.append(encoded.data(), encoded.size());
                                  batch.Put(BufferKey(seq), value);
                                });
    stored_seq_ = checkpoint_.next_seq() - 1;
  }
  batch.Put(CheckpointKey(), checkpoint_.SerializeAsString());
  released_.clear();
  dirty_.clear();
  forgotten_.clear();
  closed_.clear();
  return absl::OkStatus();
}

absl::Status Processor::ForEachAlert(
    const std::function<void(const txflag::v1::Alert&)>& fn) {
  const std::string prefix = AlertKey("");
  absl::Status status;
  txflag::v1::Alert alert;
  TXFLAG_RETURN_IF_ERROR(store_->Scan(prefix, [&](std::string_view key,
                                                  std::string_view value) {
    if (!alert.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
      status = absl::DataLossError(
          absl::StrCat("alert '", Av(key), "' in the state is corrupt"));
      return false;
    }
    fn(alert);
    return true;
  }));
  return status;
}

}  // namespace txflag::engine
