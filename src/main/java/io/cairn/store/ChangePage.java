package io.cairn.store;

import java.util.List;

/**
 * Changes in (rev, seq) order, never splitting a revision. {@code resumeRev} is the revision to
 * pass as {@code afterRev} next: every change up to it has been delivered or filtered out (it may
 * be past the last change shown, up to the applied index).
 */
public record ChangePage(List<Change> changes, long resumeRev) {
    public ChangePage {
        changes = List.copyOf(changes);
    }
}
