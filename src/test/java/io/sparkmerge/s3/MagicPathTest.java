package io.sparkmerge.s3;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkmerge.testing.S3Server;
import java.util.Arrays;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.s3a.S3AFileSystem;
import org.apache.hadoop.fs.s3a.commit.files.SinglePendingCommit;
import org.apache.hadoop.fs.s3a.commit.impl.CommitOperations;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What an object-store commit (issue 24, phase 2) would build on, checked against the test suite's S3
 * server: S3A's magic paths. A file written under {@code OUT/__magic_job-ID/<task>/__base/NAME} becomes a
 * multipart upload to {@code OUT/NAME} that is not completed (invisible), with a {@code NAME.pending}
 * record beside it; the upload is listed under OUT; completing it publishes the file, aborting it leaves
 * nothing. If S3Proxy or S3A stopped supporting any of this, the commit could not be tested here.
 */
class MagicPathTest {
  @RegisterExtension static final S3Server S3 = new S3Server();

  @Test
  void aMagicWriteIsAnUncompletedUploadThatCompletesOrAborts() throws Exception {
    S3AFileSystem fs = (S3AFileSystem) S3.fs();
    Path out = new Path(S3.uri("out"));
    assertTrue(fs.hasPathCapability(out, "fs.s3a.capability.magic.committer"));
    byte[] data = new byte[3 * 1024 * 1024 + 7];
    Arrays.fill(data, (byte) 0x5a);
    Path magic = new Path(S3.uri("out/__magic_job-j1/task-0/__base/model-1.safetensors"));
    try (var os = fs.create(magic, true)) {
      os.write(data);
    }
    Path dest = new Path(S3.uri("out/model-1.safetensors"));
    assertFalse(fs.exists(dest), "not visible before the driver completes the upload");
    assertEquals(0, fs.getFileStatus(magic).getLen(), "the magic path holds a marker, not the bytes");
    CommitOperations ops = new CommitOperations(fs);
    assertEquals(1, ops.listPendingUploadsUnderPath(out).size());

    Path pending = new Path(magic.getParent(), "model-1.safetensors.pending");
    SinglePendingCommit c = SinglePendingCommit.load(fs, pending, fs.getFileStatus(pending), SinglePendingCommit.serializer());
    assertEquals("out/model-1.safetensors", c.getDestinationKey());
    assertEquals(data.length, c.getLength());
    ops.commitOrFail(c);
    byte[] back = new byte[data.length];
    try (FSDataInputStream in = fs.open(dest)) {
      in.readFully(0, back);
    }
    assertArrayEquals(data, back);
    assertEquals(0, ops.listPendingUploadsUnderPath(out).size());

    // a killed run's upload: found by listing the prefix, aborted, never visible
    Path magic2 = new Path(S3.uri("out/__magic_job-j2/task-0/__base/model-2.safetensors"));
    try (var os = fs.create(magic2, true)) {
      os.write(new byte[1000]);
    }
    assertEquals(1, ops.listPendingUploadsUnderPath(out).size());
    assertEquals(1, ops.abortPendingUploadsUnderPath(out));
    assertEquals(0, ops.listPendingUploadsUnderPath(out).size());
    assertFalse(fs.exists(new Path(S3.uri("out/model-2.safetensors"))));
  }
}
