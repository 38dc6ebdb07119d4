#include "common/config/reader.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sstream>

#include <fcntl.h>
#include <unistd.h>

#include <yaml-cpp/eventhandler.h>

#include "common/util/strings.h"

namespace cdn::config {
namespace {

std::string quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

const char* kind_of(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Null: return "nothing";
    case YAML::NodeType::Scalar: return "a scalar";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Map: return "a map";
    default: return "an undefined value";
  }
}

}  // namespace

int line_of(const YAML::Node& node) {
  if (!node.IsDefined()) return 0;
  YAML::Mark m = node.Mark();
  return m.is_null() || m.line < 0 ? 0 : m.line + 1;
}

void Diagnostics::add(int line, std::string_view message) {
  std::string e = file_;
  if (line > 0) e += ":" + std::to_string(line);
  e += ": ";
  e += message;
  // Keep errors in file order (nested readers finish before their parents).
  auto pos = std::upper_bound(lines_.begin(), lines_.end(), line) - lines_.begin();
  lines_.insert(lines_.begin() + pos, line);
  errors_.insert(errors_.begin() + pos, std::move(e));
}

Error Diagnostics::error() const {
  std::string all;
  for (const auto& e : errors_) {
    if (!all.empty()) all += '\n';
    all += e;
  }
  return Error{std::move(all)};
}

Result<void> Diagnostics::result() const {
  if (ok()) return {};
  return error();
}

