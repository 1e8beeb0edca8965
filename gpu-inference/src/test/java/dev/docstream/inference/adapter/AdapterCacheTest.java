package dev.docstream.inference.adapter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.docstream.inference.TinyModels;
import dev.docstream.inference.lora.LoadedAdapter;
import dev.docstream.inference.model.Extractor;
import dev.docstream.inference.model.ModelCheckpoint;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AdapterCacheTest {
  @TempDir Path dir;

  @Test
  void shouldNeverHandOutAnAdapterItClosedToStayWithinBudget() throws Exception {
    String sha = TinyModels.saveRandomBase(dir.resolve("base"), 3);
    try (Extractor e = Extractor.load(dir.resolve("base"))) {
      for (String t : List.of("A", "B", "C", "D")) {
        TinyModels.randomAdapter(e.block(), t, sha, 2, t.hashCode())
            .write(dir.resolve("adapters").resolve(t));
      }
      Set<LoadedAdapter> pinned = new HashSet<>();
      var store =
          new DirectoryAdapterStore(
              dir.resolve("adapters"),
              ModelCheckpoint.checksum(dir.resolve("base")),
              e.block().moduleShapes());
      // A budget of one byte: every adapter is over it, and the others are pinned (in use).
      try (AdapterCache cache = new AdapterCache(store, e.manager(), 1, pinned::contains)) {
        for (String t : List.of("A", "B", "C")) {
          LoadedAdapter a = cache.get(t).adapter();
          // Its arrays are alive: a closed adapter would throw here.
          assertTrue(a.modules().values().iterator().next()[0].getShape().size() > 0, t);
          pinned.add(a);
        }
        assertEquals(
            3, cache.size(), "all pinned: the cache stays over budget rather than close one");
        pinned.clear();
        cache.get("D");
        assertEquals(1, cache.size(), "unpinned, the least recently used go");
      }
    }
  }
}
