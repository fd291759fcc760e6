// Safetensors checkpoints: one file or shards listed by model.safetensors.index.json; memory-mapped, zero-copy.
// Every malformed input (truncated file, header length beyond the file, bad header JSON, offsets out of range,
// unknown dtype, missing tensor, wrong shape or dtype) is an error naming the file and the tensor.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/mmap_file.h"
#include "core/status.h"
#include "ops/ops.h"

namespace fathom {

struct TensorInfo {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  const uint8_t* data = nullptr;  // points into the mapped file
  size_t n_bytes = 0;
  std::string file;               // the shard that holds it
  int64_t numel() const;
};

std::string shape_str(const std::vector<int64_t>& shape);

// One .safetensors file.
class SafetensorsFile {
 public:
  static Expected<SafetensorsFile> open(const std::string& path);
  const std::map<std::string, TensorInfo>& tensors() const { return tensors_; }
  const std::string& path() const { return file_->path(); }
  const MappedFile& mapping() const { return *file_; }

 private:
  std::shared_ptr<MappedFile> file_;
  std::map<std::string, TensorInfo> tensors_;
};

// All tensors of a model folder (model.safetensors, or the shards of model.safetensors.index.json).
class Checkpoint {
 public:
  static Expected<Checkpoint> open(const std::string& dir);

  bool has(const std::string& name) const { return tensors_.count(name) > 0; }
  // The tensor, checked against the expected shape; errors name the file and tensor.
  Expected<TensorInfo> get(const std::string& name, const std::vector<int64_t>& shape) const;
  const std::map<std::string, TensorInfo>& tensors() const { return tensors_; }
  const std::string& source() const { return source_; }  // index file or single file, for messages
  // Releases the mapped pages read so far in every file (see MappedFile::release_resident).
  void release_resident() const;

 private:
  std::vector<SafetensorsFile> files_;
  std::map<std::string, TensorInfo> tensors_;
  std::string source_;
};

// Writing (used by `fathom model create`): tensors are laid out in name order; header keys sorted.
struct TensorData {
  DType dtype;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;
};
Status write_safetensors(const std::string& path, const std::map<std::string, TensorData>& tensors);
// Splits into shards of at most max_shard_bytes (by name order) and writes the index when there is more than one.
Status write_checkpoint(const std::string& dir, const std::map<std::string, TensorData>& tensors,
                        int64_t max_shard_bytes);

}  // namespace fathom
