#pragma once
// A journal of the recording files being written, so that after recd dies without finishing
// them (SIGKILL, a crash, power loss) the next recd can say which files are unfinished: each
// file recd opens gets an entry in the journal directory (one small file holding its path,
// named after the writing recd's pid), removed once the file is closed. The directory is
// persistent (under $XDG_STATE_HOME) so that the report survives a reboot too.
//
// add() and remove() are called from the thread that opens or closes a recording file (the
// session's venc/aenc threads or the worker pool); recover() by main before the server starts.
#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "../common/ipc/protocol.hpp"
#include "process.hpp"

namespace rec {

class OpenFiles {
public:
    // `dir` empty: journaling is off (no writable state directory); nothing is reported.
    explicit OpenFiles(std::filesystem::path dir);

    // $XDG_STATE_HOME/recd/open, or ~/.local/state/recd/open; on Windows
    // %LOCALAPPDATA%\recd\open; empty if none can be known (user_dirs.hpp).
    static std::filesystem::path default_dir();

    struct Unfinished {
        std::string file;
        bool exists = false;
        uint64_t bytes = 0;
        ProcessId pid = 0;  // the recd that was writing it
    };
    // The files an earlier recd left unfinished (its pid no longer runs). Their entries are
    // removed: each is reported once. Entries of a recd that still runs (another socket of the
    // same user) are left alone.
    std::vector<Unfinished> recover();

    void add(const std::string& file);
    void remove(const std::string& file);

private:
    const std::filesystem::path dir_;
    std::mutex mutex_;
    uint64_t next_ = 0;
    std::map<std::string, std::filesystem::path> entries_;  // recording file -> its entry
};

ipc::Json to_json(const OpenFiles::Unfinished& file);

// Main thread, before the server serves: logs the files an earlier recd (killed, crashed, or
// the machine lost power) was writing when it died (open_files.recover()), and lists them for
// `status`.
ipc::Json report_unfinished(OpenFiles& open_files);

}  // namespace rec
