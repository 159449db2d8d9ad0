#include "segmenter.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <cmath>

namespace rec {
namespace {

// Free space is checked every time this much more has been written (and at every cut): often
// enough to stop before the disk is full at the bit rates recd produces, rarely enough to cost
// nothing...
constexpr uint64_t free_check_bytes = 4 * 1024 * 1024;
// ... or a quarter of the margin, whichever is less, and at least every second (another
// process may be filling the disk while recd writes little).
constexpr double free_check_seconds = 1.0;
// A requested cut is planned by the video encoder on the next frame it takes in, this far past
// that frame: audio (written about 20-50 ms behind real time) has not passed it yet even when
// the video queue runs a couple of hundred ms behind, and no frame after it was encoded yet.
constexpr double cut_margin_seconds = 0.3;

// Whether media time `t` is at or past `at`. Both come from integer timestamps over different
// paths (slot / fps from the session, pts x time base here), which may differ in the last bit:
// a frame at the very slot of a cut then fell before it, into the old file. A microsecond is far
// below a sample (20.8 us) or a frame, so nothing truly before a cut is taken for after it.
bool at_or_after(double t, double at) { return t >= at - 1e-6; }

struct ParametersFree {
    void operator()(AVCodecParameters* p) const { avcodec_parameters_free(&p); }
};

}  // namespace

Segmenter::Segmenter(SegmentPlan plan, std::vector<StreamSpec> streams, FileEventFn on_file)
    : plan_(std::move(plan)), streams_(std::move(streams)), on_file_(std::move(on_file)) {
    for (const auto& s : streams_)
        if (s.video && s.codec->framerate.num > 0) frame_rate_ = av_q2d(s.codec->framerate);
    if (auto free = free_bytes(plan_.directory); free && *free < plan_.min_free_bytes)
        throw Error(ErrorCode::disk_full,
                    fmt::format("only {} MiB free under {}; recd needs min_free_mb = {}",
                                *free >> 20, utf8(plan_.directory), plan_.min_free_bytes >> 20));
    current_ = open(1, 0);
    if (plan_.max_seconds > 0) plan_cut(plan_.max_seconds, "segment length");
    on_file_(current_->info, true);
}

Segmenter::~Segmenter() {
    for (auto& t : closers_) t.join();
}

std::unique_ptr<Segmenter::Segment> Segmenter::open(int seq, double start) {
    OutputName name = plan_.name;
    name.seq = seq;
    name.extension = extension(plan_.container);
    auto file = create_output_file(plan_.directory, name);
    auto segment = std::make_unique<Segment>();
    segment->info.path = utf8(file.path);
    segment->info.seq = seq;
    segment->info.start = segment->end = start;
    segment->passed.assign(streams_.size(), false);
    try {
        segment->muxer = std::make_unique<Muxer>(std::move(file), plan_.container);
        for (const auto& s : streams_) {
            std::unique_ptr<AVCodecParameters, ParametersFree> parameters(
                avcodec_parameters_alloc());
            avcodec_parameters_from_context(parameters.get(), s.codec);
            segment->muxer->add_stream(*parameters, s.codec->time_base, s.codec->framerate,
                                       s.title);
        }
        segment->muxer->begin();
    } catch (...) {
        segment->muxer.reset();
        std::error_code ignored;  // a file without a header is no recording
        std::filesystem::remove(path_from_utf8(segment->info.path), ignored);
        throw;
    }
    return segment;
}

// Locks, writes, and reports a file opened by a cut once the lock is released (the report's
// receiver may ask this segmenter for its files).
bool Segmenter::write(AVPacket& packet, int stream, AVRational time_base) {
    std::unique_lock lock(mutex_);
    if (!streams_[stream].video && packet.pts != AV_NOPTS_VALUE) {
        const double t = packet.pts * av_q2d(time_base);
        released_.wait(lock, [&] { return !hold_from_ || !at_or_after(t, *hold_from_); });
    }
    const bool ok = write_locked(packet, stream, time_base);
    std::optional<ClosedFile> opened = std::exchange(opened_, std::nullopt);
    lock.unlock();
    if (opened) on_file_(*opened, true);
    return ok;
}

bool Segmenter::write_locked(AVPacket& packet, int stream, AVRational time_base) {
    if (error_) return false;
    const double t = packet.pts == AV_NOPTS_VALUE ? latest_ : packet.pts * av_q2d(time_base);
    latest_ = std::max(latest_, t);
    if (planned_cut_ && at_or_after(t, *planned_cut_) && !closing_) {
        if (streams_[stream].video && !(packet.flags & AV_PKT_FLAG_KEY))
            spdlog::warn("a segment starts without a keyframe at {:.3f} s", t);
        try {
            cut(*planned_cut_);
        } catch (const Error& e) {
            return fail(e.code(), e.what());
        }
    }
    Segment& target = closing_ && !at_or_after(t, current_->info.start) ? *closing_ : *current_;
    if (closing_ && &target == current_.get()) closing_->passed[stream] = true;
    // Each file's timestamps start at its cut.
    const auto offset = static_cast<int64_t>(std::llround(target.info.start / av_q2d(time_base)));
    packet.pts -= offset;
    if (packet.dts != AV_NOPTS_VALUE) packet.dts -= offset;
    // A packet lasts until the next: its duration, or a frame for video that does not say.
    const double length = packet.duration > 0      ? packet.duration * av_q2d(time_base)
                          : streams_[stream].video ? 1 / frame_rate_
                                                   : 0;
    target.end = std::max(target.end, t + length);
    if (!target.muxer->write(packet, stream, time_base))
        return fail(target.muxer->error_number() == ENOSPC ? ErrorCode::disk_full
                                                           : ErrorCode::output_failed,
                    target.muxer->error());
    if (closing_ && std::all_of(closing_->passed.begin(), closing_->passed.end(),
                                [](bool passed) { return passed; }))
        close_later(std::move(closing_), split_reason_);
    return check_limits(*current_);
}

// The first packet at or after a planned cut: the current file becomes the closing one.
void Segmenter::cut(double at) {
    closing_ = std::move(current_);
    // An audio packet can reach the cut before the video encoder has asked keyframe_due() about
    // its frame at the cut (the video runs behind: queue, a slow frame, a loaded machine): the
    // new file's first frame is still owed its keyframe.
    if (!keyframe_forced_) keyframe_owed_ = at;
    planned_cut_.reset();
    keyframe_forced_ = false;
    checked_bytes_ = 0;  // check the free space now
    current_ = open(closing_->info.seq + 1, at);
    opened_ = current_->info;
    spdlog::info("new file {} ({})", current_->info.path, split_reason_);
    if (plan_.max_seconds > 0) plan_cut(at + plan_.max_seconds, "segment length");
}

// Cuts fall on a frame boundary (rounded up), where video and audio can both be cut exactly.
void Segmenter::plan_cut(double at, std::string reason) {
    at = std::ceil(at * frame_rate_ - 1e-6) / frame_rate_;
    if (planned_cut_ && *planned_cut_ <= at) return;  // an earlier cut is already planned
    planned_cut_ = at;
    split_reason_ = std::move(reason);
}

void Segmenter::switch_video(const AVCodecContext* codec, double at, std::string reason) {
    std::lock_guard lock(mutex_);
    for (auto& s : streams_)
        if (s.video) s.codec = codec;
    planned_cut_.reset();
    keyframe_owed_.reset();  // the new encoder starts with a keyframe anyway
    keyframe_forced_ = false;
    plan_cut(at, std::move(reason));
    hold_from_.reset();
    released_.notify_all();
}

void Segmenter::hold_from(double at) {
    std::lock_guard lock(mutex_);
    hold_from_ = at;
}

void Segmenter::release_hold() {
    std::lock_guard lock(mutex_);
    hold_from_.reset();
    released_.notify_all();
}

bool Segmenter::keyframe_due(double time) {
    std::lock_guard lock(mutex_);
    if (!requested_.empty() && !planned_cut_)
        plan_cut(time + cut_margin_seconds, std::exchange(requested_, {}));
    bool due = false;
    if (keyframe_owed_ && at_or_after(time, *keyframe_owed_)) {  // a cut already made
        keyframe_owed_.reset();
        due = true;
    }
    if (planned_cut_ && !keyframe_forced_ && at_or_after(time, *planned_cut_)) {
        keyframe_forced_ = true;
        due = true;
    }
    return due;
}

bool Segmenter::check_limits(const Segment& segment) {
    const uint64_t written = closed_bytes_ + segment.muxer->bytes();
    const uint64_t every = std::min(free_check_bytes, plan_.min_free_bytes / 4);
    if (plan_.min_free_bytes && (checked_bytes_ == 0 || written - checked_bytes_ >= every ||
                                 latest_ - checked_at_ >= free_check_seconds)) {
        checked_bytes_ = std::max<uint64_t>(written, 1);
        checked_at_ = latest_;
        if (auto free = free_bytes(plan_.directory); free && *free < plan_.min_free_bytes)
            return fail(
                ErrorCode::disk_full,
                fmt::format("only {} MiB left under {} (min_free_mb = {}): stopped", *free >> 20,
                            utf8(plan_.directory), plan_.min_free_bytes >> 20));
    }
    if (plan_.max_bytes > 0 && segment.muxer->bytes() >= plan_.max_bytes && !closing_ &&
        !planned_cut_ && requested_.empty())
        requested_ = "segment size";
    return true;
}

void Segmenter::request_split(std::string reason) {
    std::lock_guard lock(mutex_);
    if (requested_.empty()) requested_ = std::move(reason);
}

// Closes a finished segment on its own thread: the trailer, fsync and MP4 finalization can
// take a while, and the pipeline must not wait for them.
void Segmenter::close_later(std::unique_ptr<Segment> segment, std::string reason) {
    closers_.emplace_back([this, segment = std::shared_ptr<Segment>(std::move(segment)), reason] {
        // An exception escaping this thread would end recd: the segment is lost, not the rest.
        try {
            close(*segment, reason);
        } catch (const std::exception& e) {
            spdlog::error("closing {} failed: {}", segment->info.path, e.what());
        }
    });
}

void Segmenter::close(Segment& segment, const std::string& reason) {
    auto& info = segment.info;
    const bool ok = segment.muxer->finish();
    info.duration = segment.end - info.start;
    info.bytes = segment.muxer->bytes();
    info.end_reason = reason;
    if (!ok) info.error = segment.muxer->error();
    if (ok && segment.muxer->container() == Container::mp4) {
        info.error = finalize_mp4(path_from_utf8(info.path));
        std::error_code ec;
        if (auto size = std::filesystem::file_size(path_from_utf8(info.path), ec); !ec)
            info.bytes = size;
    }
    if (!info.error.empty()) spdlog::error("closing {}: {}", info.path, info.error);
    {
        std::lock_guard lock(mutex_);
        closed_.push_back(info);
        closed_bytes_ += info.bytes;
    }
    on_file_(info, false);
}

bool Segmenter::finish(const std::string& reason) {
    std::unique_ptr<Segment> previous, last;
    {
        std::lock_guard lock(mutex_);
        previous = std::move(closing_);
        last = std::move(current_);
    }
    for (auto& t : closers_) t.join();
    closers_.clear();
    if (previous) close(*previous, split_reason_);
    if (last) close(*last, reason);
    std::lock_guard lock(mutex_);
    return std::none_of(closed_.begin(), closed_.end(),
                        [](const ClosedFile& f) { return !f.error.empty(); });
}

std::string Segmenter::current_file() const {
    std::lock_guard lock(mutex_);
    if (current_) return current_->info.path;
    return closed_.empty() ? "" : closed_.back().path;
}

ipc::Json Segmenter::closed_files() const {
    std::lock_guard lock(mutex_);
    ipc::Json list = ipc::Json::array();
    for (const auto& f : closed_) {
        ipc::Json entry = {{"file", f.path},   {"seq", f.seq},
                           {"start", f.start}, {"duration", f.duration},
                           {"bytes", f.bytes}, {"end_reason", f.end_reason}};
        if (!f.error.empty()) entry["error"] = f.error;
        list.push_back(entry);
    }
    return list;
}

uint64_t Segmenter::bytes() const {
    std::lock_guard lock(mutex_);
    return closed_bytes_ + (closing_ ? closing_->muxer->bytes() : 0) +
           (current_ ? current_->muxer->bytes() : 0);
}

ErrorCode Segmenter::error_code() const {
    std::lock_guard lock(mutex_);
    return error_ ? error_->code() : ErrorCode::output_failed;
}

std::string Segmenter::error() const {
    std::lock_guard lock(mutex_);
    return error_ ? error_->what() : "";
}

bool Segmenter::fail(ErrorCode code, const std::string& message) {
    if (!error_) error_.emplace(code, message);
    return false;
}

}  // namespace rec
