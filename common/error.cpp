#include "error.hpp"

namespace rec {

std::string_view to_string(ErrorCode code) {
    switch (code) {
        case ErrorCode::bad_request:
            return "BAD_REQUEST";
        case ErrorCode::unsupported_version:
            return "UNSUPPORTED_VERSION";
        case ErrorCode::unknown_command:
            return "UNKNOWN_COMMAND";
        case ErrorCode::invalid_argument:
            return "INVALID_ARGUMENT";
        case ErrorCode::too_large:
            return "TOO_LARGE";
        case ErrorCode::not_found:
            return "NOT_FOUND";
        case ErrorCode::ambiguous:
            return "AMBIGUOUS";
        case ErrorCode::display_unavailable:
            return "DISPLAY_UNAVAILABLE";
        case ErrorCode::display_lost:
            return "DISPLAY_LOST";
        case ErrorCode::source_unavailable:
            return "SOURCE_UNAVAILABLE";
        case ErrorCode::source_lost:
            return "SOURCE_LOST";
        case ErrorCode::encoder_unavailable:
            return "ENCODER_UNAVAILABLE";
        case ErrorCode::audio_unavailable:
            return "AUDIO_UNAVAILABLE";
        case ErrorCode::invalid_state:
            return "INVALID_STATE";
        case ErrorCode::output_failed:
            return "OUTPUT_FAILED";
        case ErrorCode::disk_full:
            return "DISK_FULL";
        case ErrorCode::shutting_down:
            return "SHUTTING_DOWN";
        case ErrorCode::permission_denied:
            return "PERMISSION_DENIED";
        case ErrorCode::busy:
            return "BUSY";
        case ErrorCode::internal:
            return "INTERNAL";
    }
    return "INTERNAL";
}

std::string exception_message(std::exception_ptr e) {
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& caught) {
        return caught.what();
    } catch (...) {
        return "an exception that is not a std::exception";
    }
}

}  // namespace rec
