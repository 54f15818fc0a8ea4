#include "pipeline/build_identity.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "util/digest.hpp"

namespace fs = std::filesystem;

namespace hookyard::pipeline {
namespace {

// The Dockerfile's instructions, one string each: continuation lines joined, comments and blanks dropped.
std::vector<std::string> dockerfile_instructions(std::string_view text) {
    std::vector<std::string> out;
    std::string current;
    std::size_t start = 0;
    while (start <= text.size()) {
        auto end = text.find('\n', start);
        if (end == std::string_view::npos) end = text.size();
        std::string line(text.substr(start, end - start));
        start = end + 1;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        const auto first = line.find_first_not_of(" \t");
        if (first == std::string::npos || line[first] == '#') continue;
        const bool continued = line.back() == '\\';
        if (continued) line.pop_back();
        current += line;
        if (continued) {
            current += ' ';
            continue;
        }
        out.push_back(current);
        current.clear();
    }
    if (!current.empty()) out.push_back(current);
    return out;
}

std::vector<std::string> words_of(const std::string& text) {
    std::vector<std::string> words;
    std::string word;
    for (char c : text) {
        if (c == ' ' || c == '\t') {
            if (!word.empty()) words.push_back(std::move(word));
            word.clear();
        } else {
            word += c;
        }
    }
    if (!word.empty()) words.push_back(std::move(word));
    return words;
}

std::string upper(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
}

// `text` with $VAR, ${VAR} and ${VAR:-default} replaced from `vars`; a variable with no value leaves a '$'.
std::string substitute(const std::string& text, const std::map<std::string, std::string>& vars) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '$' || i + 1 >= text.size()) {
            out += text[i];
            continue;
        }
        const bool braced = text[i + 1] == '{';
        const std::size_t name_start = i + (braced ? 2 : 1);
        std::size_t end = name_start;
        while (end < text.size() && (std::isalnum(static_cast<unsigned char>(text[end])) || text[end] == '_')) ++end;
        const std::string name = text.substr(name_start, end - name_start);
        std::string fallback;
        if (braced) {
            const auto close = text.find('}', end);
            if (close == std::string::npos) return out + text.substr(i);
            if (text.compare(end, 2, ":-") == 0) fallback = text.substr(end + 2, close - end - 2);
            end = close + 1;
        }
        const auto it = vars.find(name);
        if (it != vars.end() && !it->second.empty()) {
            out += it->second;
        } else if (!fallback.empty()) {
            out += fallback;
        } else {
            out += "$" + name;  // stays unresolved
        }
        i = end - 1;
    }
    return out;
}

// Records the names (and, before the first FROM, the defaults) one ARG instruction declares.
void read_arg(const std::vector<std::string>& words, bool global, DockerfileFacts& facts,
              std::map<std::string, std::string>& vars) {
    for (std::size_t i = 1; i < words.size(); ++i) {
        const auto eq = words[i].find('=');
        const std::string name = words[i].substr(0, eq);
        facts.declared_args.insert(name);
        if (global && eq != std::string::npos && vars.count(name) == 0) vars[name] = words[i].substr(eq + 1);
    }
}

}  // namespace

DockerfileFacts read_dockerfile(std::string_view text, const std::map<std::string, std::string>& build_args) {
    DockerfileFacts facts;
    std::map<std::string, std::string> vars = build_args;
    std::map<std::string, std::string> stages;  // upper-cased stage name → its base image
    bool seen_from = false;
    for (const auto& instruction : dockerfile_instructions(text)) {
        const auto words = words_of(instruction);
        const std::string keyword = upper(words.front());
        if (keyword == "ARG") read_arg(words, !seen_from, facts, vars);
        if (keyword != "FROM") continue;
        seen_from = true;
        std::vector<std::string> rest;
        for (std::size_t i = 1; i < words.size(); ++i) {
            if (words[i].rfind("--", 0) != 0) rest.push_back(words[i]);
        }
        if (rest.empty()) continue;
        const std::string image = substitute(rest[0], vars);
        const auto stage = stages.find(upper(image));
        // A stage built FROM an earlier stage starts from that stage's base image.
        facts.final_base = stage != stages.end() ? stage->second : upper(image) == "SCRATCH" ? "" : image;
        if (rest.size() >= 3 && upper(rest[1]) == "AS") stages[upper(rest[2])] = facts.final_base;
        if (image.find('$') != std::string::npos) {
            if (facts.unresolved.empty()) facts.unresolved = rest[0];
            facts.final_base.clear();
            continue;
        }
        if (upper(image) == "SCRATCH" || stage != stages.end()) continue;
        if (std::find(facts.bases.begin(), facts.bases.end(), image) == facts.bases.end()) facts.bases.push_back(image);
    }
    return facts;
}

util::Result<std::string> context_digest(const std::string& dir) {
    std::vector<std::pair<std::string, fs::path>> entries;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
        if (it.depth() == 0 && it->path().filename() == ".git") {
            it.disable_recursion_pending();
            continue;
        }
        entries.emplace_back(fs::relative(it->path(), dir, ec).generic_string(), it->path());
    }
    if (ec)
        return util::make_error(util::ErrorKind::invalid_input, "cannot read the context " + dir + ": " + ec.message());
    std::sort(entries.begin(), entries.end());
    util::Sha256 all;
    for (const auto& [rel, path] : entries) {
        const auto status = fs::symlink_status(path, ec);
        std::string line = rel + '\0';
        if (fs::is_symlink(status)) {
            line += "l " + fs::read_symlink(path, ec).generic_string();
        } else if (fs::is_directory(status)) {
            line += "d";
        } else {
            auto digest = util::sha256_file(path.string());
            if (!digest) return digest.error();
            const bool exec = (status.permissions() & fs::perms::owner_exec) != fs::perms::none;
            line += std::string(exec ? "x " : "f ") + *digest;
        }
        all.update(line + '\n');
    }
    return all.digest();
}

std::string build_identity(const IdentityInputs& in) {
    // Versioned (the leading 1): a change of what counts must not match identities computed before it.
    // Positional: the order of the fields is part of the format (version 1).
    const nlohmann::json canonical =
        nlohmann::json::array({1, in.context_digest, in.dockerfile_path, util::sha256_digest(in.dockerfile_text),
                               in.build_args, in.automatic_args, in.platforms, in.hooks, in.base_digests});
    return util::sha256_digest(canonical.dump());
}

std::map<std::string, std::string> declared_automatic_args(const DockerfileFacts& facts,
                                                           const std::map<std::string, std::string>& automatic) {
    std::map<std::string, std::string> out;
    for (const auto& [name, value] : automatic) {
        if (facts.declared_args.count(name) > 0) out[name] = value;
    }
    return out;
}

}  // namespace hookyard::pipeline
