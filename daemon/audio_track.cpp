#include "audio_track.hpp"

#include <spdlog/spdlog.h>

#include "../common/log.hpp"
#include "capture/sources.hpp"
#include "encode/audio_encoder.hpp"
#include "fault.hpp"
#include "mux/segmenter.hpp"

namespace rec {
namespace {

using namespace std::chrono_literals;

// Chunks come every ~20 ms; 2 s of them absorb any encoder hiccup. When full the oldest go:
// the timeline then sees a gap and fills it with silence.
constexpr size_t queue_chunks = 100;
// With no chunk for this long the source is silent (suspended, reconnecting, server gone)...
constexpr auto idle_wait = 100ms;
// ...and the track is filled with silence up to this long before now, which leaves a live
// source's chunks room to arrive and be placed exactly: their latency (tens of ms) and a stall of
// the whole machine, after which they come late but complete (this 2-core VM stalls for ~0.5 s
// under a parallel build; with 250 ms, the stall's sound was filled as silence, then dropped).
// The cost: a silent track trails the picture by this much in the muxer's interleaving.
constexpr auto gap_slack = 1s;

}  // namespace

AudioTrack::AudioTrack(AudioKind kind, const std::string& device, const std::string& codec,
                       SessionClock& clock)
    : kind_(kind),
      clock_(clock),
      source_(make_audio_source(kind, device)),
      encoder_(std::make_unique<AudioEncoder>(codec)),
      queue_(queue_chunks, Overflow::drop_oldest),
      timeline_(audio_rate) {
    // acap thread (libpulse's mainloop): an exception must not unwind into its C code, which
    // would be std::terminate. The aenc thread reports it.
    source_->start([this](const float* samples, int64_t frames, TimePoint time) {
        try {
            queue_.push(AudioChunk{{samples, samples + frames * audio_channels}, time});
        } catch (...) {
            capture_failed_ = true;
        }
    });
}

AudioTrack::~AudioTrack() {
    request_stop();
    wait();
    // A track whose start() never ran (the session's start failed later) still has its capture
    // thread pushing into queue_, which is destroyed before source_: stop the capture first.
    source_->stop();
}

void AudioTrack::start(Segmenter& output, int stream, FailFn on_fail) {
    output_ = &output;
    sink_ = [this, stream](AVPacket& p) {
        return output_->write(p, stream, encoder_->context().time_base);
    };
    on_fail_ = std::move(on_fail);
    thread_ = std::thread(&AudioTrack::encode_loop, this);
}

void AudioTrack::wait() {
    if (thread_.joinable()) thread_.join();
}

// aenc thread: runs the track, and catches everything at its top: an exception fails this
// track's session (INTERNAL), never the daemon (one escaping a std::thread is std::terminate).
void AudioTrack::encode_loop() {
    const std::string name = std::string("aenc-") + title();
    set_thread_name(name);
    try {
        encode();
    } catch (...) {
        on_fail_(ErrorCode::internal, "unexpected exception in the " + name + " thread: " +
                                          exception_message(std::current_exception()));
    }
    source_->stop();  // did not run if encode() threw before it; a second call does nothing
    stopped_ = true;
}

// aenc thread: places each chunk on the timeline; while nothing arrives, fills silence so the
// track keeps pace with the picture; at the end pads to the recording's end and drains.
void AudioTrack::encode() {
    bool ok = true;
    while (ok && !queue_.finished()) {
        if (capture_failed_)
            throw std::runtime_error(std::string("acap-") + title() +
                                     " thread: an exception while queueing captured sound");
        auto chunk = queue_.pop_for(idle_wait);
        ok = chunk ? place(*chunk) : fill_gap();
    }
    source_->stop();
    stopped_ = true;
    if (ok) {
        const auto end = clock_.end();
        const double missing = end ? end->count() * audio_rate - encoder_->position() : 0;
        if (missing >= 1) ok = write(nullptr, static_cast<int64_t>(missing), 0);
        ok = ok && encoder_->flush(sink_);
    }
    if (!ok) {
        const auto output_error = output_->error();
        if (!output_error.empty())
            on_fail_(output_->error_code(), output_error);
        else
            on_fail_(ErrorCode::encoder_unavailable,
                     std::string(title()) + " audio: " + encoder_->error());
    }
}

bool AudioTrack::place(const AudioChunk& chunk) {
    const auto frames = static_cast<int64_t>(chunk.samples.size() / audio_channels);
    const auto at = [&](int64_t frame) {
        return chunk.time + std::chrono::duration_cast<Clock::duration>(
                                Seconds(static_cast<double>(frame) / audio_rate));
    };
    const auto offset = [&](TimePoint t) {
        return static_cast<int64_t>(std::llround(Seconds(t - chunk.time).count() * audio_rate));
    };
    // Only the chunk's samples inside the recording: cut where the first frame, a pause or the
    // stop cuts it (the rest arrives as the next chunks).
    const auto stretch = clock_.recorded(chunk.time, at(frames));
    if (!stretch) return true;  // before the first frame, paused, or after the stop
    const int64_t first = offset(stretch->begin);
    const int64_t count = std::min(frames, offset(stretch->end)) - first;
    if (count <= 0) return true;
    // After a pause the sound is aligned afresh, as after a gap: the clock fit would take the
    // step from the pause's start to the first chunk after it for drift (a chunk cut there is
    // cut at its stamp, which is only as exact as the stamps are).
    if (stretch->run != run_) {
        run_ = stretch->run;
        timeline_.reset();
    }
    const auto p = timeline_.place(stretch->media.count(), count, encoder_->position());
    offset_ms_ = timeline_.offset_ms();
    correction_ppm_ = timeline_.correction_ppm();
    spdlog::trace(
        "{} chunk at {:.4f} s, {} of {} frames, output at {:.4f} s: silence {} skip {} "
        "compensation {} offset {:.2f} ms correction {:.0f} ppm",
        title(), stretch->media.count(), count, frames, encoder_->position() / audio_rate,
        p.silence, p.skip, p.compensation, offset_ms_.load(), correction_ppm_.load());
    if (p.silence > 0) {
        silence_ += p.silence;
        if (!write(nullptr, p.silence, 0)) return false;
    }
    if (p.skip >= count) return true;
    return write(chunk.samples.data() + (first + p.skip) * audio_channels, count - p.skip,
                 p.compensation);
}

bool AudioTrack::fill_gap() {
    const auto media = clock_.media_time(Clock::now() - gap_slack);
    if (!media) return true;
    const double behind = media->count() * audio_rate - encoder_->position();
    if (behind < 1) return true;
    silence_ += static_cast<int64_t>(behind);
    // Whatever arrives next starts a new stretch: align it exactly rather than let the jump
    // from filled silence to real samples look like drift to the controller.
    timeline_.reset();
    return write(nullptr, static_cast<int64_t>(behind), 0);
}

bool AudioTrack::write(const float* samples, int64_t frames, int compensation) {
    // What an unexpected exception here (std::bad_alloc, a bug) does, on cue for the tests.
    if (fault::hit("audio_encode_throw"))
        throw std::runtime_error(std::string(title()) +
                                 " audio encoder threw: fault injected by RECD_FAULT");
    const bool ok = encoder_->write(samples, frames, compensation, sink_);
    written_ = static_cast<int64_t>(encoder_->position());
    return ok;
}

ipc::Json AudioTrack::status() const {
    return {{"track", title()},
            {"device", source_->device()},
            {"state", stopped_               ? "stopped"
                      : source_->connected() ? "recording"
                                             : "reconnecting"},
            {"samples", written_.load()},
            {"silence_ms", silence_.load() * 1000.0 / audio_rate},
            {"drift_ppm", correction_ppm_.load()},
            {"offset_ms", offset_ms_.load()}};
}

}  // namespace rec
