package io.sparkmerge.synth;

import io.sparkmerge.io.HalfFloats;
import io.sparkmerge.io.DType;
import io.sparkmerge.io.HfIndex;
import io.sparkmerge.io.SafetensorsWriter;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * Generates a model family for trying things out and for tests: a base model and N fine-tunes of
 * it, with LLaMA-like tensor names, config.json and safetensors: one {@code model.safetensors} when the
 * model fits the shard size (5 GB by default, as mergekit's {@code out_shard_size} and transformers'
 * {@code save_pretrained} shard), else HF shards and an index. A fine-tune is
 * the base plus a low-rank delta (rank 2) plus small noise on every 2-D tensor, and small noise on
 * norms. Every value is a pure function of (seed, model index, tensor name, element index), so a
 * family is reproducible bit for bit and can be generated tensor by tensor in bounded memory.
 */
public final class ModelFamilyGenerator {
  /** The largest shard when none is given: mergekit's {@code out_shard_size} default, and ours. */
  public static final long DEFAULT_SHARD_BYTES = 5_000_000_000L;

  private final FamilyPreset preset;
  private final long seed;
  private final long shardBytes;

  public ModelFamilyGenerator(FamilyPreset preset, long seed) {
    this(preset, seed, DEFAULT_SHARD_BYTES);
  }

  /** shardBytes: the largest safetensors file (a tensor larger than it gets a file of its own). */
  public ModelFamilyGenerator(FamilyPreset preset, long seed, long shardBytes) {
    this.preset = preset;
    this.seed = seed;
    this.shardBytes = shardBytes;
  }

  /** Writes {@code root/base} and {@code root/ft-1..ft-N}; returns their paths (base first). */
  public List<Path> generate(FileSystem fs, Path root, int fineTunes) throws IOException {
    List<Path> dirs = new ArrayList<>();
    dirs.add(new Path(root, "base"));
    for (int i = 1; i <= fineTunes; i++) {
      dirs.add(new Path(root, "ft-" + i));
    }
    // models are independent files: write them on all cores (generation of the 10 GB 1b family is CPU-bound)
    int threads = Math.max(1, Math.min(dirs.size(), Runtime.getRuntime().availableProcessors()));
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(threads);
    try {
      List<java.util.concurrent.Future<?>> done = new ArrayList<>();
      for (int m = 0; m < dirs.size(); m++) {
        int model = m;
        done.add(pool.submit(() -> {
          writeModel(fs, dirs.get(model), model);
          return null;
        }));
      }
      for (java.util.concurrent.Future<?> f : done) {
        try {
          f.get();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new java.io.InterruptedIOException("interrupted while generating " + root);
        } catch (java.util.concurrent.ExecutionException e) {
          if (e.getCause() instanceof IOException io) {
            throw io;
          }
          throw new IOException("generating " + root + ": " + e.getCause(), e.getCause());
        }
      }
    } finally {
      pool.shutdownNow();
    }
    return dirs;
  }

  /** The tensors of the architecture: name → shape, in a stable order. */
  public Map<String, long[]> tensors() {
    Map<String, long[]> t = new LinkedHashMap<>();
    long h = preset.hidden();
    long i = preset.intermediate();
    t.put("model.embed_tokens.weight", new long[] {preset.vocab(), h});
    for (int l = 0; l < preset.layers(); l++) {
      String p = "model.layers." + l + ".";
      t.put(p + "input_layernorm.weight", new long[] {h});
      t.put(p + "self_attn.q_proj.weight", new long[] {h, h});
      t.put(p + "self_attn.k_proj.weight", new long[] {h, h});
      t.put(p + "self_attn.v_proj.weight", new long[] {h, h});
      t.put(p + "self_attn.o_proj.weight", new long[] {h, h});
      t.put(p + "post_attention_layernorm.weight", new long[] {h});
      t.put(p + "mlp.gate_proj.weight", new long[] {i, h});
      t.put(p + "mlp.up_proj.weight", new long[] {i, h});
      t.put(p + "mlp.down_proj.weight", new long[] {h, i});
    }
    t.put("model.norm.weight", new long[] {h});
    t.put("lm_head.weight", new long[] {preset.vocab(), h});
    return t;
  }

