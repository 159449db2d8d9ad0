#include "systemd_journal.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace rec {

bool stderr_is_journal() {
    const char* stream = std::getenv("JOURNAL_STREAM");
    if (!stream) return false;
    unsigned long long device = 0, inode = 0;
    if (std::sscanf(stream, "%llu:%llu", &device, &inode) != 2) return false;
    // Inherited by a child whose stderr went elsewhere (recd started from a shell in a service):
    // only the very file counts.
    struct stat st {};
    return fstat(STDERR_FILENO, &st) == 0 && st.st_dev == device && st.st_ino == inode;
}

bool started_by_systemd() { return std::getenv("INVOCATION_ID") != nullptr; }

}  // namespace rec
