package stu3

import (
	"encoding/json"
	"unicode/utf8"
)

// Marshal encodes v exactly as json.Marshal does, byte for byte, but writes
// a Bundle (or *Bundle) without scanning again the entries Add encoded.
// encoding/json compacts and validates every json.RawMessage it writes; for
// a two-week searchset of hundreds of resources that second pass over every
// entry was a fifth of the provider's slot search. Any other value goes to
// json.Marshal.
func Marshal(v any) ([]byte, error) {
	switch b := v.(type) {
	case *Bundle:
		if b != nil {
			return b.appendJSON()
		}
	case Bundle:
		return b.appendJSON()
	}
	return json.Marshal(v)
}

// appendJSON writes the Bundle's other elements with encoding/json, then
// its entries (the last element, so the order is kept) one by one.
func (b *Bundle) appendJSON() ([]byte, error) {
	head := *b
	head.Entry = nil
	out, err := json.Marshal(head)
	if err != nil || len(b.Entry) == 0 {
		return out, err
	}
	size := len(out) + len(`,"entry":[]`)
	for i := range b.Entry {
		e := &b.Entry[i]
		size += len(`{"fullUrl":"","resource":,"search":{"mode":""}},`) + len(e.FullURL) + len(e.Resource)
		if e.Search != nil {
			size += len(e.Search.Mode)
		}
	}
	buf := make([]byte, 0, size)
	buf = append(buf, out[:len(out)-1]...) // all but the closing brace
	buf = append(buf, `,"entry":[`...)
	for i := range b.Entry {
		if i > 0 {
			buf = append(buf, ',')
		}
		if buf, err = b.Entry[i].appendJSON(buf); err != nil {
			return nil, err
		}
	}
	return append(buf, "]}"...), nil
}

// appendJSON writes the entry as encoding/json would: fullUrl, resource
// and search, each left out when empty.
func (e *BundleEntry) appendJSON(dst []byte) ([]byte, error) {
	dst = append(dst, '{')
	n := len(dst)
	if e.FullURL != "" {
		dst = append(dst, `"fullUrl":`...)
		dst = appendString(dst, e.FullURL)
	}
	if len(e.Resource) > 0 {
		if len(dst) > n {
			dst = append(dst, ',')
		}
		dst = append(dst, `"resource":`...)
		if e.fromAdd() {
			dst = append(dst, e.Resource...)
		} else {
			raw, err := json.Marshal(e.Resource)
			if err != nil {
				return nil, err
			}
			dst = append(dst, raw...)
		}
	}
	if e.Search != nil {
		if len(dst) > n {
			dst = append(dst, ',')
		}
		dst = append(dst, `"search":{`...)
		if e.Search.Mode != "" {
			dst = append(dst, `"mode":`...)
			dst = appendString(dst, e.Search.Mode)
		}
		dst = append(dst, '}')
	}
	return append(dst, '}'), nil
}

// fromAdd reports whether Resource still holds the very bytes Add encoded.
func (e *BundleEntry) fromAdd() bool {
	return len(e.Resource) == len(e.encoded) && &e.Resource[0] == &e.encoded[0]
}

// appendString appends s as a JSON string. Plain printable ASCII, which is
// what URLs and codes are, is copied between quotes; anything encoding/json
// would escape (quotes, backslashes, control characters, <, >, & and
// non-ASCII) goes through json.Marshal so the bytes stay its bytes.
func appendString(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always encodes
			return append(dst, q...)
		}
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}
