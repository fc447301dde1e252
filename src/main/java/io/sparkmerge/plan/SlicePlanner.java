package io.sparkmerge.plan;

import io.sparkmerge.ConfigException;
import io.sparkmerge.config.MergeConfig;
import io.sparkmerge.io.ModelDirectory;
import io.sparkmerge.method.MergeMethod;
import io.sparkmerge.param.ParameterResolver;
import io.sparkmerge.param.ParameterValue;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** mergekit slices: every output tensor with its sources ({@link SliceLayout}), the base taken out of each slice's sources. */
final class SlicePlanner {
  private SlicePlanner() {}

  /** The tasks of a slices config; {@code models} receives the plan's models (every distinct non-base source). */
  static List<TensorTask> plan(MergeConfig cfg, MergeMethod method, InputModel base, boolean usesBase, List<InputModel> models,
      ModelOpener opener, TensorPlanner tensors) {
    List<String> paths = SliceLayout.paths(cfg.slices());
    List<ModelDirectory> dirs = new ArrayList<>();
    int[] planIndex = new int[paths.size()];
    for (int i = 0; i < paths.size(); i++) {
      String p = paths.get(i);
      boolean isBase = base != null && Planner.samePath(p, base.path());
      int k = models.size();
      InputModel m = isBase ? base : opener.model(p, "slices: model", d -> InputModel.sliced(k, p, d));
      dirs.add(m.dir());
      planIndex[i] = isBase && usesBase ? -1 : k;
      if (planIndex[i] >= 0) {
        models.add(isBase ? InputModel.sliced(k, p, m.dir()).withLora(m.lora()) : m);
      }
    }
    if (models.isEmpty()) {
      throw new ConfigException("every source under 'slices:' is the base model; list at least one other model to merge with it");
    }
    for (int s = 0; s < cfg.slices().size(); s++) {
      MergeConfig.SliceEntry slice = cfg.slices().get(s);
      long bases = slice.sources().stream().filter(src -> usesBase && Planner.samePath(src.path(), base.path())).count();
      if (usesBase && bases == 0) {
        throw new ConfigException("slices[" + s + "]: merge_method '" + method.name() + "' uses the base model (" + base.path()
            + ") but it is not among the slice's sources; add '- model: " + base.path() + "' with a layer_range to the slice");
      }
      ParameterResolver.checkKnown(method, slice.parameters(), "slices[" + s + "].parameters");
      for (int j = 0; j < slice.sources().size(); j++) {
        ParameterResolver.checkKnown(method, slice.sources().get(j).parameters(), "slices[" + s + "].sources[" + j + "]");
      }
    }
    List<TensorTask> tasks = new ArrayList<>();
    for (SliceLayout.OutputTensor o : SliceLayout.expand(cfg.slices(), paths, dirs)) {
      String baseName = null;
      List<InputModel> ms = new ArrayList<>();
      List<String> names = new ArrayList<>();
      List<Map<String, ParameterValue>> params = new ArrayList<>();
      List<Integer> idx = new ArrayList<>();
      for (SliceLayout.Source src : o.sources()) {
        if (planIndex[src.model()] < 0 && baseName == null) {
          baseName = src.tensor();
          continue;
        }
        int pi = planIndex[src.model()] < 0 ? models.size() : planIndex[src.model()];
        if (pi == models.size()) {
          throw new ConfigException("slices[" + o.slice() + "]: the base model is listed twice among the slice's sources; list it once");
        }
        ms.add(models.get(pi));
        names.add(src.tensor());
        params.add(src.parameters());
        idx.add(pi);
      }
      TensorPlanner.Inputs in = new TensorPlanner.Inputs(baseName, ms, names, params, o.sliceParameters(),
          idx.stream().mapToInt(Integer::intValue).toArray());
      tasks.add(tensors.plan(o.reference(), o.name(), o.t(), in));
    }
    return tasks;
  }
}
