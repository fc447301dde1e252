package io.sparkmerge.cli;

import picocli.CommandLine.Option;

/** The two models of one task vector τ = MODEL − BASE, as task-vectors and extract-lora take them (a picocli mixin). */
final class TaskVectorOptions {
  @Option(names = "--base", required = true, description = "the base model directory")
  String base;

  @Option(names = "--model", required = true, description = "the fine-tuned model directory")
  String model;
}
