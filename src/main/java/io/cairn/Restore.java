package io.cairn;

import io.cairn.config.CairnConfig;
import io.cairn.log.RaftLogStore;
import io.cairn.raft.HardState;
import io.cairn.raft.Member;
import io.cairn.raft.Membership;
import io.cairn.raft.SnapshotMeta;
import io.cairn.store.DocumentStore;
import io.cairn.store.SnapshotInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code java -jar cairn.jar restore FILE}: seeds a new data directory from a {@code GET /v1/backup}
 * file. The directory then holds the store at the backup's revision, a Raft log whose base is a
 * snapshot at that revision (the backup file itself, so the leader can send it to followers), and
 * the initial voters of {@code CAIRN_PEERS} (or this node alone). Restore every initial node of the
 * new cluster from the same file with the same {@code CAIRN_PEERS}; nodes added later join with
 * {@code CAIRN_JOIN} and receive the snapshot. Refuses a data directory that already holds a node.
 */
public final class Restore {
    private Restore() {}

    /** Returns a line for the operator; throws IllegalArgumentException with a clear message. */
    public static String run(CairnConfig config, Path backup) throws IOException {
        if (!Files.isRegularFile(backup)) throw new IllegalArgumentException("no backup file " + backup);
        SnapshotInfo info = DocumentStore.inspect(backup);
        Path dir = config.dataDir();
        Path logFile = dir.resolve("raft-log.db");
        Path stateFile = dir.resolve("state.db");
        if (Files.exists(logFile) || Files.exists(stateFile)) {
            throw new IllegalArgumentException("the data directory " + dir + " already holds a node; restore into a new one");
        }
        Files.createDirectories(dir.resolve("snapshots"));
        long term = Math.max(1, info.term());
        DocumentStore.restore(backup, stateFile);
        Files.copy(backup, dir.resolve("snapshots").resolve("snap-" + info.index() + "-" + term + ".db"),
                StandardCopyOption.REPLACE_EXISTING);
        List<Member> members = new ArrayList<>();
        for (CairnConfig.PeerSpec p : config.initialVoters()) {
            members.add(new Member(p.id(), p.raftAddress(), p.httpAddress(), true));
        }
        Membership membership = new Membership(members);
        try (RaftLogStore log = RaftLogStore.open(logFile)) {
            log.bootstrap(membership);
            if (info.index() > 0) {
                log.installSnapshot(new SnapshotMeta(info.index(), term, membership));
                log.persist(new HardState(term, null, info.index()), List.of());
            }
        }
        return "restored revision " + info.index() + " into " + dir + " for voters " + membership.voterIds();
    }
}
