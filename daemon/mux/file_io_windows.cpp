// Windows files (file_io.hpp): handles created with CREATE_NEW and a private access list,
// FlushFileBuffers, MoveFileExW, GetDiskFreeSpaceExW. Errors are mapped to the errno values the
// pipeline tells apart (ENOSPC: the disk guard's DISK_FULL), with Windows' own text.
#include "../../common/win32.hpp"
// After windows.h (win32.hpp), which it needs.
#include <sddl.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <limits>
#include <utility>

#include "file_io.hpp"

namespace rec {
namespace {

HANDLE native(std::intptr_t handle) { return reinterpret_cast<HANDLE>(handle); }

int to_errno(DWORD code) {
    switch (code) {
        case ERROR_FILE_EXISTS:
        case ERROR_ALREADY_EXISTS:
            return EEXIST;
        case ERROR_DISK_FULL:
        case ERROR_HANDLE_DISK_FULL:
            return ENOSPC;
        case ERROR_ACCESS_DENIED:
        case ERROR_SHARING_VIOLATION:
        case ERROR_LOCK_VIOLATION:
            return EACCES;
        case ERROR_FILE_NOT_FOUND:
        case ERROR_PATH_NOT_FOUND:
            return ENOENT;
        default:
            return EIO;
    }
}

// The access list of every file recd creates, as the Linux files' mode 0600: protected (nothing
// inherited from the directory, which may be shared) and granting all access to this user, and
// to SYSTEM and the Administrators (who could take it anyway). Built once: the user does not
// change while recd runs. Null if it cannot be built: the file then inherits the directory's
// list (the Videos folder's, private to the user by default) rather than not being recorded.
PSECURITY_DESCRIPTOR private_security() {
    static const UniqueLocal<void> descriptor = [] {
        PSECURITY_DESCRIPTOR built = nullptr;
        try {
            const std::wstring sddl =
                L"D:P(A;;FA;;;SY)(A;;FA;;;BA)(A;;FA;;;" + own_user_sid() + L")";
            ConvertStringSecurityDescriptorToSecurityDescriptorW(sddl.c_str(), SDDL_REVISION_1,
                                                                 &built, nullptr);
        } catch (const std::exception&) {
            // own_user_sid() failed: inherit, as said above.
        }
        return UniqueLocal<void>(built);
    }();
    return descriptor.get();
}

}  // namespace

// CREATE_NEW fails on any name that exists, a symlink or junction included: nothing is
// followed. Others may read the file while it grows (a player, FFmpeg's MP4 finalizing reading
// it back by name) and delete or rename it as on Linux; nobody else may write it.
WritableFile WritableFile::create_new(const std::filesystem::path& path) {
    SECURITY_ATTRIBUTES security{sizeof security, private_security(), FALSE};
    const HANDLE handle =
        CreateFileW(path.c_str(), GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_DELETE, &security,
                    CREATE_NEW, FILE_ATTRIBUTE_NORMAL, nullptr);
    WritableFile file(reinterpret_cast<std::intptr_t>(handle));
    if (!file) file.fail();
    return file;
}

void WritableFile::fail() {
    const DWORD code = GetLastError();
    errno_ = to_errno(code);
    error_text_ = win32_error_text(code);
}

bool WritableFile::write_all(const void* data, size_t size) {
    const auto* bytes = static_cast<const char*>(data);
    // WriteFile takes a DWORD: a buffer of 4 GiB or more goes in parts (the muxer's are 64 KiB).
    constexpr size_t max_part = std::numeric_limits<DWORD>::max();
    for (size_t done = 0; done < size;) {
        DWORD written = 0;
        const auto part = static_cast<DWORD>(std::min(size - done, max_part));
        if (!WriteFile(native(handle_), bytes + done, part, &written, nullptr)) {
            fail();
            return false;
        }
        done += written;
    }
    return true;
}

int64_t WritableFile::seek(int64_t offset, int whence) {
    const DWORD method = whence == SEEK_END   ? FILE_END
                         : whence == SEEK_CUR ? FILE_CURRENT
                                              : FILE_BEGIN;
    LARGE_INTEGER distance, at;
    distance.QuadPart = offset;
    if (SetFilePointerEx(native(handle_), distance, &at, method)) return at.QuadPart;
    fail();
    return -1;
}

int64_t WritableFile::size() {
    LARGE_INTEGER size;
    if (GetFileSizeEx(native(handle_), &size)) return size.QuadPart;
    fail();
    return -1;
}

// FlushFileBuffers writes the file's data and metadata through the disk's cache, as fsync.
bool WritableFile::sync() {
    if (FlushFileBuffers(native(handle_))) return true;
    fail();
    return false;
}

void WritableFile::close() {
    if (handle_ != invalid) CloseHandle(native(std::exchange(handle_, invalid)));
}

void Directory::close() {
    if (handle_ != invalid) CloseHandle(native(std::exchange(handle_, invalid)));
}

// A directory handle (FILE_FLAG_BACKUP_SEMANTICS) shared for everything but deletion: while it
// is open the directory cannot be renamed, deleted or swapped for a junction, so the names
// created under path_ land in the directory opened.
Directory Directory::open(const std::filesystem::path& path) {
    Directory dir;
    dir.path_ = path;
    const HANDLE handle =
        CreateFileW(path.c_str(), FILE_LIST_DIRECTORY, FILE_SHARE_READ | FILE_SHARE_WRITE, nullptr,
                    OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS, nullptr);
    dir.handle_ = reinterpret_cast<std::intptr_t>(handle);
    if (!dir) dir.error_text_ = last_error_text();
    return dir;
}

// GetFileAttributesW does not follow a symlink: it answers for the link itself.
bool Directory::has(const std::string& name) const {
    return GetFileAttributesW((path_ / path_from_utf8(name)).c_str()) != INVALID_FILE_ATTRIBUTES;
}

WritableFile Directory::create_new(const std::string& name) const {
    return WritableFile::create_new(path_ / path_from_utf8(name));
}

// Nothing to do: Windows has no fsync of a directory (FlushFileBuffers wants a file or a
// volume), and NTFS journals a new name; flushing the new file (WritableFile::sync) commits the
// journal up to its creation.
void Directory::sync() {}

std::string replace_file(const std::filesystem::path& from, const std::filesystem::path& to) {
    if (MoveFileExW(from.c_str(), to.c_str(), MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH))
        return {};
    return last_error_text();
}

// What this user may still write: quotas count, as statvfs's f_bavail leaves root's reserve out.
std::optional<uint64_t> free_bytes(const std::filesystem::path& directory) {
    auto dir = directory;
    ULARGE_INTEGER available;
    while (!GetDiskFreeSpaceExW(dir.c_str(), &available, nullptr, nullptr)) {
        if (!dir.has_parent_path() || dir.parent_path() == dir) return std::nullopt;
        dir = dir.parent_path();
    }
    return available.QuadPart;
}

}  // namespace rec
