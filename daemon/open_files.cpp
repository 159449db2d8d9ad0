#include "open_files.hpp"

#include <spdlog/spdlog.h>

#include <charconv>
#include <fstream>

#include "../common/user_dirs.hpp"
#include "mux/file_io.hpp"

namespace rec {
namespace fs = std::filesystem;

namespace {

// Entries are named "<pid>-<n>": the pid says whose they are.
ProcessId owner(const fs::path& entry) {
    const std::string name = entry.filename().string();
    ProcessId pid = 0;
    std::from_chars(name.data(), name.data() + name.size(), pid);
    return pid;
}

}  // namespace

OpenFiles::OpenFiles(fs::path dir) : dir_(std::move(dir)) {
    if (dir_.empty()) return;
    std::error_code ec;
    fs::create_directories(dir_, ec);
    if (!ec) fs::permissions(dir_, fs::perms::owner_all, fs::perm_options::replace, ec);
    if (ec)
        spdlog::warn(
            "cannot use {} to note the files being written ({}): after a crash recd "
            "will not be able to say which files are unfinished",
            dir_.string(), ec.message());
}

fs::path OpenFiles::default_dir() {
    const fs::path state = state_dir();
    return state.empty() ? fs::path() : state / "recd" / "open";
}

std::vector<OpenFiles::Unfinished> OpenFiles::recover() {
    std::vector<Unfinished> found;
    std::error_code ec;
    if (dir_.empty() || !fs::is_directory(dir_, ec)) return found;
    // Called before this recd notes anything: an entry under its own pid is a predecessor's
    // that had the same pid (a container's first process, say).
    for (auto it = fs::directory_iterator(dir_, ec); !ec && it != fs::directory_iterator();
         it.increment(ec)) {
        const fs::directory_entry& entry = *it;
        const ProcessId pid = owner(entry.path());
        if (pid != current_process_id() && process_running(pid)) continue;
        Unfinished file;
        file.pid = pid;
        std::getline(std::ifstream(entry.path()), file.file);
        std::error_code size_ec;
        file.bytes = fs::file_size(path_from_utf8(file.file), size_ec);
        file.exists = !size_ec;
        if (!file.file.empty()) found.push_back(std::move(file));
        std::error_code ignored;
        fs::remove(entry.path(), ignored);
    }
    return found;
}

// The entry is on disk (written and synced) before the first frame goes into the file.
void OpenFiles::add(const std::string& file) {
    if (dir_.empty()) return;
    std::lock_guard lock(mutex_);
    const fs::path entry =
        dir_ / (std::to_string(current_process_id()) + "-" + std::to_string(next_++));
    auto out = WritableFile::create_new(entry);
    const std::string line = file + "\n";
    if (!out || !out.write_all(line.data(), line.size()) || !out.sync()) {
        spdlog::warn("cannot note {} as being written in {}: {}", file, utf8(dir_),
                     out.error_text());
        if (out) {  // half an entry would report a finished file later
            out.close();
            std::error_code ignored;
            fs::remove(entry, ignored);
        }
        return;
    }
    // The entry's name is durable too, so that it survives a power loss.
    if (Directory dir = Directory::open(dir_); dir) dir.sync();
    entries_[file] = entry;
}

void OpenFiles::remove(const std::string& file) {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(file);
    if (it == entries_.end()) return;
    std::error_code ignored;
    fs::remove(it->second, ignored);
    entries_.erase(it);
}

// They play up to their last flushed write (at most 2 s short, see mux/).
ipc::Json report_unfinished(OpenFiles& open_files) {
    ipc::Json list = ipc::Json::array();
    for (const auto& file : open_files.recover()) {
        if (file.exists)
            spdlog::warn(
                "unfinished recording {} ({} bytes): recd (pid {}) died while writing "
                "it; it plays up to its last write",
                file.file, file.bytes, file.pid);
        else
            spdlog::warn(
                "unfinished recording {}: recd (pid {}) died while writing it, and it "
                "is gone",
                file.file, file.pid);
        list.push_back(to_json(file));
    }
    return list;
}

ipc::Json to_json(const OpenFiles::Unfinished& file) {
    return {{"file", file.file}, {"exists", file.exists}, {"bytes", file.bytes}, {"pid", file.pid}};
}

}  // namespace rec
