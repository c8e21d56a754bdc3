#include "connectors/generator/internal/calendar.h"

#include "base/time_util.h"

namespace txflag::generator::internal {

CivilDate CivilFromDays(int64_t days) {
  const CivilDay c = txflag::CivilFromDays(days);
  return {static_cast<int>(c.year), static_cast<int>(c.month),
          static_cast<int>(c.day)};
}

int Weekday(int64_t days) {
  // 1970-01-01 was a Thursday (3).
  int64_t w = (days + 3) % 7;
  return static_cast<int>(w < 0 ? w + 7 : w);
}

int DaysInMonth(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30,
                                  31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

std::optional<int64_t> ParseDate(std::string_view t) {
  if (t.size() != 10 || t[4] != '-' || t[7] != '-') return std::nullopt;
  int v[3] = {0, 0, 0};
  const int starts[3] = {0, 5, 8}, lens[3] = {4, 2, 2};
  for (int f = 0; f < 3; ++f) {
    for (int i = starts[f]; i < starts[f] + lens[f]; ++i) {
      if (t[i] < '0' || t[i] > '9') return std::nullopt;
      v[f] = v[f] * 10 + (t[i] - '0');
    }
  }
  if (v[0] < 1971 || v[0] > 9998 || v[1] < 1 || v[1] > 12 || v[2] < 1 ||
      v[2] > DaysInMonth(v[0], v[1])) {
    return std::nullopt;
  }
  return DaysFromCivil(v[0], v[1], v[2]);
}

namespace {

// Days of the last Sunday of `month` in `year`.
int64_t LastSunday(int year, int month) {
  int64_t last = DaysFromCivil(year, month, DaysInMonth(year, month));
  return last - (Weekday(last) + 1) % 7;
}

// Easter Sunday (anonymous Gregorian algorithm).
int64_t EasterSunday(int y) {
  int a = y % 19, b = y / 100, c = y % 100, d = b / 4, e = b % 4;
  int f = (b + 8) / 25, g = (b - f + 1) / 3;
  int h = (19 * a + b - d - g + 15) % 30;
  int i = c / 4, k = c % 4;
  int l = (32 + 2 * e + 2 * i - h - k) % 7;
  int m = (a + 11 * h + 22 * l) / 451;
  int month = (h + l - 7 * m + 114) / 31;
  int day = (h + l - 7 * m + 114) % 31 + 1;
  return DaysFromCivil(y, month, day);
}

}  // namespace

bool IsSummerTime(int64_t t) {
  int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
  int year = CivilFromDays(days).year;
  int64_t start = LastSunday(year, 3) * 86400 + 3600;
  int64_t end = LastSunday(year, 10) * 86400 + 3600;
  return t >= start && t < end;
}

int64_t LocalToUtc(int64_t days, int seconds_of_day) {
  int64_t wall = days * 86400 + seconds_of_day;
  // Summer time if the instant read as summer time is in summer time.
  int64_t as_summer = wall - 7200;
  if (IsSummerTime(as_summer)) return as_summer;
  return wall - 3600;
}

bool IsDanishHoliday(int64_t days) {
  CivilDate d = CivilFromDays(days);
  if ((d.month == 1 && d.day == 1) || (d.month == 6 && d.day == 5) ||
      (d.month == 12 &&
       (d.day == 24 || d.day == 25 || d.day == 26 || d.day == 31))) {
    return true;
  }
  int64_t easter = EasterSunday(d.year);
  int64_t off = days - easter;
  return off == -3 || off == -2 || off == 1 || off == 39 || off == 50;
}

bool IsBankDay(int64_t days) {
  return Weekday(days) < 5 && !IsDanishHoliday(days);
}

std::string_view DanishMonth(int month) {
  static constexpr std::string_view kNames[] = {
      "januar", "februar", "marts",     "april",   "maj",      "juni",
      "juli",   "august",  "september", "oktober", "november", "december"};
  return kNames[month - 1];
}

}  // namespace txflag::generator::internal
