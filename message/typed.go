package message

import (
	"fmt"
	"reflect"
	"unsafe"
)

// typeOps is the half of a typed Type that needs to know T.
type typeOps interface {
	// decode reads the fields of a T and returns it boxed.
	decode(r Reader, t *Type) (any, error)
	// bind returns a call that decodes a T into reused storage and passes
	// it to fn, if fn is a func(T).
	bind(t *Type, fn any) (func(Reader) error, bool)
	// pointer returns the address of the T inside msg (a T or a *T).
	pointer(msg any) unsafe.Pointer
}

// typed implements typeOps for T. direct is true when T is pointer-shaped
// (stored in an interface's data word itself).
type typed[T any] struct{ direct bool }

func (typed[T]) decode(r Reader, t *Type) (any, error) {
	v := new(T)
	if err := decodeStruct(r, t, unsafe.Pointer(v)); err != nil {
		return nil, err
	}
	return *v, nil
}

func (typed[T]) bind(t *Type, fn any) (func(Reader) error, bool) {
	f, ok := fn.(func(T))
	if !ok {
		return nil, false
	}
	scratch := new(T) // calls come one at a time, from one goroutine
	return func(r Reader) error {
		var zero T
		*scratch = zero
		if err := decodeStruct(r, t, unsafe.Pointer(scratch)); err != nil {
			return err
		}
		if err := finish(r); err != nil {
			return err
		}
		f(*scratch)
		return nil
	}, true
}

func (o typed[T]) pointer(msg any) unsafe.Pointer {
	switch v := msg.(type) {
	case *T:
		return unsafe.Pointer(v)
	case T:
		if o.direct {
			return unsafe.Pointer(&v)
		}
		// msg's data word points at the boxed copy of T: no copy needed.
		return (*eface)(unsafe.Pointer(&msg)).data
	}
	return nil
}

type eface struct {
	typ, data unsafe.Pointer
}

// Bind returns a call for handler dispatch: it decodes the rest of a message
// of type t from a Reader positioned after the id (see Decoder.Begin),
// checks that the message ends there (as Decoder.Rest does), and only then
// passes it to fn: fn never sees a message that turns out malformed. fn must be a func(T) for a type registered from T, or a
// func(Value) for a dynamic type. The returned call reuses one value and
// must be used from one goroutine at a time.
func (t *Type) Bind(fn any) (func(Reader) error, error) {
	if t.ops == nil {
		f, ok := fn.(func(Value))
		if !ok {
			return nil, fmt.Errorf("message: %s is a dynamic type: its handler must be func(message.Value), not %T", t.name, fn)
		}
		return func(r Reader) error {
			v, err := decodeValue(r, t)
			if err != nil {
				return err
			}
			if err := finish(r); err != nil {
				return err
			}
			f(v)
			return nil
		}, nil
	}
	call, ok := t.ops.bind(t, fn)
	if !ok {
		return nil, fmt.Errorf("message: %s's handler must be func(%v), not %T", t.name, t.goType, fn)
	}
	return call, nil
}

// HandlerType is the function type a handler of t must have: func(T) for a
// typed registration, func(message.Value) for a dynamic one.
func (t *Type) HandlerType() reflect.Type {
	if t.goType == nil {
		return reflect.TypeFor[func(Value)]()
	}
	return reflect.FuncOf([]reflect.Type{t.goType}, nil, false)
}

func decodeValue(r Reader, t *Type) (Value, error) {
	fields := make([]any, len(t.fields))
	for i := range fields {
		v, err := r.Any()
		if err != nil {
			return Value{}, &FieldError{Type: t.name, Field: t.fields[i], Err: err}
		}
		fields[i] = v
	}
	return Value{Type: t, Fields: fields}, nil
}
