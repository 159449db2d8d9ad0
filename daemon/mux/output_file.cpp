#include "output_file.hpp"

#include <fcntl.h>
#include <fmt/chrono.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <ctime>

#include "../../common/config.hpp"
#include "../../common/error.hpp"

namespace rec {
namespace {

void replace_all(std::string& text, const std::string& from, const std::string& to) {
    for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
        text.replace(at, from.size(), to);
}

[[noreturn]] void fail(const std::string& what, const std::filesystem::path& path) {
    throw Error(ErrorCode::output_failed,
                fmt::format("cannot {} {}: {}", what, path.string(), std::strerror(errno)));
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

std::string host_name() {
    char host[256] = {};
    gethostname(host, sizeof host - 1);
    return safe(host);
}

std::optional<uint64_t> free_bytes(const std::filesystem::path& directory) {
    auto dir = directory;
    struct statvfs st {};
    while (statvfs(dir.c_str(), &st) != 0) {
        if (!dir.has_parent_path() || dir.parent_path() == dir) return std::nullopt;
        dir = dir.parent_path();
    }
    return static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
}

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
                                                          directory.string(), ec.message()));
    UniqueFd dir(open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir) fail("open output directory", directory);

    const std::time_t now = std::time(nullptr);
    std::tm local{};
    localtime_r(&now, &local);
    const std::string stem = expand_template(name, local);
    // A recording is what a user saw and heard: readable by that user only.
    constexpr mode_t mode = 0600;
    constexpr int max_attempts = 1000;
    for (int n = 1; n <= max_attempts; ++n) {
        const std::string file =
            (n == 1 ? stem : fmt::format("{}-{}", stem, n)) + "." + name.extension;
        // The sidecar's name (<file>.json) must be free too: recd never writes over a file.
        struct stat st {};
        if (fstatat(dir.get(), (file + ".json").c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) continue;
        int fd = openat(dir.get(), file.c_str(),
                        O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
        if (fd >= 0) return OutputFile{UniqueFd(fd), directory / file};
        if (errno != EEXIST) fail("create", directory / file);
    }
    throw Error(ErrorCode::output_failed, fmt::format("{} already has {} files named {}*",
                                                      directory.string(), max_attempts, stem));
}

}  // namespace rec
