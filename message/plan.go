package message

import (
	"encoding"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"unsafe"
)

// fieldKind selects the Writer/Reader call for one struct field.
type fieldKind uint8

const (
	kBool fieldKind = iota
	kInt
	kInt8
	kInt16
	kInt32
	kInt64
	kUint
	kUint8
	kUint16
	kUint32
	kUint64
	kUintptr
	kFloat32
	kFloat64
	kString
	kBytes
	// The nested kinds: a value that holds a struct travels as arrays,
	// walked by its shape.
	kStruct  // a struct: the array of its fields
	kPointer // a pointer: nil, or what it points to
	kSlice   // a slice: the array of its elements
	kArray   // a Go array: the array of its elements, of fixed length
	kOther   // anything else goes through Writer.Value / Reader.Value
)

// fieldPlan is how to read and write one exported struct field in place.
type fieldPlan struct {
	name   string
	offset uintptr
	kind   fieldKind
	typ    reflect.Type
	sub    *shape // the nested kinds
	text   string // name and shape, as in the registry's type line
}

// shape is how a value of a nested kind travels, planned once per Go type
// at registration so that encoding and decoding walk it without reflection.
type shape struct {
	kind   fieldKind
	typ    reflect.Type
	fields []fieldPlan // kStruct
	elem   *shape      // kPointer, kSlice, kArray
	size   uintptr     // kSlice, kArray: the element's size
	n      int         // kArray: the length
	// min is the fewest bytes an encoding of the value takes in any
	// codec (every value takes a byte at least, an array's header too): a
	// peer's array length is checked against it before allocating.
	min  int
	text string // the canonical text after the field name: "[]{id,x,y}"
}

// maxMin caps shape.min, more than any payload, so that sums and products
// of it cannot overflow.
const maxMin = 1 << 30

var bytesType = reflect.TypeFor[[]byte]()

func kindOf(t reflect.Type) fieldKind {
	switch t.Kind() {
	case reflect.Bool:
		return kBool
	case reflect.Int:
		return kInt
	case reflect.Int8:
		return kInt8
	case reflect.Int16:
		return kInt16
	case reflect.Int32:
		return kInt32
	case reflect.Int64:
		return kInt64
	case reflect.Uint:
		return kUint
	case reflect.Uint8:
		return kUint8
	case reflect.Uint16:
		return kUint16
	case reflect.Uint32:
		return kUint32
	case reflect.Uint64:
		return kUint64
	case reflect.Uintptr:
		return kUintptr
	case reflect.Float32:
		return kFloat32
	case reflect.Float64:
		return kFloat64
	case reflect.String:
		return kString
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 && t.ConvertibleTo(bytesType) {
			return kBytes
		}
	}
	return kOther
}

// planner plans the fields of a registered struct and of the structs nested
// in it. path holds the types being planned, outermost first, to refuse a
// type that contains itself.
type planner struct {
	path []reflect.Type
}

// planStruct lists the exported fields of a struct type in order, with the
// shapes of nested structs. A field tagged `net:"name"` travels under that
// name; `net:"-"` is left out.
func planStruct(t reflect.Type) ([]fieldPlan, error) {
	if t.Kind() != reflect.Struct {
		return nil, fmt.Errorf("%w: %v is not a struct", ErrBadFields, t)
	}
	var pl planner
	plan, err := pl.fields(t)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadFields, err)
	}
	return plan, nil
}

