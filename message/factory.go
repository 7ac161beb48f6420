package message

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Factory is a registry of message types, bound to one codec.
//
// Registration (Register, Define) and Freeze may be called from one
// goroutine at a time; once frozen, a Factory is read-only and every method
// is safe for concurrent use.
type Factory struct {
	codec  Codec
	frozen atomic.Bool

	mu     sync.Mutex // guards registration, the slices and maps below until frozen
	types  []*Type    // by id-1
	byName map[string]*Type
	byGo   map[reflect.Type]*Type // both T and *T map to the type of T
}

// NewFactory returns an empty registry whose messages are encoded with
// codec. Package net's NewFactory wires the default codec (msgpack).
func NewFactory(codec Codec) *Factory {
	if codec == nil {
		panic("message: NewFactory needs a codec, such as msgpack.New()")
	}
	return &Factory{
		codec:  codec,
		byName: make(map[string]*Type),
		byGo:   make(map[reflect.Type]*Type),
	}
}

// Codec is the codec this registry's messages are encoded with.
func (f *Factory) Codec() Codec { return f.codec }

// Register registers the struct type T: its fields are T's exported fields
// in order. The name defaults to T's name in snake case (ChatMsg →
// "chat_msg"); see Name, Channel, Deliver, SentBy and MaxSize.
//
// Structs nested in T (in fields, pointers, slices and arrays, at any
// depth) travel like T itself, as arrays of their fields in order, with the
// same `net` tags, and their fields are part of the type line and the
// hash. A struct with an encoding of its own (a MarshalBinary,
// MarshalText, MarshalJSON or EncodeMsgpack method, as time.Time has)
// travels in the codec's encoding instead, as do values in interface
// fields. A type that contains itself, a map that holds structs, and a
// func or chan field are errors (ErrBadFields).
func Register[T any](f *Factory, opts ...Option) (*Type, error) {
	rt := reflect.TypeFor[T]()
	plan, err := planStruct(rt)
	if err != nil {
		return nil, err
	}
	fields := make([]string, len(plan))
	text := make([]string, len(plan))
	for i, f := range plan {
		fields[i], text[i] = f.name, f.text
	}
	o, err := applyOptions(opts)
	if err != nil {
		return nil, err
	}
	if o.name == "" {
		o.name = snake(rt.Name())
	}
	t := &Type{goType: rt, plan: plan, text: text, ops: typed[T]{direct: pointerShaped(rt)}}
	if err := f.add(t, o, fields); err != nil {
		return nil, err
	}
	return t, nil
}

// MustRegister is Register for program set-up: it panics on error, which
// only a programming mistake (a bad struct, a duplicate name, a late call)
// can cause.
func MustRegister[T any](f *Factory, opts ...Option) *Type {
	t, err := Register[T](f, opts...)
	if err != nil {
		panic(err)
	}
	return t
}

// Define registers a dynamic type by name and field names, as pygnetic's
// register did. Its messages arrive as Value. A field that holds structs
// is given with its shape, as in the type line of docs/PROTOCOL.md
// ("players[]{id,x,y}"): the type is then the same as a Go struct with
// that shape, Type.Fields and Value.Get use the bare name ("players"), and
// the value arrives as nested []any.
func (f *Factory) Define(name string, fields []string, opts ...Option) (*Type, error) {
	o, err := applyOptions(opts)
	if err != nil {
		return nil, err
	}
	o.name = name
	names := make([]string, len(fields))
	for i, spec := range fields {
		if names[i], err = fieldName(spec); err != nil {
			return nil, fmt.Errorf("%w: %s: field %q: %v", ErrBadFields, name, spec, err)
		}
	}
	t := &Type{text: append([]string(nil), fields...)}
	if err := f.add(t, o, names); err != nil {
		return nil, err
	}
	return t, nil
}

// fieldName checks a field given as its name and shape and returns the name.
func fieldName(spec string) (string, error) {
	name, end, err := scanField(spec, 0)
	if err == nil && end != len(spec) {
		err = fmt.Errorf("unexpected %q after the field", spec[end:])
	}
	return name, err
}

