// Human-readable summaries and exit codes of the three commands.
//
// Exit codes: 0 success; 1 verify found mismatches (or repairs failed),
// backfill had permanent per-user failures, or check found blocking rows
// (a summary that says MISMATCH never exits 0); 2 usage error; 3 fatal error
// (a store unreachable, bad checkpoint); 130 interrupted (Ctrl-C/SIGTERM,
// checkpoint saved).
#pragma once

#include <string>

#include "domain/backfill.h"
#include "domain/check.h"
#include "domain/verify.h"

namespace ficus::migrator {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFindings = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitFatal = 3;
inline constexpr int kExitInterrupted = 130;

std::string FormatBackfillSummary(const BackfillSummary& s, const std::string& failures_path);
int BackfillExitCode(const BackfillSummary& s);

std::string FormatVerifySummary(const VerifySummary& s, bool repair,
                                const std::string& mismatches_path);
int VerifyExitCode(const VerifySummary& s, bool repair);

std::string FormatCheckSummary(const CheckSummary& s, const std::string& findings_path);
int CheckExitCode(const CheckSummary& s);

}  // namespace ficus::migrator
