// splice.h: generated blocks inside a hand-written Markdown file (EXPERIMENTS.md).
//
//   prose, written by people ...
//   <!-- BEGIN GENERATED: compare -->
//   content, written only by churn-report from evidence/ files
//   <!-- END GENERATED: compare -->
//   more prose ...
//
// Markers are whole lines. Everything outside blocks is kept byte for byte (including a missing final
// newline and CRLF line ends), so regenerating never rewrites someone's prose. A block's content is
// everything between the BEGIN line's newline and the start of the END line.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace churn::report {

struct Block {
    std::string name;
    size_t content_begin = 0;  // offset just after the BEGIN line
    size_t content_end = 0;    // offset of the END line's first byte
};

// The blocks of `text`, in order. Throws ReportError (naming the line) for an END without BEGIN, a
// BEGIN inside a block, mismatched names, or a block that never ends.
std::vector<Block> find_blocks(const std::string& text);

// What a block should contain, by name. Throws ReportError for a name it does not know.
using BlockGenerator = std::function<std::string(const std::string& name)>;

// `text` with every block's content replaced by generate(name).
std::string splice_blocks(const std::string& text, const BlockGenerator& generate);

// The name of the first block whose content differs from generate(name); nullopt if all match.
std::optional<std::string> first_stale_block(const std::string& text, const BlockGenerator& generate);

}  // namespace churn::report
