// cluedrop: the command-line tool.
#include "cli/cli.h"

int main(int argc, char** argv) { return cluedrop::cli::RunCli(argc, argv); }
