#pragma once
// Error codes shared by recd and recctl. The strings are the protocol's stable error codes
// (docs/protocol.md); setup code throws rec::Error, the IPC layer turns it into a reply.
#include <exception>
#include <stdexcept>
#include <string>
#include <string_view>

namespace rec {

enum class ErrorCode {
    bad_request,
    unsupported_version,
    unknown_command,
    invalid_argument,
    too_large,
    not_found,
    ambiguous,
    display_unavailable,
    display_lost,
    source_unavailable,
    source_lost,
    encoder_unavailable,
    audio_unavailable,
    invalid_state,
    output_failed,
    disk_full,
    shutting_down,
    permission_denied,
    busy,
    internal,
};

std::string_view to_string(ErrorCode code);

class Error : public std::runtime_error {
public:
    Error(ErrorCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
    ErrorCode code() const { return code_; }

private:
    ErrorCode code_;
};

// What an exception caught by `catch (...)` says: what() of a std::exception, else a fixed
// text. For the top of recd's threads, which catch everything (DESIGN.md section 6).
std::string exception_message(std::exception_ptr e);

}  // namespace rec
