// recd-shm-push NAME: publishes frames into shared-memory ring NAME for
// `recctl start --source shm:NAME`. The example producer of common/shm/frame_ring.hpp:
//   recd-shm-push cam1                               a moving 640x480 test card at 30 fps
//   ffmpeg ... -f rawvideo -pix_fmt bgra - | recd-shm-push cam1 --stdin 640x480 bgra 30
// Frames are stamped on recd's clock when they are due (test card) or read (--stdin). SIGINT,
// SIGTERM and the end of the input end the ring, which stops the recording cleanly.
// Exit codes: 0 done, 1 the ring could not be created or the input failed, 2 usage error.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <thread>
#include <vector>

#include "common/shm/frame_ring.hpp"
#include "test_card.hpp"

namespace {

using rec::shm::Clock;

volatile std::sig_atomic_t stop_signal = 0;

struct Options {
    std::string name;
    std::vector<std::string> stdin_spec;  // WxH FORMAT FPS
    std::string size = "640x480", format = "bgra";
    int fps = 30;
    uint32_t capacity = 8;
    uint64_t frames = 0;  // 0: until stopped
    int burst = 1;
};

bool parse_size(const std::string& text, uint32_t& width, uint32_t& height) {
    unsigned w = 0, h = 0;
    char end = 0;
    if (std::sscanf(text.c_str(), "%ux%u%c", &w, &h, &end) != 2) return false;
    width = w, height = h;
    return true;
}

// Frame k is due at start + k / fps. Falling behind by more than a frame (a stalled input, a
// busy machine) starts the schedule over from now rather than rushing frames out to catch up.
class Schedule {
public:
    explicit Schedule(int fps) : period_(std::chrono::nanoseconds(1'000'000'000LL / fps)) {}
    // The instant frame `k` is due; sleeps until then if it is ahead.
    Clock::time_point wait(uint64_t k) {
        auto due = start_ + period_ * static_cast<int64_t>(k - base_);
        const auto now = Clock::now();
        if (now > due + period_) {
            start_ = now, base_ = k, due = now;
        }
        std::this_thread::sleep_until(due);
        return due;
    }

private:
    std::chrono::nanoseconds period_;
    Clock::time_point start_ = Clock::now();
    uint64_t base_ = 0;
};

// The test card, `burst` frames at a time: each stamped with the instant it was due, published
// together when the last of them is due (what a camera with a deep driver queue, or a simulator
// stepping in lockstep, does: the timestamps, not the arrival, say when each frame was).
int push_test_card(rec::shm::FrameRing& ring, const rec::tools::TestCard& card, const Options& o) {
    Schedule schedule(o.fps);
    const auto period = std::chrono::nanoseconds(1'000'000'000LL / o.fps);
    std::vector<uint8_t> frame(ring.frame_bytes());
    for (uint64_t k = 0; !stop_signal && (o.frames == 0 || k < o.frames);) {
        const uint64_t last = o.frames ? std::min(k + o.burst, o.frames) - 1 : k + o.burst - 1;
        const auto last_due = schedule.wait(last);
        for (; k <= last; ++k) {
            card.draw(frame.data(), k);
            ring.write(frame.data(), last_due - period * static_cast<int64_t>(last - k));
        }
    }
    return 0;
}

// Raw frames from standard input, paced at `fps` (a file is played in real time; a camera
// delivers at its own rate and each frame is stamped as it is read).
int push_stdin(rec::shm::FrameRing& ring, int fps) {
    Schedule schedule(fps);
    std::vector<uint8_t> frame(ring.frame_bytes());
    for (uint64_t k = 0; !stop_signal; ++k) {
        if (std::fread(frame.data(), 1, frame.size(), stdin) != frame.size()) {
            if (std::ferror(stdin) && !stop_signal) {
                std::fprintf(stderr, "recd-shm-push: reading standard input failed\n");
                return 1;
            }
            return 0;  // the end of the input (a partial last frame is dropped)
        }
        schedule.wait(k);
        ring.write(frame.data(), Clock::now());
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"recd-shm-push: publish frames for recctl start --source shm:NAME",
                 "recd-shm-push"};
    Options o;
    app.add_option("NAME", o.name, "the ring's name (recctl start --source shm:NAME)")->required();
    app.add_option("--stdin", o.stdin_spec,
                   "read raw frames of this size, pixel format (bgra, rgb24, nv12, i420) and "
                   "rate from standard input instead of drawing the test card")
        ->type_name("WxH FORMAT FPS")
        ->expected(3);
    app.add_option("--size", o.size, "test card size")->type_name("WxH")->capture_default_str();
    app.add_option("--format", o.format, "test card pixel format: bgra, rgb24, nv12, i420")
        ->capture_default_str();
    app.add_option("--fps", o.fps, "test card frames per second")
        ->check(CLI::Range(1, 1000))
        ->capture_default_str();
    app.add_option("--capacity", o.capacity, "frames the ring holds while recd lags")
        ->capture_default_str();
    app.add_option("--frames", o.frames, "end the ring after this many frames (0: never)")
        ->capture_default_str();
    app.add_option("--burst", o.burst,
                   "publish the test card N frames at a time, each with its own timestamp")
        ->check(CLI::Range(1, 1000))
        ->capture_default_str();
    CLI11_PARSE(app, argc, argv);

    rec::shm::RingSpec spec{o.name, 0, 0, rec::shm::PixelFormat::bgra, o.capacity, 0};
    std::string size = o.size, format = o.format;
    int fps = o.fps;
    if (!o.stdin_spec.empty()) {
        size = o.stdin_spec[0], format = o.stdin_spec[1];
        try {
            fps = std::stoi(o.stdin_spec[2]);
        } catch (const std::exception&) {
            fps = 0;
        }
        if (fps < 1 || fps > 1000) {
            std::fprintf(stderr, "recd-shm-push: --stdin FPS must be 1..1000, got %s\n",
                         o.stdin_spec[2].c_str());
            return 2;
        }
    }
    const auto pixel_format = rec::shm::parse_pixel_format(format);
    if (!pixel_format || !parse_size(size, spec.width, spec.height)) {
        std::fprintf(stderr,
                     "recd-shm-push: size must be WxH (e.g. 640x480), got \"%s\"; format one of "
                     "bgra, rgb24, nv12, i420, got \"%s\"\n",
                     size.c_str(), format.c_str());
        return 2;
    }
    spec.format = *pixel_format;
    spec.fps = static_cast<uint32_t>(fps);

    struct sigaction action {};
    action.sa_handler = [](int) { stop_signal = 1; };
    sigaction(SIGINT, &action, nullptr);
    sigaction(SIGTERM, &action, nullptr);
    try {
        auto ring = rec::shm::FrameRing::create(spec);
        std::fprintf(stderr, "recd-shm-push: ring %s: %ux%u %s at %d fps, %u frames (pid %d)\n",
                     o.name.c_str(), spec.width, spec.height, format.c_str(), fps, spec.capacity,
                     static_cast<int>(getpid()));
        if (!o.stdin_spec.empty()) return push_stdin(ring, fps);
        rec::tools::TestCard card(spec.format, spec.width, spec.height);
        return push_test_card(ring, card, o);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "recd-shm-push: %s\n", e.what());
        return 1;
    }
}
