#pragma once
// `cdnctl token sign | verify | keygen`: offline, no node involved.
namespace cdn::ctl {

// argv[0] is the subcommand ("sign", ...). Returns the exit code.
int token_main(int argc, char** argv);

}  // namespace cdn::ctl
