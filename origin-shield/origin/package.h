#pragma once
// `cdn-origin package INPUT.ts --channel NAME [--rendition NAME] [--config FILE | --store DIR]
//  [--target-duration SECONDS]`: segments an MPEG-TS file with the live segmenter and stores it
// in the live store as HLS VOD (a playlist with every segment and EXT-X-ENDLIST), served by
// cdn-origin at /live/<channel>/master.m3u8 and /live/<channel>/<rendition>/index.m3u8.
// RocksDB allows one writer: run it while cdn-origin is stopped (a running origin picks the
// package up at its next start).
namespace cdn::origin {

// argv[0] is "package".
int package_main(int argc, char** argv);

}  // namespace cdn::origin
