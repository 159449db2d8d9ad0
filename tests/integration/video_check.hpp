#pragma once
// Reads a recorded file with libavformat/libavcodec (in process, not ffprobe) and reports what the
// tests assert on: codec, size, frame rate, timestamps, keyframes, decodability, duration.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace rec::test {

struct VideoReport {
    std::string error;      // empty when the file opened and has a video stream
    std::string container;  // libavformat's name, e.g. "matroska,webm"
    std::string codec;      // e.g. "h264"
    int width = 0;
    int height = 0;
    double frame_rate = 0;  // the stream's r_frame_rate
    int64_t time_base_num = 0;
    int64_t time_base_den = 1;

    std::vector<int64_t> packet_pts;  // in stream time base, file (decode) order
    bool dts_strictly_increasing = false;
    int keyframes = 0;
    bool starts_with_keyframe = false;
    double max_keyframe_gap = 0;       // seconds between consecutive keyframes' pts
    double trailing_keyframe_gap = 0;  // from the last keyframe to the end of the last frame
    int64_t last_keyframe_pts = 0;

    std::vector<int64_t> frame_pts;  // decoder output (presentation) order
    bool pts_strictly_increasing = false;
    // Largest |pts step - 1/frame_rate| between consecutive decoded frames, seconds.
    double max_step_error = 0;
    int decoded_frames = 0;
    int decode_errors = 0;                 // failed calls, corrupt frames, decoder error logs
    std::vector<std::string> decoder_log;  // the first few error messages, for diagnosis

    double duration = 0;  // from the frames' timestamps: last - first + one frame, seconds
    double container_duration = -1;   // the header's duration, seconds; -1 if none
    bool duration_in_header = false;  // false when libavformat had to estimate it (unfinalized)

    int packets() const { return static_cast<int>(packet_pts.size()); }
    std::string summary() const;  // one block of text for INFO()
};

VideoReport check_video(const std::filesystem::path& file);

}  // namespace rec::test
