package message_test

import (
	"errors"
	"math"
	"testing"

	"github.com/gonetic/gonetic/adapters/json"
	"github.com/gonetic/gonetic/adapters/msgpack"
	"github.com/gonetic/gonetic/message"
)

type floats struct {
	F32 float32
	F64 float64
}

// TestFloatsThatJSONCannotHold: JSON writes NaN and the infinities as
// null; a receiver reads null in a float field as NaN instead of refusing
// the message, so that a gonetic sender never gets its peer disconnected
// for a NaN.
func TestFloatsThatJSONCannotHold(t *testing.T) {
	f := message.NewFactory(json.New())
	message.MustRegister[floats](f)
	for _, v := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		b, err := f.Pack(&floats{F32: float32(v), F64: v})
		if err != nil {
			t.Fatal(err)
		}
		got, err := f.Unpack(b)
		if err != nil {
			t.Fatalf("%v as %s: %v", v, b, err)
		}
		g := got.(floats)
		if !math.IsNaN(float64(g.F32)) || !math.IsNaN(g.F64) {
			t.Fatalf("%v as %s came back %+v, want NaN", v, b, g)
		}
	}
}

// TestFloat32Range: a float 64 beyond float32's range in a float32 field
// is refused, as an integer beyond its field's range is, not turned into
// an infinity.
func TestFloat32Range(t *testing.T) {
	f := message.NewFactory(msgpack.New())
	message.MustRegister[floats](f)
	w := msgpack.New().NewWriter()
	w.Reset(nil)
	w.Array(3)
	w.Uint(1)
	w.Float64(1e39)
	w.Float64(0)
	w.End()
	if _, err := f.Unpack(w.Buffer()); err == nil {
		t.Fatal("1e39 was taken into a float32 field")
	} else if fe := new(message.FieldError); !errors.As(err, &fe) || fe.Field != "f32" {
		t.Fatalf("1e39 in a float32 field: %v, want a FieldError naming f32", err)
	}
}
