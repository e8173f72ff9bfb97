// Command netstack runs gVisor's TCP/IP stack (gvisor.dev/gvisor/pkg/tcpip,
// Debian's golang-gvisor-gvisor-dev) for synack: the stack under test of the
// `gvisor` target. It has no device and no socket of its own: its link is a
// channel endpoint whose datagrams travel over this process's stdin and
// stdout, framed, beside the socket calls synack makes on it. So nothing it
// sends can reach any network; synack also starts it inside a private network
// namespace. It exits when stdin closes, which is when synack exits, however
// it exits (SIGKILL included: the pipe closes with the process).
//
// Frames, both ways: a little-endian u32 length (of what follows), a kind
// byte, and the payload.
//
//	1 packet   an IP datagram (synack -> stack: inbound; stack -> synack: outbound)
//	2 call     JSON {"id", "call": a synack SocketCall; write's data in base64}
//	3 result   JSON {"id", "ok": true, "value"} or {"id", "ok": false, "errno"}
//	           or {"id", "ok": false, "error": "why"} (a setting it does not have)
//	4 setting  JSON {"id", "sysctl", "value"}
//	5 ready    JSON {"stack": "gvisor"}, once, when the stack is up
//	6 blocked  JSON {"id"}: the call waits in the netstack; its result comes when it returns
//
// Build (GOPATH mode, from the Debian packages alone):
//
//	GOPATH=/usr/share/gocode GO111MODULE=off go build -o netstack .
package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"gvisor.dev/gvisor/pkg/bufferv2"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/link/channel"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/waiter"
)

const (
	framePacket  = 1
	frameCall    = 2
	frameResult  = 3
	frameSetting = 4
	frameReady   = 5
	frameBlocked = 6
)

// settle is how long a call waits after the last inbound datagram: netstack
// hands each segment to a processor goroutine, where the kernel handles a
// TUN write before write() returns; a call made right after a segment sees
// what the segment did, as it would on the kernel.
const settle = 2 * time.Millisecond

var (
	out     = bufio.NewWriterSize(os.Stdout, 1<<16)
	outMu   sync.Mutex
	lastIn  atomic.Int64
	st      *stack.Stack
	linkEP  *channel.Endpoint
	fdsMu   sync.Mutex
	fds     = map[int]*sock{}
	pending sync.WaitGroup
)

type sock struct {
	ep       tcpip.Endpoint
	wq       *waiter.Queue
	family   int
	nonblock bool
}

func write(kind byte, payload []byte) {
	outMu.Lock()
	defer outMu.Unlock()
	var h [5]byte
	binary.LittleEndian.PutUint32(h[:4], uint32(len(payload)+1))
	h[4] = kind
	out.Write(h[:])
	out.Write(payload)
	out.Flush()
}

func reply(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	write(frameResult, b)
}

func main() {
	v4 := flag.String("v4", "192.168.0.1/16", "the stack's IPv4 address/prefix")
	v6 := flag.String("v6", "fd3d:a0b:17d6::1/48", "the stack's IPv6 address/prefix")
	mtu := flag.Uint("mtu", 1500, "the link's MTU")
	flag.Parse()

	st = stack.New(stack.Options{
		NetworkProtocols: []stack.NetworkProtocolFactory{
			ipv4.NewProtocol,
			// No duplicate address detection (the kernel target's "nodad"): the address is usable
			// at once, and nothing but the script's own traffic crosses the link.
			ipv6.NewProtocolWithOptions(ipv6.Options{}),
		},
		TransportProtocols: []stack.TransportProtocolFactory{tcp.NewProtocol},
	})
	linkEP = channel.New(4096, uint32(*mtu), "")
	if err := st.CreateNIC(1, linkEP); err != nil {
		fail("CreateNIC: %v", err)
	}
	for _, a := range []string{*v4, *v6} {
		_, n, err := net.ParseCIDR(a)
		ip := net.ParseIP(strings.Split(a, "/")[0])
		if err != nil || ip == nil {
			fail("bad address %q", a)
		}
		proto, addr := ipv4.ProtocolNumber, tcpip.Address(ip.To4())
		if ip.To4() == nil {
			proto, addr = ipv6.ProtocolNumber, tcpip.Address(ip.To16())
		}
		ones, _ := n.Mask.Size()
		pa := tcpip.ProtocolAddress{
			Protocol:          proto,
			AddressWithPrefix: tcpip.AddressWithPrefix{Address: addr, PrefixLen: ones},
		}
		if err := st.AddProtocolAddress(1, pa, stack.AddressProperties{}); err != nil {
			fail("AddProtocolAddress: %v", err)
		}
	}
	// Everything is on the link: the script's addresses are routed to it.
	st.SetRouteTable([]tcpip.Route{
		{Destination: header.IPv4EmptySubnet, NIC: 1},
		{Destination: header.IPv6EmptySubnet, NIC: 1},
	})

	go pump()
	write(frameReady, []byte(`{"stack":"gvisor"}`))
	read()
}

