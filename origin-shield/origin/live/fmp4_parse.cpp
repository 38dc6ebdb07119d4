#include "origin-shield/origin/live/fmp4_parse.h"

#include <array>

namespace cdn::live::fmp4 {
namespace {

class Reader {
 public:
  explicit Reader(std::string_view d) : d_(d) {}
  bool has(size_t n) const { return d_.size() - pos_ >= n; }
  size_t left() const { return d_.size() - pos_; }
  uint64_t read(int bytes) {
    uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v = (v << 8) | uint8_t(d_[pos_++]);
    return v;
  }
  bool take(int bytes, uint64_t& v) {
    if (!has(size_t(bytes))) return false;
    v = read(bytes);
    return true;
  }

 private:
  std::string_view d_;
  size_t pos_ = 0;
};

// Boxes whose body is only child boxes, and those with a fixed prefix before their children.
size_t child_offset(std::string_view type) {
  static constexpr std::array<std::string_view, 12> kContainers = {"moov", "trak", "mdia", "minf",
                                                                   "stbl", "mvex", "moof", "traf",
                                                                   "dinf", "edts", "mfra", "udta"};
  for (auto c : kContainers)
    if (type == c) return 0;
  if (type == "stsd" || type == "dref") return 8;  // FullBox header + entry count
  if (type == "avc1" || type == "avc3" || type == "hvc1" || type == "hev1") return 78;
  if (type == "mp4a" || type == "ac-3") return 28;
  return std::string_view::npos;
}

struct Parser {
  std::string_view all;
  size_t max_boxes;
  size_t count = 0;

  bool parse(size_t begin, size_t end, int depth, std::vector<Box>& out) {
    if (depth > kMaxBoxDepth) return false;
    size_t pos = begin;
    while (pos < end) {
      if (end - pos < 8 || ++count > max_boxes) return false;
      Reader r(all.substr(pos, end - pos));
      uint64_t size = r.read(4);
      Box b;
      b.type.assign(all.data() + pos + 4, 4);
      r.read(4);
      size_t header = 8;
      if (size == 1) {
        if (!r.take(8, size)) return false;
        header = 16;
      } else if (size == 0) {
        size = end - pos;  // to the end of the enclosing space
      }
      if (size < header || size > end - pos) return false;
      b.offset = pos;
      b.size = size_t(size);
      b.body = all.substr(pos + header, b.size - header);
      const size_t skip = child_offset(b.type);
      if (skip != std::string_view::npos) {
        if (b.body.size() < skip) return false;
        if (!parse(pos + header + skip, pos + b.size, depth + 1, b.children)) return false;
      }
      out.push_back(std::move(b));
      pos += out.back().size;
    }
    return true;
  }
};

}  // namespace

std::optional<std::vector<Box>> parse_boxes(std::string_view data, size_t max_boxes) {
  Parser p{data, max_boxes};
  std::vector<Box> out;
  if (!p.parse(0, data.size(), 0, out)) return std::nullopt;
  return out;
}

const Box* find_box(const std::vector<Box>& boxes, std::string_view path) {
  const size_t slash = path.find('/');
  const std::string_view head = path.substr(0, slash);
  for (const Box& b : boxes) {
    if (b.type != head) continue;
    if (slash == std::string_view::npos) return &b;
    return b.find(path.substr(slash + 1));
  }
  return nullptr;
}

const Box* Box::find(std::string_view path) const {
  return find_box(children, path);
}

std::vector<const Box*> Box::all(std::string_view type) const {
  std::vector<const Box*> out;
  for (const Box& b : children)
    if (b.type == type) out.push_back(&b);
  return out;
}

std::optional<uint32_t> parse_mfhd(std::string_view body) {
  Reader r(body);
  uint64_t vf, seq;
  if (!r.take(4, vf) || !r.take(4, seq)) return std::nullopt;
  return uint32_t(seq);
}

std::optional<Tfhd> parse_tfhd(std::string_view body) {
  Reader r(body);
  uint64_t vf, v;
  if (!r.take(4, vf) || !r.take(4, v)) return std::nullopt;
  Tfhd t;
  t.flags = uint32_t(vf & 0xFFFFFF);
  t.track_id = uint32_t(v);
  if (t.flags & 0x01 && !r.take(8, v)) return std::nullopt;  // base_data_offset
  if (t.flags & 0x02 && !r.take(4, v)) return std::nullopt;  // sample_description_index
  if (t.flags & 0x08) {
    if (!r.take(4, v)) return std::nullopt;
    t.default_duration = uint32_t(v);
  }
  if (t.flags & 0x10) {
    if (!r.take(4, v)) return std::nullopt;
    t.default_size = uint32_t(v);
  }
  if (t.flags & 0x20) {
    if (!r.take(4, v)) return std::nullopt;
    t.default_flags = uint32_t(v);
  }
  return t;
}

std::optional<uint64_t> parse_tfdt(std::string_view body) {
  Reader r(body);
  uint64_t vf, t;
  if (!r.take(4, vf)) return std::nullopt;
  if (!r.take(vf >> 24 == 1 ? 8 : 4, t)) return std::nullopt;
  return t;
}

std::optional<Trun> parse_trun(std::string_view body) {
  Reader r(body);
  uint64_t vf, count, v;
  if (!r.take(4, vf) || !r.take(4, count)) return std::nullopt;
  Trun t;
  t.flags = uint32_t(vf & 0xFFFFFF);
  if (t.flags & 0x001) {
    if (!r.take(4, v)) return std::nullopt;
    t.data_offset = int32_t(uint32_t(v));
  }
  if (t.flags & 0x004) {
    if (!r.take(4, v)) return std::nullopt;
    t.first_sample_flags = uint32_t(v);
  }
  const int per_sample = 4 * (bool(t.flags & 0x100) + bool(t.flags & 0x200) +
                              bool(t.flags & 0x400) + bool(t.flags & 0x800));
  // The count is outside input: bound it by the bytes actually present before reserving.
  if (per_sample > 0 && count > r.left() / size_t(per_sample)) return std::nullopt;
  t.samples.reserve(per_sample > 0 ? size_t(count) : 0);
  for (uint64_t i = 0; i < count && per_sample > 0; ++i) {
    TrunSample s;
    if (t.flags & 0x100) s.duration = uint32_t(r.read(4));
    if (t.flags & 0x200) s.size = uint32_t(r.read(4));
    if (t.flags & 0x400) s.flags = uint32_t(r.read(4));
    if (t.flags & 0x800) s.composition_offset = int32_t(uint32_t(r.read(4)));
    t.samples.push_back(s);
  }
  return t;
}

std::optional<uint32_t> parse_mdhd_timescale(std::string_view body) {
  Reader r(body);
  uint64_t vf, v;
  if (!r.take(4, vf)) return std::nullopt;
  const int field = vf >> 24 == 1 ? 8 : 4;
  if (!r.take(field, v) || !r.take(field, v) || !r.take(4, v)) return std::nullopt;
  return uint32_t(v);
}

}  // namespace cdn::live::fmp4
