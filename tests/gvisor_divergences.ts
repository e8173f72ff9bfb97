// Where gVisor's netstack and Linux differ, scenario by scenario: the list
// tests/gvisor_conformance_test.ts checks both ways, and the README's table
// names. Not a test file itself, so that importing it runs nothing.

/** gVisor's SYN and SYN-ACK, as seen: what every scenario that checks Linux's parts on. */
const HANDSHAKE =
  "gVisor's SYN and SYN-ACK offer no SACK (TCPSACKEnabled is off by default), window scale 5, " +
  "a window of 29184 (28800 on IPv6) and no DF bit; the scenario checks Linux's";
const NAGLE =
  "a small write goes out at once while data is unacknowledged: the netstack's Nagle is off " +
  "unless TCPDelayEnabled is set";
const STATE_AFTER_CLOSE =
  "the closed connection's endpoint stays in TIME-WAIT and TCP_INFO says TIME_WAIT; Linux's " +
  "socket says CLOSE once a timewait socket takes over";
const NO_ICMP_ABORT =
  "an ICMP unreachable quoting the SYN does not end the handshake: connect() goes on and the " +
  "SYN is retransmitted";
const PSH_ON_RESEND = "the segment resent at the lower MSS carries PSH; Linux's does not";
const SACK_RECEIVER = "no SACK blocks: SACK was not negotiated (TCPSACKEnabled is off by default)";
const SACK_SENDER =
  "the sender does not act on SACK blocks (SACK not negotiated): no retransmission of the hole " +
  "before the RTO";
const FIN_ACK_AT_ONCE =
  "the FIN is ACKed at once: the netstack has no pingpong mode that would hold it for the " +
  "delayed-ACK timer";
const NO_WSCALE_INFO =
  "the cookie's connection is made, but TCP_INFO reports no window scales (tcpi_snd_wscale, " +
  "tcpi_rcv_wscale)";
const ACCEPT_QUEUE =
  "gVisor's listen backlog counts differently: with backlog 0 or a full queue of 1 it does " +
  "not answer the SYN the scenario expects answered";

