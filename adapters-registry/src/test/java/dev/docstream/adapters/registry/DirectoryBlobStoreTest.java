package dev.docstream.adapters.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.docstream.adapters.AdapterConfig;
import dev.docstream.adapters.AdapterFormatException;
import dev.docstream.adapters.PeftAdapter;
import java.io.FileNotFoundException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DirectoryBlobStoreTest {
  @TempDir Path tmp;

  private Path folder(String config, byte[] weights) throws Exception {
    Path f = Files.createDirectories(tmp.resolve("in-" + config.hashCode()));
    Files.writeString(f.resolve(AdapterConfig.FILE), config);
    Files.write(f.resolve(PeftAdapter.WEIGHTS), weights);
    return f;
  }

  @Test
  void shouldStoreByContentOnceAndVerifyWhatIsFetched() throws Exception {
    DirectoryBlobStore store = new DirectoryBlobStore(tmp.resolve("blobs"));
    BlobStore.StoredBlob a = store.put(folder("{\"r\": 4}", new byte[] {1, 2, 3}));
    BlobStore.StoredBlob again = store.put(folder("{\"r\": 4}", new byte[] {1, 2, 3}));
    BlobStore.StoredBlob other = store.put(folder("{\"r\": 8}", new byte[] {1, 2, 3}));
    assertEquals(a, again, "the same content is the same blob");
    assertTrue(!a.uri().equals(other.uri()), "a different config is a different blob");
    assertEquals(3, a.sizeBytes());
    Path fetched = store.fetch(a.uri());
    Blobs.verify(fetched, a.weightsSha256(), a.configSha256());

    Files.write(fetched.resolve(PeftAdapter.WEIGHTS), new byte[] {1, 2, 4});
    AdapterFormatException e =
        assertThrows(
            AdapterFormatException.class,
            () -> Blobs.verify(fetched, a.weightsSha256(), a.configSha256()));
    assertTrue(e.getMessage().contains("checksum mismatch"), e.getMessage());
    assertTrue(e.getMessage().contains(PeftAdapter.WEIGHTS), e.getMessage());
  }

  @Test
  void shouldRefuseUnknownAndMalformedUris() {
    DirectoryBlobStore store = new DirectoryBlobStore(tmp.resolve("blobs"));
    assertThrows(FileNotFoundException.class, () -> store.fetch("sha256:" + "0".repeat(64)));
    assertThrows(FileNotFoundException.class, () -> store.fetch("sha256:../../etc"));
    assertThrows(FileNotFoundException.class, () -> store.fetch("s3://bucket/x"));
  }
}