  /** The value of element {@code idx} of tensor {@code name} in model {@code model} (0 = base). */
  public float value(int model, String name, long[] shape, long idx) {
    boolean norm = shape.length == 1;
    long key = SplitMix.hash(seed, name, 0);
    float base = norm ? 1.0f + 0.05f * SplitMix.symmetric(key, idx) : 0.02f * SplitMix.symmetric(key, idx);
    if (model == 0) {
      return base;
    }
    long mk = SplitMix.hash(seed, name, model);
    float noise = 0.002f * SplitMix.symmetric(mk ^ 0x5DEECE66DL, idx);
    if (norm) {
      return base + noise;
    }
    long cols = shape[shape.length - 1];
    long r = idx / cols;
    long c = idx % cols;
    // rank-2 delta u1 v1ᵀ + u2 v2ᵀ with entries in [-1, 1], scaled so it dominates the noise
    float delta = SplitMix.symmetric(mk, 2 * r) * SplitMix.symmetric(mk + 1, 2 * c)
        + SplitMix.symmetric(mk, 2 * r + 1) * SplitMix.symmetric(mk + 1, 2 * c + 1);
    return base + 0.01f * delta + noise;
  }

  /**
   * {@link #value} for one tensor, element by element in order, with the per-tensor hashes computed
   * once and the rank-2 delta's row and column factors cached: the same float operations in the same
   * order, so bit-identical to {@code value} (SynthTest checks it), and ~an order of magnitude faster.
   */
  final class TensorValues {
    private final int model;
    private final boolean norm;
    private final long key;
    private final long mk;
    private final long cols;
    private final float[] colA;
    private final float[] colB;
    private long row = -1;
    private float rowA;
    private float rowB;

    TensorValues(int model, String name, long[] shape) {
      this.model = model;
      this.norm = shape.length == 1;
      this.key = SplitMix.hash(seed, name, 0);
      this.mk = model == 0 ? 0 : SplitMix.hash(seed, name, model);
      this.cols = shape[shape.length - 1];
      boolean delta = model != 0 && !norm;
      this.colA = delta ? new float[(int) cols] : null;
      this.colB = delta ? new float[(int) cols] : null;
      for (int c = 0; delta && c < cols; c++) {
        colA[c] = SplitMix.symmetric(mk + 1, 2L * c);
        colB[c] = SplitMix.symmetric(mk + 1, 2L * c + 1);
      }
    }

    float at(long idx) {
      float base = norm ? 1.0f + 0.05f * SplitMix.symmetric(key, idx) : 0.02f * SplitMix.symmetric(key, idx);
      if (model == 0) {
        return base;
      }
      float noise = 0.002f * SplitMix.symmetric(mk ^ 0x5DEECE66DL, idx);
      if (norm) {
        return base + noise;
      }
      long r = idx / cols;
      int c = (int) (idx - r * cols);
      if (r != row) {
        row = r;
        rowA = SplitMix.symmetric(mk, 2 * r);
        rowB = SplitMix.symmetric(mk, 2 * r + 1);
      }
      float delta = rowA * colA[c] + rowB * colB[c];
      return base + 0.01f * delta + noise;
    }
  }

