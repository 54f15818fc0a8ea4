// The compiled (non-template) code of Boost.Asio, its SSL support and Beast, once for the whole program:
// every target compiles with BOOST_ASIO_SEPARATE_COMPILATION and BOOST_BEAST_SEPARATE_COMPILATION
// (cmake/HookyardOptions.cmake), so a file that includes Asio or Beast declares that code but no longer
// compiles it. Only Beast's core and HTTP parts: boost/beast/src.hpp would also compile WebSocket, zlib and
// Beast's test stream, which nothing here uses (a link error naming one of them means it is used now: add
// its .ipp files from boost/beast/src.hpp).

#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>

#define BOOST_BEAST_SOURCE
#include <boost/beast/core/detail/base64.ipp>
#include <boost/beast/core/detail/config.hpp>
#include <boost/beast/core/detail/impl/temporary_buffer.ipp>
#include <boost/beast/core/detail/sha1.ipp>
#include <boost/beast/core/impl/error.ipp>
#include <boost/beast/core/impl/file_posix.ipp>
#include <boost/beast/core/impl/file_stdio.ipp>
#include <boost/beast/core/impl/file_win32.ipp>
#include <boost/beast/core/impl/flat_static_buffer.ipp>
#include <boost/beast/core/impl/saved_handler.ipp>
#include <boost/beast/core/impl/static_buffer.ipp>
#include <boost/beast/core/impl/string.ipp>
#include <boost/beast/http/detail/basic_parser.ipp>
#include <boost/beast/http/detail/rfc7230.ipp>
#include <boost/beast/http/impl/basic_parser.ipp>
#include <boost/beast/http/impl/error.ipp>
#include <boost/beast/http/impl/field.ipp>
#include <boost/beast/http/impl/fields.ipp>
#include <boost/beast/http/impl/rfc7230.ipp>
#include <boost/beast/http/impl/status.ipp>
#include <boost/beast/http/impl/verb.ipp>
