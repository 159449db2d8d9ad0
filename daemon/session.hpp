#pragma once
// One recording: builds, owns and stops its pipeline
//   [vcap] ScreenSource -> BoundedQueue<VideoFrame> -> [venc] timeline -> encoder -+
//   [acap/aenc] AudioTrack "system", AudioTrack "mic" ------------------------------+-> Muxer
// Threads: start() and wait() run on the server's worker pool (they block); request_stop(),
// pause(), resume() and status() may be called from any thread (the io thread calls them); the
// vcap and venc threads are owned here, the aenc threads by the tracks; the venc thread waits
// for the tracks, then finalizes the file.
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

#include "../common/clock.hpp"
#include "../common/config.hpp"
#include "../common/error.hpp"
#include "../common/ipc/protocol.hpp"
#include "media/bounded_queue.hpp"
#include "media/frame.hpp"
#include "media/session_clock.hpp"
#include "media/timeline.hpp"

namespace rec {

class ScreenSource;
class VideoEncoder;
class OpenFiles;
struct VideoEncoderSettings;
}  // namespace rec
struct AVFrame;
struct AVPacket;
namespace rec {
class Segmenter;
class AudioTrack;
class Events;
class Hooks;
struct ClosedFile;

// What one recording does: the config's sections, overridden by the start request.
struct SessionOptions {
    std::string display;           // the screen recorded (choose_display), unless shm_ring is set
    std::string shm_ring;          // a shared-memory ring to record instead (common/shm/)
    bool wait_for_source = false;  // shm: the producer may be absent, at the start and later
    std::optional<ipc::Region> region;
    std::string monitor;  // as ScreenRequest (capture/sources.hpp) takes it
    std::string name;     // empty: the session id
    VideoConfig video;
    AudioConfig audio;
    OutputConfig output;
    bool strict_encoder = false;  // the first preferred encoder or nothing
};

// waiting: started, but its source is not there yet (a ring whose producer has not started):
// nothing is opened until it comes.
enum class SessionState { starting, waiting, recording, paused, stopping, stopped, failed };
std::string_view to_string(SessionState state);

class Session {
public:
    // `events` outlives the session (the server owns both).
    Session(std::string id, SessionOptions options, const Config& config, Events& events,
            OpenFiles& open_files);
    ~Session();
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    // Worker thread: opens the display, the audio, the encoders and the file, then starts
    // recording. Throws rec::Error; on failure nothing is left behind (no threads, no file).
    // A source that is not there yet (shm with wait_for_source) leaves the session waiting: the
    // vcap thread opens the rest when it comes.
    void start();
    // Any thread: capture stops; the pipeline drains and finalizes the file by itself.
    void request_stop();
    // Worker thread: blocks until the file is final (after request_stop or a failure).
    void wait();
    // Any thread. Throws rec::Error(INVALID_STATE) unless recording (pause) / paused (resume).
    void pause();
    void resume();
    // Any thread: the next keyframe starts a new file. INVALID_STATE unless recording/paused.
    void split();

    const std::string& id() const { return id_; }
    SessionState state() const { return state_.load(); }
    bool finished() const;  // stopped or failed
    ipc::Json status() const;

private:
    void change_state(SessionState from, SessionState to);
    std::unique_ptr<ScreenSource> open_source() const;
    std::string source_name() const;
    void open_pipeline();
    void run_pipeline();
    void await_source();
    bool grab_one(bool paced);
    bool stop_requested();
    void open_video_encoder();
    void open_output();
    void open_audio();
    void capture_loop();
    void encode_loop();
    bool encode_frame(VideoTimeline& timeline, VideoFrame& frame);
    bool encode_at(const AVFrame* picture, int64_t pts);
    bool frame_due(int64_t pts);
    int64_t ticks_per_second() const;
    double seconds(int64_t pts) const;
    void finalize();
    void end();
    void release_pipeline(const ipc::Json& final_status);
    bool has_error() const;
    void on_file(const ClosedFile& file, bool opened);
    ipc::Json describe() const;
    void fail(ErrorCode code, const std::string& message);
    void fail_encode();
    bool fail_over_encoder(int64_t pts);
    bool follow_resize(const AVFrame& picture, int64_t pts);
    void install_encoder(std::unique_ptr<VideoEncoder> encoder, double at,
                         const std::string& reason);
    bool write_video(AVPacket& packet);
    void publish_encoder_fallback();
    VideoEncoderSettings encoder_settings() const;

