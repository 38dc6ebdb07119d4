#pragma once
// Playlist text from the model. EXT-X-VERSION is computed from the features used (RFC 8216 §7),
// never copied from the model, so an edited playlist cannot claim a version it does not need.
#include <string>

#include "common/hls/playlist.h"

namespace cdn::hls {

std::string write(const MediaPlaylist& playlist);
std::string write(const MasterPlaylist& playlist);

int required_version(const MediaPlaylist& playlist);
int required_version(const MasterPlaylist& playlist);

// A segment's EXT-X-DATERANGE, EXT-X-CUE-IN and EXT-X-CUE-OUT lines (for writers of their own).
void write_segment_cues(std::string& out, const Segment& s);

}  // namespace cdn::hls
