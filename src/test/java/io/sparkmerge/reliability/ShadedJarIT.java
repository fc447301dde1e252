package io.sparkmerge.reliability;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkmerge.testing.Checkpoints;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shaded jar as a cluster runs it: on Spark's classpath only (the project's classpath without the
 * libraries the jar bundles, in particular without XChart's PDF/SVG libraries and the unrelocated
 * SnakeYAML), submitted through SparkSubmit, the class spark-submit runs, in a child JVM. The jar carries
 * its quiet log4j2 configuration and prints no INFO line, relocated SnakeYAML/commons load (the config is
 * parsed, ND4J merges), every report kind renders its plots, JNA's natives are linux-x86-64's only. Runs
 * in {@code mvn verify} (failsafe).
 */
@Timeout(value = 900, unit = TimeUnit.SECONDS)
class ShadedJarIT {
  static final Path PROJECT = Path.of("").toAbsolutePath();
  /** Jars of libraries the shaded jar bundles that a Spark distribution does not have. */
  static final Pattern BUNDLED = Pattern.compile(".*/(nd4j-[^/]*|javacpp-[^/]*|openblas-[^/]*|picocli-[^/]*|xchart-[^/]*"
      + "|VectorGraphics2D-[^/]*|graphics2d-[^/]*|pdfbox[^/]*|fontbox-[^/]*|commons-logging-[^/]*|animated-gif-lib-[^/]*"
      + "|oshi-core-[^/]*|jna[^/]*|threetenbp-[^/]*|byteunits-[^/]*|neoitertools-[^/]*|commons-net-[^/]*|protobuf-1\\.0\\.0-M2\\.1"
      + "|jackson-1\\.0\\.0-M2\\.1|guava-1\\.0\\.0-M2\\.1|snakeyaml-[^/]*)\\.jar");
  @TempDir static Path work;
  static Path jar;
  static String sparkClasspath;

  @BeforeAll
  static void classpath() throws Exception {
    jar = StandaloneClusterIT.shadedJar();
    List<String> spark = Arrays.stream(Files.readString(PROJECT.resolve("target/classpath.txt")).strip().split(File.pathSeparator))
        .filter(p -> !BUNDLED.matcher(p).matches()).toList();
    assertTrue(spark.stream().anyMatch(p -> p.contains("spark-core")) && spark.stream().noneMatch(p -> p.contains("pdfbox")));
    sparkClasspath = String.join(File.pathSeparator, spark);
  }

  static List<String> names(Path jarFile) throws Exception {
    try (ZipFile z = new ZipFile(jarFile.toFile())) {
      return z.stream().map(ZipEntry::getName).toList();
    }
  }

  @Test
  void jarCarriesTheLogConfigurationAndOnlyWhatItNeeds() throws Exception {
    try (ZipFile z = new ZipFile(jar.toFile())) {
      ZipEntry e = z.getEntry("io/sparkmerge/log4j2.xml");
      assertTrue(e != null, "the quiet log4j2 configuration is in the jar");
      assertArrayEquals(Files.readAllBytes(PROJECT.resolve("src/main/resources/io/sparkmerge/log4j2.xml")), z.getInputStream(e).readAllBytes());
    }
    List<String> names = names(jar);
    for (String gone : List.of("org/apache/pdfbox/", "org/apache/fontbox/", "de/erichseifert/", "de/rototor/", "org/slf4j/",
        "org/yaml/", "org/apache/commons/", "com/google/thirdparty/")) {
      assertTrue(names.stream().noneMatch(n -> n.startsWith(gone)), gone + " is not in the jar (excluded or relocated)");
    }
    for (String moved : List.of("org/yaml/snakeyaml/", "org/apache/commons/lang3/", "org/apache/commons/math3/", "org/apache/commons/net/")) {
      assertTrue(names.stream().anyMatch(n -> n.startsWith("io/sparkmerge/shaded/" + moved)), moved + " relocated");
    }
    List<String> natives = names.stream().filter(n -> n.matches(".*\\.(so(\\.[0-9]+)?|dll|dylib|jnilib|a)")).toList();
    assertTrue(natives.stream().allMatch(n -> n.contains("linux-x86_64/") || n.contains("linux-x86-64/")), natives.toString());
    assertTrue(natives.stream().anyMatch(n -> n.endsWith("libnd4jcpu.so")) && natives.stream().anyMatch(n -> n.endsWith("jnidispatch.so")));
  }

