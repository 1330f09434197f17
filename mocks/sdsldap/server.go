// Package sdsldap is the mock Spine Directory Service as GP Connect 1.6
// specifies it (gpconnect-1.6.md §1.2a): an LDAPv3 directory under
// "ou=services, o=nhs" holding an nhsMhs record per practice and
// interaction (endpoint, party key) and an nhsAs record per accredited
// system (ASID, interactions), read with anonymous binds. Its entries are
// derived from a session's *world.World on every search, the same facts
// the FHIR SDS (mocks/sds) serves.
//
// The protocol runs on github.com/go-asn1-ber/asn1-ber, the BER codec
// go-ldap itself uses, with go-ldap's filter, DN and result-code
// definitions. The Go LDAP server libraries were judged and not used:
// vjeantet/ldapserver v1.0.1 reads a message of any announced length,
// logs to stdout through a package global, and dereferences a nil
// connection when Accept fails, so it cannot stop by closing its listener;
// jimlambrt/gldap v0.1.14 cannot serve a listener it was given (no port 0
// in tests), and its Stop waits for idle clients to hang up. This package
// bounds message size, connections and results, and Close ends every
// connection.
//
// Sessions: a simple bind whose DN is "cn=<session id>" with an empty
// password (an unauthenticated bind, RFC 4513 §5.1.2) selects that
// session's directory for the rest of the connection; an anonymous client
// (no bind, or a bind with an empty DN) reads the default session.
package sdsldap

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"

	"github.com/spine-sandbox/spine-sandbox/internal/world"
)

// Directory is one session's directory: its world, and the sandbox's hooks
// for faults and the journal.
type Directory struct {
	World *world.World
	// Fault, when set, is asked before each search which scenario fault
	// applies to it; kind is KindMHS, KindAS or KindOther. nil: none.
	Fault func(kind string) *Fault
	// Observe, when set, is told of every search once it is answered (or
	// its connection dropped).
	Observe func(Search)
}

// Fault is a failure injected into one search: held back by Delay, then
// the connection dropped, or answered with Result instead of entries.
// A Fault with only a delay lets the search answer normally, late.
type Fault struct {
	Delay    time.Duration
	Drop     bool
	Result   uint16 // an LDAP result code; 0 with no Drop: answer normally
	Describe string // for the journal
}

// Kinds of search, told apart by the object class the filter asks for.
const (
	KindMHS   = "mhs"    // (objectClass=nhsMhs): §1.2a step 1, the endpoint
	KindAS    = "as"     // (objectClass=nhsAs): §1.2a step 2, the ASID
	KindOther = "search" // anything else
)

// Search is one answered search, as the journal records it.
type Search struct {
	Session    string
	Kind       string
	Base       string
	Scope      string // base, one, sub
	Filter     string // RFC 4515 text
	Attributes []string
	SizeLimit  int64
	Entries    []Entry // what was sent, in order
	Result     uint16  // LDAP result code
	Diagnostic string
	Fault      string // the fault applied, if any
	Dropped    bool   // the connection was dropped instead of answered
	Began      time.Time
	Duration   time.Duration
	Remote     string // the client's address
}

// Entry is one entry as sent: its DN and the attributes returned.
type Entry struct {
	DN    string
	Attrs []Attr
}

// Attr is one returned attribute.
type Attr struct {
	Name   string
	Values []string
}

// Sessions finds a session's directory by id.
type Sessions func(id string) (Directory, bool)

// Config configures a Server. Zero limits take the defaults below.
type Config struct {
	Sessions       Sessions
	DefaultSession string // what anonymous clients read; "default" when ""
	Logger         *slog.Logger
	// TLS, when set, makes the server speak LDAPS: TLS from the first
	// byte, with client certificates when TLS.ClientAuth asks for them (as
	// Spine's directory does, §1.2a). serve does not set it yet: the
	// sandbox has no TLS of its own until the TLS issue lands.
	TLS *tls.Config
	// MaxConns is how many connections may be open at once; more are told
	// "busy" and closed. Default 64.
	MaxConns int
	// MaxMessageBytes is the largest request accepted; a larger one ends
	// the connection with protocolError. Default 64 KiB (a §1.2a search is
	// under 300 bytes).
	MaxMessageBytes int
	// MaxEntries caps every search's size limit: more matches answer
	// sizeLimitExceeded after that many entries. Default 500.
	MaxEntries int
	// IdleTimeout closes a connection that sends nothing for this long.
	// Default 2 minutes.
	IdleTimeout time.Duration
}

