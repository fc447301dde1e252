package io.sparkmerge.testing;

import java.io.IOException;
import java.net.URI;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.gaul.s3proxy.AuthenticationType;
import org.gaul.s3proxy.S3Proxy;
import org.jclouds.ContextBuilder;
import org.jclouds.blobstore.BlobStore;
import org.jclouds.blobstore.BlobStoreContext;
import org.jclouds.blobstore.TransientApiMetadata;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A real S3 endpoint for the tests: S3Proxy (an S3 API server) in the test JVM on 127.0.0.1, backed by
 * an in-memory blob store, with AWS signatures checked against a fixed test key pair. S3A reaches it
 * with path-style access; no credential, region or endpoint comes from the environment. Register it as
 * {@code @RegisterExtension static final S3Server S3 = new S3Server();}: it starts once before the class's
 * tests and stops (closing its S3A clients, dropping its objects) after them. Each instance gets its own
 * bucket name, so a FileSystem cached for one server is never reused for another.
 */
public final class S3Server implements BeforeAllCallback, AfterAllCallback {
  public static final String ACCESS_KEY = "sparkmerge-test";
  public static final String SECRET_KEY = "sparkmerge-test-secret";
  private static final AtomicInteger BUCKETS = new AtomicInteger();

  private final String bucket = "sparkmerge-" + ProcessHandle.current().pid() + "-" + BUCKETS.incrementAndGet();
  private BlobStoreContext context;
  private S3Proxy proxy;

  @Override
  public void beforeAll(ExtensionContext ctx) throws Exception {
    start();
  }

  @Override
  public void afterAll(ExtensionContext ctx) throws Exception {
    stop();
  }

  public void start() throws Exception {
    // jclouds' in-memory "transient" store, named directly (looking a provider up by id loads every provider
    // S3Proxy registers, and its Azure ones need the Azure SDK, which the build leaves out). Not S3Proxy's
    // filesystem stores: they answer a HEAD of "a/b" with 200 when only the directory marker "a/b/" exists,
    // so S3A takes every directory it made with mkdirs for a file; the transient store behaves like S3.
    context = ContextBuilder.newBuilder(new TransientApiMetadata()).credentials("unused", "unused").buildView(BlobStoreContext.class);
    BlobStore store = context.getBlobStore();
    store.createContainerInLocation(null, bucket);
    proxy = S3Proxy.builder().blobStore(store).endpoint(URI.create("http://127.0.0.1:0"))
        .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, ACCESS_KEY, SECRET_KEY).build();
    proxy.start();
    long deadline = System.currentTimeMillis() + 60_000;
    while (!proxy.getState().equals("STARTED")) {
      if (System.currentTimeMillis() > deadline) {
        throw new IllegalStateException("S3Proxy did not start: " + proxy.getState());
      }
      Thread.sleep(10);
    }
  }

  public void stop() throws Exception {
    if (proxy != null) {
      FileSystem.get(URI.create("s3a://" + bucket + "/"), configuration()).close();
      proxy.stop();
      context.close();
      proxy = null;
    }
  }

  public String bucket() {
    return bucket;
  }

  /** {@code s3a://BUCKET/path}. */
  public String uri(String path) {
    return "s3a://" + bucket + "/" + (path.startsWith("/") ? path.substring(1) : path);
  }

  /** The S3A settings (without the {@code spark.hadoop.} prefix) that reach this server and nothing else. */
  public Map<String, String> settings() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("fs.s3a.endpoint", "http://127.0.0.1:" + proxy.getPort());
    m.put("fs.s3a.endpoint.region", "us-east-1");
    m.put("fs.s3a.path.style.access", "true");
    m.put("fs.s3a.connection.ssl.enabled", "false");
    m.put("fs.s3a.aws.credentials.provider", "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider");
    m.put("fs.s3a.access.key", ACCESS_KEY);
    m.put("fs.s3a.secret.key", SECRET_KEY);
    // a failing request should fail a test quickly, not after S3A's default minutes of retries
    m.put("fs.s3a.attempts.maximum", "2");
    m.put("fs.s3a.retry.limit", "2");
    m.put("fs.s3a.retry.interval", "100ms");
    return m;
  }

  /** The settings as {@code --conf spark.hadoop.k=v} arguments of a sparkmerge command line. */
  public List<String> confArgs() {
    List<String> l = new ArrayList<>();
    settings().forEach((k, v) -> {
      l.add("--conf");
      l.add("spark.hadoop." + k + "=" + v);
    });
    return l;
  }

  /** What an in-process command line printed and returned. */
  public record Run(int code, String out, String err) {}

  /**
   * Runs a sparkmerge command line in-process ({@code Main.execute}) with this server's S3A settings as --conf
   * (and {@code --master local[2]} for the commands that start Spark).
   */
  public Run sparkmerge(String... args) {
    List<String> a = new ArrayList<>(List.of(args));
    a.addAll(confArgs());
    if (List.of("merge", "stats", "masks", "subspaces", "checkpoints").contains(args[0])) {
      a.addAll(List.of("--master", "local[2]"));
    }
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
    int code = io.sparkmerge.cli.Main.execute(a.toArray(String[]::new), new java.io.PrintStream(out, true, java.nio.charset.StandardCharsets.UTF_8),
        new java.io.PrintStream(err, true, java.nio.charset.StandardCharsets.UTF_8));
    return new Run(code, out.toString(java.nio.charset.StandardCharsets.UTF_8), err.toString(java.nio.charset.StandardCharsets.UTF_8));
  }

  /** Sets this server's S3A settings on a Hadoop configuration (e.g. a Spark session's). */
  public Configuration applyTo(Configuration conf) {
    settings().forEach(conf::set);
    return conf;
  }

  public Configuration configuration() {
    return applyTo(new Configuration());
  }

  /** Copies a local directory to {@code s3a://BUCKET/key}; returns that URI. */
  public String upload(String localDir, String key) throws IOException {
    org.apache.hadoop.fs.Path dst = new org.apache.hadoop.fs.Path(uri(key));
    FileSystem s3 = fs();
    org.apache.hadoop.fs.FileUtil.copy(FileSystem.getLocal(new Configuration()), new org.apache.hadoop.fs.Path(localDir), s3, dst, false,
        s3.getConf());
    return dst.toString();
  }

  public FileSystem fs() throws IOException {
    return FileSystem.get(URI.create("s3a://" + bucket + "/"), configuration());
  }
}
