#pragma once
// Errors as values at I/O boundaries: a small error kind plus a message a user can act on.

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace hookyard::util {

enum class ErrorKind {
    invalid_input,  // the caller's data is wrong; retrying will not help
    auth,           // credentials missing or refused
    not_found,      // the named thing does not exist
    conflict,       // the operation clashes with current state (already finished, duplicate)
    transient,      // network/server trouble; worth retrying with backoff
    timeout,        // a deadline passed
    canceled,       // someone asked us to stop
    internal,       // a bug or an unexpected library failure
};

std::string_view to_string(ErrorKind kind);

// True for the kinds a caller should retry with backoff.
inline bool is_retryable(ErrorKind kind) { return kind == ErrorKind::transient || kind == ErrorKind::timeout; }

struct Error {
    ErrorKind kind = ErrorKind::internal;
    std::string message;
};

inline Error make_error(ErrorKind kind, std::string message) { return Error{kind, std::move(message)}; }

// Result<T>: either a T or an Error. Accessing the wrong alternative is a programming error (asserted).
template <class T>
class [[nodiscard]] Result {
public:
    Result(T value) : m_v(std::in_place_index<0>, std::move(value)) {}
    Result(Error error) : m_v(std::in_place_index<1>, std::move(error)) {}

    bool ok() const { return m_v.index() == 0; }
    explicit operator bool() const { return ok(); }

    T& value() & {
        assert(ok());
        return std::get<0>(m_v);
    }
    const T& value() const& {
        assert(ok());
        return std::get<0>(m_v);
    }
    T&& value() && {
        assert(ok());
        return std::get<0>(std::move(m_v));
    }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    const Error& error() const {
        assert(!ok());
        return std::get<1>(m_v);
    }

private:
    std::variant<T, Error> m_v;
};

// Result<void>: success or an Error.
template <>
class [[nodiscard]] Result<void> {
public:
    Result() = default;
    Result(Error error) : m_error(std::move(error)), m_ok(false) {}

    bool ok() const { return m_ok; }
    explicit operator bool() const { return m_ok; }
    const Error& error() const {
        assert(!m_ok);
        return m_error;
    }

private:
    Error m_error;
    bool m_ok = true;
};

using Status = Result<void>;

}  // namespace hookyard::util
