#include "config/tag_template.hpp"

#include <algorithm>
#include <ctime>
#include <functional>
#include <string_view>

#include "config/image_ref.hpp"

namespace hookyard::config {
namespace {

// strftime conversions that depend on neither the locale's wording nor whitespace: dates and times only.
constexpr std::string_view k_date_conversions = "aAbBCdeFgGhHIjmMpSTuUVwWyYz%";
constexpr std::string_view k_known_variables =
    "{sourceref}, {\\1}..{\\9}, {sha}, {sha:N}, {branch}, {tag}, {pr}, {date:%Y%m%d}";

enum class VarKind { sourceref, capture, sha, branch, tag, pr, date, unknown };

struct Var {
    VarKind kind = VarKind::unknown;
    unsigned n = 0;       // capture number, or the {sha:N} length (0 = the full id, or not a number)
    std::string format;   // {date:…}
    std::string problem;  // a known name used wrongly
};

std::string trim_blanks(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return std::string(s);
}

std::string check_date_format(std::string_view format) {
    if (format.empty()) return "{date:} has an empty format; write e.g. {date:%Y%m%d}";
    for (std::size_t i = 0; i < format.size(); ++i) {
        if (format[i] != '%') continue;
        if (i + 1 == format.size() || k_date_conversions.find(format[i + 1]) == std::string_view::npos) {
            return "{date:" + std::string(format) +
                   "} is not a strftime date format: use date and time conversions such as %Y %m %d %H %M %S %j "
                   "%V, e.g. {date:%Y%m%d}";
        }
        ++i;
    }
    return "";
}

Var parse_var(std::string_view inner) {
    Var v;
    if (inner == "sourceref") v.kind = VarKind::sourceref;
    if (inner == "branch") v.kind = VarKind::branch;
    if (inner == "tag") v.kind = VarKind::tag;
    if (inner == "pr") v.kind = VarKind::pr;
    if (inner == "sha") v.kind = VarKind::sha;
    if (inner == "date") v = Var{VarKind::date, 0, "%Y%m%d", ""};
    if (inner.size() == 2 && inner[0] == '\\' && inner[1] >= '1' && inner[1] <= '9') {
        v = Var{VarKind::capture, static_cast<unsigned>(inner[1] - '0'), "", ""};
    }
    if (inner.rfind("sha:", 0) == 0) {
        v.kind = VarKind::sha;
        const auto digits = inner.substr(4);
        const bool numeric = !digits.empty() && digits.size() <= 2 &&
                             std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; });
        v.n = numeric ? static_cast<unsigned>(std::stoul(std::string(digits))) : 0;
        if (v.n < 1 || v.n > 40) {
            v.problem = "{" + std::string(inner) + "} needs a length from 1 to 40, e.g. {sha:7}";
        }
    }
    if (inner.rfind("date:", 0) == 0) {
        v = Var{VarKind::date, 0, std::string(inner.substr(5)), ""};
        v.problem = check_date_format(v.format);
    }
    return v;
}

// Calls `fn` for each variable of `part` in order with its position and length (braces included).
void for_each_var(std::string_view part, const std::function<void(std::size_t, std::size_t, const Var&)>& fn) {
    for (std::size_t i = 0; i < part.size(); ++i) {
        if (part[i] != '{') continue;
        const auto close = part.find('}', i);
        if (close == std::string_view::npos) return;
        fn(i, close - i + 1, parse_var(part.substr(i + 1, close - i - 1)));
        i = close;
    }
}

void for_each_part(const std::string& tmpl, const std::function<void(const std::string&)>& fn) {
    std::size_t start = 0;
    while (start <= tmpl.size()) {
        auto comma = tmpl.find(',', start);
        if (comma == std::string::npos) comma = tmpl.size();
        fn(trim_blanks(std::string_view(tmpl).substr(start, comma - start)));
        start = comma + 1;
    }
}

std::string format_date(const std::string& format, std::int64_t time_s) {
    const auto t = static_cast<std::time_t>(time_s);
    std::tm utc{};
    gmtime_r(&t, &utc);
    char buf[256];
    const std::size_t n = std::strftime(buf, sizeof buf, format.c_str(), &utc);
    return std::string(buf, n);
}