func (pl *planner) fields(t reflect.Type) ([]fieldPlan, error) {
	if _, err := pl.enter(t); err != nil {
		return nil, err
	}
	defer pl.leave()
	var plan []fieldPlan
	seen := make(map[string]bool)
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name := snake(f.Name)
		if tag, ok := f.Tag.Lookup("net"); ok {
			if tag == "-" {
				continue
			}
			if tag != "" {
				name = tag
			}
		}
		if strings.ContainsAny(name, nameSyntax) {
			return nil, fmt.Errorf("%v.%s: field name %q: use no spaces, commas, brackets, braces or parentheses", t, f.Name, name)
		}
		if seen[name] {
			return nil, fmt.Errorf("%v has two fields named %q", t, name)
		}
		seen[name] = true
		switch f.Type.Kind() {
		case reflect.Func, reflect.Chan, reflect.UnsafePointer, reflect.Interface:
			if f.Type.Kind() != reflect.Interface || f.Type.NumMethod() > 0 {
				return nil, fmt.Errorf("%v.%s of type %v cannot travel; tag it `net:\"-\"`", t, f.Name, f.Type)
			}
		}
		fp := fieldPlan{name: name, offset: f.Offset, kind: kindOf(f.Type), typ: f.Type, text: name}
		if fp.kind == kOther {
			sub, err := pl.shapeOf(f.Type)
			if err != nil {
				return nil, fmt.Errorf("%v.%s: %w", t, f.Name, err)
			}
			if sub != nil {
				fp.kind, fp.sub, fp.text = sub.kind, sub, name+sub.text
			}
		}
		plan = append(plan, fp)
	}
	return plan, nil
}

// nameSyntax are the bytes the canonical text uses around field names.
const nameSyntax = " ,()[]{}"

// enter pushes t on the path, unless t is on it already: a type that
// contains itself. Through a struct that is an error, as a message has a
// fixed shape; through slices, pointers and maps only (type L []L), t holds
// no struct and travels as a plain value, and enter reports the cycle.
func (pl *planner) enter(t reflect.Type) (cycle bool, err error) {
	for i, p := range pl.path {
		if p != t {
			continue
		}
		for _, q := range pl.path[i:] {
			if q.Kind() == reflect.Struct {
				return true, fmt.Errorf("%v contains itself: a message has a fixed shape; "+
					"send the nodes as a flat slice that refers to them by index instead", t)
			}
		}
		return true, nil
	}
	pl.path = append(pl.path, t)
	return false, nil
}

func (pl *planner) leave() { pl.path = pl.path[:len(pl.path)-1] }

// shapeOf returns the shape of a value of type t when it holds a struct that
// travels field by field, or nil when t travels as before: a scalar, or a
// Go value for Writer.Value.
func (pl *planner) shapeOf(t reflect.Type) (*shape, error) {
	switch t.Kind() {
	case reflect.Struct:
		if ownEncoding(t) {
			return nil, nil
		}
		fields, err := pl.fields(t)
		if err != nil {
			return nil, err
		}
		s := &shape{kind: kStruct, typ: t, fields: fields, min: 1}
		texts := make([]string, len(fields))
		for i, f := range fields {
			texts[i] = f.text
			if f.sub != nil {
				s.min = min(s.min+f.sub.min, maxMin)
			} else {
				s.min = min(s.min+1, maxMin)
			}
		}
		s.text = "{" + strings.Join(texts, ",") + "}"
		return s, nil
	case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
		if cycle, err := pl.enter(t); cycle || err != nil {
			return nil, err
		}
		defer pl.leave()
		if t.Kind() == reflect.Map {
			for _, kt := range []reflect.Type{t.Key(), t.Elem()} {
				if s, err := pl.shapeOf(kt); err != nil || s != nil {
					if err == nil {
						err = fmt.Errorf("a map of %v cannot travel: use a slice of structs", kt)
					}
					return nil, err
				}
			}
			return nil, nil
		}
		elem, err := pl.shapeOf(t.Elem())
		if err != nil || elem == nil {
			return nil, err
		}
		switch t.Kind() {
		case reflect.Pointer:
			// A pointer is not in the text: nil may stand for the zero value.
			return &shape{kind: kPointer, typ: t, elem: elem, min: 1, text: elem.text}, nil
		case reflect.Slice:
			return &shape{kind: kSlice, typ: t, elem: elem, size: t.Elem().Size(), min: 1, text: "[]" + elem.text}, nil
		}
		n := t.Len()
		m := maxMin
		if n < maxMin/elem.min {
			m = min(1+n*elem.min, maxMin)
		}
		return &shape{kind: kArray, typ: t, elem: elem, size: t.Elem().Size(), n: n,
			min: m, text: fmt.Sprintf("[%d]%s", n, elem.text)}, nil
	}
	return nil, nil
}

