#include "win32.hpp"

#include <fmt/format.h>

namespace rec {

namespace {

// FormatMessage's text for `code` without its trailing newline and full stop; "" if none.
std::string system_message(DWORD code) {
    char* text = nullptr;
    const DWORD n = FormatMessageA(
        FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS,
        nullptr, code, 0, reinterpret_cast<char*>(&text), 0, nullptr);
    std::string message(text ? text : "", n);
    LocalFree(text);
    while (!message.empty() && (message.back() == '\n' || message.back() == '\r' ||
                                message.back() == ' ' || message.back() == '.'))
        message.pop_back();
    return message;
}

}  // namespace

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
