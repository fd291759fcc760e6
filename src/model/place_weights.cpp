#include "model/place_weights.h"

#include <cstring>
#include <string>
#include <vector>

namespace fathom {

namespace {

constexpr int64_t kAlign = 4096;  // each tensor starts on its own page

// Every view the forward pass reads, once each (views share no bytes except through the tied embedding, which is
// not listed).
std::vector<WeightView*> streamed_views(ModelWeights& w) {
  std::vector<WeightView*> v{&w.final_norm, &w.lm_head};
  auto mlp = [&v](MlpWeights& m) {
    for (WeightView* x : {&m.gate, &m.up, &m.down}) v.push_back(x);
  };
  for (LayerWeights& L : w.layers) {
    for (WeightView* x : {&L.input_norm, &L.post_attn_norm, &L.q_proj, &L.q_a_proj, &L.q_a_norm, &L.q_b_proj,
                          &L.kv_a_proj, &L.kv_a_norm, &L.kv_b_proj, &L.o_proj, &L.router, &L.router_bias})
      v.push_back(x);
    mlp(L.dense);
    mlp(L.shared);
    for (int64_t e = L.e0; e < L.e1 && e < static_cast<int64_t>(L.experts.size()); ++e) mlp(L.experts[e]);
  }
  std::erase_if(v, [](const WeightView* x) { return x->data == nullptr || x->rows * x->cols == 0; });
  return v;
}

int64_t view_bytes(const WeightView& x) { return x.rows * x.cols * dtype_size(x.dtype); }

// Views only matmul() reads with a bf16-rounded input (not the router, computed in f32, nor kv_b_proj, whose
// halves matmul_kn and the f32-input W_UV product read by row).
bool packable(const ModelWeights& w, const WeightView* x) {
  for (const LayerWeights& L : w.layers)
    if (x == &L.kv_b_proj || x == &L.router) return false;
  return panels_supported() && can_pack_panels(*x);
}

}  // namespace

Status place_weights_in_memory(ModelWeights& w, ThreadPool* pool, int64_t available_bytes) {
  std::vector<WeightView*> views = streamed_views(w);
  std::vector<int64_t> offset(views.size());
  int64_t total = 0;
  for (size_t i = 0; i < views.size(); ++i) {
    offset[i] = total;
    total += (view_bytes(*views[i]) + kAlign - 1) / kAlign * kAlign;
  }
  if (total == 0) return Status::ok();
  if (available_bytes >= 0 && total > available_bytes / 10 * 9)
    return Status::error("weights stay memory-mapped: copying them needs " + std::to_string(total >> 20) +
                         " MiB and " + std::to_string(available_bytes >> 20) + " MiB are available (--mmap-weights "
                         "says so up front)");
  auto buf = HugeBuffer::allocate(static_cast<size_t>(total));
  if (!buf) return Status::error("weights stay memory-mapped: " + buf.error());
  uint8_t* base = (*buf)->data();
  std::vector<WeightView> placed(views.size());
  std::vector<char> pack(views.size());
  for (size_t i = 0; i < views.size(); ++i) pack[i] = packable(w, views[i]);
  auto copy = [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      placed[i] = *views[i];
      placed[i].data = base + offset[i];
      if (pack[i]) placed[i] = pack_panels(*views[i], base + offset[i]);
      else std::memcpy(base + offset[i], views[i]->data, view_bytes(*views[i]));
    }
  };
  if (pool) pool->parallel_for(static_cast<int64_t>(views.size()), copy);
  else copy(0, static_cast<int64_t>(views.size()));
  for (size_t i = 0; i < views.size(); ++i) {
    *views[i] = placed[i];
    w.n_in_memory_bytes += view_bytes(*views[i]);
  }
  w.in_memory = std::move(*buf);
  // Copies made at load (TP column slices, a quantized lm_head) now live in the buffer too.
  w.owned_bytes.clear();
  w.checkpoint.release_resident();
  return Status::ok();
}

}  // namespace fathom
