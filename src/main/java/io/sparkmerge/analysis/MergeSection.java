package io.sparkmerge.analysis;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkmerge.InputDataException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** What a merge's sparkmerge.json says: inputs, method, parameters, timings, warnings and the config. */
final class MergeSection {
  private MergeSection() {}

  static void add(HtmlPage page, String manifestJson) {
    JsonNode m = parse(manifestJson);
    JsonNode r = m.path("resolved");
    page.section("merge", "Merge", "Run " + m.path("run_id").asText() + " by sparkmerge " + m.path("version").asText()
        + ": merge_method " + r.path("merge_method").asText() + ", " + m.path("tensors").size() + " tensors in "
        + r.path("shards").asText() + " shard(s).");
    List<List<String>> settings = new ArrayList<>();
    settings.add(List.of("merge_method", r.path("merge_method").asText()));
    settings.add(List.of("base_model", r.path("base_model").isNull() ? "(none)" : r.path("base_model").asText()
        + (r.path("base_in_merge").asBoolean() ? "" : " (not used by the method)")));
    r.path("parameters").fields().forEachRemaining(e -> settings.add(List.of("parameter " + e.getKey(), e.getValue().asText())));
    for (String k : List.of("dtype", "compute_dtype", "seed", "out_shard_size", "shards", "allow_nonfinite")) {
      settings.add(List.of(k, r.path(k).asText()));
    }
    page.table(List.of("setting", "value"), settings);
    List<List<String>> inputs = new ArrayList<>();
    m.path("inputs").forEach(in -> inputs.add(List.of(in.path("role").asText(), in.path("path").asText(),
        String.format(Locale.ROOT, "%.3f GB", in.path("bytes").asLong() / 1e9), String.valueOf(in.path("files").size()))));
    page.table(List.of("input", "path", "size", "files"), inputs);
    List<List<String>> timings = new ArrayList<>();
    m.path("timings_ms").fields().forEachRemaining(e -> timings.add(List.of(e.getKey(),
        String.format(Locale.ROOT, "%.2f s", e.getValue().asLong() / 1000.0))));
    page.table(List.of("stage", "time"), timings);
    if (m.path("warnings").size() > 0) {
      List<List<String>> w = new ArrayList<>();
      m.path("warnings").forEach(x -> w.add(List.of(x.asText())));
      page.table(List.of("warning"), w);
    }
    page.pre(m.path("config_yaml").asText());
  }

  /** The manifest's merge_method. */
  static String method(String manifestJson) {
    return parse(manifestJson).path("resolved").path("merge_method").asText();
  }

  static JsonNode parse(String manifestJson) {
    try {
      return new ObjectMapper().readTree(manifestJson);
    } catch (Exception e) {
      throw new InputDataException("sparkmerge.json: not valid JSON (" + e.getMessage() + "); is this a sparkmerge merge output?");
    }
  }
}