/** Where gVisor's netstack and Linux differ, scenario by scenario: what gVisor does instead. */
export const GVISOR_DIVERGENCES: Readonly<Record<string, string>> = {
  "Linux NewReno: the third duplicate ACK marks the head lost; PRR takes cwnd from 7 to ssthresh (RFC 6937)":
    HANDSHAKE,
  "Linux NewReno: a partial ACK echoing the original's timestamp undoes the reduction (RFC 3522)":
    HANDSHAKE,
  "Linux NewReno: after a partial ACK PRR holds the next hole for a duplicate; recovery holds to high_seq":
    HANDSHAKE,
  "Linux RTO: an ACK echoing the original's timestamp undoes the timeout; F-RTO then opens (RFC 5682)":
    HANDSHAKE,
  "RACK: one SACKed segment above a hole retransmits it once the reordering window passes":
    SACK_SENDER,
  "RACK: two holes are both lost once three segments are SACKed; PRR retransmits one per delivery":
    SACK_SENDER,
  "Linux RTO with SACK: every segment lost, slow start retransmits them; no undo for a real loss":
    "no tail loss probe: the first retransmission waits for the RTO",
  "D-SACK: every retransmission reported as a duplicate undoes the reduction (RFC 2883, RFC 3708)":
    SACK_SENDER,
  "SYN cookies: a SYN beyond the backlog gets a cookie, which is never repeated; its ACK connects":
    NO_WSCALE_INFO,
  "SYN cookies without the peer's timestamps: the SYN-ACK offers only the MSS": NO_WSCALE_INFO,
  "tcp_syncookies = 0: a SYN beyond the backlog is dropped":
    "the netstack has no tcp_syncookies setting: the SYN is answered with a cookie all the same",
  "a FIN after data waits for the delayed-ACK timer, 40 ms (Linux tcp_fin: pingpong mode)":
    FIN_ACK_AT_ONCE,
  "a FIN with data waits for the delayed-ACK timer too; a reply before it carries the ACK":
    FIN_ACK_AT_ONCE,
  "simultaneous close: FIN-WAIT-1 → CLOSING → TIME-WAIT": STATE_AFTER_CLOSE,
  "half-close: after shutdown(SHUT_WR) data still arrives and is read (FIN-WAIT-2)":
    STATE_AFTER_CLOSE,
  "an in-window reset with the wrong seq gets a challenge ACK (RFC 5961 §3.2)":
    "no challenge ACK for an in-window RST with the wrong sequence number",
  "challenge ACKs: one per 500 ms per connection (net.ipv4.tcp_invalid_ratelimit)":
    "no challenge ACK for an in-window RST with the wrong sequence number",
  "challenge ACKs: a limit of 1 answers one challenge each second (net.ipv4.tcp_challenge_ack_limit)":
    "no counterpart of net.ipv4.tcp_invalid_ratelimit or tcp_challenge_ack_limit",
  "SO_LINGER {1, 2}: close() returns once the FIN is acknowledged":
    "no tail loss probe repeats the FIN within 50 ms (2·SRTT + 2 ms on Linux)",
  "SO_LINGER {1, 1}: an unacknowledged FIN holds close() for the linger time":
    "the FIN is not repeated by a tail loss probe 200 ms on",
  "data retransmission: a tail loss probe, then the RTO (200 ms floor) with backoff":
    "no tail loss probe: the first retransmission waits for the RTO",
  "while established, host unreachable is a soft error: the timeout reports it":
    "no tail loss probe 200 ms after the segment: the first retransmission comes later",
  "slow start: cwnd grows by what each ACK covers (Linux tcp_slow_start, RFC 3465)": HANDSHAKE,
  "duplicate ACKs after a timeout do not start fast retransmit (RFC 6582 §3.2 step 2)": HANDSHAKE,
  "passive open: SYN-ACK carries Linux's options and window": HANDSHAKE,
  "active open: SYN, then ESTABLISHED on the SYN-ACK": HANDSHAKE,
  "IPv6 passive open: MSS 1440 advertised, 1428 bytes per segment with timestamps": HANDSHAKE,
  "IPv6 active open and close": HANDSHAKE,
  "MSS: a peer MSS of 1000 caps our segments at 988 bytes (with timestamps)": HANDSHAKE,
  "TCP_MAXSEG before listen() lowers the MSS we advertise": HANDSHAKE,
  "window scale: a shift of 15 is used as 14 (RFC 7323 §2.3)": HANDSHAKE,
  "window scale: without the peer's option, neither side scales and the window is 65160": HANDSHAKE,
  "timestamps: without the peer's TSopt, segments carry no options and 1460 bytes": HANDSHAKE,
  "SACK-permitted: without it, out-of-order data is ACKed with no SACK block": HANDSHAKE,
  "active open without the peer's options: MSS 536, no scaling, no SACK, no timestamps":
    "without window scaling the window is 29184; Linux's is 64240",
  "Nagle: a small write waits while data is unacknowledged": NAGLE,
  "Nagle: small writes coalesce into one segment once the first is ACKed": NAGLE,
  "delayed ACK: after quick-ACK mode, a lone segment is ACKed 40 ms later":
    "no delayed ACK: a lone segment is acknowledged at once",
  "zero window: probes one byte behind snd.una at RTO, 2×, 4× (persist timer)":
    "TCP_INFO has no backoff count (tcpi_backoff): the netstack does not report it",
  "receive window: it closes as data waits, and a read reopens it with a window update":
    "with SO_RCVBUF 1024 (doubled to 2048) the SYN-ACK offers all 2048 bytes; Linux offers 1448",
  "receive window: a small read does not reopen it (receiver SWS avoidance)":
    "with SO_RCVBUF 1024 (doubled to 2048) the SYN-ACK offers all 2048 bytes; Linux offers 1448",
  "TCP_CORK: a corked partial segment leaves after 200 ms (the probe timer's ceiling)":
    "a corked partial segment stays until the cork is pulled or the segment fills",
  "active open refused: RST+ACK makes connect() fail with ECONNREFUSED":
    "after connect() has returned ECONNREFUSED, SO_ERROR still says ECONNREFUSED; Linux's is 0",
  "connect() fails with ECONNREFUSED on ICMP port unreachable": NO_ICMP_ABORT,
  "connect() fails with ENETUNREACH on ICMP net unreachable": NO_ICMP_ABORT,
  "IPv6 connect() fails with ECONNREFUSED on ICMPv6 port unreachable": NO_ICMP_ABORT,
  "frag-needed lowers the MSS to MTU − 40 and resends what no longer fits (RFC 1191)":
    PSH_ON_RESEND,
  "IPv6 packet too big lowers the MSS to MTU − 60 (RFC 8201)": PSH_ON_RESEND,
  "frag-needed below 552 is raised to the minimum path MTU":
    "a frag-needed below 552 is taken as it is: 248-byte segments, where Linux raises the path " +
    "MTU to 552",
  "poll: a FIN reads as POLLIN|POLLRDHUP; a reset adds POLLERR and POLLHUP":
    "a received FIN reads as POLLIN without POLLRDHUP",
  "SYN-SENT: an RST+ACK that does not acknowledge our SYN is ignored":
    "the SYN is not sent again at once after an RST+ACK that acknowledges nothing it sent",
  "an ACK older than snd.una − max window is challenged and dropped (RFC 5961 §5.2)":
    "no RFC 5961 §5.2 check: data whose ACK lies far below snd.una is accepted (ACK 2)",
  "PAWS: a segment with an older timestamp is dropped and ACKed (RFC 7323 §5.3)":
    "no PAWS: a segment whose timestamp is older than the last one is accepted",
  "SACK blocks: the newest block first, merged as holes fill (RFC 2018 §4)": SACK_RECEIVER,
  "SACK blocks: at most three beside a timestamp, the oldest dropped": SACK_RECEIVER,
  "D-SACK: a segment received twice is reported once in the first block (RFC 2883 §4)":
    SACK_RECEIVER,
  "SACK recovery: DupThresh segments SACKed above a hole is a loss at once (RFC 6675 IsLost, RACK)":
    SACK_SENDER,
  "limited transmit: the first two duplicate ACKs each release a new segment (RFC 3042)":
    "no limited transmit: a duplicate ACK retransmits the first segment instead of sending new data",
  "after a timeout, going back skips what the peer SACKs meanwhile": SACK_SENDER,
  "simultaneous open: SYN-SENT → SYN-RECEIVED → ESTABLISHED (RFC 9293 figure 8)":
    "the ACK that ends a simultaneous open carries no D-SACK block (SACK not negotiated)",
  "SYN-RECEIVED: a retransmitted SYN gets the same SYN-ACK again":
    "a SYN retransmitted in SYN-RECEIVED is answered with an ACK, not the SYN-ACK again",
  "data for a closed socket in FIN-WAIT-1 is answered with a reset (Linux TCPAbortOnData)":
    "the reset answering data for a closed socket is an RST+ACK from snd.nxt, not a RST at the " +
    "data's ack",
  "TIME-WAIT reuse: a newer SYN opens a new connection with ISN snd.nxt + 65537":
    "a SYN that reopens a TIME-WAIT connection gets a fresh random ISN, not snd.nxt + 65537",
  "TIME-WAIT: a SYN with an old timestamp is answered with an ACK, not a connection":
    "a SYN with an old timestamp reopens the TIME-WAIT connection (a SYN-ACK), where Linux " +
    "answers with an ACK",
  "listen backlog 0 admits one connection; the next SYN is dropped until accept()": ACCEPT_QUEUE,
  "full accept queue: the SYN is dropped; after accept() it is answered": ACCEPT_QUEUE,
  "accept queue full when the final ACK comes: dropped, and the SYN-ACK retransmitted":
    ACCEPT_QUEUE,
  "accept queue full with tcp_abort_on_overflow: the final ACK is reset":
    "no counterpart of net.ipv4.tcp_abort_on_overflow",
};
