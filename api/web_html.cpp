#include "api/web_html.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ctime>

namespace hookyard::api {
namespace {

// Length of the valid UTF-8 sequence at text[i], 0 when the bytes there are not one.
std::size_t utf8_length(std::string_view text, std::size_t i) {
    const auto c = static_cast<unsigned char>(text[i]);
    std::size_t n = 0;
    if (c < 0x80) return 1;
    if (c >= 0xc2 && c <= 0xdf)
        n = 2;
    else if (c >= 0xe0 && c <= 0xef)
        n = 3;
    else if (c >= 0xf0 && c <= 0xf4)
        n = 4;
    else
        return 0;
    if (i + n > text.size()) return 0;
    for (std::size_t k = 1; k < n; ++k) {
        if ((static_cast<unsigned char>(text[i + k]) & 0xc0) != 0x80) return 0;
    }
    const auto c1 = static_cast<unsigned char>(text[i + 1]);
    // Overlong forms, UTF-16 surrogates and code points past U+10FFFF.
    if ((c == 0xe0 && c1 < 0xa0) || (c == 0xed && c1 >= 0xa0) || (c == 0xf0 && c1 < 0x90) ||
        (c == 0xf4 && c1 >= 0x90)) {
        return 0;
    }
    return n;
}

void append_escaped(std::string& out, std::string_view text) {
    for (std::size_t i = 0; i < text.size();) {
        const std::size_t n = utf8_length(text, i);
        if (n == 0) {
            out += "\xef\xbf\xbd";
            ++i;
            continue;
        }
        if (n > 1) {
            out.append(text.substr(i, n));
            i += n;
            continue;
        }
        switch (const char c = text[i++]) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&#39;";
                break;
            default:
                // Control characters other than tab would render as nothing or break the layout.
                if (static_cast<unsigned char>(c) < 0x20 && c != '\t') break;
                out += c;
        }
    }
}

// The classes an SGR sequence's parameters ("1;31") select; "" for reset or nothing we render.
std::string sgr_classes(std::string_view params) {
    std::string classes;
    std::size_t start = 0;
    while (start <= params.size()) {
        const std::size_t end = std::min(params.find(';', start), params.size());
        const std::string_view p = params.substr(start, end - start);
        int v = 0;
        for (char c : p) v = v * 10 + (c - '0');
        if (v == 1) classes += " b";
        if ((v >= 30 && v <= 37) || (v >= 90 && v <= 97)) classes += " c" + std::to_string(v);
        start = end + 1;
    }
    return classes;
}

// One log line (no newline) as HTML, colours as spans, closing what it opened.
void append_log_line(std::string& out, std::string_view line) {
    bool open = false;
    std::size_t i = 0;
    while (i < line.size()) {
        const std::size_t esc = line.find('\x1b', i);
        append_escaped(out, line.substr(i, esc == std::string_view::npos ? line.npos : esc - i));
        if (esc == std::string_view::npos) break;
        // CSI: ESC [ parameters final-byte. Anything else after ESC is dropped with the ESC.
        std::size_t j = esc + 1;
        if (j < line.size() && line[j] == '[') {
            ++j;
            while (j < line.size() && ((line[j] >= '0' && line[j] <= '9') || line[j] == ';')) ++j;
            if (j < line.size() && line[j] == 'm') {
                if (open) out += "</span>";
                const std::string classes = sgr_classes(line.substr(esc + 2, j - esc - 2));
                open = !classes.empty();
                if (open) out += "<span class=\"" + classes.substr(1) + "\">";
            }
            if (j < line.size()) ++j;
        }
        i = j;
    }
    if (open) out += "</span>";
}

}  // namespace

std::string html_escape(std::string_view text) {
    std::string out;
    out.reserve(text.size() + 16);
    append_escaped(out, text);
    return out;
}

