// Why the care: %ProgramData% lets every user create directories in it. A user who made
// %ProgramData%\recd first (or a junction there) would choose where LocalSystem writes its
// files. So a directory that exists is used only if SYSTEM or Administrators own it and it is no
// reparse point, and its DACL is then replaced by the protected one below: from then on no user
// can add entries (hard links, junctions) to it. Log files are created new each time
// (session_launcher.cpp), never opened through a name someone else made.
#include "log_directory.hpp"

#include <aclapi.h>
#include <objbase.h>
#include <sddl.h>
#include <shlobj.h>

#include <stdexcept>
#include <string>

#include "service_win32.hpp"

namespace rec {
namespace {

// Full control for SYSTEM and Administrators, inherited by files and subdirectories, nothing
// inherited from %ProgramData% (P). Users read their recd's output with recctl, not here.
constexpr const wchar_t* protected_sddl = L"D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)";

struct LocalFreeDeleter {
    void operator()(void* p) const { LocalFree(p); }
};

bool owned_by_system_or_admins(const std::filesystem::path& dir) {
    PSID owner = nullptr;
    PSECURITY_DESCRIPTOR sd = nullptr;
    if (GetNamedSecurityInfoW(dir.c_str(), SE_FILE_OBJECT, OWNER_SECURITY_INFORMATION, &owner,
                              nullptr, nullptr, nullptr, &sd) != ERROR_SUCCESS)
        return false;
    std::unique_ptr<void, LocalFreeDeleter> free_sd(sd);
    return IsWellKnownSid(owner, WinLocalSystemSid) ||
           IsWellKnownSid(owner, WinBuiltinAdministratorsSid);
}

void prepare(const std::filesystem::path& dir, PSECURITY_DESCRIPTOR sd) {
    SECURITY_ATTRIBUTES sa{sizeof sa, sd, FALSE};
    if (CreateDirectoryW(dir.c_str(), &sa)) return;
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
}

}  // namespace

std::filesystem::path prepare_log_directory() {
    // The known folder rather than %ProgramData%: a service's environment need not have it.
    wchar_t* known = nullptr;
    if (FAILED(SHGetKnownFolderPath(FOLDERID_ProgramData, 0, nullptr, &known))) {
        CoTaskMemFree(known);
        throw std::runtime_error("no ProgramData folder");
    }
    const std::filesystem::path program_data(known);
    CoTaskMemFree(known);
    PSECURITY_DESCRIPTOR raw = nullptr;
    if (!ConvertStringSecurityDescriptorToSecurityDescriptorW(protected_sddl, SDDL_REVISION_1, &raw,
                                                              nullptr))
        throw std::runtime_error("bad security descriptor: " + last_error_text());
    std::unique_ptr<void, LocalFreeDeleter> sd(raw);
    const auto recd = program_data / L"recd";
    prepare(recd, sd.get());
    prepare(recd / L"logs", sd.get());
    return recd / L"logs";
}

}  // namespace rec
