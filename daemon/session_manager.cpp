#include "session_manager.hpp"

#include <algorithm>

namespace rec {
namespace {

// Finished sessions stay listed so `status ID` answers after a stop or a failure; this many
// are kept, oldest forgotten first.
constexpr size_t max_finished_sessions = 64;

}  // namespace

std::shared_ptr<Session> SessionManager::create(SessionOptions options) {
    forget_old_finished();
    // Appended rather than "s" + to_string(): at -O3 (the Windows check's Release build) GCC 12
    // warns falsely about the operator+ inlined there (-Wrestrict), and warnings are errors.
    std::string id = "s";
    id += std::to_string(next_id_++);
    auto session = std::make_shared<Session>(id, std::move(options), config_, events_, open_files_);
    sessions_.emplace(id, session);
    order_.push_back(id);
    return session;
}

void SessionManager::remove(const std::string& id) {
    sessions_.erase(id);
    order_.erase(std::remove(order_.begin(), order_.end(), id), order_.end());
}

std::shared_ptr<Session> SessionManager::find(const std::string& id) const {
    auto it = sessions_.find(id);
    return it == sessions_.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<Session>> SessionManager::all() const {
    std::vector<std::shared_ptr<Session>> out;
    for (const auto& id : order_) out.push_back(sessions_.at(id));
    return out;
}

std::vector<std::shared_ptr<Session>> SessionManager::active() const {
    auto out = all();
    std::erase_if(out, [](const auto& s) { return s->finished(); });
    return out;
}

void SessionManager::forget_old_finished() {
    size_t finished = std::count_if(order_.begin(), order_.end(),
                                    [&](const auto& id) { return sessions_.at(id)->finished(); });
    for (auto it = order_.begin(); finished >= max_finished_sessions && it != order_.end();) {
        if (sessions_.at(*it)->finished()) {
            sessions_.erase(*it);
            it = order_.erase(it);
            --finished;
        } else {
            ++it;
        }
    }
}

}  // namespace rec
