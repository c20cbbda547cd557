#include "domain/profile_service.h"

#include <memory>

#include "domain/validation.h"
#include "service/sha256.h"

namespace ficus::writer {
namespace {

Error ContractError(Error e) {
  switch (e.code) {
    case ErrorCode::kUnavailable:
      return Error(e.code, std::string(msg::kOverloaded));
    case ErrorCode::kNotFound:
      return Error(e.code, std::string(msg::kNoProfile));
    default:
      if (e.message.rfind("storage: ", 0) != 0) e.message = "storage: " + e.message;
      return Error(ErrorCode::kInternal, std::move(e.message));
  }
}

}  // namespace

void ProfileService::Update(UpdateCommand command, UpdateDone done) {
  ApplyRequest request;
  request.update = std::move(command.update);
  if (request.update.ts_us == 0) request.update.ts_us = UnixMicros(clock_.Wall());
  if (!command.idempotency_key) {
    store_.Apply(std::move(request), [done = std::move(done)](Result<Profile> r) {
      done(r ? std::move(r) : tl::unexpected(ContractError(std::move(r.error()))));
    });
    return;
  }

  const std::string& key = *command.idempotency_key;
  // Claim first, then look for a stored record: two concurrent first
  // requests can never both pass.
  std::string scope(reinterpret_cast<const char*>(request.update.user.data()), 16);
  scope += key;
  if (!in_flight_.TryClaim(scope)) {
    done(MakeError(ErrorCode::kConflict, std::string(msg::kIdemInProgress)));
    return;
  }
  Fingerprint fp = Sha256(command.raw_body);
  std::int64_t now = UnixMicros(clock_.Wall());
  auto existing = store_.GetIdempotency(request.update.user, key);
  if (!existing) {
    in_flight_.Release(scope);
    done(tl::unexpected(ContractError(std::move(existing.error()))));
    return;
  }
  const IdempotencyRecord* rec = existing->has_value() ? &**existing : nullptr;
  switch (Decide(rec, fp, now)) {
    case IdempotencyDecision::kReplay: {
      Profile p = rec->profile;
      in_flight_.Release(scope);
      done(std::move(p));
      return;
    }
    case IdempotencyDecision::kMismatch:
      in_flight_.Release(scope);
      done(MakeError(ErrorCode::kPreconditionFailed, std::string(msg::kIdemMismatch)));
      return;
    case IdempotencyDecision::kProceed:
      break;
  }
  request.idempotency = IdempotencyWrite{key, fp, now};
  store_.Apply(std::move(request),
               [this, scope = std::move(scope), done = std::move(done)](Result<Profile> r) {
                 in_flight_.Release(scope);
                 done(r ? std::move(r) : tl::unexpected(ContractError(std::move(r.error()))));
               });
}

void ProfileService::Import(std::vector<ImportRecord> records, bool atomic_user, ImportDone done) {
  if (atomic_user) WithholdUsersWithRejections(records);
  std::vector<Status> statuses(records.size());
  std::vector<ProfileUpdate> valid;
  std::vector<std::size_t> where;  // valid[k] is record where[k]
  valid.reserve(records.size());
  where.reserve(records.size());
  for (std::size_t i = 0; i < records.size(); ++i) {
    if (records[i].update) {
      where.push_back(i);
      valid.push_back(std::move(*records[i].update));
    } else {
      statuses[i] = tl::unexpected(std::move(records[i].update.error()));
    }
  }
  if (valid.empty()) {
    done(std::move(statuses));
    return;
  }
  store_.ApplyBatch(std::move(valid),
                    [statuses = std::move(statuses), where = std::move(where),
                     done = std::move(done)](Result<std::vector<Status>> r) mutable {
                      if (!r) {
                        done(tl::unexpected(ContractError(std::move(r.error()))));
                        return;
                      }
                      for (std::size_t k = 0; k < where.size() && k < r->size(); ++k) {
                        Status& s = (*r)[k];
                        if (!s)
                          statuses[where[k]] = tl::unexpected(ContractError(std::move(s.error())));
                      }
                      done(std::move(statuses));
                    });
}

Result<Profile> ProfileService::Get(const Uuid& user) {
  auto p = store_.Get(user);
  if (!p) return tl::unexpected(ContractError(std::move(p.error())));
  return p;
}

}  // namespace ficus::writer
