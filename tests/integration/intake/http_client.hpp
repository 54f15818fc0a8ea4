#pragma once
// The intake tests' HTTP client is the shared one in tests/support (kept here so their includes still work).
#include "tests/support/http_test_client.hpp"
