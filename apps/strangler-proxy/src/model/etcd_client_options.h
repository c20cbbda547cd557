// The etcd client options of `control:` (endpoints, timeout, tls, auth):
// reads the files the config names (CA, client certificate and key, the
// auth password) once, at start.
//
// Errors: kInvalidArgument naming the config key and the file, e.g.
// "control.tls.ca_file /etc/ficus/ca.pem: no such file" or
// "control.auth.password_file ...: empty".
#pragma once

#include "domain/config.h"
#include "ficus/etcd/client.h"
#include "ficus/result.h"

namespace ficus::proxy {

Result<etcd::ClientOptions> EtcdClientOptionsFor(const Config::Control& control);

}  // namespace ficus::proxy
