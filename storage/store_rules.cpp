#include "storage/store_rules.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "storage/new_build.hpp"

namespace hookyard::storage {

util::Error cannot_cancel(const Build& b) {
    return util::make_error(util::ErrorKind::conflict, "build " + std::to_string(b.id) + " is already " +
                                                           std::string(to_string(b.state)) + "; nothing to cancel");
}

util::Error cannot_retry(const Build& b) {
    return util::make_error(util::ErrorKind::conflict, "build " + std::to_string(b.id) + " is still " +
                                                           std::string(to_string(b.state)) +
                                                           "; retry it once it has finished (or cancel it first)");
}

util::Result<NewBuild> retry_copy(const util::Result<Build>& original) {
    if (!original) return original.error();
    if (!is_terminal(original->state)) return cannot_retry(*original);
    return retry_of(*original);
}

util::Error newer_schema(const std::string& database, std::int64_t found, int known) {
    return util::make_error(util::ErrorKind::invalid_input,
                            "database " + database + " has schema version " + std::to_string(found) +
                                ", newer than this hookyard knows (" + std::to_string(known) + "): upgrade hookyard");
}

std::vector<std::string> image_references(const std::string& image, const std::string& tags_json) {
    std::vector<std::string> out;
    const auto tags = nlohmann::json::parse(tags_json, nullptr, false);
    if (!tags.is_array()) return out;
    for (const auto& t : tags) {
        if (t.is_string()) out.push_back(image + ":" + t.get<std::string>());
    }
    return out;
}

void append_to_chunk(LogChunk& chunk, std::int64_t piece_start, std::string_view piece, std::size_t max_bytes) {
    const auto skip =
        std::min(piece.size(), static_cast<std::size_t>(std::max<std::int64_t>(0, chunk.next_offset - piece_start)));
    const auto take = std::min(piece.size() - skip, max_bytes - std::min(max_bytes, chunk.data.size()));
    chunk.data.append(piece.substr(skip, take));
    chunk.next_offset += static_cast<std::int64_t>(take);
}

int prune_batch(const PrunePolicy& policy) { return policy.batch > 0 ? policy.batch : 500; }

util::Result<PruneResult> prune_in_batches(
    const std::vector<BuildId>& ids, const PrunePolicy& policy,
    const std::function<util::Result<std::int64_t>(const std::vector<BuildId>&)>& remove_builds,
    const std::function<util::Result<std::int64_t>()>& remove_deliveries) {
    PruneResult result;
    const auto batch = static_cast<std::size_t>(prune_batch(policy));
    for (std::size_t i = 0; i < ids.size(); i += batch) {
        const auto first = ids.begin() + static_cast<std::ptrdiff_t>(i);
        const auto last = ids.begin() + static_cast<std::ptrdiff_t>(std::min(ids.size(), i + batch));
        auto rows = remove_builds({first, last});
        if (!rows) return rows.error();
        result.rows += *rows;
    }
    result.builds = static_cast<std::int64_t>(ids.size());
    auto deliveries = remove_deliveries();
    if (!deliveries) return deliveries.error();
    result.deliveries = *deliveries;
    result.rows += *deliveries;
    return result;
}

}  // namespace hookyard::storage
