package dev.docstream.adapters.registry;

/** A registry request refused, with a one-line reason an operator can act on. */
public final class RegistryException extends Exception {
  public RegistryException(String message) {
    super(message);
  }

  public RegistryException(String message, Throwable cause) {
    super(message, cause);
  }
}
