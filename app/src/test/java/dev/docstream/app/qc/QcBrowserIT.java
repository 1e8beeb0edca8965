package dev.docstream.app.qc;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.docstream.embedded.EmbeddedKafkaBroker;
import dev.docstream.schemas.DocumentField;
import dev.docstream.schemas.ExtractedField;
import dev.docstream.schemas.QcTask;
import dev.docstream.schemas.QcVerdict;
import dev.docstream.schemas.Topics;
import dev.docstream.schemas.Verdict;
import dev.docstream.schemas.registry.InMemorySchemaRegistry;
import dev.docstream.schemas.registry.SchemaRegistries;
import dev.docstream.schemas.registry.SchemaRegistry;
import dev.docstream.topology.images.DirectoryImageStore;
import dev.docstream.topology.qc.QcSampler;
import dev.docstream.training.synth.DocumentRenderer;
import dev.docstream.training.synth.DocumentTypeSpec;
import dev.docstream.training.synth.IdentitySampler;
import dev.docstream.training.synth.SyntheticDocument;
import java.net.CookieManager;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.Keys;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.interactions.Actions;

/**
 * The review page in a real Chromium (Debian's chromium and chromium-driver; skipped where they are
 * not installed): sign in, open a queue, see the image, correct a field and submit with the
 * keyboard only; the verdict on qc.verdicts holds the correction, and another analyst signed in at
 * the same time is never offered the task. Writes screenshots of the task view and the quality page
 * to target/qc-screenshots (copied into docs/qc for the README).
 */
class QcBrowserIT {
  private static final String SCOPE = "qc-browser-it";
  private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  private static final Path DRIVER = Path.of("/usr/bin/chromedriver");
  private static final String PASSPORT = "GBR-PASSPORT-2000";
  private static final String CARD = "NLD-ID-CARD-2024";

  private static EmbeddedKafkaBroker broker;
  private static SchemaRegistry registry;
  @TempDir static Path tmp;

  /** A clock the test moves: the seeded verdicts spread over two days, then real time. */
  private static final class TestClock extends Clock {
    volatile Instant now;

    TestClock(Instant start) {
      now = start;
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }

  @BeforeAll
  static void start() {
    Assumptions.assumeTrue(
        Files.isExecutable(CHROMIUM) && Files.isExecutable(DRIVER),
        "no chromium and chromium-driver here: apt-get install chromium chromium-driver");
    broker = EmbeddedKafkaBroker.ephemeral().start();
    EmbeddedKafkaBroker.createTopics(
        broker.bootstrapServers(),
        Map.of(
            Topics.QC_REVIEW.name(), 1, Topics.QC_VERDICTS.name(), 1, Topics.QC_LEASES.name(), 1),
        Map.of(Topics.QC_LEASES.name(), Map.of("cleanup.policy", "compact")));
    registry = SchemaRegistries.forUrl("mock://" + SCOPE, null);
  }

  @AfterAll
  static void stop() {
    if (broker != null) {
      broker.close();
    }
    InMemorySchemaRegistry.dropScope(SCOPE);
  }

  /** Tasks with real synthetic document images, their truth kept by the caller. */
  private static List<QcTask> seed(
      DirectoryImageStore images, Map<String, Map<DocumentField, String>> truth) throws Exception {
    Random rnd = new Random(3);
    List<QcTask> tasks = new ArrayList<>();
    for (int i = 0; i < 120; i++) {
      String type = i % 3 == 0 ? CARD : PASSPORT;
      int version = type.equals(PASSPORT) && i >= 60 ? 2 : 1;
      DocumentTypeSpec spec = DocumentTypeSpec.forId(type);
      SyntheticDocument doc =
          DocumentRenderer.render(
              spec, IdentitySampler.sample(spec, rnd), DocumentRenderer.Augmentation.MILD, rnd);
      byte[] png = doc.png();
      String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(png));
      images.put(sha, png);
      Map<DocumentField, String> real = doc.identity().groundTruth();
      List<ExtractedField> fields = new ArrayList<>();
      Map<DocumentField, String> t = new EnumMap<>(DocumentField.class);
      for (DocumentField f : DocumentField.values()) {
        double conf = version == 2 ? 0.6 + 0.4 * rnd.nextDouble() : 0.3 + 0.7 * rnd.nextDouble();
        boolean right = rnd.nextDouble() < conf;
        String value = right ? real.get(f) : real.get(f) + "Q";
        fields.add(
            ExtractedField.newBuilder()
                .setField(f)
                .setValue(value)
                .setConfidence((float) conf)
                .build());
        t.put(f, real.get(f));
      }
      String id = "job-" + i;
      truth.put(id, t);
      boolean audit = rnd.nextDouble() < 0.4;
      tasks.add(
          QcTask.newBuilder()
              .setJobId(id)
              .setDocumentType(type)
              .setAdapterId(type + "@" + version)
              .setAdapterVersion(version)
              .setSampleReason(audit ? QcSampler.RANDOM : QcSampler.LOW_CONFIDENCE)
              .setSampleReasons(
                  audit ? List.of(QcSampler.RANDOM) : List.of(QcSampler.LOW_CONFIDENCE))
              .setFields(fields)
              .setCreatedAt(Instant.now())
              .setImageSha256(sha)
              .build());
    }
    return tasks;
  }

