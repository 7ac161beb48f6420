package message

import (
	"errors"
	"fmt"
	"reflect"
)

// Encoder packs messages with one reused codec Writer. Use one per
// goroutine (package net keeps one per connection).
type Encoder struct {
	f   *Factory
	w   Writer
	way Direction // SetDirection
	// The last Go type encoded and its message type: a game sends the
	// same few types over and over, and this skips the map look-up.
	lastGo   reflect.Type
	lastType *Type
}

// NewEncoder returns an Encoder for this registry.
func (f *Factory) NewEncoder() *Encoder { return &Encoder{f: f, w: f.codec.NewWriter()} }

// SetDirection says which way the messages this Encoder encodes travel:
// ClientToServer for a client's, ServerToClient for a server's. Encode then
// refuses a type registered with SentBy the other way (ErrDirection). The
// default, BothWays, checks nothing. Call it before the first Encode.
func (e *Encoder) SetDirection(way Direction) { e.way = way }

// Encode appends the encoding of msg to dst and returns it with msg's type.
// msg is a registered struct, a pointer to one (which saves a copy), or a
// Value of a dynamic type. A type's MaxSize and direction (SetDirection)
// are checked: a message that breaks them is an error and dst comes back
// unchanged.
func (e *Encoder) Encode(dst []byte, msg any) ([]byte, *Type, error) {
	switch v := msg.(type) {
	case Value:
		b, err := e.encodeValue(dst, v)
		return b, v.Type, err
	case *Value:
		if v == nil {
			return dst, nil, fmt.Errorf("%w: nil *message.Value", ErrNotRegistered)
		}
		b, err := e.encodeValue(dst, *v)
		return b, v.Type, err
	}
	t := e.lastType
	if gt := reflect.TypeOf(msg); gt != e.lastGo || t == nil {
		if t = e.f.TypeOf(msg); t == nil {
			return dst, nil, fmt.Errorf("%w: %T", ErrNotRegistered, msg)
		}
		e.lastGo, e.lastType = gt, t
	}
	p := t.ops.pointer(msg)
	if p == nil {
		return dst, t, fmt.Errorf("%w: nil %T", ErrNotRegistered, msg)
	}
	if !t.sentBy.Allows(e.way) {
		return dst, t, directionError(t)
	}
	e.w.Reset(dst)
	e.w.Array(len(t.plan) + 1)
	e.w.Uint(uint64(t.id))
	if err := encodeStruct(e.w, t.plan, p); err != nil {
		return dst, t, fieldError(t.name, err)
	}
	e.w.End()
	b := e.w.Buffer()
	if t.maxSize > 0 && len(b)-len(dst) > t.maxSize {
		return dst, t, sizeError(t, len(b)-len(dst))
	}
	return b, t, nil
}

func directionError(t *Type) error {
	return fmt.Errorf("%w: %s is sent %s only (message.SentBy)", ErrDirection, t.name, t.sentBy)
}

func sizeError(t *Type, n int) error {
	return fmt.Errorf("%w: %s of %d bytes, its MaxSize is %d", ErrTooLarge, t.name, n, t.maxSize)
}

func (e *Encoder) encodeValue(dst []byte, v Value) ([]byte, error) {
	if v.Type == nil || e.f.ByID(v.Type.id) != v.Type {
		return dst, fmt.Errorf("%w: Value of a type not from this factory", ErrNotRegistered)
	}
	return e.EncodeArgs(dst, v.Type, v.Fields...)
}

