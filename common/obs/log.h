#pragma once
// Structured logs: one JSON object per line on stderr (or the fd set by set_log_fd), e.g.
// {"ts":"2026-11-21T05:24:48.123Z","level":"info","msg":"listening","addr":"127.0.0.1:8443"}
// Thread-safe: each line is written with a single write() (lines are never interleaved).
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace cdn::obs {

enum class Level { Debug, Info, Warn, Error };

using LogFields = std::initializer_list<std::pair<std::string_view, std::string>>;

void set_log_level(Level level);  // default Info
Level log_level();
bool log_enabled(Level level);
// Where lines go (default 2 = stderr). The fd stays owned by the caller.
void set_log_fd(int fd);

// Extra fields follow ts, level and msg in the given order; their values are JSON strings.
void log(Level level, std::string_view msg, LogFields fields = {});

// The line log() writes (with the trailing '\n'), for tests and other sinks.
std::string format_log_line(int64_t unix_ms, Level level, std::string_view msg, LogFields fields);

std::string_view level_name(Level level);  // "debug", "info", "warn", "error"
std::optional<Level> parse_level(std::string_view name);

// The contents of a JSON string literal (without the quotes): '"' and '\' escaped, control
// characters as \n, \t... or \u00XX, and every byte that is not part of valid UTF-8 as \u00XX,
// so the result is always valid JSON whatever the input.
std::string json_escape(std::string_view s);
// Appends "\"" + json_escape(s) + "\"" to out.
void append_json_string(std::string& out, std::string_view s);

// RFC 3339 UTC with milliseconds: "2026-11-21T05:24:48.123Z".
std::string rfc3339_ms(int64_t unix_ms);

}  // namespace cdn::obs
