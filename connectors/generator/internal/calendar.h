// File: connectors/generator/internal/calendar.h
//
// The Danish calendar the generator needs: civil dates, Europe/Copenhagen
// local time by the EU summer-time rule (UTC+1, UTC+2 from the last Sunday of
// March 01:00 UTC to the last Sunday of October 01:00 UTC), and Danish bank
// days (weekdays that are not public or bank holidays).
//
//   CivilDate d = CivilFromDays(DaysFromCivil(2025, 3, 30));
//   int64_t t = LocalToUtc(DaysFromCivil(2025, 3, 30), 10 * 3600);
#ifndef TXFLAG_CONNECTORS_GENERATOR_INTERNAL_CALENDAR_H_
#define TXFLAG_CONNECTORS_GENERATOR_INTERNAL_CALENDAR_H_

#include <cstdint>
#include <optional>
#include <string_view>

namespace txflag::generator::internal {

struct CivilDate {
  int year;
  int month;  // 1-12
  int day;    // 1-31
};

// Date of `days` since 1970-01-01.
CivilDate CivilFromDays(int64_t days);

// 0 = Monday ... 6 = Sunday.
int Weekday(int64_t days);

int DaysInMonth(int year, int month);

// Parses "YYYY-MM-DD" (years 1971-9998) into days since 1970-01-01, or
// nullopt.
std::optional<int64_t> ParseDate(std::string_view text);

// True while Denmark keeps summer time at UTC instant `unix_seconds`.
bool IsSummerTime(int64_t unix_seconds);

// UTC instant of local Copenhagen wall-clock time `seconds_of_day` (0-86399)
// on local date `days`. In the spring gap the wall-clock time is read as
// winter time; in the autumn overlap as the first occurrence.
int64_t LocalToUtc(int64_t days, int seconds_of_day);

// Danish public and bank holidays (New Year, Maundy Thursday, Good Friday,
// Easter Monday, Ascension, Whit Monday, Constitution Day, 24-26 and 31
// December).
bool IsDanishHoliday(int64_t days);
bool IsBankDay(int64_t days);

// Danish month name, lower case ("januar").
std::string_view DanishMonth(int month);

}  // namespace txflag::generator::internal

#endif  // TXFLAG_CONNECTORS_GENERATOR_INTERNAL_CALENDAR_H_
