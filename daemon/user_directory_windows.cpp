// The Windows claim of a per-user directory (user_directory.hpp), e.g. C:\recd\{user} in a
// place every user may create directories in. Made with a protected access list (the user,
// SYSTEM and Administrators, inherited by what is made inside: the Linux 0700), owned by the
// user; one found there is used only if it is a plain directory (no junction or symbolic link)
// owned by this process's user. Main thread, before the server runs.
#include "../common/win32.hpp"
// After windows.h (win32.hpp), which they need.
#include <aclapi.h>
#include <fmt/format.h>
#include <sddl.h>

#include "../common/config.hpp"
#include "../common/error.hpp"
#include "user_directory.hpp"

namespace rec {
namespace {

namespace fs = std::filesystem;

// A path in a message: UTF-8 whatever the system's code page (path::string() would convert to
// that, and throw on a name it cannot hold).
std::string text(const fs::path& path) { return to_utf8(path.native()); }

[[noreturn]] void fail(const std::string& message) {
    throw Error(ErrorCode::output_failed, message);
}

UniqueLocal<void> security_descriptor(const std::wstring& sddl) {
    PSECURITY_DESCRIPTOR raw = nullptr;
    if (!ConvertStringSecurityDescriptorToSecurityDescriptorW(sddl.c_str(), SDDL_REVISION_1, &raw,
                                                              nullptr))
        fail("cannot build a private access list: " + last_error_text());
    return UniqueLocal<void>(raw);
}

// "CONTOSO\alice", or the SID itself when the system has no name for it.
std::string account_text(PSID sid) {
    if (const auto account = account_name(sid))
        return account->domain.empty() ? account->name : account->domain + "\\" + account->name;
    wchar_t* raw = nullptr;
    if (!ConvertSidToStringSidW(sid, &raw)) return "an unknown account";
    const UniqueLocal<wchar_t> text(raw);
    return to_utf8(text.get());
}

void create_own(const fs::path& dir, const std::string& user, const std::string& key) {
    const std::wstring me = own_user_sid();
    // O: the user owns it (what check_own asks of it later); D:P protected, nothing inherited
    // from the shared place; OICI: files and directories made inside get the same list.
    const auto sd = security_descriptor(L"O:" + me + L"D:P(A;OICI;FA;;;" + me +
                                        L")(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)");
    SECURITY_ATTRIBUTES sa{sizeof sa, sd.get(), FALSE};
    // ERROR_ALREADY_EXISTS: another process made it in between; the caller checks it as any
    // found one.
    if (CreateDirectoryW(dir.c_str(), &sa) || GetLastError() == ERROR_ALREADY_EXISTS) return;
    const DWORD error = GetLastError();
    const auto parent = text(dir.parent_path());
    if (error == ERROR_PATH_NOT_FOUND)
        fail(
            fmt::format("cannot create {} ({}): {} does not exist. An administrator should make "
                        "it, letting users create directories in it, or point {} elsewhere",
                        text(dir), key, parent, key));
    if (error == ERROR_ACCESS_DENIED)
        fail(
            fmt::format("cannot create {} ({}): {} does not let {} create a directory in it. "
                        "Let users create folders there (not list or change others'), or make "
                        "{} for {} as an administrator (owned by {}, private)",
                        text(dir), key, parent, user, text(dir), user, user));
    fail(fmt::format("cannot create {} ({}): {}", text(dir), key, win32_error_text(error)));
}

// The user's own directory as it exists: a plain directory this process's user owns.
void check_own(const fs::path& dir, DWORD attributes, const std::string& user,
               const std::string& key) {
    if (attributes & FILE_ATTRIBUTE_REPARSE_POINT)
        fail(
            fmt::format("{} ({}) is a junction or symbolic link: recd records only into a real "
                        "directory of {}'s; an administrator should remove it (recd then "
                        "creates it)",
                        text(dir), key, user));
    if (!(attributes & FILE_ATTRIBUTE_DIRECTORY))
        fail(
            fmt::format("{} ({}) is not a directory; an administrator should remove it (recd "
                        "then creates it)",
                        text(dir), key));
    PSID owner = nullptr;
    PSECURITY_DESCRIPTOR raw = nullptr;
    const DWORD error =
        GetNamedSecurityInfoW(dir.c_str(), SE_FILE_OBJECT, OWNER_SECURITY_INFORMATION, &owner,
                              nullptr, nullptr, nullptr, &raw);
    if (error != ERROR_SUCCESS)
        fail(fmt::format("cannot read the owner of {} ({}): {}", text(dir), key,
                         win32_error_text(error)));
    const UniqueLocal<void> sd(raw);
    const auto me = own_token_information(TokenUser);
    if (me.empty()) fail("cannot read this process's user: " + last_error_text());
    if (!owner || !EqualSid(owner, reinterpret_cast<const TOKEN_USER*>(me.data())->User.Sid))
        fail(
            fmt::format("{} ({}) belongs to {}, not to {}: someone made it before {} first "
                        "recorded, and could delete what recd writes there. An administrator "
                        "should remove it (recd then creates it, private) or give it to {}",
                        text(dir), key, owner ? account_text(owner) : "nobody", user, user, user));
}

}  // namespace

fs::path claim_user_directory(const std::string& directory, const std::string& user,
                              const std::string& key) {
    const fs::path expanded = to_utf16(expand_user(directory, user));
    if (directory.find("{user}") == std::string::npos) return expanded;
    // The user's own directory: the template up to the first component that names the user.
    fs::path own;
    for (const auto& part : fs::path(to_utf16(directory))) {
        const auto name = to_utf8(part.native());
        own /= to_utf16(expand_user(name, user));
        if (name.find("{user}") != std::string::npos) break;
    }
    DWORD attributes = GetFileAttributesW(own.c_str());
    if (attributes == INVALID_FILE_ATTRIBUTES) {
        const DWORD error = GetLastError();
        if (error != ERROR_FILE_NOT_FOUND && error != ERROR_PATH_NOT_FOUND)
            fail(
                fmt::format("cannot look at {} ({}): {}", text(own), key, win32_error_text(error)));
        create_own(own, user, key);
        attributes = GetFileAttributesW(own.c_str());
        if (attributes == INVALID_FILE_ATTRIBUTES)
            fail(fmt::format("cannot look at {} ({}): {}", text(own), key, last_error_text()));
    }
    check_own(own, attributes, user, key);
    std::error_code ec;
    fs::create_directories(expanded, ec);
    if (ec) fail(fmt::format("cannot create {} ({}): {}", text(expanded), key, ec.message()));
    return expanded;
}

}  // namespace rec
