#include "model/safetensors.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/file_io.h"

namespace fathom {

namespace fs = std::filesystem;
using json = nlohmann::json;

int64_t TensorInfo::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string shape_str(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

static bool parse_dtype(const std::string& s, DType* out) {
  if (s == "F32") *out = DType::F32;
  else if (s == "BF16") *out = DType::BF16;
  else if (s == "F16") *out = DType::F16;
  else if (s == "F8_E4M3") *out = DType::F8_E4M3;
  else return false;
  return true;
}

Expected<SafetensorsFile> SafetensorsFile::open(const std::string& path) {
  auto mapped = MappedFile::open(path);
  if (!mapped) return mapped.status();
  SafetensorsFile f;
  f.file_ = *mapped;
  const uint8_t* base = f.file_->data();
  const size_t size = f.file_->size();
  if (size < 8) return Status::error(path + ": truncated safetensors file (" + std::to_string(size) + " bytes, no header)");
  uint64_t header_len = 0;
  std::memcpy(&header_len, base, 8);
  if (header_len > size - 8)
    return Status::error(path + ": header length " + std::to_string(header_len) + " is beyond the end of the file (" +
                         std::to_string(size) + " bytes)");
  json header = json::parse(reinterpret_cast<const char*>(base + 8), reinterpret_cast<const char*>(base + 8 + header_len),
                            nullptr, false);
  if (header.is_discarded() || !header.is_object()) return Status::error(path + ": bad header JSON");
  const uint8_t* data = base + 8 + header_len;
  const uint64_t data_size = size - 8 - header_len;
  for (auto it = header.begin(); it != header.end(); ++it) {
    if (it.key() == "__metadata__") continue;
    const std::string& name = it.key();
    const json& e = it.value();
    auto bad = [&](const std::string& why) { return Status::error(path + ": tensor '" + name + "': " + why); };
    if (!e.is_object() || !e.contains("dtype") || !e.contains("shape") || !e.contains("data_offsets"))
      return bad("header entry needs dtype, shape and data_offsets");
    TensorInfo t;
    t.name = name;
    t.file = path;
    if (!e["dtype"].is_string() || !parse_dtype(e["dtype"].get<std::string>(), &t.dtype))
      return bad("unsupported dtype " + e["dtype"].dump() + " (supported: F32, BF16, F16, F8_E4M3)");
    if (!e["shape"].is_array()) return bad("shape must be a list");
    for (const auto& d : e["shape"]) {
      if (!d.is_number_integer() || d.get<int64_t>() < 0) return bad("shape entries must be non-negative integers");
      t.shape.push_back(d.get<int64_t>());
    }
    const json& off = e["data_offsets"];
    if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() || !off[1].is_number_unsigned())
      return bad("data_offsets must be [begin, end]");
    const uint64_t b = off[0].get<uint64_t>(), en = off[1].get<uint64_t>();
    if (b > en || en > data_size)
      return bad("data_offsets [" + std::to_string(b) + ", " + std::to_string(en) + "] out of range (data is " +
                 std::to_string(data_size) + " bytes)");
    // numel * size, guarding against overflow from absurd shapes
    unsigned __int128 want = dtype_size(t.dtype);
    for (int64_t d : t.shape) want *= static_cast<uint64_t>(d);
    if (want != en - b)
      return bad("data_offsets span " + std::to_string(en - b) + " bytes but shape " + shape_str(t.shape) + " of " +
                 dtype_name(t.dtype) + " needs " + std::to_string(static_cast<uint64_t>(want)));
    t.data = data + b;
    t.n_bytes = en - b;
    f.tensors_.emplace(name, std::move(t));
  }
  return f;
}

void Checkpoint::release_resident() const {
  for (const SafetensorsFile& f : files_) f.mapping().release_resident();
}

Expected<Checkpoint> Checkpoint::open(const std::string& dir) {
  Checkpoint c;
  const fs::path index = fs::path(dir) / "model.safetensors.index.json";
  const fs::path single = fs::path(dir) / "model.safetensors";
  std::error_code ec;
  std::vector<std::string> shards;
  if (fs::exists(index, ec)) {
    c.source_ = index.string();
    auto text = read_text_file(index.string());
    if (!text) return text.status();
    json j = json::parse(*text, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("weight_map") || !j["weight_map"].is_object())
      return Status::error(index.string() + ": bad index JSON (needs an object 'weight_map')");
    std::map<std::string, std::string> wanted;  // tensor → shard
    for (auto it = j["weight_map"].begin(); it != j["weight_map"].end(); ++it) {
      if (!it.value().is_string()) return Status::error(index.string() + ": weight_map['" + it.key() + "'] must be a file name");
      const std::string shard = it.value().get<std::string>();
      if (shard.find('/') != std::string::npos)
        return Status::error(index.string() + ": weight_map['" + it.key() + "'] names a file outside the folder");
      wanted[it.key()] = shard;
      if (std::find(shards.begin(), shards.end(), shard) == shards.end()) shards.push_back(shard);
    }
    for (const auto& s : shards) {
      auto f = SafetensorsFile::open((fs::path(dir) / s).string());
      if (!f) return f.status();
      c.files_.push_back(std::move(*f));
    }
    for (const auto& [name, shard] : wanted) {
      const std::string path = (fs::path(dir) / shard).string();
      const SafetensorsFile* file = nullptr;
      for (const auto& f : c.files_)
        if (f.path() == path) file = &f;
      auto it = file->tensors().find(name);
      if (it == file->tensors().end())
        return Status::error(path + ": tensor '" + name + "' listed in the index is missing from the file");
      c.tensors_[name] = it->second;
    }
  } else if (fs::exists(single, ec)) {
    c.source_ = single.string();
    auto f = SafetensorsFile::open(single.string());
    if (!f) return f.status();
    c.files_.push_back(std::move(*f));
    c.tensors_ = c.files_.back().tensors();
  } else {
    return Status::error(dir + ": no model.safetensors or model.safetensors.index.json");
  }
  return c;
}

Expected<TensorInfo> Checkpoint::get(const std::string& name, const std::vector<int64_t>& shape) const {
  auto it = tensors_.find(name);
  if (it == tensors_.end()) return Status::error(source_ + ": tensor '" + name + "' is missing");
  if (it->second.shape != shape)
    return Status::error(it->second.file + ": tensor '" + name + "' has shape " + shape_str(it->second.shape) +
                         ", expected " + shape_str(shape));
  return it->second;
}

static const char* dtype_tag(DType t) { return dtype_name(t); }

using TensorRefs = std::vector<std::pair<std::string, const TensorData*>>;

static Status write_file(const std::string& path, const TensorRefs& tensors) {
  json header = json::object();
  uint64_t off = 0;
  for (const auto& [name, tp] : tensors) {
    const TensorData& t = *tp;
    header[name] = {{"dtype", dtype_tag(t.dtype)}, {"shape", t.shape}, {"data_offsets", {off, off + t.bytes.size()}}};
    off += t.bytes.size();
  }
  std::string h = header.dump();
  while ((h.size() + 8) % 8) h.push_back(' ');  // keep tensor data 8-byte aligned
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return Status::error(path + ": cannot create");
  const uint64_t n = h.size();
  out.write(reinterpret_cast<const char*>(&n), 8);
  out.write(h.data(), static_cast<std::streamsize>(h.size()));
  for (const auto& [name, t] : tensors)
    out.write(reinterpret_cast<const char*>(t->bytes.data()), static_cast<std::streamsize>(t->bytes.size()));
  if (!out) return Status::error(path + ": write error");
  return Status::ok();
}

Status write_safetensors(const std::string& path, const std::map<std::string, TensorData>& tensors) {
  TensorRefs refs;
  for (const auto& [name, t] : tensors) refs.emplace_back(name, &t);
  return write_file(path, refs);
}

Status write_checkpoint(const std::string& dir, const std::map<std::string, TensorData>& tensors,
                        int64_t max_shard_bytes) {
  std::vector<TensorRefs> shards(1);
  int64_t cur = 0;
  for (const auto& [name, t] : tensors) {
    if (cur > 0 && cur + static_cast<int64_t>(t.bytes.size()) > max_shard_bytes) {
      shards.emplace_back();
      cur = 0;
    }
    shards.back().emplace_back(name, &t);
    cur += static_cast<int64_t>(t.bytes.size());
  }
  if (shards.size() == 1) return write_file((fs::path(dir) / "model.safetensors").string(), shards[0]);
  json index = {{"metadata", {{"total_size", 0}}}, {"weight_map", json::object()}};
  uint64_t total = 0;
  char fname[64];
  for (size_t i = 0; i < shards.size(); ++i) {
    std::snprintf(fname, sizeof fname, "model-%05zu-of-%06zu.safetensors", i + 1, shards.size());
    FATHOM_TRY(write_file((fs::path(dir) / fname).string(), shards[i]));
    for (const auto& [name, t] : shards[i]) {
      index["weight_map"][name] = fname;
      total += t->bytes.size();
    }
  }
  index["metadata"]["total_size"] = total;
  return write_text_file((fs::path(dir) / "model.safetensors.index.json").string(), index.dump(2));
}

}  // namespace fathom
