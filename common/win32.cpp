#include "win32.hpp"

#include <fmt/format.h>
// After windows.h (win32.hpp), which they need.
#include <sddl.h>
#include <shlobj.h>

#include <vector>

#include "error.hpp"

namespace rec {

namespace {

// FormatMessage's text for `code`, in UTF-8 (the wide call: the narrow one would give the
// system's code page), without its trailing newline and full stop; "" if none.
std::string system_message(DWORD code) {
    wchar_t* raw = nullptr;
    const DWORD n = FormatMessageW(
        FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS,
        nullptr, code, 0, reinterpret_cast<wchar_t*>(&raw), 0, nullptr);
    const UniqueLocal<wchar_t> text(raw);
    std::string message = to_utf8(std::wstring_view(text ? text.get() : L"", n));
    while (!message.empty() && (message.back() == '\n' || message.back() == '\r' ||
                                message.back() == ' ' || message.back() == '.'))
        message.pop_back();
    return message;
}

}  // namespace

std::filesystem::path known_folder(const GUID& id) {
    wchar_t* raw = nullptr;
    const HRESULT hr = SHGetKnownFolderPath(id, KF_FLAG_DEFAULT, nullptr, &raw);
    const UniqueCoTask<wchar_t> path(raw);
    return SUCCEEDED(hr) && path ? std::filesystem::path(path.get()) : std::filesystem::path();
}

std::string win32_error_text(DWORD code) {
    const auto message = system_message(code);
    return message.empty() ? fmt::format("error {}", code)
                           : fmt::format("{} (error {})", message, code);
}

std::string hresult_text(HRESULT code) {
    const auto hex = fmt::format("0x{:08X}", static_cast<uint32_t>(code));
    const auto message = system_message(static_cast<DWORD>(code));
    return message.empty() ? hex : fmt::format("{} ({})", hex, message);
}

std::vector<char> own_token_information(TOKEN_INFORMATION_CLASS what) {
    HANDLE raw = nullptr;
    if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &raw)) return {};
    const UniqueHandle token(raw);
    DWORD size = 0;
    GetTokenInformation(token.get(), what, nullptr, 0, &size);
    std::vector<char> buffer(size);
    if (size == 0 || !GetTokenInformation(token.get(), what, buffer.data(), size, &size)) return {};
    return buffer;
}

std::optional<AccountName> account_name(PSID sid) {
    DWORD name_size = 0, domain_size = 0;
    SID_NAME_USE use{};
    LookupAccountSidW(nullptr, sid, nullptr, &name_size, nullptr, &domain_size, &use);
    if (name_size == 0) return std::nullopt;
    std::wstring name(name_size, L'\0'), domain(domain_size + 1, L'\0');
    if (!LookupAccountSidW(nullptr, sid, name.data(), &name_size, domain.data(), &domain_size,
                           &use))
        return std::nullopt;
    name.resize(name_size);
    domain.resize(domain_size);
    return AccountName{to_utf8(name), to_utf8(domain)};
}

std::wstring own_user_sid() {
    const auto user = own_token_information(TokenUser);
    if (user.empty())
        throw Error(ErrorCode::output_failed,
                    "cannot read this process's user: " + last_error_text());
    wchar_t* raw_sid = nullptr;
    if (!ConvertSidToStringSidW(reinterpret_cast<const TOKEN_USER*>(user.data())->User.Sid,
                                &raw_sid))
        throw Error(ErrorCode::output_failed,
                    "cannot name this process's user: " + last_error_text());
    const UniqueLocal<wchar_t> sid(raw_sid);
    return sid.get();
}

std::string to_utf8(std::wstring_view text) {
    if (text.empty()) return {};
    const int size = static_cast<int>(text.size());
    const int n = WideCharToMultiByte(CP_UTF8, 0, text.data(), size, nullptr, 0, nullptr, nullptr);
    std::string out(static_cast<size_t>(n), '\0');
    WideCharToMultiByte(CP_UTF8, 0, text.data(), size, out.data(), n, nullptr, nullptr);
    return out;
}

std::wstring to_utf16(std::string_view text) {
    if (text.empty()) return {};
    const int size = static_cast<int>(text.size());
    const int n = MultiByteToWideChar(CP_UTF8, 0, text.data(), size, nullptr, 0);
    std::wstring out(static_cast<size_t>(n), L'\0');
    MultiByteToWideChar(CP_UTF8, 0, text.data(), size, out.data(), n);
    return out;
}

}  // namespace rec
