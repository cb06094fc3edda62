package io.cairn.log;

/**
 * The log file could not be read or written. After one is thrown by a write, the store refuses
 * all further calls: whether the failed fsync reached the disk is unknown, so the only safe move
 * is to stop the node and recover from the file on restart.
 */
public final class LogStoreException extends RuntimeException {
    public LogStoreException(String message, Throwable cause) {
        super(message, cause);
    }

    public LogStoreException(String message) {
        super(message);
    }
}
