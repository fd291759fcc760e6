#include "model/place_weights.h"

#include <cstring>
#include <initializer_list>
#include <string>
#include <vector>

namespace fathom {

namespace {

constexpr int64_t kAlign = 4096;  // each tensor starts on its own page

struct Streamed {
  WeightView* view;
  bool matmul_only;  // read only by matmul() with a bf16-rounded input: may be stored in packed panels
};

// Every view the forward pass reads, once each (views share no bytes except through the tied embedding, which is
// not listed). Not matmul-only: norms and biases, the router (computed in f32) and kv_b_proj (whose halves
// matmul_kn and the f32-input W_UV product read).
std::vector<Streamed> streamed_views(ModelWeights& w) {
  std::vector<Streamed> v{{&w.final_norm, false}, {&w.lm_head, true}};
  auto add = [&v](std::initializer_list<WeightView*> xs, bool matmul_only) {
    for (WeightView* x : xs) v.push_back({x, matmul_only});
  };
  auto mlp = [&add](MlpWeights& m) { add({&m.gate, &m.up, &m.down}, true); };
  for (LayerWeights& L : w.layers) {
    add({&L.input_norm, &L.post_attn_norm, &L.q_a_norm, &L.kv_a_norm, &L.kv_b_proj, &L.router, &L.router_bias},
        false);
    add({&L.q_proj, &L.q_a_proj, &L.q_b_proj, &L.kv_a_proj, &L.o_proj}, true);
    mlp(L.dense);
    mlp(L.shared);
    for (int64_t e = L.e0; e < L.e1 && e < static_cast<int64_t>(L.experts.size()); ++e) mlp(L.experts[e]);
  }
  std::erase_if(v, [](const Streamed& s) { return s.view->data == nullptr || s.view->rows * s.view->cols == 0; });
  return v;
}

int64_t view_bytes(const WeightView& x) { return x.rows * x.cols * dtype_size(x.dtype); }

// How a view is stored in the buffer: as it is, in pair panels, or (bf16) in coded pair panels.
enum class Form { Copy, Panels, Coded };

}  // namespace

Status place_weights_in_memory(ModelWeights& w, ThreadPool* pool, int64_t available_bytes, bool code_bf16) {
  const std::vector<Streamed> views = streamed_views(w);
  const int64_t n = static_cast<int64_t>(views.size());
  const bool panels = panels_supported();
  std::vector<Form> form(n, Form::Copy);
  std::vector<int64_t> bytes(n), offset(n);
  auto size = [&](int64_t i0, int64_t i1) {  // coded sizes depend on the values: one read of each such view
    for (int64_t i = i0; i < i1; ++i) {
      const WeightView& v = *views[i].view;
      if (panels && views[i].matmul_only && can_pack_panels(v))
        form[i] = code_bf16 && v.dtype == DType::BF16 ? Form::Coded : Form::Panels;
      bytes[i] = form[i] == Form::Coded ? coded_panels_bytes(v) : view_bytes(v);
    }
  };
  if (pool) pool->parallel_for(n, size);
  else size(0, n);
  int64_t total = 0;
  for (int64_t i = 0; i < n; ++i) {
    offset[i] = total;
    total += (bytes[i] + kAlign - 1) / kAlign * kAlign;
  }
  if (total == 0) return Status::ok();
  if (available_bytes >= 0 && total > available_bytes / 10 * 9)
    return Status::error("weights stay memory-mapped: copying them needs " + std::to_string(total >> 20) +
                         " MiB and " + std::to_string(available_bytes >> 20) + " MiB are available (--mmap-weights "
                         "says so up front)");
  auto buf = HugeBuffer::allocate(static_cast<size_t>(total));
  if (!buf) return Status::error("weights stay memory-mapped: " + buf.error());
  uint8_t* base = (*buf)->data();
  auto copy = [&](int64_t i0, int64_t i1) {  // each view re-pointed at its copy (views are distinct)
    for (int64_t i = i0; i < i1; ++i) {
      WeightView& v = *views[i].view;
      if (form[i] == Form::Coded) {
        v = pack_coded_panels(v, base + offset[i]);
      } else if (form[i] == Form::Panels) {
        v = pack_panels(v, base + offset[i]);
      } else {
        std::memcpy(base + offset[i], v.data, view_bytes(v));
        v.data = base + offset[i];
      }
    }
  };
  if (pool) pool->parallel_for(n, copy);
  else copy(0, n);
  for (const Streamed& s : views) w.n_in_memory_bytes += view_bytes(*s.view);
  w.n_buffer_bytes = total;
  w.in_memory = std::move(*buf);
  // Copies made at load (TP column slices, a quantized lm_head) now live in the buffer too.
  w.owned_bytes.clear();
  w.checkpoint.release_resident();
  return Status::ok();
}

}  // namespace fathom
