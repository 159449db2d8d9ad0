#pragma once
// What the Windows files share (named_pipe*, the capture sources, recd-service): RAII for a
// HANDLE, the system's text for an error code, and UTF-16 <-> UTF-8 (the log and the protocol
// are UTF-8). Any thread.
#include <windows.h>
// After windows.h: CoTaskMemFree (WIN32_LEAN_AND_MEAN leaves COM out of windows.h).
#include <objbase.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace rec {

// A HANDLE closed when it goes out of scope; null and INVALID_HANDLE_VALUE are both "none".
struct HandleClose {
    void operator()(HANDLE h) const {
        if (h != nullptr && h != INVALID_HANDLE_VALUE) CloseHandle(h);
    }
};
using UniqueHandle = std::unique_ptr<std::remove_pointer_t<HANDLE>, HandleClose>;

// CreateFileW and CreateNamedPipeW fail with INVALID_HANDLE_VALUE, most others with null: either
// becomes an empty UniqueHandle.
inline UniqueHandle adopt_handle(HANDLE h) {
    return UniqueHandle(h == INVALID_HANDLE_VALUE ? nullptr : h);
}

// Memory Windows handed out with LocalAlloc (security descriptors, SID strings) or
// CoTaskMemAlloc (known folders, endpoint ids, WAVEFORMATEX), freed when it goes out of scope.
struct LocalFreeDeleter {
    void operator()(void* p) const { LocalFree(p); }
};
template <class T>
using UniqueLocal = std::unique_ptr<T, LocalFreeDeleter>;
struct CoTaskFreeDeleter {
    void operator()(void* p) const { CoTaskMemFree(p); }
};
template <class T>
using UniqueCoTask = std::unique_ptr<T, CoTaskFreeDeleter>;

// A known folder (FOLDERID_*) of this process's user, or "" if Windows has none for it.
std::filesystem::path known_folder(const GUID& id);

// "Access is denied. (error 5)": the system's message for a GetLastError() code.
std::string win32_error_text(DWORD code);
inline std::string last_error_text() { return win32_error_text(GetLastError()); }
// "0x887A0026 (The keyed mutex was abandoned)", or the number alone for codes the system has no
// text for (AUDCLNT_E_*, most DXGI_ERROR_*).
std::string hresult_text(HRESULT code);

// GetTokenInformation's answer of class `what` (TokenUser, TokenGroups...) for this process's
// token; empty when it cannot be read (the reason left in GetLastError()).
std::vector<char> own_token_information(TOKEN_INFORMATION_CLASS what);

// What the local security authority calls `sid`: the account's name and its domain ("" for a
// few well-known SIDs: Everyone, LOCAL); none for a SID it has no name for (a session's logon
// SID).
struct AccountName {
    std::string name;
    std::string domain;
};
std::optional<AccountName> account_name(PSID sid);

// "S-1-5-21-...": the SID of this process's user, for access lists (the named pipe's, the
// recordings'). Throws rec::Error(OUTPUT_FAILED) if the process's token cannot be read.
std::wstring own_user_sid();

std::string to_utf8(std::wstring_view text);
std::wstring to_utf16(std::string_view text);

}  // namespace rec