  private void writeModel(FileSystem fs, Path dir, int model) throws IOException {
    fs.mkdirs(dir);
    Map<String, long[]> all = tensors();
    List<List<String>> shards = new ArrayList<>();
    List<String> cur = new ArrayList<>();
    long curBytes = 0;
    for (Map.Entry<String, long[]> e : all.entrySet()) {
      long bytes = numel(e.getValue()) * preset.dtype().size();
      if (!cur.isEmpty() && curBytes + bytes > shardBytes) {
        shards.add(cur);
        cur = new ArrayList<>();
        curBytes = 0;
      }
      cur.add(e.getKey());
      curBytes += bytes;
    }
    shards.add(cur);
    Map<String, String> weightMap = new TreeMap<>();
    long total = 0;
    for (int s = 0; s < shards.size(); s++) {
      String file = HfIndex.shardName(s + 1, shards.size());
      List<SafetensorsWriter.TensorSpec> specs = new ArrayList<>();
      for (String n : shards.get(s)) {
        specs.add(new SafetensorsWriter.TensorSpec(n, preset.dtype(), all.get(n)));
        weightMap.put(n, file);
        total += numel(all.get(n)) * preset.dtype().size();
      }
      if (s == shards.size() - 1 && preset.integerTensor()) {
        specs.add(new SafetensorsWriter.TensorSpec("model.embed_positions.position_ids", DType.I64, new long[] {1, 16}));
        weightMap.put("model.embed_positions.position_ids", file);
        total += 16 * 8;
      }
      try (SafetensorsWriter w = new SafetensorsWriter(fs, new Path(dir, file), specs, Map.of("format", "pt"))) {
        for (SafetensorsWriter.TensorSpec spec : specs) {
          writeTensor(w, model, spec);
        }
      }
    }
    if (shards.size() > 1) {
      HfIndex.write(fs, new Path(dir, "model.safetensors.index.json"), total, weightMap);
    }
    writeText(fs, new Path(dir, "config.json"), configJson());
    writeText(fs, new Path(dir, "generation_config.json"), "{\n  \"bos_token_id\": 1,\n  \"eos_token_id\": 2\n}\n");
  }

  private void writeTensor(SafetensorsWriter w, int model, SafetensorsWriter.TensorSpec spec) throws IOException {
    long n = numel(spec.shape());
    if (spec.dtype() == DType.I64) {
      ByteBuffer b = ByteBuffer.allocate((int) n * 8).order(ByteOrder.LITTLE_ENDIAN);
      for (long i = 0; i < n; i++) {
        b.putLong(i);
      }
      b.flip();
      w.write(b);
      return;
    }
    int block = 1 << 20;
    ByteBuffer b = ByteBuffer.allocate(block * spec.dtype().size()).order(ByteOrder.LITTLE_ENDIAN);
    TensorValues values = new TensorValues(model, spec.name(), spec.shape());
    for (long start = 0; start < n; start += block) {
      b.clear();
      long end = Math.min(n, start + block);
      for (long i = start; i < end; i++) {
        float v = values.at(i);
        switch (spec.dtype()) {
          case F32 -> b.putFloat(v);
          case BF16 -> b.putShort(HalfFloats.floatToBf16(v));
          case F16 -> b.putShort(HalfFloats.floatToF16(v));
          case F64 -> b.putDouble(v);
          default -> throw new IllegalStateException("synth writes float tensors only, not " + spec.dtype());
        }
      }
      b.flip();
      w.write(b);
    }
  }

  private String configJson() {
    return String.format(Locale.ROOT, """
        {
          "architectures": ["LlamaForCausalLM"],
          "model_type": "llama",
          "hidden_size": %d,
          "intermediate_size": %d,
          "num_hidden_layers": %d,
          "num_attention_heads": %d,
          "num_key_value_heads": %d,
          "vocab_size": %d,
          "max_position_embeddings": 2048,
          "rms_norm_eps": 1e-05,
          "hidden_act": "silu",
          "tie_word_embeddings": false,
          "torch_dtype": "%s"
        }
        """, preset.hidden(), preset.intermediate(), preset.layers(), Math.max(1, preset.hidden() / 64),
        Math.max(1, preset.hidden() / 64), preset.vocab(), preset.dtype() == DType.BF16 ? "bfloat16" : "float32");
  }

  private static void writeText(FileSystem fs, Path p, String text) throws IOException {
    try (OutputStream os = fs.create(p, true)) {
      os.write(text.getBytes(StandardCharsets.UTF_8));
    }
  }

  static long numel(long[] shape) {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    return n;
  }
}
