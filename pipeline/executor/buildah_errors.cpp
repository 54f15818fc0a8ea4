#include "pipeline/executor/buildah_errors.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace hookyard::pipeline {
namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
}

bool starts_with_word(std::string_view text, std::string_view word) {
    if (text.size() < word.size()) return false;
    for (std::size_t i = 0; i < word.size(); ++i) {
        if (std::toupper(static_cast<unsigned char>(text[i])) != word[i]) return false;
    }
    return text.size() == word.size() || std::isspace(static_cast<unsigned char>(text[word.size()]));
}

// Parses "n/m" at the front of `s`; returns n (0 on failure) and advances `s` past it.
int parse_fraction(std::string_view& s) {
    int n = 0;
    const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec != std::errc() || p == s.data() + s.size() || *p != '/') return 0;
    s.remove_prefix(static_cast<std::size_t>(p - s.data()) + 1);
    while (!s.empty() && std::isdigit(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    return n;
}

// The image named by a FROM instruction, skipping flags such as --platform=...
std::string from_image(std::string_view instruction) {
    std::string_view rest = trim(instruction.substr(4));
    while (rest.rfind("--", 0) == 0) {
        const auto space = rest.find(' ');
        rest = space == std::string_view::npos ? std::string_view() : trim(rest.substr(space));
    }
    return std::string(rest.substr(0, rest.find(' ')));
}

bool is_pull_failure(const BuildahOutputWatch& watch) {
    const std::string& e = watch.last_error();
    return !watch.pulling().empty() || e.find("creating build container") != std::string::npos ||
           e.find("initializing source docker://") != std::string::npos ||
           (starts_with_word(watch.last_step(), "FROM") && e.find("image not known") != std::string::npos);
}

}  // namespace

void BuildahOutputWatch::observe(std::string_view line) {
    if (line.rfind("Error: ", 0) == 0) {
        m_last_error = std::string(trim(line.substr(7)));
        return;
    }
    if (line.rfind("Trying to pull ", 0) == 0) {
        std::string_view image = trim(line.substr(15));
        while (!image.empty() && image.back() == '.') image.remove_suffix(1);
        m_pulling = std::string(image);
        return;
    }
    std::string_view rest = line;
    int stage = 1;
    if (rest.rfind('[', 0) == 0) {
        rest.remove_prefix(1);
        stage = parse_fraction(rest);
        if (stage == 0 || rest.rfind("] ", 0) != 0) return;
        rest.remove_prefix(2);
    }
    if (rest.rfind("STEP ", 0) != 0) return;
    rest.remove_prefix(5);
    const int step = parse_fraction(rest);
    if (step == 0 || rest.rfind(": ", 0) != 0) return;
    m_step = step;
    m_stage = stage;
    m_last_step = std::string(trim(rest.substr(2)));
    // A new step means the previous pull (if any) succeeded.
    if (!starts_with_word(m_last_step, "FROM")) m_pulling.clear();
}

bool is_storage_race(const BuildahOutputWatch& watch) {
    const std::string& e = watch.last_error();
    return e.find("checking if cached image exists") != std::string::npos &&
           (e.find("layer not known") != std::string::npos || e.find("image not known") != std::string::npos);
}

int dockerfile_line(std::string_view text, int stage, int step) {
    int line_no = 0;
    int current_stage = 0;
    int current_step = 0;
    bool continuation = false;
    std::size_t pos = 0;
    while (pos <= text.size()) {
        const std::size_t end = std::min(text.find('\n', pos), text.size());
        const std::string_view line = trim(text.substr(pos, end - pos));
        pos = end + 1;
        ++line_no;
        if (line.empty() || line.front() == '#') continue;
        if (!continuation) {
            if (starts_with_word(line, "FROM")) {
                ++current_stage;
                current_step = 0;
            }
            if (current_stage > 0) ++current_step;
            if (current_stage == stage && current_step == step) return line_no;
        }
        continuation = line.back() == '\\';
    }
    return 0;
}

util::Error diagnose_build_failure(const BuildahOutputWatch& watch, int exit_code, std::string_view dockerfile_label,
                                   std::string_view dockerfile_text) {
    const std::string label(dockerfile_label);
    const std::string what =
        watch.last_error().empty() ? "buildah exited with code " + std::to_string(exit_code) : watch.last_error();
    if (is_pull_failure(watch)) {
        std::string image = watch.pulling();
        if (image.empty() && starts_with_word(watch.last_step(), "FROM")) image = from_image(watch.last_step());
        if (!image.empty()) {
            return util::make_error(util::ErrorKind::not_found,
                                    "the FROM image " + image + " cannot be pulled: " + what +
                                        "; check the image name and tag, that its registry is reachable from the "
                                        "build host, and the credentials for a private image");
        }
    }
    if (watch.last_step_number() > 0) {
        const int line = dockerfile_line(dockerfile_text, watch.last_stage_number(), watch.last_step_number());
        const std::string where = line > 0 ? label + ":" + std::to_string(line) : label;
        return util::make_error(util::ErrorKind::invalid_input, where + ": " + watch.last_step() + ": " + what);
    }
    return util::make_error(util::ErrorKind::invalid_input, label + ": buildah build failed: " + what);
}

}  // namespace hookyard::pipeline
