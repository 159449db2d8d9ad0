#include "sidecar.hpp"

#include "file_io.hpp"

namespace rec {

std::filesystem::path sidecar_path(const std::filesystem::path& file) {
    auto path = file;
    return path += ".json";
}

std::string write_sidecar(const std::filesystem::path& file, const ipc::Json& content) {
    const auto path = sidecar_path(file);
    auto temp = path;
    temp += ".tmp";
    std::error_code ignored;
    std::filesystem::remove(temp,
                            ignored);  // ours from an interrupted write (a link: not followed)
    auto out = WritableFile::create_new(temp);
    if (!out) return "cannot create " + utf8(temp) + ": " + out.error_text();
    const std::string text =
        content.dump(2, ' ', false, ipc::Json::error_handler_t::replace) + "\n";
    std::string why;
    if (!out.write_all(text.data(), text.size()) || !out.sync()) why = out.error_text();
    out.close();
    if (why.empty()) why = replace_file(temp, path);
    if (!why.empty()) {
        std::filesystem::remove(temp, ignored);
        return "cannot write " + utf8(path) + ": " + why;
    }
    return {};
}

}  // namespace rec
