package dev.docstream.app.qc;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.docstream.schemas.DocumentField;
import dev.docstream.schemas.ExtractedField;
import dev.docstream.schemas.QcTask;
import dev.docstream.schemas.Verdict;
import dev.docstream.topology.images.ImageStore;
import dev.docstream.topology.qc.review.QualityFigures;
import dev.docstream.topology.qc.review.ReviewLog;
import dev.docstream.topology.qc.review.ReviewQueue;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.staticfiles.Location;
import io.javalin.json.JavalinJackson;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The review service's HTTP side (Javalin): the analysts' JSON API and the review pages, served
 * from {@code qc-web/} on the classpath. Every request but the sign-in page and its assets needs a
 * session: the API answers 401 without one, and so do the pages (with a pointer to the sign-in).
 *
 * <p>Personal data stays inside the responses: no field value or image is logged, and responses are
 * not cached. An image is served only to the analyst who holds its task's lease.
 */
public final class ReviewServer implements AutoCloseable {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ReviewServer.class);

  /** Where and how the service listens. */
  public record Settings(String host, int port, Duration sessionIdle, double lowConfidence) {}

  private static final String COOKIE = "docstream_session";
  private static final Set<String> PUBLIC =
      Set.of("/login.html", "/login.js", "/app.js", "/style.css", "/api/login", "/favicon.ico");

  private final ReviewLog log;
  private final ImageStore images;
  private final Analysts analysts;
  private final Sessions sessions;
  private final Settings settings;
  private final Clock clock;
  private Javalin app;

  private ReviewServer(
      ReviewLog log, ImageStore images, Analysts analysts, Settings settings, Clock clock) {
    this.log = log;
    this.images = images;
    this.analysts = analysts;
    this.settings = settings;
    this.clock = clock;
    this.sessions = new Sessions(settings.sessionIdle(), clock);
  }

  /** Starts the service; {@link #port()} says where it listens. */
  public static ReviewServer start(
      ReviewLog log, ImageStore images, Analysts analysts, Settings settings, Clock clock) {
    ReviewServer s = new ReviewServer(log, images, analysts, settings, clock);
    s.app =
        Javalin.create(
                config -> {
                  config.jsonMapper(new JavalinJackson(new ObjectMapper(), false));
                  config.staticFiles.add("/qc-web", Location.CLASSPATH);
                  config.jetty.host = settings.host();
                  config.jetty.port = settings.port();
                  config.startup.showJavalinBanner = false;
                  config.routes.exception(NoSession.class, (e, ctx) -> s.refuse(ctx));
                  config.routes.exception(
                      BadRequest.class, (e, ctx) -> error(ctx, 400, e.getMessage()));
                  // Anything else: logged by its class and message (Kafka's, never a field value).
                  config.routes.exception(
                      Exception.class,
                      (e, ctx) -> {
                        LOG.warn("{} {} failed: {}", ctx.method(), ctx.path(), e.toString());
                        error(ctx, 500, "the review service failed; try again");
                      });
                  config.routes.before(s::authenticate);
                  config.routes.get("/", ctx -> ctx.redirect("/index.html"));
                  config.routes.post("/api/login", s::login);
                  config.routes.post("/api/logout", s::logout);
                  config.routes.get("/api/me", ctx -> ctx.json(Map.of("analyst", s.analyst(ctx))));
                  config.routes.get("/api/queues", s::queues);
                  config.routes.post("/api/queues/{type}/next", s::next);
                  config.routes.get("/api/tasks/{job}", s::task);
                  config.routes.get("/api/tasks/{job}/image", s::image);
                  config.routes.post("/api/tasks/{job}/verdict", s::verdict);
                  config.routes.post("/api/tasks/{job}/skip", s::skip);
                  config.routes.get("/api/quality", s::quality);
                })
            .start();
    return s;
  }

  /** The port it listens on. */
  public int port() {
    return app.port();
  }

  private static final class NoSession extends RuntimeException {
    NoSession() {
      super("no session", null, false, false);
    }
  }

  private static final class BadRequest extends RuntimeException {
    BadRequest(String message) {
      super(message, null, false, false);
    }
  }

  private void authenticate(Context ctx) {
    ctx.header("Cache-Control", "no-store");
    ctx.header("X-Content-Type-Options", "nosniff");
    ctx.header("Content-Security-Policy", "default-src 'self'; img-src 'self' data:");
    if (PUBLIC.contains(ctx.path())) {
      return;
    }
    if (sessions.analyst(ctx.cookie(COOKIE)).isEmpty()) {
      throw new NoSession();
    }
  }

  private void refuse(Context ctx) {
    ctx.status(401);
    if (ctx.path().startsWith("/api/")) {
      ctx.json(Map.of("error", "sign in first"));
    } else {
      ctx.contentType("text/html")
          .result(
              "<!doctype html><meta http-equiv=\"refresh\" content=\"0;url=/login.html\">"
                  + "<p>Sign in first: <a href=\"/login.html\">sign in</a></p>");
    }
  }

  private static void error(Context ctx, int status, String message) {
    ctx.status(status).json(Map.of("error", message));
  }

  private String analyst(Context ctx) {
    return sessions.analyst(ctx.cookie(COOKIE)).orElseThrow(NoSession::new);
  }

  private void login(Context ctx) {
    Map<?, ?> body = body(ctx);
    String name = String.valueOf(body.get("analyst"));
    String password = String.valueOf(body.get("password"));
    if (!analysts.verify(name, password)) {
      error(ctx, 401, "unknown analyst or wrong password");
      return;
    }
    String token = sessions.open(name);
    ctx.header("Set-Cookie", COOKIE + "=" + token + "; Path=/; HttpOnly; SameSite=Strict");
    ctx.json(Map.of("analyst", name));
  }

  private void logout(Context ctx) {
    sessions.close(ctx.cookie(COOKIE));
    ctx.header("Set-Cookie", COOKIE + "=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict");
    ctx.status(204);
  }

  private void queues(Context ctx) {
    ctx.json(Map.of("queues", log.queue().queues(clock.instant())));
  }

  private void next(Context ctx) {
    String analyst = analyst(ctx);
    Optional<ReviewLog.Claim> claim =
        log.claim(ctx.pathParam("type"), analyst, sessions.skipped(ctx.cookie(COOKIE)));
    if (claim.isEmpty()) {
      ctx.status(204);
      return;
    }
    ctx.json(taskJson(claim.get()));
  }

  private void task(Context ctx) {
    Optional<ReviewLog.Claim> claim = log.leasedTo(ctx.pathParam("job"), analyst(ctx));
    if (claim.isEmpty()) {
      error(ctx, log.queue().get(ctx.pathParam("job")).isEmpty() ? 404 : 409, "not leased to you");
      return;
    }
    ctx.json(taskJson(claim.get()));
  }

  private void image(Context ctx) throws IOException {
    Optional<ReviewLog.Claim> claim = log.leasedTo(ctx.pathParam("job"), analyst(ctx));
    String sha = claim.map(c -> c.task().getImageSha256()).orElse(null);
    Optional<byte[]> image = sha == null ? Optional.empty() : images.get(sha);
    if (image.isEmpty()) {
      error(ctx, 404, "no image for this task (not leased to you, or expired)");
      return;
    }
    ctx.contentType("image/png").result(image.get());
  }

  private void verdict(Context ctx) {
    String job = ctx.pathParam("job");
    Map<?, ?> body = body(ctx);
    Verdict kind;
    try {
      kind = Verdict.valueOf(String.valueOf(body.get("verdict")));
    } catch (IllegalArgumentException e) {
      throw new BadRequest("verdict must be CORRECT, CORRECTED or UNREADABLE");
    }
    Map<DocumentField, String> corrections = new EnumMap<>(DocumentField.class);
    if (body.get("corrections") instanceof List<?> list) {
      for (Object o : list) {
        if (!(o instanceof Map<?, ?> c)) {
          throw new BadRequest("a correction is {\"field\": ..., \"value\": ...}");
        }
        try {
          corrections.put(
              DocumentField.valueOf(String.valueOf(c.get("field"))),
              c.get("value") == null ? null : String.valueOf(c.get("value")));
        } catch (IllegalArgumentException e) {
          throw new BadRequest("unknown field in a correction");
        }
      }
    }
    ReviewLog.Submitted s;
    try {
      s = log.submit(job, analyst(ctx), kind, corrections);
    } catch (IllegalArgumentException e) {
      throw new BadRequest(e.getMessage());
    }
    switch (s.outcome()) {
      case UNKNOWN -> error(ctx, 404, "no such task");
      case NOT_YOURS -> error(ctx, 409, "another analyst holds this task");
      default -> {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("jobId", job);
        out.put("verdict", s.verdict().getVerdict().name());
        out.put("duplicate", s.outcome() == ReviewLog.Outcome.DUPLICATE);
        ctx.json(out);
      }
    }
  }

  private void skip(Context ctx) {
    String job = ctx.pathParam("job");
    String analyst = analyst(ctx);
    sessions.skipped(ctx.cookie(COOKIE)).add(job);
    log.skip(job, analyst);
    ctx.status(204);
  }

  private void quality(Context ctx) {
    ctx.json(figures());
  }

  /**
   * The quality figures now, with timeline buckets of a twelfth of the reviewed span (>= 1 min).
   */
  public QualityFigures.Figures figures() {
    List<ReviewQueue.Reviewed> reviewed = log.queue().reviewed();
    long lo = Long.MAX_VALUE;
    long hi = Long.MIN_VALUE;
    for (ReviewQueue.Reviewed r : reviewed) {
      lo = Math.min(lo, r.verdict().getDecidedAt().toEpochMilli());
      hi = Math.max(hi, r.verdict().getDecidedAt().toEpochMilli());
    }
    long bucket = Math.max(60_000, reviewed.isEmpty() ? 60_000 : (hi - lo) / 12 + 1);
    return QualityFigures.of(reviewed, bucket, log.queue().counts(clock.instant()));
  }

  private Map<String, Object> taskJson(ReviewLog.Claim claim) {
    QcTask t = claim.task();
    double threshold = settings.lowConfidence();
    List<Map<String, Object>> fields = new ArrayList<>();
    for (ExtractedField f : t.getFields()) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("field", f.getField().name());
      m.put("value", f.getValue() == null ? "" : f.getValue());
      m.put("confidence", f.getConfidence());
      m.put("low", f.getConfidence() < threshold);
      fields.add(m);
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("jobId", t.getJobId());
    out.put("documentType", t.getDocumentType());
    out.put("adapterId", t.getAdapterId());
    out.put("adapterVersion", t.getAdapterVersion());
    out.put(
        "reasons",
        t.getSampleReasons().isEmpty() ? List.of(t.getSampleReason()) : t.getSampleReasons());
    boolean hasImage = t.getImageSha256() != null;
    out.put("imageUrl", hasImage ? "/api/tasks/" + t.getJobId() + "/image" : null);
    out.put("fields", fields);
    out.put("createdAt", t.getCreatedAt().toEpochMilli());
    out.put("leaseExpiresAt", claim.expiresAt().toEpochMilli());
    return out;
  }

  private static Map<?, ?> body(Context ctx) {
    try {
      Map<?, ?> m = ctx.bodyAsClass(Map.class);
      if (m == null) {
        throw new BadRequest("expected a JSON object");
      }
      return m;
    } catch (RuntimeException e) {
      if (e instanceof BadRequest b) {
        throw b;
      }
      throw new BadRequest("expected a JSON object");
    }
  }

  @Override
  public void close() {
    app.stop();
  }
}
