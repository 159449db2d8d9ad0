// recctl.exe under Wine: the real program, run as a process of its own (as a user or script
// runs it), against the real NamedPipeServer serving pipe_server.hpp's SessionBook. Checks its
// exit codes (docs/recctl.1 EXIT STATUS: 0 ok, 1 recd answered with an error, 2 usage error,
// 3 recd not reachable), its output and its messages. RECCTL_EXE: CMake's path of recctl.exe
// (under Wine a Unix path, which the Z: drive maps).
#include <fmt/format.h>

#include <catch2/catch.hpp>
#include <future>
#include <optional>
#include <string>
#include <vector>

#include "common/ipc/named_pipe.hpp"
#include "common/ipc/protocol.hpp"
#include "common/win32.hpp"
#include "pipe_server.hpp"

namespace {

using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using rec::ipc::Json;
using rec::test::PipeServer;

struct Run {
    DWORD code = 0;
    std::string out, err;
    std::string describe() const {
        return fmt::format("exit code {}\nstdout:\n{}\nstderr:\n{}", code, out, err);
    }
};

// Everything written into `pipe` until its last writer closes it, read on a thread of its own
// so that neither stdout nor stderr fills up while the other is read.
std::future<std::string> drain(HANDLE pipe) {
    return std::async(std::launch::async, [pipe] {
        const rec::UniqueHandle owned(pipe);
        std::string text;
        char buffer[4096];
        DWORD got = 0;
        while (ReadFile(pipe, buffer, sizeof buffer, &got, nullptr) && got > 0)
            text.append(buffer, got);
        return text;
    });
}

// recctl.exe writes text: "\r\n" ends its lines, as Windows programs' do. The tests compare "\n".
std::string lines(std::string text) {
    for (auto at = text.find("\r\n"); at != std::string::npos; at = text.find("\r\n", at))
        text.erase(at, 1);
    return text;
}

// A pipe whose write end (second) the child inherits.
std::pair<HANDLE, HANDLE> inheritable_pipe() {
    SECURITY_ATTRIBUTES inherit{sizeof inherit, nullptr, TRUE};
    HANDLE read = nullptr, write = nullptr;
    REQUIRE(CreatePipe(&read, &write, &inherit, 0));
    SetHandleInformation(read, HANDLE_FLAG_INHERIT, 0);
    return {read, write};
}

// Runs recctl.exe with `args` (none holds a space or a quote: they go on the command line as
// they are) and waits up to 60 s for it to end. One call at a time: the pipes' write ends are
// inheritable while it runs.
Run recctl(const std::vector<std::wstring>& args) {
    std::wstring command = L"recctl.exe";
    for (const auto& arg : args) {
        REQUIRE(arg.find_first_of(L" \t\"") == std::wstring::npos);
        command += L" " + arg;
    }
    auto [out_read, out_write] = inheritable_pipe();
    auto [err_read, err_write] = inheritable_pipe();
    auto out = drain(out_read), err = drain(err_read);
    STARTUPINFOW startup{};
    startup.cb = sizeof startup;
    startup.dwFlags = STARTF_USESTDHANDLES;
    startup.hStdOutput = out_write;
    startup.hStdError = err_write;
    PROCESS_INFORMATION process{};
    const bool started =
        CreateProcessW(rec::to_utf16(RECCTL_EXE).c_str(), command.data(), nullptr, nullptr, TRUE,
                       CREATE_NO_WINDOW, nullptr, nullptr, &startup, &process);
    const DWORD error = GetLastError();
    CloseHandle(out_write);  // the child's copies are now the only writers
    CloseHandle(err_write);
    if (!started) FAIL("cannot start " RECCTL_EXE ": " << rec::win32_error_text(error));
    const rec::UniqueHandle child(process.hProcess), thread(process.hThread);
    if (WaitForSingleObject(child.get(), 60'000) != WAIT_OBJECT_0) {
        TerminateProcess(child.get(), 99);
        FAIL("recctl.exe did not end within 60 s");
    }
    Run run;
    GetExitCodeProcess(child.get(), &run.code);
    run.out = lines(out.get());
    run.err = lines(err.get());
    return run;
}

// An environment variable set (or, with nothing, removed) for one test; recctl.exe inherits it.
class ScopedEnv {
public:
    ScopedEnv(const wchar_t* name, std::optional<std::wstring> value) : name_(name) {
        SetEnvironmentVariableW(name, value ? value->c_str() : nullptr);
    }
    ~ScopedEnv() { SetEnvironmentVariableW(name_, nullptr); }

private:
    const wchar_t* name_;
};

std::string utf8(const std::wstring& text) { return rec::to_utf8(text); }

// The pipe of the session this test (and the recctl.exe it starts) runs in.
std::wstring session_pipe() { return rec::ipc::pipe_name(rec::ipc::current_session()); }

}  // namespace

TEST_CASE("recctl.exe: ping answers with recd's version, pid and pipe", "[recctl]") {
    PipeServer pipe;
    const Run ping = recctl({L"--socket", pipe.name, L"ping"});
    INFO(ping.describe());
    CHECK(ping.code == 0);
    CHECK(ping.out == fmt::format("recd {} (pid {}) at {}\n", RECD_VERSION, GetCurrentProcessId(),
                                  utf8(pipe.name)));
    CHECK(ping.err.empty());
}

TEST_CASE("recctl.exe: start, status and stop, each run a process of its own", "[recctl]") {
    PipeServer pipe;
    const Run start = recctl({L"--socket", pipe.name, L"start"});
    INFO(start.describe());
    CHECK(start.code == 0);
    CHECK_THAT(start.out, StartsWith("s1 recording to C:\\Videos\\s1.mkv"));

    const Run status = recctl({L"--socket", pipe.name, L"status"});
    INFO(status.describe());
    CHECK(status.code == 0);
    CHECK_THAT(status.out, StartsWith("recd " RECD_VERSION));
    CHECK_THAT(status.out, Contains("s1") && Contains("recording"));

    const Run stop = recctl({L"stop", L"--socket", pipe.name});  // the only session
    INFO(stop.describe());
    CHECK(stop.code == 0);
    CHECK(stop.out == "C:\\Videos\\s1.mkv  0.00 s\n");

    const Run after = recctl({L"--socket", pipe.name, L"status", L"s1"});
    INFO(after.describe());
    CHECK(after.code == 0);
    CHECK_THAT(after.out, Contains("stopped"));
}

TEST_CASE("recctl.exe: --json prints recd's reply as one JSON line", "[recctl]") {
    PipeServer pipe;
    const Run start = recctl({L"--json", L"--socket", pipe.name, L"start", L"--name", L"demo"});
    INFO(start.describe());
    CHECK(start.code == 0);
    REQUIRE(start.out.find('\n') == start.out.size() - 1);
    const Json reply = Json::parse(start.out);
    CHECK(reply["v"] == 1);
    CHECK(reply["id"] == 1);
    CHECK(reply["ok"] == true);
    CHECK(reply["session"]["id"] == "s1");
    CHECK(reply["session"]["name"] == "demo");

    const Json status = Json::parse(recctl({L"--socket", pipe.name, L"status", L"--json"}).out);
    CHECK(status["sessions"].size() == 1);
    CHECK(status["daemon"]["socket"] == utf8(pipe.name));
}

TEST_CASE("recctl.exe: arguments reach recd as UTF-8, whatever the code page", "[recctl]") {
    PipeServer pipe;
    const Run start =
        recctl({L"--json", L"--socket", pipe.name, L"start", L"--name", L"\u00e9t\u00e9-\u6771"});
    INFO(start.describe());
    CHECK(start.code == 0);
    CHECK(Json::parse(start.out)["session"]["name"] == "\xc3\xa9t\xc3\xa9-\xe6\x9d\xb1");
}

TEST_CASE("recctl.exe: an unknown session is recd's error: exit 1, its code and message",
          "[recctl]") {
    PipeServer pipe;
    const Run stop = recctl({L"--socket", pipe.name, L"stop", L"s9"});
    INFO(stop.describe());
    CHECK(stop.code == 1);
    CHECK(stop.out.empty());
    CHECK(stop.err == "recctl: NOT_FOUND: no session s9\n");

    const Run json = recctl({L"--json", L"--socket", pipe.name, L"status", L"s9"});
    CHECK(json.code == 1);
    CHECK(Json::parse(json.out)["error"]["code"] == "NOT_FOUND");
}

TEST_CASE("recctl.exe: no recd on the pipe: exit 3, naming the pipe tried", "[recctl]") {
    const std::wstring nobody =
        L"\\\\.\\pipe\\recd-nobody-" + std::to_wstring(std::random_device{}());
    const Run ping = recctl({L"--socket", nobody, L"ping"});
    INFO(ping.describe());
    CHECK(ping.code == 3);
    CHECK(ping.out.empty());
    CHECK_THAT(ping.err, StartsWith("recctl: cannot connect to " + utf8(nobody) + ": "));
    CHECK_THAT(ping.err, Contains("is recd running in this session?"));
    CHECK_THAT(ping.err, Contains("recctl: pipe tried: " + utf8(nobody) + " (choose another"));
}

TEST_CASE("recctl.exe: --socket and RECD_SOCKET take a pipe's whole name or the name alone",
          "[recctl]") {
    PipeServer pipe;
    const std::wstring alone = pipe.name.substr(pipe.name.rfind(L'\\') + 1);  // recd-test-N
    const Run short_name = recctl({L"--socket", alone, L"ping"});
    INFO(short_name.describe());
    CHECK(short_name.code == 0);
    CHECK_THAT(short_name.out, Contains(" at " + utf8(pipe.name)));

    ScopedEnv env(L"RECD_SOCKET", pipe.name);
    const Run from_env = recctl({L"ping"});
    INFO(from_env.describe());
    CHECK(from_env.code == 0);
    CHECK_THAT(from_env.out, Contains(" at " + utf8(pipe.name)));
}

TEST_CASE("recctl.exe: --user is a usage error that says how to reach another session",
          "[recctl]") {
    const Run user = recctl({L"--user", L"alice", L"status"});
    INFO(user.describe());
    CHECK(user.code == 2);
    CHECK_THAT(user.err, StartsWith("recctl: --user is not available on Windows"));
    CHECK_THAT(user.err, Contains("--socket \\\\.\\pipe\\recd-<session id>"));
}

TEST_CASE("recctl.exe: --help tells where recctl connects on Windows", "[recctl]") {
    const Run help = recctl({L"--help"});
    INFO(help.describe());
    CHECK(help.code == 0);
    CHECK_THAT(help.out, Contains("--socket PIPE") && Contains("\\\\.\\pipe\\recd-<session id>"));
    CHECK_THAT(help.out, !Contains("--user"));
}

// These two use the session's own pipe, which every test of this session shares: ctest runs
// them one at a time (RESOURCE_LOCK recd-session-pipe, CMakeLists.txt).
TEST_CASE("recctl.exe: with no --socket it talks to its own session's recd",
          "[recctl][session-pipe]") {
    ScopedEnv no_env(L"RECD_SOCKET", std::nullopt);
    PipeServer recd(session_pipe());
    const Run ping = recctl({L"ping"});
    INFO(ping.describe());
    CHECK(ping.code == 0);
    CHECK_THAT(ping.out, Contains(" at " + utf8(session_pipe()) + "\n"));
}

TEST_CASE("recctl.exe: no recd in its session: exit 3, naming the session's pipe",
          "[recctl][session-pipe]") {
    ScopedEnv no_env(L"RECD_SOCKET", std::nullopt);
    const Run ping = recctl({L"status"});
    INFO(ping.describe());
    CHECK(ping.code == 3);
    CHECK_THAT(ping.err, Contains("recctl: pipe tried: " + utf8(session_pipe()) +
                                  ", this session's (choose another"));
}
