#pragma once
// Creates a recording's file: only inside the output directory, never over an existing file,
// never through a symlink. Called on a worker thread when a session starts.
#include <ctime>
#include <filesystem>
#include <string>

#include "file_io.hpp"

namespace rec {

struct OutputFile {
    WritableFile file;
    std::filesystem::path path;
};

struct OutputName {
    // Validated by the config: {date} {time} {name} {session} {user} {host} {seq}
    std::string file_template;
    std::string name;
    std::string session;
    std::string extension;  // "mkv"
    int seq = 1;            // segment number; a template without {seq} gets "_002"... from 2 on
};

// Creates `directory` (and parents) if missing, then the file named by the template, adding
// "-2", "-3", ... when the name is taken. Throws rec::Error(OUTPUT_FAILED).
OutputFile create_output_file(const std::filesystem::path& directory, const OutputName& name);

// The template with its placeholders filled; exposed for tests.
std::string expand_template(const OutputName& name, std::tm local_time);

// This process's user and this machine's name, as {user} and {host} put them in file names.
std::string user_name();
std::string host_name();

}  // namespace rec
