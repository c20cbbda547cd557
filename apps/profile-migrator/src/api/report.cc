#include "api/report.h"

#include <fmt/format.h>

namespace ficus::migrator {

std::string FormatBackfillSummary(const BackfillSummary& s, const std::string& failures_path) {
  const double rate = s.seconds > 0 ? double(s.processed) / s.seconds : 0;
  std::string out = fmt::format(
      "backfill summary\n"
      "  legacy profiles    {}\n"
      "  resumed from       {}\n"
      "  processed (run)    {} in {:.1f} s ({:.0f} profiles/s)\n"
      "  written            {} ({} updates acknowledged)\n"
      "  empty (no keys)    {}\n"
      "  failed             {}{}\n"
      "  state              {}\n",
      s.legacy_profiles, s.resumed_from, s.processed, s.seconds, rate, s.written, s.updates_sent,
      s.empty, s.failed, s.failed > 0 ? "  (see " + failures_path + ")" : "",
      s.complete ? "complete"
                 : (s.interrupted ? "interrupted (resume to continue)"
                                  : "incomplete (resume to continue)"));
  return out;
}

int BackfillExitCode(const BackfillSummary& s) {
  if (s.interrupted && !s.complete) return kExitInterrupted;
  if (s.failed > 0) return kExitFindings;
  if (!s.complete) return kExitFatal;
  return kExitOk;
}

std::string FormatVerifySummary(const VerifySummary& s, bool repair,
                                const std::string& mismatches_path) {
  const double rate = s.seconds > 0 ? double(s.checked) / s.seconds : 0;
  std::string out = fmt::format(
      "verify summary\n"
      "  legacy profiles    {}\n"
      "  checked            {} in {:.1f} s ({:.0f} users/s)\n"
      "  matched            {} ({} only after a re-read)\n"
      "  mismatched         {}  (missing in new store {}, missing in legacy {}, attributes {})\n"
      "  live attributes    legacy {}, new store {}\n"
      "  errors             {}\n",
      s.legacy_profiles, s.checked, s.seconds, rate, s.matched, s.settled_on_reread, s.mismatched,
      s.missing_in_modern, s.missing_in_legacy, s.attribute_mismatches, s.legacy_attributes,
      s.modern_attributes, s.errors);
  if (repair)
    out += fmt::format("  repaired           {} (failed {})\n", s.repaired, s.repair_failed);
  if (s.mismatched > 0) out += "  details            " + mismatches_path + "\n";
  if (s.interrupted) out += "  state              interrupted\n";
  out += std::string("  result             ") +
         (s.mismatched == 0 && s.errors == 0 ? "PARITY" : "MISMATCH") + "\n";
  return out;
}

int VerifyExitCode(const VerifySummary& s, bool repair) {
  if (s.interrupted) return kExitInterrupted;
  if (s.errors > 0) return kExitFindings;
  if (s.mismatched == 0) return kExitOk;
  if (repair && s.repair_failed == 0 && s.repaired == s.mismatched) return kExitOk;
  return kExitFindings;
}

}  // namespace ficus::migrator
