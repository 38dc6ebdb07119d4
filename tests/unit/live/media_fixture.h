#pragma once
// Real MPEG-TS input made by ffmpeg once per test run (cached in a temp dir), plus small helpers
// to run tools and read files.
#include <string>

namespace cdn::live::testing {

enum class Clip {
  kH264Aac10s,     // 320x240@25 4:2:0, 2 s GOP, AAC 48 kHz, B-frames
  kH264Aac4sB,     // a separately encoded 4 s clip (for encoder restart)
  kH264Wrap8s,     // timestamps start ~3.7 s before the 33-bit wrap
  kHevcAac4s,      // libx265, 2 s GOP
  kAacOnly6s,      // no video
};

// Path of the clip's .ts file; generated on first use. Empty if ffmpeg failed.
const std::string& clip_path(Clip clip);
std::string read_file(const std::string& path);
void write_file(const std::string& path, const std::string& data);
std::string temp_dir();
// Runs a shell command, returns its stdout ("" and exit status != 0 reported through `ok`).
std::string run(const std::string& command, bool* ok = nullptr);

}  // namespace cdn::live::testing
