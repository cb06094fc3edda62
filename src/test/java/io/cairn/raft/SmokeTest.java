package io.cairn.raft;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class SmokeTest {
    @Test
    void threeNodesElectAndReplicate() {
        RaftHarness h = RaftHarness.cluster(3);
        RaftHarness.Node l = h.electLeader(100);
        assertThat(l.rep.propose("x".getBytes())).isInstanceOf(ProposeResult.Accepted.class);
        h.process(l);
        h.run(5);
        for (RaftHarness.Node n : h.nodes.values()) {
            assertThat(n.appliedData()).hasSize(1);
        }
    }
}
