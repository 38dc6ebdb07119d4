#pragma once
// The one reader of URL query strings (the part after '?'): the access gate, the cache key, the
// purge and admin routes, live ingest and geo steering all read queries through it.
//
// The rules, chosen to keep what every hand-written splitter before it did, so that no request
// changes meaning:
// - Pairs are separated by '&' only; ';' is an ordinary byte (as in the WHATWG URL standard and
//   in what the origins behind us parse).
// - Empty pairs do not exist ("a=1&&b=2", a leading or trailing '&'): the iterator skips them and
//   a rebuilt query drops them (the cache key never depended on them).
// - A pair's name is the bytes before its first '=', its value the bytes after it. "a" is a
//   parameter named "a" with no value (has_value false; it reads as the empty string); "a=" has
//   an empty value; "=b" has an empty name, which no lookup asks for and a rebuild keeps.
// - Names compare as raw bytes, never decoded or case-folded: "to%6Ben" is not "token". The cache
//   key and the upstream request carry the bytes as sent, so the parameter taken out of them is
//   exactly the one whose bytes would otherwise have gone there.
// - Repeated names: the iterator yields every pair in order; query_value() answers the first.
// - Values are decoded on demand, never by the iterator: %XX is the byte XX (either case) and '+'
//   is a space (form encoding, what every caller decoded before). A '%' without two hex digits
//   after it makes the value undecodable: decoding says so, and query_value() answers as if the
//   parameter were absent (each caller then refuses the request or takes its default, as before).
#include <cstddef>
#include <initializer_list>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>

namespace cdn::http {

// One non-empty pair; views into the query it came from.
struct QueryParam {
  std::string_view name;   // raw bytes before the first '='
  std::string_view value;  // raw bytes after it ("" when there is no '=')
  bool has_value = false;  // the pair has an '='
  std::string_view pair;   // the whole pair, as sent

  // Percent-decoded into `out` (its contents replaced, its capacity reused: a caller that keeps
  // one buffer decodes without allocating); false when the bytes hold a malformed escape.
  bool decoded_value(std::string& out) const;
  bool decoded_name(std::string& out) const;
};

// Forward iteration over a query's non-empty pairs, without allocating.
class QueryIterator {
 public:
  using iterator_category = std::forward_iterator_tag;
  using value_type = QueryParam;
  using difference_type = std::ptrdiff_t;
  using pointer = const QueryParam*;
  using reference = const QueryParam&;

  QueryIterator() = default;  // the end
  explicit QueryIterator(std::string_view query) : rest_(query), at_end_(false) { advance(); }

  reference operator*() const { return cur_; }
  pointer operator->() const { return &cur_; }
  QueryIterator& operator++() {
    advance();
    return *this;
  }
  QueryIterator operator++(int) {
    QueryIterator before = *this;
    advance();
    return before;
  }
  // Iterators over the same query are equal at the same pair (or both at the end).
  bool operator==(const QueryIterator& o) const {
    return at_end_ == o.at_end_ && (at_end_ || cur_.pair.data() == o.cur_.pair.data());
  }

 private:
  // Moves cur_ to the next non-empty pair in rest_, or to the end.
  void advance();

  std::string_view rest_;  // the query after cur_
  QueryParam cur_;
  bool at_end_ = true;
};

// `for (const QueryParam& p : QueryParams(query))`
class QueryParams {
 public:
  explicit QueryParams(std::string_view query) : query_(query) {}
  QueryIterator begin() const { return QueryIterator(query_); }
  QueryIterator end() const { return {}; }

 private:
  std::string_view query_;
};

// The first parameter named `name`, decoded ("" for a bare name); nullopt when there is none or
// its value holds a malformed escape.
std::optional<std::string> query_value(std::string_view query, std::string_view name);

// `query` without the parameters named in `names` and without empty pairs; the pairs kept keep
// their bytes and order (nothing is re-encoded, so what keys on them stays stable). An empty
// string in `names` matches nothing (a caller passes an optional name as "").
std::string query_without(std::string_view query, std::initializer_list<std::string_view> names);

}  // namespace cdn::http
