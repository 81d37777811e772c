// The extraction pipeline behind `promptlens extract`: a labelled dataset, tokenised, goes through
// the GPT-2 text pass once and the prompt pass once per prompt; each row's final hidden state and
// logits are streamed into .npy files in dataset order, and label-token accuracy is measured.
//
// How it runs: rows are cut into length-sorted chunks (`length_sorted_chunks`, at most
// `chunk_tokens` tokens each) so similar lengths share a packed pass; each chunk's rows are
// written at their dataset offsets (core/npy_writer.hpp), so nothing of size N×V is ever held in
// memory. Prompt positions are each row's own length ("exact") or, for the seed's numbers, the
// padded length of the seed's batch of `batch_size` rows ("hf_padded", see
// `hf_padded_prompt_starts`).
//
// Resume: the output folder holds a journal (`.extract-journal`) whose first lines give the
// identity of the run (a hash of the model, prompts, token ids, labels, positions, chunks and
// outputs) and whose further lines list finished chunks. Every `checkpoint_seconds` the .npy files
// are synced to disk and then the chunks finished since are appended and synced. A run killed at
// any moment and started again with the same inputs skips the journalled chunks and recomputes
// the rest; as a chunk's results depend only on the chunk (never on threads or timing), the files
// end byte-identical to an uninterrupted run (meta.json excepted: it records timings). A rerun
// with other inputs is refused unless `overwrite`.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/matrix.hpp"
#include "data/text_dataset.hpp"
#include "model/backend.hpp"
#include "text/gpt2_tokenizer.hpp"

namespace promptlens {

enum class PositionMode {
    exact,  // prompt at positions len_i … len_i+P−1: a row's features never depend on others
    hf_padded,  // the seed's batched HF pipeline: every row of a batch starts at its padded length
};
PositionMode parse_position_mode(const std::string& name);  // "exact" / "hf-padded"
const char* position_mode_name(PositionMode m);

struct ExtractPrompt {
    std::string name;    // output sub-folder; letters, digits, '-', '_', '.'
    std::string source;  // the file, or "text: <the text>"
    Matrix embeddings;   // P×C input embeddings (the model adds wpe)
};

// A vocabulary token picked by the user: as spelled on the command line, and its id.
struct NamedToken {
    std::string name;
    int32_t id = 0;
};

struct LabelToken {
    std::string label;  // a class of the dataset
    NamedToken token;   // the token whose logit votes for it
};

struct ExtractOptions {
    bool hidden = true;                          // write <prompt>/hidden.npy (N×C)
    LogitsRequest logits = LogitsRequest::none;  // write <prompt>/logits.npy (N×V or N×k)
    std::vector<NamedToken> logit_tokens = {};   // the k columns for LogitsRequest::selected
    // Label-token accuracy: for a row labelled L, is the logit of L's token above every other
    // label token's? Empty = no accuracy (and no label_logits.npy).
    std::vector<LabelToken> label_tokens = {};
    PositionMode positions = PositionMode::exact;
    size_t batch_size = 32;  // the seed's batch size; only hf_padded positions depend on it
    size_t chunk_tokens =
        4096;                 // tokens per packed pass; larger = fewer, bigger GEMMs, more memory
    size_t chunk_rows = 256;  // rows per packed pass at most: bounds the N×V logits in memory
    double checkpoint_seconds = 2.0;  // sync + journal at most this often (0 = after every chunk)
    bool overwrite = false;           // replace outputs of another run instead of refusing
    // Test hook: after this many chunks computed in this run, the process kills itself (SIGKILL)
    // before journalling the last of them. 0 = off. Set from PROMPTLENS_TEST_ABORT_AFTER_CHUNKS.
    size_t abort_after_chunks = 0;
};

// The tokenised dataset: `tokens` holds every row after truncation to max_length.
struct TokenizedRows {
    PackedTokens tokens;
    std::vector<size_t> full_lengths;  // before truncation
    double seconds = 0;
};

// Tokenises every row (HF: no special tokens added, truncation on the right). A row with no
// tokens is an Error naming its source. Threads only split the work; ids do not depend on them.
TokenizedRows tokenize_rows(const text::Gpt2Tokenizer& tok, const TextDataset& ds,
                            size_t max_length, int threads);

// What the run is made of, for the identity hash and meta.json.
struct ExtractInputs {
    const Gpt2Backend* backend = nullptr;
    Gpt2Config config;
    const TextDataset* dataset = nullptr;
    const TokenizedRows* rows = nullptr;
    std::vector<ExtractPrompt> prompts;
    size_t max_length = 0;  // for meta.json
    std::string model_path, model_hash, tokenizer_source, data_path;
};

struct ClassAccuracy {
    std::string label;
    size_t rows = 0, correct = 0;
};
struct PromptAccuracy {
    std::string prompt;
    size_t rows = 0, correct = 0;
    std::vector<ClassAccuracy> classes;  // in label_tokens order
};

struct ExtractResult {
    std::string identity;  // the hash in the journal and meta.json
    size_t rows = 0, tokens = 0, chunks = 0;
    size_t chunks_resumed = 0;             // chunks found finished in the journal
    bool already_complete = false;         // the folder already held this run's finished outputs
    double seconds = 0;                    // of this run's chunks
    std::vector<PromptAccuracy> accuracy;  // empty without label tokens
};

ExtractResult run_extract(const ExtractInputs& inputs, const ExtractOptions& options,
                          const std::filesystem::path& out_dir);

// A one-table text summary of `accuracy`, as printed by the command.
std::string format_accuracy(const std::vector<PromptAccuracy>& accuracy);

}  // namespace promptlens

namespace promptlens {
// A content hash of every parameter of `w` (and its shape), for meta.json and the run identity.
std::string gpt2_weights_hash(const Gpt2Weights& w);
}  // namespace promptlens
