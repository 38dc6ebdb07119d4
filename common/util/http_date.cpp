#include "common/util/http_date.h"

#include <array>
#include <cstdio>

#include "common/util/strings.h"

namespace cdn {
namespace {
// Dates far outside any real clock are clamped so arithmetic on them cannot overflow.
constexpr int64_t kMaxTimeSeconds = int64_t(1) << 40;
int64_t clamp_time_s(int64_t s) {
  return s < -kMaxTimeSeconds ? -kMaxTimeSeconds : (s > kMaxTimeSeconds ? kMaxTimeSeconds : s);
}
int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }
}  // namespace

namespace {

constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
constexpr std::array<std::string_view, 7> kDays = {"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"};

// Howard Hinnant's days_from_civil / civil_from_days: exact proleptic Gregorian arithmetic
// without timegm(), which depends on the process time zone and libc.
int64_t days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2;
  int64_t era = floor_div(y, 400);
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void civil_from_days(int64_t z, int64_t& y, int& m, int& d) {
  z += 719468;
  int64_t era = floor_div(z, 146097);
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  d = int(doy - (153 * mp + 2) / 5 + 1);
  m = int(mp < 10 ? mp + 3 : mp - 9);
  y = yoe + era * 400 + (m <= 2);
}

bool is_leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int days_in_month(int64_t y, int m) {
  static constexpr int kDaysIn[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : kDaysIn[m - 1];
}

// A cursor over the date text; every accessor fails (returns false) rather than overrun.
class Scanner {
 public:
  explicit Scanner(std::string_view s) : s_(s) {}
  bool done() const { return pos_ == s_.size(); }
  bool lit(char c) {
    if (pos_ < s_.size() && s_[pos_] == c) return ++pos_, true;
    return false;
  }
  bool digits(size_t min_n, size_t max_n, int64_t& out) {
    size_t n = 0;
    out = 0;
    while (n < max_n && pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
      out = out * 10 + (s_[pos_++] - '0');
      ++n;
    }
    return n >= min_n;
  }
  std::string_view word() {
    size_t start = pos_;
    while (pos_ < s_.size() && ((s_[pos_] >= 'a' && s_[pos_] <= 'z') || (s_[pos_] >= 'A' && s_[pos_] <= 'Z'))) ++pos_;
    return s_.substr(start, pos_ - start);
  }
  bool month(int& m) {
    std::string_view w = word();
    for (size_t i = 0; i < kMonths.size(); ++i)
      if (w == kMonths[i]) return m = int(i + 1), true;
    return false;
  }
  bool time(int64_t& h, int64_t& mi, int64_t& sec) {
    return digits(2, 2, h) && lit(':') && digits(2, 2, mi) && lit(':') && digits(2, 2, sec);
  }

 private:
  std::string_view s_;
  size_t pos_ = 0;
};

struct Fields {
  int64_t year = 0, day = 0, hour = 0, min = 0, sec = 0;
  int month = 0;
};

bool parse_fields(Scanner& sc, Fields& f) {
  if (sc.word().size() < 3) return false;  // day name; its consistency with the date is not checked
  if (sc.lit(',')) {
    if (!sc.lit(' ') || !sc.digits(2, 2, f.day)) return false;
    if (sc.lit(' '))  // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
      return sc.month(f.month) && sc.lit(' ') && sc.digits(4, 4, f.year) && sc.lit(' ') &&
             sc.time(f.hour, f.min, f.sec) && sc.lit(' ') && sc.word() == "GMT";
    // RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT"; two-digit years below 70 are 20xx.
    bool ok = sc.lit('-') && sc.month(f.month) && sc.lit('-') && sc.digits(2, 2, f.year) && sc.lit(' ') &&
              sc.time(f.hour, f.min, f.sec) && sc.lit(' ') && sc.word() == "GMT";
    f.year += f.year < 70 ? 2000 : 1900;
    return ok;
  }
  // asctime: "Sun Nov  6 08:49:37 1994"
  if (!sc.lit(' ') || !sc.month(f.month) || !sc.lit(' ')) return false;
  if (!sc.lit(' ') && !sc.digits(1, 1, f.day)) return false;
  int64_t second_digit = 0;
  if (sc.digits(1, 1, second_digit)) f.day = f.day * 10 + second_digit;
  return f.day > 0 && sc.lit(' ') && sc.time(f.hour, f.min, f.sec) && sc.lit(' ') && sc.digits(4, 4, f.year);
}

}  // namespace

int64_t parse_http_date(std::string_view s) {
  Scanner sc(trim(s));
  Fields f;
  if (!parse_fields(sc, f) || !sc.done()) return -1;
  if (f.day < 1 || f.day > days_in_month(f.year, f.month) || f.hour > 23 || f.min > 59 || f.sec > 60)
    return -1;
  if (f.sec == 60) f.sec = 59;  // a leap second is not representable in unix time
  int64_t t = days_from_civil(f.year, f.month, int(f.day)) * 86400 + f.hour * 3600 + f.min * 60 + f.sec;
  return t < 0 ? -1 : t;
}

std::string format_http_date(int64_t unix_s) {
  unix_s = clamp_time_s(unix_s);
  int64_t days = floor_div(unix_s, 86400);
  int64_t secs = unix_s - days * 86400;
  int64_t y = 0;
  int m = 0, d = 0;
  civil_from_days(days, y, m, d);
  int64_t weekday = days - floor_div(days, 7) * 7;  // 1970-01-01 was a Thursday
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04lld %02lld:%02lld:%02lld GMT", kDays[size_t(weekday)].data(), d,
                kMonths[size_t(m - 1)].data(), static_cast<long long>(y), static_cast<long long>(secs / 3600),
                static_cast<long long>(secs / 60 % 60), static_cast<long long>(secs % 60));
  return buf;
}

}  // namespace cdn
