package io.sparkmerge.plan;

import io.sparkmerge.config.MergeConfig;
import io.sparkmerge.ConfigException;
import io.sparkmerge.InputDataException;
import io.sparkmerge.io.ModelDirectory;
import io.sparkmerge.io.TensorInfo;
import io.sparkmerge.param.ParameterValue;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * mergekit's output slices expanded into output tensors (methods.md §0, mergekit plan.py): the
 * tensors before the layers come from the first slice's sources at t = 0, then every slice's layers
 * in order, renumbered consecutively in the output (so passthrough stacks layers), with
 * t = j / (L − 1) inside a slice of L layers, then the tensors after the layers from the last slice's
 * sources, also at t = 0 (mergekit ≥ 0.1.2, plan.py plan_module). Every source of an output tensor must hold the matching tensor with its shape.
 */
final class SliceLayout {
  /** One input of an output tensor: the model (index into the distinct paths), its tensor name and its parameters. */
  record Source(int model, String tensor, Map<String, ParameterValue> parameters) {}

  /** One output tensor: its name, its position t, the slice's parameters and its sources in slice order. */
  record OutputTensor(String name, TensorInfo reference, double t, int slice, Map<String, ParameterValue> sliceParameters,
      List<Source> sources) {}

  private SliceLayout() {}

  /** The distinct model paths of all slices, in order of first appearance (the caller opens them). */
  static List<String> paths(List<MergeConfig.SliceEntry> slices) {
    List<String> paths = new ArrayList<>();
    for (MergeConfig.SliceEntry s : slices) {
      for (MergeConfig.SliceSource src : s.sources()) {
        if (paths.stream().noneMatch(p -> Planner.samePath(p, src.path()))) {
          paths.add(src.path());
        }
      }
    }
    return paths;
  }

  static int indexOf(List<String> paths, String path) {
    for (int i = 0; i < paths.size(); i++) {
      if (Planner.samePath(paths.get(i), path)) {
        return i;
      }
    }
    throw new IllegalArgumentException(path);
  }

  static List<OutputTensor> expand(List<MergeConfig.SliceEntry> slices, List<String> paths, List<ModelDirectory> dirs) {
    int[] layers = new int[dirs.size()];
    for (int i = 0; i < dirs.size(); i++) {
      layers[i] = new LayerPositions(dirs.get(i).tensors().keySet()).layerCount();
    }
    for (int s = 0; s < slices.size(); s++) {
      List<MergeConfig.SliceSource> srcs = slices.get(s).sources();
      for (int j = 0; j < srcs.size(); j++) {
        MergeConfig.SliceSource src = srcs.get(j);
        int n = layers[indexOf(paths, src.path())];
        if (src.to() > n) {
          throw new ConfigException("slices[" + s + "].sources[" + j + "] (" + src.path() + "): layer_range [" + src.from() + ", "
              + src.to() + "] goes past the model's " + n + " layers; TO is exclusive and at most " + n);
        }
      }
    }
    List<OutputTensor> out = new ArrayList<>();
    outsideLayers(out, slices, 0, true, paths, dirs);
    int outLayer = 0;
    for (int s = 0; s < slices.size(); s++) {
      MergeConfig.SliceEntry slice = slices.get(s);
      int n = slice.layerCount();
      for (int j = 0; j < n; j++) {
        double t = n > 1 ? (double) j / (n - 1) : 1.0;
        MergeConfig.SliceSource first = slice.sources().get(0);
        ModelDirectory refDir = dirs.get(indexOf(paths, first.path()));
        for (TensorInfo ref : refDir.tensors().values()) {
          if (LayerPositions.layerIndex(ref.name()) != first.from() + j) {
            continue;
          }
          List<Source> sources = new ArrayList<>();
          for (MergeConfig.SliceSource src : slice.sources()) {
            String name = LayerPositions.withLayerIndex(ref.name(), src.from() + j);
            sources.add(source(src, name, ref, paths, dirs));
          }
          out.add(new OutputTensor(LayerPositions.withLayerIndex(ref.name(), outLayer), ref, t, s, slice.parameters(), sources));
        }
        outLayer++;
      }
    }
    outsideLayers(out, slices, slices.size() - 1, false, paths, dirs);
    Map<String, OutputTensor> byName = new java.util.HashMap<>();
    for (OutputTensor o : out) {
      OutputTensor other = byName.put(o.name(), o);
      if (other != null) {
        // e.g. layers.1.x and layers.01.x: the same layer index spelled twice, renumbered to one name
        throw new InputDataException("slices: output tensor " + o.name() + " would come from both " + other.reference().name()
            + " and " + o.reference().name() + " (one layer index written two ways); rename the tensors so each layer has one");
      }
    }
    return out;
  }

  /** Tensors outside the layers, before or after them, from {@code slice} at t = 0 (mergekit ≥ 0.1.2). */
  private static void outsideLayers(List<OutputTensor> out, List<MergeConfig.SliceEntry> slices, int s, boolean before,
      List<String> paths, List<ModelDirectory> dirs) {
    MergeConfig.SliceEntry slice = slices.get(s);
    ModelDirectory refDir = dirs.get(indexOf(paths, slice.sources().get(0).path()));
    for (TensorInfo ref : refDir.tensors().values()) {
      if (LayerPositions.layerIndex(ref.name()) >= 0 || LayerPositions.beforeLayers(ref.name()) != before) {
        continue;
      }
      List<Source> sources = new ArrayList<>();
      for (MergeConfig.SliceSource src : slice.sources()) {
        sources.add(source(src, ref.name(), ref, paths, dirs));
      }
      out.add(new OutputTensor(ref.name(), ref, 0.0, s, slice.parameters(), sources));
    }
  }

  private static Source source(MergeConfig.SliceSource src, String name, TensorInfo ref, List<String> paths,
      List<ModelDirectory> dirs) {
    int m = indexOf(paths, src.path());
    TensorInfo info = dirs.get(m).tensors().get(name);
    if (info == null) {
      throw new InputDataException(src.path() + ": has no tensor " + name + " (needed by its layer_range [" + src.from() + ", "
          + src.to() + "] to match " + ref.name() + "); slice only checkpoints of one architecture");
    }
    if (!Arrays.equals(info.shape(), ref.shape())) {
      throw new InputDataException(src.path() + ": tensor " + name + " has shape " + info.shapeString() + " but " + ref.name()
          + " of the slice's first source has " + ref.shapeString() + "; slice only checkpoints of one architecture");
    }
    return new Source(m, name, src.parameters());
  }
}