  /**
   * Every relocated name a class in the jar refers to is in the jar: relocating a package the jar does not
   * bundle (it comes from Spark) breaks the classes that use it, at run time only (ND4J's Gzip compressor and
   * commons-io: every ND4J array copy then failed).
   */
  @Test
  void everyRelocatedReferenceResolvesInsideTheJar() throws Exception {
    // internal names (slashes) are what the JVM links: class references, descriptors, signatures
    Pattern relocated = Pattern.compile("io/sparkmerge/shaded/[A-Za-z0-9_$/]*[A-Za-z0-9_$]");
    java.util.Set<String> missing = new java.util.TreeSet<>();
    try (ZipFile z = new ZipFile(jar.toFile())) {
      List<String> entries = z.stream().map(ZipEntry::getName).toList();
      java.util.Set<String> seen = new java.util.HashSet<>();
      for (ZipEntry e : z.stream().filter(e -> e.getName().endsWith(".class")).toList()) {
        String text = new String(z.getInputStream(e).readAllBytes(), java.nio.charset.StandardCharsets.ISO_8859_1);
        java.util.regex.Matcher m = relocated.matcher(text);
        while (m.find()) {
          String name = m.group();
          if (seen.add(name) && entries.stream().noneMatch(n -> n.startsWith(name))) {
            missing.add(name + " (from " + e.getName() + ")");
          }
        }
      }
      assertTrue(seen.size() > 100, "relocated references found: " + seen.size());
    }
    assertEquals(java.util.Set.of(), missing, "relocated names the jar refers to but does not hold");
  }

