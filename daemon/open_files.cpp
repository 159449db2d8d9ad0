#include "open_files.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include "../common/unique_fd.hpp"

namespace rec {
namespace fs = std::filesystem;

namespace {

bool running(pid_t pid) { return pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM); }

// Entries are named "<pid>-<n>": the pid says whose they are.
pid_t owner(const fs::path& entry) {
    const std::string name = entry.filename().string();
    pid_t pid = 0;
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
    if (const char* state = std::getenv("XDG_STATE_HOME"); state && *state)
        return fs::path(state) / "recd" / "open";
    if (const char* home = std::getenv("HOME"); home && *home)
        return fs::path(home) / ".local" / "state" / "recd" / "open";
    return {};
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
        const pid_t pid = owner(entry.path());
        if (pid != getpid() && running(pid)) continue;
        Unfinished file;
        file.pid = pid;
        std::getline(std::ifstream(entry.path()), file.file);
        std::error_code size_ec;
        file.bytes = fs::file_size(file.file, size_ec);
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
    const fs::path entry = dir_ / (std::to_string(getpid()) + "-" + std::to_string(next_++));
    UniqueFd fd(::open(entry.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    const std::string line = file + "\n";
    if (!fd || ::write(fd.get(), line.data(), line.size()) != static_cast<ssize_t>(line.size()) ||
        ::fsync(fd.get()) != 0) {
        spdlog::warn("cannot note {} as being written in {}: {}", file, dir_.string(),
                     std::strerror(errno));
        if (fd) ::unlink(entry.c_str());  // half an entry would report a finished file later
        return;
    }
    // The entry's name is durable too, so that it survives a power loss.
    if (UniqueFd dir(::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)); dir)
        ::fsync(dir.get());
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

ipc::Json to_json(const OpenFiles::Unfinished& file) {
    return {{"file", file.file}, {"exists", file.exists}, {"bytes", file.bytes}, {"pid", file.pid}};
}

}  // namespace rec
