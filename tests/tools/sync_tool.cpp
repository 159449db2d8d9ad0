// sync_tool: emits the A/V sync signal of sync_signal.hpp for recd's sync tests
// (tests/integration/test_audio.cpp) and benchmark (tests/bench/sync_long.sh): at each event it
// flashes a window on the X display and plays a tone on a PulseAudio sink, both at the event's
// instant; optionally it also feeds the tones to a pipe source whose clock runs `skew` off.
//
//   sync_tool [--display D] [--sink NAME] [--duration SECONDS] [--region WxH+X+Y]
//             [--mic-fifo PATH [--mic-skew FRACTION]]
//
// Prints "ready start=T" once everything runs (T: steady clock seconds, the clock recd stamps
// with), then one line per event: "event K t=T late_us=N" (the flash), "tone K frame=N ..." and
// "mic K frame=N" (where the tone was placed in each audio stream).
// Exit codes: 0 on SIGTERM/SIGINT or at the end of --duration, 1 when the display or the audio
// server cannot be used, 2 on bad usage.
#include <sched.h>
#include <xcb/xcb.h>

#include <bit>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>

#include "sync_audio.hpp"
#include "sync_signal.hpp"

using namespace rec::sync;
using namespace std::chrono_literals;

namespace {

volatile std::sig_atomic_t stop_requested = 0;

void on_signal(int) { stop_requested = 1; }

struct Region {
    int width = 0;  // 0: the whole screen
    int height = 0;
    int x = 0;
    int y = 0;
};

struct Options {
    std::string display;  // empty: $DISPLAY
    std::string sink;     // empty: the default sink
    double duration = 0;  // seconds; 0: until a signal
    Region region;
    std::string mic_fifo;
    double mic_skew = 0;
};

std::optional<Region> parse_region(const std::string& text) {
    Region r;
    char tail = 0;
    if (std::sscanf(text.c_str(), "%dx%d+%d+%d%c", &r.width, &r.height, &r.x, &r.y, &tail) != 4 ||
        r.width <= 0 || r.height <= 0 || r.x < 0 || r.y < 0) {
        return std::nullopt;
    }
    return r;
}

bool parse_args(int argc, char** argv, Options& o) {
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (i + 1 >= argc) return false;
        const std::string value = argv[++i];
        if (arg == "--display") {
            o.display = value;
        } else if (arg == "--sink") {
            o.sink = value;
        } else if (arg == "--duration") {
            o.duration = std::atof(value.c_str());
            if (o.duration <= 0) return false;
        } else if (arg == "--region") {
            auto region = parse_region(value);
            if (!region) return false;
            o.region = *region;
        } else if (arg == "--mic-fifo") {
            o.mic_fifo = value;
        } else if (arg == "--mic-skew") {
            o.mic_skew = std::atof(value.c_str());
            if (o.mic_skew <= -0.1 || o.mic_skew >= 0.1) return false;
        } else {
            return false;
        }
    }
    return true;
}

std::mutex print_mutex;

// Any thread: one line to stdout, flushed, so the test sees events as they happen.
void print_line(const std::string& line) {
    std::lock_guard lock(print_mutex);
    std::fprintf(stdout, "%s\n", line.c_str());
    std::fflush(stdout);
}

double seconds(Clock::time_point t) {
    return std::chrono::duration<double>(t.time_since_epoch()).count();
}

Clock::time_point after(Clock::time_point t, double seconds) {
    return t + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
}

// Sleeps until `deadline` unless a signal asks to stop first; false if it did.
bool sleep_until(Clock::time_point deadline) {
    while (!stop_requested) {
        const auto now = Clock::now();
        if (now >= deadline) return true;
        std::this_thread::sleep_until(std::min(deadline, now + 50ms));
    }
    return false;
}

// The flashing window: override-redirect (no window manager needed), mapped on top of
// everything already on the display, black between flashes. Main thread only.
class Flasher {
public:
    Flasher(const std::string& display, Region region) {
        conn_ = xcb_connect(display.empty() ? nullptr : display.c_str(), &screen_number_);
        if (xcb_connection_has_error(conn_)) {
            const char* name = display.empty() ? std::getenv("DISPLAY") : display.c_str();
            throw std::runtime_error(std::string("cannot open display ") +
                                     (name ? name : "(unset)"));
        }
        xcb_screen_iterator_t it = xcb_setup_roots_iterator(xcb_get_setup(conn_));
        for (int i = 0; i < screen_number_ && it.rem; ++i) xcb_screen_next(&it);
        xcb_screen_t* screen = it.data;
        if (region.width == 0) region = {screen->width_in_pixels, screen->height_in_pixels, 0, 0};
        find_masks(screen);
        window_ = xcb_generate_id(conn_);
        const uint32_t values[] = {screen->black_pixel, 1};  // background, override-redirect
        xcb_create_window(conn_, XCB_COPY_FROM_PARENT, window_, screen->root,
                          static_cast<int16_t>(region.x), static_cast<int16_t>(region.y),
                          static_cast<uint16_t>(region.width), static_cast<uint16_t>(region.height),
                          0, XCB_WINDOW_CLASS_INPUT_OUTPUT, screen->root_visual,
                          XCB_CW_BACK_PIXEL | XCB_CW_OVERRIDE_REDIRECT, values);
        xcb_map_window(conn_, window_);
        gc_ = xcb_generate_id(conn_);
        const uint32_t gc_values[] = {screen->black_pixel, 0};  // foreground, no exposures
        xcb_create_gc(conn_, gc_, window_, XCB_GC_FOREGROUND | XCB_GC_GRAPHICS_EXPOSURES,
                      gc_values);
        rect_ = {0, 0, static_cast<uint16_t>(region.width), static_cast<uint16_t>(region.height)};
        fill(0);
        sync();
    }
    Flasher(const Flasher&) = delete;
    Flasher& operator=(const Flasher&) = delete;
    ~Flasher() { xcb_disconnect(conn_); }

