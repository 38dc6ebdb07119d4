#pragma once
// ISO BMFF box parser for checking what the CMAF packager wrote (unit tests, the fuzz target, the
// bench's sanity check). It reads outside bytes, so every size is checked against its parent and
// nesting is bounded; a malformed input gives nullopt, never a read past the end.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cdn::live::fmp4 {

struct Box {
  std::string type;           // four characters
  size_t offset = 0;          // of the box header within the parsed buffer
  size_t size = 0;            // whole box
  std::string_view body;      // after the header (and for containers, children start here)
  std::vector<Box> children;  // for the container types the packager writes

  // The first descendant along a path such as "moof/traf/tfdt" (relative to this box).
  const Box* find(std::string_view path) const;
  std::vector<const Box*> all(std::string_view type) const;  // direct children of this type
};

inline constexpr int kMaxBoxDepth = 12;

// Top-level boxes of a file or segment. nullopt: a size that overruns its parent or is too small,
// nesting deeper than kMaxBoxDepth, or more than max_boxes boxes in all.
std::optional<std::vector<Box>> parse_boxes(std::string_view data, size_t max_boxes = 100000);
const Box* find_box(const std::vector<Box>& boxes, std::string_view path);

struct Tfhd {
  uint32_t track_id = 0;
  uint32_t flags = 0;
  std::optional<uint32_t> default_duration, default_size, default_flags;
};
struct TrunSample {
  uint32_t duration = 0;
  uint32_t size = 0;
  uint32_t flags = 0;
  int32_t composition_offset = 0;
};
struct Trun {
  uint32_t flags = 0;
  std::optional<int32_t> data_offset;
  std::optional<uint32_t> first_sample_flags;
  std::vector<TrunSample> samples;
};

// Field decoders over a box's body (the FullBox header included).
std::optional<uint32_t> parse_mfhd(std::string_view body);  // sequence number
std::optional<Tfhd> parse_tfhd(std::string_view body);
std::optional<uint64_t> parse_tfdt(std::string_view body);  // baseMediaDecodeTime
std::optional<Trun> parse_trun(std::string_view body);
std::optional<uint32_t> parse_mdhd_timescale(std::string_view body);

// Sample flags: sample_depends_on == 2 and not sample_is_non_sync_sample marks a sync sample.
inline bool is_sync_sample(uint32_t flags) {
  return !(flags & 0x00010000);
}

}  // namespace cdn::live::fmp4
