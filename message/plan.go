package message

import (
	"errors"
	"fmt"
	"math"
	"reflect"
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
	kOther // anything else goes through Writer.Value / Reader.Value
)

// fieldPlan is how to read and write one exported struct field in place.
type fieldPlan struct {
	name   string
	offset uintptr
	kind   fieldKind
	typ    reflect.Type
}

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

// planStruct lists the exported fields of a struct type in order. A field
// tagged `net:"name"` travels under that name; `net:"-"` is left out.
func planStruct(t reflect.Type) ([]fieldPlan, []string, error) {
	if t.Kind() != reflect.Struct {
		return nil, nil, fmt.Errorf("%w: %v is not a struct", ErrBadFields, t)
	}
	var plan []fieldPlan
	var names []string
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
		switch f.Type.Kind() {
		case reflect.Func, reflect.Chan, reflect.UnsafePointer, reflect.Interface:
			if f.Type.Kind() != reflect.Interface || f.Type.NumMethod() > 0 {
				return nil, nil, fmt.Errorf("%w: %v.%s of type %v cannot travel; tag it `net:\"-\"`", ErrBadFields, t, f.Name, f.Type)
			}
		}
		plan = append(plan, fieldPlan{name: name, offset: f.Offset, kind: kindOf(f.Type), typ: f.Type})
		names = append(names, name)
	}
	return plan, names, nil
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
		default:
			if err := w.Value(reflect.NewAt(f.typ, fp).Elem().Interface()); err != nil {
				return err
			}
		}
	}
	return nil
}

var errOverflow = errors.New("value out of range for the field's type")

// decodeStruct reads the fields of the struct at p, which the caller has
// zeroed. The caller has read the array header and the id.
func decodeStruct(r Reader, t *Type, p unsafe.Pointer) error {
	for i := range t.plan {
		f := &t.plan[i]
		if err := decodeField(r, f, unsafe.Add(p, f.offset)); err != nil {
			return &FieldError{Type: t.name, Field: f.name, Err: err}
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
		v, err := r.Float64()
		*(*float32)(fp) = float32(v)
		return err
	case kFloat64:
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