// scanField reads the field (name and shape) at s[i:] and returns its name
// and the position after it.
func scanField(s string, i int) (name string, end int, err error) {
	j := i
	for j < len(s) && strings.IndexByte(nameSyntax, s[j]) < 0 {
		j++
	}
	if j == i {
		if j < len(s) {
			return "", j, fmt.Errorf("a name, not %q, at byte %d", s[j], j)
		}
		return "", j, errors.New("a field name is missing")
	}
	name = s[i:j]
	lists := false
	for j < len(s) && s[j] == '[' {
		k := strings.IndexByte(s[j:], ']')
		if k < 0 {
			return name, j, errors.New("'[' without ']'")
		}
		if n := s[j+1 : j+k]; n != "" {
			if v, err := strconv.Atoi(n); err != nil || v < 0 || strconv.Itoa(v) != n {
				return name, j, fmt.Errorf("list length %q is not a decimal number", n)
			}
		}
		j += k + 1
		lists = true
	}
	if j >= len(s) || s[j] != '{' {
		if lists {
			return name, j, errors.New("a list shape ends with the struct it holds: []{…}; a list of plain values has no shape")
		}
		return name, j, nil
	}
	j++
	seen := make(map[string]bool)
	if j < len(s) && s[j] == '}' {
		return name, j + 1, nil
	}
	for {
		sub, e, err := scanField(s, j)
		if err != nil {
			return name, e, err
		}
		if seen[sub] {
			return name, e, fmt.Errorf("field %q twice in a struct", sub)
		}
		seen[sub] = true
		j = e
		switch {
		case j >= len(s):
			return name, j, errors.New("'{' without '}'")
		case s[j] == ',':
			j++
		case s[j] == '}':
			return name, j + 1, nil
		default:
			return name, j, fmt.Errorf("unexpected %q at byte %d", s[j], j)
		}
	}
}

func (f *Factory) add(t *Type, o options, fields []string) error {
	if err := checkName(o.name); err != nil {
		return err
	}
	if err := checkFields(o.name, fields); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.frozen.Load() {
		return fmt.Errorf("%w (registering %q)", ErrFrozen, o.name)
	}
	if _, dup := f.byName[o.name]; dup {
		return fmt.Errorf("%w: %q", ErrDuplicateName, o.name)
	}
	if t.goType != nil {
		if old := f.byGo[t.goType]; old != nil {
			return fmt.Errorf("%w: Go type %v is already registered as %q", ErrDuplicateName, t.goType, old.name)
		}
	}
	t.id = len(f.types) + 1
	t.name = o.name
	t.fields = fields
	if t.text == nil {
		t.text = fields
	}
	t.channel = uint8(o.channel)
	t.delivery = o.delivery
	t.sentBy = o.sentBy
	t.maxSize = o.maxSize
	t.method = methodName(o.name)
	f.types = append(f.types, t)
	f.byName[t.name] = t
	if t.goType != nil {
		f.byGo[t.goType] = t
		f.byGo[reflect.PointerTo(t.goType)] = t
	}
	return nil
}

// Freeze ends registration: Register and Define fail from now on. Package
// net freezes a factory when a Server or Client starts. Idempotent.
func (f *Factory) Freeze() {
	f.mu.Lock()
	f.frozen.Store(true)
	f.mu.Unlock()
}

// Frozen reports whether Freeze was called.
func (f *Factory) Frozen() bool { return f.frozen.Load() }

// Len is the number of registered types.
func (f *Factory) Len() int {
	f.lock()
	defer f.unlock()
	return len(f.types)
}

// Types returns the registered types in id order.
func (f *Factory) Types() []*Type {
	f.lock()
	defer f.unlock()
	return append([]*Type(nil), f.types...)
}

// ByID returns the type with the given id, or nil.
func (f *Factory) ByID(id int) *Type {
	f.lock()
	defer f.unlock()
	if id < 1 || id > len(f.types) {
		return nil
	}
	return f.types[id-1]
}

// ByName returns the type with the given name, or nil.
func (f *Factory) ByName(name string) *Type {
	f.lock()
	defer f.unlock()
	return f.byName[name]
}

// TypeOf returns the type of a message value: a registered struct, a
// pointer to one, or a Value. It returns nil for anything else.
func (f *Factory) TypeOf(msg any) *Type {
	switch v := msg.(type) {
	case Value:
		return v.Type
	case *Value:
		if v == nil {
			return nil
		}
		return v.Type
	}
	f.lock()
	defer f.unlock()
	return f.byGo[reflect.TypeOf(msg)]
}

// lock takes the registration lock only while registration is still open:
// a frozen factory is read without locking.
func (f *Factory) lock() {
	if !f.frozen.Load() {
		f.mu.Lock()
	}
}

func (f *Factory) unlock() {
	if !f.frozen.Load() {
		f.mu.Unlock()
	}
}

// Hash is a registry fingerprint.
type Hash [16]byte

// String is the hash in hex.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// Hash fingerprints the registry: the codec's name and, in id order, each
// type's name, fields (with the fields of nested structs), channel,
// delivery mode, direction and largest size. It is the same in every
// process that registers the same types in the same order, on any
// platform. Go field types are not part of it, so a typed and a dynamic
// registration with the same names are interchangeable.
func (f *Factory) Hash() Hash {
	sum := sha256.Sum256([]byte(f.Describe()))
	var h Hash
	copy(h[:], sum[:])
	return h
}

