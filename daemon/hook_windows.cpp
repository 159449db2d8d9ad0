// Windows hooks (hook.hpp): the command line started with CreateProcessW, without a shell (a
// user who wants cmd's or PowerShell's syntax names them: `cmd /c ...`,
// `powershell -File x.ps1 {path}`), and waited for on the hook thread.
#include <spdlog/spdlog.h>

#include "../common/win32.hpp"
#include "hook.hpp"

namespace rec {

// Quoted always, so that spaces and tabs stay inside; a run of backslashes is doubled where a
// quote follows it (the closing one included: "C:\dir\" would swallow the quote), and a quote
// itself is escaped. Windows paths cannot hold quotes, but the rule costs nothing.
std::string quote_hook_argument(const std::string& path) {
    std::string out = "\"";
    size_t backslashes = 0;
    for (char c : path) {
        if (c == '\\') {
            ++backslashes;
            continue;
        }
        out.append(c == '"' ? 2 * backslashes + 1 : backslashes, '\\');
        backslashes = 0;
        out += c;
    }
    out.append(2 * backslashes, '\\');
    return out + '"';
}

// No window (recd runs in the user's session: a console hook would flash one up), no handle of
// recd's inherited (the recordings being written among them), the environment and working
// directory of recd. A program that cannot be started is logged with Windows' reason: without a
// shell, a mistyped command gives no other word.
int run_hook_command(const std::string& command) {
    std::wstring line = to_utf16(command);  // CreateProcessW may write into it
    STARTUPINFOW startup{};
    startup.cb = sizeof startup;
    PROCESS_INFORMATION started{};
    if (!CreateProcessW(nullptr, line.data(), nullptr, nullptr, FALSE, CREATE_NO_WINDOW, nullptr,
                        nullptr, &startup, &started)) {
        spdlog::warn("on_file_closed: cannot start `{}`: {}", command, last_error_text());
        return -1;
    }
    const UniqueHandle process(started.hProcess), thread(started.hThread);
    DWORD code = 0;
    if (WaitForSingleObject(process.get(), INFINITE) != WAIT_OBJECT_0 ||
        !GetExitCodeProcess(process.get(), &code))
        return -1;
    // An exit code is a DWORD; one that crashed is an NTSTATUS (0xC0000005), negative here.
    return static_cast<int>(code);
}

}  // namespace rec
