package io.cairn.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cairn.store.CairnException;
import io.cairn.store.ErrorCode;
import org.junit.jupiter.api.Test;

/**
 * Found by the hostile-input fuzzer (HostileInputIT, seed 5730570477203): {@code POST
 * /v1/cluster/members} took addresses that are not {@code host:port} ({@code "not-an-address"},
 * {@code "127.0.0.1:99999"}, {@code ":80"}, {@code "a b:80"}) and committed the learner; from then
 * on every node's transport threw on each membership change (the address does not parse), so no
 * later member was ever dialled. Such a request is now {@code 400 bad_request} before anything is
 * proposed.
 */
class MemberAddressTest {
    @Test
    void hostPortAddressesPass() {
        for (String ok : new String[] {"127.0.0.1:7001", "node-1.cairn.svc:7000", "[::1]:80", "h:65535", "h:1"}) {
            RequestHandler.requireHostPort(ok, "raftAddress");
        }
    }

    @Test
    void anythingElseIsABadRequest() {
        for (String bad : new String[] {"not-an-address", "127.0.0.1:99999", "127.0.0.1:-1", ":80", "h:", "a b:80", "c d:81",
            "h:0", "h:8o", "h:+80", "[]:80", "h/x:80", "", ":", "h:80 ", "\u0000:1"}) {
            assertThatThrownBy(() -> RequestHandler.requireHostPort(bad, "raftAddress")).as(bad)
                    .isInstanceOfSatisfying(CairnException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.BAD_REQUEST));
        }
    }
}
