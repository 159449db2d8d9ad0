#include "outputs_harness.hpp"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/log.h>
#include <libavutil/pixdesc.h>
}

#include <pwd.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <thread>

namespace rec::test {

void write_output_config(Sandbox& box, const OutputConfig& config) {
    const fs::path dir = config.directory_.empty() ? box.output_dir() : fs::path(config.directory_);
    std::ofstream(box.config_file()) << "[output]\ndirectory = \"" << dir.string() << "\"\n"
                                     << config.output_ << "\n[video]\n"
                                     << video_lines(config.video_) << "\n[audio]\n"
                                     << config.audio_ << "\n";
}

// ---- decoding every stream

namespace {

struct FormatCloser {
    void operator()(AVFormatContext* f) const { avformat_close_input(&f); }
};
struct CodecFreer {
    void operator()(AVCodecContext* c) const { avcodec_free_context(&c); }
};

std::string av_error(int code) {
    char text[AV_ERROR_MAX_STRING_SIZE] = {};
    av_strerror(code, text, sizeof(text));
    return text;
}

// libavcodec reports concealed errors only through av_log. While a file is read, error-level
// messages from one of its decoders count against that stream, the rest (demuxer) against the
// file. One check at a time: tests are single-threaded.
struct LogTarget {
    MediaReport* report = nullptr;
    std::map<const void*, StreamReport*> decoders;
};
LogTarget log_target;

void note_error(StreamReport& s) {
    if (s.decode_errors++ == 0) s.clean_frames = s.frames;
}

void count_errors(void* avcl, int level, const char* fmt, va_list args) {
    if (level > AV_LOG_ERROR || !log_target.report) return;
    char line[512];
    int prefix = 1;
    av_log_format_line2(avcl, level, fmt, args, line, sizeof(line), &prefix);
    MediaReport& r = *log_target.report;
    if (r.log.size() < 8) r.log.emplace_back(line);
    if (auto it = log_target.decoders.find(avcl); it != log_target.decoders.end()) {
        note_error(*it->second);
    } else {
        ++r.log_errors;
    }
}

struct Decoder {
    StreamReport* report;
    std::unique_ptr<AVCodecContext, CodecFreer> codec;
    AVRational time_base;
    double frame_seconds = 0;  // video: one frame at the stream's rate
};

void on_frame(Decoder& d, const AVFrame& frame) {
    StreamReport& s = *d.report;
    if (frame.decode_error_flags || (frame.flags & AV_FRAME_FLAG_CORRUPT)) note_error(s);
    const int64_t ts = frame.best_effort_timestamp;
    const double t = ts == AV_NOPTS_VALUE ? s.end : ts * av_q2d(d.time_base);
    const double length =
        s.type == "audio" ? static_cast<double>(frame.nb_samples) / std::max(frame.sample_rate, 1)
                          : d.frame_seconds;
    if (s.start < 0) s.start = t;
    if (s.end >= 0) s.max_gap = std::max(s.max_gap, t - s.end);
    s.end = t + length;
    s.samples += frame.nb_samples;
    // Rows of one frame some way in (the first may still be the encoder settling).
    const auto* desc = av_pix_fmt_desc_get(static_cast<AVPixelFormat>(frame.format));
    if (s.type == "video" && s.frames <= 30 && desc && !(desc->flags & AV_PIX_FMT_FLAG_RGB)) {
        s.row_luma.assign(frame.height, 0);
        for (int y = 0; y < frame.height; ++y) {
            const uint8_t* row = frame.data[0] + static_cast<ptrdiff_t>(y) * frame.linesize[0];
            double sum = 0;
            for (int x = 0; x < frame.width; ++x) sum += row[x];
            s.row_luma[y] = sum / std::max(frame.width, 1);
        }
    }
    ++s.frames;
}

void decode(Decoder& d, const AVPacket* packet, AVFrame* frame) {
    if (int rc = avcodec_send_packet(d.codec.get(), packet); rc < 0 && rc != AVERROR_EOF) {
        note_error(*d.report);
    }
    for (;;) {
        const int rc = avcodec_receive_frame(d.codec.get(), frame);
        if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) return;
        if (rc < 0) {
            note_error(*d.report);
            return;
        }
        on_frame(d, *frame);
        av_frame_unref(frame);
    }
}

void read_all(AVFormatContext* format, MediaReport& report) {
    std::vector<std::unique_ptr<Decoder>> decoders(format->nb_streams);
    report.streams.resize(format->nb_streams);
    for (unsigned i = 0; i < format->nb_streams; ++i) {
        const AVStream* stream = format->streams[i];
        StreamReport& s = report.streams[i];
        s.index = static_cast<int>(i);
        const char* type = av_get_media_type_string(stream->codecpar->codec_type);
        s.type = type ? type : "unknown";
        s.codec = avcodec_get_name(stream->codecpar->codec_id);
        if (const auto* title = av_dict_get(stream->metadata, "title", nullptr, 0))
            s.title = title->value;
        s.width = stream->codecpar->width;
        s.height = stream->codecpar->height;
        s.sample_rate = stream->codecpar->sample_rate;
        const AVCodec* codec = avcodec_find_decoder(stream->codecpar->codec_id);
        if (!codec || (s.type != "video" && s.type != "audio")) continue;
        auto d = std::make_unique<Decoder>();
        d->report = &s;
        d->time_base = stream->time_base;
        const AVRational rate =
            stream->avg_frame_rate.num ? stream->avg_frame_rate : stream->r_frame_rate;
        d->frame_seconds = rate.num ? av_q2d(av_inv_q(rate)) : 0;
        d->codec.reset(avcodec_alloc_context3(codec));
        avcodec_parameters_to_context(d->codec.get(), stream->codecpar);
        d->codec->thread_count = 1;  // several tests decode at once on two cores
        d->codec->pkt_timebase = stream->time_base;
        if (int rc = avcodec_open2(d->codec.get(), codec, nullptr); rc < 0) {
            report.error =
                "cannot open decoder for stream " + std::to_string(i) + ": " + av_error(rc);
            return;
        }
        log_target.decoders[d->codec.get()] = &s;
        decoders[i] = std::move(d);
    }
    AVPacket* packet = av_packet_alloc();
    AVFrame* frame = av_frame_alloc();
    int rc = 0;
    while ((rc = av_read_frame(format, packet)) >= 0) {
        if (auto& d = decoders[packet->stream_index]) {
            ++d->report->packets;
            decode(*d, packet, frame);
        }
        av_packet_unref(packet);
    }
    if (rc != AVERROR_EOF) {
        ++report.log_errors;
        report.log.push_back("read: " + av_error(rc));
    }
    for (auto& d : decoders) {
        if (d) decode(*d, nullptr, frame);
    }
    for (auto& s : report.streams) {
        if (s.decode_errors == 0) s.clean_frames = s.frames;
    }
    av_frame_free(&frame);
    av_packet_free(&packet);
}

}  // namespace

