package io.cairn.api;

/**
 * The answer to an {@link ApiRequest}: an HTTP status, a JSON body (null for 204), the revision to
 * put in {@code X-Cairn-Rev} (or -1 for none) and an {@code ETag} value (or null).
 */
public record ApiResponse(int status, String bodyJson, long rev, String etag) {
    public static ApiResponse json(int status, String bodyJson, long rev) {
        return new ApiResponse(status, bodyJson, rev, null);
    }

    public static ApiResponse noContent(long rev) {
        return new ApiResponse(204, null, rev, null);
    }
}
