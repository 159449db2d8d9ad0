#pragma once
// An X server of a test's own, on a free display (-displayfd picks it), for what must not touch
// the shared fixture display: killing or freezing it, changing its screen's size, filling it
// with noise. Main thread of a test only.
#include <memory>
#include <string>
#include <vector>

#include "harness.hpp"

namespace rec::test {

class PrivateX {
public:
    enum class Server {
        xvfb,  // fixed size
        xvnc,  // TigerVNC's Xvnc: its screen can be resized with RandR (resize())
    };
    // Starts the server with a screen of `size` ("WxH"), then, with `pattern`, the moving test
    // pattern on it (returns once it drew). Fails the test if either will not start.
    PrivateX(Sandbox& box, Server server = Server::xvfb, const std::string& size = "640x480",
             bool pattern = true);
    PrivateX(const PrivateX&) = delete;
    PrivateX& operator=(const PrivateX&) = delete;
    // SIGTERM (after SIGCONT), so the server removes its socket and lock.
    ~PrivateX();

    std::string display() const { return ":" + number_; }

    // The moving test pattern (full screen, every frame), on a server started without it.
    void start_pattern();

    // SIGSTOP: a hung server, whose connections stay open and never answer.
    void freeze();
    // SIGCONT: the hung server answers again, the requests queued meanwhile first.
    void thaw();
    // SIGKILL, the way a crashing X server goes: no goodbye to its clients, its socket and lock
    // left behind (removed here, so no later server trips over them). Returns once it is gone.
    void kill();
    // `xrandr -s WxH` (Server::xvnc; one of its modes, e.g. 800x600, 1280x1024): returns once
    // the server has changed the screen's size. Fails the test if xrandr does.
    void resize(const std::string& size);

private:
    void forget_files();

    Sandbox& box_;
    std::unique_ptr<Process> server_;
    std::unique_ptr<Process> pattern_;  // dies with its X server
    std::string number_;
};

}  // namespace rec::test
