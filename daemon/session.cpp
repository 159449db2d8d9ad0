#include "session.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cstdio>

#include "../common/log.hpp"
#include "audio_track.hpp"
#include "capture/sources.hpp"
#include "encode/audio_encoder.hpp"
#include "encode/probe.hpp"
#include "encode/video_encoder.hpp"
#include "events.hpp"
#include "hook.hpp"
#include "mux/output_file.hpp"
#include "mux/segmenter.hpp"
#include "mux/sidecar.hpp"
#include "open_files.hpp"

namespace rec {
namespace {

// Frames queued between grab and encode: ~200 ms at 30 fps absorbs an encoder hiccup (a
// keyframe costs several frames' time) while bounding memory (8 MB per 1080p frame).
constexpr size_t video_queue_frames = 6;
// An encoder that keeps failing after being replaced is not transient: the session ends.
constexpr int max_encoder_failovers = 3;
// VFR: a frame's pts carries its grab's time to 1/1000 of a frame (33 us at 30 fps), finer than
// a grab's own time is known (its round trip to the X server) and than Matroska keeps (1 ms), so
// the rounding adds nothing to the sync error. 240 fps x 1000 still fits an int time base.
constexpr int vfr_ticks_per_frame = 1000;

// While the venc thread opens a new video encoder at media time `at` (tens of ms, more on a
// loaded machine) and flushes the old one, the audio past `at` waits for the new file instead of
// landing in the old one (Segmenter::hold_from). Released by switch_video(), or here when no
// encoder replaces the old one or something throws.
class AudioHold {
public:
    AudioHold(Segmenter& output, double at) : output_(output) { output_.hold_from(at); }
    AudioHold(const AudioHold&) = delete;
    AudioHold& operator=(const AudioHold&) = delete;
    ~AudioHold() { output_.release_hold(); }

private:
    Segmenter& output_;
};

}  // namespace

std::string_view to_string(SessionState state) {
    switch (state) {
        case SessionState::starting:
            return "starting";
        case SessionState::waiting:
            return "waiting";
        case SessionState::recording:
            return "recording";
        case SessionState::paused:
            return "paused";
        case SessionState::stopping:
            return "stopping";
        case SessionState::stopped:
            return "stopped";
        case SessionState::failed:
            return "failed";
    }
    return "failed";
}

Session::Session(std::string id, SessionOptions options, const Config& config, Events& events,
                 OpenFiles& open_files)
    : id_(std::move(id)),
      options_(std::move(options)),
      vfr_(options_.video.frame_rate_mode == "vfr"),
      ticks_per_frame_(vfr_ ? vfr_ticks_per_frame : 1),
      config_(config),
      events_(events),
      open_files_(open_files),
      queue_(video_queue_frames, Overflow::drop_newest) {}

Session::~Session() {
    request_stop();
    wait();
}

void Session::start() {
    std::lock_guard lock(lifecycle_mutex_);
    source_ = open_source();
    if (!source_->ready()) {
        state_ = SessionState::waiting;
        spdlog::info("{}: waiting for {}", id_, source_name());
        capture_thread_ = std::thread(&Session::await_source, this);
        return;
    }
    open_pipeline();
    state_ = SessionState::recording;
    run_pipeline();
    capture_thread_ = std::thread(&Session::capture_loop, this);
}

std::unique_ptr<ScreenSource> Session::open_source() const {
    return open_screen(ScreenRequest{options_.display, options_.shm_ring, options_.wait_for_source,
                                     options_.region, options_.monitor});
}

// What the session records, for logs, status and the sidecar: ":0", "shm:cam1".
std::string Session::source_name() const {
    return options_.shm_ring.empty() ? options_.display : "shm:" + options_.shm_ring;
}

// start(), or await_source() once the source is there.
void Session::open_pipeline() {
    region_ = source_->region();
    open_video_encoder();
    const AVCodecContext& video = encoder_->context();
    source_->prefer_format(encoder_->backend().input, video.width, video.height);
    open_audio();
    open_output();
    opened_ = true;
}

// After open_pipeline(): audio and the venc thread start; the caller starts capture.
void Session::run_pipeline() {
    spdlog::info("{}: recording {} with {} audio track(s) to {}", id_, source_name(),
                 tracks_.size(), output_->current_file());
    const auto fail = [this](ErrorCode code, const std::string& message) {
        this->fail(code, message);
    };
    for (size_t i = 0; i < tracks_.size(); ++i)
        tracks_[i]->start(*output_, video_stream_ + 1 + static_cast<int>(i), fail);
    events_.publish({{"event", "session_started"}, {"session", id_}, {"status", status()}});
    if (!encoder_fallback_reason_.empty()) publish_encoder_fallback();
    encode_thread_ = std::thread(&Session::encode_loop, this);
}

// vcap thread of a waiting session: when the source comes, the rest opens and capture starts
// on this thread. A stop before that ends the session without a file; a source that turns out
// unusable, or a pipeline that cannot open, fails it. (wait() joins this thread before it reads
// encode_thread_, which this thread may set.)
void Session::await_source() {
    set_thread_name("vcap-" + id_);
    bool opened = false;
    try {
        const auto ready = source_->wait_ready();
        // Unusable before it recorded anything (a malformed ring): as a start would have failed.
        if (ready == GrabStatus::lost) fail(ErrorCode::source_unavailable, source_->error());
        if (ready == GrabStatus::ok) {
            open_pipeline();
            auto waiting = SessionState::waiting;
            // Else a stop came meanwhile: the pipeline drains what little there is.
            state_.compare_exchange_strong(waiting, SessionState::recording);
            run_pipeline();
            opened = true;
        }
    } catch (const Error& e) {
        fail(e.code(), e.what());
    } catch (...) {
        fail(ErrorCode::internal, "unexpected exception while opening the session: " +
                                      exception_message(std::current_exception()));
    }
    if (opened) return capture_loop();
    end();
}

// What every video encoder of this session is opened with (start(), fail_over_encoder()).
VideoEncoderSettings Session::encoder_settings() const {
    const auto& v = options_.video;
    VideoEncoderSettings settings{region_.width,
                                  region_.height,
                                  0,
                                  0,
                                  v.fps,
                                  ticks_per_frame_,
                                  source_->pixel_format(),
                                  *parse_quality(v.quality),
                                  v.crf,
                                  v.bitrate_kbps,
                                  v.keyframe_seconds};
    if (!v.size.empty())
        std::sscanf(v.size.c_str(), "%dx%d", &settings.out_width, &settings.out_height);
    return settings;
}

void Session::open_video_encoder() {
    const auto& v = options_.video;
    auto choice = choose_encoder(v.encoder, v.codec, options_.strict_encoder, encoder_settings());
    encoder_ = std::move(choice.encoder);
    encoder_fallback_reason_ = std::move(choice.fallback_reason);
}

void Session::open_output() {
    const auto& o = options_.output;
    hooks_ = std::make_unique<Hooks>(o.on_file_closed);
    const auto now = std::chrono::system_clock::now();
    started_utc_ = fmt::format("{:%Y-%m-%dT%H:%M:%S}Z", fmt::gmtime(now));
    started_steady_ns_ = Clock::now().time_since_epoch().count();
    std::vector<StreamSpec> streams{{&encoder_->context(), "screen", true}};
    for (const auto& t : tracks_) streams.push_back({&t->encoder().context(), t->title(), false});
    SegmentPlan plan{output_directory(o),
                     OutputName{.file_template = o.file_template,
                                .name = options_.name.empty() ? id_ : options_.name,
                                .session = id_,
                                .extension = {}},  // the segmenter's, from the container
                     parse_container(o.container),
                     o.segment_seconds,
                     static_cast<uint64_t>(o.segment_megabytes) << 20,
                     static_cast<uint64_t>(o.min_free_mb) << 20};
    output_ = std::make_unique<Segmenter>(
        std::move(plan), std::move(streams),
        [this](const ClosedFile& file, bool opened) { on_file(file, opened); });
}

// Segmenter callback, on the thread that opened or closed `file`.
void Session::on_file(const ClosedFile& file, bool opened) {
    if (opened)
        open_files_.add(file.path);
    else
        open_files_.remove(file.path);
    ipc::Json sidecar = describe();
    sidecar["file"] = file.path;
    sidecar["seq"] = file.seq;
    sidecar["media_start"] = file.start;
    if (!opened) {
        sidecar["duration"] = file.duration;
        sidecar["bytes"] = file.bytes;
        sidecar["end_reason"] = file.end_reason;
        if (!file.error.empty()) sidecar["error"] = file.error;
    }
    if (auto error = write_sidecar(file.path, sidecar); !error.empty())
        spdlog::warn("{}: {}", id_, error);
    ipc::Json event = {{"event", opened ? "file_opened" : "file_closed"},
                       {"session", id_},
                       {"file", file.path},
                       {"seq", file.seq}};
    if (!opened) {
        event.update(
            {{"duration", file.duration}, {"bytes", file.bytes}, {"end_reason", file.end_reason}});
        if (!file.error.empty()) event["error"] = file.error;
    }
    events_.publish(std::move(event));
    if (!opened) hooks_->run(file.path);
}

// What the sidecar says about the whole session.
ipc::Json Session::describe() const {
    const auto& v = options_.video;
    ipc::Json tracks = ipc::Json::array();
    const char* source_key = options_.shm_ring.empty() ? "display" : "source";
    tracks.push_back(
        {{"title", "screen"}, {source_key, source_name()}, {"region", ipc::to_json(region_)}});
    for (const auto& t : tracks_) tracks.push_back(t->status());
    std::unique_lock encoder_lock(encoder_mutex_);
    ipc::Json encoder = {{"name", encoder_->backend().family},
                         {"codec", encoder_->backend().codec},
                         {"ffmpeg", encoder_->backend().encoder},
                         {"quality", v.quality},
                         {"fps", v.fps},
                         {"width", encoder_->context().width},
                         {"height", encoder_->context().height},
                         {"fallback_reason", encoder_fallback_reason_}};
    encoder_lock.unlock();
    return {{"recd", RECD_VERSION},
            {"session", id_},
            {"name", options_.name.empty() ? id_ : options_.name},
            {"user", user_name()},
            {"host", host_name()},
            {source_key, source_name()},
            {"started_utc", started_utc_},
            {"started_steady_ns", started_steady_ns_},
            {"encoder", encoder},
            {"container", options_.output.container},
            {"tracks", tracks},
            {"segments", output_ ? output_->closed_files() : ipc::Json::array()}};
}

// Each wanted track that cannot connect is a warning (the recording goes on without it), or
// the end of the start when audio is required.
void Session::open_audio() {
    const auto& a = options_.audio;
    const std::pair<bool, std::pair<AudioKind, std::string>> wanted[] = {
        {a.system, {AudioKind::system, a.system_device}}, {a.mic, {AudioKind::mic, a.mic_device}}};
    for (const auto& [on, track] : wanted) {
        if (!on) continue;
        try {
            tracks_.push_back(
                std::make_unique<AudioTrack>(track.first, track.second, a.codec, clock_));
        } catch (const Error& e) {
            if (a.required || e.code() != ErrorCode::audio_unavailable) throw;
            warnings_.push_back(std::string(e.what()) + ": recording without it");
            spdlog::warn("{}: {}", id_, warnings_.back());
        }
    }
}

void Session::request_stop() {
    clock_.stop(Clock::now());
    bool was_running = false;
    for (auto expected : {SessionState::waiting, SessionState::recording, SessionState::paused})
        was_running |= state_.compare_exchange_strong(expected, SessionState::stopping);
    {
        std::lock_guard lock(stop_mutex_);
        stop_requested_ = true;
    }
    stop_cv_.notify_all();
    // A grab waiting on a hung X server (or for a producer) must not hold up the stop. source_
    // exists once the state has been waiting or recording (start() sets it first) and until the
    // session has ended.
    if (!was_running) return;
    std::shared_lock lock(pipeline_mutex_);
    if (source_) source_->interrupt();
}

void Session::pause() {
    change_state(SessionState::recording, SessionState::paused);
    clock_.pause(Clock::now());
}

void Session::resume() {
    change_state(SessionState::paused, SessionState::recording);
    clock_.resume(Clock::now());
}

// pause/resume: `from` -> `to`, or INVALID_STATE saying what the session is.
void Session::change_state(SessionState from, SessionState to) {
    auto actual = from;
    if (!state_.compare_exchange_strong(actual, to))
        throw Error(ErrorCode::invalid_state,
                    fmt::format("{} is {}, not {}", id_, to_string(actual), to_string(from)));
    spdlog::info("{}: {}", id_, to_string(to));
    events_.publish({{"event", to == SessionState::paused ? "session_paused" : "session_resumed"},
                     {"session", id_}});
}

void Session::split() {
    std::shared_lock lock(pipeline_mutex_);
    const auto s = state();
    if (s != SessionState::recording && s != SessionState::paused)
        throw Error(ErrorCode::invalid_state,
                    fmt::format("{} is {}: only a recording session can split", id_, to_string(s)));
    output_->request_split();
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
// than grabbing in a burst to catch up. While paused nothing is grabbed. A self-paced source
// (a shared-memory ring) is grabbed again at once instead: its grab waits for the producer's
// next frame. Like every thread of a session it catches everything at its top: an exception
// fails this session (INTERNAL), never the daemon (an exception escaping a std::thread is
// std::terminate).
void Session::capture_loop() {
    set_thread_name("vcap-" + id_);
    try {
        const bool paced = !source_->self_paced();
        const auto period =
            std::chrono::duration_cast<Clock::duration>(Seconds(1.0 / options_.video.fps));
        auto deadline = Clock::now();
        std::unique_lock lock(stop_mutex_);
        while (!stop_requested_) {
            lock.unlock();
            if (!grab_one(paced)) break;
            lock.lock();
            if (!paced) continue;
            deadline += period;
            if (const auto now = Clock::now(); now > deadline)
                deadline += period * ((now - deadline) / period + 1);
            stop_cv_.wait_until(lock, deadline, [&] { return stop_requested_; });
        }
    } catch (...) {
        fail(ErrorCode::internal, "unexpected exception in the vcap thread: " +
                                      exception_message(std::current_exception()));
    }
    queue_.close();
}

// vcap thread: one grab into the queue. False when capture is over (stopped, source lost or
// ended). A self-paced source keeps its frames in its own buffer (the ring) while the encoder
// catches up, so its grab waits for room in the queue rather than drop a frame there; while
// paused its frames are taken and let go, so they neither pile up nor count as overwritten.
bool Session::grab_one(bool paced) {
    if (paced && clock_.paused()) return true;
    // 50 ms: how soon a stop is seen when the venc thread has stopped taking frames.
    while (!paced && !queue_.wait_for_room(std::chrono::milliseconds(50)))
        if (stop_requested()) return false;
    VideoFrame frame;
    const auto grabbed = source_->grab(frame);
    if (grabbed == GrabStatus::interrupted) return false;  // by request_stop()
    if (grabbed == GrabStatus::lost) {
        fail(source_->lost_code(), source_->error());
        return false;
    }
    if (grabbed == GrabStatus::ended) {
        spdlog::info("{}: {} ended; the recording stops", id_, source_name());
        request_stop();
        return false;
    }
    if (!paced && clock_.paused()) return true;
    if (grabbed == GrabStatus::unchanged) {
        ++unchanged_;
    } else if (captured_++ == 0) {
        first_frame_unix_ms_ = std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count();
    }
    queue_.push(std::move(frame));  // a full queue counts the frame as dropped
    return true;
}

bool Session::stop_requested() {
    std::lock_guard lock(stop_mutex_);
    return stop_requested_;
}

// venc thread: places each frame on the timeline and encodes it; when the queue closes, drains
// the encoder, waits for the audio tracks and finalizes the file. A failure here, an exception
// included, stops capture; the file is finalized all the same (without what the encoder still
// held: after an exception its state is unknown).
void Session::encode_loop() {
    set_thread_name("venc-" + id_);
    try {
        VideoTimeline timeline(options_.video.fps);
        bool ok = true;
        while (auto frame = queue_.pop()) {
            if (ok && !(ok = encode_frame(timeline, *frame))) fail_encode();
        }
        last_picture_.reset();  // the capture's frame pool can go
        // VFR: the last slot gets a picture (the latest again when it has none), so the file
        // lasts as long as the recording.
        const int64_t end = (timeline.slots() - 1) * ticks_per_frame_;
        if (ok && last_encoded_ >= 0 && last_encoded_ + ticks_per_frame_ / 2 < end &&
            !(ok = encode_at(nullptr, end)))
            fail_encode();
        if (ok && !encoder_->flush([this](AVPacket& p) { return write_video(p); })) fail_encode();
    } catch (...) {
        fail(ErrorCode::internal, "unexpected exception in the venc thread: " +
                                      exception_message(std::current_exception()));
    }
    try {
        finalize();
    } catch (...) {
        // The file may not be final, but the session must end: stop and shutdown wait for it.
        fail(ErrorCode::internal, "unexpected exception while finalizing: " +
                                      exception_message(std::current_exception()));
    }
    end();
}

// venc thread: a packet of the current video encoder into the current file.
bool Session::write_video(AVPacket& packet) {
    return output_->write(packet, video_stream_, encoder_->context().time_base);
}

// The first frame sets the session's epoch; audio refers to it.
// CFR: every slot is written, an unchanged grab and an empty slot (a late grab) as the previous
// picture again; a picture's pts is its slot, up to half a frame from when it was grabbed.
// VFR: only pictures that changed are written, plus an unchanged one when frame_due() says so;
// an empty slot is left empty (the previous picture lasts longer), and a picture's pts is the
// time it was grabbed (a grab that came late, the machine busy, is shown when it was taken, not
// in the slot nearest to it: the picture stays in sync with the sound to the millisecond).
bool Session::encode_frame(VideoTimeline& timeline, VideoFrame& frame) {
    clock_.set_epoch(frame.time);
    const auto media = clock_.media_time(frame.time);
    const auto slot = media ? timeline.place(*media) : std::nullopt;
    const bool changed = frame.frame != nullptr;
    // A second grab in one slot (the one before came late, its thread waiting for a CPU): CFR
    // has room for one picture a slot and loses it; VFR keeps a new picture at its own time,
    // unless the source sets the pace (a shared-memory producer faster than fps: the slots cap
    // the file's rate).
    const bool keep = vfr_ && changed && !source_->self_paced();
    if (!media || (!slot && !keep)) {
        if (!media || !vfr_ || changed) ++skipped_;  // paused, after the stop, or lost in its slot
        return true;
    }
    if (slot) {
        spdlog::trace(
            "{}: frame at {:.6f} s in slot {} ({:+.3f} ms from it)", id_, media->count(), slot->pts,
            (media->count() - static_cast<double>(slot->pts) / options_.video.fps) * 1000);
        max_repeats_ = std::max<int64_t>(max_repeats_, slot->repeats);
    }
    slots_ = timeline.slots();
    // Where this picture goes, in the encoder's time base. VFR: the grab's own time, at least
    // 1 ms after the last picture written: Matroska keeps milliseconds, and two frames in one
    // would share a timestamp (a grab right after a late one).
    const auto grabbed_pts = [&] {
        const int64_t pts = std::llround(media->count() * ticks_per_second());
        return last_encoded_ < 0 ? pts : std::max(pts, last_encoded_ + ticks_per_second() / 1000);
    };
    const int64_t at = vfr_ ? grabbed_pts() : slot->pts;
    if (vfr_ && !changed && !frame_due(at)) return true;
    int64_t pts = vfr_ ? at : slot->pts - slot->repeats;  // the next pts to write
    bool ok = true;
    while (ok && pts < at)
        if ((ok = encode_at(nullptr, pts))) ++pts, ++duplicated_;
    // An unchanged grab (no frame) is the previous picture again, which the encoder still holds.
    if (changed) {
        const AVFrame& picture = *frame.frame;
        if (ok && (picture.width != region_.width || picture.height != region_.height) &&
            !follow_resize(picture, at))
            return false;
        last_picture_ = std::move(frame.frame);
    }
    ok = ok && encode_at(changed ? last_picture_.get() : nullptr, at);
    // A failed encoder (at `pts`): a new file with another from there on. A new encoder has no
    // previous picture, so the latest one also stands in for the CFR slots not yet written.
    if (!ok) {
        if (!fail_over_encoder(pts) || !encode_at(last_picture_.get(), pts)) return false;
        for (int64_t later = pts + 1; later <= at; ++later)
            if (!encode_at(nullptr, later)) return false;
    }
    ++encoded_;
    return true;
}

// venc thread: a picture at `pts` (the encoder's time base) into the current encoder (nullptr:
// the previous picture again). At a planned cut, the first frame at or after it starts the new
// file, as a keyframe.
bool Session::encode_at(const AVFrame* picture, int64_t pts) {
    if (output_->keyframe_due(seconds(pts))) encoder_->request_keyframe();
    if (!encoder_->encode(picture, pts, [this](AVPacket& p) { return write_video(p); }))
        return false;
    last_encoded_ = pts;
    return true;
}

// VFR, venc thread: whether a picture at `pts` is written although it did not change: at least
// one frame a second (a player shows the time passing, a cut file has a picture to start from),
// a keyframe due by time, or a planned cut. The segmenter answers a cut's keyframe_due() once
// (the answer consumes it), so the keyframe is requested here, where it is asked.
bool Session::frame_due(int64_t pts) {
    if (output_->keyframe_due(seconds(pts))) {
        encoder_->request_keyframe();
        return true;
    }
    const auto due = [&](int64_t at) {
        return last_encoded_ < 0 || at - last_encoded_ >= ticks_per_second() ||
               encoder_->keyframe_due(at);
    };
    if (due(pts)) return true;
    // A picture falls due before the next grab: that grab takes a whole fresh picture (and is
    // the keyframe, if that is what is due). The source's own once-a-second full grab then
    // counts from it rather than adding a picture shortly after: a still screen costs one
    // picture a second, not one a second and the keyframes.
    const int64_t next = pts + ticks_per_frame_;
    if (due(next)) {
        if (encoder_->keyframe_due(next)) encoder_->request_keyframe();
        source_->refresh();
    }
    return false;
}

// The encoder's time base, inverted: its ticks in a second of media time.
int64_t Session::ticks_per_second() const { return int64_t{options_.video.fps} * ticks_per_frame_; }

// A pts in the encoder's time base, as media time.
double Session::seconds(int64_t pts) const {
    return static_cast<double>(pts) / static_cast<double>(ticks_per_second());
}

bool Session::has_error() const {
    std::lock_guard lock(error_mutex_);
    return error_.has_value();
}

void Session::finalize() {
    for (const auto& t : tracks_) {
        t->request_stop();
        t->wait();
    }
    const auto reason = [&]() -> std::string {
        std::lock_guard lock(error_mutex_);
        return error_ ? "failed: " + std::string(to_string(error_->code())) : "stopped";
    }();
    if (!output_->finish(reason)) fail(ErrorCode::output_failed, "a file could not be finalized");
    spdlog::info("{}: {} {} ({:.2f} s, {} bytes)", id_, has_error() ? "failed, kept" : "finalized",
                 output_->current_file(), slots_.load() / static_cast<double>(options_.video.fps),
                 output_->bytes());
}

// venc thread, last (or the vcap thread of a session that never opened: await_source()): the
// session's final state, and the event saying so, whatever finalize() managed (stop and
// shutdown wait for the state to leave `stopping`).
void Session::end() {
    const bool failed = has_error();
    state_ = failed ? SessionState::failed : SessionState::stopped;
    ipc::Json final_status = status();
    release_pipeline(final_status);
    events_.publish({{"event", failed ? "session_failed" : "session_stopped"},
                     {"session", id_},
                     {"status", std::move(final_status)}});
}

// end(), on the thread that ends the session: every other pipeline thread is done (the vcap
// thread closed the queue before the venc thread left its loop; finalize() joined the tracks'),
// so what they used can go. status() says from now on what it said last.
void Session::release_pipeline(const ipc::Json& final_status) {
    std::lock_guard lock(pipeline_mutex_);
    final_status_ = final_status;
    output_.reset();  // holds the codec contexts of the encoders below
    tracks_.clear();
    encoder_.reset();
    source_.reset();
}

// venc thread, when the video encoder failed at `pts` and the output did not: the recording
// goes on from there in a new file, with the backends of the session's preference
// after the failed one first and the failed one last (a fresh encoder may work after a
// transient failure, e.g. a GPU reset). False when none opens or failures keep coming.
bool Session::fail_over_encoder(int64_t pts) {
    if (!output_->error().empty() || failovers_ >= max_encoder_failovers) return false;
    const double at = seconds(pts);
    AudioHold hold(*output_, at);
    const std::string failed = encoder_->backend().family;
    const std::string why = encoder_->error();
    std::vector<std::string> order = options_.video.encoder;
    std::erase(order, failed);
    order.push_back(failed);
    EncoderChoice choice;
    try {
        choice = choose_encoder(order, options_.video.codec, options_.strict_encoder,
                                encoder_settings());
    } catch (const Error& e) {
        spdlog::error("{}: video encoder {} failed ({}) and none replaces it: {}", id_, failed, why,
                      e.what());
        return false;
    }
    ++failovers_;
    spdlog::warn("{}: video encoder {} failed ({}); a new file goes on with {}", id_, failed, why,
                 choice.encoder->backend().family);
    install_encoder(std::move(choice.encoder), at, "encoder failed");
    {
        std::lock_guard lock(encoder_mutex_);
        encoder_fallback_reason_ = failed + " failed while recording: " + why;
        if (!choice.fallback_reason.empty())
            encoder_fallback_reason_ += "; " + choice.fallback_reason;
    }
    publish_encoder_fallback();
    return true;
}

// venc thread: `encoder` goes on from media time `at` in a new file. What the old one still
// holds (frame threads delay packets by a few frames) belongs before the cut; an encoder that
// is truly gone (failed) cannot give it, and that is all lost.
void Session::install_encoder(std::unique_ptr<VideoEncoder> encoder, double at,
                              const std::string& reason) {
    encoder_->flush([this](AVPacket& p) { return write_video(p); });
    output_->switch_video(&encoder->context(), at, reason);
    std::unique_ptr<VideoEncoder> old;  // destroyed last, outside the lock
    std::lock_guard lock(encoder_mutex_);
    old = std::exchange(encoder_, std::move(encoder));
}

// venc thread: the first picture at a new size (X11Screen follows a resized screen when it
// records all of it). The status's region follows. With on_resize = "new_file" and no fixed
// output size, an encoder at the new size goes on in a new file from `pts`; otherwise the
// encoder fits the picture into the file's size (VideoEncoder). False (the session failed) when
// no encoder opens at the new size.
bool Session::follow_resize(const AVFrame& picture, int64_t pts) {
    {
        std::lock_guard lock(encoder_mutex_);
        region_.width = picture.width;
        region_.height = picture.height;
    }
    const auto& v = options_.video;
    const bool new_file = v.on_resize == "new_file" && v.size.empty();
    spdlog::info("{}: the screen is now {}x{}; {}", id_, picture.width, picture.height,
                 new_file ? "a new file goes on at that size" : "fitted into the file's size");
    events_.publish({{"event", "screen_resized"},
                     {"session", id_},
                     {"width", picture.width},
                     {"height", picture.height}});
    if (!new_file) return true;
    const double at = seconds(pts);
    AudioHold hold(*output_, at);
    // The encoder recording now first: a resize is no reason to change it.
    std::vector<std::string> order = v.encoder;
    const std::string current = encoder_->backend().family;
    std::erase(order, current);
    order.insert(order.begin(), current);
    EncoderChoice choice;
    try {
        choice = choose_encoder(order, v.codec, options_.strict_encoder, encoder_settings());
    } catch (const Error& e) {
        fail(ErrorCode::encoder_unavailable,
             fmt::format("no video encoder opens at the new screen size {}x{}: {}", picture.width,
                         picture.height, e.what()));
        return false;
    }
    install_encoder(std::move(choice.encoder), at, "screen resized");
    return true;
}

void Session::publish_encoder_fallback() {
    std::lock_guard lock(encoder_mutex_);
    events_.publish({{"event", "encoder_fallback"},
                     {"session", id_},
                     {"encoder", encoder_->backend().family},
                     {"reason", encoder_fallback_reason_}});
}

// The muxer's error (disk full, I/O) takes precedence: the encoder only failed because its
// packet could not be written.
void Session::fail_encode() {
    if (auto error = output_->error(); !error.empty())
        fail(output_->error_code(), error);
    else
        fail(ErrorCode::encoder_unavailable, encoder_->error());
}

ipc::Json Session::status() const {
    std::shared_lock lock(pipeline_mutex_);
    if (final_status_) {
        ipc::Json j = *final_status_;
        if (hooks_) j["hooks"] = hooks_->status();  // the last file's hook may still be running
        return j;
    }
    const auto s = state();
    ipc::Json j = {
        {"id", id_},
        {"name", options_.name.empty() ? id_ : options_.name},
        {"state", to_string(s)},
        {"fps", options_.video.fps},
    };
    if (options_.shm_ring.empty()) j["display"] = options_.display;
    if (opened_) {
        j["file"] = output_->current_file();
        j["files"] = output_->closed_files();
        j["container"] = options_.output.container;
        j["hooks"] = hooks_->status();
        {
            std::lock_guard lock(encoder_mutex_);
            j["region"] = ipc::to_json(region_);
            j["encoder"] = encoder_->backend().family;
            j["codec"] = encoder_->backend().codec;
            if (!encoder_fallback_reason_.empty())
                j["encoder_fallback_reason"] = encoder_fallback_reason_;
        }
        j["bytes"] = output_->bytes();
        j["audio"] = ipc::Json::array();
        for (const auto& t : tracks_) j["audio"].push_back(t->status());
        j["warnings"] = warnings_;
    }
    j["duration"] = slots_.load() / static_cast<double>(options_.video.fps);
    j["frames"] = {{"captured", captured_.load()},
                   // Grabs that found nothing changed (DAMAGE): the previous picture again.
                   {"unchanged", unchanged_.load()},
                   {"encoded", encoded_.load()},
                   {"dropped", queue_.dropped() + skipped_.load()},
                   {"duplicated", duplicated_.load()},
                   // The longest time one picture stood for another, capture stalls included.
                   {"max_gap_ms", (max_repeats_.load() + 1) * 1000.0 / options_.video.fps}};
    if (const auto first = first_frame_unix_ms_.load()) j["first_frame_unix_ms"] = first;
    // source_ is set before the state leaves starting, and kept until the release.
    if (s != SessionState::starting) source_->describe(j);
    std::lock_guard error_lock(error_mutex_);
    if (error_) j["error"] = {{"code", to_string(error_->code())}, {"message", error_->what()}};
    return j;
}

}  // namespace rec
