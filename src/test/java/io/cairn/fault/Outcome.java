package io.cairn.fault;

/** What a client knows about an operation once it has its answer (or gave up waiting). */
public enum Outcome {
    /** The operation took effect, once, somewhere between its invocation and its return. */
    OK,
    /** The operation definitely did not take effect (a 4xx the API says changes nothing): dropped. */
    FAILED,
    /**
     * Timeout, 5xx, connection error: it may have taken effect at any time after its invocation,
     * or never. The checker treats its return time as +infinity.
     */
    UNKNOWN
}