MediaReport check_media(const fs::path& file) {
    MediaReport report;
    log_target = LogTarget{&report, {}};
    av_log_set_callback(count_errors);
    AVFormatContext* raw = nullptr;
    if (int rc = avformat_open_input(&raw, file.c_str(), nullptr, nullptr); rc < 0) {
        report.error = "cannot open " + file.string() + ": " + av_error(rc);
    } else {
        std::unique_ptr<AVFormatContext, FormatCloser> format(raw);
        if (int rc = avformat_find_stream_info(format.get(), nullptr); rc < 0) {
            report.error = "cannot read stream info: " + av_error(rc);
        } else {
            report.container = format->iformat->name;
            if (format->duration != AV_NOPTS_VALUE)
                report.header_duration = format->duration / static_cast<double>(AV_TIME_BASE);
            report.duration_in_header =
                format->duration != AV_NOPTS_VALUE &&
                format->duration_estimation_method != AVFMT_DURATION_FROM_BITRATE;
            read_all(format.get(), report);
        }
    }
    av_log_set_callback(av_log_default_callback);
    log_target = LogTarget{};
    return report;
}

const StreamReport* MediaReport::video() const {
    for (const auto& s : streams) {
        if (s.type == "video") return &s;
    }
    return nullptr;
}

std::vector<const StreamReport*> MediaReport::audio() const {
    std::vector<const StreamReport*> out;
    for (const auto& s : streams) {
        if (s.type == "audio") out.push_back(&s);
    }
    return out;
}

