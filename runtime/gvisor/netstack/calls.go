package main

import (
	"bytes"
	"encoding/base64"
	"math"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"gvisor.dev/gvisor/pkg/syserr"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/waiter"
)

// Linux errno numbers the calls give themselves (the rest come from syserr).
const (
	eBADF         = 9
	eAGAIN        = 11
	eINVAL        = 22
	eINPROGRESS   = 115
	eADDRNOTAVAIL = 99
	eAFNOSUPPORT  = 97
	eNOPROTOOPT   = 92
)

// callFrame is synack's SocketCall (runtime/wire/socket_call.ts), as JSON.
type callFrame struct {
	ID   int `json:"id"`
	Call struct {
		Name      string  `json:"name"`
		FD        int     `json:"fd"`
		Family    int     `json:"family"`
		Nonblock  bool    `json:"nonblock"`
		Addr      *string `json:"addr"`
		Port      int     `json:"port"`
		Backlog   *int    `json:"backlog"`
		Data      string  `json:"data"`
		Count     int     `json:"count"`
		All       bool    `json:"all"`
		How       string  `json:"how"`
		Events    uint64  `json:"events"`
		TimeoutMs int64   `json:"timeoutMs"`
		Opt       any     `json:"opt"`
	} `json:"call"`
}

type result map[string]any

func okv(v any) result   { return result{"ok": true, "value": v} }
func errno(n int) result { return result{"ok": false, "errno": n} }
func tcpErr(e tcpip.Error) result {
	return errno(int(syserr.TranslateNetstackError(e).ToLinux()))
}

// call runs one call. One that may block runs on a goroutine of its own and
// answers when it returns; the frames that follow go on meanwhile.
func call(c callFrame) {
	// What the last inbound segment does, a call sees (see settle).
	if d := time.Duration(lastIn.Load()+int64(settle)) - time.Duration(time.Now().UnixNano()); d > 0 {
		time.Sleep(d)
	}
	answer := func(r result) {
		r["id"] = c.ID
		reply(r)
	}
	if c.Call.Name == "socket" {
		answer(socket(c.Call.Family, c.Call.Nonblock))
		return
	}
	fdsMu.Lock()
	s := fds[c.Call.FD]
	fdsMu.Unlock()
	if s == nil {
		answer(errno(eBADF))
		return
	}
	// A call that waits and could return by now returns first, as on the kernel, where the
	// segment that woke it has run its course before the next call is made.
	finishReady()
	lingers := false
	if c.Call.Name == "close" {
		l := s.ep.SocketOptions().GetLinger()
		lingers = l.Enabled && l.Timeout > 0
	}
	switch {
	case lingers || c.Call.Name == "accept" || c.Call.Name == "connect" ||
		c.Call.Name == "read" || c.Call.Name == "write" || c.Call.Name == "poll":
		// Runs on; synack hears "blocked" the moment it waits, and the result when it returns.
		w := &waiting{s: s, done: make(chan struct{})}
		var once sync.Once
		blocked := func(mask waiter.EventMask) {
			w.mask.Store(uint64(mask))
			once.Do(func() {
				waitingMu.Lock()
				waitingCalls[w] = struct{}{}
				waitingMu.Unlock()
				write(frameBlocked, []byte(`{"id":`+strconv.Itoa(c.ID)+`}`))
			})
		}
		go func() {
			r := blocking(c, s, blocked)
			waitingMu.Lock()
			delete(waitingCalls, w)
			waitingMu.Unlock()
			answer(r)
			close(w.done)
		}()
	default:
		answer(immediate(c, s))
	}
}

// waiting is a call that waits in the netstack, for `mask` on its socket.
type waiting struct {
	s    *sock
	mask atomic.Uint64
	done chan struct{}
}

var (
	waitingMu    sync.Mutex
	waitingCalls = map[*waiting]struct{}{}
)

