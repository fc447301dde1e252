package io.sparkmerge.s3;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkmerge.testing.S3Server;
import java.util.Arrays;
import java.io.ByteArrayInputStream;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.fs.BBPartHandle;
import org.apache.hadoop.fs.BBUploadHandle;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.MultipartUploader;
import org.apache.hadoop.fs.PartHandle;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.UploadHandle;
import org.apache.hadoop.fs.s3a.S3AFileSystem;
import org.apache.hadoop.fs.s3a.commit.files.SinglePendingCommit;
import org.apache.hadoop.fs.s3a.commit.impl.CommitOperations;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What an object-store commit (issue 24, phase 2) would build on, checked against the test suite's S3
 * server: uploads to the final key left uncompleted until the driver completes them, in S3A's two ways.
 * Magic paths (S3A's own committer): a file written under {@code OUT/__magic_job-ID/<task>/__base/NAME} becomes a
 * multipart upload to {@code OUT/NAME} that is not completed (invisible), with a {@code NAME.pending}
 * record beside it; the upload is listed under OUT; completing it publishes the file, aborting it leaves
 * nothing. Hadoop's public {@code MultipartUploader} (S3A implements it): parts put to a pending upload
 * of {@code OUT/NAME}, its handles passed on as bytes (as a task's result would carry them to the driver),
 * completed there, or aborted by listing OUT. If S3Proxy or S3A stopped supporting any of this, the commit could not be tested here.
 */
class PendingUploadsTest {
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

  @Test
  void aMultipartUploaderUploadCompletesFromItsHandlesElsewhereOrAborts() throws Exception {
    S3AFileSystem fs = (S3AFileSystem) S3.fs();
    Path out = new Path(S3.uri("mpu-out"));
    Path dest = new Path(out, "model-1.safetensors");
    byte[] first = new byte[5 * 1024 * 1024]; // S3's smallest part but the last
    Arrays.fill(first, (byte) 1);
    byte[] last = {2, 3, 4};
    byte[] upload;
    byte[][] parts = new byte[2][];
    try (MultipartUploader up = fs.createMultipartUploader(out).build()) { // the executor
      UploadHandle h = up.startUpload(dest).get(60, TimeUnit.SECONDS);
      parts[0] = up.putPart(h, 1, dest, new ByteArrayInputStream(first), first.length).get(60, TimeUnit.SECONDS).toByteArray();
      parts[1] = up.putPart(h, 2, dest, new ByteArrayInputStream(last), last.length).get(60, TimeUnit.SECONDS).toByteArray();
      upload = h.toByteArray();
    }
    assertFalse(fs.exists(dest), "not visible before the driver completes the upload");
    try (MultipartUploader up = fs.createMultipartUploader(out).build()) { // the driver, from the handles' bytes
      Map<Integer, PartHandle> done = Map.of(1, BBPartHandle.from(ByteBuffer.wrap(parts[0])), 2, BBPartHandle.from(ByteBuffer.wrap(parts[1])));
      up.complete(BBUploadHandle.from(ByteBuffer.wrap(upload)), dest, done).get(60, TimeUnit.SECONDS);
    }
    byte[] back = new byte[first.length + last.length];
    try (FSDataInputStream in = fs.open(dest)) {
      in.readFully(0, back);
    }
    assertArrayEquals(first, Arrays.copyOf(back, first.length));
    assertArrayEquals(last, Arrays.copyOfRange(back, first.length, back.length));

    Path dest2 = new Path(out, "model-2.safetensors");
    try (MultipartUploader up = fs.createMultipartUploader(out).build()) { // a killed run's upload
      UploadHandle h = up.startUpload(dest2).get(60, TimeUnit.SECONDS);
      up.putPart(h, 1, dest2, new ByteArrayInputStream(last), last.length).get(60, TimeUnit.SECONDS);
    }
    try (MultipartUploader up = fs.createMultipartUploader(out).build()) { // the next run
      assertEquals(1, up.abortUploadsUnderPath(out).get(60, TimeUnit.SECONDS));
    }
    assertEquals(0, new CommitOperations(fs).listPendingUploadsUnderPath(out).size());
    assertFalse(fs.exists(dest2));
  }
}
