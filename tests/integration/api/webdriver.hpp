#pragma once
// A small W3C WebDriver client for the browser tests: starts Debian's chromedriver with headless Chromium
// and drives it over HTTP (new session, navigate, find, click, type, run a script, screenshot).

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/support/support.hpp"

namespace hookyard::test {

class Browser {
public:
    // Starts chromedriver and a headless Chromium session (--no-sandbox: the tests run as root) at desktop
    // size; logs go to `log_dir`. Throws std::runtime_error naming what is missing and how to install it.
    explicit Browser(const std::string& log_dir);
    ~Browser();
    Browser(const Browser&) = delete;
    Browser& operator=(const Browser&) = delete;

    // Where chromium and chromedriver must be; an error message naming the packages when either is missing.
    static std::string missing_programs();

    void go(const std::string& url);
    std::string url();
    // The text of the first element matching `css`; "" when none does.
    std::string text(const std::string& css);
    bool exists(const std::string& css);
    // Clicks the first element matching `css` (a real click, as a user would); throws when none matches.
    void click(const std::string& css);
    void type(const std::string& css, const std::string& text);
    // Runs `script` (a function body; `arguments` available) and returns its JSON value.
    nlohmann::json run(const std::string& script, const nlohmann::json& args = nlohmann::json::array());
    void resize(int width, int height);
    // Saves a PNG of the viewport.
    void screenshot(const std::string& path);

private:
    nlohmann::json call(const std::string& method, const std::string& path, const nlohmann::json& body = nullptr);
    std::string element(const std::string& css);

    int m_port = 0;
    std::unique_ptr<Process> m_driver;
    std::string m_session;
};

}  // namespace hookyard::test
