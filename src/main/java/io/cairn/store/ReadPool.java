package io.cairn.store;

import java.nio.file.Path;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A fixed set of plain JDBC read connections to state.db. In WAL mode a reader sees the last
 * commit before its first statement and is never blocked by the writer. Thread-safe.
 */
final class ReadPool implements AutoCloseable {
    private final Path file;
    private final StoreOptions o;
    private final ArrayBlockingQueue<Db.Stmts> idle;
    private final List<Db.Stmts> all = new ArrayList<>();
    private volatile boolean closed;

    ReadPool(Path file, StoreOptions o) throws SQLException {
        this.file = file;
        this.o = o;
        this.idle = new ArrayBlockingQueue<>(o.readConnections());
        try {
            for (int i = 0; i < o.readConnections(); i++) {
                Db.Stmts s = new Db.Stmts(Db.open(file, o, false));
                synchronized (all) {
                    all.add(s);
                }
                idle.add(s);
            }
        } catch (SQLException e) {
            close();
            throw e;
        }
    }

    /** A connection for one read; waits up to {@code readWaitMillis}, then {@code timeout}. */
    Db.Stmts borrow() {
        if (closed) throw new IllegalStateException("the document store is closed");
        Db.Stmts s;
        try {
            s = idle.poll(o.readWaitMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CairnException(ErrorCode.TIMEOUT, "Interrupted while waiting for a read connection.");
        }
        if (s == null) {
            throw new CairnException(ErrorCode.TIMEOUT, "Every read connection stayed busy for "
                    + o.readWaitMillis() + " ms; try again.");
        }
        return s;
    }

    /** Ends the read transaction and returns the connection; a broken one is replaced. */
    void release(Db.Stmts s) {
        try {
            s.conn.rollback();
        } catch (SQLException e) {
            s.close();
            synchronized (all) {
                all.remove(s);
            }
            if (closed) return;
            try {
                s = new Db.Stmts(Db.open(file, o, false));
                synchronized (all) {
                    all.add(s);
                }
            } catch (SQLException again) {
                throw new IllegalStateException("cannot reopen a read connection to " + file, again);
            }
        }
        if (closed) {
            s.close();
            return;
        }
        idle.add(s);
    }

    @Override
    public void close() {
        closed = true;
        synchronized (all) {
            for (Db.Stmts s : all) s.close();
            all.clear();
        }
        idle.clear();
    }
}
