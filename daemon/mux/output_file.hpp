#pragma once
// Creates a recording's file: only inside the output directory, never over an existing file,
// never through a symlink. Called on a worker thread when a session starts.
#include <filesystem>
#include <string>

#include "../../common/unique_fd.hpp"

namespace rec {

struct OutputFile {
    UniqueFd fd;
    std::filesystem::path path;
};

struct OutputName {
    std::string file_template;  // validated by the config: {date} {time} {name} {session}
    std::string name;
    std::string session;
    std::string extension;  // "mkv"
};

// Creates `directory` (and parents) if missing, then the file named by the template, adding
// "-2", "-3", ... when the name is taken. Throws rec::Error(OUTPUT_FAILED).
OutputFile create_output_file(const std::filesystem::path& directory, const OutputName& name);

// The template with its placeholders filled; exposed for tests.
std::string expand_template(const OutputName& name, std::tm local_time);

}  // namespace rec
