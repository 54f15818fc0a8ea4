#include "storage/postgres_listen.hpp"

#include "util/log.hpp"

namespace hookyard::storage::postgres {
namespace {

using namespace std::chrono_literals;

// How often the thread looks at m_stopping while it waits: bounds how long the destructor takes.
constexpr auto k_listen_slice = 200ms;

}  // namespace

util::Status notify_work(Conn& db) { return db.exec("SELECT pg_notify($1, '')", {std::string(k_work_channel)}); }

Listener::Listener(std::string url, std::function<void()> wake)
    : m_url(std::move(url)), m_wake(std::move(wake)), m_thread([this] { run(); }) {}

Listener::~Listener() {
    m_stopping = true;
    m_thread.join();
}

void Listener::pause(std::chrono::milliseconds d) const {
    for (auto waited = 0ms; waited < d && !m_stopping; waited += k_listen_slice)
        std::this_thread::sleep_for(k_listen_slice);
}

void Listener::run() {
    std::unique_ptr<Conn> conn;
    bool warned = false;
    while (!m_stopping) {
        if (!conn) {
            auto opened = Conn::open(m_url);
            auto listening =
                opened ? (*opened)->exec(std::string("LISTEN ") + k_work_channel) : util::Status(opened.error());
            if (!listening) {
                if (!warned)
                    util::log_warn("store",
                                   "cannot listen for work: " + listening.error().message + "; polling meanwhile");
                warned = true;
                pause(1s);
                continue;
            }
            conn = std::move(*opened);
            warned = false;
            m_wake();  // work queued while nobody listened
        }
        auto n = conn->wait_notifications(k_listen_slice);
        if (!n) {
            conn.reset();
            continue;
        }
        if (*n > 0) m_wake();
    }
}

}  // namespace hookyard::storage::postgres