var (
	binaryMarshaler = reflect.TypeFor[encoding.BinaryMarshaler]()
	textMarshaler   = reflect.TypeFor[encoding.TextMarshaler]()
	jsonMarshaler   = reflect.TypeFor[interface{ MarshalJSON() ([]byte, error) }]()
)

// ownEncoding reports whether a struct type has an encoding of its own (as
// time.Time has), which codecs use in Writer.Value: such a struct is a leaf,
// not walked field by field.
func ownEncoding(t reflect.Type) bool {
	pt := reflect.PointerTo(t)
	if pt.Implements(binaryMarshaler) || pt.Implements(textMarshaler) || pt.Implements(jsonMarshaler) {
		return true
	}
	_, ok := pt.MethodByName("EncodeMsgpack")
	return ok
}

// encodeStruct writes the fields of the struct at p.
func encodeStruct(w Writer, plan []fieldPlan, p unsafe.Pointer) error {
	for i := range plan {
		f := &plan[i]
		fp := unsafe.Add(p, f.offset)
		switch f.kind {
		case kBool:
			w.Bool(*(*bool)(fp))
		case kInt:
			w.Int(int64(*(*int)(fp)))
		case kInt8:
			w.Int(int64(*(*int8)(fp)))
		case kInt16:
			w.Int(int64(*(*int16)(fp)))
		case kInt32:
			w.Int(int64(*(*int32)(fp)))
		case kInt64:
			w.Int(*(*int64)(fp))
		case kUint:
			w.Uint(uint64(*(*uint)(fp)))
		case kUint8:
			w.Uint(uint64(*(*uint8)(fp)))
		case kUint16:
			w.Uint(uint64(*(*uint16)(fp)))
		case kUint32:
			w.Uint(uint64(*(*uint32)(fp)))
		case kUint64:
			w.Uint(*(*uint64)(fp))
		case kUintptr:
			w.Uint(uint64(*(*uintptr)(fp)))
		case kFloat32:
			w.Float32(*(*float32)(fp))
		case kFloat64:
			w.Float64(*(*float64)(fp))
		case kString:
			w.String(*(*string)(fp))
		case kBytes:
			w.Bytes(*(*[]byte)(fp))
		case kStruct, kPointer, kSlice, kArray:
			if err := encodeShape(w, f.sub, fp); err != nil {
				return inField(f.name, err)
			}
		default:
			if err := w.Value(reflect.NewAt(f.typ, fp).Elem().Interface()); err != nil {
				return inField(f.name, err)
			}
		}
	}
	return nil
}

// sliceHeader is the layout of every Go slice.
type sliceHeader struct {
	data     unsafe.Pointer
	len, cap int
}

// encodeShape writes the value of a nested kind at p.
func encodeShape(w Writer, s *shape, p unsafe.Pointer) error {
	switch s.kind {
	case kStruct:
		w.Array(len(s.fields))
		if err := encodeStruct(w, s.fields, p); err != nil {
			return err
		}
		w.End()
	case kPointer:
		q := *(*unsafe.Pointer)(p)
		if q == nil {
			w.Nil()
			return nil
		}
		return encodeShape(w, s.elem, q)
	case kSlice:
		h := (*sliceHeader)(p)
		return encodeElems(w, s, h.data, h.len)
	case kArray:
		return encodeElems(w, s, p, s.n)
	}
	return nil
}

func encodeElems(w Writer, s *shape, data unsafe.Pointer, n int) error {
	w.Array(n)
	for i := range n {
		if err := encodeShape(w, s.elem, unsafe.Add(data, uintptr(i)*s.size)); err != nil {
			return atIndex(i, err)
		}
	}
	w.End()
	return nil
}

