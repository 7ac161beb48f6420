package chat_test

import (
	"bytes"
	"strings"
	"sync"
	"testing"

	"github.com/gonetic/gonetic/demo/chat/chat"
	gnet "github.com/gonetic/gonetic/net"
)

// maxLogLine bounds one line of the room's log, whatever a peer sent: a
// timestamp, a message, a clipped field or two and an address.
const maxLogLine = 512

// huge is more than any limit of the chat, within gonetic's 1 MiB payload.
var huge = 1_000_000

// probe is a raw chat client: it sends what a Session checks first and
// never would, and records what the server answers.
type probe struct {
	client   *gnet.Client
	conn     *gnet.Conn
	open     bool
	welcomed bool
	nick     string // the nickname of the Welcome
	refused  []chat.NickRefused
	notices  []string
	chat     []chat.ChatMsg
	left     []chat.UserLeft
}

type probeHandler struct {
	gnet.Handler
	p *probe
}

func (h *probeHandler) OnConnect()                        { h.p.open = true }
func (h *probeHandler) NetWelcome(m chat.Welcome)         { h.p.welcomed, h.p.nick = true, m.Nick }
func (h *probeHandler) NetNickRefused(m chat.NickRefused) { h.p.refused = append(h.p.refused, m) }
func (h *probeHandler) NetNotice(m chat.Notice)           { h.p.notices = append(h.p.notices, m.Text) }
func (h *probeHandler) NetChatMsg(m chat.ChatMsg)         { h.p.chat = append(h.p.chat, m) }
func (h *probeHandler) NetUserLeft(m chat.UserLeft)       { h.p.left = append(h.p.left, m) }

// probe connects a raw client to the rig's server, with opts.
func (r *rig) probe(opts ...gnet.ConnectOption) *probe {
	r.t.Helper()
	f, _ := chat.NewFactory("msgpack")
	c, err := gnet.NewClient(gnet.ClientConfig{Config: gnet.Config{Factory: f, Transport: r.tr}})
	if err != nil {
		r.t.Fatal(err)
	}
	p := &probe{client: c}
	r.probes = append(r.probes, p)
	if p.conn, err = c.Connect(r.addr, &probeHandler{p: p}, opts...); err != nil {
		r.t.Fatal(err)
	}
	r.pump("the probe connected", func() bool { return p.open })
	return p
}

// join joins the room as nick.
func (r *rig) probeJoin(p *probe, nick string) {
	r.t.Helper()
	r.send(p, &chat.Join{Nick: nick})
	r.pump("the probe joined", func() bool { return p.welcomed })
}

func (r *rig) send(p *probe, msg any) {
	r.t.Helper()
	if err := p.conn.Send(msg); err != nil {
		r.t.Fatal(err)
	}
}

// checkLog fails when a line of the room's log is longer than maxLogLine.
func (r *rig) checkLog() {
	r.t.Helper()
	for _, l := range strings.Split(r.log.String(), "\n") {
		if len(l) > maxLogLine {
			r.t.Fatalf("a log line of %d bytes, more than %d: %.200s…", len(l), maxLogLine, l)
		}
	}
}