// Server is the LDAP directory of every session.
type Server struct {
	cfg Config
	log *slog.Logger
	ops map[ber.Tag]op

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup // one per connection and per Serve

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	conns     map[*conn]struct{}
}

// New returns a Server; Serve starts it, Close stops it.
func New(cfg Config) *Server {
	if cfg.DefaultSession == "" {
		cfg.DefaultSession = "default"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = 64
	}
	if cfg.MaxMessageBytes <= 0 {
		cfg.MaxMessageBytes = 64 << 10
	}
	if cfg.MaxEntries <= 0 {
		cfg.MaxEntries = 500
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 2 * time.Minute
	}
	s := &Server{cfg: cfg, log: cfg.Logger, listeners: map[net.Listener]struct{}{}, conns: map[*conn]struct{}{}}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	// The operation table: every request the protocol has, each answered
	// by one function; their errors are written by conn.writeResult.
	s.ops = map[ber.Tag]op{
		ldap.ApplicationBindRequest:     (*conn).bind,
		ldap.ApplicationSearchRequest:   (*conn).search,
		ldap.ApplicationModifyRequest:   refuse(ldap.ApplicationModifyResponse, "modify"),
		ldap.ApplicationAddRequest:      refuse(ldap.ApplicationAddResponse, "add"),
		ldap.ApplicationDelRequest:      refuse(ldap.ApplicationDelResponse, "delete"),
		ldap.ApplicationModifyDNRequest: refuse(ldap.ApplicationModifyDNResponse, "modify DN"),
		ldap.ApplicationCompareRequest:  unsupported(ldap.ApplicationCompareResponse, "compare is not supported; search with an equality filter"),
		ldap.ApplicationExtendedRequest: unsupported(ldap.ApplicationExtendedResponse, "no extended operations are supported (StartTLS neither: use ldaps://)"),
		ldap.ApplicationAbandonRequest:  func(*conn, int64, *ber.Packet) error { return nil }, // searches finish before the next request is read: nothing to abandon
	}
	return s
}

// ListenAndServe listens on addr (TCP, or TLS when Config.TLS is set) and
// serves until Close. It calls ready with the bound address once it
// listens.
func (s *Server) ListenAndServe(addr string, ready func(net.Addr)) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	if ready != nil {
		ready(ln.Addr())
	}
	return s.Serve(ln)
}

// Serve accepts connections on ln until Close; it closes ln. With
// Config.TLS, ln is wrapped in TLS.
func (s *Server) Serve(ln net.Listener) error {
	if s.cfg.TLS != nil {
		ln = tls.NewListener(ln, s.cfg.TLS)
	}
	s.mu.Lock()
	if s.ctx.Err() != nil {
		s.mu.Unlock()
		ln.Close()
		return net.ErrClosed
	}
	s.listeners[ln] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, ln)
		s.mu.Unlock()
		ln.Close()
	}()
	var backoff time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			// A temporary failure (too many open files): wait and retry,
			// as net/http does.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			s.log.Warn("sdsldap: accept", "err", err)
			select {
			case <-time.After(backoff):
			case <-s.ctx.Done():
				return nil
			}
			continue
		}
		backoff = 0
		s.start(nc)
	}
}

// start registers and serves a connection, or turns it away when the
// server is full or closing.
func (s *Server) start(nc net.Conn) {
	c := &conn{s: s, nc: nc, session: s.cfg.DefaultSession}
	s.mu.Lock()
	if s.ctx.Err() != nil {
		s.mu.Unlock()
		nc.Close()
		return
	}
	if len(s.conns) >= s.cfg.MaxConns {
		// Told on a goroutine of its own (at most 1s, the notice's write
		// deadline) so a client that reads nothing cannot stall Accept.
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			c.notice(ldap.LDAPResultBusy, "too many connections")
			nc.Close()
		}()
		return
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		defer func() {
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
			nc.Close()
		}()
		c.serve()
	}()
}

