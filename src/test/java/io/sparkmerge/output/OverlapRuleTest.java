package io.sparkmerge.output;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkmerge.ConfigException;
import io.sparkmerge.config.ConfigLoader;
import io.sparkmerge.config.MergeConfig;
import io.sparkmerge.io.Storage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issue 16, defect 1: an output may never equal, contain or lie inside an input, however the paths are spelled. */
class OverlapRuleTest {
  @TempDir Path tmp;
  final Configuration conf = Storage.configuration();

  ConfigException refused(String out, String kind, String input) {
    ConfigException e = assertThrows(ConfigException.class, () -> OverlapRule.check(conf, List.of(new org.apache.hadoop.fs.Path(out)),
        List.of(new OverlapRule.Input(kind, input))), out + " vs " + input);
    assertEquals(2, e.exitCode());
    String shown = new org.apache.hadoop.fs.Path(out).toString();
    assertTrue(e.getMessage().contains(shown) && e.getMessage().contains(input) && e.getMessage().contains(kind), e.getMessage());
    return e;
  }

  void allowed(String out, String input) {
    assertDoesNotThrow(() -> OverlapRule.check(conf, List.of(new org.apache.hadoop.fs.Path(out)),
        List.of(new OverlapRule.Input("models[0]", input))));
  }

  @Test
  void equalContainingAndInsideAreRefusedHoweverSpelled() throws Exception {
    Path models = Files.createDirectories(tmp.resolve("family/models"));
    Path ft = Files.createDirectories(models.resolve("ft-1"));
    String f = tmp.resolve("family").toString();
    assertTrue(refused(f, "models[0]", ft.toString()).getMessage().contains("contains"));
    assertTrue(refused(ft.toString(), "models[0]", ft.toString()).getMessage().contains("same path"));
    assertTrue(refused(ft.resolve("merged").toString(), "base_model", ft.toString()).getMessage().contains("lies inside"));
    refused(ft + "/", "models[0]", ft.toString());                                   // trailing slash
    refused(models + "/./ft-1/../ft-1", "models[0]", ft.toString());                   // . and ..
    refused("file://" + ft, "models[0]", ft.toString());                               // a qualified URI
    Path link = Files.createSymbolicLink(tmp.resolve("link-to-models"), models);
    refused(link.resolve("ft-1").toString(), "models[0]", ft.toString());              // through a symbolic link
    refused(link.resolve("new-out").toString(), "tokenizer_source", models.toString()); // not yet existing, under a link
    // relative to the working directory
    String cwd = Path.of("").toAbsolutePath().toString();
    refused(Path.of(cwd).relativize(ft).toString(), "models[0]", ft.toString());
    // siblings and name prefixes do not overlap
    allowed(models.resolve("ft-10").toString(), ft.toString());
    allowed(tmp.resolve("family/merged").toString(), ft.toString());
    ConfigException root = assertThrows(ConfigException.class, () -> OverlapRule.check(conf, List.of(new org.apache.hadoop.fs.Path("/")),
        List.of()));
    assertTrue(root.getMessage().contains("root"), root.getMessage());
  }

  @Test
  void everyInputKindOfAConfigIsCovered() {
    MergeConfig cfg = ConfigLoader.parse("""
        merge_method: lewis
        base_model: /d/base
        models:
          - model: /d/ft-1
            importance: /d/imp.csv
            masks: /d/masks-1
          - model: /d/ft-2
            activations: /d/act-2
          - model: /d/tv-3
            task_vector: true
            importance: task_vector_norm
        tokenizer_source: /d/tok
        """, "kinds.yml");
    List<String> kinds = OverlapRule.inputsOf(cfg).stream().map(i -> i.kind() + "=" + i.path()).toList();
    assertEquals(List.of("base_model=/d/base", "models[0]=/d/ft-1", "models[0].masks=/d/masks-1", "models[0].importance=/d/imp.csv",
        "models[1]=/d/ft-2", "models[1].activations=/d/act-2", "models[2] (task vector)=/d/tv-3", "tokenizer_source=/d/tok"), kinds);
    MergeConfig slices = ConfigLoader.parse("""
        merge_method: passthrough
        slices:
          - sources:
              - model: /d/a
                layer_range: [0, 2]
          - sources:
              - model: /d/b
                layer_range: [2, 4]
        """, "slices.yml");
    assertEquals(List.of("/d/a", "/d/b"), OverlapRule.inputsOf(slices).stream().map(OverlapRule.Input::path).toList());
  }
}