func fail(f string, a ...any) {
	fmt.Fprintf(os.Stderr, "netstack: "+f+"\n", a...)
	os.Exit(1)
}

// pump sends what the stack transmits to synack, one datagram a frame.
func pump() {
	for {
		pkt := linkEP.ReadContext(context.Background())
		if pkt.IsNil() {
			return
		}
		b := pkt.ToBuffer()
		write(framePacket, b.Flatten())
		b.Release()
		pkt.DecRef()
	}
}

// read takes frames from synack until stdin closes, then exits.
func read() {
	in := bufio.NewReaderSize(os.Stdin, 1<<16)
	var h [5]byte
	for {
		if _, err := io.ReadFull(in, h[:]); err != nil {
			os.Exit(0) // synack is gone
		}
		n := binary.LittleEndian.Uint32(h[:4])
		if n < 1 || n > 1<<24 {
			fail("bad frame length %d", n)
		}
		body := make([]byte, n-1)
		if _, err := io.ReadFull(in, body); err != nil {
			os.Exit(0)
		}
		switch h[4] {
		case framePacket:
			inject(body)
		case frameCall:
			var c callFrame
			if err := json.Unmarshal(body, &c); err != nil {
				fail("bad call: %v", err)
			}
			call(c)
		case frameSetting:
			var s settingFrame
			if err := json.Unmarshal(body, &s); err != nil {
				fail("bad setting: %v", err)
			}
			if err := setting(s.Sysctl, s.Value); err != "" {
				reply(map[string]any{"id": s.ID, "ok": false, "error": err})
			} else {
				reply(map[string]any{"id": s.ID, "ok": true, "value": 0})
			}
		default:
			fail("unknown frame kind %d", h[4])
		}
	}
}

func inject(b []byte) {
	if len(b) == 0 {
		return
	}
	proto := ipv4.ProtocolNumber
	if b[0]>>4 == 6 {
		proto = ipv6.ProtocolNumber
	}
	pkt := stack.NewPacketBuffer(stack.PacketBufferOptions{Payload: bufferv2.MakeWithData(b)})
	linkEP.InjectInbound(proto, pkt)
	pkt.DecRef()
	lastIn.Store(time.Now().UnixNano())
}

type settingFrame struct {
	ID     int             `json:"id"`
	Sysctl string          `json:"sysctl"`
	Value  json.RawMessage `json:"value"`
}