// Close stops accepting, tells every client the server is going
// (a notice of disconnection, RFC 4511 §4.4.1), closes their connections
// and waits for every goroutine the server started. Searches being held
// back by a fault's delay end at once.
func (s *Server) Close() error {
	s.mu.Lock()
	s.cancel()
	for ln := range s.listeners {
		ln.Close()
	}
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	var notices sync.WaitGroup // a client that reads nothing holds a notice up to 1s; tell them all at once
	for _, c := range conns {
		notices.Go(c.shutdown)
	}
	notices.Wait()
	s.wg.Wait()
	return nil
}

// op answers one request. A returned *Error is written as the request's
// result by conn.writeResult; any other error ends the connection.
type op func(c *conn, id int64, req *ber.Packet) error

// Error is an LDAP result other than success.
type Error struct {
	Code       uint16
	Diagnostic string
	MatchedDN  string
}

func (e *Error) Error() string {
	return fmt.Sprintf("LDAP %d %s: %s", e.Code, ldap.LDAPResultCodeMap[e.Code], e.Diagnostic)
}

func resultError(code uint16, format string, args ...any) *Error {
	return &Error{Code: code, Diagnostic: fmt.Sprintf(format, args...)}
}

// errDrop ends a connection without an answer (a scenario's drop fault).
var errDrop = errors.New("connection dropped by a scenario fault")

// refuse answers an update: the directory is read-only, as Spine's is to
// a GP Connect system. insufficientAccessRights (50), not
// unwillingToPerform (53): the refusal is about who asks (an anonymous
// client may only read, RFC 4511 §4.1.9), which is why Spine's
// directory refuses it, not a limit of the server.
func refuse(responseTag ber.Tag, what string) op {
	return func(c *conn, id int64, _ *ber.Packet) error {
		return c.writeResult(id, responseTag, resultError(ldap.LDAPResultInsufficientAccessRights, "the directory is read-only: %s is not allowed", what))
	}
}

// unsupported answers an operation the directory does not offer.
func unsupported(responseTag ber.Tag, why string) op {
	return func(c *conn, id int64, _ *ber.Packet) error {
		code := uint16(ldap.LDAPResultUnwillingToPerform)
		if responseTag == ldap.ApplicationExtendedResponse {
			code = ldap.LDAPResultProtocolError // RFC 4511 §4.12: an unknown extended operation
		}
		return c.writeResult(id, responseTag, resultError(code, "%s", why))
	}
}

// conn is one client connection. Requests are answered one at a time, in
// order, on the connection's own goroutine.
type conn struct {
	s       *Server
	nc      net.Conn
	session string // the session whose directory the client reads

	writeMu sync.Mutex
}

func (c *conn) serve() {
	for {
		_ = c.nc.SetReadDeadline(time.Now().Add(c.s.cfg.IdleTimeout))
		p, err := c.read()
		if err != nil {
			var e *Error
			if errors.As(err, &e) {
				c.notice(e.Code, e.Diagnostic)
			} else if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				c.s.log.Debug("sdsldap: read", "remote", c.nc.RemoteAddr(), "err", err)
			}
			return
		}
		if len(p.Children) < 2 {
			c.notice(ldap.LDAPResultProtocolError, "an LDAPMessage has a message id and an operation")
			return
		}
		id, ok := p.Children[0].Value.(int64)
		req := p.Children[1]
		if !ok || req.ClassType != ber.ClassApplication {
			c.notice(ldap.LDAPResultProtocolError, "malformed LDAPMessage")
			return
		}
		if req.Tag == ldap.ApplicationUnbindRequest {
			return
		}
		o, known := c.s.ops[req.Tag]
		if !known {
			c.notice(ldap.LDAPResultProtocolError, fmt.Sprintf("unknown operation %d", req.Tag))
			return
		}
		if err := o(c, id, req); err != nil {
			if !errors.Is(err, errDrop) && c.s.ctx.Err() == nil {
				c.s.log.Debug("sdsldap: answer", "remote", c.nc.RemoteAddr(), "err", err)
			}
			return
		}
	}
}

