package io.sparkmerge.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Outputs stay bit-identical (issue 17): every example config in {@code jobs/} that needs no side input runs as
 * one {@code sparkmerge batch} on the {@code synth --family tiny} family, and each output's per-tensor SHA-256
 * (from its manifest), folded into one digest per config, must equal the digests recorded in
 * {@code src/test/resources/io/sparkmerge/golden/tiny-digests.txt}. That file was written by this test at 49a0074;
 * 23 of its 25 digests were recomputed from bed5d1f's outputs in bench/golden/run.sh's batch (the per-tensor SHA-256
 * of the files) and are equal; ram and ramplus_tl are not in that batch. A change meant to alter an
 * output rewrites the file — {@code mvn test -Dtest=GoldenDigestsTest -Dsparkmerge.golden.write=true} — and says why
 * in its commit; any other change must leave it as it is.
 */
class GoldenDigestsTest {
  static final Path EXPECTED = Path.of("src/test/resources/io/sparkmerge/golden/tiny-digests.txt");
  @TempDir Path work;

  @Test
  void everyExampleConfigMergesTheTinyFamilyToTheRecordedDigests() throws Exception {
    Path fam = work.resolve("family");
    MainTest.Run synth = MainTest.run("synth", fam.toString(), "--family", "tiny", "--fine-tunes", "3");
    assertEquals(0, synth.code(), synth.err());
    Map<String, String> paths = Map.ofEntries(Map.entry("/data/models/base", "base"), Map.entry("/data/models/model-a", "ft-1"),
        Map.entry("/data/models/model-b", "ft-2"), Map.entry("/data/models/ft-math", "ft-1"), Map.entry("/data/models/ft-code", "ft-2"),
        Map.entry("/data/models/ft-chat", "ft-3"), Map.entry("/data/models/ft-1", "ft-1"), Map.entry("/data/models/ft-2", "ft-2"),
        Map.entry("/data/models/ft-3", "ft-3"), Map.entry("/data/models/agent-search", "ft-1"),
        Map.entry("/data/models/agent-code", "ft-2"), Map.entry("/data/models/agent-math", "ft-3"),
        Map.entry("/data/clients/client-a", "ft-1"), Map.entry("/data/clients/client-b", "ft-2"),
        Map.entry("/data/clients/client-c", "ft-3"));
    List<String> names = new ArrayList<>();
    StringBuilder lines = new StringBuilder();
    try (Stream<Path> jobs = Files.list(Path.of("jobs"))) {
      for (Path job : jobs.filter(p -> p.toString().endsWith(".yml")).sorted().toList()) {
        String text = Files.readString(job);
        for (Map.Entry<String, String> e : paths.entrySet()) {
          text = text.replaceAll(java.util.regex.Pattern.quote(e.getKey()) + "(?![\\w./-])",
              java.util.regex.Matcher.quoteReplacement(fam.resolve(e.getValue()).toString()));
        }
        if (text.replaceAll("(?m)#.*$", "").contains("/data/")) {
          continue; // a side input (masks, activations, an importance table) this test does not make
        }
        String name = job.getFileName().toString().replace(".yml", "");
        Path cfg = work.resolve(name + ".yml");
        Files.writeString(cfg, text);
        names.add(name);
        lines.append("merge ").append(cfg).append(' ').append(work.resolve("out").resolve(name)).append(" --master local[2]\n");
      }
    }
    assertTrue(names.size() >= 20, "expected most of jobs/*.yml to run on the tiny family, got " + names);
    Path batch = work.resolve("batch.txt");
    Files.writeString(batch, lines);
    MainTest.Run run = MainTest.run("batch", batch.toString(), "--keep-going");

    Map<String, String> got = new TreeMap<>();
    for (String name : names) {
      got.put(name, digest(work.resolve("out").resolve(name)));
    }
    StringBuilder text = new StringBuilder();
    got.forEach((k, v) -> text.append(k).append(' ').append(v).append('\n'));
    if (Boolean.getBoolean("sparkmerge.golden.write")) {
      Files.createDirectories(EXPECTED.getParent());
      Files.writeString(EXPECTED, text);
    }
    assertEquals(Files.readString(EXPECTED), text.toString(), "outputs changed (batch exit " + run.code() + "): " + run.err());
  }

  /** "failed" without _SUCCESS, else the tensor count and SHA-256 over the sorted "name sha256" lines of the manifest. */
  private static String digest(Path out) throws IOException, NoSuchAlgorithmException {
    if (!Files.exists(out.resolve("_SUCCESS"))) {
      return "failed";
    }
    JsonNode tensors = new ObjectMapper().readTree(out.resolve("sparkmerge.json").toFile()).get("tensors");
    Map<String, String> sha = new TreeMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = tensors.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> t = it.next();
      sha.put(t.getKey(), t.getValue().get("sha256").asText());
    }
    MessageDigest md = MessageDigest.getInstance("SHA-256");
    sha.forEach((k, v) -> md.update((k + " " + v + "\n").getBytes(StandardCharsets.UTF_8)));
    return sha.size() + " " + HexFormat.of().formatHex(md.digest());
  }
}
