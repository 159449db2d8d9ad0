// Why the care: %ProgramData% lets every user create directories in it. A user who made
// %ProgramData%\recd first (or a junction there) would choose where LocalSystem writes its
// files. So a directory that exists is used only if SYSTEM or Administrators own it and it is no
// reparse point, and its DACL is then replaced by a protected one: from then on no user can add
// entries (files, hard links, junctions) to %ProgramData%\recd or its logs. Users may still read
// %ProgramData%\recd: every user's recd reads the fleet configuration there (recd.toml,
// common/user_dirs_windows.cpp). The logs are SYSTEM's and Administrators' alone.
//
// A logs directory made before it was locked down (by an administrator, with the access
// %ProgramData% passes on, which lets users create files) may already hold a user's entry: a
// service.log of theirs, or a hard link by that name to a file of SYSTEM's. So once its DACL is
// replaced (no entry can be added meanwhile), and before any log is opened, every entry the
// service would not have made is deleted: afterwards each name in it is the service's own.
#include "log_directory.hpp"

#include <aclapi.h>
#include <knownfolders.h>
#include <sddl.h>

#include <stdexcept>
#include <string>

#include "service_win32.hpp"

namespace rec {
namespace {

// Both protected (P: nothing inherited from %ProgramData%), both inherited by what is made
// inside (OICI). %ProgramData%\recd: full control for SYSTEM and Administrators, read for Users,
// who need recd.toml but must not add entries. Its logs: SYSTEM and Administrators only; users
// read their recd's output with recctl, not here.
constexpr const wchar_t* recd_sddl = L"D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;FR;;;BU)";
constexpr const wchar_t* logs_sddl = L"D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)";

constexpr DWORD share_all = FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE;

UniqueLocal<void> security_descriptor(const wchar_t* sddl) {
    PSECURITY_DESCRIPTOR raw = nullptr;
    if (!ConvertStringSecurityDescriptorToSecurityDescriptorW(sddl, SDDL_REVISION_1, &raw, nullptr))
        throw std::runtime_error("bad security descriptor: " + last_error_text());
    return UniqueLocal<void>(raw);
}

bool system_or_admins(PSID owner) {
    return IsWellKnownSid(owner, WinLocalSystemSid) ||
           IsWellKnownSid(owner, WinBuiltinAdministratorsSid);
}

bool owned_by_system_or_admins(const std::filesystem::path& dir) {
    PSID owner = nullptr;
    PSECURITY_DESCRIPTOR raw = nullptr;
    if (GetNamedSecurityInfoW(dir.c_str(), SE_FILE_OBJECT, OWNER_SECURITY_INFORMATION, &owner,
                              nullptr, nullptr, nullptr, &raw) != ERROR_SUCCESS)
        return false;
    const UniqueLocal<void> sd(raw);
    return system_or_admins(owner);
}

// A directory entry itself, never what it points to (a junction, a symbolic link).
UniqueHandle open_entry(const std::filesystem::path& path, DWORD access) {
    return adopt_handle(CreateFileW(path.c_str(), access, share_all, nullptr, OPEN_EXISTING,
                                    FILE_FLAG_OPEN_REPARSE_POINT | FILE_FLAG_BACKUP_SEMANTICS,
                                    nullptr));
}

// Whether the service made this entry of the logs directory: owned by SYSTEM or Administrators,
// and its file's only name (a hard link shares its file's owner, so one a user made to a file
// of SYSTEM's would pass the owner check). Whatever the service made grants SYSTEM and
// Administrators full control (inherited), so an entry they cannot inspect is a user's.
bool made_by_service(const std::filesystem::path& path) {
    const auto entry = open_entry(path, READ_CONTROL | FILE_READ_ATTRIBUTES);
    if (!entry) {
        if (GetLastError() == ERROR_ACCESS_DENIED) return false;
        throw std::runtime_error("cannot inspect " + utf8(path) + ": " + last_error_text());
    }
    PSID owner = nullptr;
    PSECURITY_DESCRIPTOR raw = nullptr;
    if (GetSecurityInfo(entry.get(), SE_FILE_OBJECT, OWNER_SECURITY_INFORMATION, &owner, nullptr,
                        nullptr, nullptr, &raw) != ERROR_SUCCESS)
        return false;
    const UniqueLocal<void> sd(raw);
    BY_HANDLE_FILE_INFORMATION info{};
    return system_or_admins(owner) && GetFileInformationByHandle(entry.get(), &info) &&
           info.nNumberOfLinks == 1;
}

// Deletes the entry, not what a link points to. DELETE is granted by the directory's
// FILE_DELETE_CHILD whatever the entry's own DACL says. Fails for a directory that is not
// empty or a read-only file: the caller then gives up the directory (an administrator has to
// look) rather than following a user's entries into whatever they contain.
void delete_entry(const std::filesystem::path& path) {
    const auto entry = open_entry(path, DELETE);
    FILE_DISPOSITION_INFO disposition{TRUE};
    if (!entry || !SetFileInformationByHandle(entry.get(), FileDispositionInfo, &disposition,
                                              sizeof disposition))
        throw std::runtime_error("cannot delete " + utf8(path) + ", which a user made (" +
                                 last_error_text() + ")");
}

// The user's entries in `dir`, deleted; their paths returned for the log. Called once `dir`'s
// DACL is the protected one.
std::vector<std::filesystem::path> delete_foreign_entries(const std::filesystem::path& dir) {
    // Listed first, deleted after: no deleting under a live directory search.
    std::vector<std::filesystem::path> entries;
    for (const auto& entry : std::filesystem::directory_iterator(dir))
        entries.push_back(entry.path());
    std::vector<std::filesystem::path> removed;
    for (const auto& path : entries) {
        if (made_by_service(path)) continue;
        delete_entry(path);
        removed.push_back(path);
    }
    return removed;
}

// Makes `dir` with `sd`, or takes over the one there: true if it was made now.
bool prepare(const std::filesystem::path& dir, PSECURITY_DESCRIPTOR sd) {
    SECURITY_ATTRIBUTES sa{sizeof sa, sd, FALSE};
    if (CreateDirectoryW(dir.c_str(), &sa)) return true;
    if (GetLastError() != ERROR_ALREADY_EXISTS)
        throw std::runtime_error("cannot create " + utf8(dir) + ": " + last_error_text());
    const DWORD attributes = GetFileAttributesW(dir.c_str());
    if (attributes == INVALID_FILE_ATTRIBUTES || !(attributes & FILE_ATTRIBUTE_DIRECTORY) ||
        (attributes & FILE_ATTRIBUTE_REPARSE_POINT))
        throw std::runtime_error(utf8(dir) + " is not a plain directory: not used");
    if (!owned_by_system_or_admins(dir))
        throw std::runtime_error(utf8(dir) + " is not owned by SYSTEM or Administrators: not used");
    BOOL present = FALSE, defaulted = FALSE;
    PACL dacl = nullptr;
    GetSecurityDescriptorDacl(sd, &present, &dacl, &defaulted);
    const DWORD err =
        SetNamedSecurityInfoW(const_cast<wchar_t*>(dir.c_str()), SE_FILE_OBJECT,
                              DACL_SECURITY_INFORMATION | PROTECTED_DACL_SECURITY_INFORMATION,
                              nullptr, nullptr, dacl, nullptr);
    if (err != ERROR_SUCCESS)
        throw std::runtime_error("cannot restrict " + utf8(dir) + ": " + win32_error_text(err));
    return false;
}

}  // namespace

LogDirectory prepare_log_directory() {
    // The known folder rather than %ProgramData%: a service's environment need not have it.
    const auto program_data = known_folder(FOLDERID_ProgramData);
    if (program_data.empty()) throw std::runtime_error("no ProgramData folder");
    const auto recd = program_data / L"recd";
    prepare(recd, security_descriptor(recd_sddl).get());
    LogDirectory logs{recd / L"logs", {}};
    if (prepare(logs.path, security_descriptor(logs_sddl).get())) return logs;
    try {
        logs.removed = delete_foreign_entries(logs.path);
    } catch (const std::exception& e) {
        throw std::runtime_error(std::string(e.what()) + ": " + utf8(logs.path) + " not used");
    }
    return logs;
}

}  // namespace rec
