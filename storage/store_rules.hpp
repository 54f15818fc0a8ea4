#pragma once
// What both Store implementations (SQLite, PostgreSQL) decide the same way, written once: the refusals of
// the contract, the references a build pushes, how a log read is cut, how pruning is batched.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/store.hpp"

namespace hookyard::storage {

// conflict: `b` is terminal, so there is nothing to cancel.
util::Error cannot_cancel(const Build& b);
// conflict: `b` is still queued or running, so it cannot be retried yet.
util::Error cannot_retry(const Build& b);
// The build a retry of `original` (as loaded, not_found included) queues; cannot_retry() while it is not
// terminal.
util::Result<NewBuild> retry_copy(const util::Result<Build>& original);
// invalid_input: `database` has schema version `found`, newer than the `known` one of this hookyard.
util::Error newer_schema(const std::string& database, std::int64_t found, int known);

// image:tag for every tag in a build's JSON tag list (the references it pushes).
std::vector<std::string> image_references(const std::string& image, const std::string& tags_json);

// Appends to `chunk` what a stored log piece starting at byte `piece_start` adds after chunk.next_offset,
// up to `max_bytes` in the chunk, and advances next_offset.
void append_to_chunk(LogChunk& chunk, std::int64_t piece_start, std::string_view piece, std::size_t max_bytes);

// policy.batch, or 500 when it is not positive (a batch of 0 would never end).
int prune_batch(const PrunePolicy& policy);

// One prune() given the candidate builds: `remove_builds` for each batch of policy.batch ids (the rows it
// removed or, dry, would remove), then `remove_deliveries` (the deliveries it removed).
util::Result<PruneResult> prune_in_batches(
    const std::vector<BuildId>& ids, const PrunePolicy& policy,
    const std::function<util::Result<std::int64_t>(const std::vector<BuildId>&)>& remove_builds,
    const std::function<util::Result<std::int64_t>()>& remove_deliveries);

}  // namespace hookyard::storage
