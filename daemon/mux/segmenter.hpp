#pragma once
// The recording's files. Holds the current file (a Muxer) and starts the next one when asked
// (recctl split) or when a segment reaches its length or size. The cut instant T is planned
// ahead, on a frame boundary: exactly at the segment length, else by the video encoder a
// little past the next frame it takes in (see cut_margin_seconds). Every stream's packets from T on
// go to the new file and the video encoder makes the first frame at or after T a keyframe; the
// old file stays open until every stream has passed T, so nothing is lost or repeated at the
// boundary and all streams are cut at the same instant. Each file's timestamps start at T, so
// each plays on its own.
// Closed files get their trailer (and MP4 finalization) on a closer thread, so the pipeline
// never waits for it; the last one is closed by finish(), which does wait.
//
// Threads: write() and switch_video() from the venc and aenc threads (serialized by mutex_);
// request_split() and the getters from any thread; finish() from the venc thread once the others
// stopped.
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "../../common/error.hpp"
#include "../../common/ipc/protocol.hpp"
#include "muxer.hpp"

namespace rec {

struct StreamSpec {
    const AVCodecContext* codec;  // the encoder's; outlives the segmenter
    std::string title;
    bool video;
};

struct SegmentPlan {
    std::filesystem::path directory;
    OutputName name;  // extension is filled from the container
    Container container = Container::mkv;
    double max_seconds = 0;       // 0: no limit
    uint64_t max_bytes = 0;       // 0: no limit
    uint64_t min_free_bytes = 0;  // below this, writing stops with DISK_FULL
};

struct ClosedFile {
    std::string path;
    int seq = 1;
    double start = 0;     // media seconds of the recording where this file starts
    double duration = 0;  // seconds of media in it
    uint64_t bytes = 0;
    std::string end_reason;  // "stopped", "split", "segment length", "failed: ...", ...
    std::string error;       // finishing failed (trailer, MP4 finalization)
};

// Called once per file when it is final (on the thread that closed it). Also called with
// `opened` true when a file is created, before anything is written to it.
using FileEventFn = std::function<void(const ClosedFile& file, bool opened)>;

class Segmenter {
public:
    // Opens the first file. Throws rec::Error (OUTPUT_FAILED, DISK_FULL).
    Segmenter(SegmentPlan plan, std::vector<StreamSpec> streams, FileEventFn on_file);
    ~Segmenter();

    // Any pipeline thread. `packet` in `time_base`. False once writing failed (error()).
    bool write(AVPacket& packet, int stream, AVRational time_base);
    // Any thread: asks for a cut; the video encoder plans it on its next frame.
    void request_split(std::string reason = "split");
    // venc thread, before each frame at media time `time`: plans a requested cut, and says
    // whether this frame must be a keyframe (the first at or after the planned cut).
    bool keyframe_due(double time);
    // venc thread, after its encoder failed and was replaced: the video stream takes `codec`
    // from media time `at` (a frame boundary) on, in a new file (a file's streams cannot
    // change). Replaces any cut planned and not yet made.
    void switch_video(const AVCodecContext* codec, double at, std::string reason);
    // venc thread, as soon as its encoder failed at media time `at`: until switch_video() or
    // release_hold(), the other streams' packets at or after `at` wait in write() (they belong
    // in the file switch_video() opens, which cannot be opened before the new codec is known).
    void hold_from(double at);
    void release_hold();
    // venc thread, last: closes every file (waits for them). False if any failed to close.
    bool finish(const std::string& reason);

    std::string current_file() const;
    ipc::Json closed_files() const;
    uint64_t bytes() const;
    ErrorCode error_code() const;
    std::string error() const;

private:
    struct Segment {
        std::unique_ptr<Muxer> muxer;
        ClosedFile info;
        std::vector<bool> passed;  // per stream: a packet at or after the next cut was seen
        double end = 0;            // media seconds of the last packet written
    };

    bool write_locked(AVPacket& packet, int stream, AVRational time_base);
    std::unique_ptr<Segment> open(int seq, double start);
    void cut(double at);
    void plan_cut(double at, std::string reason);
    void close_later(std::unique_ptr<Segment> segment, std::string reason);
    void close(Segment& segment, const std::string& reason);
    bool check_limits(const Segment& segment);
    bool fail(ErrorCode code, const std::string& message);

    const SegmentPlan plan_;
    std::vector<StreamSpec> streams_;  // the video's codec changes in switch_video()
    const FileEventFn on_file_;
    mutable std::mutex mutex_;
    std::unique_ptr<Segment> current_;
    std::unique_ptr<Segment> closing_;     // the previous file, until audio has passed the cut
    std::string requested_;                // a cut asked for (its reason), not yet planned
    std::optional<double> planned_cut_;    // media seconds of the next cut
    bool keyframe_forced_ = false;         // the video encoder was told about planned_cut_
    std::optional<double> keyframe_owed_;  // a cut made before the video encoder was told
    std::optional<double> hold_from_;      // see hold_from()
    std::condition_variable released_;     // hold_from_ cleared
    std::string split_reason_;
    double latest_ = 0;                 // media seconds of the newest packet of any stream
    std::optional<ClosedFile> opened_;  // a file a cut opened, to report after unlocking
    std::vector<ClosedFile> closed_;
    std::vector<std::thread> closers_;
    uint64_t closed_bytes_ = 0;
    uint64_t checked_bytes_ = 0;  // bytes at the last free-space check
    double checked_at_ = 0;       // media seconds of the last free-space check
    double frame_rate_ = 30;      // the video's, for frame-aligned cuts
    std::optional<Error> error_;
};

}  // namespace rec
