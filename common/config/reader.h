#pragma once
// A small validating reader over yaml-cpp, shared by every program's config sections.
//
// Every problem is collected (not just the first) as "file:line: path: message" with a 1-based
// line, where path names the key, e.g. "cache.default_ttls[0].ttl". A section reader asks a
// MapReader for the keys of its schema; finish() (or the destructor) then reports every key that
// nobody asked for, so a typo anywhere is an error. Nothing here throws.
//
//   Diagnostics diag("edge.yaml");
//   auto root = MapReader::parse(text, diag);            // syntax errors go to diag
//   if (auto v = root->get_int("workers", 0, 256)) cfg.workers = *v;
//   auto addr = root->get_host_port(required("address")); // missing => error
//   for (MapReader& m : root->get_maps("listen")) { ... m.finish(); }
//   root->finish();
//   if (!diag.ok()) return diag.error();
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "common/config/parse_units.h"
#include "common/util/result.h"

namespace cdn::config {

// The errors of one file.
class Diagnostics {
 public:
  explicit Diagnostics(std::string file_name) : file_(std::move(file_name)) {}
  // line is 1-based; 0 means "no line known" and prints as "file: message".
  void add(int line, std::string_view message);
  bool ok() const { return errors_.empty(); }
  const std::vector<std::string>& errors() const { return errors_; }
  const std::string& file() const { return file_; }
  // All errors joined by '\n'.
  Error error() const;
  Result<void> result() const;

 private:
  std::string file_;
  std::vector<std::string> errors_;  // sorted by line
  std::vector<int> lines_;
};

// A key name, optionally marked required: get_string(required("cert")).
struct Key {
  Key(const char* n) : name(n) {}
  Key(std::string_view n) : name(n) {}
  std::string_view name;
  bool required = false;
};
inline Key required(std::string_view name) {
  Key k(name);
  k.required = true;
  return k;
}

// Assigns an optional result to a config field when present: set(cfg.workers, r.get_int(...)).
template <typename T, typename U>
void set(T& field, std::optional<U> value) {
  if (value) field = static_cast<T>(std::move(*value));
}

class MapReader {
 public:
  // Parses one YAML document whose top level must be a map. On a syntax error, an empty document,
  // or a non-map top level, the problem is added to diag and nullopt returned.
  static std::optional<MapReader> parse(std::string_view yaml_text, Diagnostics& diag);
  // Reads `node` (must be a map; null counts as an empty map) found at `path`. `diag` must
  // outlive the reader (its destructor may still report unknown keys).
  MapReader(const YAML::Node& node, Diagnostics& diag, std::string path);
  MapReader(MapReader&&) noexcept;
  MapReader& operator=(MapReader&&) = delete;
  MapReader(const MapReader&) = delete;
  ~MapReader();  // calls finish() if it was not called

  bool has(std::string_view key) const;
  int line() const { return line_; }
  const std::string& path() const { return path_; }
  // Line of the key's value (the map's line if the key is absent).
  int line_of(std::string_view key) const;

  // Each getter returns nullopt when the key is absent (an error if required) or the value is
  // invalid (an error naming the value). A null value ("key:" with nothing) is an error.
  std::optional<std::string> get_string(Key key, bool allow_empty = true);
  std::optional<int64_t> get_int(Key key, int64_t min, int64_t max);
  std::optional<bool> get_bool(Key key);
  std::optional<int64_t> get_duration_ms(Key key, int64_t min_ms = 0,
                                         int64_t max_ms = INT64_MAX);
  std::optional<uint64_t> get_size(Key key, uint64_t min = 0, uint64_t max = UINT64_MAX);
  std::optional<HostPort> get_host_port(Key key);
  // One of `allowed`; the error lists them.
  std::optional<std::string> get_enum(Key key, std::initializer_list<std::string_view> allowed);
  // A list of scalars ("[a, b]" or block list); null counts as empty.
  std::optional<std::vector<std::string>> get_string_list(Key key);
  // A nested map; null counts as an empty map.
  std::optional<MapReader> get_map(Key key);
  // A list whose items must be maps, each read at "path.key[i]". Absent => empty vector.
  // `min_items` > 0 reports a shorter (or, when required, missing) list.
  std::vector<MapReader> get_maps(Key key, size_t min_items = 0);

  // Marks a key as handled without reading it (e.g. a forbidden section already reported), so
  // finish() does not report it or anything inside it.
  void skip(std::string_view key) { find(key); }

  // Cross-field problems found by the section reader: at the map's line, or at a key's value.
  void error(std::string_view message);
  void error(std::string_view key, std::string_view message);

  // Reports every key that no getter asked for ("unknown key", with a suggestion when close to a
  // known one). Idempotent.
  void finish();

 private:
  struct Entry {
    std::string key;
    YAML::Node value;
    int key_line;
  };
  const Entry* find(std::string_view key);  // also marks the key as known
  // The entry for `key` when present and non-null; reports missing/null otherwise.
  const Entry* value_of(const Key& key);
  std::optional<std::string> scalar(const Key& key, std::string_view expected);
  // The scalar at key converted by parse (returning Result<T>); its error is reported.
  template <typename T, typename Parse>
  std::optional<T> parsed(const Key& key, std::string_view expected, Parse&& parse);
  // v unless it lies outside min..max (reported).
  template <typename T>
  std::optional<T> in_range(const Key& key, std::optional<T> v, T min, T max,
                            std::string_view unit);
  void report(int line, std::string_view key, std::string_view message);
  std::string child_path(std::string_view key) const;

  Diagnostics* diag_;
  std::string path_;
  int line_;
  std::vector<Entry> entries_;
  std::vector<std::string> known_;
  bool finished_ = false;
};

// 1-based line of a node (0 if it has none).
int line_of(const YAML::Node& node);

// Reads a whole file; the error names the path and the OS reason.
Result<std::string> read_file(const std::string& path);

}  // namespace cdn::config
