package io.cairn.raft;

import io.cairn.raft.Message.PreVoteRequest;
import io.cairn.raft.Message.PreVoteResponse;
import io.cairn.raft.Message.VoteRequest;
import io.cairn.raft.Message.VoteResponse;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.random.RandomGenerator;

/**
 * The election policy of one node: randomized election timeouts (Raft paper §5.2), PreVote
 * (dissertation §9.6), asking for votes and counting them, and leadership transfer on TimeoutNow
 * (§3.10). It owns no truth: it asks {@link Replication} to start a campaign and tells it when a
 * term is won; Replication decides whether that is still valid. It learns the truth from
 * {@link ToElection} records, which may arrive late, so it may act on a stale view; every such
 * action is re-checked by Replication or only affects liveness (PreVote answers).
 *
 * <p>Until the first {@link ToElection.View} arrives (Replication puts one in its first Ready) it
 * neither campaigns nor grants PreVotes. After a restart it treats itself as having just heard
 * from a leader: it grants no PreVote for one election timeout.
 *
 * <p><b>Threading:</b> not thread-safe; one owner (the ElectionVerticle). <b>Randomness:</b> only
 * from the generator passed in (seed it for reproducible runs). <b>Output:</b> {@link #drain()}
 * returns the messages to send and the records for Replication since the last call; nothing needs
 * persisting. <b>Errors:</b> {@link IllegalArgumentException} for a message that is not addressed
 * to this node or not routed here.
 */
public final class Election {
    /** What to do after an Election call: send {@code messages}, deliver {@code toReplication}. */
    public record Output(List<Message> messages, List<ToReplication> toReplication) {
        public Output {
            messages = List.copyOf(messages);
            toReplication = List.copyOf(toReplication);
        }
    }

    /** Where the node is in an election. */
    public enum Phase { IDLE, PRE_CAMPAIGN, AWAIT_START, CAMPAIGN }

    private final Config config;
    private final String id;
    private final RandomGenerator random;

    private ToElection.View view;
    private int electionElapsed;
    private int randomizedTimeoutTicks;
    /** Ticks since the last contact with a leader; starts at 0, as if one was just heard. */
    private int contactElapsed;

    private Phase phase = Phase.IDLE;
    private long phaseTerm;
    private List<String> phaseVoters = List.of();
    private final Set<String> granted = new HashSet<>();
    private final Set<String> rejected = new HashSet<>();

    private final ArrayList<Message> outbox = new ArrayList<>();
    private final ArrayList<ToReplication> toReplication = new ArrayList<>();

    /** {@code random} is used for election timeouts only; it is owned by this Election from now on. */
    public Election(Config config, RandomGenerator random) {
        this.config = Objects.requireNonNull(config, "config");
        this.id = config.id();
        this.random = Objects.requireNonNull(random, "random");
        resetTimer();
    }

    // ---------------------------------------------------------------- inputs

    /** One tick: campaigns when the randomized election timeout elapses without leader contact. */
    public void tick() {
        if (contactElapsed < Integer.MAX_VALUE) contactElapsed++;
        if (view == null || view.role() == Role.LEADER) {
            electionElapsed = 0;
            return;
        }
        if (++electionElapsed < randomizedTimeoutTicks) return;
        resetTimer();
        if (view.selfVoter()) campaign(false);
    }

    /**
     * Handles a peer message routed to the Election ({@link Route#ELECTION}).
     *
     * @throws IllegalArgumentException if it is addressed elsewhere or belongs to Replication
     */
    public void step(Message m) {
        Objects.requireNonNull(m, "message");
        if (!id.equals(m.to())) throw new IllegalArgumentException("message for " + m.to() + " stepped on " + id);
        if (Route.of(m) != Route.ELECTION) throw new IllegalArgumentException("not an Election message: " + m);
        switch (m.kind()) {
            case PRE_VOTE_REQUEST -> handlePreVoteRequest((PreVoteRequest) m);
            case PRE_VOTE_RESPONSE -> handlePreVoteResponse((PreVoteResponse) m);
            case VOTE_RESPONSE -> handleVoteResponse((VoteResponse) m);
            case TIMEOUT_NOW -> handleTimeoutNow(m);
            case VOTE_REQUEST, APPEND_ENTRIES, APPEND_RESPONSE, HEARTBEAT, HEARTBEAT_RESPONSE, INSTALL_SNAPSHOT,
                    INSTALL_SNAPSHOT_RESPONSE, READ_INDEX_REQUEST, READ_INDEX_RESPONSE ->
                    throw new IllegalArgumentException("not an Election message: " + m);
        }
    }

    /** Handles a record from this node's Replication. */
    public void receive(ToElection r) {
        Objects.requireNonNull(r, "record");
        switch (r.kind()) {
            case VIEW -> onView((ToElection.View) r);
            case LEADER_CONTACT -> onLeaderContact();
            case CAMPAIGN_STARTED -> onCampaignStarted((ToElection.CampaignStarted) r);
            case VOTE_CAST -> electionElapsed = 0;
            case YIELD -> {
                electionElapsed = 0;
                phase = Phase.IDLE;
            }
        }
    }

    // ---------------------------------------------------------------- output

    /** Whether {@link #drain()} has messages or records. */
    public boolean hasOutput() {
        return !outbox.isEmpty() || !toReplication.isEmpty();
    }

    /** Returns and forgets the output collected since the last call. */
    public Output drain() {
        Output o = new Output(outbox, toReplication);
        outbox.clear();
        toReplication.clear();
        return o;
    }

    /** Where this node is in an election (for status and tests). */
    public Phase phase() {
        return phase;
    }

