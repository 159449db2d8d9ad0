#pragma once
// recctl's process and console, where POSIX and Windows differ: its arguments, Ctrl-C during
// `status --watch`, and whether stdout is a screen to redraw. One declaration, one definition
// per system, picked by client/CMakeLists.txt: posix_console.cpp, windows_console.cpp. Called
// by recctl's main thread; interrupted() is set from a signal handler (POSIX) or a console
// control handler's thread (Windows).
#include <string>
#include <vector>

namespace rec::recctl {

// recctl's arguments after the program's name, in CLI11's order (reversed), as UTF-8: the
// protocol's encoding. POSIX passes them on as they are; Windows reads the UTF-16 command line
// (argv is in the ANSI code page, which cannot hold every name or path).
std::vector<std::string> arguments(int argc, char** argv);

// From now on Ctrl-C (and, on POSIX, SIGTERM) no longer ends recctl but sets interrupted().
void catch_interrupts();
bool interrupted();

// Whether stdout is a terminal that understands ANSI escapes (to clear and redraw it). On a
// Windows console this switches its VT processing on.
bool stdout_is_ansi_terminal();

}  // namespace rec::recctl
