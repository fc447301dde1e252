package io.sparkmerge.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkmerge.io.SafetensorsHeader;
import io.sparkmerge.io.TensorInfo;
import io.sparkmerge.testing.Checkpoints;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `sparkmerge verify OUT`: a good output passes; a flipped byte, a missing shard or a missing _SUCCESS exit 3 naming what differs. */
class VerifyCommandTest {
  @TempDir static Path work;
  static Path good;

  @BeforeAll
  static void mergeOnce() throws IOException {
    List<org.apache.hadoop.fs.Path> dirs = Checkpoints.tinyFamily(work.resolve("family"), 4, 2);
    Path cfg = work.resolve("ties.yml");
    Files.writeString(cfg, """
        merge_method: ties
        base_model: %s
        models:
          - model: %s
            parameters: {weight: 0.6, density: 0.5}
          - model: %s
            parameters: {weight: 0.4, density: 0.5}
        """.formatted(dirs.get(0), dirs.get(1), dirs.get(2)));
    good = work.resolve("good");
    MainTest.Run r = MainTest.run("merge", cfg.toString(), good.toString(), "--partitions", "3", "--master", "local[2]");
    assertEquals(0, r.code(), r.err());
  }

  /** A fresh copy of the good output to damage. */
  static Path copy(String name) throws IOException {
    Path dst = work.resolve(name);
    Files.createDirectories(dst);
    try (Stream<Path> s = Files.list(good)) {
      for (Path p : s.toList()) {
        Files.copy(p, dst.resolve(p.getFileName()));
      }
    }
    return dst;
  }

  @Test
  void aGoodOutputPassesWithAOneLineSummary() {
    MainTest.Run r = MainTest.run("verify", good.toString());
    assertEquals(0, r.code(), r.out() + r.err());
    String[] lines = r.out().strip().split("\n");
    assertEquals(1, lines.length, r.out());
    // 3 shards + index + README + copied config files; every tensor of the tiny family
    assertTrue(lines[0].matches(".*: ok: \\d+ files, \\d+ tensors, .* match sparkmerge.json .*"), lines[0]);
    int tensors = Integer.parseInt(lines[0].replaceAll(".* files, (\\d+) tensors.*", "$1"));
    assertEquals(SafetensorsHeaderCount.count(good), tensors);
  }

  @Test
  void aFlippedByteInATensorIsNamed() throws IOException {
    Path out = copy("flipped");
    Path shard = out.resolve("model-00002-of-00003.safetensors");
    SafetensorsHeader h = SafetensorsHeader.read(Checkpoints.localFs(), new org.apache.hadoop.fs.Path(shard.toString()));
    TensorInfo victim = h.tensors().values().iterator().next();
    byte[] b = Files.readAllBytes(shard);
    b[(int) (victim.fileOffset() + victim.byteLength() / 2)] ^= 0x10;
    Files.write(shard, b);
    MainTest.Run r = MainTest.run("verify", out.toString());
    assertEquals(3, r.code(), r.out() + r.err());
    assertTrue(r.out().contains("model-00002-of-00003.safetensors: tensor " + victim.name() + ": SHA-256 differs"), r.out());
    assertEquals(1, r.out().strip().split("\n").length, "only that tensor differs:\n" + r.out());
    assertTrue(r.err().startsWith("sparkmerge: " + out + " does not match its manifest: 1 problem(s)"), r.err());
  }

  @Test
  void aMissingShardIsNamed() throws IOException {
    Path out = copy("missing-shard");
    Files.delete(out.resolve("model-00003-of-00003.safetensors"));
    MainTest.Run r = MainTest.run("verify", out.toString());
    assertEquals(3, r.code(), r.out() + r.err());
    assertTrue(r.out().contains("model-00003-of-00003.safetensors: missing"), r.out());
  }

  @Test
  void aMissingSuccessMarkerIsNamed() throws IOException {
    Path out = copy("no-success");
    Files.delete(out.resolve("_SUCCESS"));
    MainTest.Run r = MainTest.run("verify", out.toString());
    assertEquals(3, r.code(), r.out() + r.err());
    assertTrue(r.out().contains("_SUCCESS: missing"), r.out());
    assertEquals(1, r.out().strip().split("\n").length, r.out());
  }

  @Test
  void aChangedIndexAndAStrayFileAreNamed() throws IOException {
    Path out = copy("index");
    Path index = out.resolve("model.safetensors.index.json");
    Files.writeString(index, Files.readString(index).replace("model-00001-of-00003", "model-00002-of-00003"));
    Files.writeString(out.resolve("notes.txt"), "not ours");
    MainTest.Run r = MainTest.run("verify", out.toString());
    assertEquals(3, r.code(), r.out() + r.err());
    assertTrue(r.out().contains("model.safetensors.index.json: ") && r.out().contains("weight_map differs"), r.out());
    assertTrue(r.out().contains("notes.txt: not part of the output"), r.out());
  }

  @Test
  void notAMergeOutputIsBadInput() throws IOException {
    MainTest.Run r = MainTest.run("verify", work.resolve("nowhere").toString());
    assertEquals(3, r.code(), r.err());
    assertTrue(r.err().contains("no such directory"), r.err());
  }

  /** Tensors in the output's shards, counted from their headers (independent of the manifest). */
  static final class SafetensorsHeaderCount {
    static int count(Path dir) {
      int n = 0;
      try (Stream<Path> s = Files.list(dir)) {
        for (Path p : s.filter(p -> p.toString().endsWith(".safetensors")).toList()) {
          n += SafetensorsHeader.read(Checkpoints.localFs(), new org.apache.hadoop.fs.Path(p.toString())).tensors().size();
        }
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
      return n;
    }
  }

}
