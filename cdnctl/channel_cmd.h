#pragma once
// `cdnctl channel add|remove|list|rotate-key`: the origin's live channels through its admin API.
namespace cdn::ctl {

// argv[0] is the first word after "channel".
int channel_main(int argc, char** argv);

}  // namespace cdn::ctl