// pathError is an error inside a nested value, with the path to it from
// the message's field: "players[3].x". Paths are built only on errors.
type pathError struct {
	path string
	err  error
}

func (e *pathError) Error() string { return e.path + ": " + e.err.Error() }
func (e *pathError) Unwrap() error { return e.err }

// inField puts err inside the field name.
func inField(name string, err error) error {
	if pe, ok := err.(*pathError); ok {
		sep := "."
		if strings.HasPrefix(pe.path, "[") {
			sep = ""
		}
		return &pathError{path: name + sep + pe.path, err: pe.err}
	}
	return &pathError{path: name, err: err}
}

// atIndex puts err inside element i of an array.
func atIndex(i int, err error) error {
	idx := fmt.Sprintf("[%d]", i)
	if pe, ok := err.(*pathError); ok {
		sep := "."
		if strings.HasPrefix(pe.path, "[") {
			sep = ""
		}
		return &pathError{path: idx + sep + pe.path, err: pe.err}
	}
	return &pathError{path: idx, err: err}
}

// fieldError is err as a FieldError of type typeName.
func fieldError(typeName string, err error) *FieldError {
	if pe, ok := err.(*pathError); ok {
		return &FieldError{Type: typeName, Field: pe.path, Err: pe.err}
	}
	return &FieldError{Type: typeName, Field: "?", Err: err}
}

var errOverflow = errors.New("value out of range for the field's type")

// decodeStruct reads the fields of the message at p, which the caller has
// zeroed. The caller has read the array header and the id.
func decodeStruct(r Reader, t *Type, p unsafe.Pointer) error {
	if err := decodeFields(r, t.plan, p); err != nil {
		return fieldError(t.name, err)
	}
	return nil
}

// decodeFields reads the fields of the zeroed struct at p.
func decodeFields(r Reader, plan []fieldPlan, p unsafe.Pointer) error {
	for i := range plan {
		f := &plan[i]
		if err := decodeField(r, f, unsafe.Add(p, f.offset)); err != nil {
			return inField(f.name, err)
		}
	}
	return nil
}

// decodeShape reads a value of a nested kind into the zeroed memory at p.
// nil stands for a nil pointer and for an empty slice; a struct and a Go
// array are always arrays, so that shape.min holds for them.
func decodeShape(r Reader, s *shape, p unsafe.Pointer) error {
	if (s.kind == kPointer || s.kind == kSlice) && r.IsNil() {
		return nil
	}
	switch s.kind {
	case kStruct:
		n, err := r.Array()
		if err != nil {
			return err
		}
		if n != len(s.fields) {
			return fmt.Errorf("%w: %s has %d fields, got %d", ErrArity, s.text, len(s.fields), n)
		}
		if err := decodeFields(r, s.fields, p); err != nil {
			return err
		}
		return r.End()
	case kPointer:
		q := reflect.New(s.elem.typ).UnsafePointer()
		if err := decodeShape(r, s.elem, q); err != nil {
			return err
		}
		*(*unsafe.Pointer)(p) = q
		return nil
	case kSlice:
		n, err := r.Array()
		if err != nil {
			return err
		}
		// Every element takes elem.min bytes at least: a length that the
		// bytes left cannot hold is refused before allocating.
		if n < 0 || n > r.Len()/s.elem.min {
			return fmt.Errorf("%w: %d elements of %s, with %d bytes left", ErrMalformed, n, s.elem.text, r.Len())
		}
		if n > 0 {
			data := reflect.MakeSlice(s.typ, n, n).UnsafePointer()
			if err := decodeElems(r, s, data, n); err != nil {
				return err
			}
			*(*sliceHeader)(p) = sliceHeader{data: data, len: n, cap: n}
		}
		return r.End()
	case kArray:
		n, err := r.Array()
		if err != nil {
			return err
		}
		if n != s.n {
			return fmt.Errorf("%w: %s has %d elements, got %d", ErrArity, s.text, s.n, n)
		}
		if err := decodeElems(r, s, p, n); err != nil {
			return err
		}
		return r.End()
	}
	return nil
}