// Describe is the canonical text the hash is computed from: a header line,
// then one line per type (see Lines). docs/PROTOCOL.md defines it.
func (f *Factory) Describe() string {
	f.lock()
	defer f.unlock()
	var b strings.Builder
	fmt.Fprintf(&b, "gonetic registry 1 codec=%s\n", f.codec.Name())
	for _, t := range f.types {
		b.WriteString(t.describe())
		b.WriteByte('\n')
	}
	return b.String()
}

// describe is the type's line: "id name(field,field) channel delivery",
// then " from=client" or " from=server" for a type sent one way only and
// " max=N" for a type with a MaxSize. A field that holds structs is
// followed by their shape: "players[]{id,x,y}".
func (t *Type) describe() string {
	line := fmt.Sprintf("%d %s(%s) %d %s", t.id, t.name, strings.Join(t.text, ","), t.channel, t.delivery)
	switch t.sentBy {
	case ClientToServer:
		line += " from=client"
	case ServerToClient:
		line += " from=server"
	}
	if t.maxSize > 0 {
		line += fmt.Sprintf(" max=%d", t.maxSize)
	}
	return line
}

// Channels is the number of channels the registry uses: one more than the
// highest channel of any type, and at least 1.
func (f *Factory) Channels() int {
	f.lock()
	defer f.unlock()
	n := 1
	for _, t := range f.types {
		if int(t.channel)+1 > n {
			n = int(t.channel) + 1
		}
	}
	return n
}

// Diff explains how this registry differs from another one, given as the
// other side's Lines: the first type that differs, or which side has more.
// mine and theirs name the two sides in the text ("server", "client"). It
// returns "" when they are the same.
func (f *Factory) Diff(other []string, mine, theirs string) string {
	f.lock()
	defer f.unlock()
	for i, t := range f.types {
		line := t.describe()
		if i >= len(other) {
			return fmt.Sprintf("type %d: %s has %s, %s has no type %d (%s has %d types, %s %d)",
				i+1, mine, line, theirs, i+1, mine, len(f.types), theirs, len(other))
		}
		if other[i] != line {
			where := ""
			if field := fieldAt(line, other[i]); field != "" {
				where = " (field " + field + ")"
			}
			return fmt.Sprintf("type %d%s: %s has %s, %s has %s", i+1, where, mine, line, theirs, other[i])
		}
	}
	if len(other) > len(f.types) {
		n := len(f.types)
		return fmt.Sprintf("type %d: %s has %s, %s has no type %d (%s has %d types, %s %d)",
			n+1, theirs, other[n], mine, n+1, theirs, len(other), mine, n)
	}
	return ""
}

// fieldAt names the field where two type lines first differ, as a path
// through nested structs ("players.y"), or "" when they differ outside the
// fields (or between two top-level fields). Fields that differ in number
// inside a nested struct name the struct.
func fieldAt(a, b string) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	if f := fieldSpanning(a, i); f != "" {
		return f
	}
	return fieldSpanning(b, i)
}

// fieldSpanning names the innermost field whose text in line holds byte i.
func fieldSpanning(line string, i int) string {
	open := strings.IndexByte(line, '(')
	if open < 0 || i >= len(line) {
		return ""
	}
	var spans []fieldSpan
	parseFields(line, open+1, "", 0, &spans)
	best := ""
	width := len(line) + 1
	for _, s := range spans {
		if s.start <= i && i < s.end && s.end-s.start < width {
			best, width = s.path, s.end-s.start
		}
	}
	return best
}

// maxDepth is how deep fieldSpanning follows nested structs in a line.
const maxDepth = 100

// fieldSpan is where a field's text (name and shape) is in a type line.
type fieldSpan struct {
	start, end int
	path       string
}

// parseFields reads the field list at line[j:], depth structs deep, up to
// its closing ')' or '}' and returns the position after it. The line may be
// the peer's: past maxDepth it stops.
func parseFields(line string, j int, prefix string, depth int, spans *[]fieldSpan) int {
	if depth > maxDepth {
		return len(line)
	}
	for j < len(line) {
		if line[j] == ')' || line[j] == '}' {
			return j + 1
		}
		k := j
		for k < len(line) && strings.IndexByte(nameSyntax, line[k]) < 0 {
			k++
		}
		path := prefix + line[j:k]
		for k < len(line) && line[k] == '[' {
			for k < len(line) && line[k] != ']' {
				k++
			}
			k++
		}
		if k < len(line) && line[k] == '{' {
			k = parseFields(line, k+1, path+".", depth+1, spans)
		}
		k = min(k, len(line))
		*spans = append(*spans, fieldSpan{start: j, end: k, path: path})
		if k < len(line) && line[k] == ',' {
			k++
		}
		if k == j {
			return k // not a field list
		}
		j = k
	}
	return j
}

// Lines returns the Describe lines of the types, without the header.
func (f *Factory) Lines() []string {
	f.lock()
	defer f.unlock()
	out := make([]string, len(f.types))
	for i, t := range f.types {
		out[i] = t.describe()
	}
	return out
}
