#include "sidecar.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "../../common/unique_fd.hpp"

namespace rec {

std::filesystem::path sidecar_path(const std::filesystem::path& file) {
    return file.string() + ".json";
}

std::string write_sidecar(const std::filesystem::path& file, const ipc::Json& content) {
    const auto path = sidecar_path(file);
    const auto temp = std::filesystem::path(path.string() + ".tmp");
    std::remove(temp.c_str());  // ours from an interrupted write, never followed (O_NOFOLLOW)
    UniqueFd fd(open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd) return "cannot create " + temp.string() + ": " + std::strerror(errno);
    const std::string text =
        content.dump(2, ' ', false, ipc::Json::error_handler_t::replace) + "\n";
    const bool ok =
        ::write(fd.get(), text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
        fsync(fd.get()) == 0;
    fd.reset();
    if (!ok || std::rename(temp.c_str(), path.c_str()) != 0) {
        std::remove(temp.c_str());
        return "cannot write " + path.string() + ": " + std::strerror(errno);
    }
    return {};
}

}  // namespace rec