// EncodeArgs appends the encoding of a message of type t built from field
// values in order: pygnetic's send(name, *args). The number of values must
// match the type's fields. For a typed registration every value must be
// assignable or convertible to its field's Go type.
func (e *Encoder) EncodeArgs(dst []byte, t *Type, args ...any) ([]byte, error) {
	if len(args) != len(t.fields) {
		return dst, fmt.Errorf("%w: %s has %d fields (%v), got %d values", ErrArity, t.name, len(t.fields), t.fields, len(args))
	}
	if t.goType != nil {
		// Build the struct so field types are checked, then encode it.
		sv := reflect.New(t.goType).Elem()
		for i, f := range t.plan {
			a := reflect.ValueOf(args[i])
			ft := f.typ
			switch {
			case !a.IsValid():
				continue // nil leaves the zero value
			case a.Type().AssignableTo(ft):
			case a.Type().ConvertibleTo(ft) && a.Kind() != reflect.String && ft.Kind() != reflect.String:
				a = a.Convert(ft)
			default:
				return dst, &FieldError{Type: t.name, Field: f.name, Err: fmt.Errorf("got %T, want %v", args[i], ft)}
			}
			sv.FieldByIndex(fieldIndex(t.goType, f.offset)).Set(a)
		}
		b, _, err := e.Encode(dst, sv.Addr().Interface())
		return b, err
	}
	if !t.sentBy.Allows(e.way) {
		return dst, directionError(t)
	}
	e.w.Reset(dst)
	e.w.Array(len(args) + 1)
	e.w.Uint(uint64(t.id))
	for i, a := range args {
		if err := writeAny(e.w, a); err != nil {
			return dst, &FieldError{Type: t.name, Field: t.fields[i], Err: err}
		}
	}
	e.w.End()
	b := e.w.Buffer()
	if t.maxSize > 0 && len(b)-len(dst) > t.maxSize {
		return dst, sizeError(t, len(b)-len(dst))
	}
	return b, nil
}

func fieldIndex(st reflect.Type, offset uintptr) []int {
	for i := 0; i < st.NumField(); i++ {
		if st.Field(i).Offset == offset && st.Field(i).IsExported() {
			return []int{i}
		}
	}
	return nil
}

// writeAny writes common values directly and the rest through Value.
func writeAny(w Writer, a any) error {
	switch v := a.(type) {
	case nil:
		w.Nil()
	case bool:
		w.Bool(v)
	case int:
		w.Int(int64(v))
	case int8:
		w.Int(int64(v))
	case int16:
		w.Int(int64(v))
	case int32:
		w.Int(int64(v))
	case int64:
		w.Int(v)
	case uint:
		w.Uint(uint64(v))
	case uint8:
		w.Uint(uint64(v))
	case uint16:
		w.Uint(uint64(v))
	case uint32:
		w.Uint(uint64(v))
	case uint64:
		w.Uint(v)
	case float32:
		w.Float32(v)
	case float64:
		w.Float64(v)
	case string:
		w.String(v)
	case []byte:
		w.Bytes(v)
	default:
		return w.Value(v)
	}
	return nil
}

// Decoder unpacks messages with one reused codec Reader: pygnetic's
// per-connection decoding context. Use one per goroutine.
type Decoder struct {
	f   *Factory
	r   Reader
	way Direction // SetDirection
}

// NewDecoder returns a Decoder for this registry.
func (f *Factory) NewDecoder() *Decoder { return &Decoder{f: f, r: f.codec.NewReader()} }

// SetDirection says which way the messages this Decoder decodes travel:
// ClientToServer for a server's, ServerToClient for a client's. Begin then
// refuses a type registered with SentBy the other way (ErrDirection)
// before its fields are decoded. The default, BothWays, checks nothing.
// Call it before the first Begin.
func (d *Decoder) SetDirection(way Direction) { d.way = way }

// Begin starts decoding one message: it reads the array header and the id,
// checks the arity, the type's direction (SetDirection) and MaxSize, and
// returns the type. The fields are then read with Rest, or with a call from
// Type.Bind given Reader (which checks the end itself). On an error it
// returns the type when the id was known, so that the caller can say which.
func (d *Decoder) Begin(payload []byte) (*Type, error) {
	t, err := d.begin(payload)
	if err != nil {
		return t, err
	}
	if t.maxSize > 0 && len(payload) > t.maxSize {
		return t, sizeError(t, len(payload))
	}
	return t, nil
}

