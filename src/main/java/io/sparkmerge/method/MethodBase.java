package io.sparkmerge.method;

import io.sparkmerge.ConfigException;
import io.sparkmerge.param.ParamSpec;

/**
 * The facts every method states — its config name, its parameters, its use of a base and how it may be
 * chunked — so a method's file holds only what is particular to it: validation, side inputs and {@link #begin}.
 */
public abstract class MethodBase implements MergeMethod {
  private final String name;
  private final BaseUse baseUse;
  private final ParamSpec params;
  private final Chunking chunking;

  protected MethodBase(String name, BaseUse baseUse, ParamSpec params) {
    this(name, baseUse, params, Chunking.ELEMENTS);
  }

  protected MethodBase(String name, BaseUse baseUse, ParamSpec params, Chunking chunking) {
    this.name = name;
    this.baseUse = baseUse;
    this.params = params;
    this.chunking = chunking;
  }

  @Override
  public Chunking chunking() {
    return chunking;
  }

  @Override
  public final String name() {
    return name;
  }

  @Override
  public final ParamSpec params() {
    return params;
  }

  @Override
  public final BaseUse baseUse() {
    return baseUse;
  }

  /**
   * The model-count check of the methods that merge a fixed number of models: a {@link ConfigException}
   * reading {@code before + count + after} unless min ≤ count ≤ max.
   */
  protected static void requireModelCount(TensorMergeContext ctx, int min, int max, String before, String after) {
    int modelCount = ctx.modelCount();
    if (modelCount < min || modelCount > max) {
      throw new ConfigException(before + modelCount + after);
    }
  }

  @Override
  public String toString() {
    return name;
  }
}
