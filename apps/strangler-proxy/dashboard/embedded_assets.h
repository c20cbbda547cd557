// Dashboard assets compiled into the proxy binary (generated at build time
// from apps/strangler-proxy/dashboard by embed_assets.cmake), so the admin
// listener serves a page that works offline, with no CDN.
//
// Contract: FindEmbeddedAsset("index.html" | "app.js" | "style.css" |
// "uPlot.min.js" | "uPlot.min.css") returns the asset, nullptr when unknown.
// A leading '/' is ignored and "" means "index.html". The data lives for the
// whole program; lookups are thread-safe (immutable table).
#pragma once

#include <cstddef>
#include <string_view>

namespace ficus::proxy {

struct EmbeddedAsset {
  std::string_view path;          // e.g. "app.js"
  std::string_view content_type;  // e.g. "text/javascript; charset=utf-8"
  std::string_view data;
  std::string_view etag;  // quoted strong ETag (SHA-1 of the content, truncated)
};

const EmbeddedAsset* FindEmbeddedAsset(std::string_view path);

// All assets, for listing and tests.
const EmbeddedAsset* EmbeddedAssetsBegin();
std::size_t EmbeddedAssetCount();

}  // namespace ficus::proxy
