// CreateProcessAsUserW of recd.exe into a session, the Sunshine sunshinesvc way (user token of
// the session, its environment, winsta0\default) but for any session, not only the console's.
#include "session_launcher.hpp"

#include <spdlog/spdlog.h>
#include <userenv.h>
#include <wtsapi32.h>

#include <string>
#include <vector>

namespace rec {
namespace {

// What recd is told: serve this login session ([autostart] applies; a recd already running for
// the session is no error, it exits 0).
constexpr const wchar_t* recd_arguments = L" --session";

struct EnvironmentFree {
    void operator()(void* env) const { DestroyEnvironmentBlock(env); }
};

UniqueHandle make_job() {
    UniqueHandle job(CreateJobObjectW(nullptr, nullptr));
    if (!job) throw std::runtime_error("CreateJobObjectW: " + last_error_text());
    JOBOBJECT_EXTENDED_LIMIT_INFORMATION limits{};
    limits.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
    if (!SetInformationJobObject(job.get(), JobObjectExtendedLimitInformation, &limits,
                                 sizeof limits))
        throw std::runtime_error("SetInformationJobObject: " + last_error_text());
    return job;
}

// The session user's token, already a primary one, as CreateProcessAsUserW takes it (the
// launcher's own handle, closed after the launch). WTSQueryUserToken needs SeTcbPrivilege
// (LocalSystem has it) and gives, for an administrator under UAC, the filtered token: recd runs
// unelevated.
UniqueHandle user_token(SessionId session) {
    HANDLE token = nullptr;
    if (!WTSQueryUserToken(session, &token)) {
        const DWORD err = GetLastError();
        const bool nobody = err == ERROR_NO_TOKEN || err == ERROR_CTX_WINSTATION_NOT_FOUND;
        throw LaunchError(nobody ? LaunchFailure::no_user : LaunchFailure::error,
                          "WTSQueryUserToken: " + win32_error_text(err));
    }
    return UniqueHandle(token);
}

UniqueHandle open_nul() {
    SECURITY_ATTRIBUTES inheritable{sizeof inheritable, nullptr, TRUE};
    return adopt_handle(CreateFileW(L"NUL", GENERIC_READ | GENERIC_WRITE,
                                    FILE_SHARE_READ | FILE_SHARE_WRITE, &inheritable, OPEN_EXISTING,
                                    0, nullptr));
}

// PROC_THREAD_ATTRIBUTE_HANDLE_LIST: the child inherits these handles and no other. Plain
// inheritance would hand it every inheritable handle the service has open at that moment; with
// the list a recd can never get another session's log, whatever else the service does then.
class InheritOnly {
public:
    explicit InheritOnly(std::vector<HANDLE> handles) : handles_(std::move(handles)) {
        SIZE_T size = 0;
        InitializeProcThreadAttributeList(nullptr, 1, 0, &size);  // fails, says the size
        storage_.resize(size);
        list_ = reinterpret_cast<LPPROC_THREAD_ATTRIBUTE_LIST>(storage_.data());
        if (!InitializeProcThreadAttributeList(list_, 1, 0, &size))
            throw LaunchError(LaunchFailure::error, "attribute list: " + last_error_text());
        if (!UpdateProcThreadAttribute(list_, 0, PROC_THREAD_ATTRIBUTE_HANDLE_LIST, handles_.data(),
                                       handles_.size() * sizeof(HANDLE), nullptr, nullptr)) {
            const std::string error = last_error_text();
            DeleteProcThreadAttributeList(list_);
            throw LaunchError(LaunchFailure::error, "handle list: " + error);
        }
    }
    ~InheritOnly() { DeleteProcThreadAttributeList(list_); }
    InheritOnly(const InheritOnly&) = delete;
    InheritOnly& operator=(const InheritOnly&) = delete;
    LPPROC_THREAD_ATTRIBUTE_LIST get() const { return list_; }

private:
    std::vector<HANDLE> handles_;  // read by CreateProcess, so alive as long as the list
    std::vector<char> storage_;
    LPPROC_THREAD_ATTRIBUTE_LIST list_ = nullptr;
};

}  // namespace

SessionLauncher::SessionLauncher(std::optional<std::filesystem::path> log_dir)
    : job_(make_job()),
      recd_exe_(this_exe().parent_path() / L"recd.exe"),
      log_dir_(std::move(log_dir)) {}

// session-<id>.log is this session's current (or last) recd, session-<id>.log.1 the one before
// (session ids are reused, so that is also the previous logon's). Always a new file, in a
// directory where every name is the service's own (log_directory.cpp). Null (output to NUL)
// when there is none; the reason is logged.
UniqueHandle SessionLauncher::open_log(SessionId session, std::filesystem::path& path) const {
    path.clear();
    if (!log_dir_) return {};
    const auto log = *log_dir_ / (L"session-" + std::to_wstring(session) + L".log");
    auto previous = log;
    previous += L".1";
    if (!MoveFileExW(log.c_str(), previous.c_str(), MOVEFILE_REPLACE_EXISTING) &&
        GetLastError() != ERROR_FILE_NOT_FOUND)
        spdlog::warn("session {}: cannot move {} aside: {}", session, utf8(log), last_error_text());
    SECURITY_ATTRIBUTES inheritable{sizeof inheritable, nullptr, TRUE};
    // Append-only, and readable by an administrator (FILE_SHARE_READ) while recd writes.
    auto handle =
        adopt_handle(CreateFileW(log.c_str(), FILE_APPEND_DATA | FILE_READ_ATTRIBUTES | SYNCHRONIZE,
                                 FILE_SHARE_READ | FILE_SHARE_DELETE, &inheritable, CREATE_NEW,
                                 FILE_ATTRIBUTE_NORMAL, nullptr));
    if (!handle)
        spdlog::warn("session {}: cannot create {} ({}): recd's output goes nowhere", session,
                     utf8(log), last_error_text());
    else
        path = log;
    return handle;
}

LaunchedRecd SessionLauncher::launch(SessionId session) {
    const auto token = user_token(session);
    void* raw_env = nullptr;
    if (!CreateEnvironmentBlock(&raw_env, token.get(), FALSE))
        throw LaunchError(LaunchFailure::error, "CreateEnvironmentBlock: " + last_error_text());
    const std::unique_ptr<void, EnvironmentFree> env(raw_env);

    LaunchedRecd recd;
    const auto nul = open_nul();
    const auto log = open_log(session, recd.log);
    if (!nul) throw LaunchError(LaunchFailure::error, "cannot open NUL: " + last_error_text());
    const HANDLE out = log ? log.get() : nul.get();
    InheritOnly inherit(log ? std::vector<HANDLE>{nul.get(), out} : std::vector<HANDLE>{out});

    STARTUPINFOEXW si{};
    si.StartupInfo.cb = sizeof si;
    si.StartupInfo.dwFlags = STARTF_USESTDHANDLES;
    si.StartupInfo.hStdInput = nul.get();
    si.StartupInfo.hStdOutput = out;
    si.StartupInfo.hStdError = out;
    // The interactive window station and desktop of the session: where DXGI duplicates the
    // screen from. Without it the process gets a desktop of its own, invisible.
    wchar_t desktop[] = L"winsta0\\default";
    si.StartupInfo.lpDesktop = desktop;
    si.lpAttributeList = inherit.get();

    std::wstring command_line = L"\"" + recd_exe_.wstring() + L"\"" + recd_arguments;
    const auto directory = recd_exe_.parent_path();
    // Suspended until it is in the job: a recd must not run, or start children, outside it.
    // CREATE_NO_WINDOW: recd is a console program; the user sees no console window.
    const DWORD flags = CREATE_SUSPENDED | CREATE_UNICODE_ENVIRONMENT | CREATE_NO_WINDOW |
                        EXTENDED_STARTUPINFO_PRESENT;
    PROCESS_INFORMATION pi{};
    if (!CreateProcessAsUserW(token.get(), recd_exe_.c_str(), command_line.data(), nullptr, nullptr,
                              TRUE, flags, env.get(), directory.c_str(), &si.StartupInfo, &pi))
        throw LaunchError(LaunchFailure::error,
                          "CreateProcessAsUserW " + utf8(recd_exe_) + ": " + last_error_text());
    recd.process.reset(pi.hProcess);
    const UniqueHandle thread(pi.hThread);
    recd.pid = pi.dwProcessId;
    std::string error;
    if (!AssignProcessToJobObject(job_.get(), recd.process.get()))
        error = "AssignProcessToJobObject: " + last_error_text();
    else if (ResumeThread(thread.get()) == DWORD(-1))
        error = "ResumeThread: " + last_error_text();
    if (!error.empty()) {
        TerminateProcess(recd.process.get(), 1);
        throw LaunchError(LaunchFailure::error, error);
    }
    return recd;
}

void SessionLauncher::kill_all() { TerminateJobObject(job_.get(), 1); }

}  // namespace rec
