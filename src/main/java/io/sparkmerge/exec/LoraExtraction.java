package io.sparkmerge.exec;

import io.sparkmerge.io.DType;
import io.sparkmerge.io.SafetensorsWriter;
import io.sparkmerge.io.TensorCodec;
import io.sparkmerge.io.TensorInfo;
import io.sparkmerge.lora.ExtractionPlan;
import io.sparkmerge.math.DeterministicRandom;
import io.sparkmerge.math.LinearAlgebra;
import io.sparkmerge.math.LowRank;
import io.sparkmerge.plan.InputModel;
import java.io.IOException;
import java.io.Serializable;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * One module of {@code extract-lora} on an executor: τ = model − base of its weight in the compute dtype,
 * the rank-r factors of τ (τᵀ for an input embedding, as PEFT stores those) by {@link LowRank}, written in the
 * model's dtype under PEFT's keys to a part file of the staging directory; τ of its bias as {@code lora_B.bias};
 * or, for a module stored whole, its tensors as they are. The error ‖τ − B·A‖_F / ‖τ‖_F is measured on the
 * factors as written (decoded back from the output dtype). The randomised SVD's test matrix is keyed by the
 * weight's name and the seed, so a module's factors do not depend on the partitioning or on retries.
 */
public final class LoraExtraction {
  private LoraExtraction() {}

  /** @param rank the largest rank; @param distribute √S on both factors (else S on A); @param seed of the randomised SVD */
  public record Options(int rank, boolean distribute, long seed) implements Serializable {}

  /**
   * What one module produced: the part file, its rank (0 for a whole module), the algorithm, the relative error
   * of the written factors and ‖τ‖_F (NaN for a whole module).
   */
  public record ModuleResult(int index, String file, int rank, String algorithm, double relativeError, double tauNorm)
      implements Serializable {}

  static final String PREFIX = "base_model.model.";

  public static ModuleResult run(InputModel base, InputModel model, ExtractionPlan.Module m, int index, Options o, String staging,
      int attempt, Configuration conf) throws IOException {
    TensorInfo w = model.dir().tensors().get(m.weight());
    DType out = w.dtype();
    DataType compute = out == DType.F64 ? DataType.DOUBLE : DataType.FLOAT;
    Map<String, INDArray> tensors = new LinkedHashMap<>();
    int rank = 0;
    String algorithm = "whole";
    double error = Double.NaN;
    double tauNorm = Double.NaN;
    try (TensorLoader loader = new TensorLoader(conf, compute, true)) {
      if (m.kind() == ExtractionPlan.Kind.WHOLE) {
        tensors.put(PREFIX + m.weight(), whole(loader, model, w));
        if (m.bias() != null) {
          tensors.put(PREFIX + m.bias(), whole(loader, model, model.dir().tensors().get(m.bias())));
        }
      } else {
        boolean embedding = m.kind() == ExtractionPlan.Kind.EMBEDDING;
        LinearAlgebra la = LinearAlgebra.forLoadedBackend();
        try (INDArray tau = tau(loader, base, model, w, embedding)) {
          LowRank.Algorithm alg = LowRank.choose(tau.size(0), tau.size(1), (int) Math.min(o.rank(), Math.min(tau.size(0), tau.size(1))));
          try (LowRank.Factors f = LowRank.factor(tau, o.rank(), o.distribute(), alg, DeterministicRandom.key(o.seed(), m.weight(), 0),
              la, m.weight())) {
            INDArray a = rounded(f.a(), out);
            INDArray b = rounded(f.b(), out);
            error = LowRank.relativeError(tau, b, a, la);
            try (INDArray d = tau.castTo(DataType.DOUBLE)) {
              tauNorm = d.norm2Number().doubleValue();
            }
            rank = f.rank();
            algorithm = alg.name().toLowerCase(Locale.ROOT);
            tensors.put(PREFIX + m.name() + (embedding ? ".lora_embedding_A" : ".lora_A.weight"), a);
            tensors.put(PREFIX + m.name() + (embedding ? ".lora_embedding_B" : ".lora_B.weight"), b);
          }
        }
        if (m.bias() != null) {
          TensorInfo bi = model.dir().tensors().get(m.bias());
          tensors.put(PREFIX + m.name() + ".lora_B.bias", tau(loader, base, model, bi, false));
        }
      }
    }
    Path file = new Path(staging, String.format(Locale.ROOT, "module-%05d-attempt-%d.safetensors", index, attempt));
    write(file, conf, tensors, out);
    return new ModuleResult(index, file.toString(), rank, algorithm, error, tauNorm);
  }

  /** A whole tensor of the model (with its adapter, if it has one) in the compute dtype, shaped as stored. */
  private static INDArray whole(TensorLoader loader, InputModel model, TensorInfo t) throws IOException {
    try (INDArray rows = loader.rows(model, t.name(), 0, t.rows(), true)) {
      return rows.reshape(t.shape()).dup('c');
    }
  }

  /** model − base of a tensor, transposed (a c-order copy) for an input embedding. */
  private static INDArray tau(TensorLoader loader, InputModel base, InputModel model, TensorInfo t, boolean transposed)
      throws IOException {
    try (INDArray x = loader.rows(model, t.name(), 0, t.rows(), true); INDArray b = loader.rows(base, t.name(), 0, t.rows(), true)) {
      INDArray d = x.sub(b).reshape(t.shape());
      if (!transposed) {
        return d;
      }
      try (d) {
        return d.transpose().dup('c');
      }
    }
  }

  /** The values as the output dtype stores them (encoded and decoded back), so errors are those of the file. */
  private static INDArray rounded(INDArray v, DType dtype) {
    ByteBuffer buf = ByteBuffer.allocate(Math.toIntExact(v.length() * dtype.size())).order(ByteOrder.LITTLE_ENDIAN);
    INDArray c = v.dup('c');
    TensorCodec.encode(c, dtype, buf);
    buf.flip();
    INDArray back = Nd4j.createUninitialized(v.dataType(), v.shape());
    TensorCodec.decode(dtype, buf, back);
    c.close();
    return back;
  }

  private static void write(Path file, Configuration conf, Map<String, INDArray> tensors, DType dtype) throws IOException {
    List<SafetensorsWriter.TensorSpec> specs = new ArrayList<>();
    tensors.forEach((k, v) -> specs.add(new SafetensorsWriter.TensorSpec(k, dtype, v.shape())));
    try (SafetensorsWriter writer = new SafetensorsWriter(file.getFileSystem(conf), file, specs, Map.of("format", "pt"))) {
      for (INDArray v : tensors.values()) {
        ByteBuffer buf = ByteBuffer.allocate(Math.toIntExact(v.length() * dtype.size())).order(ByteOrder.LITTLE_ENDIAN);
        TensorCodec.encode(v, dtype, buf);
        writer.write(buf.flip());
      }
    } finally {
      tensors.values().forEach(INDArray::close);
    }
  }
}