// begin is Begin without the MaxSize check, for a buffer of several
// messages.
func (d *Decoder) begin(payload []byte) (*Type, error) {
	d.r.Reset(payload)
	n, err := d.r.Array()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if n < 1 {
		return nil, fmt.Errorf("%w: empty array, no type id", ErrMalformed)
	}
	id, err := d.r.Uint()
	if err != nil {
		return nil, fmt.Errorf("%w: type id: %v", ErrMalformed, err)
	}
	t := d.f.ByID(int(min(id, 1<<31)))
	if t == nil {
		return nil, fmt.Errorf("%w: id %d (this side registers ids 1 to %d)", ErrUnknownType, id, d.f.Len())
	}
	if !t.sentBy.Allows(d.way) {
		return t, directionError(t)
	}
	if n-1 != len(t.fields) {
		return t, fmt.Errorf("%w: %s has %d fields, message has %d", ErrArity, t.name, len(t.fields), n-1)
	}
	return t, nil
}

// Reader is the Reader positioned by Begin.
func (d *Decoder) Reader() Reader { return d.r }

// Rest decodes the fields after Begin: a T for a type registered from T, a
// Value for a dynamic type. It then checks the end of the message:
// trailing bytes after it are an error, as one payload is one message.
func (d *Decoder) Rest(t *Type) (any, error) {
	var msg any
	var err error
	if t.ops != nil {
		msg, err = t.ops.decode(d.r, t)
	} else {
		msg, err = decodeValue(d.r, t)
	}
	if err != nil {
		return nil, err
	}
	if err := finish(d.r); err != nil {
		return nil, err
	}
	return msg, nil
}

// finish checks that r is at the end of one message.
func finish(r Reader) error {
	if err := r.End(); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if r.Len() != 0 {
		return fmt.Errorf("%w: %d bytes after the message", ErrMalformed, r.Len())
	}
	return nil
}

// Decode decodes one whole payload.
func (d *Decoder) Decode(payload []byte) (any, *Type, error) {
	t, err := d.Begin(payload)
	if err != nil {
		return nil, t, err
	}
	msg, err := d.Rest(t)
	return msg, t, err
}

// Pack encodes one message into a new slice. Hot paths use an Encoder.
func (f *Factory) Pack(msg any) ([]byte, error) {
	b, _, err := f.NewEncoder().Encode(nil, msg)
	return b, err
}

// PackArgs encodes a message of the named type from field values.
func (f *Factory) PackArgs(name string, args ...any) ([]byte, error) {
	t := f.ByName(name)
	if t == nil {
		return nil, fmt.Errorf("%w: %q", ErrUnknownType, name)
	}
	return f.NewEncoder().EncodeArgs(nil, t, args...)
}

// Unpack decodes one message.
func (f *Factory) Unpack(payload []byte) (any, error) {
	msg, _, err := f.NewDecoder().Decode(payload)
	return msg, err
}

// UnpackAll decodes a buffer of messages written back to back (as
// pygnetic's socket adapter sent them). It returns the messages decoded
// before the first error, and that error.
func (f *Factory) UnpackAll(buf []byte) ([]any, error) {
	d := f.NewDecoder()
	var out []any
	for len(buf) > 0 {
		t, err := d.begin(buf)
		if err != nil {
			return out, err
		}
		var msg any
		if t.ops != nil {
			msg, err = t.ops.decode(d.r, t)
		} else {
			msg, err = decodeValue(d.r, t)
		}
		if err == nil {
			err = d.r.End()
		}
		if err != nil {
			return out, err
		}
		out = append(out, msg)
		used := len(buf) - d.r.Len()
		if used <= 0 {
			return out, errors.New("message: decoder made no progress")
		}
		if t.maxSize > 0 && used > t.maxSize {
			return out, sizeError(t, used)
		}
		buf = buf[used:]
	}
	return out, nil
}
