package io.sparkmerge.cli;

import picocli.CommandLine.Option;

/**
 * {@code --overwrite} of the commands whose OUT is one output directory replaced whole (task-vectors, extract-lora,
 * masks, stats, subspaces; a picocli mixin). merge, checkpoints, scopes and report declare their own: their text
 * says more (the old OUT survives a failed run; one-shot mode only; two files; an HTML file).
 */
final class OverwriteOption {
  @Option(names = "--overwrite", description = "replace an existing, non-empty OUT")
  boolean overwrite;
}
