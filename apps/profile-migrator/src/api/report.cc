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
      "  written            {} ({} updates acknowledged in {} requests, {})\n"
      "  empty (no keys)    {}\n"
      "  failed             {}{}\n"
      "  state              {}\n",
      s.legacy_profiles, s.resumed_from, s.processed, s.seconds, rate, s.written, s.updates_sent,
      s.requests, s.bulk ? "bulk import" : "per-update API", s.empty, s.failed,
      s.failed > 0 ? "  (see " + failures_path + ")" : "",
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
      "               also {} with only updated_at differing, {} non-canonical legacy ids\n"
      "  live attributes    legacy {}, new store {}\n"
      "  reads              {}\n"
      "  errors             {}\n",
      s.legacy_profiles, s.checked, s.seconds, rate, s.matched, s.settled_on_reread, s.mismatched,
      s.missing_in_modern, s.missing_in_legacy, s.attribute_mismatches, s.updated_at_mismatches,
      s.non_canonical, s.legacy_attributes, s.modern_attributes,
      s.bulk ? "bulk read" : "per-user GET", s.errors);
  if (repair)
    out += fmt::format("  repaired           {} (failed {})\n", s.repaired, s.repair_failed);
  if (s.mismatched > 0) out += "  details            " + mismatches_path + "\n";
  if (s.interrupted) out += "  state              interrupted\n";
  // The result line and the exit code are one decision (VerifyExitCode).
  std::string result = "MISMATCH";
  if (VerifyExitCode(s, repair) == kExitOk && !s.interrupted) {
    result =
        s.mismatched == 0 ? "PARITY" : fmt::format("PARITY after repair ({} repaired)", s.repaired);
  } else if (s.interrupted) {
    result = "INTERRUPTED";
  }
  out += "  result             " + result + "\n";
  return out;
}

int VerifyExitCode(const VerifySummary& s, bool repair) {
  if (s.interrupted) return kExitInterrupted;
  if (s.errors > 0) return kExitFindings;
  if (s.mismatched == 0) return kExitOk;
  if (repair && s.repair_failed == 0 && s.repaired == s.mismatched) return kExitOk;
  return kExitFindings;
}

std::string FormatCheckSummary(const CheckSummary& s, const std::string& findings_path) {
  std::string out = fmt::format(
      "check summary\n"
      "  legacy profiles    {}\n"
      "  scanned            {} in {:.1f} s\n"
      "  blocked users      {}  (backfill refuses them: never migrated)\n"
      "  orphan users       {}  (attribute rows without a profiles row)\n"
      "  warnings           {}\n",
      s.legacy_profiles, s.scanned, s.seconds, s.blocked_users, s.orphan_users, s.warnings);
  for (const auto& [kind, n] : s.by_kind) out += fmt::format("  {:<18} {}\n", kind, n);
  if (!s.by_kind.empty()) out += "  details            " + findings_path + "\n";
  out += std::string("  result             ") +
         (s.interrupted ? "INTERRUPTED"
          : s.clean()   ? "CLEAN"
                        : "FINDINGS") +
         "\n";
  return out;
}

int CheckExitCode(const CheckSummary& s) {
  if (s.interrupted) return kExitInterrupted;
  return s.clean() ? kExitOk : kExitFindings;
}

}  // namespace ficus::migrator
