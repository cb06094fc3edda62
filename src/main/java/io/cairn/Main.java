package io.cairn;

/** Entry point of {@code java -jar target/cairn.jar}. The running node arrives with the node issue. */
public final class Main {
    private Main() {}

    public static void main(String[] args) {
        if (args.length > 0 && (args[0].equals("--help") || args[0].equals("-h"))) {
            System.out.println("Usage: java -jar cairn.jar [--conf FILE]");
            return;
        }
        System.err.println("cairn: the node is not built yet (see the open issues)");
        System.exit(2);
    }
}
