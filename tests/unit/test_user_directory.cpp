// A per-user directory in a shared place (daemon/user_directory.*): made 0700 if missing, used
// only if it is the user's own, real and private, with a message saying what to fix otherwise.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "common/error.hpp"
#include "daemon/user_directory.hpp"

namespace fs = std::filesystem;

namespace {

struct SharedPlace {
    fs::path root = fs::temp_directory_path() / ("recd-unit-dir-" + std::to_string(getpid()));
    SharedPlace() {
        fs::remove_all(root);
        fs::create_directory(root);
        fs::permissions(root, static_cast<fs::perms>(01733), fs::perm_options::replace);
    }
    ~SharedPlace() { fs::remove_all(root); }
    std::string tmpl() const { return (root / "{user}").string(); }
};

std::string claim_error(const std::string& directory, const std::string& user = "alice") {
    try {
        rec::claim_user_directory(directory, user, "autostart.directory");
    } catch (const rec::Error& e) {
        CHECK(e.code() == rec::ErrorCode::output_failed);
        return e.what();
    }
    FAIL("no error for " << directory);
    return "";
}

mode_t mode_of(const fs::path& path) {
    struct stat st {};
    REQUIRE(lstat(path.c_str(), &st) == 0);
    return st.st_mode & 07777;
}

}  // namespace

TEST_CASE("user directory: made 0700 on first use, and used as it is after") {
    SharedPlace place;
    const auto dir = rec::claim_user_directory(place.tmpl(), "alice", "autostart.directory");
    CHECK(dir == place.root / "alice");
    CHECK(mode_of(dir) == 0700);
    CHECK(rec::claim_user_directory(place.tmpl(), "alice", "autostart.directory") == dir);
    // Below the user's own directory, whatever the template adds is made too.
    const auto below =
        rec::claim_user_directory(place.tmpl() + "/screen", "alice", "autostart.directory");
    CHECK(below == place.root / "alice" / "screen");
    CHECK(fs::is_directory(below));
}

TEST_CASE("user directory: a template without {user} is left alone") {
    CHECK(rec::claim_user_directory("/nonexistent/recd/rec", "alice", "output.directory") ==
          "/nonexistent/recd/rec");
}

TEST_CASE("user directory: what is wrong is said with what fixes it") {
    SharedPlace place;
    auto message = claim_error((place.root / "missing" / "{user}").string());
    CHECK(message.find("does not exist") != std::string::npos);
    CHECK(message.find("install -d -m 1733") != std::string::npos);
    CHECK(message.find("autostart.directory") != std::string::npos);

    fs::create_directory(place.root / "alice");
    fs::permissions(place.root / "alice", static_cast<fs::perms>(0770), fs::perm_options::replace);
    message = claim_error(place.tmpl());
    CHECK(message.find("writable by others (mode 0770)") != std::string::npos);
    fs::remove(place.root / "alice");

    fs::create_directory_symlink(place.root, place.root / "alice");
    CHECK(claim_error(place.tmpl()).find("symbolic link") != std::string::npos);
    fs::remove(place.root / "alice");

    { std::ofstream(place.root / "alice") << "x"; }
    CHECK(claim_error(place.tmpl()).find("not a directory") != std::string::npos);
    fs::remove(place.root / "alice");

    if (geteuid() == 0) {
        // Someone else made it first: recd must not write there.
        fs::create_directory(place.root / "alice");
        REQUIRE(chown((place.root / "alice").c_str(), 65534, 65534) == 0);
        message = claim_error(place.tmpl());
        CHECK(message.find("belongs to uid 65534") != std::string::npos);
        CHECK(message.find("not to alice") != std::string::npos);
    }
}
