#pragma once

// Listener addresses, as the server's --listen and --mongodb-listen take them.

#include <string_view>

namespace micromongo {

// "unix:/path" and "unix-abstract:name" listeners.
bool IsUnixAddress(std::string_view listen);

// A TCP listener bound to a loopback address: 127.0.0.0/8, ::1, or "localhost".
// Wildcards (0.0.0.0, [::], an empty host) and every other name are not.
bool IsLoopbackAddress(std::string_view listen);

}  // namespace micromongo