// setting applies a Linux sysctl where the netstack has its counterpart; it
// returns why not otherwise.
func setting(name string, raw json.RawMessage) string {
	var text string
	if err := json.Unmarshal(raw, &text); err != nil {
		var n json.Number
		if err := json.Unmarshal(raw, &n); err != nil {
			return "want a number or a string"
		}
		text = n.String()
	}
	num := func() (int, string) {
		v, err := strconv.Atoi(strings.TrimSpace(text))
		if err != nil {
			return 0, fmt.Sprintf("want a number, got %q", text)
		}
		return v, ""
	}
	three := func() ([3]int, string) {
		var r [3]int
		f := strings.Fields(text)
		if len(f) != 3 {
			return r, fmt.Sprintf("want three numbers (min default max), got %q", text)
		}
		for i := range f {
			v, err := strconv.Atoi(f[i])
			if err != nil {
				return r, fmt.Sprintf("want three numbers, got %q", text)
			}
			r[i] = v
		}
		return r, ""
	}
	set := func(o tcpip.SettableTransportProtocolOption) string {
		if err := st.SetTransportProtocolOption(tcp.ProtocolNumber, o); err != nil {
			return fmt.Sprintf("the netstack refused it: %v", err)
		}
		return ""
	}
	switch name {
	case "net.ipv4.tcp_sack":
		v, e := num()
		if e != "" {
			return e
		}
		o := tcpip.TCPSACKEnabled(v != 0)
		return set(&o)
	case "net.ipv4.tcp_recovery":
		v, e := num()
		if e != "" {
			return e
		}
		// Linux: bit 0 is RACK; netstack's TCPRACKLossDetection is the same bit.
		o := tcpip.TCPRecovery(v)
		return set(&o)
	case "net.ipv4.tcp_congestion_control":
		o := tcpip.CongestionControlOption(strings.TrimSpace(text))
		return set(&o)
	case "net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem":
		r, e := three()
		if e != "" {
			return e
		}
		if name == "net.ipv4.tcp_rmem" {
			return set(&tcpip.TCPReceiveBufferSizeRangeOption{Min: r[0], Default: r[1], Max: r[2]})
		}
		return set(&tcpip.TCPSendBufferSizeRangeOption{Min: r[0], Default: r[1], Max: r[2]})
	case "net.ipv4.tcp_moderate_rcvbuf":
		v, e := num()
		if e != "" {
			return e
		}
		o := tcpip.TCPModerateReceiveBufferOption(v != 0)
		return set(&o)
	case "net.ipv4.tcp_fin_timeout":
		v, e := num()
		if e != "" {
			return e
		}
		o := tcpip.TCPLingerTimeoutOption(time.Duration(v) * time.Second)
		return set(&o)
	case "net.ipv4.tcp_retries2":
		v, e := num()
		if e != "" {
			return e
		}
		o := tcpip.TCPMaxRetriesOption(v)
		return set(&o)
	case "net.ipv4.tcp_syn_retries", "net.ipv4.tcp_synack_retries":
		// TCPSynRetriesOption exists, but this netstack's handshake ignores it: it retransmits
		// until its backoff passes MaxRTO (120 s), six times.
		return "gVisor's handshake has no retry count: it retransmits a SYN or SYN-ACK until its " +
			"backoff passes 120 s (MaxRTO), six times, whatever TCPSynRetriesOption says"
	case "net.ipv4.tcp_syncookies":
		v, e := num()
		if e != "" {
			return e
		}
		// Linux 2 sends cookies always; 0 and 1 both leave netstack's own rule (cookies when full).
		o := tcpip.TCPAlwaysUseSynCookies(v == 2)
		return set(&o)
	case "net.ipv4.tcp_rto_min_us":
		v, e := num()
		if e != "" {
			return e
		}
		o := tcpip.TCPMinRTOOption(time.Duration(v) * time.Microsecond)
		return set(&o)
	case "net.ipv4.tcp_rto_max_ms":
		v, e := num()
		if e != "" {
			return e
		}
		o := tcpip.TCPMaxRTOOption(time.Duration(v) * time.Millisecond)
		return set(&o)
	case "net.ipv4.ip_default_ttl":
		v, e := num()
		if e != "" {
			return e
		}
		o := tcpip.DefaultTTLOption(v)
		if err := st.SetNetworkProtocolOption(ipv4.ProtocolNumber, &o); err != nil {
			return fmt.Sprintf("the netstack refused it: %v", err)
		}
		return ""
	case "net.ipv4.tcp_timestamps", "net.ipv4.tcp_window_scaling":
		return "gVisor's netstack has no switch for it: it always offers timestamps and window scaling"
	}
	return "gVisor's netstack has no counterpart of this sysctl; it has net.ipv4.tcp_sack, " +
		"tcp_recovery, tcp_congestion_control, tcp_rmem, tcp_wmem, tcp_moderate_rcvbuf, " +
		"tcp_fin_timeout, tcp_retries2, tcp_syncookies, tcp_rto_min_us, tcp_rto_max_ms and " +
		"net.ipv4.ip_default_ttl"
}
