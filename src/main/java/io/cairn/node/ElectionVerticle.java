package io.cairn.node;

import io.cairn.raft.Election;
import io.cairn.raft.ToElection;
import io.cairn.raft.ToReplication;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.MessageConsumer;

/**
 * The election policy of this node (DESIGN.md): it hosts the pure {@link Election} on an event
 * loop, feeds it ticks, peer (pre)vote messages and the records of the ReplicationVerticle, and
 * sends its output on: messages to the transport, decisions to the ReplicationVerticle.
 */
final class ElectionVerticle extends VerticleBase {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(ElectionVerticle.class);
    private final NodeContext node;
    private final Election election;
    private MessageConsumer<Object> consumer;
    private long tickTimer = -1;

    /** Pre-votes are logged once per term: a node cut off asks again every election timeout. */
    private long lastPreVoteTermLogged = -1;

    ElectionVerticle(NodeContext node, Election election) {
        this.node = node;
        this.election = election;
    }

    @Override
    public Future<?> start() {
        consumer = vertx.eventBus().localConsumer(Bus.election(node.id()), msg -> {
            Object body = msg.body();
            if (body instanceof Bus.ToElectionMessage m) {
                election.step(m.message());
            } else if (body instanceof Bus.FromReplication f) {
                for (ToElection r : f.records()) election.receive(r);
            }
            drain();
        });
        tickTimer = vertx.setPeriodic(node.config().tickMillis(), t -> {
            election.tick();
            drain();
        });
        return consumer.completion();
    }

    @Override
    public Future<?> stop() {
        vertx.cancelTimer(tickTimer);
        return consumer == null ? Future.succeededFuture() : consumer.unregister();
    }

    private void drain() {
        if (!election.hasOutput()) return;
        Election.Output out = election.drain();
        for (io.cairn.raft.Message m : out.messages()) {
            if (m instanceof io.cairn.raft.Message.PreVoteRequest p && p.term() != lastPreVoteTermLogged) {
                lastPreVoteTermLogged = p.term();
                log.info("{} heard from no leader in time: asks the voters for a pre-vote for term {}", node.id(), p.term());
            }
        }
        if (!out.messages().isEmpty()) {
            vertx.eventBus().send(Bus.transport(node.id()), new Bus.Outbound(out.messages()), LocalCodec.LOCAL);
        }
        for (ToReplication r : out.toReplication()) {
            vertx.eventBus().send(Bus.replication(node.id()), new Bus.FromElection(r), LocalCodec.LOCAL);
        }
    }
}
