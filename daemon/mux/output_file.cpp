#include "output_file.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <cctype>
#include <cerrno>
#include <ctime>

#include "../../common/config.hpp"
#include "../../common/error.hpp"
#include "../process.hpp"

namespace rec {
namespace {

void replace_all(std::string& text, const std::string& from, const std::string& to) {
    for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
        text.replace(at, from.size(), to);
}

[[noreturn]] void fail(const std::string& what, const std::filesystem::path& path,
                       const std::string& why) {
    throw Error(ErrorCode::output_failed, fmt::format("cannot {} {}: {}", what, utf8(path), why));
}

// Only characters a file name template allows (config.cpp), so a name cannot smuggle a '/'.
std::string safe(std::string text) {
    for (auto& c : text)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-')
            c = '_';
    return text;
}

}  // namespace

// One definition of the name for file names and for {user} in directories (common/config).
std::string user_name() { return login_name(); }

std::string host_name() { return safe(machine_name()); }

std::string expand_template(const OutputName& name, std::tm t) {
    std::string text = name.file_template;
    replace_all(text, "{date}", fmt::format("{:%Y-%m-%d}", t));
    replace_all(text, "{time}", fmt::format("{:%H-%M-%S}", t));
    replace_all(text, "{name}", name.name);
    replace_all(text, "{session}", name.session);
    replace_all(text, "{user}", user_name());
    replace_all(text, "{host}", host_name());
    if (text.find("{seq}") != std::string::npos)
        replace_all(text, "{seq}", fmt::format("{:03}", name.seq));
    else if (name.seq > 1)
        text += fmt::format("_{:03}", name.seq);
    return text;
}

OutputFile create_output_file(const std::filesystem::path& directory, const OutputName& name) {
    std::error_code ec;
    std::filesystem::create_directories(directory, ec);
    if (ec)
        throw Error(ErrorCode::output_failed, fmt::format("cannot create output directory {}: {}",
                                                          utf8(directory), ec.message()));
    const Directory dir = Directory::open(directory);
    if (!dir) fail("open output directory", directory, dir.error_text());

    const std::string stem = expand_template(name, fmt::localtime(std::time(nullptr)));
    constexpr int max_attempts = 1000;
    for (int n = 1; n <= max_attempts; ++n) {
        const std::string file =
            (n == 1 ? stem : fmt::format("{}-{}", stem, n)) + "." + name.extension;
        // The sidecar's name (<file>.json) must be free too: recd never writes over a file.
        if (dir.has(file + ".json")) continue;
        auto created = dir.create_new(file);
        if (created) return OutputFile{std::move(created), directory / path_from_utf8(file)};
        if (created.error_number() != EEXIST)
            fail("create", directory / path_from_utf8(file), created.error_text());
    }
    throw Error(ErrorCode::output_failed, fmt::format("{} already has {} files named {}*",
                                                      utf8(directory), max_attempts, stem));
}

}  // namespace rec
