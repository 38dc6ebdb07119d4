#pragma once
// Shared assertions on segmenter output: what every segment must look like to a player.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "origin-shield/origin/live/segmenter.h"

namespace cdn::live::testing {

std::vector<Segment> segment_all(const std::string& ts, SegmenterConfig config = {},
                                 size_t chunk = 0);
// Starts with PAT, PMT, then the first video PES, which is a keyframe (audio-only: audio PES).
void expect_well_formed(const Segment& s, bool video = true);
// EXTINF durations equal the PTS distance to the next segment within one frame; last one from
// its own last frame.
void expect_durations_match_timestamps(const std::vector<Segment>& segs);

}  // namespace cdn::live::testing
