package io.sparkmerge.cli;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkmerge.config.ConfigLoader;
import io.sparkmerge.config.MergeConfig;
import io.sparkmerge.io.Storage;
import io.sparkmerge.method.MethodRegistry;
import io.sparkmerge.plan.MergePlan;
import io.sparkmerge.plan.Planner;
import io.sparkmerge.testing.Checkpoints;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every example config under jobs/ (and jobs/mergekit/) parses and plans: its model paths are pointed at a
 * generated tiny family (the base at the base, each other model at a fine-tune) and the planner resolves
 * every tensor's method and parameters, as a merge would before its first task.
 */
class JobsConfigTest {
  @TempDir static Path family;

  /** A tokenizer.json for a generated model: one token per embedding row, the last two ChatML's (added tokens). */
  static void tokenizer(Path dir) throws IOException {
    var json = new com.fasterxml.jackson.databind.ObjectMapper();
    int rows = json.readTree(dir.resolve("config.json").toFile()).get("vocab_size").asInt();
    var root = json.createObjectNode();
    var added = root.putArray("added_tokens");
    var vocab = root.putObject("model").put("type", "BPE").putObject("vocab");
    for (int i = 0; i < rows - 2; i++) {
      vocab.put("t" + i, i);
    }
    added.addObject().put("id", rows - 2).put("content", "<|im_start|>").put("special", true);
    added.addObject().put("id", rows - 1).put("content", "<|im_end|>").put("special", true);
    ((com.fasterxml.jackson.databind.node.ObjectNode) root.get("model")).putArray("merges");
    Files.writeString(dir.resolve("tokenizer.json"), json.writeValueAsString(root));
  }

  @Test
  void everyExampleConfigPlans() throws IOException {
    List<Path> ymls = new ArrayList<>();
    for (Path dir : List.of(Path.of("jobs"), Path.of("jobs/mergekit"))) {
      try (Stream<Path> s = Files.list(dir)) {
        s.filter(p -> p.toString().endsWith(".yml")).sorted().forEach(ymls::add);
      }
    }
    assertFalse(ymls.isEmpty());
    List<org.apache.hadoop.fs.Path> dirs = Checkpoints.tinyFamily(family.resolve("f"), 11, 3);
    for (org.apache.hadoop.fs.Path d : dirs) {
      tokenizer(Path.of(d.toString())); // vocabulary surgery (tokenizer: union) reads them
    }
    for (Path p : ymls) {
      String yaml = Files.readString(p);
      MergeConfig cfg = ConfigLoader.parse(yaml, p.toString());
      Set<String> models = new LinkedHashSet<>();
      cfg.models().forEach(e -> models.add(e.path()));
      cfg.slices().forEach(s -> s.sources().forEach(src -> models.add(src.path())));
      if (cfg.tokenizerSource() != null && !cfg.tokenizerSource().equals("base")) {
        models.add(cfg.tokenizerSource());
      }
      if (cfg.baseModel() != null) {
        yaml = yaml.replace(cfg.baseModel(), dirs.get(0).toString());
        models.remove(cfg.baseModel());
      }
      int k = 1;
      for (String m : models) {
        yaml = yaml.replace(m, dirs.get(k).toString());
        k = k % 3 + 1;
      }
      MergeConfig local = ConfigLoader.parse(yaml, p.toString());
      MergePlan plan;
      try {
        plan = new Planner(Storage.configuration()).plan(local, 2, "test");
      } catch (RuntimeException e) {
        throw new AssertionError(p + " does not plan on a tiny family: " + e.getMessage(), e);
      }
      assertTrue(plan.tensorCount() > 0, p.toString());
    }
    for (String name : MethodRegistry.all().keySet()) {
      assertTrue(ymls.stream().anyMatch(p -> p.getFileName().toString().equals(name + ".yml")),
          "jobs/ has an example config for every registered method; missing jobs/" + name + ".yml");
    }
  }
}
