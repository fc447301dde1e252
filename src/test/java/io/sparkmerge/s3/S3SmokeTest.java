package io.sparkmerge.s3;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sparkmerge.testing.S3Server;
import java.nio.charset.StandardCharsets;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class S3SmokeTest {
  @RegisterExtension static final S3Server S3 = new S3Server();

  @Test
  void writeReadRename() throws Exception {
    FileSystem fs = S3.fs();
    Path p = new Path(S3.uri("a/b.txt"));
    try (var os = fs.create(p, false)) {
      os.write("hello s3".getBytes(StandardCharsets.UTF_8));
    }
    byte[] b = new byte[2];
    try (FSDataInputStream in = fs.open(p)) {
      in.readFully(6, b);
    }
    assertEquals("s3", new String(b, StandardCharsets.UTF_8));
    Path q = new Path(S3.uri("c/d.txt"));
    assertEquals(true, fs.rename(p, q));
    assertEquals(8, fs.getFileStatus(q).getLen());
    assertEquals(1, fs.listStatus(new Path(S3.uri("c"))).length);
    // a directory S3A made is a directory when read back (S3Proxy's filesystem stores get this wrong)
    fs.mkdirs(new Path(S3.uri("e/f")));
    assertEquals(true, fs.getFileStatus(new Path(S3.uri("e/f"))).isDirectory());
  }
}
