#pragma once
// Plain records the Store reads and writes. Times are milliseconds since the Unix epoch (0 = not yet);
// format_rfc3339() renders them for the API.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "storage/build_state.hpp"

namespace hookyard::storage {

using BuildId = std::int64_t;
using TimeMs = std::int64_t;

struct Stage {
    std::string name;                        // checkout | locate | build | push | notify
    BuildState state = BuildState::running;  // running, succeeded, failed or canceled
    TimeMs started_at = 0;
    TimeMs finished_at = 0;
    std::int64_t duration_ms = 0;
    std::string error;
};

// What a caller supplies to queue one build (from config::PlannedBuild plus the push).
struct NewBuild {
    std::string repository;  // owner/name
    std::string ref;         // full ref, refs/heads/main
    std::string commit;      // empty = branch head at checkout time (manual trigger)
    std::size_t rule = 0;    // index into the repository's rules
    std::string image;       // image repository without tag, docker.io/acme/web
    std::vector<std::string> tags;
    std::string clone_url;
    std::string dockerfile;
    std::string context;
    std::map<std::string, std::string> build_args;
    std::string source_type;  // branch | tag
    std::string source_name;  // main, v1.2.3
    std::string head_commit_message;
    std::string pusher;
    // The push rewrote history (the payload's `forced`): a deliberate rollback, so the build is never
    // superseded for building an ancestor of a commit already built.
    bool forced = false;
    // The tags that sanitising changed (sanitize_tag dropped or replaced characters): they may collide with
    // a tag another ref owns, which the push checks before overwriting it.
    std::vector<std::string> sanitized_tags;
    // Why the build runs (the build JSON's `trigger`): push | pull_request | trigger_url | api | retry |
    // base_image | link, and a sentence for people ("push of refs/heads/main by alice", "retry of #12").
    std::string trigger_type = "push";
    std::string trigger_reason;
    // A pull request's build: its number (0 = not one), whether its head repository is a fork, and whether
    // it pushes at all (only the repository's own, with pull_requests.push_tag).
    std::int64_t pull_request = 0;
    bool pull_request_external = false;
    bool push = true;
    // May re-tag the image of a succeeded build with the same identity instead of building (the trigger or
    // API body's "reuse": false, `hookyard build --no-reuse` clear it; pipeline/reuse.hpp).
    bool reuse = true;
};

struct Build : NewBuild {
    BuildId id = 0;
    BuildState state = BuildState::queued;
    std::string digest;
    std::string error;
    std::string delivery;  // X-GitHub-Delivery that queued it; empty for triggers and retries
    TimeMs created_at = 0;
    TimeMs started_at = 0;
    TimeMs finished_at = 0;
    std::vector<Stage> stages;  // in the order they ran
    BuildId superseded_by = 0;
    BuildId retry_of = 0;
    int attempts = 0;  // how often crash recovery re-queued it
    // How many consecutive crash recoveries found it running (one that found it not running resets it).
    int crash_streak = 0;
    // Images already pushed for it, reference → manifest digest (Store::record_pushed).
    std::map<std::string, std::string> pushed;
    bool cancel_requested = false;
    std::int64_t log_size = 0;
    // Build reuse (Store::record_identity): what the build is made of, as one hash ("" until computed),
    // the base images it resolved (FROM reference → manifest digest), and the build whose image it
    // re-tagged instead of building (0 = it built).
    std::string identity;
    std::map<std::string, std::string> base_images;
    BuildId reused_from = 0;
    // The cluster.instance_id of the instance that claimed it last (runs or ran it); empty before a claim.
    std::string instance;
};

// One accepted webhook delivery.
struct Delivery {
    std::string id;     // X-GitHub-Delivery
    std::string event;  // push, ping, …
    std::string repository;
    TimeMs received_at = 0;
};

struct AcceptOutcome {
    bool duplicate = false;          // the delivery id was already stored; nothing new was written
    std::vector<BuildId> build_ids;  // the builds of this delivery (the stored ones when duplicate)
};

struct BuildFilter {
    std::optional<std::string> repository;
    std::optional<BuildState> state;
    int limit = 50;                   // clamped to 1..500
    BuildId before_id = 0;            // > 0: only builds with a smaller id (paging, newest first)
    std::optional<std::size_t> rule;  // only builds of this rule index (meaningful with `repository`)
    std::optional<std::string> ref;   // only builds of exactly this ref ("refs/heads/main")
};

struct LogChunk {
    std::string data;
    std::int64_t next_offset = 0;  // pass back to read the rest
    bool complete = false;         // the build is terminal and data reached the end of the log
};

struct StoreStats {
    std::map<BuildState, std::int64_t> builds_by_state;
    std::int64_t deliveries = 0;
};

// Current wall-clock time in ms since the epoch.
TimeMs now_ms();
// RFC 3339 UTC with milliseconds, "2026-11-23T17:35:16.123Z"; "" for 0.
std::string format_rfc3339(TimeMs t);

}  // namespace hookyard::storage
