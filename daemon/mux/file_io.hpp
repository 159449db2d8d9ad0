#pragma once
// The files recd writes (recordings, their sidecars, the open-files journal) through the
// system's own calls, so that what must survive a crash or a power loss does: files created
// only where nothing is (never over a file, never through a symlink), readable by their user
// only, and synced to the disk when it matters. One definition per platform: file_io_posix.cpp
// (descriptors, fsync), file_io_windows.cpp (handles, FlushFileBuffers). Errors are errno
// values on both (ENOSPC for a full disk), with the system's own text.
// Threads: a file or directory is used by one thread at a time (the muxer's: whichever pipeline
// thread the Segmenter lets in); the free functions from any thread.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace rec {

class WritableFile {
public:
    WritableFile() = default;
    WritableFile(WritableFile&& other) noexcept
        : handle_(std::exchange(other.handle_, invalid)),
          errno_(other.errno_),
          error_text_(std::move(other.error_text_)) {}
    WritableFile& operator=(WritableFile&& other) noexcept {
        close();
        handle_ = std::exchange(other.handle_, invalid);
        errno_ = other.errno_;
        error_text_ = std::move(other.error_text_);
        return *this;
    }
    WritableFile(const WritableFile&) = delete;
    WritableFile& operator=(const WritableFile&) = delete;
    ~WritableFile() { close(); }

    // Creates `path` for writing: fails (EEXIST) when anything is there, a symlink included,
    // which is never followed. Only this user may read it (POSIX: mode 0600; Windows: an access
    // list of the user, SYSTEM and the Administrators). Check with operator bool.
    static WritableFile create_new(const std::filesystem::path& path);

    explicit operator bool() const { return handle_ != invalid; }
    // All of `size` bytes at the current position (partial writes and interruptions retried).
    bool write_all(const void* data, size_t size);
    // As lseek: `whence` is SEEK_SET, SEEK_CUR or SEEK_END; the new position, or -1.
    int64_t seek(int64_t offset, int whence);
    // The file's size now, or -1.
    int64_t size();
    // To the disk: the data, and what is needed to find it (fsync / FlushFileBuffers).
    bool sync();
    void close();

    // The last failure: an errno value (0: none) and the system's text for it.
    int error_number() const { return errno_; }
    const std::string& error_text() const { return error_text_; }

private:
    friend class Directory;
    // A POSIX descriptor, or a Windows HANDLE; -1 (INVALID_HANDLE_VALUE) when none.
    static constexpr std::intptr_t invalid = -1;
    explicit WritableFile(std::intptr_t handle) : handle_(handle) {}
    void fail();  // records the system's last error

    std::intptr_t handle_ = invalid;
    int errno_ = 0;
    std::string error_text_;
};

// A directory held open while files are created in it: names resolve in the directory opened,
// even if its path is replaced meanwhile (POSIX: openat on its descriptor; Windows: a handle
// that keeps it from being renamed or deleted).
class Directory {
public:
    Directory() = default;
    Directory(Directory&& other) noexcept
        : handle_(std::exchange(other.handle_, invalid)),
          path_(std::move(other.path_)),
          error_text_(std::move(other.error_text_)) {}
    Directory& operator=(Directory&& other) noexcept {
        close();
        handle_ = std::exchange(other.handle_, invalid);
        path_ = std::move(other.path_);
        error_text_ = std::move(other.error_text_);
        return *this;
    }
    Directory(const Directory&) = delete;
    Directory& operator=(const Directory&) = delete;
    ~Directory() { close(); }

    // Check with operator bool; error_text() says why it cannot be opened.
    static Directory open(const std::filesystem::path& path);
    explicit operator bool() const { return handle_ != invalid; }

    // Whether anything (a symlink included, not followed) has `name` in it.
    bool has(const std::string& name) const;
    // As WritableFile::create_new, for `name` in this directory.
    WritableFile create_new(const std::string& name) const;
    // The names of files created in it, to the disk (fsync of the directory; NTFS: nothing to
    // do, see file_io_windows.cpp).
    void sync();

    const std::string& error_text() const { return error_text_; }

private:
    static constexpr std::intptr_t invalid = -1;
    void close();

    std::intptr_t handle_ = invalid;
    std::filesystem::path path_;
    std::string error_text_;
};

// `to` replaced by `from` in one step (a reader sees the old file or the new, never a part):
// rename(2), MoveFileExW. "" on success, else the system's text.
std::string replace_file(const std::filesystem::path& from, const std::filesystem::path& to);

// Free space, in bytes, that this user may fill on the file system holding `directory` (or
// its nearest existing parent); nothing if it cannot be told.
std::optional<uint64_t> free_bytes(const std::filesystem::path& directory);

// Paths as recd's log, protocol, sidecars and FFmpeg take them: UTF-8 (on Linux, the bytes as
// they are; on Windows, path::string() would give the ANSI code page).
inline std::string utf8(const std::filesystem::path& path) {
    const auto text = path.u8string();
    return {text.begin(), text.end()};
}
inline std::filesystem::path path_from_utf8(std::string_view text) {
    return std::filesystem::path(std::u8string(text.begin(), text.end()));
}

}  // namespace rec
