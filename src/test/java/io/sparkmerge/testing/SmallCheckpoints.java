package io.sparkmerge.testing;

import io.sparkmerge.io.DType;
import io.sparkmerge.io.SafetensorsWriter;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.Path;

/** Writes hand-made single-file checkpoints (model.safetensors) of F32/F64/BF16 values or U8/BOOL masks, for tests. */
public final class SmallCheckpoints {
  private SmallCheckpoints() {}

  /** One tensor: name, shape and values in row-major order. */
  public record Tensor(String name, long[] shape, double[] values) {}

  public static String write(java.nio.file.Path dir, DType dtype, List<Tensor> tensors) throws IOException {
    java.nio.file.Files.createDirectories(dir);
    List<SafetensorsWriter.TensorSpec> specs = new ArrayList<>();
    for (Tensor t : tensors) {
      specs.add(new SafetensorsWriter.TensorSpec(t.name(), dtype, t.shape()));
    }
    Path file = new Path(dir.resolve("model.safetensors").toString());
    try (SafetensorsWriter w = new SafetensorsWriter(Checkpoints.localFs(), file, specs, Map.of("format", "pt"))) {
      for (Tensor t : tensors) {
        ByteBuffer b = ByteBuffer.allocate(t.values().length * dtype.size()).order(ByteOrder.LITTLE_ENDIAN);
        for (double v : t.values()) {
          switch (dtype) {
            case F32 -> b.putFloat((float) v);
            case F64 -> b.putDouble(v);
            case BF16 -> b.putShort(io.sparkmerge.io.HalfFloats.floatToBf16((float) v));
            case U8, BOOL -> b.put((byte) v);
            default -> throw new IllegalArgumentException(dtype.toString());
          }
        }
        b.flip();
        w.write(b);
      }
    }
    return dir.toString();
  }
}
