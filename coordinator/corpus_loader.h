// Reads a job's corpus (CorpusSpec) into the documents the coordinator
// shards and hands to scorers. Torch-free.
//
// Every path is read in order with the spec's format (UNSPECIFIED: by file
// extension, corpus/document_reader.h). Texts always lose their inline field
// tags; with `field_tags` the tags are parsed strictly and become qa_items.
//
// Document ids: the input's own id (JSONL "id", CSV "id" column), else
// "<label>:<line>", where <line> is the 1-based line the document starts on
// (JSONL line, CSV record, first line of a TEXT paragraph) and <label> is the
// file's basename, or the path exactly as written in the spec when another
// path of the spec has the same basename. Ids must be unique across the
// corpus.
//
// Errors are INVALID_ARGUMENT (or the file's read error: NOT_FOUND, ...)
// and start with the field path and the file location:
//   "corpus.paths[1]: bio.csv:7: document is 2000000 bytes, limit 1048576"
//
// Example:
//   CLUEDROP_ASSIGN_OR_RETURN(std::vector<v1::Document> docs,
//                             LoadCorpus(spec.corpus()));
#ifndef CLUEDROP_COORDINATOR_CORPUS_LOADER_H_
#define CLUEDROP_COORDINATOR_CORPUS_LOADER_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "cluedrop/v1/job.pb.h"
#include "cluedrop/v1/scored.pb.h"
#include "jobspec/job_spec_defaults.h"

namespace cluedrop::coordinator {

using jobspec::kDefaultMaxDocumentBytes;

// Returns every document of every file, in order. Fails when:
//   - spec.paths is empty or the format is not a known CorpusFormat;
//   - a file cannot be read (its code; "corpus.paths[0]: x.csv: cannot open: ...");
//   - a file is malformed or has no documents (the reader's message);
//   - field tags are malformed (with field_tags);
//   - a text (after tag stripping) is longer than max_document_bytes;
//   - an id is empty, or an id, text or QA item is not valid UTF-8;
//   - two documents share an id ("... duplicate document id \"7\", first at
//     corpus.paths[0]: a.jsonl:3").
absl::StatusOr<std::vector<v1::Document>> LoadCorpus(const v1::CorpusSpec& spec);

}  // namespace cluedrop::coordinator

#endif  // CLUEDROP_COORDINATOR_CORPUS_LOADER_H_
