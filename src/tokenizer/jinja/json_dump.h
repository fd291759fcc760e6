// Python's json.dumps for template values, as HF's `tojson` filter calls it: ensure_ascii=False by default, key
// order kept, separators (", ", ": ") or (",", ": ") with an indent, floats as Python's repr, NaN/Infinity.
#pragma once
#include <string>

#include "tokenizer/jinja/value.h"

namespace fathom::jinja {

struct JsonDumpOptions {
  bool ensure_ascii = false;
  bool has_indent = false;
  std::string indent;  // the indent unit (an int indent n is n spaces)
  std::string item_separator = ", ";
  std::string key_separator = ": ";
  bool sort_keys = false;
};

// Throws TemplateError for values JSON cannot hold (undefined, namespace, function; bad keys).
std::string json_dumps(const Value& v, const JsonDumpOptions& options, int line);

}  // namespace fathom::jinja
