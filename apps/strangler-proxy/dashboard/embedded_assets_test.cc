#include "dashboard/embedded_assets.h"

#include <gtest/gtest.h>

#include <string>

namespace ficus::proxy {
namespace {

TEST(EmbeddedAssets, ServesThePageAndUPlotOffline) {
  const EmbeddedAsset* index = FindEmbeddedAsset("index.html");
  ASSERT_NE(index, nullptr);
  EXPECT_EQ(index->content_type, "text/html; charset=utf-8");
  // The page references only embedded, relative assets: no CDN.
  for (const char* ref : {"uPlot.min.js", "uPlot.min.css", "app.js", "style.css"}) {
    EXPECT_NE(index->data.find(ref), std::string_view::npos) << ref;
    EXPECT_NE(FindEmbeddedAsset(ref), nullptr) << ref;
  }
  EXPECT_EQ(index->data.find("http://"), std::string_view::npos);
  EXPECT_EQ(index->data.find("https://"), std::string_view::npos);
  const EmbeddedAsset* uplot = FindEmbeddedAsset("/uPlot.min.js");
  ASSERT_NE(uplot, nullptr);
  EXPECT_GT(uplot->data.size(), 20000u);
  EXPECT_NE(uplot->data.find("uPlot"), std::string_view::npos);
  EXPECT_EQ(uplot->content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(FindEmbeddedAsset(""), index);
  EXPECT_EQ(FindEmbeddedAsset("nope.js"), nullptr);
  EXPECT_EQ(EmbeddedAssetCount(), 5u);
  EXPECT_EQ(uplot->etag.size(), 18u);  // "16 hex digits"
}

TEST(EmbeddedAssets, BytesAreExactIncludingNonAscii) {
  const EmbeddedAsset* app = FindEmbeddedAsset("app.js");
  ASSERT_NE(app, nullptr);
  // app.js contains UTF-8 (e.g. the ellipsis and dashes in messages).
  EXPECT_NE(app->data.find("\xe2\x80\x94"), std::string_view::npos);
  EXPECT_EQ(app->data.back(), '\n');
}

}  // namespace
}  // namespace ficus::proxy