  @Test
  void shouldReviewATaskWithTheKeyboardOnlyAndWriteTheCorrection() throws Exception {
    Path imagesDir = tmp.resolve("images");
    TestClock clock = new TestClock(Instant.now().minus(Duration.ofDays(2)));
    DirectoryImageStore images =
        new DirectoryImageStore(imagesDir, Duration.ofDays(30), Clock.systemUTC());
    Map<String, Map<DocumentField, String>> truth = new HashMap<>();
    List<QcTask> tasks = seed(images, truth);
    try (var producer =
        new KafkaProducer<>(
            Map.<String, Object>of("bootstrap.servers", broker.bootstrapServers()),
            new StringSerializer(),
            Topics.QC_REVIEW.valueSerde(registry))) {
      for (QcTask t : tasks) {
        producer.send(new ProducerRecord<>(Topics.QC_REVIEW.name(), t.getJobId(), t));
      }
    }
    Map<String, Object> c = new HashMap<>();
    c.put(ReviewConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
    c.put(ReviewConfig.SCHEMA_REGISTRY_URL_CONFIG, "mock://" + SCOPE);
    c.put(ReviewConfig.PORT_CONFIG, 0);
    c.put(ReviewConfig.IMAGES_DIR_CONFIG, imagesDir.toString());
    // The seeded confidences lie between 0.3 and 1: highlight under 0.8, as a stricter type would.
    c.put(ReviewConfig.LOW_CONFIDENCE_CONFIG, "0.8");
    c.put(
        ReviewConfig.ANALYSTS_CONFIG,
        "alice:"
            + Analysts.hash("alice-pw")
            + ",bob:"
            + Analysts.hash("bob-pw")
            + ",carol:"
            + Analysts.hash("carol-pw"));
    try (ReviewService service = ReviewService.start(new ReviewConfig(c), null, clock)) {
      await()
          .atMost(Duration.ofSeconds(20))
          .until(() -> service.log().queue().size() == tasks.size());
      // Carol has reviewed most of them over the last two days (the quality page's data).
      for (int i = 0; i < 100; i++) {
        String type = i % 3 == 0 ? CARD : PASSPORT;
        var claim = service.log().claim(type, "carol", Set.of()).orElseThrow();
        Map<DocumentField, String> corrections = new EnumMap<>(truth.get(claim.task().getJobId()));
        service.log().submit(claim.task().getJobId(), "carol", Verdict.CORRECT, corrections);
        clock.now = clock.now.plus(Duration.ofMinutes(25));
      }
      clock.now = Instant.now();
      URI base = URI.create("http://localhost:" + service.port());
      WebDriver driver = chromium();
      try {
        review(driver, base, service);
      } finally {
        driver.quit();
      }
    }
  }

  private static WebDriver chromium() {
    ChromeOptions options = new ChromeOptions();
    options.setBinary(CHROMIUM.toFile());
    options.addArguments(
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--window-size=1280,800",
        "--disable-gpu");
    ChromeDriverService service =
        new ChromeDriverService.Builder()
            .usingDriverExecutable(DRIVER.toFile())
            .usingAnyFreePort()
            .build();
    return new ChromeDriver(service, options);
  }

  private static void review(WebDriver driver, URI base, ReviewService service) throws Exception {
    // Without a session the page sends the browser to sign in.
    driver.get(base.resolve("/index.html").toString());
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> driver.getCurrentUrl().endsWith("/login.html"));
    WebElement analyst =
        await()
            .atMost(Duration.ofSeconds(10))
            .until(() -> driver.findElement(By.id("analyst")), e -> e.isDisplayed());
    analyst.click();
    driver.switchTo().activeElement().sendKeys("alice", Keys.TAB, "alice-pw", Keys.ENTER);
    // The queues: the first row (GBR, alphabetically first) is selected; Enter opens it.
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                !driver
                    .findElements(By.cssSelector("tr[data-type='" + PASSPORT + "'].selected"))
                    .isEmpty());
    new Actions(driver).sendKeys(Keys.ENTER).perform();
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> !driver.findElement(By.id("job-id")).getText().isBlank());
    String jobId = driver.findElement(By.id("job-id")).getText().trim();
    WebElement image = driver.findElement(By.id("document-image"));
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                ((Number)
                            ((JavascriptExecutor) driver)
                                .executeScript("return arguments[0].naturalWidth", image))
                        .intValue()
                    > 0);
    assertTrue(
        !driver.findElements(By.cssSelector("input[data-field].low")).isEmpty(),
        "low fields highlighted");
    screenshot(driver, "task-view.png");

    // Bob, signed in at the same time, is never offered alice's task.
    HttpClient bob =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .cookieHandler(new CookieManager())
            .build();
    assertEquals(
        200,
        post(bob, base, "/api/login", "{\"analyst\":\"bob\",\"password\":\"bob-pw\"}")
            .statusCode());
    for (int i = 0; i < 20; i++) {
      HttpResponse<String> next = post(bob, base, "/api/queues/" + PASSPORT + "/next", "{}");
      if (next.statusCode() == 204) {
        break;
      }
      String offered =
          new com.fasterxml.jackson.databind.ObjectMapper()
              .readTree(next.body())
              .get("jobId")
              .asText();
      assertNotEquals(jobId, offered);
      assertEquals(204, post(bob, base, "/api/tasks/" + offered + "/skip", "{}").statusCode());
    }

    // Correct the focused field (the first low one) and submit, keys only.
    WebElement field = driver.switchTo().activeElement();
    String name = field.getAttribute("data-field");
    assertTrue(name != null, "a field input has the focus");
    field.sendKeys(Keys.chord(Keys.CONTROL, "a"), "SMYTHE");
    new Actions(driver).keyDown(Keys.CONTROL).sendKeys(Keys.ENTER).keyUp(Keys.CONTROL).perform();
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> driver.findElement(By.id("status")).getText().contains("Submitted"));

    QcVerdict verdict = verdictOf(jobId);
    assertEquals("alice", verdict.getAnalystId());
    assertEquals(Verdict.CORRECTED, verdict.getVerdict());
    assertEquals(1, verdict.getCorrections().size());
    assertEquals(name, verdict.getCorrections().get(0).getField().name());
    assertEquals("SMYTHE", verdict.getCorrections().get(0).getValue());

    // The quality page, with its plots.
    driver.get(base.resolve("/quality.html").toString());
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                !driver.findElements(By.cssSelector("svg#reliability circle")).isEmpty()
                    && !driver.findElements(By.cssSelector("svg#timeline polyline")).isEmpty()
                    && !driver.findElements(By.cssSelector("#quality-table tr")).isEmpty());
    screenshot(driver, "quality.png");
    assertEquals(
        401,
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(base.resolve("/api/queues")).build(),
                HttpResponse.BodyHandlers.ofString())
            .statusCode());
  }

  private static QcVerdict verdictOf(String jobId) {
    Map<String, Object> c = new HashMap<>();
    c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
    c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    List<QcVerdict> found = new ArrayList<>();
    try (var consumer =
        new KafkaConsumer<>(c, new StringDeserializer(), Topics.QC_VERDICTS.valueSerde(registry))) {
      TopicPartition p = new TopicPartition(Topics.QC_VERDICTS.name(), 0);
      consumer.assign(List.of(p));
      consumer.seekToBeginning(List.of(p));
      long end = consumer.endOffsets(List.of(p)).get(p);
      while (consumer.position(p) < end) {
        consumer
            .poll(Duration.ofMillis(200))
            .forEach(
                r -> {
                  if (r.key().equals(jobId)) {
                    found.add(r.value());
                  }
                });
      }
    }
    assertEquals(1, found.size(), "one verdict for " + jobId);
    return found.get(0);
  }

  private static HttpResponse<String> post(HttpClient http, URI base, String path, String body)
      throws Exception {
    return http.send(
        HttpRequest.newBuilder(base.resolve(path))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static void screenshot(WebDriver driver, String name) throws Exception {
    Path dir = Path.of("target", "qc-screenshots");
    Files.createDirectories(dir);
    byte[] png = ((org.openqa.selenium.TakesScreenshot) driver).getScreenshotAs(OutputType.BYTES);
    Files.write(dir.resolve(name), png);
  }
}
