#include "bus_guard.hpp"

#include <setjmp.h>
#include <signal.h>

#include <mutex>

namespace rec::shm {
namespace {

// The jump target of the guarded call running on this thread, if any. Static TLS with a
// constant initializer: safe to read in a signal handler.
thread_local sigjmp_buf* guarded_jump = nullptr;
struct sigaction previous_action {};

void on_sigbus(int sig, siginfo_t* info, void* context) {
    if (sigjmp_buf* jump = guarded_jump) {
        guarded_jump = nullptr;
        siglongjmp(*jump, 1);
    }
    // Not ours: what would have happened without us.
    if (previous_action.sa_flags & SA_SIGINFO) {
        if (previous_action.sa_sigaction) return previous_action.sa_sigaction(sig, info, context);
    } else if (previous_action.sa_handler != SIG_DFL && previous_action.sa_handler != SIG_IGN) {
        return previous_action.sa_handler(sig);
    }
    // Default: the faulting instruction runs again and the process dies of SIGBUS as it would.
    signal(SIGBUS, SIG_DFL);
}

void install() {
    struct sigaction action {};
    action.sa_sigaction = &on_sigbus;
    action.sa_flags = SA_SIGINFO;
    sigemptyset(&action.sa_mask);
    sigaction(SIGBUS, &action, &previous_action);
}

}  // namespace

bool run_guarded(void (*fn)(void*), void* arg) {
    static std::once_flag installed;
    std::call_once(installed, install);
    sigjmp_buf jump;
    // savemask = 1: the jump out of the handler also unblocks SIGBUS again.
    if (sigsetjmp(jump, 1) != 0) return false;
    guarded_jump = &jump;
    fn(arg);
    guarded_jump = nullptr;
    return true;
}

}  // namespace rec::shm