int MediaReport::total_errors() const {
    int n = log_errors;
    for (const auto& s : streams) n += s.decode_errors;
    return n;
}

std::string MediaReport::summary() const {
    std::ostringstream out;
    if (!error.empty()) out << "error: " << error << "\n";
    out << container << ", header duration " << header_duration
        << " (in header: " << duration_in_header << "), " << log_errors << " file errors\n";
    for (const auto& s : streams) {
        out << "  #" << s.index << " " << s.type << " " << s.codec << " '" << s.title << "' ";
        if (s.type == "video") out << s.width << "x" << s.height << " ";
        if (s.type == "audio") out << s.sample_rate << " Hz ";
        out << s.packets << " packets, " << s.frames << " frames, " << s.samples << " samples, "
            << s.start << " .. " << s.end << " s (" << s.duration() << " s), max gap " << s.max_gap
            << " s, " << s.decode_errors << " decode errors (clean frames " << s.clean_frames
            << ")\n";
    }
    for (const auto& line : log) out << "  log: " << line;
    return out.str();
}

// ---- files

std::vector<std::string> mp4_boxes(const fs::path& file) {
    std::vector<std::string> boxes;
    std::ifstream in(file, std::ios::binary);
    const uint64_t size = fs::file_size(file);
    uint64_t at = 0;
    while (at + 8 <= size && in.seekg(static_cast<std::streamoff>(at))) {
        unsigned char head[16] = {};
        if (!in.read(reinterpret_cast<char*>(head), 8)) break;
        uint64_t length = (uint64_t{head[0]} << 24) | (uint64_t{head[1]} << 16) |
                          (uint64_t{head[2]} << 8) | head[3];
        boxes.emplace_back(reinterpret_cast<char*>(head + 4), 4);
        if (length == 1) {  // 64-bit size follows the type
            if (!in.read(reinterpret_cast<char*>(head + 8), 8)) break;
            length = 0;
            for (int i = 8; i < 16; ++i) length = (length << 8) | head[i];
        } else if (length == 0) {  // to the end of the file
            break;
        }
        if (length < 8) break;
        at += length;
    }
    return boxes;
}

int box_index(const std::vector<std::string>& boxes, const std::string& type) {
    auto it = std::find(boxes.begin(), boxes.end(), type);
    return it == boxes.end() ? -1 : static_cast<int>(it - boxes.begin());
}

Json read_json(const fs::path& file) {
    std::ifstream in(file);
    if (!in) return nullptr;
    Json json = Json::parse(in, nullptr, /*allow_exceptions=*/false);
    return json.is_discarded() ? Json(nullptr) : json;
}

std::vector<fs::path> media_files(const fs::path& dir) {
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(dir)) {
        const auto ext = entry.path().extension();
        if (ext == ".mkv" || ext == ".mp4" || ext == ".ts") files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    return files;
}

std::vector<std::string> dir_entries(const fs::path& dir) {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir)) names.push_back(entry.path().filename());
    std::sort(names.begin(), names.end());
    return names;
}

Json wait_for_session(Sandbox& box, const std::string& id, bool (*done)(const Json&),
                      std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    Json session;
    for (;;) {
        CtlResult status = recctl(box, {"status", id});
        if (status.code == 0 && status.json.contains("session")) session = status.json["session"];
        if ((session.is_object() && done(session)) || std::chrono::steady_clock::now() > deadline)
            return session;
        std::this_thread::sleep_for(100ms);
    }
}

bool session_ended(const Json& session) {
    const std::string state = session.value("state", "");
    return state == "stopped" || state == "failed";
}

