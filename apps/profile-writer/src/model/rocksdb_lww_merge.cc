#include "model/rocksdb_lww_merge.h"

#include <rocksdb/merge_operator.h>

#include "domain/merge.h"
#include "model/rocksdb_codec.h"

namespace ficus::writer {
namespace {

class ProfileLwwMergeOperator final : public rocksdb::AssociativeMergeOperator {
 public:
  bool Merge(const rocksdb::Slice&, const rocksdb::Slice* existing, const rocksdb::Slice& value,
             std::string* new_value, rocksdb::Logger*) const override {
    auto operand = DecodeProfile(std::string_view(value.data(), value.size()));
    if (!operand) return false;
    if (existing == nullptr) {
      new_value->assign(value.data(), value.size());
      return true;
    }
    auto base = DecodeProfile(std::string_view(existing->data(), existing->size()));
    if (!base) return false;
    MergeInto(*base, *operand);
    *new_value = EncodeProfile(*base);
    return true;
  }
  const char* Name() const override { return "ficus.ProfileLww.v1"; }
};

}  // namespace

std::shared_ptr<rocksdb::MergeOperator> NewProfileLwwMergeOperator() {
  return std::make_shared<ProfileLwwMergeOperator>();
}

}  // namespace ficus::writer
