// Package handler finds the methods of a handler struct and binds them to
// message types.
//
// A handler is any value whose methods follow these names, all optional:
//
//	OnConnect()                     the connection is open (handshake done)
//	OnDisconnect(reason error)      the connection ended, and why
//	OnReceive(msg any)              a message no Net method takes
//	NetChatMsg(msg Chat)            one per message type: "chat_msg" → NetChatMsg,
//	                                taking the registered struct, or
//	                                message.Value for a dynamic type
//
// Bind checks every one of them when the handler is attached: a method with
// one of these names and a wrong signature, or a Net… method that matches no
// registered type, is an error then, not a silent miss at run time.
//
// Package net embeds this: game code writes the handler struct (embedding
// gnet.Handler for access to its connection) and never calls Bind itself.
package handler

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"unicode"

	"github.com/gonetic/gonetic/message"
)

// ErrSignature is wrapped by every error about a handler's methods.
var ErrSignature = errors.New("handler: bad handler method")

// Table is a handler's bound methods. Calls must come from one goroutine
// at a time (package net calls them inside Update).
type Table struct {
	// Handler is the value the table was bound from.
	Handler any
	// OnConnect, OnDisconnect and OnReceive are the handler's methods of
	// those names, or nil.
	OnConnect    func()
	OnDisconnect func(reason error)
	OnReceive    func(msg any)
	calls        []func(message.Reader) error // by type id - 1; nil where no method
}

// Call returns the bound method for the type with the given id, or nil. It
// decodes the message's fields from a Reader positioned after the id (see
// message.Decoder.Begin) and calls the method.
func (t *Table) Call(id int) func(message.Reader) error {
	if t == nil || id < 1 || id > len(t.calls) {
		return nil
	}
	return t.calls[id-1]
}

var (
	errorType = reflect.TypeFor[error]()
	anyType   = reflect.TypeFor[any]()
)

// Bind inspects h's methods against the registry f and returns its table.
// A nil h gives an empty table.
func Bind(h any, f *message.Factory) (*Table, error) {
	t := &Table{Handler: h, calls: make([]func(message.Reader) error, f.Len())}
	if h == nil {
		return t, nil
	}
	v := reflect.ValueOf(h)
	ht := v.Type()
	if ht.Kind() != reflect.Pointer && reflect.PointerTo(ht).NumMethod() > ht.NumMethod() {
		// Methods with pointer receivers are not in the value's method
		// set: every message would miss them without a word.
		return nil, fmt.Errorf("%w: the handler is a %v value, but some of its methods are on *%v: use a pointer (&%v{})", ErrSignature, ht, ht, ht)
	}
	want := map[string]*message.Type{}
	for _, mt := range f.Types() {
		want[mt.MethodName()] = mt
	}
	for i := 0; i < ht.NumMethod(); i++ {
		m := ht.Method(i)
		mv := v.Method(i)
		sig := mv.Type()
		bad := func(wantSig string) error {
			return fmt.Errorf("%w: %v.%s is %v, want %s", ErrSignature, ht, m.Name, sig, wantSig)
		}
		switch m.Name {
		case "OnConnect":
			fn, ok := mv.Interface().(func())
			if !ok {
				return nil, bad("func()")
			}
			t.OnConnect = fn
			continue
		case "OnDisconnect":
			fn, ok := mv.Interface().(func(error))
			if !ok {
				return nil, bad("func(reason error)")
			}
			t.OnDisconnect = fn
			continue
		case "OnReceive":
			fn, ok := mv.Interface().(func(any))
			if !ok {
				return nil, bad("func(msg any)")
			}
			t.OnReceive = fn
			continue
		}
		mt, ok := want[m.Name]
		if !ok {
			if looksLikeNet(m.Name, sig) {
				return nil, fmt.Errorf("%w: %v.%s matches no registered message type (%s)", ErrSignature, ht, m.Name, known(f))
			}
			continue
		}
		call, err := mt.Bind(mv.Interface())
		if err != nil {
			return nil, bad(mt.HandlerType().String())
		}
		t.calls[mt.ID()-1] = call
	}
	return t, nil
}

// looksLikeNet reports whether a method seems meant as a message method:
// NetX… with one argument and no results.
func looksLikeNet(name string, sig reflect.Type) bool {
	rest, ok := strings.CutPrefix(name, "Net")
	if !ok || rest == "" || !unicode.IsUpper([]rune(rest)[0]) {
		return false
	}
	return sig.NumIn() == 1 && sig.NumOut() == 0 && sig.In(0) != errorType && sig.In(0) != anyType
}

func known(f *message.Factory) string {
	var names []string
	for _, mt := range f.Types() {
		names = append(names, mt.Name()+" → "+mt.MethodName())
	}
	if len(names) == 0 {
		return "none registered"
	}
	return "registered: " + strings.Join(names, ", ")
}
