package json_test

import (
	"testing"

	"github.com/gonetic/gonetic/adapters/internal/codectest"
	"github.com/gonetic/gonetic/adapters/json"
)

func FuzzReader(f *testing.F) {
	codectest.FuzzReader(f, json.New(),
		[]byte(` [ 1 , "a\u00e9\ud83c\udfae" , { "k" : [ true , false , null ] } , -1.5e-3 ] `),
		[]byte(`{"a":{"b":{"c":[[[[]]]]}}}`),
		[]byte(`"\ud83c\u0041\x"`),
		[]byte(`[1,2,3,`),
		[]byte(`[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[`),
		[]byte("\"\xff\xfe\x01\""),
		[]byte(`18446744073709551616 -9223372036854775809 1e400 01`),
	)
}

func FuzzRoundTrip(f *testing.F) {
	codectest.FuzzRoundTrip(f, json.New(), codectest.Options{ReplacesInvalidUTF8: true, FiniteFloatsOnly: true})
}
