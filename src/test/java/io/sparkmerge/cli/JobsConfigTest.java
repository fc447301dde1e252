package io.sparkmerge.cli;

import io.sparkmerge.config.ConfigLoader;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkmerge.method.MergeMethod;
import io.sparkmerge.method.MethodRegistry;
import io.sparkmerge.param.ParameterResolver;
import io.sparkmerge.config.MergeConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Every example config under jobs/ parses, names a registered method and only parameters it knows. */
class JobsConfigTest {
  @Test
  void everyExampleConfigIsValid() throws IOException {
    List<Path> ymls;
    try (Stream<Path> s = Files.list(Path.of("jobs"))) {
      ymls = s.filter(p -> p.toString().endsWith(".yml")).sorted().toList();
    }
    assertFalse(ymls.isEmpty());
    for (Path p : ymls) {
      MergeConfig cfg = ConfigLoader.parse(Files.readString(p), p.toString());
      MergeMethod m = MethodRegistry.get(cfg.mergeMethod());
      ParameterResolver.checkKnown(m, cfg.parameters(), p + ": parameters");
      for (MergeConfig.ModelEntry e : cfg.models()) {
        ParameterResolver.checkKnown(m, e.parameters(), p + ": " + e.path());
      }
      for (MergeConfig.TensorOverride o : cfg.tensors()) {
        if (o.mergeMethod() != null) {
          MethodRegistry.get(o.mergeMethod());
        }
      }
    }
    for (String name : MethodRegistry.all().keySet()) {
      assertTrue(ymls.stream().anyMatch(p -> p.getFileName().toString().equals(name + ".yml")),
          "jobs/ has an example config for every registered method; missing jobs/" + name + ".yml");
    }
  }
}
