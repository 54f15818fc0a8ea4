#pragma once
// What the API shows about the running service, behind a seam: the cli wiring implements it (today over
// the store), unit tests fake it. api/ never includes pipeline/.

#include <string>
#include <vector>

#include "storage/records.hpp"
#include "util/result.hpp"

namespace hookyard::api {

class PipelineStatus {
public:
    virtual ~PipelineStatus() = default;
    // OK while hookyard can take and record work; otherwise an error whose message the prober sees as is
    // ("storage unreachable: …"). Cheap: called on every health probe, from any thread.
    virtual util::Status health() = 0;
    // Builds by state (queue depth, running builds) and stored deliveries; an error when unreadable.
    virtual util::Result<storage::StoreStats> stats() = 0;
    // Why the service works in a degraded way while still taking work (low disk space: builds wait);
    // empty when it does not. Cheap, any thread.
    virtual std::vector<std::string> degraded() { return {}; }
};

}  // namespace hookyard::api
