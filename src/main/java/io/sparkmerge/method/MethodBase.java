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
  private ModelCount modelCount; // set by modelCount(...) in a subclass constructor; null: any count

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
   * Declares, in a method's constructor, that it merges a fixed number of models: {@link #validate} then
   * throws a {@link ConfigException} reading {@code before + count + after} unless min ≤ count ≤ max.
   */
  protected final void modelCount(int min, int max, String before, String after) {
    this.modelCount = new ModelCount(min, max, before, after);
  }

  /** The declared model count's check (none declared: any count); a method with more to check overrides this and calls it. */
  @Override
  public void validate(TensorMergeContext ctx) {
    if (modelCount != null && (ctx.modelCount() < modelCount.min || ctx.modelCount() > modelCount.max)) {
      throw new ConfigException(modelCount.before + ctx.modelCount() + modelCount.after);
    }
  }

  private record ModelCount(int min, int max, String before, String after) {}

  @Override
  public String toString() {
    return name;
  }
}
