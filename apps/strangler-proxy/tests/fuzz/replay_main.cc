// Replay driver for the request-path fuzz target, for compilers without
// libFuzzer (g++ builds, i.e. `make test`):
//
//   ficus_proxy_fuzz_replay [--mutations N] [--seed S] FILE_OR_DIR...
//
// Runs LLVMFuzzerTestOneInput on every file given (directories: every file
// in them, sorted), then on N deterministic mutations of those inputs
// (byte flips, inserts, deletes, splices of two inputs, CR/LF/SP/digit
// tokens that matter to HTTP framing). Same seed, same inputs, same run:
// a failure is reproducible with the printed iteration. Exit 0 when no
// invariant aborted.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

void Run(const std::string& s) {
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

std::string Mutate(const std::vector<std::string>& corpus, std::mt19937_64& rng) {
  static const char* kTokens[] = {"\r\n",
                                  "\n",
                                  "\r",
                                  " ",
                                  "\t",
                                  ":",
                                  "0",
                                  "-1",
                                  "ffff",
                                  ";ext=1",
                                  "chunked",
                                  "Content-Length: ",
                                  "Transfer-Encoding: ",
                                  "\r\n\r\n",
                                  "%",
                                  "&user_id=",
                                  "\"user_id\":\"",
                                  "HTTP/1.0",
                                  "\x00",
                                  "\x7f",
                                  "9999999999999999999"};
  std::string s = corpus[rng() % corpus.size()];
  const int ops = 1 + static_cast<int>(rng() % 4);
  for (int i = 0; i < ops; ++i) {
    const std::size_t pos = s.empty() ? 0 : rng() % (s.size() + 1);
    switch (rng() % 6) {
      case 0:  // flip a byte
        if (!s.empty()) {
          char& c = s[std::min(pos, s.size() - 1)];
          c = static_cast<char>(static_cast<unsigned char>(c) ^ (1u << (rng() % 8)));
        }
        break;
      case 1:  // delete a run
        if (!s.empty()) s.erase(std::min(pos, s.size() - 1), 1 + rng() % 8);
        break;
      case 2: {  // insert a framing token
        const std::string tok = kTokens[rng() % std::size(kTokens)];
        s.insert(pos, tok.empty() ? std::string(1, '\0') : tok);
        break;
      }
      case 3:  // random byte
        s.insert(pos, 1, static_cast<char>(rng() & 0xff));
        break;
      case 4: {  // splice with another input
        const auto& o = corpus[rng() % corpus.size()];
        const std::size_t from = o.empty() ? 0 : rng() % o.size();
        s = s.substr(0, pos) + o.substr(from);
        break;
      }
      default:  // duplicate a run (repeated headers, repeated chunks)
        if (!s.empty()) {
          const std::size_t p = std::min(pos, s.size() - 1);
          s.insert(p, s.substr(p, 1 + rng() % 40));
        }
    }
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  long mutations = 0;
  uint64_t seed = 1;
  std::vector<std::filesystem::path> files;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--mutations" && i + 1 < argc) {
      mutations = std::atol(argv[++i]);
    } else if (a == "--seed" && i + 1 < argc) {
      seed = std::strtoull(argv[++i], nullptr, 10);
    } else if (std::filesystem::is_directory(a)) {
      std::vector<std::filesystem::path> in_dir;
      for (const auto& e : std::filesystem::directory_iterator(a)) {
        if (e.is_regular_file()) in_dir.push_back(e.path());
      }
      std::sort(in_dir.begin(), in_dir.end());
      files.insert(files.end(), in_dir.begin(), in_dir.end());
    } else {
      files.emplace_back(a);
    }
  }
  std::vector<std::string> corpus;
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "cannot read %s\n", f.c_str());
      return 2;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    corpus.push_back(ss.str());
  }
  if (corpus.empty()) {
    std::fprintf(stderr, "usage: %s [--mutations N] [--seed S] FILE_OR_DIR...\n", argv[0]);
    return 2;
  }
  for (const auto& s : corpus) Run(s);
  std::mt19937_64 rng(seed);
  for (long i = 0; i < mutations; ++i) Run(Mutate(corpus, rng));
  std::printf("replayed %zu corpus inputs and %ld mutations (seed %llu): no invariant violated\n",
              corpus.size(), mutations, static_cast<unsigned long long>(seed));
  return 0;
}
