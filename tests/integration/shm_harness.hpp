#pragma once
// What the shared-memory source tests use: recd-shm-push as a producer process, unique ring
// names cleaned up afterwards, waiting for a session's state, and reading back from a recording
// which test-card frame (tools/test_card.hpp: its number drawn as 16 blocks) each file frame
// shows. Everything here runs on the test's main thread.
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "harness.hpp"

extern "C" {
#include <libavutil/frame.h>
}

namespace rec::test {

fs::path shm_push_bin();  // fails the test if recd-shm-push was not built

// A ring name unique to this process and call; its segment (/dev/shm/recd-UID-NAME) is
// removed when the object goes, whatever the producer left behind.
class RingName {
public:
    explicit RingName(const std::string& tag);
    RingName(const RingName&) = delete;
    RingName& operator=(const RingName&) = delete;
    ~RingName();
    const std::string& name() const { return name_; }
    std::string source() const { return "shm:" + name_; }
    fs::path segment() const;  // its path under /dev/shm
    bool exists() const { return fs::exists(segment()); }

private:
    std::string name_;
};

// recd-shm-push NAME ARGS... (the test card unless ARGS say otherwise) in the sandbox's
// environment. With `wait_for_ring`, returns once the ring exists (fails the test after 5 s).
std::unique_ptr<Process> start_producer(Sandbox& box, const RingName& ring,
                                        const std::vector<std::string>& args = {},
                                        bool wait_for_ring = true);

// `recctl status ID` until the session's state is `state`, up to `timeout`; the last status
// seen (null if recctl never answered).
Json wait_for_state(Sandbox& box, const std::string& id, const std::string& state,
                    std::chrono::milliseconds timeout = 10s);

// One decoded frame of a recording: its presentation time (seconds from the stream's first)
// and the test-card frame number it shows (-1 when the blocks cannot be read).
struct CardFrame {
    double time = 0;
    int64_t pts = 0;  // in slots of the file's frame rate
    int number = -1;
};

// Decodes the first video stream of `file`; `on_frame`, if given, also sees every frame.
std::vector<CardFrame> read_card_frames(const fs::path& file, int fps,
                                        const std::function<void(const AVFrame&)>& on_frame = {});

// The test card's number in a decoded 4:2:0 frame of the given width.
int card_number(const AVFrame& frame);

// The card numbers a file shows, each once, in file order.
std::vector<int> numbers_of(const std::vector<CardFrame>& frames);

// Checks that every number from the first to the last is there, in order: no frame lost or
// reordered.
void check_consecutive(const std::vector<int>& numbers);

// The card numbers the file of a session object (as status or stop gives it) shows, at 30 fps.
std::vector<int> session_numbers(const Json& session);

// A session's error code, or "".
std::string error_code(const Json& session);

}  // namespace rec::test