// logBuffer is a log destination that tests read.
type logBuffer struct {
	mu sync.Mutex // guards b
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestHugeNickRefused: a nickname of a million characters is answered, on
// every try, with a short refusal that says why, and costs the log one
// short line per try.
func TestHugeNickRefused(t *testing.T) {
	r := newTCPRig(t)
	p := r.probe()
	nick := strings.Repeat("n", huge)
	for try := 1; try <= 3; try++ {
		r.send(p, &chat.Join{Nick: nick})
		r.pump("the refusal", func() bool { return len(p.refused) == try })
	}
	for _, m := range p.refused {
		if !strings.Contains(m.Reason, "a nickname has at most 16 characters, this one has 1000000") {
			t.Errorf("refusal reason = %.200q", m.Reason)
		}
		if len(m.Nick)+len(m.Reason) > 200 {
			t.Errorf("refusal of %d bytes: %.200q %.200q", len(m.Nick)+len(m.Reason), m.Nick, m.Reason)
		}
	}
	if n := strings.Count(r.log.String(), `msg="nickname refused"`); n != 3 {
		t.Errorf("%d refusals logged, want 3:\n%.2000s", n, r.log.String())
	}
	r.checkLog()
	// The refused connection may still join.
	r.probeJoin(p, "mallory")
}

// TestHugeLineNotRelayed: a chat line over MaxText is not relayed to the
// room (eve records what arrives), the sender is told why, and a Session
// does not send one.
func TestHugeLineNotRelayed(t *testing.T) {
	r := newTCPRig(t)
	ann := r.join("ann")
	r.pump("ann online", ann.online())
	eve := r.probe()
	r.probeJoin(eve, "eve")
	p := r.probe()
	r.probeJoin(p, "mallory")
	r.send(p, &chat.ChatMsg{Msg: strings.Repeat("x", huge)})
	r.pump("mallory told", func() bool { return len(p.notices) == 1 })
	if want := "line not relayed: a line has at most 400 characters, this one has 1000000"; p.notices[0] != want {
		t.Errorf("notice = %.200q, want %q", p.notices[0], want)
	}
	// Lines are relayed in order: once ann hears the next one, she would
	// have heard the huge one.
	r.send(p, &chat.ChatMsg{Msg: "after"})
	r.pump("ann hears the next line", ann.saw("<mallory> after"))
	r.pump("eve hears the next line", func() bool { return len(eve.chat) > 0 && eve.chat[len(eve.chat)-1].Msg == "after" })
	if n := ann.count("<mallory>"); n != 1 || len(eve.chat) != 1 {
		t.Fatalf("ann heard %d lines from mallory, eve %d (the first of %d bytes); want only the short one", n, len(eve.chat), len(eve.chat[0].Msg))
	}

	// A line of exactly MaxText goes through; a Session checks before it
	// sends a longer one, and the user is told why.
	if err := ann.s.Say(strings.Repeat("y", chat.MaxText)); err != nil {
		t.Fatal(err)
	}
	r.pump("ann hears her longest line", ann.saw("<ann> yyy"))
	if err := ann.s.Say(strings.Repeat("y", chat.MaxText+1)); err == nil || err.Error() != "a line has at most 400 characters, this one has 401" {
		t.Fatalf("Say of %d characters: %v", chat.MaxText+1, err)
	}
	ann.s.Input(strings.Repeat("z", huge))
	if !ann.saw("!!! not sent: a line has at most 400 characters, this one has 1000000")() {
		t.Fatalf("ann saw:\n%.2000s", ann.text())
	}
	r.checkLog()
}

// TestHugeLeaveReasonCut: a reason of a million bytes in a goodbye reaches
// the room (eve records what arrives) and the log cut to MaxReason bytes.
func TestHugeLeaveReasonCut(t *testing.T) {
	r := newTCPRig(t)
	eve := r.probe()
	r.probeJoin(eve, "eve")
	p := r.probe()
	r.probeJoin(p, "mallory")
	p.conn.Disconnect(strings.Repeat("r", huge))
	r.pump("eve sees mallory leave", func() bool { return len(eve.left) == 1 })
	if why := eve.left[0].Reason; len(why) > chat.MaxReason || !strings.HasPrefix(why, "rrr") {
		t.Fatalf("eve got a leave reason of %d bytes, want rrr… of at most %d: %.300q", len(why), chat.MaxReason, why)
	}
	r.checkLog()
}

func TestLeaveReason(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{&gnet.DisconnectError{Remote: true, Reason: "quit"}, "quit"},
		{&gnet.DisconnectError{Remote: true, Reason: "gone\n\x1b[2Jfishing"}, "gone  [2Jfishing"},
		{&gnet.DisconnectError{Remote: true, Reason: strings.Repeat("é", chat.MaxReason)}, strings.Repeat("é", chat.MaxReason/2-2) + "…"},
		{&gnet.DisconnectError{Remote: true, Reason: " \n "}, "connection lost"},
		{&gnet.DisconnectError{Remote: true}, "connection lost"},
		{nil, "connection lost"},
	} {
		if got := chat.LeaveReason(c.err); got != c.want {
			t.Errorf("LeaveReason(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}