// finishReady lets every waiting call whose socket is now ready return (for
// at most 100 ms each) before the next call runs.
func finishReady() {
	waitingMu.Lock()
	var ready []*waiting
	for w := range waitingCalls {
		mask := waiter.EventMask(w.mask.Load()) | waiter.EventErr | waiter.EventHUp
		if w.s.ep.Readiness(mask) != 0 {
			ready = append(ready, w)
		}
	}
	waitingMu.Unlock()
	for _, w := range ready {
		select {
		case <-w.done:
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func socket(family int, nonblock bool) result {
	proto := ipv4.ProtocolNumber
	if family == 6 {
		proto = ipv6.ProtocolNumber
	}
	wq := &waiter.Queue{}
	ep, err := st.NewEndpoint(tcp.ProtocolNumber, proto, wq)
	if err != nil {
		return tcpErr(err)
	}
	if family == 0 {
		family = 4
	}
	return okv(adopt(&sock{ep: ep, wq: wq, family: family, nonblock: nonblock}))
}

// adopt gives a socket the lowest free fd from 3, as the kernel would.
func adopt(s *sock) int {
	fdsMu.Lock()
	defer fdsMu.Unlock()
	fd := 3
	for fds[fd] != nil {
		fd++
	}
	fds[fd] = s
	return fd
}

func fullAddress(s *sock, addr *string, port int) (tcpip.FullAddress, bool) {
	a := tcpip.FullAddress{Port: uint16(port)}
	if addr == nil || *addr == "" || *addr == "0.0.0.0" || *addr == "::" {
		return a, true
	}
	ip := net.ParseIP(*addr)
	if ip == nil {
		return a, false
	}
	if s.family == 4 {
		if ip.To4() == nil {
			return a, false
		}
		a.Addr = tcpip.Address(ip.To4())
	} else {
		a.Addr = tcpip.Address(ip.To16())
	}
	return a, true
}

// wait blocks until the socket has one of `mask` (or an error or hang-up), or `d` passes.
func wait(s *sock, mask waiter.EventMask, d time.Duration) bool {
	all := mask | waiter.EventErr | waiter.EventHUp
	e, ch := waiter.NewChannelEntry(all)
	s.wq.EventRegister(&e)
	defer s.wq.EventUnregister(&e)
	if s.ep.Readiness(all) != 0 {
		return true
	}
	if d < 0 {
		<-ch
		return true
	}
	select {
	case <-ch:
		return true
	case <-time.After(d):
		return s.ep.Readiness(all) != 0
	}
}

func blocking(c callFrame, s *sock, blocked func(waiter.EventMask)) result {
	k := c.Call
	switch k.Name {
	case "close":
		// SO_LINGER with a time: close() waits for the connection to close (a hang-up) or the
		// time to pass, as gVisor's socket layer does (sentry/socket/netstack, Release).
		fdsMu.Lock()
		delete(fds, k.FD)
		fdsMu.Unlock()
		e, ch := waiter.NewChannelEntry(waiter.EventHUp)
		s.wq.EventRegister(&e)
		defer s.wq.EventUnregister(&e)
		s.ep.Close()
		blocked(waiter.EventHUp)
		select {
		case <-ch:
		case <-time.After(s.ep.SocketOptions().GetLinger().Timeout):
		}
		return okv(0)
	case "accept":
		for {
			nep, nwq, err := s.ep.Accept(nil)
			if err == nil {
				return okv(adopt(&sock{ep: nep, wq: nwq, family: s.family}))
			}
			if _, would := err.(*tcpip.ErrWouldBlock); !would || s.nonblock {
				return tcpErr(err)
			}
			blocked(waiter.ReadableEvents)
			wait(s, waiter.ReadableEvents, -1)
		}
	case "connect":
		a, ok := fullAddress(s, k.Addr, k.Port)
		if !ok {
			return errno(eAFNOSUPPORT)
		}
		// As gVisor's socket layer does it (sentry/socket/netstack, Connect).
		err := s.ep.Connect(a)
		if s.nonblock || err == nil {
			return connectResult(err)
		}
		switch err.(type) {
		case *tcpip.ErrConnectStarted, *tcpip.ErrAlreadyConnecting:
		default:
			return connectResult(err)
		}
		blocked(waiter.WritableEvents)
		wait(s, waiter.WritableEvents, -1)
		// Connect() again after the wait gives the handshake's result.
		return connectResult(s.ep.Connect(a))
	case "write":
		data, derr := base64.StdEncoding.DecodeString(k.Data)
		if derr != nil {
			return errno(eINVAL)
		}
		sent := 0
		for sent < len(data) {
			var r bytes.Reader
			r.Reset(data[sent:])
			n, err := s.ep.Write(&r, tcpip.WriteOptions{})
			sent += int(n)
			if err == nil {
				continue
			}
			if _, would := err.(*tcpip.ErrWouldBlock); !would {
				if sent > 0 {
					return okv(sent)
				}
				return tcpErr(err)
			}
			// A non-blocking write returns what fit; a blocking one waits to write it all.
			if s.nonblock {
				if sent > 0 {
					return okv(sent)
				}
				return errno(eAGAIN)
			}
			blocked(waiter.WritableEvents)
			wait(s, waiter.WritableEvents, -1)
		}
		return okv(sent)
	case "read":
		var buf bytes.Buffer
		for {
			w := tcpip.LimitedWriter{W: &buf, N: int64(k.Count - buf.Len())}
			_, err := s.ep.Read(&w, tcpip.ReadOptions{})
			if err == nil {
				if k.All && buf.Len() < k.Count {
					continue
				}
				return okv(map[string]string{"bytes": base64.StdEncoding.EncodeToString(buf.Bytes())})
			}
			if _, eof := err.(*tcpip.ErrClosedForReceive); eof {
				return okv(map[string]string{"bytes": base64.StdEncoding.EncodeToString(buf.Bytes())})
			}
			if _, would := err.(*tcpip.ErrWouldBlock); !would {
				if buf.Len() > 0 {
					return okv(map[string]string{"bytes": base64.StdEncoding.EncodeToString(buf.Bytes())})
				}
				return tcpErr(err)
			}
			if s.nonblock {
				if buf.Len() > 0 {
					return okv(map[string]string{"bytes": base64.StdEncoding.EncodeToString(buf.Bytes())})
				}
				return errno(eAGAIN)
			}
			blocked(waiter.ReadableEvents)
			wait(s, waiter.ReadableEvents, -1)
		}
	case "poll":
		mask := waiter.EventMask(k.Events)
		all := mask | waiter.EventErr | waiter.EventHUp
		if k.TimeoutMs > 0 && s.ep.Readiness(all) == 0 {
			blocked(mask)
			wait(s, mask, time.Duration(k.TimeoutMs)*time.Millisecond)
		}
		return okv(map[string]uint64{"revents": uint64(s.ep.Readiness(all))})
	}
	return errno(eINVAL)
}

func immediate(c callFrame, s *sock) result {
	k := c.Call
	switch k.Name {
	case "bind":
		a, ok := fullAddress(s, k.Addr, k.Port)
		if !ok {
			return errno(eAFNOSUPPORT)
		}
		if err := s.ep.Bind(a); err != nil {
			return tcpErr(err)
		}
		return okv(0)
	case "listen":
		backlog := 128
		if k.Backlog != nil {
			backlog = *k.Backlog
		}
		if err := s.ep.Listen(backlog); err != nil {
			return tcpErr(err)
		}
		return okv(0)
	case "shutdown":
		flags := map[string]tcpip.ShutdownFlags{
			"SHUT_RD":   tcpip.ShutdownRead,
			"SHUT_WR":   tcpip.ShutdownWrite,
			"SHUT_RDWR": tcpip.ShutdownRead | tcpip.ShutdownWrite,
		}[k.How]
		if err := s.ep.Shutdown(flags); err != nil {
			return tcpErr(err)
		}
		return okv(0)
	case "close":
		fdsMu.Lock()
		delete(fds, k.FD)
		fdsMu.Unlock()
		s.ep.Close()
		return okv(0)
	case "fcntl":
		s.nonblock = k.Nonblock
		return okv(0)
	case "setsockopt":
		return setsockopt(s, k.Opt)
	case "getsockopt":
		name, _ := k.Opt.(string)
		return getsockopt(s, name)
	}
	return errno(eINVAL)
}

func setsockopt(s *sock, opt any) result {
	o, _ := opt.(map[string]any)
	name, _ := o["name"].(string)
	num, _ := o["value"].(float64)
	flag, _ := o["value"].(bool)
	so := s.ep.SocketOptions()
	intOpt := func(which tcpip.SockOptInt, v int) result {
		if err := s.ep.SetSockOptInt(which, v); err != nil {
			return tcpErr(err)
		}
		return okv(0)
	}
	sockOpt := func(v tcpip.SettableSocketOption) result {
		if err := s.ep.SetSockOpt(v); err != nil {
			return tcpErr(err)
		}
		return okv(0)
	}
	switch name {
	case "TCP_NODELAY":
		so.SetDelayOption(!flag)
	case "SO_KEEPALIVE":
		so.SetKeepAlive(flag)
	case "SO_REUSEADDR":
		so.SetReuseAddress(flag)
	case "TCP_CORK":
		so.SetCorkOption(flag)
	case "SO_LINGER":
		on, _ := o["onoff"].(bool)
		secs, _ := o["linger"].(float64)
		so.SetLinger(tcpip.LingerOption{Enabled: on, Timeout: time.Duration(secs) * time.Second})
	// What gVisor's socket layer does before the netstack sees it (sentry/socket/netstack,
	// setSockOptSocket and setSockOptTCP): buffer sizes clamped and doubled, keepalive
	// values range-checked.
	case "SO_RCVBUF":
		min, max := so.ReceiveBufferLimits()
		so.SetReceiveBufferSize(clampBufSize(int64(num), min, max), true)
	case "SO_SNDBUF":
		min, max := so.SendBufferLimits()
		so.SetSendBufferSize(clampBufSize(int64(num), min, max), true)
	case "TCP_MAXSEG":
		return intOpt(tcpip.MaxSegOption, int(num))
	case "TCP_KEEPCNT":
		if num < 1 || num > 127 { // MAX_TCP_KEEPCNT
			return errno(eINVAL)
		}
		return intOpt(tcpip.KeepaliveCountOption, int(num))
	case "TCP_KEEPIDLE", "TCP_KEEPINTVL":
		if num < 1 || num > 32767 { // MAX_TCP_KEEPIDLE, MAX_TCP_KEEPINTVL
			return errno(eINVAL)
		}
		if name == "TCP_KEEPIDLE" {
			v := tcpip.KeepaliveIdleOption(time.Duration(num) * time.Second)
			return sockOpt(&v)
		}
		v := tcpip.KeepaliveIntervalOption(time.Duration(num) * time.Second)
		return sockOpt(&v)
	default:
		return errno(eNOPROTOOPT)
	}
	return okv(0)
}

// linuxState names a netstack state as Linux's TCP_INFO does.
var linuxState = map[tcp.EndpointState]string{
	tcp.StateEstablished: "ESTABLISHED",
	tcp.StateSynSent:     "SYN_SENT",
	tcp.StateSynRecv:     "SYN_RECV",
	tcp.StateFinWait1:    "FIN_WAIT1",
	tcp.StateFinWait2:    "FIN_WAIT2",
	tcp.StateTimeWait:    "TIME_WAIT",
	tcp.StateClose:       "CLOSE",
	tcp.StateCloseWait:   "CLOSE_WAIT",
	tcp.StateLastAck:     "LAST_ACK",
	tcp.StateListen:      "LISTEN",
	tcp.StateClosing:     "CLOSING",
	tcp.StateInitial:     "CLOSE",
	tcp.StateBound:       "CLOSE",
	tcp.StateConnecting:  "SYN_SENT",
	tcp.StateError:       "CLOSE",
}

// linuxCaState maps netstack's congestion states to Linux's TCP_CA_* numbers.
var linuxCaState = map[tcpip.CongestionControlState]int{
	tcpip.Open:         0, // TCP_CA_Open
	tcpip.Disorder:     1, // TCP_CA_Disorder
	tcpip.FastRecovery: 3, // TCP_CA_Recovery
	tcpip.SACKRecovery: 3,
	tcpip.RTORecovery:  4, // TCP_CA_Loss
}

func getsockopt(s *sock, name string) result {
	so := s.ep.SocketOptions()
	named := func(v any) result { return okv(map[string]any{"name": name, "value": v}) }
	switch name {
	case "TCP_INFO":
		var i tcpip.TCPInfoOption
		if err := s.ep.GetSockOpt(&i); err != nil {
			return tcpErr(err)
		}
		// The fields netstack has; synack says of any other that it is not reported.
		info := map[string]any{
			"state":       linuxState[tcp.EndpointState(i.State)],
			"caState":     linuxCaState[i.CcState],
			"rto":         i.RTO.Microseconds(),
			"rtt":         i.RTT.Microseconds(),
			"rttvar":      i.RTTVar.Microseconds(),
			"sndCwnd":     i.SndCwnd,
			"sndSsthresh": i.SndSsthresh,
		}
		if t, ok := s.ep.Stats().(*tcp.Stats); ok {
			info["totalRetrans"] = t.SendErrors.Retransmits.Value()
			info["segsOut"] = t.SegmentsSent.Value()
			info["segsIn"] = t.SegmentsReceived.Value()
		}
		return okv(map[string]any{"tcpinfo": info})
	case "SO_ERROR":
		if e := s.ep.LastError(); e != nil {
			return okv(int(syserr.TranslateNetstackError(e).ToLinux()))
		}
		return okv(0)
	case "TCP_NODELAY":
		return named(!so.GetDelayOption())
	case "SO_KEEPALIVE":
		return named(so.GetKeepAlive())
	case "SO_REUSEADDR":
		return named(so.GetReuseAddress())
	case "TCP_CORK":
		return named(so.GetCorkOption())
	case "SO_LINGER":
		l := so.GetLinger()
		return okv(map[string]any{"name": name, "onoff": l.Enabled, "linger": int(l.Timeout / time.Second)})
	case "SO_RCVBUF":
		return named(so.GetReceiveBufferSize())
	case "SO_SNDBUF":
		return named(so.GetSendBufferSize())
	case "TCP_MAXSEG", "TCP_KEEPCNT":
		which := tcpip.MaxSegOption
		if name == "TCP_KEEPCNT" {
			which = tcpip.KeepaliveCountOption
		}
		v, err := s.ep.GetSockOptInt(which)
		if err != nil {
			return tcpErr(err)
		}
		return named(v)
	case "TCP_KEEPIDLE":
		var v tcpip.KeepaliveIdleOption
		if err := s.ep.GetSockOpt(&v); err != nil {
			return tcpErr(err)
		}
		return named(int(time.Duration(v) / time.Second))
	case "TCP_KEEPINTVL":
		var v tcpip.KeepaliveIntervalOption
		if err := s.ep.GetSockOpt(&v); err != nil {
			return tcpErr(err)
		}
		return named(int(time.Duration(v) / time.Second))
	}
	return errno(eNOPROTOOPT)
}

// clampBufSize is the socket layer's: capped at the maximum, doubled for
// overhead as Linux doubles, and raised to the minimum.
func clampBufSize(size, min, max int64) int64 {
	if size > max {
		size = max
	}
	if size >= math.MaxInt32/2 {
		return math.MaxInt32
	}
	size *= 2
	if size < min {
		size = min
	}
	return size
}

// connectResult is connect()'s answer for a netstack result: TCP says
// EADDRNOTAVAIL when no ephemeral port is left, as Linux does.
func connectResult(err tcpip.Error) result {
	if err == nil {
		return okv(0)
	}
	if _, none := err.(*tcpip.ErrNoPortAvailable); none {
		return errno(eADDRNOTAVAIL)
	}
	return tcpErr(err)
}
