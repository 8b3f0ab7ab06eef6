// The Node/V8 flags `logstream` runs with. bin/logstream.js's shebang and package.json's scripts
// carry the same flags (they cannot import this file); processes the CLI starts get them from here.

/**
 * `--single-threaded-gc`: V8 collects garbage on the thread that allocated it, instead of
 * sharing scavenges and marking with a pool of four helper threads. A streamer allocates fast and
 * keeps little, and on a small machine the helpers only compete with the broker, the Delta writer
 * thread and each other for the same cores: on the peer benchmark (2 cores, broker on the machine)
 * the helpers' 8–9 CPU s per million rows fell to about 4 and the main thread did not slow down,
 * about 13% less CPU per row (streamers/README.md, "Where the time goes"). The price is longer
 * pauses on the main thread, tens of milliseconds at most, which the commit latency absorbs.
 */
export const NODE_FLAGS: readonly string[] = ['--single-threaded-gc'];
