#pragma once
// One recording: builds, owns and stops its pipeline
//   [vcap] ScreenSource -> BoundedQueue<VideoFrame> -> [venc] timeline -> encoder -> muxer.
// Threads: start() and wait() run on the server's worker pool (they block); request_stop() and
// status() may be called from any thread (the io thread calls them); the vcap and venc threads
// are owned here and joined by wait() or the destructor.
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "../common/clock.hpp"
#include "../common/config.hpp"
#include "../common/error.hpp"
#include "../common/ipc/protocol.hpp"
#include "media/bounded_queue.hpp"
#include "media/frame.hpp"

namespace rec {

class ScreenSource;
class VideoEncoder;
class Muxer;

struct SessionOptions {
    std::string display;
    std::optional<ipc::Region> region;
    std::string monitor;
    int fps = 30;
    std::string name;  // empty: the session id
};

enum class SessionState { starting, recording, stopping, stopped, failed };
std::string_view to_string(SessionState state);

class Session {
public:
    Session(std::string id, SessionOptions options, const Config& config);
    ~Session();
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    // Worker thread: opens the display, the encoder and the file, then starts recording.
    // Throws rec::Error; on failure nothing is left behind (no threads, no file).
    void start();
    // Any thread: capture stops; the pipeline drains and finalizes the file by itself.
    void request_stop();
    // Worker thread: blocks until the file is final (after request_stop or a failure).
    void wait();

    const std::string& id() const { return id_; }
    SessionState state() const { return state_.load(); }
    bool finished() const;  // stopped or failed
    ipc::Json status() const;

private:
    void capture_loop();
    void encode_loop();
    void fail_encode();
    void fail(ErrorCode code, const std::string& message);

    const std::string id_;
    const SessionOptions options_;
    const Config config_;
    std::atomic<SessionState> state_{SessionState::starting};

    std::unique_ptr<ScreenSource> source_;
    std::unique_ptr<VideoEncoder> encoder_;
    std::unique_ptr<Muxer> muxer_;
    int video_stream_ = 0;
    BoundedQueue<VideoFrame> queue_;
    std::thread capture_thread_, encode_thread_;
    std::mutex stop_mutex_;  // with stop_cv_: wakes the capture loop at once on stop
    std::condition_variable stop_cv_;
    bool stop_requested_ = false;

    std::atomic<uint64_t> captured_{0}, encoded_{0}, duplicated_{0}, skipped_{0};
    std::atomic<int64_t> slots_{0};
    std::string file_;  // set by start(), read-only afterwards
    ipc::Region region_;

    mutable std::mutex error_mutex_;  // guards error_ (written by any pipeline thread)
    std::optional<Error> error_;
    // Held by start() and wait(): a stop that arrives while the session is still starting waits
    // for the start to finish, then for the drain.
    std::mutex lifecycle_mutex_;
};

}  // namespace rec