std::string value_of(const Var& v, const TagValues& values) {
    switch (v.kind) {
        case VarKind::sourceref:
            return values.sourceref;
        case VarKind::capture:
            return v.n <= values.captures.size() ? values.captures[v.n - 1] : std::string();
        case VarKind::sha:
            return v.n == 0 ? values.sha : values.sha.substr(0, v.n);
        case VarKind::branch:
            return values.branch;
        case VarKind::tag:
            return values.tag;
        case VarKind::pr:
            return values.pr;
        case VarKind::date:
            return values.time_s == 0 ? std::string() : format_date(v.format, values.time_s);
        case VarKind::unknown:
            break;
    }
    return "";
}

// The part rendered; "" when it uses {sha} before the commit is known (it renders after checkout).
std::string render_part(const std::string& part, const TagValues& values) {
    if (values.sha.empty() && uses_commit(part)) return "";
    std::string out;
    std::size_t copied = 0;
    for_each_var(part, [&](std::size_t at, std::size_t len, const Var& v) {
        if (v.kind == VarKind::unknown) return;  // refused by config check; kept as text otherwise
        out.append(part, copied, at - copied);
        out += value_of(v, values);
        copied = at + len;
    });
    out.append(part, copied, std::string::npos);
    return out;
}

}  // namespace

bool uses_commit(const std::string& tmpl) {
    bool found = false;
    for_each_var(tmpl, [&](std::size_t, std::size_t, const Var& v) { found = found || v.kind == VarKind::sha; });
    return found;
}

std::vector<std::string> render_tag_template(const std::string& tmpl, const TagValues& values,
                                             std::vector<std::string>* changed) {
    std::vector<std::string> out;
    for_each_part(tmpl, [&](const std::string& part) {
        const std::string rendered = render_part(part, values);
        const auto tag = sanitize_tag(rendered);
        if (tag.empty() || std::find(out.begin(), out.end(), tag) != out.end()) return;
        out.push_back(tag);
        if (changed != nullptr && tag != rendered) changed->push_back(tag);
    });
    return out;
}

std::string check_tag_variables(const std::string& tmpl, bool is_regex, unsigned capture_groups) {
    std::string problem;
    for_each_part(tmpl, [&](const std::string& part) {
        for_each_var(part, [&](std::size_t at, std::size_t len, const Var& v) {
            if (!problem.empty()) return;
            const std::string text = part.substr(at, len);
            if (v.kind == VarKind::unknown) {
                problem = "tag '" + tmpl + "' uses the unknown variable " + text + "; known are " +
                          std::string(k_known_variables);
            } else if (!v.problem.empty()) {
                problem = "tag '" + tmpl + "': " + v.problem;
            } else if (v.kind == VarKind::capture && !is_regex) {
                problem = "tag '" + tmpl + "' uses " + text +
                          " but the source is not a regex; write the source as '/pattern/' with a capture group";
            } else if (v.kind == VarKind::capture && v.n > capture_groups) {
                problem = "tag '" + tmpl + "' uses " + text + " but the source regex has only " +
                          std::to_string(capture_groups) + " capture group(s)";
            }
        });
    });
    return problem;
}

std::string empty_render_reason(const std::string& tmpl, const TagValues& values) {
    std::string empty;
    for_each_var(tmpl, [&](std::size_t, std::size_t, const Var& v) {
        if (v.kind == VarKind::unknown || !value_of(v, values).empty()) return;
        static const char* const k_why[] = {"{sourceref} is empty",
                                            "a capture group matched nothing",
                                            "{sha} is not known",
                                            "{branch} is empty on tag pushes",
                                            "{tag} is empty on branch pushes",
                                            "{pr} is empty outside pull requests",
                                            "{date} rendered nothing"};
        const std::string why = k_why[static_cast<int>(v.kind)];
        if (empty.find(why) == std::string::npos) empty += (empty.empty() ? "" : "; ") + why;
    });
    return "tag template '" + tmpl + "' renders no tag" +
           (empty.empty() ? ": sanitising left no valid character" : ": " + empty) +
           "; give the rule a tag that renders here, e.g. add ',latest' or use {sourceref}";
}

}  // namespace hookyard::config
