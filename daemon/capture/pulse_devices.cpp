// `recctl devices`: the audio server's sinks and sources. Runs on a worker thread with its own
// short-lived, non-threaded mainloop.
#include <fmt/format.h>

#include <memory>
#include <thread>

#include "../../common/error.hpp"
#include "pulse_audio.hpp"

namespace rec {
namespace {

// A query to a local server takes milliseconds; give up after this.
constexpr auto query_timeout = std::chrono::seconds(3);

struct Query {
    ipc::Json result = {{"sinks", ipc::Json::array()}, {"sources", ipc::Json::array()}};
    int pending = 0;  // operations not yet complete
};

const char* text(const char* s) { return s ? s : ""; }

void ask(pa_context* c, Query& q) {
    q.pending = 3;
    pa_operation_unref(pa_context_get_server_info(
        c,
        [](pa_context*, const pa_server_info* info, void* user) {
            auto& q = *static_cast<Query*>(user);
            q.result["default_sink"] = text(info->default_sink_name);
            q.result["default_source"] = text(info->default_source_name);
            --q.pending;
        },
        &q));
    pa_operation_unref(pa_context_get_sink_info_list(
        c,
        [](pa_context*, const pa_sink_info* info, int eol, void* user) {
            auto& q = *static_cast<Query*>(user);
            if (eol) return void(--q.pending);
            q.result["sinks"].push_back({{"name", text(info->name)},
                                         {"description", text(info->description)},
                                         {"monitor", text(info->monitor_source_name)}});
        },
        &q));
    pa_operation_unref(pa_context_get_source_info_list(
        c,
        [](pa_context*, const pa_source_info* info, int eol, void* user) {
            auto& q = *static_cast<Query*>(user);
            if (eol) return void(--q.pending);
            q.result["sources"].push_back(
                {{"name", text(info->name)},
                 {"description", text(info->description)},
                 {"monitor_of", info->monitor_of_sink != PA_INVALID_INDEX}});
        },
        &q));
}

}  // namespace

ipc::Json list_pulse_devices() {
    std::unique_ptr<pa_mainloop, decltype(&pa_mainloop_free)> loop(pa_mainloop_new(),
                                                                   &pa_mainloop_free);
    std::unique_ptr<pa_context, decltype(&pa_context_unref)> context(
        pa_context_new(pa_mainloop_get_api(loop.get()), "recd-devices"), &pa_context_unref);
    pa_context_connect(context.get(), nullptr, PA_CONTEXT_NOAUTOSPAWN, nullptr);
    Query q;
    bool asked = false;
    const auto deadline = Clock::now() + query_timeout;
    while (Clock::now() < deadline && (!asked || q.pending > 0)) {
        const auto state = pa_context_get_state(context.get());
        if (!PA_CONTEXT_IS_GOOD(state)) break;
        if (state == PA_CONTEXT_READY && !asked) {
            ask(context.get(), q);
            asked = true;
        }
        if (pa_mainloop_iterate(loop.get(), 0, nullptr) <= 0)
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    const bool done = asked && q.pending == 0;
    const std::string why = pa_strerror(pa_context_errno(context.get()));
    pa_context_disconnect(context.get());
    if (!done)
        throw Error(ErrorCode::audio_unavailable,
                    fmt::format("cannot list audio devices: the PulseAudio server {}",
                                asked ? "did not answer" : "is not reachable (" + why + ")"));
    return std::move(q.result);
}

}  // namespace rec
