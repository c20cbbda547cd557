// Internal: base64 and the JSON shapes of etcd's gateway (int64 as strings,
// bytes as base64, proto3 defaults omitted).
#pragma once

#include <boost/json.hpp>
#include <string>
#include <string_view>

#include "ficus/etcd/client.h"

namespace ficus::etcd::codec {

std::string Base64Encode(std::string_view in);
// kInternal naming `what` when `in` is not base64.
Result<std::string> Base64Decode(std::string_view in, std::string_view what);

// An int64 field: string or number; absent = 0.
int64_t Int(const boost::json::object& o, std::string_view key);
// A bytes field (base64); absent = "".
Result<std::string> Bytes(const boost::json::object& o, std::string_view key);
Result<KeyValue> ParseKv(const boost::json::object& o);
// The header revision of an answer.
int64_t HeaderRevision(const boost::json::object& o);

}  // namespace ficus::etcd::codec
