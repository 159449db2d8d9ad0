// POSIX files (file_io.hpp): descriptors opened with O_EXCL | O_NOFOLLOW, fsync, statvfs.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

#include "file_io.hpp"

namespace rec {
namespace {

// Every file recd creates: write-only, only where nothing is, never through a symlink, not
// inherited by a hook's process.
constexpr int create_flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
// A recording is what a user saw and heard: readable by that user only.
constexpr mode_t create_mode = 0600;

int fd(std::intptr_t handle) { return static_cast<int>(handle); }

}  // namespace

WritableFile WritableFile::create_new(const std::filesystem::path& path) {
    WritableFile file(::open(path.c_str(), create_flags, create_mode));
    if (!file) file.fail();
    return file;
}

void WritableFile::fail() {
    errno_ = errno;
    error_text_ = std::strerror(errno_);
}

bool WritableFile::write_all(const void* data, size_t size) {
    const auto* bytes = static_cast<const char*>(data);
    for (size_t done = 0; done < size;) {
        const ssize_t n = ::write(fd(handle_), bytes + done, size - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            fail();
            return false;
        }
        done += static_cast<size_t>(n);
    }
    return true;
}

int64_t WritableFile::seek(int64_t offset, int whence) {
    const off_t at = ::lseek(fd(handle_), offset, whence);
    if (at < 0) fail();
    return at;
}

int64_t WritableFile::size() {
    struct stat st {};
    if (::fstat(fd(handle_), &st) == 0) return st.st_size;
    fail();
    return -1;
}

bool WritableFile::sync() {
    if (::fsync(fd(handle_)) == 0) return true;
    fail();
    return false;
}

void WritableFile::close() {
    if (handle_ != invalid) ::close(fd(std::exchange(handle_, invalid)));
}

void Directory::close() {
    if (handle_ != invalid) ::close(fd(std::exchange(handle_, invalid)));
}

Directory Directory::open(const std::filesystem::path& path) {
    Directory dir;
    dir.path_ = path;
    dir.handle_ = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir.handle_ < 0) {
        dir.handle_ = invalid;
        dir.error_text_ = std::strerror(errno);
    }
    return dir;
}

bool Directory::has(const std::string& name) const {
    struct stat st {};
    return ::fstatat(fd(handle_), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0;
}

WritableFile Directory::create_new(const std::string& name) const {
    WritableFile file(::openat(fd(handle_), name.c_str(), create_flags, create_mode));
    if (!file) file.fail();
    return file;
}

void Directory::sync() { ::fsync(fd(handle_)); }

std::string replace_file(const std::filesystem::path& from, const std::filesystem::path& to) {
    if (std::rename(from.c_str(), to.c_str()) == 0) return {};
    return std::strerror(errno);
}

std::optional<uint64_t> free_bytes(const std::filesystem::path& directory) {
    auto dir = directory;
    struct statvfs st {};
    while (statvfs(dir.c_str(), &st) != 0) {
        if (!dir.has_parent_path() || dir.parent_path() == dir) return std::nullopt;
        dir = dir.parent_path();
    }
    return static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
}

}  // namespace rec