    // ---------------------------------------------------------------- campaigns

    private void campaign(boolean transfer) {
        if (config.preVote() && !transfer) {
            startPhase(Phase.PRE_CAMPAIGN, view.term() + 1, view.voters());
            for (String v : phaseVoters) {
                if (!v.equals(id)) send(new PreVoteRequest(id, v, phaseTerm, view.lastIndex(), view.lastTerm()));
            }
            maybeFinishPreCampaign();
        } else {
            requestCampaign(transfer);
        }
    }

    private void requestCampaign(boolean transfer) {
        startPhase(Phase.AWAIT_START, view.term() + 1, view.voters());
        toReplication.add(new ToReplication.StartCampaign(view.term(), transfer));
    }

    private void startPhase(Phase p, long term, List<String> voters) {
        phase = p;
        phaseTerm = term;
        phaseVoters = voters;
        granted.clear();
        rejected.clear();
        granted.add(id);
    }

    private void onCampaignStarted(ToElection.CampaignStarted c) {
        if (view != null && c.term() < view.term()) return;
        startPhase(Phase.CAMPAIGN, c.term(), c.voters());
        resetTimer();
        for (String v : phaseVoters) {
            if (!v.equals(id)) send(new VoteRequest(id, v, c.term(), c.lastIndex(), c.lastTerm(), c.transfer()));
        }
        maybeFinishCampaign();
    }

    private int votes(Set<String> from) {
        int n = 0;
        for (String v : phaseVoters) if (from.contains(v)) n++;
        return n;
    }

    private int quorum() {
        return phaseVoters.size() / 2 + 1;
    }

    private void maybeFinishPreCampaign() {
        if (votes(granted) >= quorum()) {
            requestCampaign(false);
        } else if (votes(rejected) >= quorum()) {
            phase = Phase.IDLE;
        }
    }

    private void maybeFinishCampaign() {
        if (votes(granted) >= quorum()) {
            toReplication.add(new ToReplication.WonTerm(phaseTerm));
            phase = Phase.IDLE;
        } else if (votes(rejected) >= quorum()) {
            phase = Phase.IDLE;
        }
    }

    // ---------------------------------------------------------------- messages

    /**
     * Dissertation §9.6: grant if the requester's log is at least as up-to-date and no leader was
     * heard from within the minimum election timeout (so a rejoining node cannot disrupt).
     */
    private void handlePreVoteRequest(PreVoteRequest m) {
        boolean heardFromLeader = contactElapsed < config.electionTicks()
                || (view != null && view.role() == Role.LEADER);
        boolean grant = view != null && m.term() > view.term() && !heardFromLeader
                && isUpToDate(m.lastIndex(), m.lastTerm());
        long term = grant ? m.term() : view == null ? 0 : view.term();
        send(new PreVoteResponse(id, m.from(), term, grant));
    }

    private boolean isUpToDate(long lastIndex, long lastTerm) {
        return lastTerm > view.lastTerm() || (lastTerm == view.lastTerm() && lastIndex >= view.lastIndex());
    }

    private void handlePreVoteResponse(PreVoteResponse m) {
        if (!m.granted() && view != null && m.term() > view.term()) {
            observeTerm(m.term());
            return;
        }
        if (phase != Phase.PRE_CAMPAIGN || m.term() != phaseTerm) return;
        (m.granted() ? granted : rejected).add(m.from());
        maybeFinishPreCampaign();
    }

    private void handleVoteResponse(VoteResponse m) {
        long known = Math.max(view == null ? 0 : view.term(), phase == Phase.CAMPAIGN ? phaseTerm : 0);
        if (!m.granted() && m.term() > known) {
            observeTerm(m.term());
            return;
        }
        if (phase != Phase.CAMPAIGN || m.term() != phaseTerm) return;
        (m.granted() ? granted : rejected).add(m.from());
        maybeFinishCampaign();
    }

    private void observeTerm(long term) {
        phase = Phase.IDLE;
        toReplication.add(new ToReplication.ObserveTerm(term));
    }

    /** Dissertation §3.10: the leader asks this node to campaign at once, skipping PreVote. */
    private void handleTimeoutNow(Message m) {
        if (view == null || m.term() != view.term() || !view.selfVoter() || view.role() == Role.LEADER) return;
        resetTimer();
        campaign(true);
    }

    // ---------------------------------------------------------------- records from Replication

    /**
     * A new term alone does not reset the election timer: only leader contact and a granted vote do
     * (Raft paper Figure 2). Otherwise a candidate whose log is too short to win could, by
     * campaigning again and again, keep the one node that could win from ever timing out.
     */
    private void onView(ToElection.View v) {
        view = v;
        boolean over = switch (phase) {
            case IDLE -> false;
            case PRE_CAMPAIGN -> v.term() >= phaseTerm || v.role() == Role.LEADER;
            case AWAIT_START -> v.role() == Role.LEADER || (v.term() >= phaseTerm && v.role() != Role.CANDIDATE);
            case CAMPAIGN -> v.term() > phaseTerm || v.role() != Role.CANDIDATE;
        };
        if (over) phase = Phase.IDLE;
    }

    private void onLeaderContact() {
        contactElapsed = 0;
        electionElapsed = 0;
        phase = Phase.IDLE;
    }

    private void resetTimer() {
        electionElapsed = 0;
        randomizedTimeoutTicks = config.electionTicks() + random.nextInt(config.electionTicks());
    }

    private void send(Message m) {
        if (outbox.size() < config.outboxMessagesMax()) outbox.add(m);
    }
}
