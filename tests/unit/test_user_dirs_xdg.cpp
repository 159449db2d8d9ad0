// Where recd looks on Linux (common/user_dirs_xdg.cpp): the XDG directories.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <string>

#include "common/config.hpp"

TEST_CASE("output_directory defaults to $XDG_VIDEOS_DIR/recd") {
    const char* old = std::getenv("XDG_VIDEOS_DIR");
    const std::string saved = old ? old : "";
    setenv("XDG_VIDEOS_DIR", "/videos", 1);
    CHECK(rec::output_directory({}) == "/videos/recd");
    if (old)
        setenv("XDG_VIDEOS_DIR", saved.c_str(), 1);
    else
        unsetenv("XDG_VIDEOS_DIR");
}
