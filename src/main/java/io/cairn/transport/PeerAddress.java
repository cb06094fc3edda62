package io.cairn.transport;

/** A peer's {@code host:port} ({@code [v6]:port} for IPv6 literals). */
record PeerAddress(String host, int port) {
    PeerAddress {
        if (host.isEmpty()) throw new IllegalArgumentException("empty host");
        if (port < 1 || port > 65_535) throw new IllegalArgumentException("port out of range: " + port);
    }

    static PeerAddress parse(String address) {
        int colon = address.lastIndexOf(':');
        if (colon <= 0 || colon == address.length() - 1) {
            throw new IllegalArgumentException("address must be host:port: '" + address + "'");
        }
        String host = address.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) host = host.substring(1, host.length() - 1);
        try {
            return new PeerAddress(host, Integer.parseInt(address.substring(colon + 1)));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("bad port in '" + address + "'", e);
        }
    }

    @Override
    public String toString() {
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }
}
