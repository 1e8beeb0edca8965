package dev.docstream.app.cli;

/**
 * A problem the user can fix (a wrong argument, nothing listening at an address): printed as one
 * line.
 */
public final class UserError extends RuntimeException {
  public UserError(String message) {
    super(message);
  }
}
