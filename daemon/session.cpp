#include "session.hpp"

#include <spdlog/spdlog.h>

#include <cstdio>

#include "../common/log.hpp"
#include "capture/x11_screen.hpp"
#include "encode/video_encoder.hpp"
#include "media/timeline.hpp"
#include "mux/muxer.hpp"
#include "mux/output_file.hpp"

namespace rec {
namespace {

// Frames queued between grab and encode: ~200 ms at 30 fps absorbs an encoder hiccup (a
// keyframe costs several frames' time) while bounding memory (8 MB per 1080p frame).
constexpr size_t video_queue_frames = 6;

}  // namespace

std::string_view to_string(SessionState state) {
    switch (state) {
        case SessionState::starting: return "starting";
        case SessionState::recording: return "recording";
        case SessionState::stopping: return "stopping";
        case SessionState::stopped: return "stopped";
        case SessionState::failed: return "failed";
    }
    return "failed";
}

Session::Session(std::string id, SessionOptions options, const Config& config)
    : id_(std::move(id)),
      options_(std::move(options)),
      config_(config),
      queue_(video_queue_frames, Overflow::drop_newest) {}

Session::~Session() {
    request_stop();
    wait();
}

void Session::start() {
    std::lock_guard lock(lifecycle_mutex_);
    source_ = std::make_unique<X11Screen>(
        X11Target{options_.display, options_.region, options_.monitor});
    region_ = source_->region();
    const auto& video = config_.video;
    encoder_ = std::make_unique<VideoEncoder>(
        VideoEncoderSettings{region_.width, region_.height, options_.fps, source_->pixel_format(),
                             video.preset, video.crf, video.keyframe_seconds});
    auto file = create_output_file(
        output_directory(config_.output),
        OutputName{config_.output.file_template, options_.name.empty() ? id_ : options_.name, id_,
                   "mkv"});
    file_ = file.path.string();
    try {
        muxer_ = std::make_unique<Muxer>(std::move(file), "matroska");
        video_stream_ = muxer_->add_stream(encoder_->context(), "screen");
        muxer_->begin();
    } catch (...) {
        muxer_.reset();
        std::remove(file_.c_str());  // a file without a header is no recording
        throw;
    }
    state_ = SessionState::recording;
    spdlog::info("{}: recording {} to {}", id_, options_.display, file_);
    encode_thread_ = std::thread(&Session::encode_loop, this);
    capture_thread_ = std::thread(&Session::capture_loop, this);
}

void Session::request_stop() {
    auto expected = SessionState::recording;
    state_.compare_exchange_strong(expected, SessionState::stopping);
    {
        std::lock_guard lock(stop_mutex_);
        stop_requested_ = true;
    }
    stop_cv_.notify_all();
}

void Session::wait() {
    std::lock_guard lock(lifecycle_mutex_);
    if (capture_thread_.joinable()) capture_thread_.join();
    if (encode_thread_.joinable()) encode_thread_.join();
}

bool Session::finished() const {
    const auto s = state();
    return s == SessionState::stopped || s == SessionState::failed;
}

void Session::fail(ErrorCode code, const std::string& message) {
    {
        std::lock_guard lock(error_mutex_);
        if (error_) return;
        error_.emplace(code, message);
    }
    spdlog::error("{}: {}: {}", id_, to_string(code), message);
    request_stop();
}

// vcap thread: grabs at the target rate, paced by deadlines on the steady clock. A grab that
// overruns its slot skips the slots it missed (the timeline repeats a picture there) rather
// than grabbing in a burst to catch up.
void Session::capture_loop() {
    set_thread_name("vcap-" + id_);
    try {
        const auto period = std::chrono::duration_cast<Clock::duration>(Seconds(1.0 / options_.fps));
        auto deadline = Clock::now();
        std::unique_lock lock(stop_mutex_);
        while (!stop_requested_) {
            lock.unlock();
            VideoFrame frame;
            if (source_->grab(frame) == GrabStatus::lost) {
                fail(ErrorCode::display_lost, source_->error());
                break;
            }
            ++captured_;
            queue_.push(std::move(frame));  // a full queue counts the frame as dropped
            deadline += period;
            if (const auto now = Clock::now(); now > deadline)
                deadline += period * ((now - deadline) / period + 1);
            lock.lock();
            stop_cv_.wait_until(lock, deadline, [&] { return stop_requested_; });
        }
    } catch (const std::exception& e) {
        fail(ErrorCode::internal, std::string("capture: ") + e.what());
    }
    queue_.close();
}

// venc thread: places each frame on the timeline, encodes it (repeating the previous picture
// for slots no grab landed in), and when the queue closes drains the encoder and finalizes the
// file. A failure here stops capture; the file is finalized all the same.
void Session::encode_loop() {
    set_thread_name("venc-" + id_);
    try {
        VideoTimeline timeline(options_.fps);
        const auto sink = [&](AVPacket& packet) {
            return muxer_->write(packet, video_stream_, encoder_->context().time_base);
        };
        bool ok = true;
        while (auto frame = queue_.pop()) {
            if (!ok) continue;  // after a failure: empty the queue until capture has stopped
            auto slot = timeline.place(frame->time);
            if (!slot) {
                ++skipped_;
                continue;
            }
            for (int64_t i = slot->repeats; ok && i > 0; --i, ++duplicated_)
                ok = encoder_->encode(nullptr, slot->pts - i, sink);
            ok = ok && encoder_->encode(frame->frame.get(), slot->pts, sink);
            if (ok) ++encoded_;
            slots_ = timeline.slots();
            if (!ok) fail_encode();
        }
        if (ok && !encoder_->flush(sink)) fail_encode();
    } catch (const std::exception& e) {
        fail(ErrorCode::internal, std::string("encode: ") + e.what());
    }
    if (!muxer_->finish()) fail(ErrorCode::output_failed, muxer_->error());
    const bool failed = [&] {
        std::lock_guard lock(error_mutex_);
        return error_.has_value();
    }();
    state_ = failed ? SessionState::failed : SessionState::stopped;
    spdlog::info("{}: {} {} ({:.2f} s, {} bytes)", id_, failed ? "failed, kept" : "finalized",
                 file_, slots_.load() / static_cast<double>(options_.fps), muxer_->bytes());
}

// The muxer's error (disk full, I/O) takes precedence: the encoder only failed because its
// packet could not be written.
void Session::fail_encode() {
    if (!muxer_->error().empty())
        fail(ErrorCode::output_failed, muxer_->error());
    else
        fail(ErrorCode::encoder_unavailable, encoder_->error());
}

ipc::Json Session::status() const {
    const auto s = state();
    ipc::Json j = {
        {"id", id_},
        {"name", options_.name.empty() ? id_ : options_.name},
        {"state", to_string(s)},
        {"display", options_.display},
        {"fps", options_.fps},
    };
    if (s != SessionState::starting) {
        j["region"] = ipc::to_json(region_);
        j["file"] = file_;
        j["encoder"] = encoder_->name();
        j["bytes"] = muxer_->bytes();
    }
    j["duration"] = slots_.load() / static_cast<double>(options_.fps);
    j["frames"] = {{"captured", captured_.load()},
                   {"encoded", encoded_.load()},
                   {"dropped", queue_.dropped() + skipped_.load()},
                   {"duplicated", duplicated_.load()}};
    std::lock_guard lock(error_mutex_);
    if (error_) j["error"] = {{"code", to_string(error_->code())}, {"message", error_->what()}};
    return j;
}

}  // namespace rec
