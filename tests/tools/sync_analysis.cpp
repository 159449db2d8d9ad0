#include "sync_analysis.hpp"

extern "C" {
#include <libavutil/pixdesc.h>
}

#include <algorithm>
#include <cmath>
#include <optional>

#include "media_read.hpp"
#include "sync_signal.hpp"

namespace rec::sync {

namespace {

// The frames' mean grey levels and times, in presentation order.
struct LevelSeries {
    std::vector<double> time;
    std::vector<double> level;
    double frame_seconds = 0;  // one frame at the stream's frame rate; 0 if unknown
};

// One track's samples (channels averaged) and where each run of contiguous samples starts.
struct SampleSeries {
    struct Run {
        size_t first;  // index into samples
        double time;   // seconds of samples[first]
    };
    std::vector<float> samples;
    std::vector<Run> runs;
    int rate = 0;

    double time_of(size_t i) const {
        auto it = std::upper_bound(runs.begin(), runs.end(), i,
                                   [](size_t v, const Run& r) { return v < r.first; });
        const Run& run = *std::prev(it);
        return run.time + static_cast<double>(i - run.first) / rate;
    }
};

// Mean grey level (0..255 as sync_tool drew it) of a YUV or grey frame, from its luma plane.
std::optional<double> mean_level(const AVFrame& frame) {
    const auto* desc = av_pix_fmt_desc_get(static_cast<AVPixelFormat>(frame.format));
    if (!desc || (desc->flags & AV_PIX_FMT_FLAG_RGB) || desc->comp[0].depth != 8) return {};
    double sum = 0;
    for (int y = 0; y < frame.height; ++y) {
        const uint8_t* row = frame.data[0] + static_cast<ptrdiff_t>(y) * frame.linesize[0];
        uint64_t row_sum = 0;
        for (int x = 0; x < frame.width; ++x) row_sum += row[x];
        sum += static_cast<double>(row_sum);
    }
    const double luma = sum / (static_cast<double>(frame.width) * frame.height);
    if (frame.color_range == AVCOL_RANGE_JPEG) return luma;
    return (luma - 16) * 255 / 219;  // limited range: black 16, white 235
}

// Matroska keeps milliseconds: a CFR frame's pts is n/fps rounded. Back onto the grid.
double snap_to_grid(double t, double frame_seconds) {
    if (frame_seconds <= 0) return t;
    const double grid = std::round(t / frame_seconds) * frame_seconds;
    return std::abs(grid - t) < 0.0015 ? grid : t;
}

// Audio frames' pts are rounded too (to 1 ms in Matroska): samples continue the previous run
// unless a frame's pts is more than 2 ms away from where counting puts it.
void append_samples(const AVFrame& frame, double pts, SampleSeries& series) {
    const size_t first = series.samples.size();
    if (series.runs.empty() || first == 0 ||
        std::abs(series.time_of(first - 1) + 1.0 / series.rate - pts) > 0.002) {
        series.runs.push_back({first, pts});
    }
    const int channels = frame.ch_layout.nb_channels;
    for (int i = 0; i < frame.nb_samples; ++i) {
        float sum = 0;
        for (int c = 0; c < channels; ++c) sum += media::audio_sample(frame, c, i);
        series.samples.push_back(sum / static_cast<float>(channels));
    }
}

// Dark -> bright transitions, with hysteresis between the flash's floor (55) and black.
std::vector<Flash> find_flashes(const LevelSeries& video, bool frame_onsets) {
    constexpr double bright = 30, dark = 15;
    std::vector<Flash> flashes;
    bool seen_dark = false, in_flash = false;
    for (size_t i = 0; i < video.level.size(); ++i) {
        const double level = video.level[i];
        if (level < dark) seen_dark = true;  // (a variable-rate file has one dark frame a gap)
        if (in_flash) {
            in_flash = level >= dark;
            continue;
        }
        if (level <= bright) continue;
        in_flash = true;
        if (!seen_dark) continue;  // the file starts inside a flash: its instant is unknown
        Flash f{video.time[i], video.time[i], level, false};
        const double ms = ms_since_flash(level);
        if (!frame_onsets && ms >= 0) {
            f.time -= ms / 1000;
            f.timed = true;
        }
        flashes.push_back(f);
    }
    return flashes;
}

// Quiet -> loud transitions of 1 ms RMS, refined to the first sample above 30 % of the burst's
// peak (coders smear a little energy ahead of an attack; this stays above it). A first tone
// shorter than sync_tool's is one the track's sound started inside (capture begins some tens of
// ms into a recording, after silence): its onset is unknown, as a flash's the file starts in.
std::vector<double> find_tones(const SampleSeries& audio) {
    const size_t window = static_cast<size_t>(audio.rate) / 1000;
    const auto& x = audio.samples;
    std::vector<double> tones;
    bool loud = false, first_cut = false;
    size_t quiet_windows = 0;
    for (size_t w = 0; w + window <= x.size(); w += window) {
        double energy = 0;
        for (size_t i = w; i < w + window; ++i) energy += static_cast<double>(x[i]) * x[i];
        const double rms = std::sqrt(energy / static_cast<double>(window));
        if (loud) {
            quiet_windows = rms < 0.02 ? quiet_windows + 1 : 0;
            loud = quiet_windows < 100;  // 100 ms of quiet ends a tone
            // The first quiet window starts where the tone ended (2 ms for the coder's blur).
            if (quiet_windows == 1 && tones.size() == 1 &&
                audio.time_of(w) - tones[0] < tone_seconds - 0.002) {
                first_cut = true;
            }
            continue;
        }
        if (rms < 0.1) continue;
        loud = true;
        quiet_windows = 0;
        const size_t from = w >= 10 * window ? w - 10 * window : 0;
        const size_t to = std::min(x.size(), w + 20 * window);
        float peak = 0;
        for (size_t i = w; i < to; ++i) peak = std::max(peak, std::abs(x[i]));
        size_t onset = w;
        for (size_t i = from; i < to; ++i) {
            if (std::abs(x[i]) > 0.3f * peak) {
                onset = i;
                break;
            }
        }
        tones.push_back(audio.time_of(onset));
    }
    if (first_cut) tones.erase(tones.begin());
    return tones;
}

// The common offset of tones to flashes: the one most flashes agree with within 35 ms; of
// equally good ones the smallest. Events' varying periods make a wrong guess agree with few.
double find_shift(const std::vector<Flash>& flashes, const std::vector<double>& tones) {
    double best = 0;
    int best_score = 0;
    for (const Flash& f : flashes) {
        for (double tone : tones) {
            const double shift = tone - f.time;
            if (std::abs(shift) > 5) continue;
            int score = 0;
            for (const Flash& g : flashes) {
                const double want = g.time + shift;
                auto it = std::lower_bound(tones.begin(), tones.end(), want - 0.035);
                if (it != tones.end() && *it <= want + 0.035) ++score;
            }
            if (score > best_score || (score == best_score && std::abs(shift) < std::abs(best))) {
                best = shift;
                best_score = score;
            }
        }
    }
    return best;
}

// Each flash with the nearest unused tone to flash + shift, within under half the shortest
// period.
void pair_events(SyncReport& report) {
    report.shift_ms = find_shift(report.flashes, report.tones) * 1000;
    std::vector<bool> used(report.tones.size(), false);
    for (const Flash& f : report.flashes) {
        const double want = f.time + report.shift_ms / 1000;
        std::optional<size_t> best;
        for (size_t j = 0; j < report.tones.size(); ++j) {
            const double distance = std::abs(report.tones[j] - want);
            if (used[j] || distance > 0.45 * event_period) continue;
            if (!best || distance < std::abs(report.tones[*best] - want)) best = j;
        }
        if (!best) {
            report.unpaired_flashes.push_back(f.time);
            continue;
        }
        used[*best] = true;
        const double tone = report.tones[*best];
        report.pairs.push_back({f, tone, (tone - f.time) * 1000, (tone - f.frame_pts) * 1000});
    }
    for (size_t j = 0; j < report.tones.size(); ++j) {
        if (!used[j]) report.unpaired_tones.push_back(report.tones[j]);
    }
}

void decode(AVFormatContext* format, int video_index, int audio_index, LevelSeries& video,
            SampleSeries& audio, SyncReport& report) {
    const AVStream* vs = format->streams[video_index];
    const AVStream* as = format->streams[audio_index];
    if (vs->r_frame_rate.num > 0) video.frame_seconds = av_q2d(av_inv_q(vs->r_frame_rate));
    std::vector<std::pair<double, double>> frames;  // (time, level), decode order
    bool bad_format = false;
    media::StreamDecoder vdec(format, video_index, [&](const AVFrame& frame) {
        auto level = mean_level(frame);
        if (!level) bad_format = true;
        const double t = media::to_seconds(frame.best_effort_timestamp, vs->time_base);
        frames.emplace_back(snap_to_grid(t, video.frame_seconds), level.value_or(0));
    });
    audio.rate = as->codecpar->sample_rate;
    media::StreamDecoder adec(format, audio_index, [&](const AVFrame& frame) {
        const int64_t ts = frame.pts != AV_NOPTS_VALUE ? frame.pts : frame.best_effort_timestamp;
        append_samples(frame, media::to_seconds(ts, as->time_base), audio);
    });
    report.file_errors = media::decode_streams(format, {&vdec, &adec});
    report.video_errors = vdec.errors();
    report.audio_errors = adec.errors();
    if (bad_format) report.error = "video frames are not 8-bit YUV or grey";
    std::sort(frames.begin(), frames.end());
    for (auto [t, level] : frames) {
        video.time.push_back(t);
        video.level.push_back(level);
    }
}

}  // namespace

void summarize(SyncReport& r) {
    const auto n = static_cast<double>(r.pairs.size());
    r.mean_ms = r.max_abs_ms = r.stddev_ms = r.drift_ms_per_min = r.robust_drift_ms_per_min = 0;
    if (r.pairs.empty()) return;
    double mean_t = 0;
    for (const SyncPair& p : r.pairs) {
        r.mean_ms += p.offset_ms / n;
        mean_t += p.flash.time / n;
        r.max_abs_ms = std::max(r.max_abs_ms, std::abs(p.offset_ms));
    }
    double sxx = 0, sxy = 0, var = 0;
    for (const SyncPair& p : r.pairs) {
        const double dt = (p.flash.time - mean_t) / 60;  // minutes
        sxx += dt * dt;
        sxy += dt * (p.offset_ms - r.mean_ms);
        var += (p.offset_ms - r.mean_ms) * (p.offset_ms - r.mean_ms) / n;
    }
    r.stddev_ms = std::sqrt(var);
    r.drift_ms_per_min = sxx > 0 ? sxy / sxx : 0;
    std::vector<double> slopes;
    for (size_t i = 0; i < r.pairs.size(); ++i) {
        for (size_t j = i + 1; j < r.pairs.size(); ++j) {
            const double dt = (r.pairs[j].flash.time - r.pairs[i].flash.time) / 60;
            if (dt > 0) slopes.push_back((r.pairs[j].offset_ms - r.pairs[i].offset_ms) / dt);
        }
    }
    if (slopes.empty()) return;
    auto middle = slopes.begin() + static_cast<long>(slopes.size() / 2);
    std::nth_element(slopes.begin(), middle, slopes.end());
    r.robust_drift_ms_per_min = *middle;
}

SyncReport analyze_sync(const std::filesystem::path& file, const SyncOptions& options) {
    SyncReport report;
    report.file = file.string();
    media::FormatPtr format = media::open_input(file, report.error);
    if (!format) return report;
    const int video_index =
        av_find_best_stream(format.get(), AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
    const int audio_index = media::find_audio_stream(format.get(), options.track);
    if (video_index < 0) report.error = "no video stream";
    if (audio_index < 0) report.error = "no audio stream titled '" + options.track + "'";
    if (!report.error.empty()) return report;
    report.track = media::stream_title(format->streams[audio_index]);

    LevelSeries video;
    SampleSeries audio;
    try {
        decode(format.get(), video_index, audio_index, video, audio, report);
    } catch (const std::exception& e) {
        report.error = e.what();
    }
    if (!report.error.empty()) return report;
    if (video.time.empty() || audio.samples.empty()) {
        report.error = "no decoded video frames or audio samples";
        return report;
    }
    report.video_start = video.time.front();
    report.video_end = video.time.back() + video.frame_seconds;
    report.audio_start = audio.time_of(0);
    report.audio_end = audio.time_of(audio.samples.size() - 1) + 1.0 / audio.rate;
    report.flashes = find_flashes(video, options.frame_onsets);
    report.tones = find_tones(audio);
    pair_events(report);
    summarize(report);
    return report;
}

}  // namespace rec::sync