std::string url_encode(std::string_view text) {
    static constexpr char k_hex[] = "0123456789ABCDEF";
    std::string out;
    for (const char ch : text) {
        const auto c = static_cast<unsigned char>(ch);
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '/') {
            out += ch;
        } else {
            out += '%';
            out += k_hex[c >> 4];
            out += k_hex[c & 15];
        }
    }
    return out;
}

std::string log_to_html(std::string_view text, std::int64_t first_line, std::int64_t& lines) {
    std::string out;
    out.reserve(text.size() + text.size() / 2);
    lines = 0;
    std::size_t start = 0;
    while (start < text.size()) {
        std::size_t end = text.find('\n', start);
        if (end == std::string_view::npos) end = text.size();
        std::string_view line = text.substr(start, end - start);
        // A carriage return redraws the line (progress bars): what is after the last one is what shows.
        if (const auto cr = line.find_last_of('\r', line.size() > 0 ? line.size() - 1 : 0);
            cr != std::string_view::npos && cr + 1 < line.size()) {
            line = line.substr(cr + 1);
        }
        const std::string n = std::to_string(first_line + lines);
        out += "<div class=\"l\" id=\"L" + n + "\"><a href=\"#L" + n + "\">" + n + "</a>";
        append_log_line(out, line);
        out += "</div>\n";
        ++lines;
        start = end + 1;
    }
    return out;
}

std::string format_time(storage::TimeMs t) {
    if (t <= 0) return "–";
    const std::time_t secs = static_cast<std::time_t>(t / 1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
    return buf;
}

std::string format_duration(std::int64_t ms) {
    if (ms < 0) return "–";
    if (ms < 1000) return std::to_string(ms) + " ms";
    const std::int64_t s = ms / 1000;
    char buf[48];
    if (s < 60)
        std::snprintf(buf, sizeof buf, "%lld.%llds", static_cast<long long>(s),
                      static_cast<long long>(ms % 1000 / 100));
    else if (s < 3600)
        std::snprintf(buf, sizeof buf, "%lldm %02llds", static_cast<long long>(s / 60), static_cast<long long>(s % 60));
    else
        std::snprintf(buf, sizeof buf, "%lldh %02lldm", static_cast<long long>(s / 3600),
                      static_cast<long long>(s / 60 % 60));
    return buf;
}

std::int64_t build_duration_ms(const storage::Build& b) {
    if (b.started_at <= 0) return -1;
    return (b.finished_at > 0 ? b.finished_at : storage::now_ms()) - b.started_at;
}

std::string state_badge(storage::BuildState s) {
    const std::string name(storage::to_string(s));
    return "<span class=\"state s-" + name + "\">" + name + "</span>";
}

std::string post_button(std::string_view action, std::string_view label, std::string_view csrf,
                        std::string_view css_class) {
    return "<form method=\"post\" action=\"" + html_escape(action) +
           "\" class=\"inline\">"
           "<input type=\"hidden\" name=\"csrf\" value=\"" +
           html_escape(csrf) + "\"><button type=\"submit\" class=\"" + html_escape(css_class) + "\">" +
           html_escape(label) + "</button></form>";
}

std::string page(std::string_view title, const PageViewer& viewer, std::string_view body) {
    std::string out =
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        "<title>" +
        html_escape(title) +
        " · hookyard</title>"
        "<link rel=\"stylesheet\" href=\"/ui/app.css\"><script src=\"/ui/app.js\" defer></script></head><body>"
        "<header><a class=\"brand\" href=\"/builds\">hookyard</a><nav><a href=\"/builds\">Builds</a>"
        "<a href=\"/repositories\">Repositories</a><a href=\"/queue\">Queue</a></nav><span class=\"who\">";
    if (!viewer.name.empty()) {
        out += html_escape(viewer.name) + (viewer.operator_role ? " (operator)" : " (viewer)") +
               post_button("/logout", "Log out", viewer.csrf, "link");
    } else {
        out += "<a href=\"/login\">Log in</a>";
    }
    out += "</span></header><main>";
    out += body;
    out += "</main></body></html>\n";
    return out;
}

}  // namespace hookyard::api
