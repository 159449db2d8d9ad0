#pragma once
// The JSON file next to each recording ("<file>.json"): who, where, when (UTC and steady
// clock), how it was encoded, its tracks and segments, and why it ended; so pipelines can align
// recordings with other logs without opening the video. Written when the file opens (so a
// crash leaves one) and rewritten when it closes. Atomic: a temporary file renamed over it.
#include <filesystem>
#include <string>

#include "../../common/ipc/protocol.hpp"

namespace rec {

std::filesystem::path sidecar_path(const std::filesystem::path& file);
// Returns an error message, empty on success.
std::string write_sidecar(const std::filesystem::path& file, const ipc::Json& content);

}  // namespace rec
