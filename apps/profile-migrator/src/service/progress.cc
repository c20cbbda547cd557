#include "service/progress.h"

#include <fmt/format.h>

#include <cmath>

namespace ficus::migrator {

std::string FormatDuration(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  const auto t = static_cast<std::int64_t>(std::llround(s));
  if (t < 60) return fmt::format("{}s", t);
  if (t < 3600) return fmt::format("{}:{:02}", t / 60, t % 60);
  return fmt::format("{}:{:02}:{:02}", t / 3600, t / 60 % 60, t % 60);
}

namespace {
double Eta(const ProgressSnapshot& s) {
  if (s.total <= 0 || s.rate <= 0) return -1;
  return s.done >= s.total ? 0 : double(s.total - s.done) / s.rate;
}
}  // namespace

std::string FormatBarLine(const std::string& label, const ProgressSnapshot& s, int width) {
  const double frac = s.total > 0 ? std::min(1.0, double(s.done) / double(s.total)) : 0;
  const int filled = static_cast<int>(frac * width);
  std::string bar(static_cast<std::size_t>(filled), '#');
  bar.append(static_cast<std::size_t>(width - filled), '.');
  return fmt::format("{} [{}] {:5.1f}% {}/{} {:.0f}/s ETA {} errors {}", label, bar, frac * 100,
                     s.done, s.total > 0 ? std::to_string(s.total) : "?", s.rate,
                     FormatDuration(Eta(s)), s.errors);
}

std::string FormatPlainLine(const std::string& label, const std::string& unit,
                            const ProgressSnapshot& s) {
  const std::string pct =
      s.total > 0 ? fmt::format(" ({:.1f}%)", 100.0 * double(s.done) / double(s.total)) : "";
  return fmt::format("{}: {}/{}{} {} {:.0f} {}/s elapsed {} ETA {} errors {}", label, s.done,
                     s.total > 0 ? std::to_string(s.total) : "?", pct, unit, s.rate, unit,
                     FormatDuration(double(s.elapsed_us) / 1e6), FormatDuration(Eta(s)), s.errors);
}

Progress::Progress(Clock& clock, std::FILE* out, bool tty, std::string label, std::string unit,
                   std::int64_t interval_us)
    : clock_(clock),
      out_(out),
      tty_(tty),
      label_(std::move(label)),
      unit_(std::move(unit)),
      interval_(interval_us),
      start_(clock.Mono()),
      last_render_(start_) {
  window_.emplace_back(start_, 0);
}

void Progress::Resume(std::int64_t done) {
  done_.store(done);
  window_.clear();
  window_.emplace_back(clock_.Mono(), done);
}

ProgressSnapshot Progress::Snapshot() {
  const MonoTime now = clock_.Mono();
  ProgressSnapshot s;
  s.done = done_.load();
  s.total = total_.load();
  s.errors = errors_.load();
  s.elapsed_us = (now - start_).count();
  window_.emplace_back(now, s.done);
  // Keep about ten seconds of samples for the rate.
  while (window_.size() > 2 && now - window_[1].first >= std::chrono::seconds(10))
    window_.pop_front();
  const auto& [t0, d0] = window_.front();
  if (now > t0) s.rate = double(s.done - d0) / Seconds(now - t0);
  return s;
}

void Progress::Tick() {
  const MonoTime now = clock_.Mono();
  if (now - last_render_ < interval_) return;
  last_render_ = now;
  Render(Snapshot());
}

void Progress::Finish() {
  ProgressSnapshot s = Snapshot();
  // Final figure: the whole run's average rate.
  if (s.elapsed_us > 0) s.rate = double(s.done) * 1e6 / double(s.elapsed_us);
  Render(s);
  if (tty_ && out_) std::fputc('\n', out_);
  if (out_) std::fflush(out_);
}

void Progress::Render(const ProgressSnapshot& s) {
  if (!out_) return;
  if (tty_) {
    std::fprintf(out_, "\r\033[K%s", FormatBarLine(label_, s).c_str());
  } else {
    std::fprintf(out_, "%s\n", FormatPlainLine(label_, unit_, s).c_str());
  }
  std::fflush(out_);
}

}  // namespace ficus::migrator