Json check_sidecar(const fs::path& media_file, const Json& session, const SidecarExpect& expect) {
    const fs::path path = media_file.string() + ".json";
    INFO("sidecar " << path);
    CHECK(fs::exists(path));
    Json car = read_json(path);
    INFO("sidecar content: " << car.dump());
    REQUIRE(car.is_object());
    CHECK(car.value("file", "") == media_file.string());
    const passwd* pw = getpwuid(getuid());
    CHECK(car.value("user", "") == std::string(pw ? pw->pw_name : ""));
    char host[256] = {};
    gethostname(host, sizeof host - 1);
    CHECK(car.value("host", "") == std::string(host));
    CHECK(car.value("display", "") == expect.display);
    static const std::regex utc(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z)");
    CHECK(std::regex_match(car.value("started_utc", ""), utc));
    // The steady clock instant lets a pipeline align the file with other logs: it must lie
    // within the start request's round trip.
    const auto ns = [](std::chrono::steady_clock::time_point t) {
        return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
    };
    REQUIRE(car.contains("started_steady_ns"));
    const int64_t steady = car["started_steady_ns"].get<int64_t>();
    CHECK(steady >= ns(expect.not_before));
    CHECK(steady <= ns(expect.not_after));
    REQUIRE(car.contains("encoder"));
    CHECK(car["encoder"].value("name", "") == session.value("encoder", "?"));
    CHECK(car["encoder"].value("codec", "") == session.value("codec", "?"));
    REQUIRE(car.contains("tracks"));
    REQUIRE(car["tracks"].is_array());
    REQUIRE(car["tracks"].size() >= 1);
    CHECK(car["tracks"][0].value("title", "") == "screen");
    const size_t audio_tracks = session.contains("audio") ? session["audio"].size() : 0;
    CHECK(car["tracks"].size() == 1 + audio_tracks);
    for (size_t i = 1; i < car["tracks"].size(); ++i) {
        CHECK(!car["tracks"][i].value("device", "").empty());
    }
    CHECK(car.value("seq", 0) >= 1);
    if (expect.closed) {
        CHECK(car.value("duration", 0.0) > 0);
        CHECK(car.value("bytes", int64_t{-1}) == static_cast<int64_t>(fs::file_size(media_file)));
        CHECK(!car.value("end_reason", "").empty());
    } else {
        CHECK_FALSE(car.contains("end_reason"));
        CHECK_FALSE(car.contains("duration"));
    }
    return car;
}

// ---- tmpfs

Tmpfs::Tmpfs(fs::path dir, const std::string& size) : dir_(std::move(dir)) {
    fs::create_directories(dir_);
    const std::string options = "size=" + size + ",mode=0700";
    if (::mount("tmpfs", dir_.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, options.c_str()) != 0) {
        const std::string why = std::strerror(errno);
        dir_.clear();
        FAIL("cannot mount a tmpfs (" << options << ") for the disk guard test: " << why
                                      << " (the test needs root, or CAP_SYS_ADMIN)");
    }
}

Tmpfs::~Tmpfs() {
    if (!dir_.empty()) ::umount2(dir_.c_str(), MNT_DETACH);
}

uint64_t Tmpfs::free_bytes() const {
    struct statvfs st {};
    if (::statvfs(dir_.c_str(), &st) != 0) return 0;
    return static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
}

// ---- noise screen

NoiseScreen::NoiseScreen(Sandbox& box, int width, int height)
    : x_(box, PrivateX::Server::xvfb, std::to_string(width) + "x" + std::to_string(height), false) {
    const std::string size = std::to_string(width) + "x" + std::to_string(height);
    player_ = std::make_unique<Process>(
        std::vector<std::string>{"ffplay", "-loglevel", "error", "-an", "-noborder", "-left", "0",
                                 "-top", "0", "-f", "lavfi", "-i",
                                 "color=c=gray:s=" + size + ":r=30,noise=alls=100:allf=t+u"},
        environment_with({"DISPLAY=" + display(), "SDL_AUDIODRIVER=dummy"}),
        box.new_file("noise-ffplay-stdout"), box.new_file("noise-ffplay-stderr"));
    // ffplay shows its first picture well within a second; it must still be running then.
    std::this_thread::sleep_for(1s);
    if (!player_->running())
        FAIL("ffplay (noise on " << display() << ") exited: " << player_->err());
}

NoiseScreen::~NoiseScreen() {
    // SIGTERM, not the Process destructor's SIGKILL (the X server's goes in PrivateX).
    if (player_ && player_->running()) {
        player_->signal(SIGTERM);
        player_->wait_for(5s);
    }
}

}  // namespace rec::test
