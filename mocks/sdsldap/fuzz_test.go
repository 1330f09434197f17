package sdsldap

import (
	"io"
	"net"
	"testing"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"

	"github.com/spine-sandbox/spine-sandbox/internal/scenario"
	"github.com/spine-sandbox/spine-sandbox/internal/world"
)

// message encodes an LDAPMessage around op, as a client sends it.
func message(id int64, op *ber.Packet) []byte {
	m := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "")
	m.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, id, ""))
	m.AppendChild(op)
	return m.Bytes()
}

func searchMessage(filter string) []byte {
	f, err := ldap.CompileFilter(filter)
	if err != nil {
		panic(err)
	}
	op := ber.Encode(ber.ClassApplication, ber.TypeConstructed, ldap.ApplicationSearchRequest, nil, "")
	op.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, BaseDN, ""))
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagEnumerated, 2, ""))
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagEnumerated, 0, ""))
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, 0, ""))
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, 0, ""))
	op.AppendChild(ber.NewBoolean(ber.ClassUniversal, ber.TypePrimitive, ber.TagBoolean, false, ""))
	op.AppendChild(f)
	op.AppendChild(ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, ""))
	return message(1, op)
}

// FuzzConn feeds any bytes to a connection: the server answers or hangs up,
// never panics, and the connection's goroutine always ends.
func FuzzConn(f *testing.F) {
	bind := ber.Encode(ber.ClassApplication, ber.TypeConstructed, ldap.ApplicationBindRequest, nil, "")
	bind.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, 3, ""))
	bind.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, "cn=default", ""))
	bind.AppendChild(ber.NewString(ber.ClassContext, ber.TypePrimitive, 0, "", ""))
	f.Add(message(1, bind))
	f.Add(searchMessage("(&(nhsIDCode=A20047)(objectClass=nhsMhs)(nhsMhsSvcIA=urn:nhs:names:services:gpconnect:fhir:rest:search:slot-1))"))
	f.Add(searchMessage("(|(!(a=*))(b>=c)(d<=e)(f~=g)(h=*i*j*))"))
	f.Add([]byte{0x30, 0x84, 0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{0x30, 0x80, 0x00, 0x00})
	data, err := scenario.Default().World(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	if err != nil {
		f.Fatal(err)
	}
	w := world.New(data, "http://127.0.0.1:4000", time.Now)
	srv := New(Config{Sessions: func(id string) (Directory, bool) { return Directory{World: w}, id == "default" }, MaxMessageBytes: 4 << 10})
	f.Fuzz(func(t *testing.T, in []byte) {
		client, server := net.Pipe()
		c := &conn{s: srv, nc: server, session: "default"}
		done := make(chan struct{})
		go func() {
			defer close(done)
			defer server.Close()
			c.serve()
		}()
		go func() { _, _ = io.Copy(io.Discard, client) }()
		_ = client.SetWriteDeadline(time.Now().Add(time.Second))
		_, _ = client.Write(in)
		client.Close()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("the connection's goroutine did not end")
		}
	})
}