    const std::string id_;
    const SessionOptions options_;
    const bool vfr_;  // options_.video.frame_rate_mode is "vfr"
    // The video encoder's time base is 1/(fps x ticks_per_frame_): slots at a constant rate;
    // at a variable rate, fine enough to carry each grab's own time (encode_frame()).
    const int ticks_per_frame_;
    const Config config_;
    Events& events_;
    OpenFiles& open_files_;  // notes each file while it is written
    std::atomic<SessionState> state_{SessionState::starting};
    SessionClock clock_;

    // The pipeline (source_, encoder_, tracks_, output_) lives until the session ends; then
    // release_pipeline() lets it go (a finished session stays listed for `status`, and kept its
    // X connection, frame pool, encoders and their buffers, ~90 MB at 1080p, until forgotten)
    // and status() answers from final_status_ (and hooks_, kept: hooks outlive the session). Other
    // threads read the pipeline under a shared lock of pipeline_mutex_; the release takes it
    // exclusively.
    mutable std::shared_mutex pipeline_mutex_;
    std::optional<ipc::Json> final_status_;
    std::unique_ptr<ScreenSource> source_;
    // Set once the encoder, audio and output exist (start(), or await_source() on the vcap
    // thread): status() and describe() read them only then.
    std::atomic<bool> opened_{false};
    // Replaced by the venc thread when it fails (fail_over_encoder); other threads read it
    // under encoder_mutex_.
    std::unique_ptr<VideoEncoder> encoder_;
    mutable std::mutex encoder_mutex_;  // guards encoder_, encoder_fallback_reason_, region_
    int failovers_ = 0;                 // venc thread
    std::vector<std::unique_ptr<AudioTrack>> tracks_;
    std::unique_ptr<Segmenter> output_;
    std::unique_ptr<Hooks> hooks_;
    int video_stream_ = 0;
    BoundedQueue<VideoFrame> queue_;
    std::thread capture_thread_, encode_thread_;
    std::mutex stop_mutex_;  // with stop_cv_: wakes the capture loop at once on stop
    std::condition_variable stop_cv_;
    bool stop_requested_ = false;

    std::atomic<uint64_t> captured_{0}, unchanged_{0}, encoded_{0}, duplicated_{0}, skipped_{0};
    // vcap thread, once: when the first picture was grabbed (Unix time, ms), for status: how long
    // a start took to record anything, measured by the clock the caller reads too.
    std::atomic<int64_t> first_frame_unix_ms_{0};
    // venc thread: the latest picture grabbed (taken over from its queue entry, not copied), for
    // an encoder that replaces a failed one at an unchanged grab (it has no previous picture of
    // its own). Released when the venc thread ends.
    FramePtr last_picture_;
    int64_t last_encoded_ = -1;  // venc thread: the last pts written (encoder's time base)
    std::atomic<int64_t> slots_{0};
    std::atomic<int64_t> max_repeats_{0};  // most slots one picture filled: the longest gap
    // Set by start(); its size follows a resized screen (the venc thread, follow_resize()).
    ipc::Region region_;
    // Set by start(), read-only afterwards.
    std::string started_utc_;  // ISO 8601, for the sidecar
    int64_t started_steady_ns_ = 0;
    std::string encoder_fallback_reason_;
    std::vector<std::string> warnings_;

    mutable std::mutex error_mutex_;  // guards error_ (written by any pipeline thread)
    std::optional<Error> error_;
    // Held by start() and wait(): a stop that arrives while the session is still starting waits
    // for the start to finish, then for the drain.
    std::mutex lifecycle_mutex_;
};

}  // namespace rec
