package io.cairn.raft;

import java.util.Objects;

/**
 * One member of the cluster. The addresses are opaque {@code host:port} strings to Raft; they
 * travel in membership entries so every node learns how to reach every other one.
 */
public record Member(String id, String raftAddress, String httpAddress, boolean voter) {
    public Member {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(raftAddress, "raftAddress");
        Objects.requireNonNull(httpAddress, "httpAddress");
    }
}
