#include "config/naming.hpp"

#include <set>

#include "config/image_ref.hpp"
#include "config/rules.hpp"

namespace hookyard::config {
namespace {

constexpr std::size_t k_max_tag = 128;

// The final tags a rule can render, as patterns with '*' for whatever a placeholder yields.
std::vector<std::string> rule_patterns(const RepositoryConfig& repo, const Rule& rule) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= rule.tag.size()) {
        auto comma = rule.tag.find(',', start);
        if (comma == std::string::npos) comma = rule.tag.size();
        const std::string part = rule.tag.substr(start, comma - start);
        std::string pattern;
        for (std::size_t i = 0; i < part.size(); ++i) {
            if (part.compare(i, 11, "{sourceref}") == 0) {
                pattern += rule.is_regex ? "*" : rule.source;
                i += 10;
            } else if (part[i] == '{' && part.find('}', i) != std::string::npos) {
                pattern += '*';  // a capture group or a commit variable (tag_template.hpp)
                i = part.find('}', i);
            } else if (part[i] != ' ' && part[i] != '\t') {
                pattern += part[i] == '/' ? '-' : part[i];
            }
        }
        if (pattern.find('*') == std::string::npos) pattern = sanitize_tag(pattern);
        if (!pattern.empty()) out.push_back(final_tag(repo, pattern));
        start = comma + 1;
    }
    return out;
}

// The warning for the first pair of rules of `a` and `b` (same image) that can render the same tag; "" if none.
std::string overlap_message(const RepositoryConfig& a, const RepositoryConfig& b) {
    for (const auto& ra : a.rules) {
        for (const auto& rb : b.rules) {
            for (const auto& pa : rule_patterns(a, ra)) {
                for (const auto& pb : rule_patterns(b, rb)) {
                    if (!patterns_overlap(pa, pb)) continue;
                    return "repositories '" + a.github + "' and '" + b.github + "' both push to " +
                           image_repository(a) + ", and their rules on lines " + std::to_string(ra.line) + " and " +
                           std::to_string(rb.line) + " can render the same tag ('" + pa + "' and '" + pb +
                           "', '*' being any name): one would overwrite the other's image; set push_repo or "
                           "image_name on one of them";
                }
            }
        }
    }
    return "";
}

}  // namespace

std::string final_tag(const RepositoryConfig& repo, const std::string& tag) {
    if (!repo.shared_push_repo) return tag;
    // Not sanitize_tag: the config check passes patterns through here, whose '*' must survive.
    std::string out = repo.image_name + "-" + tag;
    while (!out.empty() && (out.front() == '.' || out.front() == '-')) out.erase(0, 1);
    if (out.size() > k_max_tag) out.resize(k_max_tag);
    return out;
}

bool patterns_overlap(const std::string& a, const std::string& b) {
    // Depth-first search over pairs of positions (i, j): the product of the two patterns' automata.
    std::set<std::pair<std::size_t, std::size_t>> seen;
    std::vector<std::pair<std::size_t, std::size_t>> todo{{0, 0}};
    while (!todo.empty()) {
        const auto [i, j] = todo.back();
        todo.pop_back();
        if (!seen.insert({i, j}).second) continue;
        if (i == a.size() && j == b.size()) return true;
        const bool star_a = i < a.size() && a[i] == '*', star_b = j < b.size() && b[j] == '*';
        if (star_a) todo.push_back({i + 1, j});  // the placeholder ends here
        if (star_b) todo.push_back({i, j + 1});
        if (i < a.size() && j < b.size()) {
            if (!star_a && !star_b && a[i] == b[j]) todo.push_back({i + 1, j + 1});
            if (star_a && !star_b) todo.push_back({i, j + 1});  // a's placeholder takes b's character
            if (!star_a && star_b) todo.push_back({i + 1, j});
        }
    }
    return false;
}

std::vector<std::pair<int, std::string>> shared_tag_warnings(const Config& config) {
    std::vector<std::pair<int, std::string>> out;
    const auto& repos = config.repositories;
    for (std::size_t x = 0; x < repos.size(); ++x) {
        for (std::size_t y = x + 1; y < repos.size(); ++y) {
            if (image_repository(repos[x]) != image_repository(repos[y])) continue;
            if (auto message = overlap_message(repos[x], repos[y]); !message.empty()) {
                out.emplace_back(repos[y].line, std::move(message));
            }
        }
    }
    return out;
}

}  // namespace hookyard::config
