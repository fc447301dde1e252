package io.sparkmerge.plan;

import io.sparkmerge.io.ModelDirectory;
import java.io.Serializable;

/**
 * One model the merge reads: its role ("base" or "model N"), the path as configured, and its
 * validated headers. Shipped to executors inside the plan (headers only, no tensor data).
 */
public record InputModel(String role, String path, ModelDirectory dir) implements Serializable {}
