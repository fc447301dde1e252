package io.sparkmerge.output;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkmerge.plan.InputModel;
import io.sparkmerge.plan.LayerPositions;
import io.sparkmerge.config.MergeConfig;
import io.sparkmerge.lora.LoraReference;
import io.sparkmerge.plan.MergePlan;
import io.sparkmerge.plan.Planner;
import io.sparkmerge.vocab.VocabularySurgery;
import io.sparkmerge.plan.ShardPlan;
import io.sparkmerge.plan.TensorTask;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * The non-tensor files of a merged model (mergekit's behaviour, docs/mergekit.md): config and
 * generation files from the base (else the first model), tokenizer files from
 * {@code tokenizer_source} when given, config.json rewritten where the merge changed the model
 * ({@link ConfigJson}: layer count after slicing, the output dtype), and {@code chat_template} written into tokenizer_config.json (and into
 * chat_template.jinja when the tokenizer source has one, which transformers reads first).
 */
public final class ModelFiles {
  static final Set<String> TOKENIZER_FILES = Set.of("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
      "tokenizer.model", "vocab.json", "merges.txt", "added_tokens.json", "chat_template.jinja");
  private static final ObjectMapper JSON = new ObjectMapper();

  private ModelFiles() {}

  /** Stages the copied files; returns their names. Warnings (e.g. no template found for "auto") go to {@code warnings}. */
  public static List<String> stage(Configuration conf, MergeConfig cfg, MergePlan plan, Staging committer, List<String> warnings)
      throws IOException {
    String donor = plan.rawSource().path();
    VocabularySurgery vocab = plan.embeddingRows() == null ? null : vocabulary(conf, cfg, plan, warnings);
    String tokenizerDir = vocab != null ? vocab.sourcePath() : cfg.tokenizerSource() == null ? donor
        : cfg.tokenizerSource().equals("base") ? cfg.baseModel() : cfg.tokenizerSource();
    List<String> staged = new ArrayList<>();
    String template = chatTemplate(conf, cfg, plan, warnings);
    for (String name : cfg.copy()) {
      // a MODEL+ADAPTER reference's files are MODEL's
      Path p = new Path(LoraReference.modelPath(TOKENIZER_FILES.contains(name) ? tokenizerDir : donor), name);
      FileSystem fs = p.getFileSystem(conf);
      if (!fs.exists(p) || (vocab != null && TokenizerFiles.STALE.contains(name))) {
        continue;
      }
      if (name.equals("config.json") && (cfg.hasSlices() || cfg.outDtype() != null || vocab != null)) {
        committer.writeStaged(name, ConfigJson.rewrite(read(fs, p), p.toString(), cfg.hasSlices() ? outputLayers(plan) : -1,
            cfg.outDtype(), vocab != null ? vocab.rows().rows() : -1));
      } else if (vocab != null && name.equals("tokenizer.json")) {
        committer.writeStaged(name, TokenizerFiles.tokenizerJson(vocab));
      } else if (vocab != null && name.equals("tokenizer_config.json")) {
        committer.writeStaged(name, TokenizerFiles.tokenizerConfig(read(fs, p), p.toString(), vocab, template));
      } else if (template != null && name.equals("tokenizer_config.json")) {
        ObjectNode tc = object(read(fs, p), p);
        tc.put("chat_template", template);
        committer.writeStaged(name, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(tc) + "\n");
      } else if (template != null && name.equals("chat_template.jinja")) {
        committer.writeStaged(name, template);
      } else {
        committer.copyIntoStaging(fs, p, name);
      }
      staged.add(name);
    }
    if (template != null && !staged.contains("tokenizer_config.json")) {
      committer.writeStaged("tokenizer_config.json",
          JSON.writerWithDefaultPrettyPrinter().writeValueAsString(JSON.createObjectNode().put("chat_template", template)) + "\n");
      staged.add("tokenizer_config.json");
    }
    if (cfg.tokenizerSource() != null && staged.stream().noneMatch(TOKENIZER_FILES::contains)) {
      warnings.add("tokenizer_source " + cfg.tokenizerSource() + " (" + tokenizerDir + ") has none of the tokenizer files "
          + "listed under copy:; the output has no tokenizer");
    }
    return staged;
  }

  /** The plan's vocabulary change, rebuilt from the same tokenizer files (the plan ships only the row map). */
  private static VocabularySurgery vocabulary(Configuration conf, MergeConfig cfg, MergePlan plan, List<String> warnings) {
    List<String> inputs = new ArrayList<>();
    if (plan.base() != null) {
      inputs.add(plan.base().path());
    }
    plan.models().forEach(m -> inputs.add(m.path()));
    VocabularySurgery v = VocabularySurgery.plan(conf, cfg, inputs, plan.base() != null, Planner::samePath);
    warnings.addAll(v.warnings());
    return v;
  }

  /** The output's layer count: one past the largest layer index among the planned tensors. */
  static int outputLayers(MergePlan plan) {
    int max = -1;
    for (ShardPlan s : plan.shards()) {
      for (TensorTask t : s.tensors()) {
        max = Math.max(max, LayerPositions.layerIndex(t.name()));
      }
    }
    return max + 1;
  }

  /** The template to write: the config's text, or for "auto" the one most input models carry (first seen on ties). */
  private static String chatTemplate(Configuration conf, MergeConfig cfg, MergePlan plan, List<String> warnings)
      throws IOException {
    if (cfg.chatTemplate() == null || !cfg.chatTemplate().equals("auto")) {
      return cfg.chatTemplate();
    }
    List<InputModel> inputs = new ArrayList<>();
    if (plan.base() != null) {
      inputs.add(plan.base());
    }
    inputs.addAll(plan.models());
    Map<String, Integer> counts = new LinkedHashMap<>();
    for (InputModel m : inputs) {
      String t = templateOf(conf, m.path());
      if (t != null) {
        counts.merge(t.strip(), 1, Integer::sum);
      }
    }
    String best = null;
    for (Map.Entry<String, Integer> e : counts.entrySet()) {
      if (best == null || e.getValue() > counts.get(best)) {
        best = e.getKey();
      }
    }
    if (best == null) {
      warnings.add("chat_template: auto found no chat template in any input model; none written");
    }
    return best;
  }

  private static String templateOf(Configuration conf, String ref) throws IOException {
    String dir = LoraReference.modelPath(ref);
    Path jinja = new Path(dir, "chat_template.jinja");
    FileSystem fs = jinja.getFileSystem(conf);
    if (fs.exists(jinja)) {
      return read(fs, jinja);
    }
    Path tc = new Path(dir, "tokenizer_config.json");
    if (!fs.exists(tc)) {
      return null;
    }
    JsonNode t = object(read(fs, tc), tc).get("chat_template");
    return t != null && t.isTextual() ? t.asText() : null;
  }

  private static ObjectNode object(String json, Path p) {
    return ConfigJson.object(json, p.toString());
  }

  private static String read(FileSystem fs, Path p) throws IOException {
    try (InputStream in = fs.open(p)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }
}