func decodeElems(r Reader, s *shape, data unsafe.Pointer, n int) error {
	for i := range n {
		if err := decodeShape(r, s.elem, unsafe.Add(data, uintptr(i)*s.size)); err != nil {
			return atIndex(i, err)
		}
	}
	return nil
}

func decodeField(r Reader, f *fieldPlan, fp unsafe.Pointer) error {
	switch f.kind {
	case kBool:
		v, err := r.Bool()
		*(*bool)(fp) = v
		return err
	case kInt, kInt8, kInt16, kInt32, kInt64:
		v, err := r.Int()
		if err != nil {
			return err
		}
		return storeInt(f.kind, fp, v)
	case kUint, kUint8, kUint16, kUint32, kUint64, kUintptr:
		v, err := r.Uint()
		if err != nil {
			return err
		}
		return storeUint(f.kind, fp, v)
	case kFloat32:
		if r.IsNil() { // JSON writes NaN and the infinities as null
			*(*float32)(fp) = float32(math.NaN())
			return nil
		}
		v, err := r.Float64()
		if err != nil {
			return err
		}
		if math.Abs(v) > math.MaxFloat32 && !math.IsInf(v, 0) {
			return errOverflow
		}
		*(*float32)(fp) = float32(v)
		return nil
	case kFloat64:
		if r.IsNil() {
			*(*float64)(fp) = math.NaN()
			return nil
		}
		v, err := r.Float64()
		*(*float64)(fp) = v
		return err
	case kString:
		if r.IsNil() {
			return nil
		}
		v, err := r.String()
		*(*string)(fp) = v
		return err
	case kBytes:
		if r.IsNil() {
			return nil
		}
		v, err := r.Bytes()
		*(*[]byte)(fp) = v
		return err
	case kStruct, kPointer, kSlice, kArray:
		return decodeShape(r, f.sub, fp)
	default:
		return r.Value(reflect.NewAt(f.typ, fp).Interface())
	}
}

func storeInt(k fieldKind, fp unsafe.Pointer, v int64) error {
	switch k {
	case kInt8:
		if v < math.MinInt8 || v > math.MaxInt8 {
			return errOverflow
		}
		*(*int8)(fp) = int8(v)
	case kInt16:
		if v < math.MinInt16 || v > math.MaxInt16 {
			return errOverflow
		}
		*(*int16)(fp) = int16(v)
	case kInt32:
		if v < math.MinInt32 || v > math.MaxInt32 {
			return errOverflow
		}
		*(*int32)(fp) = int32(v)
	case kInt:
		if int64(int(v)) != v {
			return errOverflow
		}
		*(*int)(fp) = int(v)
	default:
		*(*int64)(fp) = v
	}
	return nil
}

func storeUint(k fieldKind, fp unsafe.Pointer, v uint64) error {
	switch k {
	case kUint8:
		if v > math.MaxUint8 {
			return errOverflow
		}
		*(*uint8)(fp) = uint8(v)
	case kUint16:
		if v > math.MaxUint16 {
			return errOverflow
		}
		*(*uint16)(fp) = uint16(v)
	case kUint32:
		if v > math.MaxUint32 {
			return errOverflow
		}
		*(*uint32)(fp) = uint32(v)
	case kUint:
		if uint64(uint(v)) != v {
			return errOverflow
		}
		*(*uint)(fp) = uint(v)
	case kUintptr:
		if uint64(uintptr(v)) != v {
			return errOverflow
		}
		*(*uintptr)(fp) = uintptr(v)
	default:
		*(*uint64)(fp) = v
	}
	return nil
}

// pointerShaped reports whether values of t are stored directly in an
// interface's data word rather than behind a pointer to a copy.
func pointerShaped(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Chan, reflect.Func, reflect.UnsafePointer:
		return true
	case reflect.Struct:
		return t.NumField() == 1 && pointerShaped(t.Field(0).Type)
	case reflect.Array:
		return t.Len() == 1 && pointerShaped(t.Elem())
	}
	return false
}
