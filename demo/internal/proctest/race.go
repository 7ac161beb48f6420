//go:build race

package proctest

func init() { race = true }
