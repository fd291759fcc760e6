// Small whole-file helpers with errors that name the file.
#pragma once
#include <string>

#include "core/status.h"

namespace fathom {

Expected<std::string> read_text_file(const std::string& path);
Status write_text_file(const std::string& path, const std::string& text);

}  // namespace fathom
