package message

import "fmt"

// Value is a message of a dynamic type (see Factory.Define): its type and
// its field values in wire order. Decoded field values are what the codec's
// Reader.Any returns: nil, bool, int64, uint64, float64, string, []byte,
// []any or map[string]any.
type Value struct {
	Type   *Type
	Fields []any
}

// Get returns the field with the given name, or nil if the type has none.
func (v Value) Get(name string) any {
	if v.Type == nil {
		return nil
	}
	for i, f := range v.Type.fields {
		if f == name && i < len(v.Fields) {
			return v.Fields[i]
		}
	}
	return nil
}

// At returns field i, or nil when i is out of range.
func (v Value) At(i int) any {
	if i < 0 || i >= len(v.Fields) {
		return nil
	}
	return v.Fields[i]
}

func (v Value) String() string {
	if v.Type == nil {
		return fmt.Sprintf("<untyped>%v", v.Fields)
	}
	return fmt.Sprintf("%s%v", v.Type.name, v.Fields)
}
