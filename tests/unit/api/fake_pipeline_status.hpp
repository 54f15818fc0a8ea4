#pragma once
// An api::PipelineStatus whose answers a test sets.

#include "api/pipeline_status.hpp"

namespace hookyard::test {

class FakePipelineStatus final : public api::PipelineStatus {
public:
    util::Status health() override {
        if (healthy) return {};
        return util::make_error(util::ErrorKind::transient, "storage unreachable: disk on fire");
    }
    util::Result<storage::StoreStats> stats() override {
        if (!healthy) return util::make_error(util::ErrorKind::transient, "disk on fire");
        return counts;
    }

    std::vector<std::string> degraded() override { return reasons; }

    bool healthy = true;
    std::vector<std::string> reasons;
    storage::StoreStats counts;
};

}  // namespace hookyard::test