// read reads one LDAPMessage, refusing before allocating one longer than
// MaxMessageBytes (asn1-ber's own bound is a package global of 2 GiB).
func (c *conn) read() (*ber.Packet, error) {
	var head [6]byte
	if _, err := io.ReadFull(c.nc, head[:2]); err != nil {
		return nil, err
	}
	if head[0] != 0x30 {
		return nil, resultError(ldap.LDAPResultProtocolError, "an LDAPMessage is a SEQUENCE")
	}
	n, hl := int(head[1]), 2
	if head[1]&0x80 != 0 {
		k := int(head[1] & 0x7f)
		if k == 0 || k > 4 {
			return nil, resultError(ldap.LDAPResultProtocolError, "indefinite or oversized length")
		}
		if _, err := io.ReadFull(c.nc, head[2:2+k]); err != nil {
			return nil, err
		}
		n = 0
		for _, b := range head[2 : 2+k] {
			n = n<<8 | int(b)
		}
		hl = 2 + k
	}
	if n > c.s.cfg.MaxMessageBytes {
		return nil, resultError(ldap.LDAPResultProtocolError, "message of %d bytes is over the limit of %d", n, c.s.cfg.MaxMessageBytes)
	}
	buf := make([]byte, hl+n)
	copy(buf, head[:hl])
	if _, err := io.ReadFull(c.nc, buf[hl:]); err != nil {
		return nil, err
	}
	p, err := ber.DecodePacketErr(buf)
	if err != nil {
		return nil, resultError(ldap.LDAPResultProtocolError, "undecodable message: %v", err)
	}
	return p, nil
}

// write sends one LDAPMessage; a client that does not read it within 10
// seconds loses its connection.
func (c *conn) write(id int64, op *ber.Packet) error { return c.writeWithin(id, op, 10*time.Second) }

func (c *conn) writeWithin(id int64, op *ber.Packet, timeout time.Duration) error {
	msg := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "LDAP Message")
	msg.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, id, "Message ID"))
	msg.AppendChild(op)
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	_ = c.nc.SetWriteDeadline(time.Now().Add(timeout))
	_, err := c.nc.Write(msg.Bytes())
	return err
}

// result is an LDAPResult-shaped operation (RFC 4511 §4.1.9).
func result(tag ber.Tag, code uint16, matchedDN, diagnostic string) *ber.Packet {
	p := ber.Encode(ber.ClassApplication, ber.TypeConstructed, tag, nil, ldap.ApplicationMap[uint8(tag)])
	p.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagEnumerated, int64(code), "resultCode"))
	p.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, matchedDN, "matchedDN"))
	p.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, diagnostic, "diagnosticMessage"))
	return p
}

// writeResult is the one writer of results: nil is success, an *Error its
// code and message; any other error ends the connection.
func (c *conn) writeResult(id int64, tag ber.Tag, err error) error {
	if err != nil {
		var e *Error
		if !errors.As(err, &e) {
			return err
		}
		return c.write(id, result(tag, e.Code, e.MatchedDN, e.Diagnostic))
	}
	return c.write(id, result(tag, ldap.LDAPResultSuccess, "", ""))
}

// notice sends an unsolicited notice of disconnection (RFC 4511 §4.4.1)
// before the connection is closed.
func (c *conn) notice(code uint16, diagnostic string) {
	p := result(ldap.ApplicationExtendedResponse, code, "", diagnostic)
	p.AppendChild(ber.NewString(ber.ClassContext, ber.TypePrimitive, 10, "1.3.6.1.4.1.1466.20036", "responseName"))
	_ = c.writeWithin(0, p, time.Second)
}

// shutdown tells the client the server is stopping and closes the
// connection, which ends its goroutine's read.
func (c *conn) shutdown() {
	c.notice(ldap.LDAPResultUnavailable, "the sandbox is shutting down")
	c.nc.Close()
}
