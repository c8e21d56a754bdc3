// File: base/log.h
//
// Structured logs: one line per event on stderr, in logfmt
// ("key=value key2=\"with spaces\""), so a log shipper can parse them:
//
//   2026-11-25T23:10:04.512Z level=info event=partitions_assigned count=4
//
//   LogEvent(LogLevel::kInfo, "partitions_assigned",
//            {{"count", "4"}, {"topic", topic}});
//
// Callers never pass account numbers, names or message values at info level
// (payment data belongs in alerts and dead letters, not in logs); locations
// ("payments/3@1234") and counts are what a line names.
//
// Thread-safe: each line is written with one fwrite. SetMinLogLevel() filters
// (default kInfo).
#ifndef TXFLAG_BASE_LOG_H_
#define TXFLAG_BASE_LOG_H_

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace txflag {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

using LogField = std::pair<std::string_view, std::string>;

// "level=... event=... k=v ..." after a UTC timestamp, on stderr.
void LogEvent(LogLevel level, std::string_view event,
              std::initializer_list<LogField> fields = {});

// The line LogEvent would print without its timestamp and newline (tests).
std::string FormatLogEvent(LogLevel level, std::string_view event,
                           std::initializer_list<LogField> fields);

void SetMinLogLevel(LogLevel level);

}  // namespace txflag

#endif  // TXFLAG_BASE_LOG_H_
