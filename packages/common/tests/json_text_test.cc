// ficus/json_text.h against the reference it must match byte for byte:
// PHP's json_encode with JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE |
// JSON_UNESCAPED_LINE_TERMINATORS (the legacy app's envelope), run by the
// real `php` binary on the same strings.
#include "ficus/json_text.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

namespace ficus {
namespace {

TEST(JsonText, EscapesLikePhpUnescapedSlashesAndUnicode) {
  std::string out;
  AppendJsonString(out, "\xE6\x9D\x8E \"q\" \\ / \x01\b\f\n\r\t\x1f\x7f\xE2\x80\xA8");
  EXPECT_EQ(out, "\"\xE6\x9D\x8E \\\"q\\\" \\\\ / \\u0001\\b\\f\\n\\r\\t\\u001f\x7f\xE2\x80\xA8\"");
  std::string bare;
  AppendJsonEscaped(bare, "a\"b");
  EXPECT_EQ(bare, "a\\\"b");
}

std::string Hex(const std::string& s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string h;
  for (unsigned char c : s) {
    h.push_back(kHex[c >> 4]);
    h.push_back(kHex[c & 15]);
  }
  return h;
}

TEST(JsonText, SameBytesAsPhpJsonEncode) {
  std::vector<std::string> cases = {"",
                                    "plain",
                                    "slash/and\\back",
                                    "\"quoted\"",
                                    "\xE6\x9D\x8E\xE5\x9B\x9B",
                                    "\xE2\x80\xA8\xE2\x80\xA9",
                                    "emoji \xF0\x9F\x98\x80",
                                    "del\x7f"};
  std::string all_ascii;
  for (int c = 0; c < 0x80; ++c) all_ascii.push_back(static_cast<char>(c));
  cases.push_back(all_ascii);
  // One PHP run: each case hex-encoded on its own line, answered in order.
  std::string script =
      "foreach (file('php://stdin', FILE_IGNORE_NEW_LINES) as $h) { echo json_encode(hex2bin($h), "
      "JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_LINE_TERMINATORS), "
      "\"\\n\"; }";
  const std::string in = testing::TempDir() + "/json_text_cases.txt";
  {
    FILE* f = std::fopen(in.c_str(), "w");
    ASSERT_NE(f, nullptr);
    for (const auto& c : cases) std::fprintf(f, "%s\n", Hex(c).c_str());
    std::fclose(f);
  }
  const std::string cmd = "php -r \"" + [&] {
    std::string q;
    for (char c : script) {
      if (c == '"' || c == '\\' || c == '$') q.push_back('\\');
      q.push_back(c);
    }
    return q;
  }() + "\" < " + in;
  FILE* p = ::popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr) << "cannot run php (install-deps installs php-cli)";
  std::string php;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) php.append(buf, n);
  ASSERT_EQ(::pclose(p), 0) << "php failed: " << php;
  std::size_t pos = 0;
  for (const auto& c : cases) {
    const auto nl = php.find('\n', pos);
    ASSERT_NE(nl, std::string::npos) << "php answered fewer lines than cases";
    std::string ours;
    AppendJsonString(ours, c);
    EXPECT_EQ(ours, php.substr(pos, nl - pos)) << "case hex " << Hex(c);
    pos = nl + 1;
  }
}

}  // namespace
}  // namespace ficus