namespace {

// Records where each document starts; the events themselves are not needed.
class DocumentCounter : public YAML::EventHandler {
 public:
  std::vector<YAML::Mark> starts;
  void OnDocumentStart(const YAML::Mark& mark) override { starts.push_back(mark); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

// Start of a second document, if any. YAML::LoadAll is not used: in yaml-cpp 0.7 it loops
// forever on some bad input such as " ,=" (jbeder/yaml-cpp#1040), so this stops after two.
std::optional<YAML::Mark> second_document(const std::string& text) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  DocumentCounter counter;
  for (int i = 0; i < 2 && parser.HandleNextDocument(counter); ++i) {
  }
  if (counter.starts.size() < 2) return std::nullopt;
  return counter.starts[1];
}

}  // namespace

std::optional<MapReader> MapReader::parse(std::string_view yaml_text, Diagnostics& diag) {
  const std::string text(yaml_text);
  YAML::Node doc;
  std::optional<YAML::Mark> second;
  try {
    doc = YAML::Load(text);
    if (doc.IsMap()) second = second_document(text);
  } catch (const YAML::Exception& e) {
    int line = e.mark.is_null() ? 0 : e.mark.line + 1;
    diag.add(line, "YAML syntax error: " + (e.msg.empty() ? std::string(e.what()) : e.msg));
    return std::nullopt;
  } catch (const std::exception& e) {
    diag.add(0, std::string("cannot parse YAML: ") + e.what());
    return std::nullopt;
  }
  if (doc.IsNull()) {
    diag.add(0, "empty config");
    return std::nullopt;
  }
  if (!doc.IsMap()) {
    diag.add(config::line_of(doc),
             std::string("top level must be a map of keys, got ") + kind_of(doc));
    return std::nullopt;
  }
  if (second) {
    diag.add(second->line + 1, "more than one YAML document; expected one");
    return std::nullopt;
  }
  return std::optional<MapReader>(std::in_place, doc, diag, "");
}

MapReader::MapReader(const YAML::Node& node, Diagnostics& diag, std::string path)
    : diag_(&diag), path_(std::move(path)), line_(config::line_of(node)) {
  if (node.IsNull()) return;
  if (!node.IsMap()) {
    diag_->add(line_, (path_.empty() ? std::string("value") : path_) + ": expected a map, got " +
                          kind_of(node));
    return;
  }
  for (const auto& kv : node) {  // a pair by value: it->first would dangle
    const YAML::Node& k = kv.first;
    int kline = config::line_of(k) ? config::line_of(k) : line_;
    if (!k.IsScalar()) {
      diag_->add(kline, child_path("?") + ": keys must be plain strings");
      continue;
    }
    std::string name = k.Scalar();
    bool dup = std::any_of(entries_.begin(), entries_.end(),
                           [&](const Entry& e) { return e.key == name; });
    if (dup) {
      diag_->add(kline, child_path(name) + ": duplicate key");
      continue;
    }
    entries_.push_back(Entry{std::move(name), kv.second, kline});
  }
}

MapReader::MapReader(MapReader&& o) noexcept
    : diag_(o.diag_),
      path_(std::move(o.path_)),
      line_(o.line_),
      entries_(std::move(o.entries_)),
      known_(std::move(o.known_)),
      finished_(o.finished_) {
  o.finished_ = true;
}

MapReader::~MapReader() { finish(); }

std::string MapReader::child_path(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

void MapReader::report(int line, std::string_view key, std::string_view message) {
  std::string p = key.empty() ? (path_.empty() ? std::string("config") : path_) : child_path(key);
  diag_->add(line > 0 ? line : line_, p + ": " + std::string(message));
}

const MapReader::Entry* MapReader::find(std::string_view key) {
  if (std::find(known_.begin(), known_.end(), key) == known_.end()) known_.emplace_back(key);
  for (const auto& e : entries_)
    if (e.key == key) return &e;
  return nullptr;
}

bool MapReader::has(std::string_view key) const {
  return std::any_of(entries_.begin(), entries_.end(),
                     [&](const Entry& e) { return e.key == key; });
}

int MapReader::line_of(std::string_view key) const {
  for (const auto& e : entries_) {
    if (e.key != key) continue;
    int l = config::line_of(e.value);
    return l > 0 ? l : e.key_line;
  }
  return line_;
}

const MapReader::Entry* MapReader::value_of(const Key& key) {
  const Entry* e = find(key.name);
  if (!e) {
    if (key.required) report(line_, key.name, "required key is missing");
    return nullptr;
  }
  if (e->value.IsNull()) {
    report(e->key_line, key.name, "has no value");
    return nullptr;
  }
  return e;
}

std::optional<std::string> MapReader::scalar(const Key& key, std::string_view expected) {
  const Entry* e = value_of(key);
  if (!e) return std::nullopt;
  if (!e->value.IsScalar()) {
    report(line_of(key.name), key.name,
           "expected " + std::string(expected) + ", got " + kind_of(e->value));
    return std::nullopt;
  }
  return e->value.Scalar();
}

std::optional<std::string> MapReader::get_string(Key key, bool allow_empty) {
  auto s = scalar(key, "a string");
  if (s && !allow_empty && s->empty()) {
    report(line_of(key.name), key.name, "must not be empty");
    return std::nullopt;
  }
  return s;
}

template <typename T, typename Parse>
std::optional<T> MapReader::parsed(const Key& key, std::string_view expected, Parse&& parse) {
  auto s = scalar(key, expected);
  if (!s) return std::nullopt;
  Result<T> v = parse(*s);
  if (!v) {
    report(line_of(key.name), key.name, v.error().message);
    return std::nullopt;
  }
  return std::move(*v);
}

template <typename T>
std::optional<T> MapReader::in_range(const Key& key, std::optional<T> v, T min, T max,
                                     std::string_view unit) {
  if (!v || (*v >= min && *v <= max)) return v;
  report(line_of(key.name), key.name,
         "value " + std::to_string(*v) + std::string(unit) + " is out of range " +
             std::to_string(min) + ".." + std::to_string(max) + std::string(unit));
  return std::nullopt;
}

std::optional<int64_t> MapReader::get_int(Key key, int64_t min, int64_t max) {
  auto v = parsed<int64_t>(key, "an integer", [](const std::string& s) -> Result<int64_t> {
    if (auto n = parse_int(s)) return *n;
    return make_error("expected an integer, got " + quoted(s));
  });
  return in_range<int64_t>(key, v, min, max, "");
}

std::optional<bool> MapReader::get_bool(Key key) {
  auto s = scalar(key, "true or false");
  if (!s) return std::nullopt;
  const std::string v = to_lower(*s);
  if (v == "true" || v == "yes" || v == "on") return true;
  if (v == "false" || v == "no" || v == "off") return false;
  report(line_of(key.name), key.name, "expected true or false, got " + quoted(*s));
  return std::nullopt;
}

std::optional<int64_t> MapReader::get_duration_ms(Key key, int64_t min_ms, int64_t max_ms) {
  auto v = parsed<int64_t>(key, "a duration", parse_duration_ms);
  return in_range<int64_t>(key, v, min_ms, max_ms, "ms");
}

std::optional<uint64_t> MapReader::get_size(Key key, uint64_t min, uint64_t max) {
  auto v = parsed<uint64_t>(key, "a size", parse_size_bytes);
  return in_range<uint64_t>(key, v, min, max, " bytes");
}

std::optional<HostPort> MapReader::get_host_port(Key key) {
  return parsed<HostPort>(key, "host:port", parse_host_port);
}

std::optional<std::string> MapReader::get_enum(Key key,
                                               std::initializer_list<std::string_view> allowed) {
  std::string list;
  for (auto a : allowed) list += (list.empty() ? "" : " | ") + std::string(a);
  auto s = scalar(key, list);
  if (!s) return std::nullopt;
  if (std::find(allowed.begin(), allowed.end(), *s) != allowed.end()) return s;
  report(line_of(key.name), key.name, "expected one of " + list + ", got " + quoted(*s));
  return std::nullopt;
}

std::optional<std::vector<std::string>> MapReader::get_string_list(Key key) {
  const Entry* e = find(key.name);
  if (!e) {
    if (key.required) report(line_, key.name, "required key is missing");
    return std::nullopt;
  }
  std::vector<std::string> out;
  if (e->value.IsNull()) return out;
  if (!e->value.IsSequence()) {
    report(line_of(key.name), key.name, std::string("expected a list, got ") + kind_of(e->value));
    return std::nullopt;
  }
  bool ok = true;
  for (size_t i = 0; i < e->value.size(); ++i) {
    const YAML::Node item = e->value[i];
    if (!item.IsScalar()) {
      report(config::line_of(item), std::string(key.name) + "[" + std::to_string(i) + "]",
             std::string("expected a string, got ") + kind_of(item));
      ok = false;
      continue;
    }
    out.push_back(item.Scalar());
  }
  if (!ok) return std::nullopt;
  return out;
}

std::optional<MapReader> MapReader::get_map(Key key) {
  const Entry* e = find(key.name);
  if (!e) {
    if (key.required) report(line_, key.name, "required key is missing");
    return std::nullopt;
  }
  if (!e->value.IsNull() && !e->value.IsMap()) {
    report(line_of(key.name), key.name, std::string("expected a map, got ") + kind_of(e->value));
    return std::nullopt;
  }
  return std::optional<MapReader>(std::in_place, e->value, *diag_, child_path(key.name));
}

std::vector<MapReader> MapReader::get_maps(Key key, size_t min_items) {
  std::vector<MapReader> out;
  const Entry* e = find(key.name);
  if (!e) {
    if (key.required) report(line_, key.name, "required key is missing");
    return out;
  }
  if (!e->value.IsNull() && !e->value.IsSequence()) {
    report(line_of(key.name), key.name, std::string("expected a list, got ") + kind_of(e->value));
    return out;
  }
  const size_t n = e->value.IsNull() ? 0 : e->value.size();
  if (n < min_items) {
    report(line_of(key.name), key.name,
           min_items == 1 ? std::string("needs at least one entry")
                          : "needs at least " + std::to_string(min_items) + " entries");
  }
  for (size_t i = 0; i < n; ++i) {
    const YAML::Node item = e->value[i];
    std::string item_path = child_path(key.name) + "[" + std::to_string(i) + "]";
    if (!item.IsMap()) {
      diag_->add(config::line_of(item) ? config::line_of(item) : line_of(key.name),
                 item_path + ": expected a map, got " + kind_of(item));
      continue;
    }
    out.emplace_back(item, *diag_, std::move(item_path));
  }
  return out;
}

void MapReader::error(std::string_view message) { report(line_, "", message); }

void MapReader::error(std::string_view key, std::string_view message) {
  report(line_of(key), key, message);
}

void MapReader::finish() {
  if (finished_) return;
  finished_ = true;
  for (const auto& e : entries_) {
    if (std::find(known_.begin(), known_.end(), e.key) != known_.end()) continue;
    std::string msg = "unknown key";
    const std::string* best = nullptr;
    size_t best_d = 3;  // suggest only close matches
    for (const auto& k : known_) {
      size_t d = edit_distance(e.key, k);
      if (d < best_d) best_d = d, best = &k;
    }
    if (best) msg += " (did you mean \"" + *best + "\"?)";
    report(e.key_line, e.key, msg);
  }
}

Result<std::string> read_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return make_error(path + ": cannot open: " + std::strerror(errno));
  std::string out;
  char buf[16384];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return make_error(path + ": cannot read: " + std::strerror(err));
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

}  // namespace cdn::config
