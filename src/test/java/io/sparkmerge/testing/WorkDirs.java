package io.sparkmerge.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/** Where the output lifecycle keeps an output's lock, journal and runs: the hidden sibling {@code .<name>.sparkmerge/}. */
public final class WorkDirs {
  private WorkDirs() {}

  public static Path of(Path out) {
    return out.getParent().resolve("." + out.getFileName() + ".sparkmerge");
  }

  /** The run directories ({@code run-<id>/}) kept in OUT's work directory. */
  public static List<Path> runs(Path out) throws IOException {
    Path w = of(out);
    if (!Files.isDirectory(w)) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(w)) {
      return s.filter(p -> p.getFileName().toString().startsWith("run-")).sorted().toList();
    }
  }

  /** The scratch directory (task attempts and their records) of the one run kept for OUT. */
  public static Path scratch(Path out) throws IOException {
    List<Path> r = runs(out);
    if (r.size() != 1) {
      throw new IllegalStateException("expected one kept run in " + of(out) + ", found " + r);
    }
    return r.get(0).resolve("scratch");
  }

  /** Whether a live (not released) lock generation is in OUT's work directory. */
  public static boolean locked(Path out) throws IOException {
    Path w = of(out);
    if (!Files.isDirectory(w)) {
      return false;
    }
    try (Stream<Path> s = Files.list(w)) {
      List<String> names = s.map(p -> p.getFileName().toString()).toList();
      return names.stream().anyMatch(n -> n.matches("lock-\\d+") && !names.contains(n + ".released"));
    }
  }

  /** Whether anything but lock files is left in OUT's work directory (runs, a journal, an old output). */
  public static List<String> leftovers(Path out) throws IOException {
    Path w = of(out);
    if (!Files.isDirectory(w)) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(w)) {
      return s.map(p -> p.getFileName().toString()).filter(n -> !n.startsWith("lock-")).sorted().toList();
    }
  }
}