  static String[] java(List<String> args, Map<String, String> env, String name) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(System.getProperty("java.home") + "/bin/java"));
    for (String a : java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments()) {
      if (a.startsWith("--add-") || a.startsWith("-XX:+IgnoreUnrecognizedVMOptions") || a.startsWith("-Djdk.reflect")
          || a.startsWith("-Dio.netty")) {
        cmd.add(a);
      }
    }
    cmd.add("-Xmx2g");
    cmd.addAll(args);
    File log = work.resolve(name + ".log").toFile();
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(work.toFile()).redirectErrorStream(true).redirectOutput(log);
    pb.environment().remove("SPARKMERGE_LOG_CONF");
    pb.environment().putAll(env);
    Process p = pb.start();
    assertTrue(p.waitFor(600, TimeUnit.SECONDS), name + " finished");
    return new String[] {String.valueOf(p.exitValue()), Files.readString(log.toPath())};
  }

  static List<String> infoLines(String out) {
    return out.lines().filter(l -> l.contains(" INFO ")).collect(Collectors.toList());
  }

  @Test
  void sparkSubmitOfTheJarIsQuietAndRendersEveryReport() throws Exception {
    List<org.apache.hadoop.fs.Path> dirs = Checkpoints.tinyFamily(work.resolve("family"), 17, 2);
    Files.writeString(work.resolve("ties.yml"), "merge_method: ties\nbase_model: " + dirs.get(0) + "\nmodels:\n  - model: "
        + dirs.get(1) + "\n    parameters: {weight: 0.5, density: 0.3}\n  - model: " + dirs.get(2)
        + "\n    parameters: {weight: 0.5, density: 0.3}\ntensors:\n  - filter: lm_head\n    merge_method: linear\n");
    // the analysis outputs come from this JVM (one Spark job per submitted JVM keeps the IT short; the
    // reports, which need no Spark, are what runs from the jar here)
    for (String[] job : new String[][] {{"subspaces", "sub", "--top-k", "8", "--k", "2"}, {"stats", "stats"}, {"masks", "masks"}}) {
      List<String> args = new ArrayList<>(List.of(job[0], work.resolve("ties.yml").toString(), work.resolve(job[1]).toString()));
      args.addAll(Arrays.asList(job).subList(2, job.length));
      args.addAll(List.of("--master", "local[2]"));
      assertEquals(0, io.sparkmerge.cli.Main.execute(args.toArray(String[]::new), System.out, System.err), job[0]);
    }
    Files.writeString(work.resolve("lines.txt"), String.join("\n", "merge ties.yml merged", "report merged merged.html",
        "report sub sub.html", "report stats stats.html", "report masks masks.html") + "\n");
    String[] r = java(List.of("-cp", sparkClasspath, "org.apache.spark.deploy.SparkSubmit", "--master", "local[2]", "--class",
        "io.sparkmerge.cli.Main", "--conf", "spark.ui.enabled=false", jar.toString(), "batch", "lines.txt"), Map.of(), "submit");
    assertEquals("0", r[0], r[1]);
    assertTrue(r[1].contains("[batch] 5 line(s) run, 0 failed"), r[1]);
    assertEquals(List.of(), infoLines(r[1]), "no INFO line from a spark-submit of the jar:\n" + r[1]);
    for (String page : List.of("sub", "stats", "masks")) {
      String html = Files.readString(work.resolve(page + ".html"));
      assertTrue(images(html) >= 2, page + ": PNG plots rendered without PDFBox/VectorGraphics2D");
    }
    assertTrue(Files.readString(work.resolve("merged.html")).contains("<section id=\"merge\">"));
    assertTrue(Files.exists(work.resolve("merged/_SUCCESS")));
  }

  @Test
  void plainJavaRunOfMainIsQuietUnlessSparkmergeLogConfSaysOtherwise() throws Exception {
    List<org.apache.hadoop.fs.Path> dirs = Checkpoints.tinyFamily(work.resolve("plain-family"), 19, 1);
    Files.writeString(work.resolve("linear.yml"), "merge_method: linear\nmodels:\n  - model: " + dirs.get(0) + "\n  - model: "
        + dirs.get(1) + "\n");
    List<String> run = List.of("-cp", jar + File.pathSeparator + sparkClasspath, "io.sparkmerge.cli.Main", "merge", "linear.yml");
    String[] quiet = java(concat(run, "plain-out", "--master", "local[1]"), Map.of(), "plain");
    assertEquals("0", quiet[0], quiet[1]);
    assertEquals(List.of(), infoLines(quiet[1]), quiet[1]);
    Path loud = Files.writeString(work.resolve("loud.xml"), """
        <Configuration status="WARN">
          <Appenders><Console name="e" target="SYSTEM_ERR"><PatternLayout pattern="%-5level %c{1}: %msg%n"/></Console></Appenders>
          <Loggers><Root level="INFO"><AppenderRef ref="e"/></Root></Loggers>
        </Configuration>
        """);
    String[] own = java(concat(run, "plain-out-2", "--master", "local[1]"), Map.of("SPARKMERGE_LOG_CONF", loud.toString()), "own");
    assertEquals("0", own[0], own[1]);
    assertFalse(own[1].lines().noneMatch(l -> l.startsWith("INFO  SparkContext:")), "SPARKMERGE_LOG_CONF's INFO level applies:\n" + own[1]);
  }

  /** The number of embedded PNGs that decode as images. */
  static int images(String html) throws Exception {
    java.util.regex.Matcher m = Pattern.compile("src=\"data:image/png;base64,([A-Za-z0-9+/=]+)\"").matcher(html);
    int n = 0;
    while (m.find()) {
      byte[] png = java.util.Base64.getDecoder().decode(m.group(1));
      assertTrue(javax.imageio.ImageIO.read(new java.io.ByteArrayInputStream(png)).getWidth() > 100);
      n++;
    }
    return n;
  }

  static List<String> concat(List<String> a, String... b) {
    List<String> out = new ArrayList<>(a);
    out.addAll(Arrays.asList(b));
    return out;
  }
}
