// splice.cc: find and replace generated blocks; see splice.h.
#include "report/splice.h"

#include "report/results.h"

namespace churn::report {
namespace {

constexpr std::string_view kBegin = "<!-- BEGIN GENERATED: ";
constexpr std::string_view kEnd = "<!-- END GENERATED: ";
constexpr std::string_view kClose = " -->";

// If `line` is a marker with the given prefix, its block name; else nullopt. Trailing spaces and a CR
// are tolerated so that an editor's whitespace does not turn a marker into prose.
std::optional<std::string> marker_name(std::string_view line, std::string_view prefix) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    if (line.substr(0, prefix.size()) != prefix) return std::nullopt;
    if (line.size() < prefix.size() + kClose.size() || line.substr(line.size() - kClose.size()) != kClose)
        return std::nullopt;
    std::string name(line.substr(prefix.size(), line.size() - prefix.size() - kClose.size()));
    if (name.empty() || name.find(' ') != std::string::npos) return std::nullopt;
    return name;
}

}  // namespace

std::vector<Block> find_blocks(const std::string& text) {
    std::vector<Block> blocks;
    std::optional<Block> open;
    size_t open_line = 0, lineno = 0, pos = 0;
    while (pos < text.size()) {
        size_t nl = text.find('\n', pos);
        size_t next = nl == std::string::npos ? text.size() : nl + 1;
        std::string_view line(text.data() + pos, (nl == std::string::npos ? text.size() : nl) - pos);
        ++lineno;
        if (auto name = marker_name(line, kBegin)) {
            if (open)
                throw ReportError("line " + std::to_string(lineno) + ": BEGIN GENERATED: " + *name +
                                  " inside block '" + open->name + "' (opened line " + std::to_string(open_line) + ")");
            open = Block{*name, next, 0};
            open_line = lineno;
        } else if (auto end_name = marker_name(line, kEnd)) {
            if (!open) throw ReportError("line " + std::to_string(lineno) + ": END GENERATED: " + *end_name + " without BEGIN");
            if (*end_name != open->name)
                throw ReportError("line " + std::to_string(lineno) + ": END GENERATED: " + *end_name + " closes block '" +
                                  open->name + "' (opened line " + std::to_string(open_line) + ")");
            open->content_end = pos;
            blocks.push_back(*open);
            open.reset();
        }
        pos = next;
    }
    if (open) throw ReportError("line " + std::to_string(open_line) + ": block '" + open->name + "' has no END GENERATED line");
    return blocks;
}

std::string splice_blocks(const std::string& text, const BlockGenerator& generate) {
    std::string out;
    size_t copied = 0;
    for (const Block& b : find_blocks(text)) {
        out.append(text, copied, b.content_begin - copied);
        out += generate(b.name);
        copied = b.content_end;
    }
    out.append(text, copied, std::string::npos);
    return out;
}

std::optional<std::string> first_stale_block(const std::string& text, const BlockGenerator& generate) {
    for (const Block& b : find_blocks(text))
        if (text.compare(b.content_begin, b.content_end - b.content_begin, generate(b.name)) != 0) return b.name;
    return std::nullopt;
}

}  // namespace churn::report