    // Paints the whole window grey `level` (0..255) and sends it now.
    void fill(double level) {
        const auto v = static_cast<uint32_t>(std::lround(std::clamp(level, 0.0, 255.0)));
        const uint32_t pixel = scaled(v, red_) | scaled(v, green_) | scaled(v, blue_);
        xcb_change_gc(conn_, gc_, XCB_GC_FOREGROUND, &pixel);
        xcb_poly_fill_rectangle(conn_, window_, gc_, 1, &rect_);
        xcb_flush(conn_);
    }

    // Round trip: returns once the server has carried out everything sent before.
    void sync() {
        std::free(xcb_get_input_focus_reply(conn_, xcb_get_input_focus(conn_), nullptr));
    }

    bool broken() const { return xcb_connection_has_error(conn_) != 0; }

private:
    // The root visual's colour masks, so a grey level becomes the right pixel value.
    void find_masks(xcb_screen_t* screen) {
        for (auto depths = xcb_screen_allowed_depths_iterator(screen); depths.rem;
             xcb_depth_next(&depths)) {
            for (auto v = xcb_depth_visuals_iterator(depths.data); v.rem; xcb_visualtype_next(&v)) {
                if (v.data->visual_id == screen->root_visual) {
                    red_ = v.data->red_mask;
                    green_ = v.data->green_mask;
                    blue_ = v.data->blue_mask;
                }
            }
        }
    }

    static uint32_t scaled(uint32_t level, uint32_t mask) {
        if (mask == 0) return 0;
        const int shift = std::countr_zero(mask);
        const uint32_t top = mask >> shift;
        return ((level * top + 127) / 255) << shift;
    }

    xcb_connection_t* conn_ = nullptr;
    int screen_number_ = 0;
    xcb_window_t window_ = 0;
    xcb_gcontext_t gc_ = 0;
    xcb_rectangle_t rect_{};
    uint32_t red_ = 0xff0000, green_ = 0xff00, blue_ = 0xff;
};

// One event: the ramp of sync_signal.hpp, redrawn every half millisecond. Each level is the one
// for the middle of the half millisecond after the fill, from the time the fill actually goes
// out, not from when it was due: a fill that comes late (this process stalled with the whole VM
// for tens of ms) still shows how long ago the event's instant was, so the flash is measured
// where the event was, not where the stall put the drawing. Returns how late the first fill
// went out.
Clock::duration flash(Flasher& flasher, Clock::time_point instant) {
    constexpr double step_ms = 0.5;
    Clock::duration late{};
    for (double ms = 0; ms < ramp_ms; ms += step_ms) {
        std::this_thread::sleep_until(after(instant, ms / 1000));
        const auto since = Clock::now() - instant;
        if (ms == 0) late = since;
        const double now_ms = std::chrono::duration<double, std::milli>(since).count();
        if (now_ms >= ramp_ms) break;
        flasher.fill(flash_level(now_ms + step_ms / 2));
    }
    std::this_thread::sleep_until(after(instant, ramp_ms / 1000));
    flasher.fill(flash_floor);
    std::this_thread::sleep_until(after(instant, flash_seconds));
    flasher.fill(0);
    flasher.sync();
    return late;
}

// Real-time priority where allowed (root here), so timer wake-ups stay within tens of µs on a
// busy machine; the threads created afterwards inherit it. Nothing spins, so it cannot starve.
void try_realtime() {
    sched_param param{};
    param.sched_priority = 10;
    if (sched_setscheduler(0, SCHED_FIFO, &param) != 0) {
        print_line("note: no real-time priority; event timing may jitter more");
    }
}

int run(const Options& options) {
    try_realtime();
    Flasher flasher(options.display, options.region);
    TonePlayer player(options.sink, print_line);
    std::optional<MicFeeder> mic;
    if (!options.mic_fifo.empty()) mic.emplace(options.mic_fifo, options.mic_skew, print_line);

    const auto start = Clock::now();
    player.begin(start);
    if (mic) mic->begin(start);
    print_line("ready start=" + std::to_string(seconds(start)));

    for (int k = 0; !stop_requested; ++k) {
        const double at = event_time(k);
        if (options.duration > 0 && at + flash_seconds > options.duration) break;
        const auto instant = after(start, at);
        if (!sleep_until(instant)) break;
        const auto late = flash(flasher, instant);
        if (flasher.broken()) throw std::runtime_error("lost the X connection");
        char line[128];
        std::snprintf(line, sizeof(line), "event %d t=%.6f late_us=%lld", k, seconds(instant),
                      static_cast<long long>(
                          std::chrono::duration_cast<std::chrono::microseconds>(late).count()));
        print_line(line);
    }
    if (options.duration > 0) sleep_until(after(start, options.duration));
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    Options options;
    if (!parse_args(argc, argv, options)) {
        std::fprintf(stderr,
                     "usage: sync_tool [--display D] [--sink NAME] [--duration SECONDS] "
                     "[--region WxH+X+Y] [--mic-fifo PATH [--mic-skew FRACTION]]\n");
        return 2;
    }
    struct sigaction action {};
    action.sa_handler = on_signal;
    sigaction(SIGTERM, &action, nullptr);
    sigaction(SIGINT, &action, nullptr);
    std::signal(SIGPIPE, SIG_IGN);  // a FIFO whose reader left: write() reports EPIPE instead
    try {
        return run(options);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "sync_tool: %s\n", e.what());
        return 1;
    }
}
