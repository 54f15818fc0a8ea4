#include "tests/integration/api/webdriver.hpp"

#include <openssl/evp.h>

#include <csignal>
#include <stdexcept>
#include <thread>

#include "tests/support/http_test_client.hpp"

namespace hookyard::test {
namespace {

constexpr const char* k_element_key = "element-6066-11e4-a52e-4f735466cecf";

std::string decode_base64(const std::string& text) {
    std::string out(text.size() / 4 * 3 + 3, '\0');
    const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
    if (n < 0) throw std::runtime_error("screenshot is not base64");
    std::size_t pad = 0;
    while (pad < text.size() && pad < 2 && text[text.size() - 1 - pad] == '=') ++pad;
    out.resize(static_cast<std::size_t>(n) - pad);
    return out;
}

}  // namespace

std::string Browser::missing_programs() {
    std::string missing;
    if (!have_program("chromium")) missing += " chromium";
    if (!have_program("chromedriver")) missing += " chromedriver";
    if (missing.empty()) return "";
    return "missing:" + missing +
           "; install the Debian packages with scripts/setup (apt-get install --no-install-recommends chromium "
           "chromium-driver)";
}

Browser::Browser(const std::string& log_dir) {
    if (const auto missing = missing_programs(); !missing.empty()) throw std::runtime_error(missing);
    m_port = free_port();
    m_driver = std::make_unique<Process>(std::vector<std::string>{"chromedriver", "--port=" + std::to_string(m_port)},
                                         log_dir + "/chromedriver.log");
    if (!wait_until([&] { return port_open(m_port); }, std::chrono::seconds(20))) {
        throw std::runtime_error("chromedriver did not start: " + m_driver->log());
    }
    const nlohmann::json caps = {
        {"capabilities",
         {{"alwaysMatch",
           {{"browserName", "chrome"},
            {"goog:chromeOptions",
             {{"binary", "/usr/bin/chromium"},
              {"args",
               {"--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,900",
                "--user-data-dir=" + log_dir + "/chromium-profile"}}}}}}}}};
    m_session = call("POST", "/session", caps).at("sessionId").get<std::string>();
}

Browser::~Browser() {
    if (!m_session.empty()) {
        try {
            call("DELETE", "/session/" + m_session);
        } catch (const std::exception&) {
            // The driver is stopped below anyway.
        }
    }
    if (m_driver) {
        m_driver->signal(SIGTERM);
        if (m_driver->wait(std::chrono::seconds(5)) < 0) m_driver->signal(SIGKILL);
    }
}

nlohmann::json Browser::call(const std::string& method, const std::string& path, const nlohmann::json& body) {
    const std::string text = body.is_null() ? (method == "POST" ? "{}" : "") : body.dump();
    const auto reply = http_request(m_port, method, path, {{"Content-Type", "application/json"}}, text);
    const auto j = nlohmann::json::parse(reply.body, nullptr, false);
    if (reply.status != 200 || j.is_discarded()) {
        throw std::runtime_error("WebDriver " + method + " " + path + " answered " + std::to_string(reply.status) +
                                 ": " + reply.body.substr(0, 2000));
    }
    return j.value("value", nlohmann::json());
}

void Browser::go(const std::string& url) { call("POST", "/session/" + m_session + "/url", {{"url", url}}); }

std::string Browser::url() { return call("GET", "/session/" + m_session + "/url").get<std::string>(); }

std::string Browser::element(const std::string& css) {
    return call("POST", "/session/" + m_session + "/element", {{"using", "css selector"}, {"value", css}})
        .at(k_element_key)
        .get<std::string>();
}

nlohmann::json Browser::run(const std::string& script, const nlohmann::json& args) {
    return call("POST", "/session/" + m_session + "/execute/sync", {{"script", script}, {"args", args}});
}

std::string Browser::text(const std::string& css) {
    const auto v = run("var e = document.querySelector(arguments[0]); return e ? e.textContent : '';", {css});
    return v.is_string() ? v.get<std::string>() : "";
}

bool Browser::exists(const std::string& css) {
    return run("return document.querySelector(arguments[0]) !== null;", {css}).get<bool>();
}

void Browser::click(const std::string& css) {
    call("POST", "/session/" + m_session + "/element/" + element(css) + "/click");
}

void Browser::type(const std::string& css, const std::string& text) {
    call("POST", "/session/" + m_session + "/element/" + element(css) + "/value", {{"text", text}});
}

void Browser::resize(int width, int height) {
    call("POST", "/session/" + m_session + "/window/rect", {{"width", width}, {"height", height}});
}

void Browser::screenshot(const std::string& path) {
    write_file(path, decode_base64(call("GET", "/session/" + m_session + "/screenshot").get<std::string>()));
}

}  // namespace hookyard::test
