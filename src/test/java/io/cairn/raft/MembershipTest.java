package io.cairn.raft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class MembershipTest {
    @Test
    void votersExcludeLearners() {
        Membership m = new Membership(List.of(
                new Member("a", "h:1", "h:2", true),
                new Member("b", "h:3", "h:4", false)));
        assertThat(m.voterIds()).containsExactly("a");
        assertThat(m.isVoter("b")).isFalse();
        assertThat(m.member("b")).isPresent();
    }

    @Test
    void duplicateIdsAreRejected() {
        Member a = new Member("a", "h:1", "h:2", true);
        assertThatThrownBy(() -> new Membership(List.of(a, a))).isInstanceOf(IllegalArgumentException.class);
    }
}
